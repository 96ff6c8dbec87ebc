//! Secondary structure view: train the SS8 linear probe by click (one layer or a sweep over all
//! layers), see Q8/Q3 per layer as a line plot, the best layer's confusion matrix and
//! per-class metrics, and per-protein tracks of true vs predicted classes with confidence.

use eframe::egui;

use super::figure_export::{FigureExport, FigureSize, figure_export_ui};
use super::job::{JobClick, Progress};
use super::layer_sweep::{SweepPlot, layer_sweep_ui};
use super::study_panel::{
    ProbeSaver, StudyControls, StudyJob, estimate_text, input_field_width, layers_ui, metric_cell,
    split_ui, store_folder_row, stores_line_ui,
};
use super::table_export::{TableExport, table_export_ui};
use super::view_slot::StudyView;
use crate::analysis::JobCtx;
use crate::analysis::probe_apply::Ss8Prediction;
use crate::analysis::ss8_probe_run::Ss8ProbeRun;
use crate::analysis::ss8_study::{
    DEFAULT_RESIDUE_CAP, Ss8Study, Ss8StudyRequest, estimate_ss8_study, run_ss8_study,
};
use crate::analysis::ss8_study_table::ss8_study_table;
use crate::bundled::{bundled_path_text, kit};
use crate::data::{SS8_CLASSES, Ss8Record};
use crate::export::{Baseline, SS8_LEGEND, ss8_colour};
use crate::export::{HeatmapFigure, LineSeries};
use crate::model::{Layers, LoadedModel};
use crate::store::StoreOptions;

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
    /// Layers probed, one probe each.
    #[serde(default = "all_layers")]
    pub layers: Layers,
    /// Also probe the untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Training residues per layer at most (a seeded sample above it).
    #[serde(default = "default_cap")]
    pub residue_cap: usize,
    /// Feature stores.
    #[serde(default)]
    pub store: StoreOptions,
}

fn all_layers() -> Layers {
    Layers::All
}

fn default_cap() -> usize {
    DEFAULT_RESIDUE_CAP
}

impl Default for Ss8Settings {
    fn default() -> Self {
        Self {
            train: bundled_path_text(kit::SS8_TRAIN),
            test: bundled_path_text(kit::TS50),
            max_train: 200,
            layers: Layers::All,
            compare_untrained: false,
            residue_cap: DEFAULT_RESIDUE_CAP,
            store: StoreOptions::default(),
        }
    }
}

/// A finished study (the same one `probe ss8` runs).
pub type Ss8Result = Ss8Study;

/// The study `settings` describe (reads both tables).
pub fn ss8_request(settings: &Ss8Settings) -> anyhow::Result<Ss8StudyRequest> {
    let (train, test) = (settings.train.trim(), settings.test.trim());
    Ok(Ss8StudyRequest {
        layers: settings.layers.clone(),
        residue_cap: settings.residue_cap,
        compare_untrained: settings.compare_untrained,
        store: settings.store.clone(),
        tracked_proteins: TRACKED_PROTEINS,
        ..Ss8StudyRequest::from_files(train.as_ref(), test.as_ref(), Some(settings.max_train))?
    })
}

/// Trains and scores on a worker thread (called from the job).
pub fn compute_ss8(
    model: &LoadedModel,
    settings: &Ss8Settings,
    ctx: &JobCtx,
) -> anyhow::Result<Ss8Result> {
    Ok(run_ss8_study(model, &ss8_request(settings)?, ctx)?)
}

/// The estimate line shown beside the start button: time, RAM and disk, or why the study would
/// be refused.
pub fn ss8_estimate_text(model: &LoadedModel, settings: &Ss8Settings) -> Result<String, String> {
    estimate_text(ss8_request(settings).map(|request| estimate_ss8_study(model, &request)))
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
    /// The estimate and the stores list under the inputs.
    controls: StudyControls,
    /// "Save best probe".
    pub probe: ProbeSaver,
}

