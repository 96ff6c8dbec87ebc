//! Snapshot images of every view of the workbench, rendered by egui's wgpu renderer headlessly
//! (Mesa's software Vulkan, lavapipe, from Debian's `mesa-vulkan-drivers`; no display, no GPU)
//! and compared pixel by pixel with the PNGs in `tests/snapshots/`.
//!
//! A view that changes on purpose is re-recorded with `UPDATE_SNAPSHOTS=1 cargo test --test
//! gui_snapshots`; look at the new PNGs before committing them (and shrink them losslessly,
//! e.g. `optipng -o2`). Without any wgpu adapter (no Mesa), the tests are skipped with a
//! message; `.ci/run` installs Mesa so CI compares.
#![cfg(feature = "gui")]

mod common;

use common::gui_harness::{
    SETTLE_STEPS, WINDOW, click, score_homology, train_probe, wait_for_demo, wait_until,
    write_synthetic_astral,
};
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::{Harness, SnapshotOptions};
use esm_workbench::gui::LaunchOptions;
use esm_workbench::gui::{ESTIMATING, WorkbenchApp};

/// The wgpu test renderer, or `None` (with the reason printed) on a machine without any wgpu
/// adapter: kittest panics when it finds none, and that is the machine, not a failed view.
fn wgpu_renderer() -> Option<egui_kittest::wgpu::WgpuTestRenderer> {
    let renderer = std::panic::catch_unwind(egui_kittest::wgpu::WgpuTestRenderer::new);
    if renderer.is_err() {
        common::say_skipped(
            "no wgpu adapter here; install Debian's mesa-vulkan-drivers (lavapipe) to render \
             and compare the snapshots",
        );
    }
    renderer.ok()
}

/// The forward-pass rates file of this process is a folder: nothing measured is kept or read
/// (never the user's cache either), so every estimate in an image uses the fixed rates and
/// does not depend on what ran before or beside. Called first by every test here: the
/// variable is set once, before any of them reads it.
fn isolate_measured_rates() -> std::path::PathBuf {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui_snapshots-rates.json");
    ONCE.call_once(|| {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::create_dir_all(&path);
        // SAFETY: set once, by the first test to start, before any test of this process
        // builds an app or reads the environment (the others wait on the `Once`).
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("ESM_WORKBENCH_RATES", &path);
        }
    });
    path
}

/// The workbench rendering its frames to images with `renderer`.
fn rendering_app(
    renderer: egui_kittest::wgpu::WgpuTestRenderer,
    build: impl FnOnce(&mut eframe::CreationContext<'_>) -> WorkbenchApp + 'static,
) -> Harness<'static, WorkbenchApp> {
    Harness::builder()
        .with_size(WINDOW)
        .with_max_steps(SETTLE_STEPS)
        .renderer(renderer)
        .build_eframe(build)
}

/// Compares the current frame with `tests/snapshots/<name>.png`: the default per-pixel colour
/// tolerance (0.6, meant to absorb backend differences) and no failing pixels, since on the
/// same Mesa the images are identical. Failures are reported when the harness is dropped.
fn check_snapshot(harness: &mut Harness<'_, WorkbenchApp>, name: &str) {
    // The estimate line is computed off the UI thread; the image shows its result.
    wait_until(harness, "the estimate line", |h| {
        h.query_by_label_contains(ESTIMATING).is_none()
    });
    harness.run();
    harness.snapshot_options(name, &SnapshotOptions::new());
}

