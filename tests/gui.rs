//! The workbench GUI driven headlessly with egui_kittest (no display, no GPU): it opens on the
//! demo set with the bundled starter model, filters it, and loads a checkpoint typed into the
//! model panel.
#![cfg(feature = "gui")]

mod common;

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use esm_workbench::cli::GuiArgs;
use esm_workbench::gui::WorkbenchApp;

/// Steps the app until `done` holds; background jobs finish on their own threads meanwhile.
/// The deadline is generous: a loaded CI machine may be slow, and nothing here is a timing test.
fn wait_until(
    harness: &mut Harness<'_, WorkbenchApp>,
    what: &str,
    done: impl Fn(&Harness<'_, WorkbenchApp>) -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while std::time::Instant::now() < deadline {
        harness.step();
        if done(harness) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

fn app(args: GuiArgs) -> Harness<'static, WorkbenchApp> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(move |cc| WorkbenchApp::new(cc, args))
}

#[test]
fn opens_on_the_demo_set_and_filters_it() {
    let mut harness = app(GuiArgs::default());
    wait_until(&mut harness, "the demo set", |h| {
        h.query_by_label_contains("288 proteins").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("288 matched, 0 without")
            .is_some()
    );
    let filter = harness.get_by_label("Filter:");
    filter.focus();
    filter.type_text("dnak");
    harness.run();
    assert!(harness.query_by_label_contains("24 shown").is_some());
    assert!(
        harness.query_by_label_contains("thrs").is_none(),
        "other genes are filtered out"
    );
}

#[test]
fn loads_a_checkpoint_typed_into_the_model_panel() {
    let mut harness = app(GuiArgs::default());
    wait_until(&mut harness, "the demo set", |h| {
        h.query_by_label_contains("288 proteins").is_some()
    });
    let path = common::fixture("esm1b_tiny_t2.pt").display().to_string();
    let field = harness
        .get_by_label("Checkpoint (fair-esm .pt, Hugging Face folder, or workbench .safetensors):");
    field.focus();
    field.type_text(&path);
    harness.get_by_label("Load").click();
    wait_until(&mut harness, "the model", |h| {
        h.query_by_label("esm1b_tiny_t2").is_some()
    });
    assert!(harness.query_by_label("ESM-1b").is_some());
    assert!(
        harness.query_by_label("62").is_some(),
        "max residues of the tiny ESM-1b"
    );
}

#[test]
fn a_bad_checkpoint_shows_a_readable_error_and_keeps_the_ui_alive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.pt");
    std::fs::write(&junk, b"not a model").expect("write");
    let mut harness = app(GuiArgs {
        model: Some(junk),
        ..GuiArgs::default()
    });
    wait_until(&mut harness, "the error", |h| {
        h.query_by_label_contains("junk.pt").is_some()
    });
    // A checkpoint given on the command line replaces the starter model: nothing else loads.
    assert!(harness.query_by_label("No model loaded.").is_some());
}

#[test]
fn opens_with_the_bundled_starter_model() {
    let mut harness = app(GuiArgs::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label("starter_esm1b_t4_128").is_some()
    });
    assert!(harness.query_by_label("ESM-1b").is_some());
    assert!(
        harness.query_by_label("510").is_some(),
        "max residues of the starter model"
    );
}

#[test]
fn computes_a_residue_map_and_colours_it_by_any_column() {
    let mut harness = app(GuiArgs::default());
    wait_until(&mut harness, "the demo set and the starter model", |h| {
        h.query_by_label_contains("288 proteins").is_some()
            && h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    harness.get_by_label("Embedding map").click();
    harness.run();
    harness.get_by_label("PCA").click();
    harness.run();
    harness.get_by_label("Compute map").click();
    wait_until(&mut harness, "the map", |h| {
        h.query_by_label_contains("PCA of 5000 points, layer 4")
            .is_some()
    });
    // Residue points are coloured by biochemical group first; the legend names each group.
    assert!(harness.query_by_label_contains("hydrophobic (").is_some());
    assert!(harness.query_by_label_contains("aromatic (").is_some());
    // Switch to a dataset column: the legend follows.
    harness.get_by_label("colour by").click();
    harness.run();
    harness.get_by_label("gene").click();
    harness.run();
    assert!(
        harness.query_by_label_contains("thrs (").is_some(),
        "genes in the legend"
    );
    assert!(harness.query_by_label_contains("hydrophobic (").is_none());
}
