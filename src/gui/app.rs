//! The workbench application: owns settings, the workspace and jobs; panels return commands.

use eframe::egui;

use std::sync::Arc;

use super::aa_groups_panel::{AaGroupsCommand, aa_groups_request, compute_aa_groups};
use super::contacts_view::{
    ContactsCommand, ContactsResult, ContactsView, compute_contacts, contacts_view_ui,
};
use super::data_panel::{DatasetTable, data_panel_ui};
use super::demo_tour::{DemoTour, StopPhase, TourOutcome};
use super::homology_view::{
    HomologyCommand, HomologyResult, HomologyView, compute_homology, homology_view_ui,
};
use super::job::{Job, JobState, JobView, Progress};
use super::map_view::{MapCommand, MapResult, MapView, compute_map, map_view_ui};
use super::model_panel::{DownloadView, ModelCommand, model_panel_ui};
use super::ss8_view::{Ss8Command, Ss8Result, Ss8View, compute_ss8, ss8_view_ui};
use crate::analysis::aa_groups_study::AaGroupsStudy;
use crate::cli::GuiArgs;
use crate::data::ProteinSet;
use crate::model::LoadedModel;
use crate::model::hub::{
    OFFICIAL_MODELS, download_official, torch_hub_checkpoints_dir, weights_base_url,
};
use crate::model::starter::starter_model_path;

/// Persisted settings and the session: what was open, how each view was set up, and which
/// results existed (they are recomputed on request, embeddings coming from the on-disk cache).
/// Small; never the workspace itself.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Last checkpoint path typed or opened.
    pub model_path: String,
    /// The model in use (`None`: the bundled starter model).
    pub loaded_model: Option<std::path::PathBuf>,
    /// The data-files field.
    pub data_paths: String,
    /// The data files open (empty: the demo set).
    pub opened_data: Vec<std::path::PathBuf>,
    /// The open tab.
    pub tab: Tab,
    /// Map settings and colouring.
    pub map: super::map_view::MapSettings,
    /// Colour-by choice of the map.
    pub colour_by: String,
    /// Amino-acid groups settings (the map's panel).
    pub aa_groups: super::aa_groups_panel::AaGroupsSettings,
    /// SS8 probe settings.
    pub ss8: super::ss8_view::Ss8Settings,
    /// Contact probe settings.
    pub contacts: super::contacts_view::ContactSettings,
    /// Homology settings.
    pub homology: super::homology_view::HomologySettings,
    /// Views that held a result when the session was saved.
    pub results: Vec<Tab>,
    /// Where bare output names are written (and sessions read from).
    pub output_folder: super::output_folder::OutputFolder,
    /// The first-run welcome was dismissed.
    pub welcome_dismissed: bool,
}

/// A restored session's model and data: while they load, a failure falls back to the bundled
/// starter model or demo set and is reported, instead of leaving the app empty.
#[derive(Debug, Default)]
struct Restoring {
    /// The restored model is loading.
    model: bool,
    /// The restored data files are being read.
    data: bool,
    /// What could not be restored (shown under the top bar until dismissed).
    notices: Vec<String>,
}

/// The eframe app.
pub struct WorkbenchApp {
    settings: Settings,
    model: Job<LoadedModel>,
    download: Job<std::path::PathBuf>,
    download_view: DownloadView,
    dataset: Job<ProteinSet>,
    table: Option<DatasetTable>,
    tab: Tab,
    map: Job<Arc<MapResult>>,
    map_view: MapView,
    aa_groups: Job<AaGroupsStudy>,
    ss8: Job<Ss8Result>,
    ss8_view: Ss8View,
    contacts: Job<Arc<ContactsResult>>,
    contacts_view: ContactsView,
    homology: Job<Arc<HomologyResult>>,
    homology_view: HomologyView,
    /// Parts of a restored session still loading, and what failed to restore.
    restoring: Restoring,
    /// The model being loaded (`Some(None)`: the starter), remembered once it loads.
    loading_model: Option<Option<std::path::PathBuf>>,
    /// The data files being opened (empty: the demo set), remembered once they are read.
    opening_data: Option<Vec<std::path::PathBuf>>,
    /// Session file field.
    session_path: String,
    /// Outcome of the last session open (or a session that could not be serialised).
    session_message: Option<String>,
    /// The session file's write (off the UI thread) and its outcome.
    session_write: super::background_write::BackgroundWrite,
    /// Views whose results the restored session had, offered for recomputation.
    pending_results: Vec<Tab>,
    /// The demo tour driving the app (`gui --tour DIR`), if any.
    tour: Option<DemoTour>,
}

