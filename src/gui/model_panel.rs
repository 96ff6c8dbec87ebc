//! Model panel: the bundled starter model, official ESM weights on demand, or any checkpoint by
//! path (typed, or chosen in the system file dialog); shows the architecture.

use eframe::egui;

use super::app_command::AppCommand;
use super::job::{JobClick, Progress, job_controls};

use crate::model::LoadedModel;
use crate::model::hub::{OFFICIAL_MODELS, is_cached, torch_hub_checkpoints_dir};

/// State of the official-weights section.
#[derive(Debug, Clone)]
pub struct DownloadView {
    /// Index into [`OFFICIAL_MODELS`].
    pub selected: usize,
    /// Progress of a running download.
    pub progress: Option<Progress>,
    /// The last failure, readable.
    pub error: Option<String>,
    /// Per model: all its files are in the torch hub folder. Checked when the view is made and
    /// after each download, not every frame (it touches the disk).
    cached: Vec<bool>,
}

impl Default for DownloadView {
    fn default() -> Self {
        let mut view = Self {
            selected: 0,
            progress: None,
            error: None,
            cached: Vec::new(),
        };
        view.refresh_cached();
        view
    }
}

impl DownloadView {
    /// Re-checks which models are in the torch hub folder.
    pub fn refresh_cached(&mut self) {
        let cache = torch_hub_checkpoints_dir();
        self.cached = OFFICIAL_MODELS
            .iter()
            .map(|m| is_cached(m, &cache))
            .collect();
    }
}

/// Draws the model panel. `path_text` is the editable checkpoint path and `head_text` the
/// contact-head path; `loading` the progress of a load.
pub fn model_panel_ui(
    ui: &mut egui::Ui,
    (path_text, head_text): (&mut String, &mut String),
    recent: &[std::path::PathBuf],
    loaded: Option<&LoadedModel>,
    loading: Option<Progress>,
    error: Option<&str>,
    downloads: &mut DownloadView,
) -> Option<AppCommand> {
    let mut command = None;
    ui.heading("Model");
    if ui
        .button("Bundled starter model")
        .on_hover_text("4-layer ESM-1b-architecture model trained here on 20,000 UniProt sequences (assets/starter/MODEL_CARD.md)")
        .clicked()
    {
        command = Some(AppCommand::LoadStarter);
    }
    download_ui(ui, downloads, &mut command);
    ui.separator();
    let label =
        ui.label("Checkpoint (fair-esm .pt, Hugging Face folder, or workbench .safetensors):");
    let response = ui
        .add(
            egui::TextEdit::singleline(path_text)
                .hint_text("/path/to/esm1b_t33_650M_UR50S.pt")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id)
        .on_hover_text("A fair-esm .pt file, a Hugging Face model folder (config.json + weights) or a .safetensors file saved by the workbench; Enter loads it");
    ui.horizontal(|ui| {
        let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let picked = super::file_dialog::browse_button(
            ui,
            path_text,
            super::file_dialog::DialogKind::OpenModel,
        );
        let load = ui
            .button("Load")
            .on_hover_text("Load this checkpoint (off the UI thread; the current model stays until it has loaded)")
            .clicked();
        if (load || enter || picked) && !path_text.trim().is_empty() {
            command = Some(AppCommand::LoadModel(path_text.trim().into()));
        }
        let entries = recent.iter().map(std::slice::from_ref);
        if let Some(paths) = super::recent::recent_menu_ui(ui, "models", entries)
            && let Some(path) = paths.into_iter().next()
        {
            *path_text = path.display().to_string();
            command = Some(AppCommand::LoadModel(path));
        }
        if loading.is_some() {
            ui.spinner();
            if ui
                .button("Cancel")
                .on_hover_text("Stop loading; the current model stays")
                .clicked()
            {
                command = Some(AppCommand::CancelModelLoad);
            }
        }
    });
    if let Some(err) = error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    ui.separator();
    match loaded {
        Some(m) => {
            model_info_ui(ui, m);
            if let Some(attach) = contact_head_ui(ui, head_text, loading.is_some()) {
                command = Some(attach);
            }
        }
        None => {
            ui.label("No model loaded.");
        }
    }
    command
}

/// The contact-head field: a saved all-heads regression (or fair-esm contact regression)
/// becomes the loaded model's contact head, which the Contacts view and `extract` then use.
fn contact_head_ui(ui: &mut egui::Ui, head_text: &mut String, busy: bool) -> Option<AppCommand> {
    ui.add_space(4.0);
    let label = ui.label("Contact head file (optional):");
    ui.add(
        egui::TextEdit::singleline(head_text)
            .hint_text("regression.safetensors")
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id)
    .on_hover_text("An all-heads regression saved by the Heads view (\"Save regression\") or `probe heads --save-regression`, or a fair-esm *-contact-regression.pt: it becomes the model's contact head, also for checkpoints that ship without one");
    let mut command = None;
    ui.horizontal(|ui| {
        super::file_dialog::browse_button(
            ui,
            head_text,
            super::file_dialog::DialogKind::OpenContactHead,
        );
        let attach = ui
            .add_enabled(!busy && !head_text.trim().is_empty(), egui::Button::new("Use as contact head"))
            .on_hover_text("The model is then named \"<model> + <file>\" and its results are kept apart from the model without it")
            .on_disabled_hover_text("Type or browse a contact-head file first (and wait for a model being loaded)")
            .clicked();
        if attach {
            command = Some(AppCommand::AttachContactHead(head_text.trim().into()));
        }
    });
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
            let head_file = m
                .source
                .contact_regression_path
                .as_deref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned());
            row(
                "Contact head",
                match (m.model.has_contact_head(), head_file) {
                    (true, Some(file)) => format!("yes ({file})"),
                    (true, None) => "yes".into(),
                    (false, _) => "no".into(),
                },
            );
        });
}

fn download_ui(ui: &mut egui::Ui, view: &mut DownloadView, command: &mut Option<AppCommand>) {
    let label = ui.label("Official weights (fair-esm), cached in the torch hub folder:");
    let cached = view.cached.clone();
    let name = |i: usize| {
        let m = &OFFICIAL_MODELS[i];
        if cached.get(i).copied().unwrap_or(false) {
            format!("{} (cached)", m.name)
        } else {
            m.name.to_owned()
        }
    };
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("official_model")
            .selected_text(name(view.selected.min(OFFICIAL_MODELS.len() - 1)))
            .show_ui(ui, |ui| {
                for (i, model) in OFFICIAL_MODELS.iter().enumerate() {
                    ui.selectable_value(&mut view.selected, i, name(i))
                        .on_hover_text(model.description);
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("An official fair-esm checkpoint: downloaded once into the torch hub folder (resumable, checksummed), then loaded");
        match job_controls(ui, view.progress.clone(), 90.0, "Download and load", None) {
            Some(JobClick::Start) => *command = Some(AppCommand::Download(view.selected)),
            Some(JobClick::Cancel) => *command = Some(AppCommand::CancelDownload),
            None => {}
        }
    });
    if let Some(err) = &view.error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
}
