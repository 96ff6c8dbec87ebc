//! Contacts view: train the paper's bilinear contact probe by click (one layer or all, optionally
//! beside the same architecture untrained), see long-range precision against the layer, the
//! precision table by separation range (and the model's own contact head when it has one), and
//! for any test protein the predicted map over the true one with the top-L contacts marked.

use std::sync::Arc;

use eframe::egui;
use egui_plot::{Plot, PlotImage, PlotPoint, PlotPoints, Points};

use super::figure_export::{FigureExport, FigureSize, figure_export_ui};
use super::file_dialog::{DialogKind, browse_button, split_paths};
use super::job::{JobClick, Progress};
use super::layer_sweep::{SweepPlot, layer_sweep_ui};
use super::study_panel::{
    ProbeSaver, StudyControls, StudyJob, estimate_text, input_field_width, layers_ui, split_ui,
    store_folder_row, stores_line_ui,
};
use super::table_export::{TableExport, table_export_ui};
use super::view_slot::StudyView;
use crate::analysis::JobCtx;
use crate::analysis::contact_head_run::CONTACT_THRESHOLD_ANGSTROM;
use crate::analysis::contact_study::{
    BEST_CONTACT_LAYER, ContactStudy, ContactStudyRequest, DEFAULT_CONTACT_RESIDUE_CAP,
    estimate_contact_study, run_contact_study,
};
use crate::analysis::contact_study_table::contact_study_table;
use crate::bundled::{bundled_path_text, kit};
use crate::data::ContactMap;
use crate::export::Baseline;
use crate::export::{HeatmapFigure, HeatmapMarker, LineSeries};
use crate::model::{Layers, LoadedModel};
use crate::probes::{
    CONTACT_MIN_SEPARATION, ContactPrecision, ContactProbeParams, top_contact_pairs,
};
use crate::store::StoreOptions;

/// Colours of correct and wrong top-L contacts, and of the two model lines.
const CORRECT: [u8; 3] = [44, 160, 44];
const WRONG: [u8; 3] = [214, 39, 40];
const TRAINED: [u8; 3] = [31, 119, 180];
const UNTRAINED: [u8; 3] = [255, 127, 14];

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContactSettings {
    /// Training structures (`;`-separated files or folders).
    pub train: String,
    /// Test structures.
    pub test: String,
    /// Layers probed, one probe each.
    #[serde(default = "all_layers")]
    pub layers: Layers,
    /// Rank of the bilinear map.
    pub rank: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Also train on the untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Training residues per layer at most (whole chains, a seeded sample above it).
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
    DEFAULT_CONTACT_RESIDUE_CAP
}

impl Default for ContactSettings {
    fn default() -> Self {
        Self {
            train: bundled_path_text(kit::CONTACT_TRAIN),
            test: bundled_path_text(kit::TS50),
            layers: Layers::All,
            rank: ContactProbeParams::default().rank,
            epochs: ContactProbeParams::default().epochs,
            compare_untrained: false,
            residue_cap: DEFAULT_CONTACT_RESIDUE_CAP,
            store: StoreOptions::default(),
        }
    }
}

/// A finished contact study (the same one `probe contacts` runs).
pub type ContactsResult = ContactStudy;

/// The study `settings` describe (reads the structures).
pub fn contact_request(settings: &ContactSettings) -> anyhow::Result<ContactStudyRequest> {
    let train_paths = split_paths(&settings.train);
    anyhow::ensure!(
        !train_paths.is_empty(),
        "give training structures (PDB/mmCIF files, folders or TS50 JSON)"
    );
    let base = ContactStudyRequest::from_structures(&train_paths, &split_paths(&settings.test))?;
    Ok(ContactStudyRequest {
        layers: settings.layers.clone(),
        params: ContactProbeParams {
            rank: settings.rank,
            epochs: settings.epochs,
            ..ContactProbeParams::default()
        },
        residue_cap: settings.residue_cap,
        compare_untrained: settings.compare_untrained,
        store: settings.store.clone(),
        ..base
    })
}

/// Reads structures, trains and scores on a worker thread (called from the job).
pub fn compute_contacts(
    model: &LoadedModel,
    settings: &ContactSettings,
    ctx: &JobCtx,
) -> anyhow::Result<ContactsResult> {
    Ok(run_contact_study(model, &contact_request(settings)?, ctx)?)
}

