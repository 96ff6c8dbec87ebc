//! The app shell's contract with its views. A view slot owns its settings, its job and its
//! result, draws itself, starts and cancels its own job, and saves its settings into the
//! session under its own keys. What reaches beyond the view (select a row in the data table,
//! open another tab, open data) goes through [`AppCommands`], which the app drains once per frame.
//!
//! Adding a view is one file implementing [`ViewSlot`] (or [`StudyView`], for a study that runs
//! on the loaded model with its own inputs) plus one line in [`super::view_registry::registered_views`].

use std::collections::BTreeMap;

use eframe::egui;

use super::app_command::AppCommands;
use super::data_panel::DatasetTable;
use super::job::{Job, JobClick, JobState, Progress};
use super::model_shelf::{ModelShelf, shelf_line};
use crate::data::ProteinSet;
use crate::jobs::JobCtx;
use crate::model::LoadedModel;

/// What the views read of the app: the loaded model and the open data set with its table.
#[derive(Clone, Copy)]
pub struct Workspace<'a> {
    /// The loaded model (`None` while none is).
    pub model: Option<&'a LoadedModel>,
    /// The open data set and its table (`None` while none is).
    pub data: Option<(&'a ProteinSet, &'a DatasetTable)>,
}

/// Something that happened in the workspace, told to every view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceEvent {
    /// A new data set finished loading: results indexing the previous one are stale.
    DatasetReplaced,
    /// A protein was picked in the data table (`None`: cleared).
    ProteinPicked(Option<usize>),
}

/// The views' settings inside a session, by key (a view may use several keys). JSON values, so
/// that a session file is plain JSON and a view added later reads nothing it does not own.
pub type ViewSettings = BTreeMap<String, serde_json::Value>;

/// Writes `value` under `key` (a value that cannot be serialised is left out).
pub fn put_setting<T: serde::Serialize>(session: &mut ViewSettings, key: &str, value: &T) {
    if let Ok(value) = serde_json::to_value(value) {
        session.insert(key.to_owned(), value);
    }
}

/// Reads `key` into `target`: absent keys leave it alone; a value that does not parse leaves
/// it alone and says which key it was.
pub fn take_setting<T: serde::de::DeserializeOwned>(
    session: &ViewSettings,
    key: &str,
    target: &mut T,
) -> Result<(), String> {
    let Some(value) = session.get(key) else {
        return Ok(());
    };
    match T::deserialize(value) {
        Ok(parsed) => {
            *target = parsed;
            Ok(())
        }
        Err(e) => Err(format!("the saved \"{key}\" settings are unreadable ({e})")),
    }
}

/// One view of the central area: its tab, settings, job(s), result and drawing.
pub trait ViewSlot {
    /// Stable name, saved in sessions as the open tab and the results to recompute.
    fn id(&self) -> &'static str;
    /// The tab's label.
    fn title(&self) -> &'static str;
    /// What the view shows (the tab's tooltip).
    fn about(&self) -> &'static str;
    /// Writes the view's settings into a session.
    fn save_settings(&self, session: &mut ViewSettings);
    /// Takes the view's settings from a session; an unreadable part keeps its current value
    /// and is reported.
    fn restore_settings(&mut self, session: &ViewSettings) -> Result<(), String>;
    /// Keeps the view's feature stores under `root` (`gui --store DIR`).
    fn use_store_folder(&mut self, root: &std::path::Path);
    /// Inputs sized for the demo tour, which must finish in a minute or two (default: as is).
    fn size_for_tour(&mut self) {}
    /// Why the demo tour cannot run this view (an input that is not bundled).
    fn tour_skip(&self) -> Option<String> {
        None
    }
    /// Takes finished results from the view's jobs (once per frame).
    fn poll(&mut self);
    /// The view's running jobs, by name, with their progress.
    fn running(&self) -> Vec<(&'static str, Progress)>;
    /// Whether the view holds a result (a session offers to recompute it).
    fn has_result(&self) -> bool;
    /// Starts the view's job with its current settings, as its button would.
    fn start(&mut self, ctx: &egui::Context, workspace: &Workspace<'_>);
    /// How the last job ended: `None` while it runs or before any ran.
    fn outcome(&self) -> Option<Result<(), String>>;
    /// Reacts to a change in the workspace (default: nothing to do).
    fn on_event(&mut self, _event: WorkspaceEvent) {}
    /// Draws the view, starting or cancelling its job when asked.
    fn ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace<'_>, commands: &mut AppCommands);
}

/// A study view that runs on the loaded model from inputs of its own (files named in its
/// settings), in the same frame as every other: inputs, estimate, start/cancel, error, result.
pub trait StudyView: 'static {
    /// Settings of the next run (saved in sessions).
    type Settings: Clone + Send + serde::Serialize + serde::de::DeserializeOwned + 'static;
    /// The finished result (it names the model that made it).
    type Output: Send + super::model_shelf::MadeBy + 'static;
    /// See [`ViewSlot::id`].
    const ID: &'static str;
    /// See [`ViewSlot::title`].
    const TITLE: &'static str;
    /// See [`ViewSlot::about`].
    const ABOUT: &'static str;
    /// The session key of the settings.
    const SETTINGS_KEY: &'static str;
    /// The job's name (thread name, running-jobs line, errors).
    const JOB_NAME: &'static str;
    /// The view with default inputs and export names.
    fn new() -> Self;
    /// The settings of the next run.
    fn settings(&self) -> &Self::Settings;
    /// The same, to change.
    fn settings_mut(&mut self) -> &mut Self::Settings;
    /// Where the study keeps its feature stores.
    fn store_mut(&mut self) -> &mut crate::store::StoreOptions;
    /// Runs the study on a worker thread.
    fn compute(
        model: &LoadedModel,
        settings: &Self::Settings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Self::Output>;
    /// Draws the view; returns the job button clicked.
    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Self::Output>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick>;
    /// Another result is now shown (a run finished, or a result was set aside or came back):
    /// messages about the previous one ("wrote …", "saved …") go.
    fn result_replaced(&mut self) {}
    /// See [`ViewSlot::size_for_tour`].
    fn size_for_tour(&mut self) {}
    /// See [`ViewSlot::tour_skip`].
    fn tour_skip(&self) -> Option<String> {
        None
    }
}

/// A [`StudyView`] with its job: the slot the app holds.
pub struct StudySlot<V: StudyView> {
    view: V,
    job: Job<V::Output>,
    /// Results of other models than the loaded one.
    shelf: ModelShelf<V::Output>,
}

impl<V: StudyView> Default for StudySlot<V> {
    fn default() -> Self {
        Self {
            view: V::new(),
            job: Job::default(),
            shelf: ModelShelf::default(),
        }
    }
}

impl<V: StudyView> ViewSlot for StudySlot<V> {
    fn id(&self) -> &'static str {
        V::ID
    }

    fn title(&self) -> &'static str {
        V::TITLE
    }

