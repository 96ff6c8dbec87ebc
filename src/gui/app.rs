//! The workbench application: owns settings, the workspace and jobs; panels return commands.

use eframe::egui;

use super::data_panel::{DatasetTable, data_panel_ui};
use super::job::{Job, JobState};
use super::map_view::{MapCommand, MapResult, MapView, compute_map, map_view_ui};
use super::model_panel::{DownloadView, ModelCommand, model_panel_ui};
use super::ss8_view::{Ss8Command, Ss8Result, Ss8View, compute_ss8, ss8_view_ui};
use crate::cli::GuiArgs;
use crate::data::ProteinSet;
use crate::model::LoadedModel;
use crate::model::hub::{
    OFFICIAL_MODELS, download_official, torch_hub_checkpoints_dir, weights_base_url,
};
use crate::model::starter::starter_model_path;

/// Persisted settings (small; never the workspace).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// Last checkpoint path typed or opened.
    pub model_path: String,
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
    map: Job<MapResult>,
    map_view: MapView,
    ss8: Job<Ss8Result>,
    ss8_view: Ss8View,
}

/// Views of the central area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Data,
    Map,
    SecondaryStructure,
}

const SETTINGS_KEY: &str = "esm_workbench_settings";

impl WorkbenchApp {
    /// Restores settings and starts loading `args.model` if given.
    pub fn new(cc: &eframe::CreationContext<'_>, args: GuiArgs) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        let mut app = Self {
            settings,
            model: Job::default(),
            download: Job::default(),
            download_view: DownloadView::default(),
            dataset: Job::default(),
            table: None,
            tab: Tab::Data,
            map: Job::default(),
            map_view: MapView::default(),
            ss8: Job::default(),
            ss8_view: Ss8View::default(),
        };
        let data = match args.fasta {
            Some(fasta) => Some((fasta, args.metadata)),
            None => ProteinSet::demo_paths().map(|(fasta, tsv)| (fasta, Some(tsv))),
        };
        if let Some((fasta, metadata)) = data {
            let ctx = cc.egui_ctx.clone();
            app.dataset.spawn(
                "load-data",
                move || ctx.request_repaint(),
                move |_job| {
                    ProteinSet::load(&fasta, metadata.as_deref()).map_err(anyhow::Error::from)
                },
            );
        }
        match args.model {
            Some(path) => app.apply(&cc.egui_ctx, ModelCommand::Load(path)),
            None => app.apply(&cc.egui_ctx, ModelCommand::LoadStarter),
        }
        app
    }

    fn spawn_load(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        let ctx = ctx.clone();
        self.model.spawn(
            "load-model",
            move || ctx.request_repaint(),
            move |_job| {
                LoadedModel::load(&path, &candle_core::Device::Cpu).map_err(anyhow::Error::from)
            },
        );
    }

    fn apply(&mut self, ctx: &egui::Context, command: ModelCommand) {
        match command {
            ModelCommand::Load(path) => {
                self.settings.model_path = path.display().to_string();
                self.spawn_load(ctx, path);
            }
            ModelCommand::LoadStarter => match starter_model_path() {
                // The path field stays for the user's own checkpoints.
                Some(path) => self.spawn_load(ctx, path),
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
                let ctx = ctx.clone();
                self.download.spawn(
                    "download",
                    move || ctx.request_repaint(),
                    move |job| {
                        download_official(
                            model,
                            &weights_base_url(),
                            &torch_hub_checkpoints_dir(),
                            job,
                            &mut |_, _, _| {},
                        )
                        .map_err(anyhow::Error::from)
                    },
                );
            }
            ModelCommand::CancelDownload => self.download.cancel(),
        }
    }

    fn apply_ss8(&mut self, ctx: &egui::Context, command: Ss8Command) {
        match command {
            Ss8Command::Cancel => self.ss8.cancel(),
            Ss8Command::Train(settings) => {
                let Some(model) = self.model.result() else {
                    return;
                };
                let model = model.clone();
                let ctx = ctx.clone();
                self.ss8.spawn(
                    "ss8-probe",
                    move || ctx.request_repaint(),
                    move |job| compute_ss8(&model, &settings, job),
                );
            }
        }
    }

    fn apply_map(&mut self, ctx: &egui::Context, command: MapCommand) {
        match command {
            MapCommand::Cancel => self.map.cancel(),
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
                let ctx = ctx.clone();
                self.map.spawn(
                    "map",
                    move || ctx.request_repaint(),
                    move |job| compute_map(&model, &records, settings, job),
                );
            }
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.model.poll();
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
        self.ss8.poll();
        if was_running && let JobState::Done(set) = &self.dataset.state {
            self.table = Some(DatasetTable::new(set));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("ESM Workbench");
                ui.label(format!("v{}", env!("CARGO_PKG_VERSION")));
            });
        });
        let error = match &self.model.state {
            JobState::Failed { err, .. } => Some(format!("{err:#}")),
            _ => None,
        };
        let loading = self.model.progress();
        let command = egui::Panel::left("model_panel")
            .default_size(360.0)
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
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Data, "Data");
                ui.selectable_value(&mut self.tab, Tab::Map, "Embedding map");
                ui.selectable_value(&mut self.tab, Tab::SecondaryStructure, "Secondary structure");
            });
            ui.separator();
            match self.tab {
                Tab::Data => match (&self.dataset.state, self.dataset.result(), &mut self.table) {
                    (JobState::Running { .. }, _, _) => {
                        ui.spinner();
                    }
                    (JobState::Failed { err, .. }, _, _) => {
                        ui.colored_label(ui.visuals().error_fg_color, format!("{err:#}"));
                    }
                    (_, Some(set), Some(table)) => data_panel_ui(ui, set, table),
                    _ => {
                        ui.label("No dataset: start with --fasta PATH [--metadata TABLE], or run from the repository for the demo set.");
                    }
                },
                Tab::SecondaryStructure => {
                    let error = match &self.ss8.state {
                        JobState::Failed { err, .. } => Some(format!("{err:#}")),
                        _ => None,
                    };
                    let layers = self.model.result().map(|m| m.model.config().num_layers);
                    ss8_command = ss8_view_ui(
                        ui,
                        &mut self.ss8_view,
                        self.ss8.result(),
                        self.ss8.progress(),
                        error.as_deref(),
                        layers,
                    );
                }
                Tab::Map => {
                    let error = match &self.map.state {
                        JobState::Failed { err, .. } => Some(format!("{err:#}")),
                        _ => None,
                    };
                    let data = self.dataset.result().zip(self.table.as_ref());
                    let layers = self.model.result().map(|m| m.model.config().num_layers);
                    map_command = map_view_ui(
                        ui,
                        &mut self.map_view,
                        self.map.result(),
                        self.map.progress(),
                        error.as_deref(),
                        data,
                        layers,
                    );
                }
            }
        });
        if let Some(command) = ss8_command {
            let ctx = ui.ctx().clone();
            self.apply_ss8(&ctx, command);
        }
        if let Some(command) = map_command {
            let ctx = ui.ctx().clone();
            self.apply_map(&ctx, command);
        }
        if let Some(command) = command {
            let ctx = ui.ctx().clone();
            self.apply(&ctx, command);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}
