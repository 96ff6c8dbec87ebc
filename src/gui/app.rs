//! The workbench application shell: the model panel, the data table and the tabs of the
//! registered views ([`super::view_registry::registered_views`]). It owns the workspace (model
//! and data set), the session and the jobs that load them; each view owns its settings, job and
//! result. Every request of a panel or view (and of the top bar) arrives as an [`AppCommand`],
//! applied in order at the end of the frame.

use eframe::egui;

use super::app_command::{AppCommand, AppCommands};
use super::data_panel::{DatasetTable, data_panel_ui};
use super::demo_tour::{DemoTour, TourHost, TourOutcome};
use super::job::{Job, JobState, Progress};
use super::launch_options::LaunchOptions;
use super::model_panel::{DownloadView, model_panel_ui};
use super::session::{DATA_TAB, Session, ShellSettings};
use super::session_restore::{LoadState, Restoring};
use super::session_storage::{store_session, stored_session};
use super::view_registry::registered_views;
use super::view_slot::{ViewSettings, ViewSlot, Workspace, WorkspaceEvent};
use crate::data::ProteinSet;
use crate::model::LoadedModel;
use crate::model::hub::{
    OFFICIAL_MODELS, download_official, torch_hub_checkpoints_dir, weights_base_url,
};
use crate::model::starter::starter_model_path;

/// The eframe app.
pub struct WorkbenchApp {
    settings: ShellSettings,
    model: Job<LoadedModel>,
    download: Job<std::path::PathBuf>,
    download_view: DownloadView,
    dataset: Job<ProteinSet>,
    table: Option<DatasetTable>,
    /// The open tab: [`DATA_TAB`] or a view's id.
    tab: String,
    /// The views after the data table, in tab order.
    views: Vec<Box<dyn ViewSlot>>,
    /// What the views asked for this frame.
    commands: AppCommands,
    /// Parts of a restored session still loading, and what failed to restore.
    restoring: Restoring,
    /// The model being loaded (`Some(None)`: the starter), remembered once it loads.
    loading_model: Option<Option<std::path::PathBuf>>,
    /// A contact head to attach once the model being loaded is in.
    pending_head: Option<std::path::PathBuf>,
    /// The contact head being attached, remembered once it is.
    attaching_head: Option<std::path::PathBuf>,
    /// The data files being opened (empty: the demo set), remembered once they are read.
    opening_data: Option<Vec<std::path::PathBuf>>,
    /// Session file field.
    session_path: String,
    /// Outcome of the last session open (or a session that could not be serialised).
    session_message: Option<String>,
    /// The session file's write (off the UI thread) and its outcome.
    session_write: super::background_write::BackgroundWrite,
    /// Views whose results the restored session had, offered for recomputation.
    pending_results: Vec<String>,
    /// The demo tour driving the app (`gui --tour DIR`), if any.
    tour: Option<DemoTour>,
}

impl WorkbenchApp {
    /// Restores the last session and starts loading `args.model` if given.
    pub fn new(cc: &eframe::CreationContext<'_>, args: LaunchOptions) -> Self {
        Self::with_extra_views(cc, args, Vec::new())
    }

    /// [`Self::new`] with `extra` views after the registered ones: views kept outside this
    /// crate (the GUI tests add one whose job panics, to see the shell survive it).
    pub fn with_extra_views(
        cc: &eframe::CreationContext<'_>,
        args: LaunchOptions,
        extra: Vec<Box<dyn ViewSlot>>,
    ) -> Self {
        let (session, notice) = stored_session(cc.storage);
        let mut views = registered_views();
        views.extend(extra);
        let mut app = Self::with_session(cc, args, session, views);
        app.restoring.notices.extend(notice);
        app
    }

    /// The app driving itself through the demo tour into `out_dir` (see [`DemoTour`]): it starts
    /// from default settings with demo-sized probe inputs, not the saved ones, and saves none,
    /// so a tour leaves the user's session alone. How it ended goes into `outcome`.
    pub fn with_tour(
        cc: &eframe::CreationContext<'_>,
        args: LaunchOptions,
        out_dir: std::path::PathBuf,
        outcome: TourOutcome,
        launched: std::time::Instant,
    ) -> Self {
        let mut app = Self::with_session(cc, args, Session::default(), registered_views());
        for view in &mut app.views {
            view.size_for_tour();
        }
        let stops = std::iter::once((DATA_TAB, "Data"))
            .chain(app.views.iter().map(|v| (v.id(), v.title())))
            .collect();
        app.tour = Some(DemoTour::new(out_dir, outcome, launched, stops));
        app
    }