/// The estimate line shown beside the start button: time, RAM and disk, or why the study would
/// be refused.
pub fn contacts_estimate_text(
    model: &LoadedModel,
    settings: &ContactSettings,
) -> Result<String, String> {
    estimate_text(contact_request(settings).map(|request| estimate_contact_study(model, &request)))
}

/// The test chain on screen: its true map and the best probe's prediction, read from the
/// store when the chain (or the result) changes, and its texture.
struct ShownMap {
    result: std::sync::Weak<ContactsResult>,
    index: usize,
    truth: ContactMap,
    predicted: Vec<f32>,
    texture: egui::TextureHandle,
}

/// View state kept between frames.
#[derive(Default)]
pub struct ContactsView {
    /// Settings of the next run.
    pub settings: ContactSettings,
    /// Index of the test chain shown.
    pub chain: usize,
    /// The chain on screen (another chain or a new result reads it again).
    shown: Option<ShownMap>,
    /// Why the chain on screen could not be predicted.
    shown_error: Option<String>,
    /// The estimate and the stores list under the inputs.
    controls: StudyControls,
    /// "Save best probe".
    pub probe: ProbeSaver,
    /// Export of the layer sweep.
    pub sweep_export: FigureExport,
    /// Export of the contact map.
    pub map_export: FigureExport,
    /// Export of the precision of every layer.
    pub precision_export: TableExport,
}

impl StudyView for ContactsView {
    type Settings = ContactSettings;
    type Output = Arc<ContactsResult>;
    const ID: &'static str = "Contacts";
    const TITLE: &'static str = "Contacts";
    const ABOUT: &'static str = "Bilinear probe of residue-residue contacts, layer by layer";
    const SETTINGS_KEY: &'static str = "contacts";
    const JOB_NAME: &'static str = "contact probe";

    fn result_replaced(&mut self) {
        self.probe.result_replaced();
        self.sweep_export.result_replaced();
        self.map_export.result_replaced();
        self.precision_export.result_replaced();
    }

    fn new() -> Self {
        Self {
            sweep_export: FigureExport::new("contacts_by_layer.svg"),
            map_export: FigureExport::new("contact_map.svg"),
            precision_export: TableExport::new("contacts_by_layer.csv"),
            probe: ProbeSaver::new("contact_probe.safetensors"),
            ..Self::default()
        }
    }

    fn settings(&self) -> &ContactSettings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut ContactSettings {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.settings.store
    }

    fn compute(
        model: &LoadedModel,
        settings: &ContactSettings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Arc<ContactsResult>> {
        compute_contacts(model, settings, ctx).map(Arc::new)
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Arc<ContactsResult>>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        contacts_view_ui(ui, self, result, progress, error, model)
    }

    /// The tour trains on about 2,000 of the kit's 5,492 training residues (whole chains).
    fn size_for_tour(&mut self) {
        self.settings.residue_cap = 2_000;
    }
}

/// Cell values of a contact map figure: predicted probability above the diagonal, the true
/// contacts (1 or 0) below it, NaN where a residue has no Cβ.
pub fn contact_map_cells(predicted: &[f32], truth: &ContactMap) -> Vec<f32> {
    let n = truth.len;
    (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            if !(truth.valid[i] && truth.valid[j]) {
                f32::NAN
            } else if j > i {
                predicted[k]
            } else if i > j {
                f32::from(u8::from(truth.contact(i, j)))
            } else {
                1.0
            }
        })
        .collect()
}

/// Top-L predicted pairs (|i-j| >= 6) and whether each is a true contact.
pub fn top_l_marks(predicted: &[f32], truth: &ContactMap) -> Vec<(usize, usize, bool)> {
    top_contact_pairs(predicted, truth.len, truth.len, CONTACT_MIN_SEPARATION)
        .into_iter()
        .map(|(i, j, _)| (i, j, truth.contact(i, j)))
        .collect()
}