#[test]
fn snapshots_of_the_data_map_and_probe_views() {
    isolate_measured_rates();
    let Some(renderer) = wgpu_renderer() else {
        return;
    };
    // A fixed, fresh store folder: its path and the estimate's disk figure are in the image.
    let stores = std::path::PathBuf::from("/tmp/esm-workbench-snapshot-stores");
    let _ = std::fs::remove_dir_all(&stores);
    let mut harness = rendering_app(renderer, move |cc| {
        WorkbenchApp::new(
            cc,
            LaunchOptions {
                store: Some(stores),
                // A fixed output folder: it is shown in the top bar.
                outputs: Some("/tmp/esm-workbench-snapshot-outputs".into()),
                ..LaunchOptions::default()
            },
        )
    });
    wait_for_demo(&mut harness);
    harness.run();
    check_snapshot(&mut harness, "data_tab_demo_set");

    // A protein-level PCA map of 80 of the 288 proteins (a seeded sample, so the debug build
    // embeds them in about a minute), coloured by gene.
    for button in ["Embedding map", "PCA", "proteins"] {
        click(&mut harness, button);
    }
    harness
        .get_by_label_contains("max points")
        .set_value_accesskit(80.0);
    harness.run();
    click(&mut harness, "Compute map");
    wait_until(&mut harness, "the protein map", |h| {
        h.query_by_label_contains("PCA of 80 points, layer 4")
            .is_some()
    });
    // Coloured by gene without asking: the first metadata column with 2-24 values, not the id.
    assert!(
        harness.query_by_label_contains("thrs (").is_some()
            && harness.query_by_label_contains("dnak (").is_some(),
        "a protein map starts coloured by gene"
    );
    check_snapshot(&mut harness, "map_tab_protein_pca_by_gene");

    // The probes on the bundled kit's disjoint splits, by relative paths (tests run in the crate
    // root) so that the images do not depend on the checkout, and small enough for the debug
    // build. SS8: 20 PISCES chains for training, TS50 (labelled by DSSP) for testing; sweep
    // plot, confusion matrix, track.
    click(&mut harness, "Secondary structure");
    harness
        .get_by_label_contains("training proteins ≤")
        .set_value_accesskit(20.0);
    harness.run();
    train_probe(
        &mut harness,
        "Secondary structure",
        ["Training labels", "Test labels"],
        ["datasets/kit/ss8_train.tsv", "datasets/kit/ts50.json"],
        &[],
        "Train SS8 probe",
    );
    check_snapshot(&mut harness, "ss8_tab_kit_probe");
    // Contacts: trained on PDB domains (about 2,000 residues of whole chains), tested on TS50;
    // precision by range and the predicted-over-true map of one protein.
    click(&mut harness, "Contacts");
    harness
        .get_by_label_contains("training residues per layer ≤")
        .set_value_accesskit(2000.0);
    harness.run();
    train_probe(
        &mut harness,
        "Contacts",
        ["Training structures", "Test structures"],
        ["datasets/kit/pdb_domains.json", "datasets/kit/ts50.json"],
        &[],
        "Train contact probe",
    );
    check_snapshot(&mut harness, "contacts_tab_kit_probe");

    // Heads: the starter's 4 x 8 heads screened on TS50, the best head drawn over 1eteA.
    click(&mut harness, "Heads");
    common::gui_harness::set_text(&mut harness, "Structures", "datasets/kit/ts50.json");
    wait_until(&mut harness, "Screen heads enabled", |h| {
        h.query_by_label("Screen heads")
            .is_some_and(|n| !n.accesskit_node().is_disabled())
    });
    click(&mut harness, "Screen heads");
    wait_until(&mut harness, "the heads screen and its map", |h| {
        h.query_by_label_contains("Markers: the top-L predicted pairs")
            .is_some()
    });
    check_snapshot(&mut harness, "heads_tab_ts50");

    // Homology on a synthetic ASTRAL-format set (SCOPe's files are not redistributable), at a
    // fixed path since it is shown: the layer sweep, the score table and the neighbours.
    let astral = std::path::Path::new("/tmp/esm-workbench-snapshot-astral.fa");
    write_synthetic_astral(astral);
    score_homology(&mut harness, astral, 24);
    check_snapshot(&mut harness, "homology_tab_synthetic_astral");

    // Variants: the bundled TEM-1 scan by wt-marginals beside the untrained copy.
    click(&mut harness, "Variants");
    // Relative paths: the default fields hold the checkout's absolute path, which differs.
    common::gui_harness::set_text(
        &mut harness,
        "Wild-type FASTA",
        "datasets/dms/BLAT_ECOLX.fasta",
    );
    common::gui_harness::set_text(
        &mut harness,
        "Deep mutational scan",
        "datasets/dms/BLAT_ECOLX_Ranganathan2015.csv",
    );
    click(&mut harness, "masked-marginals");
    // A fixed SS8 probe of the starter (at a fixed path, since it is shown) draws the track.
    let probe = std::path::Path::new("/tmp/esm-workbench-snapshot-ss8.safetensors");
    let starter = esm_workbench::model::LoadedModel::load(
        &esm_workbench::model::starter::starter_model_path().expect("the bundled starter"),
        &candle_core::Device::Cpu,
    )
    .expect("the starter loads");
    common::write_fixed_ss8_probe(&starter, probe).expect("probe written");
    common::gui_harness::set_text(
        &mut harness,
        "SS8 probe (optional)",
        &probe.display().to_string(),
    );
    wait_until(&mut harness, "Score variants enabled", |h| {
        h.query_by_label("Score variants")
            .is_some_and(|n| !n.accesskit_node().is_disabled())
    });
    click(&mut harness, "Score variants");
    wait_until(&mut harness, "the variant scan", |h| {
        h.query_by_label("Spearman ρ with the assay").is_some()
    });
    check_snapshot(&mut harness, "variants_tab_blat");

    // Alignment: one bundled Pfam family (relative path: it is shown), trained beside untrained.
    click(&mut harness, "Alignment");
    harness
        .get_by_role_and_label(
            eframe::egui::accesskit::Role::MultilineTextInput,
            "Alignments",
        )
        .set_text_value_accesskit("datasets/alignments/RRM_1.sto");
    harness.run();
    wait_until(&mut harness, "Score alignment enabled", |h| {
        h.query_by_label("Score alignment")
            .is_some_and(|n| !n.accesskit_node().is_disabled())
    });
    click(&mut harness, "Score alignment");
    wait_until(&mut harness, "the alignment study", |h| {
        h.query_by_label_contains("RRM_1 at layer").is_some()
    });
    check_snapshot(&mut harness, "alignment_tab_rrm");
}

