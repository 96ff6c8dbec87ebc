//! Alignment view: whether the model's representations encode alignment within protein families
//! (Rives et al. 2021; the alignment study, the same one `probe alignment` runs). Score the
//! bundled Pfam seed families (or any Stockholm, aligned FASTA, A2M or A3M file): the cosine
//! similarity of aligned and unaligned residue pairs as overlaid histograms, trained beside
//! untrained; the ROC AUC per family and the layer sweep of its mean; a clicked family drawn
//! as its alignment with each residue coloured by its distance from its column's mean.

use std::sync::Arc;

use eframe::egui;
use egui_plot::{Line, Plot, PlotPoints};

use super::figure_export::{FigureExport, figure_export_ui};
use super::file_dialog::{DialogKind, browse_append_button, paths_of_lines};
use super::job::{JobClick, Progress};
use super::layer_sweep::{SweepPlot, layer_sweep_ui};
use super::study_panel::{
    StudyControls, StudyJob, estimate_text, input_field_width, layers_ui, store_folder_row,
    stores_line_ui,
};
use super::table_export::{TableExport, table_export_ui};
use super::view_slot::StudyView;
use crate::analysis::JobCtx;
use crate::analysis::alignment_study::{
    AlignmentRun, AlignmentStudy, AlignmentStudyRequest, BEST_ALIGNMENT_LAYER,
    DEFAULT_MAX_SEQUENCES, DEFAULT_PAIRS_PER_FAMILY, FamilyScore, HISTOGRAM_BINS,
    estimate_alignment_study, run_alignment_study,
};
use crate::analysis::alignment_study_table::{
    alignment_distance_table, alignment_family_table, alignment_histogram_table,
};
use crate::bundled::bundled_path_text;
use crate::export::{Baseline, HeatmapFigure, LineFigure, LineSeries};
use crate::model::{Layers, LoadedModel};
use crate::store::StoreOptions;

/// The bundled families scored by default (datasets/alignments).
const DEFAULT_FAMILIES: [&str; 3] = [
    "datasets/alignments/RRM_1.sto",
    "datasets/alignments/fn3.sto",
    "datasets/alignments/Pkinase.sto",
];

/// Colours: aligned pairs blue, unaligned orange (Okabe & Ito).
const ALIGNED_RGB: [u8; 3] = [0, 114, 178];
const UNALIGNED_RGB: [u8; 3] = [230, 159, 0];

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AlignmentSettings {
    /// Alignment files, one path a line.
    pub alignments: String,
    /// Most sequences per family.
    pub max_sequences: usize,
    /// Aligned pairs per family.
    pub pairs: usize,
    /// Layers scored.
    pub layers: Layers,
    /// Also score the untrained copy.
    pub compare_untrained: bool,
    /// Feature stores.
    pub store: StoreOptions,
}

impl Default for AlignmentSettings {
    fn default() -> Self {
        Self {
            alignments: DEFAULT_FAMILIES
                .iter()
                .map(|p| bundled_path_text(p))
                .collect::<Vec<_>>()
                .join("\n"),
            max_sequences: DEFAULT_MAX_SEQUENCES,
            pairs: DEFAULT_PAIRS_PER_FAMILY,
            layers: Layers::All,
            compare_untrained: true,
            store: StoreOptions::default(),
        }
    }
}

/// The study `settings` describe (reads the files).
pub fn alignment_request(settings: &AlignmentSettings) -> anyhow::Result<AlignmentStudyRequest> {
    let paths = paths_of_lines(&settings.alignments);
    anyhow::ensure!(!paths.is_empty(), "name at least one alignment file");
    Ok(AlignmentStudyRequest {
        layers: settings.layers.clone(),
        compare_untrained: settings.compare_untrained,
        pairs_per_family: settings.pairs,
        store: settings.store.clone(),
        ..AlignmentStudyRequest::from_files(&paths, settings.max_sequences)?
    })
}

/// The estimate line beside the start button.
pub fn alignment_estimate_text(
    model: &LoadedModel,
    settings: &AlignmentSettings,
) -> Result<String, String> {
    estimate_text(alignment_request(settings).map(|r| estimate_alignment_study(model, &r)))
}