    fn with_session(
        cc: &eframe::CreationContext<'_>,
        args: LaunchOptions,
        session: Session,
        views: Vec<Box<dyn ViewSlot>>,
    ) -> Self {
        let mut app = Self {
            settings: ShellSettings::default(),
            model: Job::default(),
            download: Job::default(),
            download_view: DownloadView::default(),
            dataset: Job::default(),
            table: None,
            tab: DATA_TAB.into(),
            views,
            commands: AppCommands::default(),
            session_path: "session.json".into(),
            loading_model: None,
            pending_head: None,
            attaching_head: None,
            opening_data: None,
            restoring: Restoring::default(),
            session_message: None,
            session_write: Default::default(),
            pending_results: Vec::new(),
            tour: None,
        };
        let mut session = session;
        session.apply_launch_options(&args);
        app.restore(&cc.egui_ctx, session);
        if let Some(store) = &args.store {
            for view in &mut app.views {
                view.use_store_folder(store);
            }
        }
        app
    }

    /// Applies a saved session: view settings, then the model and data files (missing files
    /// fall back to the starter model and the demo set); results are offered for recomputation.
    fn restore(&mut self, ctx: &egui::Context, session: Session) {
        let known = self.views.iter().any(|v| v.id() == session.tab);
        self.tab = if known { session.tab } else { DATA_TAB.into() };
        for view in &mut self.views {
            if let Err(e) = view.restore_settings(&session.views) {
                self.restoring.notices.push(format!(
                    "{}: {e}; its default settings are used.",
                    view.title()
                ));
            }
        }
        self.pending_results = session.results;
        self.settings = session.shell;
        for command in self
            .restoring
            .begin(&mut self.settings, ProteinSet::demo_paths())
        {
            self.apply(ctx, command);
        }
    }

    /// The session as it stands: the shell's settings, every view's, and which results exist.
    fn session(&self) -> Session {
        let mut views = ViewSettings::new();
        for view in &self.views {
            view.save_settings(&mut views);
        }
        Session {
            shell: self.settings.clone(),
            tab: self.tab.clone(),
            results: self
                .views
                .iter()
                .filter(|v| v.has_result())
                .map(|v| v.id().to_owned())
                .collect(),
            views,
        }
    }

    /// Every job running now, by name, with its progress (the top bar lists them).
    fn running_jobs(&self) -> Vec<(&'static str, Progress)> {
        let shell = [
            ("loading the model", self.model.progress()),
            ("download", self.download.progress()),
            ("reading data", self.dataset.progress()),
        ]
        .into_iter()
        .filter_map(|(name, progress)| progress.map(|p| (name, p)));
        shell
            .chain(self.views.iter().flat_map(|v| v.running()))
            .collect()
    }

    /// The session field's file: a bare name lives in the output folder.
    fn session_file(&self) -> std::path::PathBuf {
        self.settings.output_folder.resolve(&self.session_path)
    }

    /// Writes the session to `session_path` (JSON, atomically).
    fn save_session_file(&mut self, ctx: &egui::Context) {
        let path = self.session_file();
        self.session_message = None;
        match self.session().to_json() {
            Ok(json) => {
                self.session_write
                    .start_replacing(ctx, path, "session-save", move |path| {
                        crate::export::write_atomic(path, |w| {
                            use std::io::Write as _;
                            w.write_all(json.as_bytes())
                        })
                        .map_err(|e| e.to_string())
                    })
            }
            Err(e) => self.session_message = Some(e),
        }
    }

    /// Reads a session file and restores it.
    fn open_session_file(&mut self, ctx: &egui::Context) {
        let path = self.session_file();
        let read = Session::read_file(&path);
        match read {
            Ok(mut session) => {
                // The output folder is the user's, not the session file's.
                session.shell.output_folder = self.settings.output_folder.clone();
                self.restore(ctx, session);
                self.session_message = Some(format!("opened session {}", path.display()));
            }
            Err(e) => self.session_message = Some(e),
        }
    }

    /// Recomputes the results the restored session had (once the model and data are loaded).
    fn recompute_results(&mut self, ctx: &egui::Context) {
        for id in std::mem::take(&mut self.pending_results) {
            self.start_view(ctx, &id);
        }
    }