#[test]
fn the_demo_tour_saves_a_screenshot_of_every_view_and_closes() {
    isolate_measured_rates();
    let dir = tempfile::tempdir().expect("tempdir");
    let outcome = esm_workbench::gui::TourOutcome::default();
    let app_outcome = outcome.clone();
    let out_dir = dir.path().join("tour");
    let Some(renderer) = wgpu_renderer() else {
        return;
    };
    let mut harness = rendering_app(renderer, move |cc| {
        WorkbenchApp::with_tour(
            cc,
            LaunchOptions::default(),
            out_dir,
            app_outcome,
            std::time::Instant::now(),
        )
    });
    let finished = || outcome.lock().expect("tour state").is_some();
    wait_until(&mut harness, "the end of the tour", |_| finished());
    let shots = outcome
        .lock()
        .expect("tour state")
        .take()
        .expect("finished")
        .expect("every stop of the tour succeeded");
    let names: Vec<String> = shots
        .iter()
        .map(|p| {
            p.file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "01_data.png",
            "02_embedding_map.png",
            "03_secondary_structure.png",
            "04_contacts.png",
            "05_heads.png",
            "06_homology.png",
            "07_variants.png",
            "08_alignment.png"
        ]
    );
    for shot in &shots {
        let bytes = std::fs::read(shot).expect("the screenshot was written");
        assert_eq!(&bytes[1..4], b"PNG");
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        assert_eq!((width, height), (1280, 800), "{}", shot.display());
    }
}