/// View state kept between frames.
#[derive(Default)]
pub struct AlignmentView {
    /// Settings of the next run.
    pub settings: AlignmentSettings,
    controls: StudyControls,
    /// The layer shown (`None`: the best).
    pub layer: Option<usize>,
    /// The family shown (index into the result's families).
    pub family: usize,
    /// Exports.
    pub histogram_export: FigureExport,
    pub sweep_export: FigureExport,
    pub alignment_export: FigureExport,
    pub families_export: TableExport,
    pub histograms_export: TableExport,
    pub distances_export: TableExport,
}

impl StudyView for AlignmentView {
    type Settings = AlignmentSettings;
    type Output = Arc<AlignmentStudy>;
    const ID: &'static str = "Alignment";
    const TITLE: &'static str = "Alignment";
    const ABOUT: &'static str = "Whether aligned residues of a protein family have similar representations (cosine, ROC AUC), trained beside untrained";
    const SETTINGS_KEY: &'static str = "alignment";
    const JOB_NAME: &'static str = "alignment study";

    fn new() -> Self {
        Self {
            histogram_export: FigureExport::new("alignment_cosines.svg"),
            sweep_export: FigureExport::new("alignment_by_layer.svg"),
            alignment_export: FigureExport::with_height_from_content("alignment_distances.svg"),
            families_export: TableExport::new("alignment_auc.csv"),
            histograms_export: TableExport::new("alignment_histograms.csv"),
            distances_export: TableExport::new("alignment_distances.csv"),
            ..Self::default()
        }
    }

    fn result_replaced(&mut self) {
        for export in [
            &mut self.histogram_export,
            &mut self.sweep_export,
            &mut self.alignment_export,
        ] {
            export.result_replaced();
        }
        for export in [
            &mut self.families_export,
            &mut self.histograms_export,
            &mut self.distances_export,
        ] {
            export.result_replaced();
        }
        self.layer = None;
    }

    fn settings(&self) -> &AlignmentSettings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut AlignmentSettings {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.settings.store
    }

    fn compute(
        model: &LoadedModel,
        settings: &AlignmentSettings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Arc<AlignmentStudy>> {
        Ok(Arc::new(run_alignment_study(
            model,
            &alignment_request(settings)?,
            ctx,
        )?))
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Arc<AlignmentStudy>>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        alignment_view_ui(ui, self, result, (progress, error), model)
    }

    /// The tour scores one family's 40 sequences.
    fn size_for_tour(&mut self) {
        self.settings.alignments = bundled_path_text(DEFAULT_FAMILIES[0]);
        self.settings.max_sequences = 40;
    }
}

/// Files, sequences, pairs, layers.
fn inputs_ui(ui: &mut egui::Ui, settings: &mut AlignmentSettings, num_layers: Option<usize>) {
    let width = input_field_width(ui);
    // The multi-line field sits outside the grid: a grid row keeps one line's height.
    ui.horizontal(|ui| {
        let label = ui.label("Alignments");
        ui.add(
            egui::TextEdit::multiline(&mut settings.alignments)
                .desired_rows(3)
                .desired_width(width),
        )
        .labelled_by(label.id)
        .on_hover_text("Stockholm (several families a file, e.g. Pfam seeds), aligned FASTA, A2M or A3M; one path a line");
        browse_append_button(ui, &mut settings.alignments, DialogKind::OpenData);
    });
    egui::Grid::new("alignment_inputs")
        .num_columns(2)
        .show(ui, |ui| store_folder_row(ui, &mut settings.store, width));
    ui.horizontal_wrapped(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.max_sequences)
                .range(2..=100_000)
                .prefix("sequences ≤ "),
        )
        .on_hover_text("At most this many sequences per family, spread evenly over its alignment");
        ui.add(
            egui::DragValue::new(&mut settings.pairs)
                .range(10..=10_000_000)
                .prefix("pairs ")
                .suffix(" per family"),
        )
        .on_hover_text("Aligned residue pairs sampled per family (seeded), and as many unaligned");
        layers_ui(ui, &mut settings.layers, num_layers);
        super::study_panel::untrained_checkbox(ui, &mut settings.compare_untrained);
    });
}

