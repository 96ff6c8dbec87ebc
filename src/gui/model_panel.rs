//! Model panel: open a checkpoint (typed path; file dialogs arrive with the full GUI) and show
//! its architecture.

use eframe::egui;

use crate::model::LoadedModel;

/// What the model panel asks the app to do.
pub enum ModelCommand {
    /// Load the checkpoint at this path in the background.
    Load(std::path::PathBuf),
    /// Stop the running load.
    Cancel,
}

/// Draws the model panel. `path_text` is the editable path; `loading` the progress of a load.
pub fn model_panel_ui(
    ui: &mut egui::Ui,
    path_text: &mut String,
    loaded: Option<&LoadedModel>,
    loading: Option<f32>,
    error: Option<&str>,
) -> Option<ModelCommand> {
    let mut command = None;
    ui.heading("Model");
    let label =
        ui.label("Checkpoint (fair-esm .pt, Hugging Face folder, or workbench .safetensors):");
    let response = ui
        .add(
            egui::TextEdit::singleline(path_text)
                .hint_text("/path/to/esm1b_t33_650M_UR50S.pt")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    ui.horizontal(|ui| {
        let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Load").clicked() || enter) && !path_text.trim().is_empty() {
            command = Some(ModelCommand::Load(path_text.trim().into()));
        }
        if loading.is_some() {
            ui.spinner();
            if ui.button("Cancel").clicked() {
                command = Some(ModelCommand::Cancel);
            }
        }
    });
    if let Some(err) = error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    ui.separator();
    match loaded {
        Some(m) => model_info_ui(ui, m),
        None => {
            ui.label("No model loaded.");
        }
    }
    command
}

fn model_info_ui(ui: &mut egui::Ui, m: &LoadedModel) {
    let c = m.model.config();
    egui::Grid::new("model_info")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |k: &str, v: String| {
                ui.label(k);
                ui.label(v);
                ui.end_row();
            };
            row("Name", m.name.clone());
            row("Format", m.source.format.to_string());
            row("Architecture", c.architecture.to_string());
            row("Layers", c.num_layers.to_string());
            row("Embedding dim", c.embed_dim.to_string());
            row("Attention heads", c.attention_heads.to_string());
            row(
                "Parameters",
                format!("{:.2} M", m.parameter_count as f64 / 1e6),
            );
            row("Max residues", c.max_residues().to_string());
            row(
                "Contact head",
                if m.model.has_contact_head() {
                    "yes".into()
                } else {
                    "no".into()
                },
            );
        });
}