/// Views of the central area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// The dataset table.
    #[default]
    Data,
    /// Embedding map.
    Map,
    /// SS8 probe.
    SecondaryStructure,
    /// Contact probe.
    Contacts,
    /// Remote homology.
    Homology,
}

const SETTINGS_KEY: &str = "esm_workbench_settings";
/// SS8 training chains of the demo tour (of the kit's 1,000).
const TOUR_SS8_TRAINING_CHAINS: usize = 20;
/// Contact-probe training residues of the demo tour (of the kit's 5,492).
const TOUR_CONTACT_TRAINING_RESIDUES: usize = 2_000;

impl WorkbenchApp {
    /// Restores settings and starts loading `args.model` if given.
    pub fn new(cc: &eframe::CreationContext<'_>, args: GuiArgs) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        Self::with_settings(cc, args, settings)
    }

    /// The app driving itself through the demo tour into `out_dir` (see [`DemoTour`]): it starts
    /// from default settings with demo-sized probe inputs, not the saved ones, and saves none,
    /// so a tour leaves the user's session alone. How it ended goes into `outcome`.
    pub fn with_tour(
        cc: &eframe::CreationContext<'_>,
        args: GuiArgs,
        out_dir: std::path::PathBuf,
        outcome: TourOutcome,
        launched: std::time::Instant,
    ) -> Self {
        let mut app = Self::with_settings(cc, args, Settings::default());
        // The bundled kit's disjoint splits (the views' defaults), sized so that the tour takes a
        // minute or two on any checkout: 20 SS8 training chains, contact probes on about 2,000
        // training residues (whole chains), and 300 ASTRAL domains when the user gives a file.
        app.ss8_view.settings.max_train = TOUR_SS8_TRAINING_CHAINS;
        app.contacts_view.settings.residue_cap = TOUR_CONTACT_TRAINING_RESIDUES;
        app.homology_view.settings.max_domains = 300;
        app.tour = Some(DemoTour::new(out_dir, outcome, launched));
        app
    }

    fn with_settings(cc: &eframe::CreationContext<'_>, args: GuiArgs, settings: Settings) -> Self {
        let mut app = Self {
            settings: Settings::default(),
            model: Job::default(),
            download: Job::default(),
            download_view: DownloadView::default(),
            dataset: Job::default(),
            table: None,
            tab: Tab::Data,
            map: Job::default(),
            map_view: MapView::new(),
            aa_groups: Job::default(),
            ss8: Job::default(),
            ss8_view: Ss8View::new(),
            contacts: Job::default(),
            contacts_view: ContactsView::new(),
            homology: Job::default(),
            homology_view: HomologyView::new(),
            session_path: "session.json".into(),
            loading_model: None,
            opening_data: None,
            restoring: Restoring::default(),
            session_message: None,
            session_write: Default::default(),
            pending_results: Vec::new(),
            tour: None,
        };
        // Files named on the command line win over the saved session.
        let mut settings = settings;
        if let Some(fasta) = args.fasta {
            settings.opened_data = std::iter::once(fasta).chain(args.metadata).collect();
            settings.results.clear();
        }
        if let Some(model) = args.model {
            settings.loaded_model = Some(model);
            settings.results.clear();
        }
        if let Some(store) = args.store {
            settings.ss8.store.root = store.clone();
            settings.contacts.store.root = store.clone();
            settings.homology.store.root = store.clone();
            settings.map.store.root = store;
        }
        if let Some(outputs) = args.outputs {
            settings.output_folder =
                super::output_folder::OutputFolder(outputs.display().to_string());
        }
        app.restore(&cc.egui_ctx, settings);
        app
    }