impl StudyView for Ss8View {
    type Settings = Ss8Settings;
    type Output = Ss8Result;
    const ID: &'static str = "SecondaryStructure";
    const TITLE: &'static str = "Secondary structure";
    const ABOUT: &'static str = "Linear probe of 8-class secondary structure, layer by layer";
    const SETTINGS_KEY: &'static str = "ss8";
    const JOB_NAME: &'static str = "SS8 probe";

    fn result_replaced(&mut self) {
        self.sweep_export.result_replaced();
        self.confusion_export.result_replaced();
        self.track_export.result_replaced();
        self.layers_export.result_replaced();
        self.probe.result_replaced();
    }

    fn new() -> Self {
        Self {
            sweep_export: FigureExport::new("ss8_by_layer.svg"),
            confusion_export: FigureExport::new("ss8_confusion.svg"),
            track_export: FigureExport::with_height_from_content("ss8_track.svg"),
            layers_export: TableExport::new("ss8_by_layer.csv"),
            probe: ProbeSaver::new("ss8_probe.safetensors"),
            ..Self::default()
        }
    }

    fn settings(&self) -> &Ss8Settings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut Ss8Settings {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.settings.store
    }

    fn compute(
        model: &LoadedModel,
        settings: &Ss8Settings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Ss8Result> {
        compute_ss8(model, settings, ctx)
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Ss8Result>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        ss8_view_ui(ui, self, result, progress, error, model)
    }

    /// The tour trains on 20 of the kit's 1,000 chains.
    fn size_for_tour(&mut self) {
        self.settings.max_train = 20;
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
            &result.sweep.runs,
            |r| r.test.q8,
            false,
        ),
        line(
            "test Q3",
            [44, 160, 44],
            &result.sweep.runs,
            |r| r.test.q3,
            false,
        ),
        line(
            "train Q8",
            [148, 103, 189],
            &result.sweep.runs,
            |r| r.train.q8,
            false,
        ),
    ];
    if !result.sweep.untrained.is_empty() {
        series.push(line(
            "untrained test Q8",
            [255, 127, 14],
            &result.sweep.untrained,
            |r| r.test.q8,
            true,
        ));
        series.push(line(
            "untrained test Q3",
            [214, 39, 40],
            &result.sweep.untrained,
            |r| r.test.q3,
            true,
        ));
    }
    series
}

/// The confusion matrix of the best layer as a figure (rows: truth; in each cell the count
/// over its share of the true class, which the colour shows too, with a colour bar).
pub fn ss8_confusion_figure(result: &Ss8Result, size: FigureSize) -> HeatmapFigure {
    let best = result.best_run();
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
            "SS8 confusion, layer {} (Q8 {:.3}), {}",
            best.layer, best.test.q8, result.sweep.provenance.model.name
        ),
        n,
        n,
        values,
        [0.0, 1.0],
    );
    figure.cell_text = confusion
        .iter()
        .flat_map(|row| {
            let total = row.iter().sum::<usize>();
            row.iter().map(move |&c| count_and_share(c, total))
        })
        .collect();
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

