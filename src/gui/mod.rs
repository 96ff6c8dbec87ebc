//! The desktop workbench (eframe/egui). The only module that imports egui.

mod app;
mod contacts_view;
pub mod data_panel;
mod figure_export;
mod file_dialog;
mod homology_view;
mod job;
mod layer_sweep;
pub mod map_view;
mod model_panel;
mod ss8_view;

pub use app::WorkbenchApp;
pub use job::{Job, JobState, Progress};

use crate::cli::GuiArgs;

/// Opens the workbench window and blocks until it closes.
pub fn run(args: GuiArgs) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("ESM Workbench")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "ESM Workbench",
        options,
        Box::new(move |cc| Ok(Box::new(WorkbenchApp::new(cc, args)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
