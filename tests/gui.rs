//! The workbench GUI driven headlessly with egui_kittest (no display, no GPU): it opens on the
//! demo set with the bundled starter model, filters it, and loads a checkpoint typed into the
//! model panel.
#![cfg(feature = "gui")]

mod common;

use common::gui_harness::{
    app, app_sized, click, colour_by, demo_file, save_as, save_figure, save_table, score_homology,
    set_text, train_probe, wait_for_demo, wait_until, write_synthetic_astral,
};
use eframe::egui::accesskit::Toggled;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use esm_workbench::gui::{LaunchOptions, WorkbenchApp};

#[test]
fn opens_on_the_demo_set_and_filters_it() {
    let mut harness = app(LaunchOptions::default());
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
    // The shown rows, every column (the sequence too), as a table.
    let dir = tempfile::tempdir().expect("tempdir");
    let table = save_table(&mut harness, "Shown rows", &dir.path().join("dnak.csv"));
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert!(
        header.contains(&"sequence") && header.contains(&"gene"),
        "{header:?}"
    );
    let gene = header.iter().position(|c| *c == "gene").expect("gene");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 24);
    assert!(rows.iter().all(|r| r.split(',').nth(gene) == Some("dnak")));
}

#[test]
fn loads_a_checkpoint_typed_into_the_model_panel() {
    let mut harness = app(LaunchOptions::default());
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
    let mut harness = app(LaunchOptions {
        model: Some(junk.clone()),
        ..LaunchOptions::default()
    });
    // The error names the file, and the bundled starter model loads instead of leaving the app
    // without a model.
    let notice = format!(
        "{}); the bundled starter model is loaded instead.",
        junk.display()
    );
    wait_until(&mut harness, "the notice and the starter model", |h| {
        h.query_by_label_contains(&notice).is_some()
            && h.query_by_label("starter_esm1b_t4_128").is_some()
    });
}

#[test]
fn only_what_loaded_is_saved_and_a_session_that_fails_to_restore_falls_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = app(LaunchOptions::default());
    wait_for_demo(&mut harness);
    // A failed model load and a failed data open: errors shown, the demo set stays in use.
    let field = harness
        .get_by_label("Checkpoint (fair-esm .pt, Hugging Face folder, or workbench .safetensors):");
    field.focus();
    field.type_text("/nonexistent/model.pt");
    harness.get_by_label("Load").click();
    wait_until(&mut harness, "the model error", |h| {
        h.query_by_label_contains("/nonexistent/model.pt").is_some()
    });
    set_text(&mut harness, "Data files", "/nonexistent");
    harness.get_by_label("Open data").click();
    wait_until(&mut harness, "the data error", |h| {
        h.query_by_label_contains("the previous data set stays open")
            .is_some()
    });
    assert!(harness.query_by_label_contains("288 proteins").is_some());
    // Neither failure is saved as state.
    let session = dir.path().join("session.json");
    set_text(&mut harness, "Session", &session.display().to_string());
    click(&mut harness, "Save session");
    wait_for_session_write(&mut harness, &session);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&session).expect("saved")).expect("JSON");
    assert_eq!(saved["loaded_model"], serde_json::Value::Null, "{saved}");
    assert_eq!(saved["opened_data"], serde_json::json!([]), "{saved}");

    // A session whose model and data cannot be read: each failure is reported, and the bundled
    // model and demo set load instead.
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "not JSON").expect("write");
    let mut edited = saved.clone();
    edited["loaded_model"] = serde_json::json!("/nonexistent/model.pt");
    edited["opened_data"] = serde_json::json!([bad]);
    // One view's settings are unreadable: that view keeps its defaults and says so.
    edited["ss8"] = serde_json::json!("not SS8 settings");
    let broken_session = dir.path().join("broken_session.json");
    std::fs::write(&broken_session, edited.to_string()).expect("write");
    let mut restored = app(LaunchOptions::default());
    wait_for_demo(&mut restored);
    set_text(
        &mut restored,
        "Session",
        &broken_session.display().to_string(),
    );
    click(&mut restored, "Open session");
    wait_until(
        &mut restored,
        "three notices, the starter model and the demo set",
        |h| {
            h.query_by_label_contains("The model could not be loaded")
                .is_some()
                && h.query_by_label_contains(
                    "Secondary structure: the saved \"ss8\" settings are unreadable",
                )
                .is_some()
                && h.query_by_label_contains("The data files could not be read")
                    .is_some()
                && h.query_by_label_contains("starter_esm1b_t4_128").is_some()
                && h.query_by_label_contains("288 proteins").is_some()
        },
    );
    restored
        .query_all_by_label("Dismiss")
        .next()
        .expect("a Dismiss button")
        .click();
    restored.run();
    assert_eq!(
        restored.query_all_by_label("Dismiss").count(),
        2,
        "one notice dismissed"
    );
}

#[test]
fn opens_with_the_bundled_starter_model() {
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label("starter_esm1b_t4_128").is_some()
    });
    assert!(harness.query_by_label("ESM-1b").is_some());
    assert!(
        harness.query_by_label("510").is_some(),
        "max residues of the starter model"
    );
    // The first-run welcome says what the bundled model is, and goes once dismissed.
    assert!(
        harness
            .query_by_label_contains("it is not ESM-1b")
            .is_some()
    );
    click(&mut harness, "Got it");
    assert!(harness.query_by_label("Welcome to ESM Workbench").is_none());
}

#[test]
fn scores_amino_acid_groups_by_layer_beside_the_untrained_copy() {
    // Ten demo proteins (every layer of all 288 would take minutes in a debug build).
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = ten_protein_app(common::gui_harness::WINDOW, ten_demo_proteins(dir.path()));
    click(&mut harness, "Embedding map");
    click(&mut harness, "Amino-acid groups by layer");
    click(&mut harness, "Score amino-acid groups");
    wait_until(&mut harness, "the amino-acid groups study", |h| {
        h.query_by_label_contains("Best layer").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Untrained embedding table: nearest-neighbour group agreement")
            .is_some(),
        "the untrained baseline is on by default"
    );
    // The same table as `probe aa-groups --out`: two embedding tables, then every layer of
    // both models (the starter has 4 layers: 0-4).
    let csv = save_table(&mut harness, "Scores", &dir.path().join("groups.csv"));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "model,vectors,layer,best,nn_group_agreement,chance_agreement,within_minus_between_cosine,residues"
        )
    );
    assert_eq!(lines.count(), 2 + 2 * 5);
    // One metric per plot: agreement (against chance) and the cosine contrast (against 0).
    for (figure, file) in [
        ("Agreement by layer", "agreement.png"),
        ("Cosine contrast by layer", "cosine.png"),
    ] {
        save_figure(&mut harness, figure, &dir.path().join(file));
        assert_png(&dir.path().join(file));
    }
}

/// The text in the field labelled `label`.
fn field_value(harness: &Harness<'_, WorkbenchApp>, label: &str) -> String {
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, label)
        .accesskit_node()
        .value()
        .unwrap_or_default()
}

/// `path` is a PNG image at least 400 x 250 pixels large (a figure, not an empty file).
fn assert_png(path: &std::path::Path) {
    let bytes = std::fs::read(path).expect("the PNG was written");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{}",
        path.display()
    );
    let width = u32::from_be_bytes(bytes[16..20].try_into().expect("IHDR width"));
    let height = u32::from_be_bytes(bytes[20..24].try_into().expect("IHDR height"));
    assert!(
        width >= 400 && height >= 250,
        "{}: {width} x {height}",
        path.display()
    );
}

