//! A view whose job panics, added to the real app shell: the job ends with an error naming it,
//! the top bar stops listing it, and the rest of the app goes on working.
#![cfg(feature = "gui")]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::gui_harness::{app_with_extra_views, click, wait_for_demo, wait_until};
use eframe::egui;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use esm_workbench::gui::LaunchOptions;
use esm_workbench::gui::view_slot::{StudySlot, StudyView};
use esm_workbench::gui::{JobClick, Progress};
use esm_workbench::jobs::JobCtx;
use esm_workbench::model::LoadedModel;
use esm_workbench::provenance::Provenance;
use esm_workbench::store::StoreOptions;

/// Lets the fragile job go on to its panic (the test first sees it running).
static RELEASE: AtomicBool = AtomicBool::new(false);

/// A study whose worker reports a stage, waits for [`RELEASE`], then panics, as a bug in a
/// study's code would.
#[derive(Default)]
struct FragileStudy {
    settings: (),
    store: StoreOptions,
}

impl StudyView for FragileStudy {
    type Settings = ();
    type Output = Provenance;
    const ID: &'static str = "Fragile";
    const TITLE: &'static str = "Fragile";
    const ABOUT: &'static str = "A study whose job panics";
    const SETTINGS_KEY: &'static str = "fragile";
    const JOB_NAME: &'static str = "fragile study";

    fn new() -> Self {
        Self::default()
    }

    fn settings(&self) -> &() {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut () {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.store
    }

    fn compute(_model: &LoadedModel, _settings: &(), ctx: &JobCtx) -> anyhow::Result<Provenance> {
        ctx.set_stage("waiting to fail");
        let _ = ctx.checkpoint(0.5);
        while !RELEASE.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let residues: Vec<usize> = Vec::new();
        panic!("index {} out of range", residues.len() + 3);
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        _result: Option<&Provenance>,
        progress: Option<Progress>,
        error: Option<&str>,
        _model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        if let Some(error) = error {
            ui.label(error);
        }
        let start = ui.add_enabled(progress.is_none(), egui::Button::new("Run fragile study"));
        start.clicked().then_some(JobClick::Start)
    }
}

#[test]
fn a_job_that_panics_ends_with_an_error_naming_it_and_the_app_goes_on() {
    let extra: Vec<Box<dyn esm_workbench::gui::view_slot::ViewSlot>> =
        vec![Box::new(StudySlot::<FragileStudy>::default())];
    let mut harness = app_with_extra_views(LaunchOptions::default(), extra);
    wait_for_demo(&mut harness);
    click(&mut harness, "Fragile");
    click(&mut harness, "Run fragile study");
    wait_until(&mut harness, "the running-jobs line", |h| {
        h.query_by_label_contains("Running: fragile study")
            .is_some()
    });

    RELEASE.store(true, Ordering::SeqCst);
    wait_until(&mut harness, "the job's error", |h| {
        h.query_by_label_contains("the fragile study job stopped on an internal error")
            .is_some()
    });
    assert!(
        harness
            .query_by_label_contains("index 3 out of range")
            .is_some(),
        "the panic's message is kept"
    );
    assert!(
        harness.query_by_label_contains("Running:").is_none(),
        "the top bar no longer lists the job"
    );

    // The app goes on: the job can be started again, and the data table still filters.
    assert!(
        !harness
            .get_by_label("Run fragile study")
            .accesskit_node()
            .is_disabled()
    );
    click(&mut harness, "Data");
    let filter = harness.get_by_label("Filter:");
    filter.focus();
    filter.type_text("dnak");
    harness.run();
    assert!(harness.query_by_label_contains("24 shown").is_some());
}
