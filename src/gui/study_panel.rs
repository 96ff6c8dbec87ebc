//! Widgets every probe-study view shares: the feature-store folder field, the time/RAM/disk
//! estimate beside the start button (the button is disabled when the study would be refused),
//! the line naming the stores a result was read from, and the "Save best probe" row.

use std::path::Path;

use eframe::egui;

use super::job::{Job, JobClick, JobState, Progress, job_controls};
use super::store_browser::StoreBrowser;
use crate::analysis::study_estimate::StudyEstimate;
use crate::analysis::study_split::StudySplit;
use crate::model::LoadedModel;
use crate::store::{StoreOptions, folder_bytes, human_bytes};

/// A grid row: the feature-store folder (call inside a two-column `egui::Grid`).
/// Width of a path field in a view's input grid: what is left of the view's width beside the
/// labels and a Browse button, between 160 and 420 points (measured before the grid, whose
/// cells do not know the view's width).
pub fn input_field_width(ui: &egui::Ui) -> f32 {
    (ui.available_width() - 230.0).clamp(160.0, 420.0)
}

/// The "Feature store" row of a view's input grid, its field `width` points wide.
pub fn store_folder_row(ui: &mut egui::Ui, store: &mut StoreOptions, width: f32) {
    let label = ui.label("Feature store");
    let mut root = store.root.display().to_string();
    if ui
        .add(egui::TextEdit::singleline(&mut root).desired_width(width))
        .labelled_by(label.id)
        .on_hover_text(
            "Every layer of every protein is written here once and reused by later studies",
        )
        .changed()
    {
        store.root = root.into();
    }
    ui.end_row();
}

/// The estimate of the current settings, recomputed when they, the model, or the stores on
/// disk (a study just ended) change. It runs as a job: building a request reads the study's
/// files (structures, label tables, ASTRAL), which never happens on the UI thread.
#[derive(Default)]
pub struct EstimateLine {
    /// The settings (as JSON) and model fingerprint it was computed for, and its text.
    shown: Option<(String, String, Result<String, String>)>,
    /// The estimate being computed, and the settings and fingerprint it is for.
    pending: Option<(String, String, Job<Result<String, String>>)>,
    /// Whether a study was running last frame.
    was_running: bool,
}

impl std::fmt::Debug for EstimateLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstimateLine")
            .field("shown", &self.shown)
            .field("pending", &self.pending.is_some())
            .finish()
    }
}

/// What the line says while its job runs (tests wait for it to go).
pub const ESTIMATING: &str = "estimating time, RAM and disk…";

impl EstimateLine {
    /// Shows the estimate; `key` identifies the settings, `prepare` (called on the UI thread
    /// only when the estimate is redone) returns the work that computes the line or the
    /// refusal on a worker thread. Returns whether the study would be refused.
    pub fn ui<W>(
        &mut self,
        ui: &mut egui::Ui,
        model: Option<&LoadedModel>,
        running: bool,
        key: String,
        prepare: impl FnOnce() -> W,
    ) -> bool
    where
        W: FnOnce(&LoadedModel) -> Result<String, String> + Send + 'static,
    {
        let Some(model) = model else {
            return false;
        };
        self.poll();
        let finished = self.was_running && !running;
        self.was_running = running;
        let is_for = |entry: Option<(&String, &String)>| {
            entry.is_some_and(|(k, f)| *k == key && *f == model.fingerprint)
        };
        let shown_is_current = !finished && is_for(self.shown.as_ref().map(|(k, f, _)| (k, f)));
        let pending_is_current = is_for(self.pending.as_ref().map(|(k, f, _)| (k, f)));
        if !running && !shown_is_current && !pending_is_current {
            let work = prepare();
            let mut job = Job::default();
            let owned = model.clone();
            job.spawn_repainting(ui.ctx(), "estimate", move |_| Ok(work(&owned)));
            self.pending = Some((key, model.fingerprint.clone(), job));
        }
        if self.pending.is_some() {
            ui.weak(ESTIMATING);
            return false;
        }
        match self.shown.as_ref().map(|(_, _, text)| text) {
            Some(Ok(text)) => {
                ui.weak(text);
                false
            }
            Some(Err(why)) => {
                ui.colored_label(ui.visuals().warn_fg_color, why);
                true
            }
            None => false,
        }
    }