    /// Applies a saved session: view settings, then the model and data files (missing files
    /// fall back to the starter model and the demo set); results are offered for recomputation.
    fn restore(&mut self, ctx: &egui::Context, settings: Settings) {
        self.tab = settings.tab;
        self.map_view.settings = settings.map.clone();
        self.map_view.colour_by = settings.colour_by.clone();
        self.map_view.groups.settings = settings.aa_groups.clone();
        self.ss8_view.settings = settings.ss8.clone();
        self.contacts_view.settings = settings.contacts.clone();
        self.homology_view.settings = settings.homology.clone();
        self.pending_results = settings.results.clone();
        let data = settings.opened_data.clone();
        let model = settings.loaded_model.clone();
        self.settings = settings;
        let missing = data.iter().find(|p| !p.exists());
        if let Some(missing) = missing {
            self.restoring.notices.push(format!(
                "The session's data file {} no longer exists; the demo set is open instead.",
                missing.display()
            ));
        }
        if data.is_empty() || missing.is_some() {
            if let Some((fasta, tsv)) = ProteinSet::demo_paths() {
                self.open_data(ctx, vec![fasta, tsv]);
            }
            self.settings.opened_data.clear();
        } else {
            self.open_data(ctx, data);
            self.restoring.data = true;
        }
        // A model that cannot be read is reported and the starter model loads instead.
        match model {
            Some(path) => {
                self.apply(ctx, ModelCommand::Load(path));
                self.restoring.model = true;
            }
            None => self.apply(ctx, ModelCommand::LoadStarter),
        }
    }

    /// The session as it stands: settings of every view and which results exist.
    fn session(&self) -> Settings {
        let mut settings = self.settings.clone();
        settings.tab = self.tab;
        settings.map = self.map_view.settings.clone();
        settings.colour_by = self.map_view.colour_by.clone();
        settings.aa_groups = self.map_view.groups.settings.clone();
        settings.ss8 = self.ss8_view.settings.clone();
        settings.contacts = self.contacts_view.settings.clone();
        settings.homology = self.homology_view.settings.clone();
        let had = [
            (Tab::Map, self.map.result().is_some()),
            (Tab::SecondaryStructure, self.ss8.result().is_some()),
            (Tab::Contacts, self.contacts.result().is_some()),
            (Tab::Homology, self.homology.result().is_some()),
        ];
        settings.results = had.iter().filter(|h| h.1).map(|h| h.0).collect();
        settings
    }

    /// Every job running now, by name, with its progress (the top bar lists them).
    fn running_jobs(&self) -> Vec<(&'static str, Progress)> {
        [
            ("loading the model", self.model.progress()),
            ("download", self.download.progress()),
            ("reading data", self.dataset.progress()),
            ("embedding map", self.map.progress()),
            ("amino-acid groups", self.aa_groups.progress()),
            ("SS8 probe", self.ss8.progress()),
            ("contact probe", self.contacts.progress()),
            ("homology", self.homology.progress()),
        ]
        .into_iter()
        .filter_map(|(name, progress)| progress.map(|p| (name, p)))
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
        match serde_json::to_string_pretty(&self.session()) {
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
            Err(e) => self.session_message = Some(e.to_string()),
        }
    }