    /// Starts the job of the view `id` with its current settings, as its button would.
    fn start_view(&mut self, ctx: &egui::Context, id: &str) {
        let workspace = workspace(&self.model, &self.dataset, &self.table);
        if let Some(view) = self.views.iter_mut().find(|v| v.id() == id) {
            view.start(ctx, &workspace);
        }
    }

    /// Opens `paths` as the dataset in the background; the previous set stays until it is read.
    fn open_data(&mut self, ctx: &egui::Context, paths: Vec<std::path::PathBuf>) {
        let is_demo =
            ProteinSet::demo_paths().is_some_and(|(f, t)| paths == [f.clone(), t.clone()]);
        // Remembered once the files are read (the demo set as "nothing opened").
        self.opening_data = Some(if is_demo { Vec::new() } else { paths.clone() });
        self.dataset
            .spawn_repainting(ctx, "load-data", move |_job| {
                crate::data::open_data_files(&paths).map_err(anyhow::Error::from)
            });
    }

    /// A restored model or data set that failed to load: say so, and load the bundled one.
    fn fall_back_after_failed_restore(&mut self, ctx: &egui::Context) {
        let model = load_state(self.model.progress(), self.model.error());
        let data = load_state(self.dataset.progress(), self.dataset.error());
        let demo = ProteinSet::demo_paths();
        for command in self.restoring.fall_back(&model, &data, demo) {
            self.apply(ctx, command);
        }
    }

    fn spawn_load(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        self.model.spawn_repainting(ctx, "load-model", move |_job| {
            LoadedModel::load(&path, &candle_core::Device::Cpu).map_err(anyhow::Error::from)
        });
    }

    /// Carries out one command of a panel or view (or of the shell itself).
    fn apply(&mut self, ctx: &egui::Context, command: AppCommand) {
        match command {
            AppCommand::LoadModel(path) => {
                self.settings.model_path = path.display().to_string();
                self.loading_model = Some(Some(path.clone()));
                self.spawn_load(ctx, path);
            }
            AppCommand::LoadStarter => self.load_starter(ctx),
            AppCommand::AttachContactHead(path) => self.attach_contact_head(ctx, path),
            // Reading a checkpoint is one call that cannot stop midway: detach and keep the previous model.
            AppCommand::CancelModelLoad => self.model.detach(),
            AppCommand::Download(index) => self.start_download(ctx, index),
            AppCommand::CancelDownload => self.download.cancel(),
            AppCommand::OpenData(paths) => self.open_data(ctx, paths),
            AppCommand::SelectProtein {
                protein,
                show_table,
            } => {
                if let Some(table) = &mut self.table {
                    table.select(protein);
                }
                if show_table {
                    self.tab = DATA_TAB.into();
                }
            }
            AppCommand::ProteinPicked(row) => self.tell_views(WorkspaceEvent::ProteinPicked(row)),
            AppCommand::SaveSession => self.save_session_file(ctx),
            AppCommand::OpenSession => self.open_session_file(ctx),
            AppCommand::RecomputeResults => self.recompute_results(ctx),
        }
    }

    /// Attaches the contact head `path` to the loaded model (off the UI thread; the model
    /// stays as it is if the file is refused). While a model loads, waits for it.
    fn attach_contact_head(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        self.settings.contact_head_path = path.display().to_string();
        if self.model.progress().is_some() {
            self.pending_head = Some(path);
            return;
        }
        let Some(current) = self.model.result().cloned() else {
            self.pending_head = Some(path);
            return;
        };
        self.attaching_head = Some(path.clone());
        self.model
            .spawn_repainting(ctx, "attach-contact-head", move |_job| {
                current
                    .with_contact_head_file(&path)
                    .map_err(anyhow::Error::from)
            });
    }

    /// Loads the bundled starter model (the path field stays for the user's own checkpoints).
    fn load_starter(&mut self, ctx: &egui::Context) {
        match starter_model_path() {
            Some(path) => {
                self.loading_model = Some(None);
                self.spawn_load(ctx, path);
            }
            None => {
                self.download_view.error = Some(
                    "the bundled starter model (assets/starter) is missing from this installation"
                        .into(),
                )
            }
        }
    }