/// The SS8 view.
pub fn ss8_view_ui(
    ui: &mut egui::Ui,
    view: &mut Ss8View,
    result: Option<&Ss8Result>,
    progress: Option<Progress>,
    error: Option<&str>,
    model: Option<&LoadedModel>,
) -> Option<JobClick> {
    let num_layers = model.map(|m| m.model.config().num_layers);
    inputs_ui(ui, &mut view.settings, num_layers);
    let settings = view.settings.clone();
    let command = view.controls.ui(
        ui,
        "Train SS8 probe",
        StudyJob {
            model,
            progress,
            error,
        },
        &settings,
        &settings.store.root,
        ss8_estimate_text,
    );
    let Some(result) = result else {
        ui.label("Train a probe to see how well each layer encodes secondary structure.");
        return command;
    };
    let best = result.best_run();
    ui.separator();
    study_files_ui(ui, view, result, model);
    ui.label(format!(
        "Best layer {}: test Q8 {:.3}, Q3 {:.3} on {} labelled test residues (majority class {:.3}); {} training residues per layer",
        best.layer,
        best.test.q8,
        best.test.q3,
        best.test.ss8.count,
        best.test.ss8.majority_baseline(),
        best.train_residues
    ));
    split_ui(ui, &result.split);
    super::two_columns::two_columns_ui(ui, |ui, column| match column {
        0 => sweep_column_ui(ui, view, result),
        _ => confusion_column_ui(ui, view, result),
    });
    ui.separator();
    track_section_ui(ui, view, result, best.layer);
    command
}

/// The layer sweep with its baseline, its table export and the best layer's per-class scores.
fn sweep_column_ui(ui: &mut egui::Ui, view: &mut Ss8View, result: &Ss8Result) {
    let best = result.best_run();
    layer_sweep_ui(
        ui,
        SweepPlot {
            id: "ss8_sweep",
            figure_name: "Layer sweep",
            file_stem: "ss8_by_layer",
            title: format!(
                "SS8 probe accuracy by layer, {}",
                result.sweep.provenance.model.name
            ),
            y_label: "accuracy",
            series: ss8_sweep_series(result),
            baselines: vec![Baseline {
                label: "majority class (test Q8)".into(),
                value: best.test.ss8.majority_baseline(),
            }],
        },
        &mut view.sweep_export,
        &result.sweep.provenance,
    );
    view.layers_export.follow(&crate::export::result_stem(&[
        "ss8_by_layer",
        &result.sweep.provenance.model.name,
    ]));
    if table_export_ui(ui, "Accuracy", &mut view.layers_export) {
        view.layers_export.save(
            ui.ctx(),
            ss8_study_table(result),
            Some(&result.sweep.provenance),
        );
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
                metric_cell(ui, m.precision, "never predicted: precision is undefined");
                metric_cell(ui, m.recall, "not in the test labels: recall is undefined");
                ui.label(m.support.to_string());
                ui.end_row();
            }
        });
}

/// The best layer's confusion matrix and its figure export.
fn confusion_column_ui(ui: &mut egui::Ui, view: &mut Ss8View, result: &Ss8Result) {
    let best = result.best_run();
    ui.strong(format!(
        "Confusion matrix, layer {} (rows: truth)",
        best.layer
    ));
    confusion_grid(ui, &best.test.ss8.confusion);
    view.confusion_export.follow(&crate::export::result_stem(&[
        "ss8_confusion",
        &format!("layer{}", best.layer),
        &result.sweep.provenance.model.name,
    ]));
    if figure_export_ui(ui, "Confusion", &mut view.confusion_export) {
        let figure = ss8_confusion_figure(result, view.confusion_export.size);
        view.confusion_export
            .save(ui.ctx(), Some(&result.sweep.provenance), move |_| {
                crate::export::heatmap_svg(&figure)
            });
    }
}

/// The picked test protein's true and predicted SS8 tracks (probe of `layer`) and their export.
fn track_section_ui(ui: &mut egui::Ui, view: &mut Ss8View, result: &Ss8Result, layer: usize) {
    if result.tracks.is_empty() {
        return;
    }
    view.track = view.track.min(result.tracks.len() - 1);
    egui::ComboBox::from_label("protein")
        .selected_text(result.tracks[view.track].0.id.clone())
        .show_ui(ui, |ui| {
            for (k, (record, _)) in result.tracks.iter().enumerate() {
                ui.selectable_value(&mut view.track, k, &record.id);
            }
        })
        .response
        .on_hover_text("The test protein whose predicted and true SS8 tracks are shown");
    let (record, prediction) = &result.tracks[view.track];
    track_ui(ui, record, prediction);
    view.track_export.follow(&crate::export::result_stem(&[
        "ss8_track",
        &record.id,
        &format!("layer{layer}"),
        &result.sweep.provenance.model.name,
    ]));
    if figure_export_ui(ui, "Track", &mut view.track_export) {
        let probe = format!("layer {layer}, {}", result.sweep.provenance.model.name);
        let figure = ss8_track_figure(record, prediction, &probe, view.track_export.size);
        view.track_export
            .save(ui.ctx(), Some(&result.sweep.provenance), move |_| {
                crate::export::track_svg(&figure)
            });
    }
}