    /// Takes the finished estimate, if any.
    fn poll(&mut self) {
        let Some((_, _, job)) = self.pending.as_mut() else {
            return;
        };
        job.poll();
        let text = match &job.state {
            JobState::Done(text) => text.clone(),
            JobState::Failed { err, .. } => Err(format!("{err:#}")),
            JobState::Idle | JobState::Running { .. } => return,
        };
        if let Some((key, fingerprint, _)) = self.pending.take() {
            self.shown = Some((key, fingerprint, text));
        }
    }
}

/// The estimate line of a study (time, RAM, disk), or why it would be refused: the request
/// could not be built, or the study does not fit here.
pub fn estimate_text<E: std::fmt::Display>(
    estimate: anyhow::Result<Result<StudyEstimate, E>>,
) -> Result<String, String> {
    let estimate = estimate
        .map_err(|e| format!("{e:#}"))?
        .map_err(|e| e.to_string())?;
    estimate.check_resources().map_err(|e| e.to_string())?;
    Ok(estimate.summary())
}

/// What a study view shows under its inputs, kept between frames: the estimate and the list
/// of stores in the store folder.
#[derive(Debug, Default)]
pub struct StudyControls {
    /// The estimate beside the start button.
    estimate: EstimateLine,
    /// The stores under the store folder.
    stores: StoreBrowser,
}

/// A study's job as its controls see it.
pub struct StudyJob<'a> {
    /// The loaded model (`None`: the start button is disabled).
    pub model: Option<&'a LoadedModel>,
    /// Progress while the study runs.
    pub progress: Option<Progress>,
    /// Why the last run failed.
    pub error: Option<&'a str>,
}

impl StudyControls {
    /// The part every study view shares under its inputs: the estimate of `settings` (the
    /// start button is disabled when the estimate refuses them), the stores under
    /// `store_root`, the start / cancel button named `button`, and the last error. Returns the
    /// button clicked.
    pub fn ui<S, W>(
        &mut self,
        ui: &mut egui::Ui,
        button: &str,
        job: StudyJob<'_>,
        settings: &S,
        store_root: &Path,
        estimate: W,
    ) -> Option<JobClick>
    where
        S: serde::Serialize + Clone + Send + 'static,
        W: Fn(&LoadedModel, &S) -> Result<String, String> + Send + 'static,
    {
        let running = job.progress.is_some();
        let key = serde_json::to_string(settings).unwrap_or_default();
        let refused = self.estimate.ui(ui, job.model, running, key, || {
            let settings = settings.clone();
            move |model: &LoadedModel| estimate(model, &settings)
        });
        self.stores.ui(ui, button, store_root, running);
        let click = study_job_controls(ui, job.progress, button, job.model.is_some(), refused);
        if let Some(err) = job.error {
            ui.colored_label(ui.visuals().error_fg_color, err);
        }
        click
    }
}

/// A study's start / cancel button, disabled without a model or when the estimate refuses it.
pub fn study_job_controls(
    ui: &mut egui::Ui,
    progress: Option<Progress>,
    label: &str,
    model_loaded: bool,
    refused: bool,
) -> Option<JobClick> {
    let why_disabled = if !model_loaded {
        Some("load a model first")
    } else if refused {
        Some("the estimate says this study does not fit: change the settings above")
    } else {
        None
    };
    // Wide enough for the stage text ("embedding ss8_train.tsv: batch 12/46 ..., 3 min left").
    let bar_width = (ui.available_width() - 90.0).clamp(240.0, 640.0);
    ui.horizontal(|ui| job_controls(ui, progress, bar_width, label, why_disabled))
        .inner
}

/// "Made with MODEL (fingerprint) on DATA (n proteins, r residues)": the first line of every
/// result, so no result reads as another model's.
pub fn provenance_line_ui(ui: &mut egui::Ui, provenance: &crate::provenance::Provenance) {
    ui.label(egui::RichText::new(format!("Made with {}", provenance.header())).strong())
        .on_hover_text(format!(
            "Model fingerprint {} (SHA-256 of the weights). A result made with another model is set aside when that model is unloaded and comes back when it is loaded again.",
            provenance.model.fingerprint
        ));
}