    /// Reads a session file and restores it.
    fn open_session_file(&mut self, ctx: &egui::Context) {
        let path = self.session_file();
        let read = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| {
                serde_json::from_str::<Settings>(&text).map_err(|e| {
                    format!(
                        "not a workbench session (line {}): {e}: {}",
                        e.line(),
                        path.display()
                    )
                })
            });
        match read {
            Ok(mut settings) => {
                // The output folder is the user's, not the session file's.
                settings.output_folder = self.settings.output_folder.clone();
                self.restore(ctx, settings);
                self.session_message = Some(format!("opened session {}", path.display()));
            }
            Err(e) => self.session_message = Some(e),
        }
    }

    /// Recomputes the results the restored session had (once the model and data are loaded).
    fn recompute_results(&mut self, ctx: &egui::Context) {
        for tab in std::mem::take(&mut self.pending_results) {
            self.run_view(ctx, tab);
        }
    }

    /// Starts the job of `tab` with the view's current settings, as its button would (the
    /// data table has none).
    fn run_view(&mut self, ctx: &egui::Context, tab: Tab) {
        match tab {
            Tab::Map => self.apply_map(ctx, MapCommand::Compute(self.map_view.settings.clone())),
            Tab::SecondaryStructure => {
                self.apply_ss8(ctx, Ss8Command::Train(self.ss8_view.settings.clone()))
            }
            Tab::Contacts => self.apply_contacts(
                ctx,
                ContactsCommand::Train(self.contacts_view.settings.clone()),
            ),
            Tab::Homology => self.apply_homology(
                ctx,
                HomologyCommand::Run(self.homology_view.settings.clone()),
            ),
            Tab::Data => {}
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
        if self.restoring.model && self.model.progress().is_none() {
            self.restoring.model = false;
            if let Some(err) = job_error(&self.model.state) {
                self.restoring.notices.push(format!(
                    "The model could not be loaded ({err}); the bundled starter model is loaded instead."
                ));
                self.apply(ctx, ModelCommand::LoadStarter);
            }
        }
        if self.restoring.data && self.dataset.progress().is_none() {
            self.restoring.data = false;
            if let Some(err) = job_error(&self.dataset.state)
                && let Some((fasta, tsv)) = ProteinSet::demo_paths()
            {
                self.restoring.notices.push(format!(
                    "The data files could not be read ({err}); the demo set is open instead."
                ));
                self.open_data(ctx, vec![fasta, tsv]);
            }
        }
    }

    fn spawn_load(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        self.model.spawn_repainting(ctx, "load-model", move |_job| {
            LoadedModel::load(&path, &candle_core::Device::Cpu).map_err(anyhow::Error::from)
        });
    }

    fn apply(&mut self, ctx: &egui::Context, command: ModelCommand) {
        match command {
            ModelCommand::Load(path) => {
                self.settings.model_path = path.display().to_string();
                self.loading_model = Some(Some(path.clone()));
                self.spawn_load(ctx, path);
            }
            ModelCommand::LoadStarter => match starter_model_path() {
                // The path field stays for the user's own checkpoints.
                Some(path) => {
                    self.loading_model = Some(None);
                    self.spawn_load(ctx, path);
                }
                None => self.download_view.error = Some(
                    "the bundled starter model (assets/starter) is missing from this installation"
                        .into(),
                ),
            },
            // Reading a checkpoint is one call that cannot stop midway: detach and keep the previous model.
            ModelCommand::Cancel => self.model.detach(),
            ModelCommand::Download(index) => {
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
            ModelCommand::CancelDownload => self.download.cancel(),
        }
    }

    fn apply_ss8(&mut self, ctx: &egui::Context, command: Ss8Command) {
        match command {
            Ss8Command::Cancel => self.ss8.cancel(),
            Ss8Command::Train(settings) => {
                spawn_on_model(
                    &mut self.ss8,
                    self.model.result(),
                    ctx,
                    "ss8-probe",
                    move |model, job| compute_ss8(model, &settings, job),
                );
            }
        }
    }

    fn apply_contacts(&mut self, ctx: &egui::Context, command: ContactsCommand) {
        match command {
            ContactsCommand::Cancel => self.contacts.cancel(),
            ContactsCommand::Train(settings) => {
                spawn_on_model(
                    &mut self.contacts,
                    self.model.result(),
                    ctx,
                    "contact-probe",
                    move |model, job| compute_contacts(model, &settings, job).map(Arc::new),
                );
            }
        }
    }

    fn apply_homology(&mut self, ctx: &egui::Context, command: HomologyCommand) {
        match command {
            HomologyCommand::Cancel => self.homology.cancel(),
            HomologyCommand::Run(settings) => {
                spawn_on_model(
                    &mut self.homology,
                    self.model.result(),
                    ctx,
                    "homology",
                    move |model, job| compute_homology(model, &settings, job).map(Arc::new),
                );
            }
        }
    }

    fn apply_map(&mut self, ctx: &egui::Context, command: MapCommand) {
        match command {
            MapCommand::Cancel => self.map.cancel(),
            MapCommand::SelectProtein {
                protein,
                show_table,
            } => {
                if let Some(table) = &mut self.table {
                    table.select(protein);
                }
                if show_table {
                    self.tab = Tab::Data;
                }
            }
            MapCommand::Groups(AaGroupsCommand::Cancel) => self.aa_groups.cancel(),
            MapCommand::Groups(AaGroupsCommand::Score(settings, store)) => {
                let Some(set) = self.dataset.result() else {
                    return;
                };
                let request = aa_groups_request(set, &settings, &store);
                spawn_on_model(
                    &mut self.aa_groups,
                    self.model.result(),
                    ctx,
                    "amino-acid groups",
                    move |model, job| compute_aa_groups(model, &request, job),
                );
            }
            MapCommand::Compute(settings) => {
                let (Some(model), Some(set)) = (self.model.result(), self.dataset.result()) else {
                    return;
                };
                let model = model.clone();
                let records: Vec<(String, String)> = set
                    .records
                    .iter()
                    .map(|r| (r.id.clone(), r.sequence.clone()))
                    .collect();
                let name = set.name.clone();
                self.map.spawn_repainting(ctx, "map", move |job| {
                    compute_map(&model, records, &name, settings, job).map(Arc::new)
                });
            }
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        super::output_folder::publish(ctx, &self.settings.output_folder);
        self.model.poll();
        self.fall_back_after_failed_restore(ctx);
        // Only what loaded is remembered: a failed load keeps the previous model's entry.
        if self.model.progress().is_none()
            && let Some(loaded) = self.loading_model.take()
            && matches!(self.model.state, JobState::Done(_))
        {
            self.settings.loaded_model = loaded;
        }
        let downloading = self.download.progress().is_some();
        self.download.poll();
        self.download_view.progress = self.download.progress();
        let download_ended = downloading && self.download_view.progress.is_none();
        if download_ended {
            self.download_view.refresh_cached();
            match &self.download.state {
                JobState::Done(path) => {
                    let path = path.clone();
                    self.apply(ctx, ModelCommand::Load(path));
                }
                JobState::Failed { err, .. } => self.download_view.error = Some(format!("{err:#}")),
                _ => {}
            }
        }
        let was_running = self.dataset.progress().is_some();
        self.dataset.poll();
        self.map.poll();
        self.aa_groups.poll();
        self.ss8.poll();
        self.contacts.poll();
        self.homology.poll();
        if was_running && let JobState::Done(set) = &self.dataset.state {
            self.table = Some(DatasetTable::new(set));
        }
        if self.dataset.progress().is_none()
            && let Some(paths) = self.opening_data.take()
            && matches!(self.dataset.state, JobState::Done(_))
        {
            self.settings.opened_data = paths;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let session_action = self.top_bar_ui(ui);
        match session_action {
            Some(false) => {
                let ctx = ui.ctx().clone();
                self.save_session_file(&ctx);
            }
            Some(true) => {
                let ctx = ui.ctx().clone();
                self.open_session_file(&ctx);
            }
            None => {}
        }
        let error = job_error(&self.model.state);
        let loading = self.model.progress();
        // A third of a small window, at most 360 points: the views keep room at 800 x 600.
        let panel_width = (ui.ctx().content_rect().width() * 0.3).clamp(220.0, 360.0);
        let command = egui::Panel::left("model_panel")
            .default_size(panel_width)
            .show(ui, |ui| {
                model_panel_ui(
                    ui,
                    &mut self.settings.model_path,
                    self.model.result(),
                    loading,
                    error.as_deref(),
                    &mut self.download_view,
                )
            })
            .inner;
        let mut map_command = None;
        let mut ss8_command = None;
        let mut contacts_command = None;
        let mut homology_command = None;
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Data, "Data")
                    .on_hover_text("The open protein set as a table: filter, sort, export");
                ui.selectable_value(&mut self.tab, Tab::Map, "Embedding map")
                    .on_hover_text("t-SNE or PCA of residue or protein embeddings of any layer");
                ui.selectable_value(
                    &mut self.tab,
                    Tab::SecondaryStructure,
                    "Secondary structure",
                )
                .on_hover_text("Linear probe of 8-class secondary structure, layer by layer");
                ui.selectable_value(&mut self.tab, Tab::Contacts, "Contacts")
                    .on_hover_text("Bilinear probe of residue-residue contacts, layer by layer");
                ui.selectable_value(&mut self.tab, Tab::Homology, "Homology")
                    .on_hover_text("Nearest-neighbour search for SCOPe remote homologs");
            });
            ui.separator();
            match self.tab {
                Tab::Data => self.data_tab_ui(ui),
                Tab::SecondaryStructure => {
                    let error = job_error(&self.ss8.state);
                    let model = self.model.result();
                    ss8_command = scrolled(ui, "ss8_scroll", |ui| {
                        ss8_view_ui(
                            ui,
                            &mut self.ss8_view,
                            self.ss8.result(),
                            self.ss8.progress(),
                            error.as_deref(),
                            model,
                        )
                    });
                }
                Tab::Contacts => {
                    let error = job_error(&self.contacts.state);
                    let model = self.model.result();
                    contacts_command = scrolled(ui, "contacts_scroll", |ui| {
                        contacts_view_ui(
                            ui,
                            &mut self.contacts_view,
                            self.contacts.result(),
                            self.contacts.progress(),
                            error.as_deref(),
                            model,
                        )
                    });
                }
                Tab::Homology => {
                    let error = job_error(&self.homology.state);
                    homology_command = scrolled(ui, "homology_scroll", |ui| {
                        homology_view_ui(
                            ui,
                            &mut self.homology_view,
                            self.homology.result(),
                            self.homology.progress(),
                            error.as_deref(),
                            self.model.result(),
                        )
                    });
                }
                Tab::Map => {
                    let error = job_error(&self.map.state);
                    let data = self.dataset.result().zip(self.table.as_ref());
                    let groups_error = job_error(&self.aa_groups.state);
                    let groups = JobView {
                        result: self.aa_groups.result(),
                        progress: self.aa_groups.progress(),
                        error: groups_error.as_deref(),
                    };
                    map_command = map_view_ui(
                        ui,
                        &mut self.map_view,
                        JobView {
                            result: self.map.result(),
                            progress: self.map.progress(),
                            error: error.as_deref(),
                        },
                        data,
                        self.model.result(),
                        groups,
                    );
                }
            }
        });
        if let Some(command) = ss8_command {
            let ctx = ui.ctx().clone();
            self.apply_ss8(&ctx, command);
        }
        if let Some(command) = contacts_command {
            let ctx = ui.ctx().clone();
            self.apply_contacts(&ctx, command);
        }
        if let Some(command) = homology_command {
            let ctx = ui.ctx().clone();
            self.apply_homology(&ctx, command);
        }
        if let Some(command) = map_command {
            let ctx = ui.ctx().clone();
            self.apply_map(&ctx, command);
        }
        if let Some(command) = command {
            let ctx = ui.ctx().clone();
            self.apply(&ctx, command);
        }
        let ctx = ui.ctx().clone();
        self.advance_tour(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.tour.is_none() {
            eframe::set_value(storage, SETTINGS_KEY, &self.session());
        }
    }
}

