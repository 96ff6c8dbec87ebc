//! The first-run welcome on the Data tab: what the bundled model is and is not, three things to
//! try first, and where to get ESM-1b. Dismissed once, remembered in the settings.

use eframe::egui;

/// Draws the welcome unless `dismissed`; its "Got it" button sets `dismissed`.
pub fn welcome_ui(ui: &mut egui::Ui, dismissed: &mut bool) {
    if *dismissed {
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong("Welcome to ESM Workbench");
        ui.label(
            "The model loaded now is the bundled starter model: a 0.88M-parameter, 4-layer model \
             with ESM-1b's architecture, trained on this project's machine for under an hour. It \
             shows the workflow and a little biology; it is not ESM-1b (652M parameters, 33 layers).",
        );
        ui.label("Three things to try first:");
        ui.label(
            "1. Embedding map tab, Compute map: the demo proteins (12 genes in 24 species), coloured \
             by gene.",
        );
        ui.label(
            "2. Secondary structure tab, Train SS8 probe: a linear probe per layer, trained on PISCES \
             chains and tested on TS50 (no shared chains).",
        );
        ui.label(
            "3. Contacts tab, Train contact probe: which layers encode residue contacts, with the \
             predicted map over the true one.",
        );
        ui.label(
            "For real analyses, load ESM-1b or ESM-2 in the model panel on the left (Download and \
             load, or open a checkpoint you have).",
        );
        if ui.button("Got it").clicked() {
            *dismissed = true;
        }
    });
}