/// The alignment view.
pub fn alignment_view_ui(
    ui: &mut egui::Ui,
    view: &mut AlignmentView,
    result: Option<&Arc<AlignmentStudy>>,
    (progress, error): (Option<Progress>, Option<&str>),
    model: Option<&LoadedModel>,
) -> Option<JobClick> {
    inputs_ui(
        ui,
        &mut view.settings,
        model.map(|m| m.model.config().num_layers),
    );
    let settings = view.settings.clone();
    let command = view.controls.ui(
        ui,
        "Score alignment",
        StudyJob {
            model,
            progress,
            error,
        },
        &settings,
        &settings.store.root,
        alignment_estimate_text,
    );
    let Some(result) = result else {
        ui.label("Score the bundled Pfam families to see whether residues the alignment puts in one column have similar representations.");
        return command;
    };
    let Some(best) = result.sweep.best_run() else {
        return command;
    };
    ui.separator();
    super::study_panel::provenance_line_ui(ui, &result.sweep.provenance);
    stores_line_ui(
        ui,
        &result.sweep.cost.stores,
        result.sweep.cost.residues_embedded,
    );
    let untrained_best = result
        .sweep
        .untrained
        .iter()
        .find(|r| r.layer == best.layer);
    ui.label(format!(
        "{}. Best layer {} ({BEST_ALIGNMENT_LAYER}): mean AUC {:.3}{}.",
        match result.families.len() {
            1 => "1 family".to_owned(),
            n => format!("{n} families"),
        },
        best.layer,
        best.mean_auc,
        untrained_best.map_or(String::new(), |u| format!(", untrained {:.3}", u.mean_auc)),
    ));
    let layer = layer_picker_ui(ui, view, result, best.layer);
    let (Some(run), untrained) = (
        result.sweep.runs.iter().find(|r| r.layer == layer),
        result.sweep.untrained.iter().find(|r| r.layer == layer),
    ) else {
        return command;
    };
    view.family = view.family.min(run.families.len().saturating_sub(1));
    super::two_columns::two_columns_ui(ui, |ui, column| match column {
        0 => families_ui(ui, view, result, (run, untrained)),
        _ => histograms_ui(ui, view, result, (run, untrained)),
    });
    sweep_ui(ui, view, result);
    alignment_rows_ui(ui, view, result, run);
    command
}

/// The layer shown: a slider over the layers scored (the best by default).
fn layer_picker_ui(
    ui: &mut egui::Ui,
    view: &mut AlignmentView,
    result: &AlignmentStudy,
    best: usize,
) -> usize {
    let layers: Vec<usize> = result.sweep.runs.iter().map(|r| r.layer).collect();
    let mut layer = view.layer.filter(|l| layers.contains(l)).unwrap_or(best);
    if layers.len() > 1 {
        ui.horizontal(|ui| {
            ui.label("Layer shown:");
            for &l in &layers {
                let text = if l == best {
                    format!("{l} (best)")
                } else {
                    l.to_string()
                };
                ui.selectable_value(&mut layer, l, text);
            }
        });
    }
    view.layer = Some(layer);
    layer
}

/// The AUC per family (a click picks the family shown), and the tables' exports.
fn families_ui(
    ui: &mut egui::Ui,
    view: &mut AlignmentView,
    result: &AlignmentStudy,
    (run, untrained): (&AlignmentRun, Option<&AlignmentRun>),
) {
    ui.strong(format!("ROC AUC of cosine similarity, layer {}", run.layer));
    egui::Grid::new("alignment_families")
        .striped(true)
        .show(ui, |ui| {
            for h in ["family", "sequences", "pairs", "AUC", "untrained AUC"] {
                ui.strong(h);
            }
            ui.end_row();
            for (k, f) in run.families.iter().enumerate() {
                if ui
                    .selectable_label(view.family == k, &f.name)
                    .on_hover_text("Show this family's histograms and alignment")
                    .clicked()
                {
                    view.family = k;
                }
                ui.label(f.sequences.to_string());
                ui.label(format!("{} of {}", f.pairs.0, f.pairs.1));
                ui.label(format!("{:.3}", f.auc));
                ui.label(
                    untrained
                        .and_then(|u| u.families.get(k))
                        .map_or("-".into(), |u| format!("{:.3}", u.auc)),
                );
                ui.end_row();
            }
            ui.strong("mean");
            ui.label("");
            ui.label("");
            ui.strong(format!("{:.3}", run.mean_auc));
            ui.label(untrained.map_or("-".into(), |u| format!("{:.3}", u.mean_auc)));
            ui.end_row();
        });
    let model = &result.sweep.provenance.model.name;
    let provenance = &result.sweep.provenance;
    view.families_export
        .follow(&crate::export::result_stem(&["alignment_auc", model]));
    if table_export_ui(ui, "AUC", &mut view.families_export) {
        view.families_export
            .save(ui.ctx(), alignment_family_table(result), Some(provenance));
    }
    view.histograms_export.follow(&crate::export::result_stem(&[
        "alignment_histograms",
        model,
    ]));
    if table_export_ui(ui, "Histogram counts", &mut view.histograms_export) {
        view.histograms_export.save(
            ui.ctx(),
            alignment_histogram_table(result),
            Some(provenance),
        );
    }
}

