//! The first-run welcome on the Data tab: what the bundled model is and is not, three things to
//! try first, and where to get ESM-1b. Dismissed once, remembered in the settings.

use eframe::egui;

/// What the welcome says about the model in use: the starter model is described as what it is
/// (a demonstration, not ESM-1b); another model (`--model`, a restored session) by its name.
fn model_line(model: Option<&str>) -> String {
    match model {
        Some(name) if name != starter_name() => format!(
            "The model loaded now is {name} (see the model panel on the left). The bundled \
             starter model, a 0.88M-parameter demonstration model, is one click away there."
        ),
        Some(_) => "The model loaded now is the bundled starter model: a 0.88M-parameter, 4-layer \
                    model with ESM-1b's architecture, trained on this project's machine for under \
                    an hour. It shows the workflow and a little biology; it is not ESM-1b (652M \
                    parameters, 33 layers)."
            .to_owned(),
        None => {
            "The model is loading (the model panel on the left shows it when ready).".to_owned()
        }
    }
}

/// The bundled starter model's name (its file stem).
fn starter_name() -> &'static str {
    let file = crate::model::starter::STARTER_MODEL.rsplit('/').next();
    file.and_then(|f| f.strip_suffix(".safetensors"))
        .unwrap_or_default()
}

/// Draws the welcome unless `dismissed`; its "Got it" button sets `dismissed`. `model` is the
/// name of the model in use (`None` while it loads).
pub fn welcome_ui(ui: &mut egui::Ui, dismissed: &mut bool, model: Option<&str>) {
    if *dismissed {
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong("Welcome to ESM Workbench");
        ui.label(model_line(model));
        ui.label("Three things to try first:");
        ui.label(
            "1. Embedding map tab, Compute map: 5,000 residues of the demo proteins, coloured by \
             amino-acid group; choose \"proteins\" to see the 12 genes (24 species) group by gene.",
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
        if ui
            .button("Got it")
            .on_hover_text("Hide this welcome (it stays hidden next time)")
            .clicked()
        {
            *dismissed = true;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_welcome_describes_the_model_actually_loaded() {
        assert_eq!(starter_name(), "starter_esm1b_t4_128");
        assert!(model_line(Some(starter_name())).contains("it is not ESM-1b"));
        let other = model_line(Some("esm1b_t33_650M_UR50S"));
        assert!(other.contains("esm1b_t33_650M_UR50S") && !other.contains("it is not ESM-1b"));
        assert!(model_line(None).contains("loading"));
    }
}