#[test]
fn computes_a_residue_map_and_colours_it_by_any_column() {
    let mut harness = app(LaunchOptions::default());
    wait_for_demo(&mut harness);
    harness.get_by_label("Embedding map").click();
    harness.run();
    harness.get_by_label("PCA").click();
    harness.run();
    harness.get_by_label("Compute map").click();
    wait_until(&mut harness, "the map", |h| {
        h.query_by_label_contains("PCA of 5000 points, layer 4")
            .is_some()
    });
    // The file fields are named after the map they would save.
    assert_eq!(
        field_value(&harness, "Map figure:"),
        "pca_residues_layer4_starter_esm1b_t4_128.svg"
    );
    assert_eq!(
        field_value(&harness, "Data file"),
        "pca_residues_layer4_starter_esm1b_t4_128.csv"
    );
    // Residue points are coloured by biochemical group first; the legend names each group.
    assert!(harness.query_by_label_contains("hydrophobic (").is_some());
    assert!(harness.query_by_label_contains("aromatic (").is_some());
    // Switch to a dataset column: the legend follows.
    colour_by(&mut harness, "gene");
    assert!(
        harness.query_by_label_contains("thrs (").is_some(),
        "genes in the legend"
    );
    assert!(harness.query_by_label_contains("hydrophobic (").is_none());
    // The colour-blind-safe palette has 7 colours: the 12 genes' smallest merge into "other".
    assert!(harness.query_by_label_contains("other (").is_none());
    click(&mut harness, "palette");
    click(&mut harness, "colour-blind safe (Okabe–Ito, 7)");
    assert!(
        harness.query_by_label_contains("other (").is_some(),
        "6 genes in their own colours, the rest in grey"
    );
    click(&mut harness, "palette");
    click(&mut harness, "20 colours (Tableau 20)");
    assert!(harness.query_by_label_contains("other (").is_none());
    // Find a point by its protein id: it is selected (outlined) and described.
    set_text(&mut harness, "Find", "zzzz-not-an-id");
    assert!(
        harness
            .query_by_label("no point of that id in the map")
            .is_some()
    );
    set_text(&mut harness, "Find", "TR|A0A");
    assert!(
        harness
            .query_by_label_contains("Selected: tr|A0A")
            .is_some(),
        "the first point of a matching protein is selected"
    );
    // Point -> row: the table opens at the selected protein's row, selected there too.
    click(&mut harness, "Show in data table");
    let selected_rows: Vec<String> = harness
        .query_all_by_label_contains("tr|A0A")
        .filter(|node| node.accesskit_node().toggled() == Some(Toggled::True))
        .map(|node| node.accesskit_node().label().unwrap_or_default())
        .collect();
    assert_eq!(
        selected_rows.len(),
        1,
        "one selected row: {selected_rows:?}"
    );
    assert!(
        harness
            .query_by_label(&format!("Selected: {}", selected_rows[0]))
            .is_some()
    );
    // Row -> point: picking another row outlines that protein's point in the map.
    let other = harness
        .query_all_by_role(eframe::egui::accesskit::Role::Button)
        .filter(|node| node.accesskit_node().toggled() == Some(Toggled::False))
        .filter_map(|node| node.accesskit_node().label())
        .find(|label| label.starts_with("tr|"))
        .expect("another row in view");
    click(&mut harness, &other);
    harness.get_by_label("Embedding map").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains(&format!("Selected: {other}"))
            .is_some(),
        "the map selects the point of the row picked in the table ({other})"
    );

    // Export the figure (drawn from the data) and the table; a second save asks first.
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("map.svg");
    save_figure(&mut harness, "Map", &svg);
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
    harness.get_by_label("Save map figure").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("exists: click again to overwrite")
            .is_some()
    );
    // The same figure as a PNG at the chosen resolution (720 x 540 px at 96 DPI by default).
    let png = dir.path().join("map.png");
    save_figure(&mut harness, "Map", &png);
    let bytes = std::fs::read(&png).expect("the PNG was written");
    assert_eq!(&bytes[1..4], b"PNG");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    assert_eq!(width, 2250, "720 px at 300 DPI");

    // Written off the UI thread, like every export.
    let csv = dir.path().join("map.csv");
    save_as(
        &mut harness,
        "Data file",
        "Save data (CSV/Parquet/NPY)",
        &csv,
    );
    let table = std::fs::read_to_string(&csv).expect("the table was written");
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("id,position,amino_acid,group,gene,species,")
            && header.ends_with(",pc1,pc2"),
        "every column of the point's protein, then the coordinates: {header}"
    );
    assert_eq!(table.lines().count(), 5001);
    // The points' embeddings as NPY: 5000 residues x 128 dimensions of the starter model.
    let npy = dir.path().join("points.npy");
    save_as(
        &mut harness,
        "Data file",
        "Save data (CSV/Parquet/NPY)",
        &npy,
    );
    let array = esm_workbench::export::read_npy(&npy).expect("the NPY was written");
    assert_eq!(array.shape, vec![5000, 128]);

    // A numeric column gets a continuous scale: ranges of length in the legend of a protein map.
    // 80 of the 288 proteins (a seeded sample): the debug build embeds them in a minute.
    harness.get_by_label("proteins").click();
    harness.run();
    harness
        .get_by_label_contains("max points")
        .set_value_accesskit(80.0);
    harness.run();
    harness.get_by_label("Compute map").click();
    wait_until(&mut harness, "the protein map", |h| {
        h.query_by_label_contains("PCA of 80 points, layer 4")
            .is_some()
    });
    colour_by(&mut harness, "length");
    assert!(
        harness.query_all_by_label_contains("–").count() >= 5,
        "length ranges in the legend"
    );
    // Another map renames the fields after it, keeping the folder and format typed last.
    assert_eq!(
        field_value(&harness, "Map figure:"),
        dir.path()
            .join("pca_proteins_layer4_starter_esm1b_t4_128.png")
            .display()
            .to_string()
    );
    assert_eq!(
        field_value(&harness, "Data file"),
        dir.path()
            .join("pca_proteins_layer4_starter_esm1b_t4_128.npy")
            .display()
            .to_string()
    );

    // One workflow: `project` with the same settings writes the very same table.
    let gui_csv = dir.path().join("protein_map.csv");
    save_as(
        &mut harness,
        "Data file",
        "Save data (CSV/Parquet/NPY)",
        &gui_csv,
    );
    let cli_csv = dir.path().join("protein_map_cli.csv");
    let starter = esm_workbench::model::starter::starter_model_path().expect("the starter model");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
        .arg("project")
        .arg("pca")
        .arg("--model")
        .arg(&starter)
        .args(["--fasta", &demo_file("uniprot_orthologs.fasta")])
        .args(["--metadata", &demo_file("uniprot_orthologs.tsv")])
        .args(["--level", "protein", "--max-points", "80", "--store"])
        .arg(common::gui_harness::test_store_folder())
        .arg("--out")
        .arg(&cli_csv)
        .output()
        .expect("runs esm-workbench project");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let gui_table = std::fs::read_to_string(&gui_csv).expect("the GUI's table");
    let cli_table = std::fs::read_to_string(&cli_csv).expect("the CLI's table");
    assert_eq!(gui_table.lines().count(), 81);
    assert_eq!(
        gui_table, cli_table,
        "the GUI's map export and `project` differ"
    );
}