/// The contact map figure of one chain.
fn map_figure(
    id: &str,
    truth: &ContactMap,
    predicted: &[f32],
    probe: &str,
    size: FigureSize,
) -> HeatmapFigure {
    let n = truth.len;
    let marks = top_l_marks(predicted, truth);
    let correct = marks.iter().filter(|m| m.2).count();
    let mut figure = HeatmapFigure::new(
        format!(
            "{}: top-L precision {:.2} ({probe})",
            id,
            correct as f64 / marks.len().max(1) as f64
        ),
        n,
        n,
        contact_map_cells(predicted, truth),
        [0.0, 1.0],
    );
    figure.x_label = "residue j (upper: predicted probability)".into();
    figure.y_label = "residue i (lower: Cβ < 8 Å)".into();
    figure.colour_bar_label = "probability".into();
    figure.markers = marks
        .iter()
        .map(|&(i, j, ok)| HeatmapMarker {
            row: i,
            col: j,
            rgb: if ok { CORRECT } else { WRONG },
        })
        .collect();
    figure.marker_legend = vec![
        (format!("top-L correct ({correct})"), CORRECT),
        (format!("top-L wrong ({})", marks.len() - correct), WRONG),
    ];
    figure.width = size.width;
    figure.height = size.height;
    figure
}

/// `(name, colour, dashed, runs)` of the sweep lines.
fn sweep_series(study: &ContactStudy) -> Vec<LineSeries> {
    let mut series = Vec::new();
    for (runs, name, rgb, dashed) in [
        (&study.sweep.runs, "trained", TRAINED, false),
        (&study.sweep.untrained, "untrained", UNTRAINED, true),
    ] {
        if runs.is_empty() {
            continue;
        }
        for (metric, f) in [
            (
                "long P@L",
                (|p: &ContactPrecision| p.long.at_l) as fn(&ContactPrecision) -> f64,
            ),
            ("long P@L/5", |p| p.long.at_l5),
        ] {
            series.push(LineSeries {
                name: format!("{name}: {metric}"),
                rgb: if metric == "long P@L/5" {
                    [rgb[0] / 2, rgb[1] / 2, rgb[2] / 2]
                } else {
                    rgb
                },
                points: runs.iter().map(|r| [r.layer as f64, f(&r.mean)]).collect(),
                dashed,
            });
        }
    }
    series
}

/// Structures, rank, epochs, residue cap, layers, baseline, store folder.
fn inputs_ui(ui: &mut egui::Ui, settings: &mut ContactSettings, num_layers: Option<usize>) {
    let field_width = input_field_width(ui);
    egui::Grid::new("contact_inputs").num_columns(3).show(ui, |ui| {
        for (name, value) in [
            ("Training structures", &mut settings.train),
            ("Test structures", &mut settings.test),
        ] {
            let label = ui.label(name);
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(value).desired_width(field_width))
                    .labelled_by(label.id)
                    .on_hover_text(
                        "PDB / mmCIF files, folders of them, or TS50-style JSON; separate several with ;",
                    );
                browse_button(ui, value, DialogKind::OpenStructures);
            });
            ui.end_row();
        }
        store_folder_row(ui, &mut settings.store, field_width);
    });
    ui.horizontal_wrapped(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.rank)
                .prefix("rank "),
        )
        .on_hover_text("Rank of the bilinear form: each residue is projected to this many dimensions on each side");
        ui.add(
            egui::DragValue::new(&mut settings.epochs)
                .prefix("epochs "),
        )
        .on_hover_text("Passes over the training pairs per layer");
        ui.add(
            egui::DragValue::new(&mut settings.residue_cap)
                .speed(1000)
                .prefix("training residues per layer ≤ "),
        )
        .on_hover_text(format!(
            "Above this a seeded sample of whole training chains is used. Each chain trains on all its contacts and {} sampled non-contacts per contact, weighted to stand for all of them.",
            crate::probes::DEFAULT_NEGATIVES_PER_POSITIVE
        ));
        layers_ui(ui, &mut settings.layers, num_layers);
        super::study_panel::untrained_checkbox(ui, &mut settings.compare_untrained);
    });
}