/// `Features: 2 stores, 1.2 GB (...)` with the folders on hover.
pub fn stores_line_ui(ui: &mut egui::Ui, stores: &[std::path::PathBuf], residues_embedded: usize) {
    let bytes: u64 = stores.iter().map(|d| folder_bytes(d)).sum();
    ui.weak(format!(
        "Features: {} store{}, {} ({} residues embedded by this run; later studies on the same model and data reuse them)",
        stores.len(),
        if stores.len() == 1 { "" } else { "s" },
        human_bytes(bytes),
        residues_embedded
    ))
    .on_hover_text(
        stores
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

/// Where "Save best probe" writes, and what the last save said.
#[derive(Debug, Default)]
pub struct ProbeSaver {
    /// The file to write.
    pub path: String,
    status: Option<Result<String, String>>,
    /// The field's and the button's names (default "Probe file", "Save best probe").
    names: Option<(&'static str, &'static str)>,
}

impl ProbeSaver {
    /// A new result is shown: the last save's message is about the previous one.
    pub fn result_replaced(&mut self) {
        self.status = None;
    }

    /// A saver proposing `path`.
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            status: None,
            names: None,
        }
    }

    /// A saver proposing `path` whose field and button are named `field` and `button`.
    pub fn named(path: &str, field: &'static str, button: &'static str) -> Self {
        Self {
            names: Some((field, button)),
            ..Self::new(path)
        }
    }

    /// The row: path field, button (`hover` explains the format), last status. `save` writes
    /// the probe to a path that does not exist yet and says what it wrote.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        model: Option<&LoadedModel>,
        hover: &str,
        save: impl FnOnce(&LoadedModel, &Path) -> Result<String, String>,
    ) {
        let (field, button) = self.names.unwrap_or(("Probe file", "Save best probe"));
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(field);
            ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(300.0))
                .labelled_by(label.id)
                .on_hover_text(format!(
                    "Where \"{button}\" writes (an existing file is not replaced)"
                ));
            if ui
                .add_enabled(model.is_some(), egui::Button::new(button))
                .on_hover_text(hover)
                .clicked()
                && let Some(model) = model
            {
                // The save refuses an existing file and another model's result, in the
                // CLI's words.
                self.status = Some(save(model, Path::new(self.path.trim())));
            }
            match &self.status {
                Some(Ok(text)) => {
                    ui.weak(text);
                }
                Some(Err(text)) => {
                    ui.colored_label(ui.visuals().error_fg_color, text);
                }
                None => {}
            }
        });
    }
}

/// Width of a layer slider with its value and label, points: the three lay out as one block
/// that a wrapping row cannot break, so the row ends before it when less is left.
pub const LAYER_SLIDER_WIDTH: f32 = 210.0;

/// The layer choice of a study: an "all layers" box, else a slider over the model's layers.
pub fn layers_ui(ui: &mut egui::Ui, layers: &mut crate::model::Layers, num_layers: Option<usize>) {
    use crate::model::Layers;
    let mut all = layers.is_all();
    if ui
        .checkbox(&mut all, "all layers")
        .on_hover_text("Train and score a probe on every layer (the sweep); off: one layer")
        .changed()
    {
        *layers = if all { Layers::All } else { Layers::Last };
    }
    if let Some(n) = num_layers
        && !all
    {
        let mut layer = layers
            .resolve(n)
            .ok()
            .and_then(|l| l.last().copied())
            .unwrap_or(n);
        if ui.available_size_before_wrap().x < LAYER_SLIDER_WIDTH {
            ui.end_row();
        }
        if ui
            .add(egui::Slider::new(&mut layer, 0..=n).text("layer"))
            .on_hover_text("The layer whose representations are probed (0: the token embeddings)")
            .changed()
        {
            *layers = Layers::Index(layer as i64);
        }
    }
}

/// A metric as [`crate::probes::metric_text`] shows it, with `why` as the tooltip of an
/// undefined one (NaN).
pub fn metric_cell(ui: &mut egui::Ui, value: f64, why: &str) {
    let cell = ui.label(crate::probes::metric_text(value));
    if !value.is_finite() {
        cell.on_hover_text(why);
    }
}

/// The "compare with untrained" box of a study.
pub fn untrained_checkbox(ui: &mut egui::Ui, compare_untrained: &mut bool) {
    ui.checkbox(compare_untrained, "compare with untrained")
        .on_hover_text(
            "Also run the study on a randomly initialised copy of the model (same architecture \
             and seed): what the architecture alone gives, without training",
        );
}

/// Which split a study's scores are on ("trained on …; tested on …"), and a warning when the
/// test set shares sequences with the training set.
pub fn split_ui(ui: &mut egui::Ui, split: &StudySplit) {
    match split.overlap_warning() {
        Some(warning) => {
            ui.label(split.describe());
            ui.colored_label(ui.visuals().warn_fg_color, warning);
        }
        None => {
            ui.label(format!(
                "{}; no test sequence is in the training set.",
                split.describe()
            ));
        }
    }
}