#[test]
fn trains_the_ss8_probe_by_click_over_all_layers() {
    let stores = tempfile::tempdir().expect("tempdir");
    let mut harness = app(LaunchOptions {
        store: Some(stores.path().to_owned()),
        ..LaunchOptions::default()
    });
    wait_for_demo(&mut harness);
    train_probe(
        &mut harness,
        "Secondary structure",
        ["Training labels", "Test labels"],
        [
            &demo_file("structures_ss8.txt"),
            &demo_file("structures_ss8.txt"),
        ],
        &["compare with untrained"],
        "Train SS8 probe",
    );
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
    assert!(
        harness.query_by_label("untrained test Q8").is_some(),
        "the untrained baseline beside the trained model"
    );
    assert!(
        harness
            .query_by_label_contains("5 of 5 test proteins are also in the training set")
            .is_some(),
        "training on the test set is flagged"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let table = save_table(&mut harness, "Accuracy", &dir.path().join("ss8.csv"));
    assert!(table.starts_with(
        "model,layer,train_q8,test_q8,test_q3,train_residues,test_residues,best,class,precision,recall,support\n"
    ));
    assert_eq!(
        table.lines().count(),
        1 + (5 + 5) * 8,
        "layers 0-4, trained and untrained, 8 classes each"
    );
    // The study's features went to the chosen store folder: one store per model, as the
    // training and test tables are the same file here.
    assert_eq!(esm_workbench::store::list_stores(stores.path()).len(), 2);
    assert!(
        harness
            .query_by_label_contains("Features: 2 stores")
            .is_some()
    );
    // The shown protein's track as a figure: every residue's letters and confidence bar.
    let svg = dir.path().join("track.svg");
    save_figure(&mut harness, "Track", &svg);
    let text = std::fs::read_to_string(&svg).expect("the track was written");
    assert!(text.contains("SS8 probe, layer"), "titled with the layer");
    assert_eq!(
        text.matches("<rect x=").count(),
        76,
        "one confidence bar per residue of 1ubi_A, the first test protein"
    );
    // The other figures of the view, in both formats.
    save_figure(&mut harness, "Track", &dir.path().join("track.png"));
    assert_png(&dir.path().join("track.png"));
    let sweep = dir.path().join("ss8_sweep.svg");
    save_figure(&mut harness, "Layer sweep", &sweep);
    let text = std::fs::read_to_string(&sweep).expect("the sweep was written");
    assert!(
        text.contains("SS8 probe accuracy by layer, starter_esm1b_t4_128")
            && text.contains(">layer<"),
        "titled with the model; the x axis is named"
    );
    save_figure(
        &mut harness,
        "Layer sweep",
        &dir.path().join("ss8_sweep.png"),
    );
    assert_png(&dir.path().join("ss8_sweep.png"));
    save_figure(&mut harness, "Confusion", &dir.path().join("confusion.png"));
    assert_png(&dir.path().join("confusion.png"));
    // The wheel over the sweep plot scrolls the page (it does not pan the plot away); the plot
    // says how it zooms.
    assert!(
        harness
            .query_by_label_contains("Ctrl + wheel zooms, drag pans, double-click resets")
            .is_some()
    );
    let table_button = || "Save accuracy table";
    harness
        .get_by_label_contains("(layer sweep plot)")
        .scroll_to_me();
    harness.run();
    let before = harness.get_by_label(table_button()).rect();
    harness.get_by_label_contains("(layer sweep plot)").hover();
    harness.run();
    harness.event(eframe::egui::Event::MouseWheel {
        unit: eframe::egui::MouseWheelUnit::Point,
        delta: eframe::egui::vec2(0.0, -120.0),
        phase: eframe::egui::TouchPhase::Move,
        source: eframe::egui::MouseWheelSource::Wheel,
        modifiers: eframe::egui::Modifiers::default(),
    });
    harness.run();
    let after = harness.get_by_label(table_button()).rect();
    assert!(
        after.top() < before.top() - 30.0,
        "the page scrolled under the wheel: {before:?} -> {after:?}"
    );
    // The store list of the folder, and deleting every store from it (asked twice).
    click(&mut harness, "Stores in this folder");
    assert!(
        harness
            .query_by_label_contains("2 stores in this folder")
            .is_some()
    );
    click(&mut harness, "Delete all");
    assert_eq!(
        esm_workbench::store::list_stores(stores.path()).len(),
        2,
        "the first click only arms the button"
    );
    click(&mut harness, "Click again to delete");
    assert!(esm_workbench::store::list_stores(stores.path()).is_empty());
    assert!(
        harness
            .query_by_label_contains("deleted 2 stores")
            .is_some()
    );
}

/// A result belongs to the model that made it: loading another model sets the SS8 result
/// aside (it is never shown under the new model's name, and its probe cannot be saved for
/// it), and loading its own model again brings it back, probe saving included.
#[test]
fn a_result_is_set_aside_under_another_model_and_comes_back_with_its_own() {
    let stores = tempfile::tempdir().expect("tempdir");
    let mut harness = app(LaunchOptions {
        store: Some(stores.path().to_owned()),
        ..LaunchOptions::default()
    });
    wait_for_demo(&mut harness);
    let labels = demo_file("structures_ss8.txt");
    train_probe(
        &mut harness,
        "Secondary structure",
        ["Training labels", "Test labels"],
        [&labels, &labels],
        &[],
        "Train SS8 probe",
    );
    let made_with_starter = "Made with starter_esm1b_t4_128 (";
    assert!(harness.query_by_label_contains(made_with_starter).is_some());
    assert!(harness.query_by_label("Save best probe").is_some());

    let tiny = common::fixture("esm1b_tiny_t2.pt").display().to_string();
    let field = harness
        .get_by_label("Checkpoint (fair-esm .pt, Hugging Face folder, or workbench .safetensors):");
    field.focus();
    field.type_text(&tiny);
    harness.get_by_label("Load").click();
    wait_until(&mut harness, "the starter's result set aside", |h| {
        h.query_by_label_contains(
            "Set aside until its model is loaded again: the result made with starter_esm1b_t4_128",
        )
        .is_some()
    });
    assert!(
        harness.query_by_label_contains(made_with_starter).is_none(),
        "the starter's result is not shown under the tiny model"
    );
    assert!(
        harness.query_by_label("Save best probe").is_none(),
        "no probe of another model can be saved"
    );

    click(&mut harness, "Bundled starter model");
    wait_until(&mut harness, "the starter's result back", |h| {
        h.query_by_label_contains(made_with_starter).is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Set aside until its model is loaded again")
            .is_none()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = dir.path().join("probe.safetensors");
    set_text(&mut harness, "Probe file", &probe.display().to_string());
    click(&mut harness, "Save best probe");
    wait_until(&mut harness, "the probe written", |_| probe.exists());
    click(&mut harness, "Save best probe");
    wait_until(&mut harness, "the second save refused", |h| {
        h.query_by_label_contains("exists; not overwriting")
            .is_some()
    });
    let (_, metadata) = esm_workbench::probes::load_ss8_probe(&probe).expect("a probe file");
    assert_eq!(metadata.model_name, "starter_esm1b_t4_128");
    // A result table carries the same provenance beside it.
    save_table(&mut harness, "Accuracy", &dir.path().join("ss8.csv"));
    wait_until(&mut harness, "the table's provenance", |_| {
        dir.path().join("ss8.csv.provenance.json").exists()
    });
    let sidecar =
        std::fs::read_to_string(dir.path().join("ss8.csv.provenance.json")).expect("the sidecar");
    assert!(sidecar.contains(&metadata.model_fingerprint), "{sidecar}");
    // A new run replaces the result: the messages about the old one's files go.
    let wrote = format!("wrote {}", dir.path().join("ss8.csv").display());
    assert!(harness.query_by_label(&wrote).is_some());
    click(&mut harness, "Train SS8 probe");
    wait_until(
        &mut harness,
        "the new result, without the old messages",
        |h| {
            h.query_by_label(&wrote).is_none()
                && h.query_by_label_contains("saved the layer-").is_none()
                && h.query_by_label_contains(made_with_starter).is_some()
                && h.query_by_label_contains("Running:").is_none()
        },
    );
}

#[test]
fn trains_the_contact_probe_and_shows_a_protein_map() {
    let mut harness = app(LaunchOptions::default());
    wait_for_demo(&mut harness);
    // A saved all-heads regression for the starter's 4 layers x 8 heads, scored beside the probe.
    let dir = tempfile::tempdir().expect("tempdir");
    let regression = dir.path().join("my_regression.safetensors");
    let weights = (0..32)
        .map(|k| if k % 5 == 0 { 0.5 } else { 0.0 })
        .collect();
    esm_workbench::probes::AttentionRegression::new(4, 8, weights, -3.0)
        .expect("shape")
        .save(
            &esm_workbench::probes::ProbeMetadata {
                kind: String::new(),
                model_fingerprint: String::new(),
                model_name: "test".into(),
                layer: 0,
                classes: String::new(),
                test_metrics: None,
                contact_precision: None,
            },
            &regression,
        )
        .expect("saved");
    click(&mut harness, "Contacts");
    set_text(
        &mut harness,
        "Saved regression",
        &regression.display().to_string(),
    );
    train_probe(
        &mut harness,
        "Contacts",
        ["Training structures", "Test structures"],
        [&demo_file("structures.json"), &demo_file("structures.json")],
        &["compare with untrained"],
        "Train contact probe",
    );
    assert!(
        harness
            .query_by_label_contains(
                "5 of 5 test proteins are also in the training set: test scores are optimistic"
            )
            .is_some(),
        "the same set for training and testing is flagged"
    );
    assert!(
        harness
            .query_by_label_contains("untrained: long P@L/5")
            .is_some()
    );
    // The map says what its halves and markers are (no legend over the predicted half).
    assert!(
        harness
            .query_by_label_contains("Markers: the top-L predicted pairs (|i-j| >= 6)")
            .is_some()
    );
    assert!(
        harness.query_by_label("my_regression").is_some(),
        "the saved regression has its own precision column"
    );
    // The contact map figure, drawn from the data.
    let svg = dir.path().join("map.svg");
    save_figure(&mut harness, "Contact map", &svg);
    let text = std::fs::read_to_string(&svg).expect("written");
    assert!(text.contains("data:image/png;base64,") && text.contains("top-L correct ("));
    save_figure(&mut harness, "Contact map", &dir.path().join("map.png"));
    assert_png(&dir.path().join("map.png"));
    save_figure(&mut harness, "Layer sweep", &dir.path().join("sweep.png"));
    assert_png(&dir.path().join("sweep.png"));
    let table = save_table(&mut harness, "Precision", &dir.path().join("contacts.csv"));
    let header = table.lines().next().expect("a header");
    assert!(
        header.starts_with("model,predictor,layer,test_chains,best,short_p_at_l,")
            && header.ends_with("long_p_at_l5"),
        "{header}"
    );
    assert_eq!(
        table
            .lines()
            .filter(|l| l.starts_with("untrained,"))
            .count(),
        5
    );
    assert_eq!(
        table.lines().filter(|l| l.contains(",true,")).count(),
        1,
        "one best layer"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("regression,starter_esm1b_t4_128 + my_regression,,5,false,")),
        "{table}"
    );
    // Saving the best probe from the GUI.
    let probe = dir.path().join("contacts.safetensors");
    set_text(&mut harness, "Probe file", &probe.display().to_string());
    click(&mut harness, "Save best probe");
    assert!(probe.exists(), "the probe was written");
}

#[test]
fn scores_homology_and_lists_nearest_neighbours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let astral = dir.path().join("astral.fa");
    write_synthetic_astral(&astral);
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    score_homology(&mut harness, &astral, 24);
    assert!(
        harness.query_by_label("superfamily Hit-10").is_some(),
        "the score table"
    );
    assert!(
        harness
            .query_by_label_contains("Nearest neighbours at layer")
            .is_some()
    );
    assert!(
        ["same superfamily", "same fold", "same class"]
            .iter()
            .any(|r| harness.query_all_by_label(r).next().is_some()),
        "neighbours are labelled by their SCOPe relation"
    );
    let scores = save_table(&mut harness, "Scores", &dir.path().join("homology.csv"));
    assert!(
        scores.starts_with("model,layer,best,fold_hit10,fold_auc,fold_queries,superfamily_hit10,"),
        "{scores}"
    );
    assert_eq!(scores.lines().count(), 1 + 5);
    save_figure(&mut harness, "Layer sweep", &dir.path().join("sweep.png"));
    assert_png(&dir.path().join("sweep.png"));
    let neighbours = save_table(&mut harness, "Neighbours", &dir.path().join("nn.csv"));
    assert!(neighbours.starts_with("query,rank,domain,sccs,cosine,relation,description\n"));
    assert_eq!(
        neighbours.lines().count(),
        1 + 23,
        "every other domain of the 24"
    );
}

/// A set in which no domain has a remote homolog (one domain per fold) has nothing to score:
/// "–" with the reason, no plotted zeros.
#[test]
fn homology_on_a_set_without_remote_homologs_says_so_instead_of_scoring_zeros() {
    let dir = tempfile::tempdir().expect("tempdir");
    let astral = dir.path().join("singletons.fa");
    let text: String = (1..=12)
        .map(|fold| {
            let sequence: String = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"
                .chars()
                .cycle()
                .skip(fold)
                .take(50)
                .collect();
            format!(
                ">d{fold:03}xa_ b.{fold}.1.1 (A:) protein {fold} {{Homo sapiens}}\n{sequence}\n"
            )
        })
        .collect();
    std::fs::write(&astral, text).expect("write");
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    score_homology(&mut harness, &astral, 12);
    assert!(
        harness
            .query_by_label_contains("superfamily – (no such pairs in this set), fold –")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Nothing to plot: no domain of this set has a remote homolog")
            .is_some()
    );
    assert!(
        harness.query_by_label("0.000").is_none(),
        "no score is shown as a zero"
    );
    assert!(
        harness.query_all_by_label("–").count() >= 4 * 5,
        "four dashes per layer"
    );
}

#[test]
fn opens_several_data_files_sorts_and_searches_sequences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fasta = dir.path().join("mine.fasta");
    std::fs::write(&fasta, ">p1 first\nMKVLAAGIW\n>p2 second\nGGAHHK\n").expect("write");
    let meta = dir.path().join("meta.tsv");
    std::fs::write(&meta, "id\tgene\np1\tzeta\np2\talpha\n").expect("write");
    let structures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/structures.json");
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the demo set", |h| {
        h.query_by_label_contains("288 proteins").is_some()
    });
    let paths = format!(
        "{}; {}; {}",
        fasta.display(),
        meta.display(),
        structures.display()
    );
    set_text(&mut harness, "Data files", &paths);
    harness.get_by_label("Open data").click();
    wait_until(&mut harness, "the opened files", |h| {
        h.query_by_label_contains("7 proteins").is_some()
    });
    assert!(
        harness.query_by_label_contains("mine + 1 more").is_some(),
        "named after the first file"
    );
    assert_eq!(
        harness.query_all_by_label("structures.json").count(),
        5,
        "the source column of the five demo chains"
    );
    // Clicking a header sorts by it (the order itself is unit-tested in data_panel).
    harness.get_by_label("gene").click_accesskit();
    harness.run();
    assert!(
        harness.query_by_label("gene ^").is_some(),
        "ascending by gene"
    );
    harness.get_by_label("gene ^").click_accesskit();
    harness.run();
    assert!(
        harness.query_by_label("gene v").is_some(),
        "a second click reverses"
    );
    // Sequence search finds the motif in p1 only.
    set_text(&mut harness, "Sequence contains:", "aagiw");
    assert!(harness.query_by_label_contains("1 shown").is_some());
    set_text(&mut harness, "Sequence contains:", "");
    assert!(harness.query_by_label_contains("7 shown").is_some());
    // No dead end: the demo set is one click away, and the files opened are in Recent.
    click(&mut harness, "Demo set");
    wait_until(&mut harness, "the demo set again", |h| {
        h.query_by_label_contains("288 proteins").is_some()
    });
    assert!(
        harness
            .query_by_label("Every row from uniprot_orthologs.fasta")
            .is_some(),
        "one source file: named once above the table, not on every row"
    );
    click(&mut harness, "Recent data sets…");
    click(&mut harness, "mine.fasta + meta.tsv + structures.json");
    wait_until(&mut harness, "the recent files", |h| {
        h.query_by_label_contains("7 proteins").is_some()
    });
}