/// The contacts view.
pub fn contacts_view_ui(
    ui: &mut egui::Ui,
    view: &mut ContactsView,
    result: Option<&Arc<ContactsResult>>,
    progress: Option<Progress>,
    error: Option<&str>,
    model: Option<&LoadedModel>,
) -> Option<JobClick> {
    let num_layers = model.map(|m| m.model.config().num_layers);
    inputs_ui(ui, &mut view.settings, num_layers);
    let settings = view.settings.clone();
    let command = view.controls.ui(
        ui,
        "Train contact probe",
        StudyJob {
            model,
            progress,
            error,
        },
        &settings,
        &settings.store.root,
        contacts_estimate_text,
    );
    let Some(result) = result else {
        ui.label("Train a probe to see which layers encode tertiary contacts.");
        return command;
    };
    let study: &ContactStudy = result;
    let Some(best) = study.best_run() else {
        return command;
    };
    ui.separator();
    super::study_panel::provenance_line_ui(ui, &study.sweep.provenance);
    stores_line_ui(
        ui,
        &study.sweep.cost.stores,
        study.sweep.cost.residues_embedded,
    );
    view.probe.ui(
        ui,
        model,
        "safetensors + metadata, as `probe contacts --save`; `probe contacts-predict` applies it",
        |model, path| {
            crate::analysis::best_probe::save_best_contact_probe(study, &model.model_ref(), path)
                .map_err(|e| e.to_string())
        },
    );
    let p = &study.pairs;
    ui.label(format!(
        "Best layer {} ({BEST_CONTACT_LAYER}): long-range P@L {:.3}, P@L/5 {:.3} on the {} test chains. Probe trained on {} chains ({} residues): {} contacts, {} of {} non-contacts sampled.",
        best.layer,
        best.mean.long.at_l,
        best.mean.long.at_l5,
        study.test.len(),
        p.chains,
        p.residues,
        p.contacts,
        p.sampled_non_contacts,
        p.non_contacts,
    ));
    split_ui(ui, &study.split);
    super::two_columns::two_columns_ui(ui, |ui, column| {
        if column == 1 {
            chain_map_ui(ui, view, result);
            return;
        }
        layer_sweep_ui(
            ui,
            SweepPlot {
                id: "contacts_sweep",
                figure_name: "Layer sweep",
                file_stem: "contacts_by_layer",
                title: format!(
                    "Contact precision by layer, {}",
                    study.sweep.provenance.model.name
                ),
                y_label: "long-range precision",
                series: sweep_series(study),
                baselines: vec![Baseline {
                    label: "random predictor (long range)".into(),
                    value: study.random_long_precision,
                }]
                .into_iter()
                .filter(|b| b.value.is_finite())
                .collect(),
            },
            &mut view.sweep_export,
            &study.sweep.provenance,
        );
        precision_table_ui(ui, study);
        view.precision_export.follow(&crate::export::result_stem(&[
            "contacts_by_layer",
            &study.sweep.provenance.model.name,
        ]));
        if table_export_ui(ui, "Precision", &mut view.precision_export) {
            view.precision_export.save(
                ui.ctx(),
                contact_study_table(study),
                Some(&study.sweep.provenance),
            );
        }
    });
    command
}

/// The test-chain picker, the chosen chain's map and its export.
fn chain_map_ui(ui: &mut egui::Ui, view: &mut ContactsView, result: &Arc<ContactsResult>) {
    let study: &ContactStudy = result;
    let Some(best) = study.best_run() else {
        return;
    };
    view.chain = view.chain.min(study.test.len().saturating_sub(1));
    egui::ComboBox::from_label("test protein")
        .selected_text(study.test[view.chain].id.clone())
        .show_ui(ui, |ui| {
            for (k, chain) in study.test.iter().enumerate() {
                ui.selectable_value(
                    &mut view.chain,
                    k,
                    format!("{} ({} residues)", chain.id, chain.sequence.len()),
                );
            }
        })
        .response
        .on_hover_text("The test protein whose predicted contact map is shown (best layer)");
    let current = view.shown.as_ref().is_some_and(|shown| {
        shown.index == view.chain && shown.result.ptr_eq(&Arc::downgrade(result))
    });
    if !current {
        match study.predict_chain(view.chain) {
            Ok(predicted) => {
                let truth = study.test[view.chain].contact_map(CONTACT_THRESHOLD_ANGSTROM);
                view.shown = Some(ShownMap {
                    result: Arc::downgrade(result),
                    index: view.chain,
                    texture: map_texture(ui, &truth, &predicted, view.chain),
                    truth,
                    predicted,
                });
                view.shown_error = None;
            }
            Err(err) => {
                view.shown = None;
                view.shown_error = Some(format!("cannot read this chain's features: {err}"));
            }
        }
    }
    if let Some(err) = &view.shown_error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    let Some(shown) = view.shown.as_ref() else {
        return;
    };
    let chain = &study.test[shown.index];
    contact_map_ui(ui, shown, &chain.id, &chain.sequence);
    view.map_export.follow(&crate::export::result_stem(&[
        "contact_map",
        &chain.id,
        &format!("layer{}", best.layer),
        &study.sweep.provenance.model.name,
    ]));
    if figure_export_ui(ui, "Contact map", &mut view.map_export) {
        let (id, truth, predicted) = (
            chain.id.clone(),
            shown.truth.clone(),
            shown.predicted.clone(),
        );
        let probe = format!(
            "layer {}, {}",
            best.layer, study.sweep.provenance.model.name
        );
        view.map_export
            .save(ui.ctx(), Some(&study.sweep.provenance), move |size| {
                crate::export::heatmap_svg(&map_figure(&id, &truth, &predicted, &probe, size))
            });
    }
}

