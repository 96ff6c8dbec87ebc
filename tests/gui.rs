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

/// Replaces the text of the field labelled `label`.
fn set_text(harness: &mut Harness<'_, WorkbenchApp>, label: &str, text: &str) {
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, label)
        .set_text_value_accesskit(text);
    harness.run();
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

    // Export the figure (drawn from the data) and the table; a second save asks first.
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("map.svg");
    set_text(&mut harness, "Export to", &svg.display().to_string());
    harness.get_by_label("Save figure (SVG)").click();
    harness.run();
    let text = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(
        text.starts_with("<svg") && text.contains("thrs ("),
        "legend in the figure"
    );
    let legend_entries = text.matches("<g fill=").count();
    assert!(
        legend_entries >= 2,
        "several genes among the sampled proteins"
    );
    assert_eq!(
        text.matches("<circle").count(),
        5000 + legend_entries,
        "every point plus one legend marker per gene"
    );
    harness.get_by_label("Save figure (SVG)").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("exists: click again to overwrite")
            .is_some()
    );
    let csv = dir.path().join("map.csv");
    set_text(&mut harness, "Export to", &csv.display().to_string());
    harness.get_by_label("Save table (CSV/Parquet)").click();
    harness.run();
    let table = std::fs::read_to_string(&csv).expect("the table was written");
    assert!(
        table.starts_with("id,position,gene,x,y"),
        "{}",
        &table[..60]
    );
    assert_eq!(table.lines().count(), 5001);
}

#[test]
fn trains_the_ss8_probe_by_click_over_all_layers() {
    let mut harness = app(GuiArgs::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    harness.get_by_label("Secondary structure").click();
    harness.run();
    let labels = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/demo/structures_ss8.txt")
        .display()
        .to_string();
    for field in ["Training labels", "Test labels"] {
        set_text(&mut harness, field, &labels);
    }
    harness.get_by_label("Train SS8 probe").click();
    wait_until(&mut harness, "the probe", |h| {
        h.query_by_label_contains("Best layer").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Confusion matrix, layer")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("scored residues correct")
            .is_some()
    );
    assert!(
        harness.query_by_label("train Q8").is_some(),
        "the sweep plot's legend"
    );
}