/// Job lines and messages live in the status bar at the bottom, one line high: starting a job
/// and saving the session move neither the tabs nor the controls under the pointer.
#[test]
fn the_status_bar_never_moves_the_tabs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = dir.path().join("session.json");
    let mut harness = app(LaunchOptions::default());
    wait_for_demo(&mut harness);
    harness.get_by_label("Embedding map").click();
    harness.run();
    let places = |h: &egui_kittest::Harness<'_, esm_workbench::gui::WorkbenchApp>| {
        ["Data", "Embedding map", "Compute map", "Save session"]
            .map(|label| h.get_by_label(label).rect())
    };
    let before = places(&harness);
    assert!(harness.query_by_label("No job running").is_some());
    harness.get_by_label("Compute map").click();
    harness.step();
    let running = harness
        .query_by_label_contains("Running: embedding map")
        .is_some();
    assert_eq!(places(&harness), before, "a running job moves nothing");
    wait_until(&mut harness, "the map", |h| {
        h.query_by_label_contains("of 5000 points").is_some()
    });
    set_text(&mut harness, "Session", &session.display().to_string());
    harness.get_by_label("Save session").click();
    wait_for_session_write(&mut harness, &session);
    assert!(
        harness
            .query_by_label_contains(&format!("wrote {}", session.display()))
            .is_some()
    );
    assert_eq!(places(&harness), before, "a message moves nothing");
    if !running {
        println!("note: the map finished within one frame; only the message was checked");
    }
}