fn precision_table_ui(ui: &mut egui::Ui, study: &ContactStudy) {
    let Some(best) = study.best_run() else {
        return;
    };
    let mut columns: Vec<(String, &ContactPrecision)> =
        vec![(format!("probe, layer {}", best.layer), &best.mean)];
    if let Some(run) = study.sweep.untrained.iter().find(|r| r.layer == best.layer) {
        columns.push((format!("untrained, layer {}", run.layer), &run.mean));
    }
    if let Some(head) = &study.head {
        columns.push(("contact head".into(), &head.mean));
    }
    type Metric = fn(&ContactPrecision) -> f64;
    let metrics: [(&str, Metric); 5] = [
        ("short P@L/5", |p| p.short.at_l5),
        ("medium P@L/5", |p| p.medium.at_l5),
        ("long P@L/5", |p| p.long.at_l5),
        ("long P@L/2", |p| p.long.at_l2),
        ("long P@L", |p| p.long.at_l),
    ];
    // One column per predictor (at most three), one row per metric: narrow enough for an
    // 800-point window.
    egui::Grid::new("contact_precision")
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            for (name, _) in &columns {
                ui.strong(name);
            }
            ui.end_row();
            for (metric, value) in metrics {
                ui.label(metric);
                for (_, precision) in &columns {
                    ui.label(format!("{:.3}", value(precision)));
                }
                ui.end_row();
            }
        });
}

/// The map's texture: predicted probability above the diagonal, true contacts below.
fn map_texture(
    ui: &egui::Ui,
    truth: &ContactMap,
    predicted: &[f32],
    index: usize,
) -> egui::TextureHandle {
    let n = truth.len;
    let figure = HeatmapFigure::new("", n, n, contact_map_cells(predicted, truth), [0.0, 1.0]);
    let pixels: Vec<egui::Color32> = figure
        .values
        .iter()
        .map(|&v| {
            let [r, g, b] = figure.colour(v);
            egui::Color32::from_rgb(r, g, b)
        })
        .collect();
    ui.ctx().load_texture(
        format!("contact_map_{index}"),
        egui::ColorImage::new([n, n], pixels),
        egui::TextureOptions::NEAREST,
    )
}

