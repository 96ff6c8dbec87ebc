//! The desktop workbench (eframe/egui). The only module that imports egui.

pub mod aa_groups_panel;
pub mod alignment_view;
mod app;
mod app_command;
mod background_write;
pub mod contact_map_plot;
pub mod contacts_view;
pub mod data_panel;
mod demo_tour;
mod eta;
mod figure_export;
mod file_dialog;
pub mod heads_grid;
pub mod heads_view;
pub mod homology_view;
mod job;
pub mod launch_options;
mod layer_sweep;
mod legacy_settings;
mod map_legend;
pub mod map_slot;
pub mod map_view;
mod model_panel;
pub mod model_shelf;
pub mod output_folder;
mod recent;
mod session;
mod session_restore;
mod session_storage;
pub mod ss8_view;
mod store_browser;
mod study_panel;
mod table_export;
mod text_order;
mod two_columns;
mod variant_heatmap;
pub mod variants_view;
pub mod view_registry;
pub mod view_slot;
mod welcome;

pub use app::WorkbenchApp;
pub use app_command::{AppCommand, AppCommands};
pub use demo_tour::TourOutcome;
pub use job::{Job, JobClick, JobState, JobView, Progress};
pub use launch_options::LaunchOptions;
pub use study_panel::ESTIMATING;

/// Opens the workbench window and blocks until it closes. With `args.tour`, the app runs the
/// demo tour and this returns its screenshots' fate: an error when a stop failed or the window
/// closed early.
pub fn run(args: LaunchOptions) -> anyhow::Result<()> {
    let launched = std::time::Instant::now();
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("ESM Workbench")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    let outcome = demo_tour::TourOutcome::default();
    let tour = args.tour.clone();
    let touring = tour.is_some();
    let app_outcome = outcome.clone();
    eframe::run_native(
        "ESM Workbench",
        options,
        Box::new(move |cc| {
            Ok(Box::new(match tour {
                Some(dir) => WorkbenchApp::with_tour(cc, args, dir, app_outcome, launched),
                None => WorkbenchApp::new(cc, args),
            }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))?;
    if touring {
        let finished = outcome
            .lock()
            .map_err(|_| anyhow::anyhow!("the tour's state was poisoned by a panic"))?
            .take();
        match finished {
            Some(Ok(shots)) => println!("tour: {} screenshots saved", shots.len()),
            Some(Err(reason)) => anyhow::bail!("the demo tour stopped: {reason}"),
            None => anyhow::bail!("the window closed before the demo tour finished"),
        }
    }
    Ok(())
}