#[test]
fn saves_and_restores_a_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = dir.path().join("session.json");
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    harness.get_by_label("Embedding map").click();
    harness.run();
    harness.get_by_label("PCA").click();
    harness.run();
    harness.get_by_label("Compute map").click();
    wait_until(&mut harness, "the map", |h| {
        h.query_by_label_contains("PCA of 5000 points").is_some()
    });
    set_text(&mut harness, "Session", &session.display().to_string());
    harness.get_by_label("Save session").click();
    harness.run();
    wait_for_session_write(&mut harness, &session);
    let saved = std::fs::read_to_string(&session).expect("session written");
    assert!(
        saved.contains("\"method\": \"Pca\"") && saved.contains("\"Map\""),
        "{saved}"
    );

    // A new window opens the session: same tab and settings, and offers to recompute the map.
    let mut restored = app(LaunchOptions::default());
    wait_until(&mut restored, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    set_text(&mut restored, "Session", &session.display().to_string());
    restored.get_by_label("Open session").click();
    wait_until(&mut restored, "the restored model and data", |h| {
        h.query_by_label_contains("opened session").is_some()
            && h.query_by_label("Recompute 1 saved result")
                .is_some_and(|b| !b.accesskit_node().is_disabled())
    });
    restored.get_by_label("Recompute 1 saved result").click();
    wait_until(&mut restored, "the recomputed map", |h| {
        h.query_by_label_contains("PCA of 5000 points").is_some()
    });
}

#[test]
fn bare_output_names_are_written_into_the_output_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = dir.path().join("not yet created/ESM Workbench");
    let mut harness = app(LaunchOptions {
        outputs: Some(outputs.clone()),
        ..LaunchOptions::default()
    });
    wait_for_demo(&mut harness);
    let value = harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Outputs")
        .value()
        .unwrap_or_default();
    assert_eq!(
        value,
        outputs.display().to_string(),
        "the top bar shows the folder"
    );
    // A bare table name lands in the output folder (created on the way), not the working
    // directory.
    set_text(&mut harness, "Shown rows table:", "proteins.csv");
    click(&mut harness, "Save shown rows table");
    let written = outputs.join("proteins.csv");
    let wrote = format!("wrote {}", written.display());
    wait_until(&mut harness, &wrote, |h| h.query_by_label(&wrote).is_some());
    assert!(
        std::fs::read_to_string(&written)
            .expect("written")
            .starts_with("id,")
    );
    assert!(!std::path::Path::new("proteins.csv").exists());
    // So does a session.
    set_text(&mut harness, "Session", "my_session.json");
    click(&mut harness, "Save session");
    wait_for_session_write(&mut harness, &outputs.join("my_session.json"));
    assert!(outputs.join("my_session.json").is_file());
}

/// The app in an 800 x 600 window on the demo set, its stores in `stores`.
fn app_800_by_600(stores: &std::path::Path) -> Harness<'static, WorkbenchApp> {
    let mut harness = app_sized(
        LaunchOptions {
            store: Some(stores.to_owned()),
            ..LaunchOptions::default()
        },
        [800.0, 600.0],
    );
    wait_for_demo(&mut harness);
    harness
}

#[test]
fn at_800_by_600_no_control_is_cut_off_on_the_right() {
    let stores = tempfile::tempdir().expect("tempdir");
    let mut harness = app_800_by_600(stores.path());
    let clipped = cut_off_on_the_right(&mut harness, "before any result");
    assert!(
        clipped.is_empty(),
        "cut off at 800 x 600:\n{}",
        clipped.join("\n")
    );
}