/// The map as a zoomable plot: predicted (upper) over true (lower) with top-L markers, ticks at
/// round residue numbers, and the pair under the pointer with its probability and truth.
fn contact_map_ui(ui: &mut egui::Ui, shown: &ShownMap, id: &str, sequence: &str) {
    let n = shown.truth.len;
    let marks = top_l_marks(&shown.predicted, &shown.truth);
    let correct = marks.iter().filter(|m| m.2).count();
    ui.label(format!(
        "{id}: {n} residues. Upper triangle: predicted probability; lower: true contacts (C-beta < 8 A). \
         Markers: the top-L predicted pairs (|i-j| >= 6), {correct} of {} true contacts (green) and {} not (red).",
        marks.len(),
        marks.len() - correct
    ));
    let size = n as f64;
    // Residue i (1-based) is row y in [n - i, n - i + 1] (residue 1 at the top, as in a matrix)
    // and column x in [i - 1, i].
    let at = |i: usize, j: usize| [j as f64 + 0.5, size - i as f64 - 0.5];
    let (good, bad): (Vec<&(usize, usize, bool)>, Vec<_>) = marks.iter().partition(|m| m.2);
    let (predicted, truth) = (&shown.predicted, &shown.truth);
    Plot::new("contact_map")
        .data_aspect(1.0)
        // The wheel scrolls the page; Ctrl + wheel zooms.
        .allow_scroll(false)
        .height(ui.available_height().clamp(240.0, 520.0) - 40.0)
        .x_axis_label("residue j")
        .y_axis_label("residue i")
        .x_grid_spacer(move |input| residue_marks(input.bounds, |r| r - 0.5, |x| x + 0.5))
        .y_grid_spacer(move |input| {
            residue_marks(input.bounds, |r| size - r + 0.5, |y| size - y + 0.5)
        })
        .x_axis_formatter(move |mark, _| residue_label(mark.value + 0.5, size))
        .y_axis_formatter(move |mark, _| residue_label(size - mark.value + 0.5, size))
        .label_formatter(move |hover| {
            let p = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            let (j, i) = (p.x.floor(), (size - p.y).floor());
            ((0.0..size).contains(&i) && (0.0..size).contains(&j))
                .then(|| pair_text(sequence, predicted, truth, i as usize, j as usize))
        })
        .show(ui, |plot| {
            plot.image(PlotImage::new(
                "map",
                shown.texture.id(),
                PlotPoint::new(size / 2.0, size / 2.0),
                egui::vec2(size as f32, size as f32),
            ));
            let radius = (300.0 / size as f32).clamp(1.0, 4.0);
            for (name, list, rgb) in [
                ("top-L correct", &good, CORRECT),
                ("top-L wrong", &bad, WRONG),
            ] {
                let points: Vec<[f64; 2]> = list.iter().map(|m| at(m.0, m.1)).collect();
                plot.points(
                    Points::new(
                        format!("{name} ({})", points.len()),
                        PlotPoints::new(points),
                    )
                    .color(egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2]))
                    .radius(radius),
                );
            }
        });
    ui.weak(super::layer_sweep::PLOT_NAVIGATION);
}

/// Grid marks at round residue numbers over the plot range `bounds`: `to_plot` maps a residue
/// number to the axis, `to_residue` back.
fn residue_marks(
    bounds: (f64, f64),
    to_plot: impl Fn(f64) -> f64,
    to_residue: impl Fn(f64) -> f64,
) -> Vec<egui_plot::GridMark> {
    let (a, b) = (to_residue(bounds.0), to_residue(bounds.1));
    let ticks = crate::export::nice_ticks_at_least(a.min(b), a.max(b), 6, 1.0);
    let step = match ticks.as_slice() {
        [x, y, ..] => (y - x).abs(),
        _ => 1.0,
    };
    ticks
        .into_iter()
        .map(|r| egui_plot::GridMark {
            value: to_plot(r),
            step_size: step,
        })
        .collect()
}

/// A residue number on an axis (nothing outside `1..=size`).
fn residue_label(residue: f64, size: f64) -> String {
    if (1.0..=size).contains(&residue.round()) {
        format!("{:.0}", residue.round())
    } else {
        String::new()
    }
}

/// What the pointer is on: both residues, the predicted probability and the truth.
fn pair_text(sequence: &str, predicted: &[f32], truth: &ContactMap, i: usize, j: usize) -> String {
    let residue = |k: usize| sequence.chars().nth(k).unwrap_or('?');
    let n = truth.len;
    let probability = predicted
        .get(i * n + j)
        .map_or("-".to_owned(), |p| format!("{p:.3}"));
    let actual = if !(truth.valid[i] && truth.valid[j]) {
        "no coordinates"
    } else if truth.contact(i, j) {
        "contact"
    } else {
        "no contact"
    };
    format!(
        "i {} {}, j {} {} (|i-j| = {})\npredicted p = {probability}; true: {actual}",
        i + 1,
        residue(i),
        j + 1,
        residue(j),
        i.abs_diff(j)
    )
}
