//! The embedding map's slot: its two jobs (the map and the amino-acid groups study), its
//! settings in the session, and what it does when the workspace changes.

use std::sync::Arc;

use eframe::egui;

use super::aa_groups_panel::{aa_groups_request, compute_aa_groups};
use super::app_command::AppCommands;
use super::job::{Job, JobClick, JobState, JobView, Progress};
use super::map_view::{MapClicks, MapResult, MapView, compute_map, first_point_of, map_view_ui};
use super::model_shelf::{ModelShelf, shelf_line};
use super::view_slot::{
    ViewSettings, ViewSlot, Workspace, WorkspaceEvent, put_setting, spawn_on_model, take_setting,
};
use crate::analysis::aa_groups_study::AaGroupsStudy;

/// The map view with its jobs.
pub struct MapSlot {
    view: MapView,
    map: Job<Arc<MapResult>>,
    groups: Job<AaGroupsStudy>,
    /// Maps and groups scores of other models than the loaded one (of the open data set).
    map_shelf: ModelShelf<Arc<MapResult>>,
    groups_shelf: ModelShelf<AaGroupsStudy>,
}

impl Default for MapSlot {
    fn default() -> Self {
        Self {
            view: MapView::new(),
            map: Job::default(),
            groups: Job::default(),
            map_shelf: ModelShelf::default(),
            groups_shelf: ModelShelf::default(),
        }
    }
}

impl MapSlot {
    /// Starts a map of the open data set with the view's settings (nothing without a model and
    /// data).
    fn compute(&mut self, ctx: &egui::Context, workspace: &Workspace<'_>) {
        let (Some(_), Some((set, _))) = (workspace.model, workspace.data) else {
            return;
        };
        let records: Vec<(String, String)> = set
            .records
            .iter()
            .map(|r| (r.id.clone(), r.sequence.clone()))
            .collect();
        let name = set.name.clone();
        let settings = self.view.settings.clone();
        self.view.stale_note = None;
        spawn_on_model(
            &mut self.map,
            workspace.model,
            ctx,
            "map",
            move |model, job| compute_map(model, records, &name, settings, job).map(Arc::new),
        );
    }

    /// Starts or stops the map and the amino-acid groups study, as clicked.
    fn apply(&mut self, ctx: &egui::Context, workspace: &Workspace<'_>, clicks: MapClicks) {
        match clicks.map {
            Some(JobClick::Start) => self.compute(ctx, workspace),
            Some(JobClick::Cancel) => self.map.cancel(),
            None => {}
        }
        match clicks.groups {
            Some(JobClick::Start) => self.score_groups(ctx, workspace),
            Some(JobClick::Cancel) => self.groups.cancel(),
            None => {}
        }
    }

    /// Starts the amino-acid groups study on the open data set, stores in the map's folder.
    fn score_groups(&mut self, ctx: &egui::Context, workspace: &Workspace<'_>) {
        let Some((set, _)) = workspace.data else {
            return;
        };
        let request = aa_groups_request(set, &self.view.groups.settings, &self.view.settings.store);
        spawn_on_model(
            &mut self.groups,
            workspace.model,
            ctx,
            "amino-acid groups",
            move |model, job| compute_aa_groups(model, &request, job),
        );
    }
}

impl ViewSlot for MapSlot {
    fn id(&self) -> &'static str {
        "Map"
    }

    fn title(&self) -> &'static str {
        "Embedding map"
    }

    fn about(&self) -> &'static str {
        "t-SNE or PCA of residue or protein embeddings of any layer"
    }

    fn save_settings(&self, session: &mut ViewSettings) {
        put_setting(session, "map", &self.view.settings);
        put_setting(session, "colour_by", &self.view.colour_by);
        put_setting(session, "palette", &self.view.palette);
        put_setting(session, "aa_groups", &self.view.groups.settings);
    }

    fn restore_settings(&mut self, session: &ViewSettings) -> Result<(), String> {
        let errors: Vec<String> = [
            take_setting(session, "map", &mut self.view.settings),
            take_setting(session, "colour_by", &mut self.view.colour_by),
            take_setting(session, "palette", &mut self.view.palette),
            take_setting(session, "aa_groups", &mut self.view.groups.settings),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// The amino-acid groups study uses the map's store folder too.
    fn use_store_folder(&mut self, root: &std::path::Path) {
        self.view.settings.store.root = root.to_path_buf();
    }

    fn poll(&mut self) {
        let was_running = self.map.progress().is_some();
        self.map.poll();
        if was_running && matches!(self.map.state, JobState::Done(_)) {
            self.view.result_replaced();
        }
        self.groups.poll();
    }

    fn running(&self) -> Vec<(&'static str, Progress)> {
        [
            ("embedding map", self.map.progress()),
            ("amino-acid groups", self.groups.progress()),
        ]
        .into_iter()
        .filter_map(|(name, progress)| progress.map(|p| (name, p)))
        .collect()
    }

    fn has_result(&self) -> bool {
        self.map.result().is_some()
    }

    fn start(&mut self, ctx: &egui::Context, workspace: &Workspace<'_>) {
        self.compute(ctx, workspace);
    }

    fn outcome(&self) -> Option<Result<(), String>> {
        self.map.outcome()
    }

    /// A replaced data set makes the map's points (indices into the old set) and the groups
    /// scores (of the old set) stale: both are dropped, running jobs included, and the view
    /// says why the map is gone.
    fn on_event(&mut self, event: WorkspaceEvent) {
        match event {
            WorkspaceEvent::DatasetReplaced => {
                let had_map = self.map.result().is_some() || self.map.progress().is_some();
                self.map.clear();
                self.groups.clear();
                self.map_shelf.clear();
                self.groups_shelf.clear();
                self.view.forget_points();
                if had_map {
                    self.view.stale_note = Some(
                        "A new data set was opened; the map of the previous one was closed. \
                         Compute the map again."
                            .into(),
                    );
                }
            }
            WorkspaceEvent::ProteinPicked(row) => {
                self.view.selected = row
                    .zip(self.map.result())
                    .and_then(|(row, map)| first_point_of(map, row));
            }
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace<'_>, commands: &mut AppCommands) {
        let loaded = workspace.model.map(|m| m.fingerprint.as_str());
        if self.map_shelf.sync(&mut self.map, loaded) {
            self.view.forget_points();
            self.view.result_replaced();
        }
        self.groups_shelf.sync(&mut self.groups, loaded);
        let shelved = self.map_shelf.models().chain(self.groups_shelf.models());
        if let Some(line) = shelf_line(shelved) {
            ui.weak(line);
        }
        let error = self.map.error();
        let groups_error = self.groups.error();
        // The page scrolls (the groups panel opened above the map pushes it down); the map
        // keeps the height of the page's view.
        self.view.page_height = ui.available_height();
        // The page never grows wider than the window: a row too wide for it wraps instead of
        // widening the page beyond the edge.
        let page_width = ui.available_width();
        let page = egui::ScrollArea::vertical()
            .id_salt("map_page")
            .auto_shrink([false, false]);
        let clicks = page
            .show(ui, |ui| {
                ui.set_max_width(page_width);
                map_view_ui(
                    ui,
                    &mut self.view,
                    JobView {
                        result: self.map.result(),
                        progress: self.map.progress(),
                        error: error.as_deref(),
                    },
                    workspace.data,
                    workspace.model,
                    JobView {
                        result: self.groups.result(),
                        progress: self.groups.progress(),
                        error: groups_error.as_deref(),
                    },
                    commands,
                )
            })
            .inner;
        self.apply(ui.ctx(), workspace, clicks);
    }
}
