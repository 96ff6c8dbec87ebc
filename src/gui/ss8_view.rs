//! Secondary structure view: train the SS8 linear probe by click (one layer or a sweep over all
//! layers), see Q8/Q3 per layer as a line plot, the best layer's confusion matrix and
//! per-class metrics, and per-protein tracks of true vs predicted classes with confidence.

use eframe::egui;

use super::figure_export::{FigureExport, FigureSize, figure_export_ui};
use super::job::{JobClick, Progress, job_controls};
use super::layer_sweep::layer_sweep_ui;
use super::table_export::{TableExport, table_export_ui};
use crate::analysis::JobCtx;
use crate::analysis::probe_apply::{Ss8Prediction, predict_ss8};
use crate::analysis::ss8_probe_run::{Ss8ProbeRun, run_ss8_probe};
use crate::data::{SS8_CLASSES, Ss8Record, read_ss8};
use crate::export::{HeatmapFigure, LineSeries};
use crate::model::LoadedModel;
use crate::probes::{ProbeMetadata, Ss8ProbeParams};
use polars::prelude::{Column, DataFrame, PolarsResult};

/// Test proteins whose per-residue tracks are kept.
const TRACKED_PROTEINS: usize = 50;

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ss8Settings {
    /// Training SS8 table.
    pub train: String,
    /// Test SS8 table.
    pub test: String,
    /// At most this many training proteins.
    pub max_train: usize,
    /// Probe every layer (else only `layer`).
    pub sweep: bool,
    /// The layer probed when not sweeping.
    pub layer: usize,
    /// Also probe the untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
}

impl Default for Ss8Settings {
    fn default() -> Self {
        let demo = "datasets/demo/structures_ss8.txt";
        Self {
            train: super::shared_data_or("ss8/pisces2018_train.tsv", demo),
            test: super::shared_data_or("ss8/CB513.csv", demo),
            max_train: 200,
            sweep: true,
            layer: usize::MAX,
            compare_untrained: false,
        }
    }
}

/// A finished probe run.
pub struct Ss8Result {
    /// One run per probed layer.
    pub runs: Vec<Ss8ProbeRun>,
    /// The same layers probed on the untrained copy (empty when not compared).
    pub untrained: Vec<Ss8ProbeRun>,
    /// Index of the best layer's run (test Q8).
    pub best: usize,
    /// Test proteins (at most 50) with their tracks from the best layer's probe.
    pub tracks: Vec<(Ss8Record, Ss8Prediction)>,
}

/// Trains and scores on a worker thread (called from the job).
pub fn compute_ss8(
    model: &LoadedModel,
    settings: &Ss8Settings,
    ctx: &JobCtx,
) -> anyhow::Result<Ss8Result> {
    let mut train = read_ss8(std::path::Path::new(settings.train.trim()))?;
    train.truncate(settings.max_train.max(1));
    let test = read_ss8(std::path::Path::new(settings.test.trim()))?;
    let layers: Vec<usize> = if settings.sweep {
        (0..=model.model.config().num_layers).collect()
    } else {
        vec![settings.layer.min(model.model.config().num_layers)]
    };
    let params = Ss8ProbeParams::default();
    let split = if settings.compare_untrained {
        0.45
    } else {
        0.9
    };
    let runs = run_ss8_probe(
        model,
        &train,
        &test,
        &layers,
        &params,
        &ctx.scoped(0.0, split),
    )?;
    let untrained = if settings.compare_untrained {
        let copy = model.untrained_copy(0)?;
        run_ss8_probe(
            &copy,
            &train,
            &test,
            &layers,
            &params,
            &ctx.scoped(split, 0.9),
        )?
    } else {
        Vec::new()
    };
    let best = (0..runs.len())
        .max_by(|&a, &b| runs[a].test.q8.total_cmp(&runs[b].test.q8))
        .ok_or_else(|| anyhow::anyhow!("no layer was probed"))?;
    let metadata = ProbeMetadata {
        kind: "ss8".into(),
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        layer: runs[best].layer,
        classes: SS8_CLASSES.iter().collect(),
        test_metrics: None,
        contact_precision: None,
    };
    let tracked: Vec<Ss8Record> = test.into_iter().take(TRACKED_PROTEINS).collect();
    let records: Vec<(String, String)> = tracked
        .iter()
        .map(|r| (r.id.clone(), r.sequence.clone()))
        .collect();
    let predictions = predict_ss8(
        model,
        &runs[best].probe,
        &metadata,
        &records,
        None,
        &ctx.scoped(0.9, 1.0),
    )?;
    Ok(Ss8Result {
        runs,
        untrained,
        best,
        tracks: tracked.into_iter().zip(predictions).collect(),
    })
}