impl WorkbenchApp {
    /// The top bar: session file and buttons, output folder, saved results to recompute,
    /// running jobs and restore notices. Returns `Some(true)` to open the session file,
    /// `Some(false)` to save it.
    fn top_bar_ui(&mut self, ui: &mut egui::Ui) -> Option<bool> {
        let mut session_action = None;
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
                    session_action = Some(false);
                }
                if ui
                    .button("Open session")
                    .on_hover_text("Load the model and data of this session file and its settings")
                    .clicked()
                {
                    session_action = Some(true);
                }
                ui.separator();
                super::output_folder::output_folder_ui(ui, &mut self.settings.output_folder);
                if !self.pending_results.is_empty() {
                    let ready = self.model.result().is_some() && self.dataset.result().is_some();
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
                        session_action = None;
                        self.recompute_results(ui.ctx());
                    }
                }
                self.session_write.poll();
                if let Some(message) = &self.session_message {
                    ui.label(message);
                } else if let Some(message) = &self.session_write.message {
                    ui.label(message);
                }
            });
            running_jobs_ui(ui, &self.running_jobs());
            notices_ui(ui, &mut self.restoring.notices);
        });
        session_action
    }

    /// The Data tab: the welcome, the open-files row, the reading state or error, the table.
    fn data_tab_ui(&mut self, ui: &mut egui::Ui) {
        let model_name = self.model.result().map(|m| m.name.as_str());
        super::welcome::welcome_ui(ui, &mut self.settings.welcome_dismissed, model_name);
        if let Some(super::data_panel::DataCommand::Open(paths)) =
            super::data_panel::open_files_ui(ui, &mut self.settings.data_paths)
        {
            let ctx = ui.ctx().clone();
            self.open_data(&ctx, paths);
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
                    self.map_view.selected = table
                        .selected
                        .zip(self.map.result())
                        .and_then(|(row, map)| super::map_view::first_point_of(map, row));
                }
            }
            _ if self.dataset.progress().is_none() => {
                ui.label("No dataset: open data files above, or start with --fasta PATH [--metadata TABLE].");
            }
            _ => {}
        }
    }

    /// One frame of the demo tour: open the stop's view, start its job with the view's own
    /// settings (as its button would), wait for the result, then let the tour take the
    /// screenshot.
    fn advance_tour(&mut self, ctx: &egui::Context) {
        let Some(mut tour) = self.tour.take() else {
            return;
        };
        if let Some(stop) = tour.current() {
            match tour.phase() {
                StopPhase::Start => self.start_tour_stop(ctx, &mut tour, stop),
                StopPhase::Running => match self.stop_outcome(stop) {
                    None => ctx.request_repaint_after(std::time::Duration::from_millis(200)),
                    Some(Ok(())) => tour.result_shown(),
                    Some(Err(e)) => tour.fail_after_screenshot(format!("{stop:?}: {e}")),
                },
                StopPhase::Settling(_) | StopPhase::Shooting => {}
            }
        }
        tour.frame(ctx);
        self.tour = Some(tour);
    }

    fn start_tour_stop(&mut self, ctx: &egui::Context, tour: &mut DemoTour, stop: Tab) {
        for (what, state_error) in [
            ("model", job_error(&self.model.state)),
            ("data", job_error(&self.dataset.state)),
        ] {
            if let Some(e) = state_error {
                return tour.fail_after_screenshot(format!("the {what} did not load: {e}"));
            }
        }
        if self.model.result().is_none() || self.dataset.result().is_none() {
            ctx.request_repaint_after(std::time::Duration::from_millis(200));
            return;
        }
        self.tab = stop;
        match stop {
            Tab::Data => {
                tour.report_ready("starter model and demo set loaded");
                return tour.result_shown();
            }
            Tab::Homology
                if !std::path::Path::new(&self.homology_view.settings.astral).is_file() =>
            {
                println!("tour: homology not run: no ASTRAL file given (none is bundled)");
                return tour.result_shown();
            }
            _ => self.run_view(ctx, stop),
        }
        tour.started();
    }

    /// How the job of a tour stop ended (`None` while it runs).
    fn stop_outcome(&self, stop: Tab) -> Option<Result<(), String>> {
        fn ended<T>(state: &JobState<T>) -> Option<Result<(), String>> {
            match state {
                JobState::Done(_) => Some(Ok(())),
                JobState::Failed { .. } => job_error(state).map(Err),
                JobState::Idle | JobState::Running { .. } => None,
            }
        }
        match stop {
            Tab::Data => Some(Ok(())),
            Tab::Map => ended(&self.map.state),
            Tab::SecondaryStructure => ended(&self.ss8.state),
            Tab::Contacts => ended(&self.contacts.state),
            Tab::Homology => ended(&self.homology.state),
        }
    }
}