/// Each bin's share of the pairs, at the bins' centres.
fn histogram_points(counts: &[u32]) -> Vec<[f64; 2]> {
    let total = counts.iter().sum::<u32>().max(1) as f64;
    let width = 2.0 / HISTOGRAM_BINS as f64;
    counts
        .iter()
        .enumerate()
        .map(|(k, &c)| [-1.0 + (k as f64 + 0.5) * width, c as f64 / total])
        .collect()
}

/// The four histogram lines of a family: aligned and unaligned, trained solid, untrained dashed.
fn histogram_series(trained: &FamilyScore, untrained: Option<&FamilyScore>) -> Vec<LineSeries> {
    let mut series = Vec::new();
    for (score, model, dashed) in [
        (Some(trained), "trained", false),
        (untrained, "untrained", true),
    ] {
        let Some(score) = score else { continue };
        for (counts, pairs, rgb) in [
            (&score.histograms.0, "aligned", ALIGNED_RGB),
            (&score.histograms.1, "unaligned", UNALIGNED_RGB),
        ] {
            series.push(LineSeries {
                name: format!("{model}: {pairs} pairs"),
                rgb,
                points: histogram_points(counts),
                dashed,
            });
        }
    }
    series
}

/// The shown family's histograms, trained beside untrained, and the figure's export.
fn histograms_ui(
    ui: &mut egui::Ui,
    view: &mut AlignmentView,
    result: &AlignmentStudy,
    (run, untrained): (&AlignmentRun, Option<&AlignmentRun>),
) {
    let Some(trained) = run.families.get(view.family) else {
        return;
    };
    let untrained = untrained.and_then(|u| u.families.get(view.family));
    ui.strong(format!(
        "{}: cosine similarity of aligned (blue) and unaligned (orange) pairs",
        trained.name
    ));
    for (score, model) in [(Some(trained), "trained"), (untrained, "untrained")] {
        let Some(score) = score else { continue };
        ui.label(format!(
            "{model}: AUC {:.3}; mean cosine {:.3} aligned, {:.3} unaligned",
            score.auc, score.mean_cosine.0, score.mean_cosine.1
        ));
        Plot::new(format!("alignment_histogram_{model}"))
            .allow_scroll(false)
            .height(150.0)
            .include_x(-1.0)
            .include_x(1.0)
            .include_y(0.0)
            .x_axis_label("cosine similarity")
            .y_axis_label("share of pairs")
            .show(ui, |plot| {
                for s in histogram_series(score, None) {
                    let [r, g, b] = s.rgb;
                    plot.line(
                        Line::new(s.name.clone(), PlotPoints::new(s.points))
                            .color(egui::Color32::from_rgb(r, g, b))
                            .width(2.0),
                    );
                }
            });
    }
    let model = &result.sweep.provenance.model.name;
    view.histogram_export.follow(&crate::export::result_stem(&[
        "alignment_cosines",
        &trained.name,
        &format!("layer{}", run.layer),
        model,
    ]));
    if figure_export_ui(ui, "Histograms", &mut view.histogram_export) {
        let title = format!(
            "{}: aligned vs unaligned residue pairs, layer {}, {model}",
            trained.name, run.layer
        );
        let series = histogram_series(trained, untrained);
        view.histogram_export
            .save(ui.ctx(), Some(&result.sweep.provenance), move |size| {
                let mut figure =
                    LineFigure::new(title, "cosine similarity", "share of pairs", series);
                figure.width = size.width;
                figure.height = size.height;
                crate::export::line_svg(&figure)
            });
    }
}