    /// Downloads official model `OFFICIAL_MODELS[index]` (loaded when it arrives).
    fn start_download(&mut self, ctx: &egui::Context, index: usize) {
        let Some(model) = OFFICIAL_MODELS.get(index) else {
            return;
        };
        self.download_view.error = None;
        self.download.spawn_repainting(ctx, "download", move |job| {
            download_official(
                model,
                &weights_base_url(),
                &torch_hub_checkpoints_dir(),
                job,
                &mut |_, _, _| {},
            )
            .map_err(anyhow::Error::from)
        });
    }

    /// Applies the frame's commands, in the order they were sent.
    fn apply_commands(&mut self, ctx: &egui::Context) {
        for command in self.commands.drain() {
            self.apply(ctx, command);
        }
    }

    fn tell_views(&mut self, event: WorkspaceEvent) {
        for view in &mut self.views {
            view.on_event(event);
        }
    }

    /// Polls the model, download and data jobs: what loaded is remembered, a downloaded
    /// checkpoint is loaded, a new data set gets its table and the views are told.
    fn poll_workspace(&mut self, ctx: &egui::Context) {
        self.model.poll();
        if matches!(self.model.state, JobState::Failed { .. }) {
            // A head waiting for a model that failed to load is not attached to another.
            self.pending_head = None;
            self.attaching_head = None;
        }
        self.fall_back_after_failed_restore(ctx);
        // Only what loaded is remembered: a failed load keeps the previous model's entry.
        if self.model.progress().is_none()
            && let Some(loaded) = self.loading_model.take()
            && matches!(self.model.state, JobState::Done(_))
        {
            if let Some(path) = &loaded {
                super::recent::remember(&mut self.settings.recent_models, path.clone());
            }
            self.settings.loaded_model = loaded;
            // A freshly loaded model carries its own head, not one attached before.
            self.settings.contact_head = None;
            // A model is in use now: an earlier download's error is no longer true.
            self.download_view.error = None;
            if let Some(head) = self.pending_head.take() {
                self.apply(ctx, AppCommand::AttachContactHead(head));
            }
        }
        if self.model.progress().is_none()
            && let Some(head) = self.attaching_head.take()
            && matches!(self.model.state, JobState::Done(_))
        {
            self.settings.contact_head = Some(head);
        }
        let downloading = self.download.progress().is_some();
        self.download.poll();
        self.download_view.progress = self.download.progress();
        if downloading && self.download_view.progress.is_none() {
            self.download_view.refresh_cached();
            match &self.download.state {
                JobState::Done(path) => {
                    let path = path.clone();
                    self.apply(ctx, AppCommand::LoadModel(path));
                }
                JobState::Failed { .. } => self.download_view.error = self.download.error(),
                _ => {}
            }
        }
        let was_running = self.dataset.progress().is_some();
        self.dataset.poll();
        if was_running && let JobState::Done(set) = &self.dataset.state {
            self.table = Some(DatasetTable::new(set));
            self.tell_views(WorkspaceEvent::DatasetReplaced);
        }
        if self.dataset.progress().is_none()
            && let Some(paths) = self.opening_data.take()
            && matches!(self.dataset.state, JobState::Done(_))
        {
            if !paths.is_empty() {
                super::recent::remember(&mut self.settings.recent_data, paths.clone());
            }
            self.settings.opened_data = paths;
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        super::output_folder::publish(ctx, &self.settings.output_folder);
        self.poll_workspace(ctx);
        for view in &mut self.views {
            view.poll();
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.top_bar_ui(ui);
        self.status_bar_ui(ui);
        let error = self.model.error();
        let loading = self.model.progress();
        // A third of a small window, at most 360 points: the views keep room at 800 x 600.
        let panel_width = (ctx.content_rect().width() * 0.3).clamp(220.0, 360.0);
        let model_command = egui::Panel::left("model_panel")
            .default_size(panel_width)
            .show(ui, |ui| {
                model_panel_ui(
                    ui,
                    (
                        &mut self.settings.model_path,
                        &mut self.settings.contact_head_path,
                    ),
                    &self.settings.recent_models,
                    self.model.result(),
                    loading,
                    error.as_deref(),
                    &mut self.download_view,
                )
            })
            .inner;
        egui::CentralPanel::default().show(ui, |ui| {
            self.tab_bar_ui(ui);
            ui.separator();
            self.open_tab_ui(ui);
        });
        if let Some(command) = model_command {
            self.commands.send(command);
        }
        self.apply_commands(&ctx);
        if let Some(mut tour) = self.tour.take() {
            tour.drive(&ctx, self);
            self.tour = Some(tour);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.tour.is_none() {
            store_session(storage, &self.session());
        }
    }
}

impl WorkbenchApp {
    /// The tabs: the data table, then every registered view.
    fn tab_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let data = ui.selectable_label(self.tab == DATA_TAB, "Data");
            if data
                .on_hover_text("The open protein set as a table: filter, sort, export")
                .clicked()
            {
                self.tab = DATA_TAB.into();
            }
            for view in &self.views {
                if ui
                    .selectable_label(self.tab == view.id(), view.title())
                    .on_hover_text(view.about())
                    .clicked()
                {
                    self.tab = view.id().into();
                }
            }
        });
    }