/// Table paths, training proteins, layers, residue cap, baseline and store folder.
fn inputs_ui(ui: &mut egui::Ui, settings: &mut Ss8Settings, num_layers: Option<usize>) {
    let field_width = input_field_width(ui);
    egui::Grid::new("ss8_inputs").num_columns(2).show(ui, |ui| {
        for (name, value) in [
            ("Training labels", &mut settings.train),
            ("Test labels", &mut settings.test),
        ] {
            let label = ui.label(name);
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(value).desired_width(field_width))
                    .labelled_by(label.id)
                    .on_hover_text(
                        "SS8 table: NetSurfP CSV, id/sequence/dssp8 TSV, or 3-line FASTA-like",
                    );
                super::file_dialog::browse_button(
                    ui,
                    value,
                    super::file_dialog::DialogKind::OpenLabels,
                );
            });
            ui.end_row();
        }
        store_folder_row(ui, &mut settings.store, field_width);
    });
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::DragValue::new(&mut settings.max_train).prefix("training proteins ≤ "))
            .on_hover_text(
                "At most this many training chains (the first ones of the training set)",
            );
        ui.add(
            egui::DragValue::new(&mut settings.residue_cap)
                .speed(1000)
                .prefix("training residues per layer ≤ "),
        )
        .on_hover_text("Above this a seeded sample of residues trains each layer's probe");
        layers_ui(ui, &mut settings.layers, num_layers);
        super::study_panel::untrained_checkbox(ui, &mut settings.compare_untrained);
    });
}

/// The stores a study read, with their size; and saving the best layer's probe.
fn study_files_ui(
    ui: &mut egui::Ui,
    view: &mut Ss8View,
    result: &Ss8Result,
    model: Option<&LoadedModel>,
) {
    super::study_panel::provenance_line_ui(ui, &result.sweep.provenance);
    stores_line_ui(
        ui,
        &result.sweep.cost.stores,
        result.sweep.cost.residues_embedded,
    );
    view.probe.ui(
        ui,
        model,
        "safetensors + metadata, as `probe ss8 --save`; `probe ss8-predict` applies it",
        |model, path| {
            crate::analysis::best_probe::save_best_ss8_probe(result, &model.model_ref(), path)
                .map_err(|e| e.to_string())
        },
    );
}

/// The track figure of one test protein: true classes where scored, the probe's predictions with
/// their confidence, wrapped to the chosen width (the height follows the length).
pub fn ss8_track_figure(
    record: &Ss8Record,
    prediction: &Ss8Prediction,
    probe: &str,
    size: FigureSize,
) -> crate::export::TrackFigure {
    let truth = truth_classes(record);
    let predicted = prediction
        .best()
        .into_iter()
        .map(|(class, p)| (SS8_CLASSES[class], p))
        .collect();
    crate::export::TrackFigure::fitting(
        format!("{}: SS8 probe, {probe}", record.id),
        record.sequence.chars().collect(),
        truth,
        predicted,
        size.width,
    )
}

/// A confusion cell's text: the count over its share of the row's `total` ("-" without any).
fn count_and_share(count: usize, total: usize) -> String {
    if total == 0 {
        format!("{count}\n-")
    } else {
        format!("{count}\n{:.0}%", 100.0 * count as f64 / total as f64)
    }
}