/// View state kept between frames.
#[derive(Debug, Default)]
pub struct Ss8View {
    /// Settings of the next run.
    pub settings: Ss8Settings,
    /// Index of the protein whose track is shown.
    pub track: usize,
    /// Export of the layer sweep.
    pub sweep_export: FigureExport,
    /// Export of the confusion matrix.
    pub confusion_export: FigureExport,
    /// Export of the shown protein's track (its width sets the residues per line).
    pub track_export: FigureExport,
    /// Export of the per-layer accuracies.
    pub layers_export: TableExport,
}

impl Ss8View {
    /// A view with the default inputs and export names.
    pub fn new() -> Self {
        Self {
            sweep_export: FigureExport::new("ss8_by_layer.svg"),
            confusion_export: FigureExport::new("ss8_confusion.svg"),
            track_export: FigureExport::with_height_from_content("ss8_track.svg"),
            layers_export: TableExport::new("ss8_by_layer.csv"),
            ..Self::default()
        }
    }
}

/// The layer-sweep lines: test Q8/Q3 and train Q8 of the model, test Q8/Q3 of the untrained
/// copy (dashed).
pub fn ss8_sweep_series(result: &Ss8Result) -> Vec<LineSeries> {
    let line =
        |name: &str, rgb, runs: &[Ss8ProbeRun], f: fn(&Ss8ProbeRun) -> f64, dashed| LineSeries {
            name: name.to_owned(),
            rgb,
            points: runs.iter().map(|r| [r.layer as f64, f(r)]).collect(),
            dashed,
        };
    let mut series = vec![
        line(
            "test Q8",
            [31, 119, 180],
            &result.runs,
            |r| r.test.q8,
            false,
        ),
        line("test Q3", [44, 160, 44], &result.runs, |r| r.test.q3, false),
        line(
            "train Q8",
            [148, 103, 189],
            &result.runs,
            |r| r.train.q8,
            false,
        ),
    ];
    if !result.untrained.is_empty() {
        series.push(line(
            "untrained test Q8",
            [255, 127, 14],
            &result.untrained,
            |r| r.test.q8,
            true,
        ));
        series.push(line(
            "untrained test Q3",
            [214, 39, 40],
            &result.untrained,
            |r| r.test.q3,
            true,
        ));
    }
    series
}

/// The confusion matrix of the best layer as a figure (rows: truth; counts in the cells;
/// colour: the fraction of the true class).
pub fn ss8_confusion_figure(result: &Ss8Result, size: FigureSize) -> HeatmapFigure {
    let best = &result.runs[result.best];
    let confusion = &best.test.ss8.confusion;
    let n = confusion.len();
    let values = confusion
        .iter()
        .flat_map(|row| {
            let total = row.iter().sum::<usize>().max(1) as f32;
            row.iter().map(move |&c| c as f32 / total)
        })
        .collect();
    let mut figure = HeatmapFigure::new(
        format!(
            "SS8 confusion, layer {} (Q8 {:.3})",
            best.layer, best.test.q8
        ),
        n,
        n,
        values,
        [0.0, 1.0],
    );
    figure.cell_text = confusion.iter().flatten().map(|c| c.to_string()).collect();
    let classes: Vec<String> = SS8_CLASSES.iter().map(|c| c.to_string()).collect();
    figure.row_labels = classes.clone();
    figure.col_labels = classes;
    figure.x_label = "predicted".into();
    figure.y_label = "true".into();
    figure.colour_bar_label = "fraction of true class".into();
    figure.width = size.width;
    figure.height = size.height;
    figure
}

/// What the view asks the app to do.
pub enum Ss8Command {
    /// Train with these settings.
    Train(Ss8Settings),
    /// Stop the running job.
    Cancel,
}