/// The mean AUC by layer, trained and untrained, against chance (0.5).
fn sweep_ui(ui: &mut egui::Ui, view: &mut AlignmentView, result: &AlignmentStudy) {
    let mut series = Vec::new();
    for (runs, name, dashed) in [
        (&result.sweep.runs, "trained", false),
        (&result.sweep.untrained, "untrained", true),
    ] {
        if runs.is_empty() {
            continue;
        }
        series.push(LineSeries {
            name: format!("{name}: mean AUC"),
            rgb: ALIGNED_RGB,
            points: runs.iter().map(|r| [r.layer as f64, r.mean_auc]).collect(),
            dashed,
        });
    }
    layer_sweep_ui(
        ui,
        SweepPlot {
            id: "alignment_sweep",
            figure_name: "Layer sweep",
            file_stem: "alignment_by_layer",
            title: format!(
                "Alignment within families by layer, {} ({} families)",
                result.sweep.provenance.model.name,
                result.families.len()
            ),
            y_label: "ROC AUC, aligned vs unaligned pairs",
            series,
            baselines: vec![Baseline {
                label: "chance".into(),
                value: 0.5,
            }],
        },
        &mut view.sweep_export,
        &result.sweep.provenance,
    );
}

/// White (at the column's mean) to red (at `far` or beyond).
fn distance_colour(distance: f32, far: f32) -> egui::Color32 {
    let t = (distance / far.max(1e-6)).clamp(0.0, 1.0);
    let mix = |end: f32| (255.0 + (end - 255.0) * t).round() as u8;
    egui::Color32::from_rgb(mix(178.0), mix(24.0), mix(43.0))
}

/// The 95th percentile of a family's distances (the colour scale's top).
fn far_distance(score: &FamilyScore) -> f32 {
    let mut all: Vec<f32> = score
        .column_distance
        .iter()
        .flatten()
        .flatten()
        .copied()
        .collect();
    if all.is_empty() {
        return 1.0;
    }
    all.sort_by(f32::total_cmp);
    all[(all.len() as f64 * 0.95) as usize].max(1e-3)
}

/// The shown family as its alignment: one row a sequence, match columns only, each residue
/// coloured by its distance from its column's mean; hover names it.
fn alignment_rows_ui(
    ui: &mut egui::Ui,
    view: &mut AlignmentView,
    result: &AlignmentStudy,
    run: &AlignmentRun,
) {
    let (Some(family), Some(score)) = (
        result.families.get(view.family),
        run.families.get(view.family),
    ) else {
        return;
    };
    let far = far_distance(score);
    ui.separator();
    ui.strong(format!(
        "{} at layer {}: residues coloured by cosine distance from their column's mean (white 0, red ≥ {far:.3}); gaps grey, inserts not shown",
        family.name, run.layer
    ));
    let rows = aligned_rows(family, score);
    let cell = egui::vec2(11.0, 15.0);
    let name_width = 150.0;
    let size = egui::vec2(
        name_width + cell.x * family.width as f32,
        cell.y * rows.len() as f32,
    );
    egui::ScrollArea::both()
        .id_salt("alignment_rows")
        .max_height(320.0)
        .show_viewport(ui, |ui, viewport| {
            let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
            let painter = ui.painter_at(rect);
            let font = egui::FontId::monospace(10.0);
            let first = (viewport.min.y / cell.y).floor().max(0.0) as usize;
            let last = ((viewport.max.y / cell.y).ceil() as usize).min(rows.len());
            let first_col = ((viewport.min.x - name_width) / cell.x).floor().max(0.0) as usize;
            let last_col = (((viewport.max.x - name_width) / cell.x).ceil().max(0.0) as usize)
                .min(family.width);
            for (r, (id, row)) in rows.iter().enumerate().take(last).skip(first) {
                let y = rect.min.y + r as f32 * cell.y;
                painter.text(
                    egui::pos2(rect.min.x + viewport.min.x.max(0.0), y),
                    egui::Align2::LEFT_TOP,
                    id,
                    font.clone(),
                    ui.visuals().text_color(),
                );
                for (c, slot) in row.iter().enumerate().take(last_col).skip(first_col) {
                    let min = egui::pos2(rect.min.x + name_width + c as f32 * cell.x, y);
                    let cell_rect = egui::Rect::from_min_size(min, cell);
                    let (fill, letter) = match slot {
                        Some((letter, Some(d))) => (distance_colour(*d, far), *letter),
                        Some((letter, None)) => (egui::Color32::LIGHT_GRAY, *letter),
                        None => (egui::Color32::from_gray(90), '-'),
                    };
                    painter.rect_filled(cell_rect, 0.0, fill);
                    painter.text(
                        cell_rect.center(),
                        egui::Align2::CENTER_CENTER,
                        letter,
                        font.clone(),
                        egui::Color32::BLACK,
                    );
                }
            }
            if let Some(pos) = response.hover_pos() {
                let r = ((pos.y - rect.min.y) / cell.y) as usize;
                let c = ((pos.x - rect.min.x - name_width) / cell.x).floor();
                if let (Some((id, row)), true) = (rows.get(r), c >= 0.0)
                    && let Some(Some((letter, distance))) = row.get(c as usize)
                {
                    let text = match distance {
                        Some(d) => format!(
                            "{id}, column {}: {letter}, distance {d:.3} from the column's mean",
                            c as usize + 1
                        ),
                        None => format!(
                            "{id}, column {}: {letter} (not read by the model)",
                            c as usize + 1
                        ),
                    };
                    response.on_hover_text_at_pointer(text);
                }
            }
        });
    exports_of_rows_ui(ui, view, result, (family, score, run.layer), far);
}