    /// The open tab's content: the data table or a view.
    fn open_tab_ui(&mut self, ui: &mut egui::Ui) {
        if self.tab == DATA_TAB {
            return self.data_tab_ui(ui);
        }
        let workspace = workspace(&self.model, &self.dataset, &self.table);
        if let Some(view) = self.views.iter_mut().find(|v| v.id() == self.tab) {
            view.ui(ui, &workspace, &mut self.commands);
        }
    }

    /// The top bar: session file and buttons, output folder, saved results to recompute and
    /// restore notices.
    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.heading("ESM Workbench");
                ui.label(format!("v{}", env!("CARGO_PKG_VERSION")));
                ui.separator();
                let label = ui.label("Session");
                ui.add(egui::TextEdit::singleline(&mut self.session_path).desired_width(180.0))
                    .labelled_by(label.id)
                    .on_hover_text("Session file (JSON): the model, data files and settings");
                super::file_dialog::browse_button(
                    ui,
                    &mut self.session_path,
                    super::file_dialog::DialogKind::Session,
                );
                if ui
                    .button("Save session")
                    .on_hover_text(
                        "Write the model path, data files and view settings to this file",
                    )
                    .clicked()
                {
                    self.commands.send(AppCommand::SaveSession);
                }
                if ui
                    .button("Open session")
                    .on_hover_text("Load the model and data of this session file and its settings")
                    .clicked()
                {
                    self.commands.send(AppCommand::OpenSession);
                }
                ui.separator();
                super::output_folder::output_folder_ui(ui, &mut self.settings.output_folder);
                if !self.pending_results.is_empty() {
                    // The session's own model and data, not the ones they are replacing.
                    let loaded =
                        |progress: Option<Progress>, done: bool| progress.is_none() && done;
                    let ready = loaded(self.model.progress(), self.model.result().is_some())
                        && loaded(self.dataset.progress(), self.dataset.result().is_some());
                    if ui
                        .add_enabled(
                            ready,
                            egui::Button::new(match self.pending_results.len() {
                                1 => "Recompute 1 saved result".to_owned(),
                                n => format!("Recompute {n} saved results"),
                            }),
                        )
                        .on_hover_text("Embeddings come from the on-disk cache")
                        .clicked()
                    {
                        self.commands.send(AppCommand::RecomputeResults);
                    }
                }
            });
            notices_ui(ui, &mut self.restoring.notices);
        });
    }

    /// The status bar at the bottom, one line high whatever it says: the running jobs and the
    /// session's last message (so no message moves the content above it).
    fn status_bar_ui(&mut self, ui: &mut egui::Ui) {
        self.session_write.poll();
        let jobs = self.running_jobs();
        let message = self
            .session_message
            .as_ref()
            .or(self.session_write.message.as_ref())
            .cloned();
        egui::Panel::bottom("status_bar")
            .exact_size(STATUS_BAR_HEIGHT)
            .resizable(false)
            .show(ui, |ui| {
                ui.horizontal_centered(|ui| {
                    running_jobs_ui(ui, &jobs);
                    if let Some(message) = message {
                        ui.separator();
                        ui.add(egui::Label::new(message).truncate());
                    }
                });
            });
    }

    /// The Data tab: the welcome, the open-files row, the reading state or error, the table.
    fn data_tab_ui(&mut self, ui: &mut egui::Ui) {
        let model_name = self.model.result().map(|m| m.name.as_str());
        super::welcome::welcome_ui(ui, &mut self.settings.welcome_dismissed, model_name);
        if let Some(command) = super::data_panel::open_files_ui(
            ui,
            &mut self.settings.data_paths,
            &self.settings.recent_data,
        ) {
            self.commands.send(command);
        }
        // A failed open shows its error above the previous set, which stays in use.
        match &self.dataset.state {
            JobState::Running { .. } => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("reading the data files…");
                });
            }
            JobState::Failed { err, previous } => {
                let kept = if previous.is_some() {
                    " (the previous data set stays open)"
                } else {
                    ""
                };
                ui.colored_label(ui.visuals().error_fg_color, format!("{err:#}{kept}"));
            }
            _ => {}
        }
        match (self.dataset.result(), &mut self.table) {
            (Some(set), Some(table)) => {
                let before = table.selected;
                data_panel_ui(ui, set, table);
                // A row picked in the table outlines its protein's point in the map.
                if table.selected != before {
                    self.commands
                        .send(AppCommand::ProteinPicked(table.selected));
                }
            }
            _ if self.dataset.progress().is_none() => {
                ui.label("No dataset: open data files above, or start with --fasta PATH [--metadata TABLE].");
            }
            _ => {}
        }
    }
}