/// With a map, SS8, contact, heads and homology result, no control or text ends past the right edge
/// of an 800 x 600 window: the study views stack their two columns, rows wrap whole entries,
/// the map's legend goes under its title.
#[test]
fn at_800_by_600_no_result_is_cut_off_on_the_right() {
    let stores = tempfile::tempdir().expect("tempdir");
    let mut harness = app_800_by_600(stores.path());
    let mut clipped = Vec::new();
    // With results: the confusion matrix, the stores and their Delete buttons.
    click(&mut harness, "Embedding map");
    click(&mut harness, "PCA");
    click(&mut harness, "proteins");
    harness
        .get_by_label_contains("max points")
        .set_value_accesskit(40.0);
    harness.run();
    click(&mut harness, "Compute map");
    wait_until(&mut harness, "the protein map", |h| {
        h.query_by_label_contains("PCA of 40 points, layer 4")
            .is_some()
    });
    let labels = demo_file("structures_ss8.txt");
    train_probe(
        &mut harness,
        "Secondary structure",
        ["Training labels", "Test labels"],
        [&labels, &labels],
        &[],
        "Train SS8 probe",
    );
    train_probe(
        &mut harness,
        "Contacts",
        ["Training structures", "Test structures"],
        [&demo_file("structures.json"), &demo_file("structures.json")],
        &[],
        "Train contact probe",
    );
    click(&mut harness, "Heads");
    set_text(&mut harness, "Structures", &demo_file("structures.json"));
    wait_until(&mut harness, "Screen heads enabled", |h| {
        !h.get_by_label("Screen heads")
            .accesskit_node()
            .is_disabled()
    });
    click(&mut harness, "Screen heads");
    wait_until(&mut harness, "the heads screen and its map", |h| {
        h.query_by_label_contains("Markers: the top-L predicted pairs")
            .is_some()
    });
    let astral = stores.path().join("astral.fa");
    write_synthetic_astral(&astral);
    score_homology(&mut harness, &astral, 24);
    clipped.extend(cut_off_on_the_right(&mut harness, "with results"));
    assert!(
        clipped.is_empty(),
        "cut off at 800 x 600:\n{}",
        clipped.join("\n")
    );
}

/// Every control and text of every tab that ends beyond the right edge of an 800-point
/// window (`when` names the state), but those in a region that scrolls sideways (the data
/// table, the SS8 track's letters).
fn cut_off_on_the_right(harness: &mut Harness<'_, WorkbenchApp>, when: &str) -> Vec<String> {
    use eframe::egui::accesskit::Role;
    let sideways = |name: &str| {
        ["seq  ", "true  ", "pred  "]
            .iter()
            .any(|p| name.starts_with(p))
    };
    let mut clipped = Vec::new();
    for tab in [
        "Data",
        "Embedding map",
        "Secondary structure",
        "Contacts",
        "Heads",
        "Homology",
    ] {
        click(harness, tab);
        // The data table scrolls sideways: its columns may lie beyond the edge.
        let table: Vec<String> = harness
            .query_all_by_label_contains("tr|")
            .filter_map(|n| n.accesskit_node().label())
            .collect();
        for role in [
            Role::Button,
            Role::TextInput,
            Role::CheckBox,
            Role::ComboBox,
            Role::Label,
            Role::Canvas,
        ] {
            for node in harness.query_all_by_role(role) {
                let rect = node.rect();
                let name = node.accesskit_node().label().unwrap_or_default();
                let in_table =
                    tab == "Data" && (rect.min.y > table_top(harness) || table.contains(&name));
                if rect.max.x > 800.5 && !in_table && !sideways(&name) {
                    clipped.push(format!(
                        "{when}, {tab}: {role:?} {name:?} at {:?} ends at x = {}",
                        rect.min, rect.max.x
                    ));
                }
            }
        }
    }
    clipped
}

/// The top of the data table's header row (the "id" sort button).
fn table_top(harness: &Harness<'_, WorkbenchApp>) -> f32 {
    harness
        .query_all_by_label_contains("id")
        .filter(|n| n.accesskit_node().role() == eframe::egui::accesskit::Role::Button)
        .filter(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l == "id" || l.starts_with("id "))
        })
        .map(|n| n.rect().min.y - 1.0)
        .fold(f32::INFINITY, f32::min)
}

/// Waits for the session file's write, which runs off the UI thread.
fn wait_for_session_write(
    harness: &mut egui_kittest::Harness<'_, esm_workbench::gui::WorkbenchApp>,
    path: &std::path::Path,
) {
    let wrote = format!("wrote {}", path.display());
    wait_until(harness, &wrote, |h| h.query_by_label(&wrote).is_some());
}

/// The first ten demo proteins as a FASTA file in `dir` (quick to embed in a debug build).
fn ten_demo_proteins(dir: &std::path::Path) -> std::path::PathBuf {
    let fasta = dir.join("ten.fasta");
    let demo = std::fs::read_to_string(demo_file("uniprot_orthologs.fasta")).expect("demo set");
    let ten: String = demo
        .split_inclusive('>')
        .take(11)
        .collect::<String>()
        .trim_end_matches('>')
        .to_owned();
    std::fs::write(&fasta, ten).expect("write the FASTA");
    fasta
}

/// A PCA protein map of `fasta` in a window of `size`; the harness and the plot's rectangle.
/// The app on the ten proteins of `fasta` (see [`ten_demo_proteins`]) in a window of `size`,
/// once they and the starter model have loaded.
fn ten_protein_app(
    size: [f32; 2],
    fasta: std::path::PathBuf,
) -> egui_kittest::Harness<'static, esm_workbench::gui::WorkbenchApp> {
    let mut harness = app_sized(
        LaunchOptions {
            fasta: Some(fasta),
            ..LaunchOptions::default()
        },
        size,
    );
    wait_until(&mut harness, "ten proteins and the starter model", |h| {
        h.query_by_label_contains("10 proteins").is_some()
            && h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    harness
}

fn protein_map(
    size: [f32; 2],
    fasta: std::path::PathBuf,
) -> (
    egui_kittest::Harness<'static, esm_workbench::gui::WorkbenchApp>,
    eframe::egui::Rect,
) {
    let mut harness = ten_protein_app(size, fasta);
    click(&mut harness, "Embedding map");
    click(&mut harness, "PCA");
    click(&mut harness, "proteins");
    click(&mut harness, "Compute map");
    wait_until(&mut harness, "the map", |h| {
        h.query_by_label("Embedding map plot").is_some()
    });
    let rect = harness.get_by_label("Embedding map plot").rect();
    (harness, rect)
}

#[test]
fn the_map_plot_grows_with_the_window_and_zooms_with_the_wheel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fasta = ten_demo_proteins(dir.path());
    let (_, small) = protein_map([1280.0, 800.0], fasta.clone());
    let (mut harness, large) = protein_map([1600.0, 1000.0], fasta);
    assert!(
        large.width() > small.width() + 250.0 && large.height() > small.height() + 150.0,
        "the plot grows with the window: {small:?} at 1280x800, {large:?} at 1600x1000"
    );
    assert!(
        harness.query_by_label("Reset view").is_none(),
        "the whole map is shown at first"
    );
    // The wheel over the plot zooms at the pointer; "Reset view" brings the whole map back.
    harness.get_by_label("Embedding map plot").hover();
    harness.run();
    harness.event(eframe::egui::Event::MouseWheel {
        unit: eframe::egui::MouseWheelUnit::Point,
        delta: eframe::egui::vec2(0.0, 240.0),
        phase: eframe::egui::TouchPhase::Move,
        source: eframe::egui::MouseWheelSource::Wheel,
        modifiers: eframe::egui::Modifiers::default(),
    });
    harness.run();
    assert!(
        harness.query_by_label("Reset view").is_some(),
        "the wheel zoomed the map"
    );
    click(&mut harness, "Reset view");
    assert!(
        harness.query_by_label("Reset view").is_none(),
        "the whole map again"
    );
}