/// The SS8 view.
pub fn ss8_view_ui(
    ui: &mut egui::Ui,
    view: &mut Ss8View,
    result: Option<&Ss8Result>,
    progress: Option<Progress>,
    error: Option<&str>,
    num_layers: Option<usize>,
) -> Option<Ss8Command> {
    let mut command = None;
    let settings = &mut view.settings;
    egui::Grid::new("ss8_inputs").num_columns(2).show(ui, |ui| {
        for (name, value) in [
            ("Training labels", &mut settings.train),
            ("Test labels", &mut settings.test),
        ] {
            let label = ui.label(name);
            ui.add(egui::TextEdit::singleline(value).desired_width(420.0))
                .labelled_by(label.id)
                .on_hover_text(
                    "SS8 table: NetSurfP CSV, id/sequence/dssp8 TSV, or 3-line FASTA-like",
                );
            ui.end_row();
        }
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.max_train)
                .range(1..=100_000)
                .prefix("training proteins ≤ "),
        );
        ui.checkbox(&mut settings.sweep, "all layers");
        ui.checkbox(&mut settings.compare_untrained, "compare with untrained");
        if let Some(layers) = num_layers
            && !settings.sweep
        {
            settings.layer = settings.layer.min(layers);
            ui.add(egui::Slider::new(&mut settings.layer, 0..=layers).text("layer"));
        }
        let why_disabled = num_layers.is_none().then_some("load a model first");
        command = match job_controls(ui, progress, 160.0, "Train SS8 probe", why_disabled) {
            Some(JobClick::Start) => Some(Ss8Command::Train(settings.clone())),
            Some(JobClick::Cancel) => Some(Ss8Command::Cancel),
            None => None,
        };
        if progress.is_some() {
            ui.weak("(a logistic-regression fit runs as one call; cancel stops after it)");
        }
    });
    if let Some(err) = error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    let Some(result) = result else {
        ui.label("Train a probe to see how well each layer encodes secondary structure.");
        return command;
    };
    let best = &result.runs[result.best];
    ui.separator();
    ui.label(format!(
        "Best layer {}: test Q8 {:.3}, Q3 {:.3} on {} residues (majority class {:.3}); {} training residues",
        best.layer,
        best.test.q8,
        best.test.q3,
        best.test.ss8.count,
        best.test.ss8.majority_baseline(),
        best.train_residues
    ));
    ui.columns(2, |columns| {
        let ui = &mut columns[0];
        if result.runs.len() > 1 || !result.untrained.is_empty() {
            layer_sweep_ui(
                ui,
                "ss8_sweep",
                "SS8 probe accuracy by layer",
                "accuracy",
                ss8_sweep_series(result),
                &mut view.sweep_export,
            );
        }
        if table_export_ui(ui, "Accuracy", &mut view.layers_export) {
            view.layers_export.save(ui.ctx(), ss8_layer_table(result));
        }
        egui::Grid::new("ss8_per_class")
            .striped(true)
            .show(ui, |ui| {
                for h in ["class", "precision", "recall", "support"] {
                    ui.strong(h);
                }
                ui.end_row();
                for (class, m) in SS8_CLASSES.iter().zip(&best.test.ss8.per_class) {
                    ui.label(class.to_string());
                    ui.label(format!("{:.3}", m.precision));
                    ui.label(format!("{:.3}", m.recall));
                    ui.label(m.support.to_string());
                    ui.end_row();
                }
            });
        let ui = &mut columns[1];
        ui.strong(format!(
            "Confusion matrix, layer {} (rows: truth)",
            best.layer
        ));
        confusion_grid(ui, &best.test.ss8.confusion);
        if figure_export_ui(ui, "Confusion", &mut view.confusion_export) {
            let figure = ss8_confusion_figure(result, view.confusion_export.size);
            view.confusion_export
                .save(ui.ctx(), move |_| crate::export::heatmap_svg(&figure));
        }
    });
    ui.separator();
    if !result.tracks.is_empty() {
        view.track = view.track.min(result.tracks.len() - 1);
        egui::ComboBox::from_label("protein")
            .selected_text(result.tracks[view.track].0.id.clone())
            .show_ui(ui, |ui| {
                for (k, (record, _)) in result.tracks.iter().enumerate() {
                    ui.selectable_value(&mut view.track, k, &record.id);
                }
            });
        let (record, prediction) = &result.tracks[view.track];
        track_ui(ui, record, prediction);
        if figure_export_ui(ui, "Track", &mut view.track_export) {
            let figure = ss8_track_figure(record, prediction, best.layer, view.track_export.size);
            view.track_export
                .save(ui.ctx(), move |_| crate::export::track_svg(&figure));
        }
    }
    command
}

