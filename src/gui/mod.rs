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

/// The default input of a view: `../shared/data/<relative>` (the project's real evaluation
/// sets, beside the checkout) when it exists, else `fallback` (a demo file, or empty).
fn shared_data_or(relative: &str, fallback: &str) -> String {
    let path = std::path::Path::new("../shared/data").join(relative);
    if path.exists() {
        path.display().to_string()
    } else {
        fallback.to_owned()
    }
}

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