/// Per sequence: its name and, per match column, `(residue, distance)` or a gap.
type AlignedRows = Vec<(String, Vec<Option<(char, Option<f32>)>>)>;

fn aligned_rows(family: &crate::data::Alignment, score: &FamilyScore) -> AlignedRows {
    family
        .sequences
        .iter()
        .zip(&score.column_distance)
        .map(|(sequence, distances)| {
            let mut row = vec![None; family.width];
            for ((residue, column), distance) in sequence
                .sequence
                .chars()
                .zip(&sequence.columns)
                .zip(distances)
            {
                if let Some(c) = column {
                    row[*c as usize] = Some((residue, *distance));
                }
            }
            (sequence.id.clone(), row)
        })
        .collect()
}

/// The coloured alignment as a figure (one cell a residue, its letter in it) and its table.
fn exports_of_rows_ui(
    ui: &mut egui::Ui,
    view: &mut AlignmentView,
    result: &AlignmentStudy,
    (family, score, layer): (&crate::data::Alignment, &FamilyScore, usize),
    far: f32,
) {
    let model = &result.sweep.provenance.model.name;
    let provenance = &result.sweep.provenance;
    let stem = crate::export::result_stem(&[
        "alignment_distances",
        &family.name,
        &format!("layer{layer}"),
        model,
    ]);
    view.alignment_export.follow(&stem);
    if figure_export_ui(ui, "Alignment", &mut view.alignment_export) {
        let rows = aligned_rows(family, score);
        let title = format!(
            "{}: distance from the column's mean, layer {layer}, {model}",
            family.name
        );
        let width = family.width;
        view.alignment_export
            .save(ui.ctx(), Some(provenance), move |size| {
                let mut figure = HeatmapFigure::new(
                    title,
                    rows.len(),
                    width,
                    rows.iter()
                        .flat_map(|(_, r)| {
                            r.iter().map(|s| s.and_then(|(_, d)| d).unwrap_or(f32::NAN))
                        })
                        .collect(),
                    [0.0, far],
                );
                figure.ramp_rgb = [178, 24, 43];
                figure.cell_text = rows
                    .iter()
                    .flat_map(|(_, r)| {
                        r.iter()
                            .map(|s| s.map_or(String::new(), |(c, _)| c.to_string()))
                    })
                    .collect();
                figure.row_labels = rows.iter().map(|(id, _)| id.clone()).collect();
                figure.x_label = "alignment column".into();
                figure.y_label = "sequence".into();
                figure.colour_bar_label = "cosine distance from the column's mean".into();
                // Cells of about 12 px where the width allows: the letters stay readable.
                figure.width = size.width.max((width as f64 * 12.0 + 420.0).min(4000.0));
                figure.height = (rows.len() as f64 * 12.0 + 120.0).max(400.0);
                crate::export::heatmap_svg(&figure)
            });
    }
    view.distances_export.follow(&stem);
    if table_export_ui(ui, "Distances", &mut view.distances_export) {
        view.distances_export.save(
            ui.ctx(),
            alignment_distance_table(family, score, layer),
            Some(provenance),
        );
    }
}