    fn about(&self) -> &'static str {
        V::ABOUT
    }

    fn save_settings(&self, session: &mut ViewSettings) {
        put_setting(session, V::SETTINGS_KEY, self.view.settings());
    }

    fn restore_settings(&mut self, session: &ViewSettings) -> Result<(), String> {
        take_setting(session, V::SETTINGS_KEY, self.view.settings_mut())
    }

    fn use_store_folder(&mut self, root: &std::path::Path) {
        self.view.store_mut().root = root.to_path_buf();
    }

    fn size_for_tour(&mut self) {
        self.view.size_for_tour();
    }

    fn tour_skip(&self) -> Option<String> {
        self.view.tour_skip()
    }

    fn poll(&mut self) {
        let was_running = self.job.progress().is_some();
        self.job.poll();
        if was_running && matches!(self.job.state, JobState::Done(_)) {
            self.view.result_replaced();
        }
    }

    fn running(&self) -> Vec<(&'static str, Progress)> {
        self.job
            .progress()
            .map(|p| (V::JOB_NAME, p))
            .into_iter()
            .collect()
    }

    fn has_result(&self) -> bool {
        self.job.result().is_some()
    }

    fn start(&mut self, ctx: &egui::Context, workspace: &Workspace<'_>) {
        let settings = self.view.settings().clone();
        spawn_on_model(
            &mut self.job,
            workspace.model,
            ctx,
            V::JOB_NAME,
            move |model, job| V::compute(model, &settings, job),
        );
    }

    fn outcome(&self) -> Option<Result<(), String>> {
        self.job.outcome()
    }

    fn ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace<'_>, _commands: &mut AppCommands) {
        let loaded = workspace.model.map(|m| m.fingerprint.as_str());
        if self.shelf.sync(&mut self.job, loaded) {
            self.view.result_replaced();
        }
        if let Some(line) = shelf_line(self.shelf.models()) {
            ui.weak(line);
        }
        let error = self.job.error();
        let click = egui::ScrollArea::vertical()
            .id_salt(V::ID)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.view.ui(
                    ui,
                    self.job.result(),
                    self.job.progress(),
                    error.as_deref(),
                    workspace.model,
                )
            })
            .inner;
        match click {
            Some(JobClick::Start) => self.start(ui.ctx(), workspace),
            Some(JobClick::Cancel) => self.job.cancel(),
            None => {}
        }
    }
}

/// Starts `work` on the loaded model in `job` (nothing when no model is loaded yet).
pub fn spawn_on_model<T: Send + 'static>(
    job: &mut Job<T>,
    model: Option<&LoadedModel>,
    ctx: &egui::Context,
    name: &str,
    work: impl FnOnce(&LoadedModel, &JobCtx) -> anyhow::Result<T> + Send + 'static,
) {
    let Some(model) = model.cloned() else {
        return;
    };
    job.spawn_repainting(ctx, name, move |ctx| work(&model, ctx));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_by_key_and_a_bad_value_is_named_and_kept_out() {
        let mut session = ViewSettings::new();
        put_setting(&mut session, "layers", &vec![1_usize, 4]);
        let mut layers = vec![0_usize];
        take_setting(&session, "layers", &mut layers).expect("a list of layers parses");
        assert_eq!(layers, [1, 4]);

        let mut untouched = 7_usize;
        take_setting(&session, "absent", &mut untouched).expect("an absent key is no error");
        assert_eq!(untouched, 7);

        session.insert("count".into(), serde_json::json!("seven"));
        let err =
            take_setting(&session, "count", &mut untouched).expect_err("a string is no count");
        assert!(err.contains("\"count\""), "{err}");
        assert_eq!(untouched, 7, "a value that does not parse changes nothing");
    }
}