/// `model, layer, train_q8, test_q8, test_q3, test_residues`, one row per probed layer
/// (trained, then untrained).
pub fn ss8_layer_table(result: &Ss8Result) -> PolarsResult<DataFrame> {
    let mut table = super::layer_sweep::layer_table(
        &result.runs,
        &result.untrained,
        |r| r.layer,
        &[
            ("train_q8", |r| r.train.q8),
            ("test_q8", |r| r.test.q8),
            ("test_q3", |r| r.test.q3),
        ],
    )?;
    let residues: Vec<u64> = (result.runs.iter().chain(&result.untrained))
        .map(|r| r.test.ss8.count as u64)
        .collect();
    table.with_column(Column::new("test_residues".into(), residues))?;
    Ok(table)
}

/// The track figure of one test protein: true classes where scored, the probe's predictions with
/// their confidence, wrapped to the chosen width (the height follows the length).
pub fn ss8_track_figure(
    record: &Ss8Record,
    prediction: &Ss8Prediction,
    layer: usize,
    size: FigureSize,
) -> crate::export::TrackFigure {
    let truth = truth_classes(record);
    let predicted = prediction
        .best()
        .into_iter()
        .map(|(class, p)| (SS8_CLASSES[class], p))
        .collect();
    crate::export::TrackFigure::fitting(
        format!("{}: SS8 probe, layer {layer}", record.id),
        record.sequence.chars().collect(),
        truth,
        predicted,
        size.width,
    )
}

fn confusion_grid(ui: &mut egui::Ui, confusion: &[Vec<usize>]) {
    let max = confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f32;
    egui::Grid::new("ss8_confusion")
        .spacing([2.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            for class in SS8_CLASSES {
                ui.strong(class.to_string());
            }
            ui.end_row();
            for (t, row) in confusion.iter().enumerate() {
                ui.strong(SS8_CLASSES[t].to_string());
                for &count in row {
                    let strength = (count as f32 / max).sqrt();
                    let fill = egui::Color32::from_rgb(
                        (40.0 + 38.0 * strength) as u8,
                        (40.0 + 81.0 * strength) as u8,
                        (40.0 + 127.0 * strength) as u8,
                    );
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(46.0, 20.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, fill);
                    ui.painter().text(
                        rect.center(),
                        egui::Align2::CENTER_CENTER,
                        count.to_string(),
                        egui::FontId::monospace(11.0),
                        egui::Color32::WHITE,
                    );
                }
                ui.end_row();
            }
        });
}

/// The true SS8 class of each residue of `record`; `None` where it is not scored.
fn truth_classes(record: &Ss8Record) -> Vec<Option<char>> {
    record
        .labels
        .iter()
        .zip(&record.mask)
        .map(|(&l, &m)| m.then(|| SS8_CLASSES[l as usize]))
        .collect()
}

/// Sequence, true and predicted classes, with predictions shaded by confidence.
fn track_ui(ui: &mut egui::Ui, record: &Ss8Record, prediction: &Ss8Prediction) {
    let best = prediction.best();
    let truth: String = truth_classes(record)
        .into_iter()
        .map(|c| c.unwrap_or('-'))
        .collect();
    let correct = best
        .iter()
        .zip(record.labels.iter().zip(&record.mask))
        .filter(|&(&(c, _), (&l, &m))| m && c == l as usize)
        .count();
    let scored = record.mask.iter().filter(|&&m| m).count();
    ui.label(format!(
        "{}: {} residues, {correct} of {scored} scored residues correct",
        record.id,
        record.sequence.len()
    ));
    egui::ScrollArea::horizontal().show(ui, |ui| {
        let font = egui::FontId::monospace(13.0);
        ui.label(egui::RichText::new(format!("seq   {}", record.sequence)).font(font.clone()));
        ui.label(egui::RichText::new(format!("true  {truth}")).font(font.clone()));
        let mut job = egui::text::LayoutJob::default();
        job.append(
            "pred  ",
            0.0,
            egui::TextFormat::simple(font.clone(), ui.visuals().text_color()),
        );
        for &(class, p) in &best {
            let alpha = (60.0 + 195.0 * p.clamp(0.0, 1.0)) as u8;
            let colour = egui::Color32::from_rgba_unmultiplied(255, 255, 255, alpha);
            job.append(
                &SS8_CLASSES[class].to_string(),
                0.0,
                egui::TextFormat::simple(font.clone(), colour),
            );
        }
        ui.label(job);
    });
    ui.weak("Predicted letters are brighter where the probe is more confident.");
}