#[test]
fn opening_another_data_set_closes_the_map_of_the_previous_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut harness, _) = protein_map([1280.0, 800.0], ten_demo_proteins(dir.path()));
    set_text(&mut harness, "Find", "TR|A0A");
    assert!(
        harness
            .query_by_label_contains("Selected: tr|A0A")
            .is_some()
    );
    // Three proteins replace the ten: the map's points would index the old set.
    let three = dir.path().join("three.fasta");
    std::fs::write(
        &three,
        ">p1\nMKTAYIAKQR\n>p2\nMSTNPKPQRK\n>p3\nMAHHHHHHVG\n",
    )
    .expect("write");
    click(&mut harness, "Data");
    set_text(&mut harness, "Data files", &three.display().to_string());
    click(&mut harness, "Open data");
    wait_until(&mut harness, "the three proteins", |h| {
        h.query_by_label_contains("3 proteins").is_some()
    });
    click(&mut harness, "Embedding map");
    assert!(
        harness
            .query_by_label_contains("the map of the previous one was closed")
            .is_some(),
        "the view says why the map is gone"
    );
    assert!(harness.query_by_label("Embedding map plot").is_none());
    assert!(harness.query_by_label_contains("Selected:").is_none());
    // A new map is of the new set.
    click(&mut harness, "Compute map");
    wait_until(&mut harness, "the new map", |h| {
        h.query_by_label("Embedding map plot").is_some()
    });
    assert!(harness.query_by_label_contains("PCA of 3 points").is_some());
}

/// Every button, field, check box and drop-down of every tab (and of a computed map) shows a
/// tooltip when hovered: the user can always find out what a control does.
#[test]
fn every_control_says_what_it_does_on_hover() {
    use eframe::egui::accesskit::Role;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut harness, _) = protein_map([1600.0, 1400.0], ten_demo_proteins(dir.path()));
    harness
        .ctx
        .all_styles_mut(|style| style.interaction.tooltip_delay = 0.0);
    assert!(
        harness
            .query_by_label_contains("click a legend entry")
            .is_some()
    );
    let mut silent = Vec::new();
    for tab in [
        "Embedding map",
        "Data",
        "Secondary structure",
        "Contacts",
        "Heads",
        "Homology",
        "Variants",
    ] {
        click(&mut harness, tab);
        let plot = harness
            .query_by_label("Embedding map plot")
            .map(|node| node.rect());
        let controls: Vec<(String, eframe::egui::Rect)> = [
            Role::Button,
            Role::TextInput,
            Role::CheckBox,
            Role::ComboBox,
            Role::SpinButton,
        ]
        .into_iter()
        .flat_map(|role| {
            harness.query_all_by_role(role).map(move |node| {
                let name = node.accesskit_node().label().unwrap_or_default();
                (format!("{role:?} {name:?}"), node.rect())
            })
        })
        // The plot's legend entries are egui_plot's own check boxes, which take no tooltip; the
        // hint line under the map says what clicking them does.
        .filter(|(_, rect)| !plot.is_some_and(|plot| plot.contains_rect(*rect)))
        .collect();
        assert!(
            controls.len() > 5,
            "{tab}: only {} controls",
            controls.len()
        );
        for (name, rect) in controls {
            // Away first, so that each control's tooltip is its own.
            harness.hover_at(eframe::egui::pos2(1.0, 1399.0));
            harness.run_steps(2);
            harness.hover_at(rect.center());
            harness.run_steps(3);
            if harness.query_by_role(Role::Tooltip).is_none() {
                silent.push(format!("{tab}: {name}"));
            }
        }
    }
    assert!(
        silent.is_empty(),
        "controls without a tooltip:\n{}",
        silent.join("\n")
    );
}

