//! Frame time of the embedding map with 100,000 points: one egui frame of the real map view
//! (layout, the coloured series borrowed from the view's cache, hover search over every point,
//! legend) plus tessellation into triangles, headless (no GPU upload). The points are spread
//! over the demo set's proteins, coloured by biochemical group.
//!
//! `cargo bench --bench map_frame` (release, the `gui` feature).

use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use esm_workbench::analysis::projection_run::MapPoints;
use esm_workbench::gui::JobView;
use esm_workbench::gui::data_panel::DatasetTable;
use esm_workbench::gui::map_view::{MapResult, MapSettings, MapView, map_view_ui};

fn bench_map_frame(c: &mut Criterion) {
    let Some((fasta, tsv)) = esm_workbench::data::ProteinSet::demo_paths() else {
        eprintln!("SKIPPED: map_frame bench: the demo set (datasets/demo) is missing");
        return;
    };
    let set = esm_workbench::data::open_data_files(&[fasta, tsv]).expect("demo set");
    let table = DatasetTable::new(&set);
    let n = 100_000;
    let mut seed = 1u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut protein = Vec::with_capacity(n);
    let mut position = Vec::with_capacity(n);
    let mut coordinates = Vec::with_capacity(n);
    for _ in 0..n {
        let p = (next() * set.records.len() as f64) as usize % set.records.len();
        protein.push(p);
        position.push((next() * set.records[p].sequence.len() as f64) as usize);
        // Twelve Gaussian-ish clusters, like a t-SNE map.
        let cluster = (next() * 12.0).floor();
        let (cx, cy) = ((cluster * 0.52).cos() * 40.0, (cluster * 0.52).sin() * 40.0);
        coordinates.push([cx + (next() - 0.5) * 18.0, cy + (next() - 0.5) * 18.0]);
    }
    let projected = esm_workbench::analysis::map_study::Projected {
        coordinates: ndarray::Array2::from_shape_fn((n, 2), |(k, c)| coordinates[k][c] as f32),
        columns: vec!["x".into(), "y".into()],
        axes: None,
        method: "t-SNE",
        summary: String::new(),
    };
    let result = std::sync::Arc::new(MapResult {
        coordinates,
        projected,
        points: MapPoints {
            features: ndarray::Array2::zeros((n, 1)),
            protein,
            position: Some(position),
        },
        settings: MapSettings::default(),
        summary: format!("benchmark map of {n} points"),
        title: format!("benchmark map of {n} points"),
        id: MapResult::next_id(),
        provenance: Default::default(),
        file_stem: "benchmark_map".into(),
    });
    let ctx = egui::Context::default();
    let mut view = MapView::new();
    let mut commands = esm_workbench::gui::AppCommands::default();
    let mut frame = |hover: egui::Pos2| {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 800.0),
            )),
            events: vec![egui::Event::PointerMoved(hover)],
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| {
            map_view_ui(
                ui,
                &mut view,
                JobView {
                    result: Some(&result),
                    ..Default::default()
                },
                Some((&set, &table)),
                None,
                Default::default(),
                &mut commands,
            );
        });
        // No renderer here: font atlas updates are dropped after tessellation.
        let triangles = ctx.tessellate(output.shapes, output.pixels_per_point).len();
        output.textures_delta.clear();
        triangles
    };
    // The first frame builds the per-category point lists (once per result and colouring).
    let first = std::time::Instant::now();
    frame(egui::pos2(640.0, 400.0));
    eprintln!(
        "first frame (builds the series): {:.1} ms",
        first.elapsed().as_secs_f64() * 1e3
    );
    let mut k = 0.0f32;
    c.bench_function("map_frame_100k_points", |b| {
        b.iter(|| {
            // Move the pointer each frame so the hover search runs.
            k = (k + 7.0) % 400.0;
            frame(egui::pos2(440.0 + k, 420.0))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_map_frame
}
criterion_main!(benches);