/// A view's content in a vertical scroll area filling the central panel, so that results
/// taller than the window (tables, maps, export rows) stay reachable.
fn scrolled<R>(ui: &mut egui::Ui, id: &str, content: impl FnOnce(&mut egui::Ui) -> R) -> R {
    egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, false])
        .show(ui, content)
        .inner
}

/// One line naming the running jobs and their progress (the stage of each on hover).
fn running_jobs_ui(ui: &mut egui::Ui, jobs: &[(&str, Progress)]) {
    if jobs.is_empty() {
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
    ui.label(format!("Running: {summary}"))
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

/// The readable message of a failed job.
fn job_error<T>(state: &JobState<T>) -> Option<String> {
    match state {
        JobState::Failed { err, .. } => Some(format!("{err:#}")),
        _ => None,
    }
}

/// Starts `work` on the loaded model in `job` (nothing when no model is loaded yet).
fn spawn_on_model<T: Send + 'static>(
    job: &mut Job<T>,
    model: Option<&LoadedModel>,
    ctx: &egui::Context,
    name: &str,
    work: impl FnOnce(&LoadedModel, &crate::analysis::JobCtx) -> anyhow::Result<T> + Send + 'static,
) {
    let Some(model) = model.cloned() else {
        return;
    };
    job.spawn_repainting(ctx, name, move |ctx| work(&model, ctx));
}