#[test]
fn screens_the_heads_and_draws_a_clicked_head_over_the_true_contacts() {
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    click(&mut harness, "Heads");
    set_text(&mut harness, "Structures", &demo_file("structures.json"));
    set_text(
        &mut harness,
        "Regression training",
        &demo_file("structures.json"),
    );
    click(&mut harness, "compare with untrained");
    wait_until(&mut harness, "Screen heads enabled", |h| {
        !h.get_by_label("Screen heads")
            .accesskit_node()
            .is_disabled()
    });
    click(&mut harness, "Screen heads");
    wait_until(&mut harness, "the heads screen", |h| {
        h.query_by_label_contains("Best head: layer").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Made with starter_esm1b_t4_128")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Untrained copy's best: layer")
            .is_some()
    );
    // The best head is drawn first; a click on another cell draws that one.
    wait_until(&mut harness, "the best head's map", |h| {
        h.query_by_label_contains("Markers: the top-L predicted pairs")
            .is_some()
    });
    // The grid cell (the map's radio button bears the same name once it shows that head).
    harness
        .get_all_by_label("layer 2, head 3")
        .find(|n| n.accesskit_node().role() == eframe::egui::accesskit::Role::Button)
        .expect("the grid cell")
        .click();
    // The click starts the overlay's job (a spinner repaints until it ends): step, then wait.
    harness.run_steps(2);
    wait_until(&mut harness, "the clicked head's map", |h| {
        h.query_by_label_contains("On this protein: head long P@L")
            .is_some()
            && h.query_all_by_label("layer 2, head 3")
                .any(|n| n.accesskit_node().role() == eframe::egui::accesskit::Role::RadioButton)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    save_figure(&mut harness, "Heads grid", &dir.path().join("grid.svg"));
    let grid = std::fs::read_to_string(dir.path().join("grid.svg")).expect("written");
    assert!(
        grid.contains("picked: layer 2, head 3"),
        "the picked head is marked"
    );
    save_figure(&mut harness, "Head map", &dir.path().join("map.png"));
    assert_png(&dir.path().join("map.png"));
    let table = save_table(&mut harness, "Heads table", &dir.path().join("heads.csv"));
    let header = table.lines().next().expect("a header");
    assert!(
        header.starts_with("model,layer,head,rank,best,chains,"),
        "{header}"
    );
    // 4 layers x 8 heads of the starter, trained and untrained.
    assert_eq!(table.lines().count(), 1 + 2 * 32, "{table}");
    // The all-heads regression, fitted by click, saved as a contact head.
    assert!(
        harness
            .query_by_label_contains("All-heads regression: long P@L")
            .is_some()
    );
    let regression = dir.path().join("regression.safetensors");
    set_text(
        &mut harness,
        "Regression file",
        &regression.display().to_string(),
    );
    click(&mut harness, "Save regression");
    assert!(regression.is_file(), "the regression was written");
    // The refitted regression's own map, beside the head's and the checkpoint's.
    harness
        .get_all_by_label("the all-heads regression")
        .find(|n| n.accesskit_node().role() == eframe::egui::accesskit::Role::RadioButton)
        .expect("the regression's map is offered")
        .click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("; all-heads regression long P@L")
            .is_some()
    );
    // The saved regression becomes the loaded starter's contact head (which it lacks).
    set_text(
        &mut harness,
        "Contact head file (optional):",
        &regression.display().to_string(),
    );
    // The attach runs as the model's job (its spinner repaints): step, then wait.
    harness.get_by_label("Use as contact head").click();
    harness.run_steps(2);
    wait_until(
        &mut harness,
        "the starter with the regression as head",
        |h| {
            h.query_by_label("starter_esm1b_t4_128 + regression")
                .is_some()
        },
    );
    assert!(
        harness
            .query_by_label("yes (regression.safetensors)")
            .is_some(),
        "the model panel names the head's file"
    );
}

#[test]
fn scores_the_bundled_scan_clicks_a_position_and_exports_the_heatmap() {
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    click(&mut harness, "Variants");
    // The bundled TEM-1 scan is the default; masked-marginals (263 passes) is left for the CLI
    // test, wt-marginals and the untrained copy run here.
    click(&mut harness, "masked-marginals");
    // A saved SS8 probe of the starter draws the wild type's classes above the heatmap.
    let dir = tempfile::tempdir().expect("tempdir");
    let starter = esm_workbench::model::LoadedModel::load(
        &esm_workbench::model::starter::starter_model_path().expect("the bundled starter"),
        &candle_core::Device::Cpu,
    )
    .expect("the starter loads");
    let probe = dir.path().join("ss8.safetensors");
    common::write_fixed_ss8_probe(&starter, &probe).expect("probe written");
    set_text(
        &mut harness,
        "SS8 probe (optional)",
        &probe.display().to_string(),
    );
    wait_until(&mut harness, "Score variants enabled", |h| {
        !h.get_by_label("Score variants")
            .accesskit_node()
            .is_disabled()
    });
    click(&mut harness, "Score variants");
    wait_until(&mut harness, "the scan", |h| {
        h.query_by_label("Spearman ρ with the assay").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("BLAT_ECOLX: 263 residues, numbered from 24; 4996 variants")
            .is_some()
    );
    assert!(harness.query_by_label("untrained copy").is_some());
    assert!(
        harness
            .query_by_label_contains(
                "SS8 row: the wild type's classes predicted by ss8.safetensors (layer"
            )
            .is_some()
    );
    let plot = harness.get_by_label("Variant heatmap").rect();
    // A click in the plot picks the column under the pointer.
    harness.hover_at(plot.center());
    harness.run_steps(2);
    harness.get_by_label("Variant heatmap").click();
    harness.run();
    wait_until(&mut harness, "the picked position", |h| {
        h.query_by_label_contains("wt-marginals scores").is_some()
    });
    assert!(harness.query_by_label_contains("(wild type)").is_some());
    assert!(harness.query_by_label_contains("Predicted SS8: ").is_some());
    save_figure(&mut harness, "Heatmap", &dir.path().join("heatmap.svg"));
    let svg = std::fs::read_to_string(dir.path().join("heatmap.svg")).expect("written");
    assert!(svg.contains("wt-marginals: log p(mt) - log p(wt)") && svg.contains("wild type"));
    assert!(svg.contains("SS8 by ss8.safetensors") && svg.contains("E strand"));
    save_figure(&mut harness, "Heatmap", &dir.path().join("heatmap.png"));
    assert_png(&dir.path().join("heatmap.png"));
    let table = save_table(
        &mut harness,
        "Variant scores",
        &dir.path().join("variants.csv"),
    );
    assert_eq!(table.lines().count(), 1 + 4996);
    assert!(
        table.starts_with("mutant,substitutions,measured,wt-marginals,untrained_wt-marginals"),
        "{table:.200}"
    );
    let matrix = save_table(
        &mut harness,
        "Substitution matrix",
        &dir.path().join("m.csv"),
    );
    assert_eq!(matrix.lines().count(), 1 + 263 * 20);
    assert!(
        matrix.starts_with("position,wild_type,mutant,ss8,ss8_probability,wt-marginals"),
        "{matrix:.200}"
    );
}

/// The Variants view's ensemble: the starter with itself scores as the starter alone, under a
/// model named for both (the same run_variant_ensemble as `variants --ensemble`).
#[test]
fn the_variants_ensemble_averages_the_loaded_model_with_its_members() {
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    click(&mut harness, "Variants");
    click(&mut harness, "masked-marginals");
    click(&mut harness, "compare with untrained");
    click(&mut harness, "Ensemble: the loaded model alone");
    let starter = esm_workbench::model::starter::starter_model_path().expect("bundled");
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::MultilineTextInput, "Members")
        .set_text_value_accesskit(&starter.display().to_string());
    harness.run();
    wait_until(&mut harness, "the header counts the member", |h| {
        h.query_by_label("Ensemble: the loaded model and 1 more")
            .is_some()
    });
    wait_until(&mut harness, "Score variants enabled", |h| {
        !h.get_by_label("Score variants")
            .accesskit_node()
            .is_disabled()
    });
    click(&mut harness, "Score variants");
    wait_until(&mut harness, "the ensemble's scan", |h| {
        h.query_by_label("Spearman ρ with the assay").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("ensemble of 2: starter_esm1b_t4_128, starter_esm1b_t4_128")
            .is_some()
    );
    // The starter alone reaches 0.073 on the bundled scan; its average with itself the same.
    assert!(harness.query_by_label("0.073").is_some());
}

/// The Alignment view on one bundled Pfam family with the starter: the AUC table, the
/// histograms trained beside untrained, a family's coloured alignment with its hover, and the
/// exports of the histograms, the alignment figure and the AUC table.
#[test]
fn scores_a_bundled_family_and_draws_its_alignment() {
    let mut harness = app(LaunchOptions::default());
    wait_until(&mut harness, "the starter model", |h| {
        h.query_by_label_contains("starter_esm1b_t4_128").is_some()
    });
    click(&mut harness, "Alignment");
    let family =
        esm_workbench::bundled::bundled_path("datasets/alignments/RRM_1.sto").expect("bundled");
    harness
        .get_by_role_and_label(
            eframe::egui::accesskit::Role::MultilineTextInput,
            "Alignments",
        )
        .set_text_value_accesskit(&family.display().to_string());
    harness.run();
    wait_until(&mut harness, "Score alignment enabled", |h| {
        !h.get_by_label("Score alignment")
            .accesskit_node()
            .is_disabled()
    });
    click(&mut harness, "Score alignment");
    wait_until(&mut harness, "the study", |h| {
        h.query_by_label_contains("1 family. Best layer").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("ROC AUC of cosine similarity, layer")
            .is_some()
    );
    assert!(harness.query_by_label_contains("untrained: AUC").is_some());
    assert!(
        harness.query_by_label_contains("RRM_1 at layer").is_some(),
        "the family's alignment is drawn"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    save_figure(&mut harness, "Histograms", &dir.path().join("cos.svg"));
    let svg = std::fs::read_to_string(dir.path().join("cos.svg")).expect("written");
    assert!(svg.contains("trained: aligned pairs") && svg.contains("untrained: unaligned pairs"));
    save_figure(&mut harness, "Alignment", &dir.path().join("aln.png"));
    assert_png(&dir.path().join("aln.png"));
    let table = save_table(&mut harness, "AUC", &dir.path().join("auc.csv"));
    assert!(table.starts_with("model,layer,best,family"), "{table:.200}");
    assert!(table.contains(",RRM_1,79,"), "{table:.300}");
}