/// The cell colour of a row share in 0..=1 (dark to blue, as the figure's ramp).
fn share_colour(share: f32) -> egui::Color32 {
    let t = share.clamp(0.0, 1.0).sqrt();
    egui::Color32::from_rgb(
        (40.0 + 38.0 * t) as u8,
        (40.0 + 81.0 * t) as u8,
        (40.0 + 127.0 * t) as u8,
    )
}

/// The confusion matrix: rows true classes, columns predicted; each cell its count over its
/// share of the true class, shaded by that share; a colour bar under it.
fn confusion_grid(ui: &mut egui::Ui, confusion: &[Vec<usize>]) {
    ui.weak("Rows: true class; columns: predicted. Each cell: count, and share of the true class.");
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
                let total = row.iter().sum::<usize>();
                for &count in row {
                    let share = count as f32 / total.max(1) as f32;
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(40.0, 30.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, share_colour(share));
                    ui.painter().text(
                        rect.center(),
                        egui::Align2::CENTER_CENTER,
                        count_and_share(count, total),
                        egui::FontId::monospace(10.0),
                        egui::Color32::WHITE,
                    );
                }
                ui.end_row();
            }
        });
    colour_bar_ui(ui);
}

/// The confusion colours from 0% to 100% of the true class.
fn colour_bar_ui(ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.weak("0%");
        let (rect, _) = ui.allocate_exact_size(egui::vec2(160.0, 12.0), egui::Sense::hover());
        let steps = 32;
        for k in 0..steps {
            let x0 = rect.left() + rect.width() * k as f32 / steps as f32;
            let x1 = rect.left() + rect.width() * (k + 1) as f32 / steps as f32;
            let cell = egui::Rect::from_x_y_ranges(x0..=x1, rect.y_range());
            ui.painter()
                .rect_filled(cell, 0.0, share_colour((k as f32 + 0.5) / steps as f32));
        }
        ui.weak("100% of the true class");
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
    let truth = truth_classes(record);
    egui::ScrollArea::horizontal().show(ui, |ui| {
        let font = egui::FontId::monospace(13.0);
        ui.label(egui::RichText::new(format!("seq   {}", record.sequence)).font(font.clone()));
        let text_colour = ui.visuals().text_color();
        let row = |name: &str, letters: &mut dyn Iterator<Item = (char, f32)>| {
            let mut job = egui::text::LayoutJob::default();
            job.append(
                name,
                0.0,
                egui::TextFormat::simple(font.clone(), text_colour),
            );
            for (class, opacity) in letters {
                job.append(
                    &class.to_string(),
                    0.0,
                    egui::TextFormat::simple(
                        font.clone(),
                        class_colour(class).gamma_multiply(opacity),
                    ),
                );
            }
            job
        };
        ui.label(row(
            "true  ",
            &mut truth.iter().map(|c| c.map_or(('-', 0.5), |c| (c, 1.0))),
        ));
        ui.label(row(
            "pred  ",
            &mut best
                .iter()
                .map(|&(class, p)| (SS8_CLASSES[class], 0.25 + 0.75 * p.clamp(0.0, 1.0))),
        ));
    });
    class_legend_ui(ui);
    ui.weak("Predicted letters are fainter where the probe is less confident.");
}

/// The colour a class letter is drawn in: the figure's ([`ss8_colour`]).
fn class_colour(class: char) -> egui::Color32 {
    egui::Color32::from_hex(ss8_colour(class)).unwrap_or(egui::Color32::GRAY)
}

/// Each class letter in the colour the track draws it, with its name.
pub(super) fn class_legend_ui(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        for (class, name) in SS8_LEGEND {
            ui.label(
                egui::RichText::new(class.to_string())
                    .monospace()
                    .strong()
                    .color(class_colour(class)),
            );
            ui.label(name);
            ui.add_space(6.0);
        }
    });
}