/// The app as the demo tour drives it.
impl TourHost for WorkbenchApp {
    fn load_failure(&self) -> Option<String> {
        let model = self
            .model
            .error()
            .map(|e| format!("the model did not load: {e}"));
        model.or_else(|| {
            self.dataset
                .error()
                .map(|e| format!("the data did not load: {e}"))
        })
    }

    fn workspace_ready(&self) -> bool {
        self.model.result().is_some() && self.dataset.result().is_some()
    }

    fn show_tab(&mut self, stop: &str) {
        self.tab = stop.to_owned();
    }

    fn skip_reason(&self, stop: &str) -> Option<String> {
        self.views.iter().find(|v| v.id() == stop)?.tour_skip()
    }

    fn start_view(&mut self, ctx: &egui::Context, stop: &str) {
        WorkbenchApp::start_view(self, ctx, stop);
    }

    fn view_outcome(&self, stop: &str) -> Option<Result<(), String>> {
        self.views
            .iter()
            .find(|v| v.id() == stop)
            .map_or(Some(Ok(())), |v| v.outcome())
    }
}

/// Height of the status bar, points: one line of text.
const STATUS_BAR_HEIGHT: f32 = 24.0;

/// How a shell job stands, for the restore's fallback.
fn load_state(progress: Option<Progress>, error: Option<String>) -> LoadState {
    match (progress, error) {
        (Some(_), _) => LoadState::Running,
        (None, Some(err)) => LoadState::Failed(err),
        (None, None) => LoadState::Done,
    }
}

/// What the views see of the workspace (a free function: the views are borrowed beside it).
fn workspace<'a>(
    model: &'a Job<LoadedModel>,
    dataset: &'a Job<ProteinSet>,
    table: &'a Option<DatasetTable>,
) -> Workspace<'a> {
    Workspace {
        model: model.result(),
        data: dataset.result().zip(table.as_ref()),
    }
}

/// One line naming the running jobs and their progress (the stage of each on hover).
fn running_jobs_ui(ui: &mut egui::Ui, jobs: &[(&str, Progress)]) {
    if jobs.is_empty() {
        ui.weak("No job running");
        return;
    }
    let summary = jobs
        .iter()
        .map(|(name, p)| format!("{name} {:.0}%", 100.0 * p.fraction))
        .collect::<Vec<_>>()
        .join(", ");
    let details = jobs
        .iter()
        .map(|(name, p)| format!("{name}: {}", p.text()))
        .collect::<Vec<_>>()
        .join("\n");
    // No spinner: it would repaint every frame; each job's progress wakes the UI already.
    ui.add(egui::Label::new(format!("Running: {summary}")).truncate())
        .on_hover_text(details);
}

/// Warnings the user dismisses, one line each (what a restored session could not bring back).
fn notices_ui(ui: &mut egui::Ui, notices: &mut Vec<String>) {
    let mut dismissed = None;
    for (i, notice) in notices.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, notice);
            if ui
                .small_button("Dismiss")
                .on_hover_text("Hide this notice")
                .clicked()
            {
                dismissed = Some(i);
            }
        });
    }
    if let Some(i) = dismissed {
        notices.remove(i);
    }
}
