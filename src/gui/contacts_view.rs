//! Contacts view: train the paper's bilinear contact probe by click (one layer or all, optionally
//! beside the same architecture untrained), see long-range precision against the layer, the
//! precision table by separation range (and the model's own contact head when it has one), and
//! for any test protein the predicted map over the true one with the top-L contacts marked.

use std::sync::Arc;

use eframe::egui;
use egui_plot::{Legend, Plot, PlotImage, PlotPoint, PlotPoints, Points};

use super::figure_export::{FigureExport, FigureSize, figure_export_ui};
use super::file_dialog::{DialogKind, browse_button, split_paths};
use super::job::{JobClick, Progress, job_controls};
use super::layer_sweep::layer_sweep_ui;
use super::table_export::{TableExport, table_export_ui};
use crate::analysis::JobCtx;
use crate::analysis::contact_head_run::{
    CONTACT_THRESHOLD_ANGSTROM, ContactHeadEvaluation, evaluate_contact_head,
};
use crate::analysis::contact_probe_run::{ContactProbeRun, run_contact_probe};
use crate::data::{ContactMap, ProteinChain, read_structures};
use crate::export::{HeatmapFigure, HeatmapMarker, LineSeries};
use crate::model::LoadedModel;
use crate::probes::{
    CONTACT_MIN_SEPARATION, ContactPrecision, ContactProbeParams, top_contact_pairs,
};
use polars::prelude::{Column, DataFrame, PolarsResult};

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
    /// Probe every layer (else only `layer`).
    pub sweep: bool,
    /// The layer probed when not sweeping.
    pub layer: usize,
    /// Rank of the bilinear map.
    pub rank: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Also train on the untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
}

impl Default for ContactSettings {
    fn default() -> Self {
        let demo = "datasets/demo/structures.json";
        Self {
            train: super::shared_data_or("structures/pdb", demo),
            test: super::shared_data_or("structures/ts50.json", demo),
            sweep: true,
            layer: usize::MAX,
            rank: ContactProbeParams::default().rank,
            epochs: ContactProbeParams::default().epochs,
            compare_untrained: false,
        }
    }
}

/// A test chain with its true map.
pub struct TestChain {
    /// Chain id.
    pub id: String,
    /// Sequence.
    pub sequence: String,
    /// Cβ < 8 Å contacts.
    pub truth: ContactMap,
}

/// A finished contact run.
pub struct ContactsResult {
    /// One run per layer, trained model.
    pub runs: Vec<ContactProbeRun>,
    /// The same on the untrained copy (empty when not compared).
    pub untrained: Vec<ContactProbeRun>,
    /// The model's own contact head, when it has one.
    pub head: Option<ContactHeadEvaluation>,
    /// Index of the best trained run (long-range P@L/5).
    pub best: usize,
    /// Test chains, in the order of each run's predictions.
    pub chains: Vec<TestChain>,
    /// Whether training and test sets are the same files (scores are then optimistic).
    pub same_sets: bool,
}

/// Reads structures, trains and scores on a worker thread (called from the job).
pub fn compute_contacts(
    model: &LoadedModel,
    settings: &ContactSettings,
    ctx: &JobCtx,
) -> anyhow::Result<ContactsResult> {
    let train_paths = split_paths(&settings.train);
    let test_paths = split_paths(&settings.test);
    anyhow::ensure!(
        !train_paths.is_empty(),
        "give training structures (PDB/mmCIF files, folders or TS50 JSON)"
    );
    anyhow::ensure!(!test_paths.is_empty(), "give test structures");
    let train = read_structures(&train_paths)?;
    let test = read_structures(&test_paths)?;
    anyhow::ensure!(
        !train.is_empty(),
        "no protein chains in the training structures"
    );
    anyhow::ensure!(!test.is_empty(), "no protein chains in the test structures");
    let num_layers = model.model.config().num_layers;
    let layers: Vec<usize> = if settings.sweep {
        (0..=num_layers).collect()
    } else {
        vec![settings.layer.min(num_layers)]
    };
    let params = ContactProbeParams {
        rank: settings.rank.max(1),
        epochs: settings.epochs.max(1),
        ..ContactProbeParams::default()
    };
    let (probe_end, untrained_end) = if settings.compare_untrained {
        (0.45, 0.9)
    } else {
        (0.9, 0.9)
    };
    let runs = run_contact_probe(
        model,
        &train,
        &test,
        &layers,
        &params,
        &ctx.scoped(0.0, probe_end),
    )?;
    let untrained = if settings.compare_untrained {
        let copy = model.untrained_copy(0)?;
        run_contact_probe(
            &copy,
            &train,
            &test,
            &layers,
            &params,
            &ctx.scoped(probe_end, untrained_end),
        )?
    } else {
        Vec::new()
    };
    let head = if model.model.has_contact_head() {
        Some(evaluate_contact_head(
            model,
            &test,
            &ctx.scoped(untrained_end, 1.0),
        )?)
    } else {
        None
    };
    let best = (0..runs.len())
        .max_by(|&a, &b| long_l5(&runs[a].mean).total_cmp(&long_l5(&runs[b].mean)))
        .ok_or_else(|| anyhow::anyhow!("no layer was probed"))?;
    let chains = test.iter().map(test_chain).collect();
    let same_sets = train_paths == test_paths;
    Ok(ContactsResult {
        runs,
        untrained,
        head,
        best,
        chains,
        same_sets,
    })
}

fn test_chain(chain: &ProteinChain) -> TestChain {
    TestChain {
        id: chain.id.clone(),
        sequence: chain.sequence.clone(),
        truth: chain.contact_map(CONTACT_THRESHOLD_ANGSTROM),
    }
}

/// Long-range precision at L/5, NaN-safe for ranking.
fn long_l5(p: &ContactPrecision) -> f64 {
    if p.long.at_l5.is_finite() {
        p.long.at_l5
    } else {
        -1.0
    }
}

/// View state kept between frames.
#[derive(Default)]
pub struct ContactsView {
    /// Settings of the next run.
    pub settings: ContactSettings,
    /// Index of the test chain shown.
    pub chain: usize,
    /// The shown map as a texture, with the result and chain index it was drawn from (a new
    /// result or another chain redraws it).
    texture: Option<MapTexture>,
    /// Export of the layer sweep.
    pub sweep_export: FigureExport,
    /// Export of the contact map.
    pub map_export: FigureExport,
    /// Export of the precision of every layer.
    pub precision_export: TableExport,
}

impl ContactsView {
    /// A view with the default inputs and export names.
    pub fn new() -> Self {
        Self {
            sweep_export: FigureExport::new("contacts_by_layer.svg"),
            map_export: FigureExport::new("contact_map.svg"),
            precision_export: TableExport::new("contacts_by_layer.csv"),
            ..Self::default()
        }
    }
}

/// What the view asks the app to do.
pub enum ContactsCommand {
    /// Train with these settings.
    Train(ContactSettings),
    /// Stop the running job.
    Cancel,
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
    chain: &TestChain,
    predicted: &[f32],
    layer: usize,
    size: FigureSize,
) -> HeatmapFigure {
    let n = chain.truth.len;
    let marks = top_l_marks(predicted, &chain.truth);
    let correct = marks.iter().filter(|m| m.2).count();
    let mut figure = HeatmapFigure::new(
        format!(
            "{}: top-L precision {:.2} (layer {layer})",
            chain.id,
            correct as f64 / marks.len().max(1) as f64
        ),
        n,
        n,
        contact_map_cells(predicted, &chain.truth),
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
fn sweep_series(result: &ContactsResult) -> Vec<LineSeries> {
    let mut series = Vec::new();
    for (runs, name, rgb, dashed) in [
        (&result.runs, "trained", TRAINED, false),
        (&result.untrained, "untrained", UNTRAINED, true),
    ] {
        if runs.is_empty() {
            continue;
        }
        for (metric, f) in [
            (
                "long P@L/5",
                (|p: &ContactPrecision| p.long.at_l5) as fn(&ContactPrecision) -> f64,
            ),
            ("long P@L", |p| p.long.at_l),
        ] {
            series.push(LineSeries {
                name: format!("{name}: {metric}"),
                rgb: if metric == "long P@L" {
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

/// The contacts view.
pub fn contacts_view_ui(
    ui: &mut egui::Ui,
    view: &mut ContactsView,
    result: Option<&Arc<ContactsResult>>,
    progress: Option<Progress>,
    error: Option<&str>,
    num_layers: Option<usize>,
) -> Option<ContactsCommand> {
    let mut command = None;
    let settings = &mut view.settings;
    for (name, value) in [
        ("Training structures", &mut settings.train),
        ("Test structures", &mut settings.test),
    ] {
        ui.horizontal(|ui| {
            let label = ui.add_sized([130.0, 18.0], egui::Label::new(name));
            ui.add(egui::TextEdit::singleline(value).desired_width(420.0))
                .labelled_by(label.id)
                .on_hover_text(
                    "PDB / mmCIF files, folders of them, or TS50-style JSON; separate several with ;",
                );
            browse_button(ui, value, DialogKind::OpenStructures);
        });
    }
    ui.horizontal_wrapped(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.rank)
                .range(1..=512)
                .prefix("rank "),
        );
        ui.add(
            egui::DragValue::new(&mut settings.epochs)
                .range(1..=500)
                .prefix("epochs "),
        );
        ui.checkbox(&mut settings.sweep, "all layers");
        if let Some(layers) = num_layers
            && !settings.sweep
        {
            settings.layer = settings.layer.min(layers);
            ui.add(egui::Slider::new(&mut settings.layer, 0..=layers).text("layer"));
        }
        ui.checkbox(&mut settings.compare_untrained, "compare with untrained");
        let why_disabled = num_layers.is_none().then_some("load a model first");
        command = match job_controls(ui, progress, 160.0, "Train contact probe", why_disabled) {
            Some(JobClick::Start) => Some(ContactsCommand::Train(settings.clone())),
            Some(JobClick::Cancel) => Some(ContactsCommand::Cancel),
            None => None,
        };
    });
    if let Some(err) = error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    let Some(result) = result else {
        ui.label("Train a probe to see which layers encode tertiary contacts.");
        return command;
    };
    let best = &result.runs[result.best];
    ui.separator();
    ui.label(format!(
        "Best layer {}: long-range P@L/5 {:.3}, P@L {:.3} on {} test chains",
        best.layer,
        best.mean.long.at_l5,
        best.mean.long.at_l,
        result.chains.len()
    ));
    if result.same_sets {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "training and test structures are the same: scores are optimistic",
        );
    }
    ui.columns(2, |columns| {
        let ui = &mut columns[0];
        if result.runs.len() > 1 || !result.untrained.is_empty() {
            layer_sweep_ui(
                ui,
                "contacts_sweep",
                "Contact precision by layer",
                "precision",
                sweep_series(result),
                &mut view.sweep_export,
            );
        }
        precision_table_ui(ui, result);
        if table_export_ui(ui, "Precision", &mut view.precision_export) {
            view.precision_export
                .save(ui.ctx(), contact_precision_table(result));
        }
        let ui = &mut columns[1];
        view.chain = view.chain.min(result.chains.len().saturating_sub(1));
        egui::ComboBox::from_label("test protein")
            .selected_text(result.chains[view.chain].id.clone())
            .show_ui(ui, |ui| {
                for (k, chain) in result.chains.iter().enumerate() {
                    ui.selectable_value(
                        &mut view.chain,
                        k,
                        format!("{} ({} residues)", chain.id, chain.truth.len),
                    );
                }
            });
        let chain = &result.chains[view.chain];
        let predicted = &best.predictions[view.chain];
        contact_map_ui(
            ui,
            &mut view.texture,
            (result, view.chain),
            chain,
            predicted,
        );
        if figure_export_ui(ui, "Contact map", &mut view.map_export) {
            let (result, k) = (result.clone(), view.chain);
            view.map_export.save(ui.ctx(), move |size| {
                let best = &result.runs[result.best];
                crate::export::heatmap_svg(&map_figure(
                    &result.chains[k],
                    &best.predictions[k],
                    best.layer,
                    size,
                ))
            });
        }
    });
    command
}

/// `model, layer, {short,medium,long}_p_at_{l,l2,l5}`: every probed layer (trained, then
/// untrained) and the contact head (no layer: it reads every layer's attention).
pub fn contact_precision_table(result: &ContactsResult) -> PolarsResult<DataFrame> {
    let mut rows: Vec<(&str, Option<u32>, &ContactPrecision)> = result
        .runs
        .iter()
        .map(|r| ("probe", Some(r.layer as u32), &r.mean))
        .chain(
            result
                .untrained
                .iter()
                .map(|r| ("untrained probe", Some(r.layer as u32), &r.mean)),
        )
        .collect();
    if let Some(head) = &result.head {
        rows.push(("contact head", None, &head.mean));
    }
    let mut columns = vec![
        Column::new(
            "model".into(),
            rows.iter().map(|(m, _, _)| *m).collect::<Vec<_>>(),
        ),
        Column::new(
            "layer".into(),
            rows.iter().map(|(_, l, _)| *l).collect::<Vec<_>>(),
        ),
    ];
    type Pick = fn(&ContactPrecision) -> &crate::probes::RangePrecision;
    let ranges: [(&str, Pick); 3] = [
        ("short", |p| &p.short),
        ("medium", |p| &p.medium),
        ("long", |p| &p.long),
    ];
    for (range, pick) in ranges {
        for (k, name) in ["l", "l2", "l5"].iter().enumerate() {
            let values: Vec<f64> = rows
                .iter()
                .map(|(_, _, p)| {
                    let r = pick(p);
                    [r.at_l, r.at_l2, r.at_l5][k]
                })
                .collect();
            columns.push(Column::new(format!("{range}_p_at_{name}").into(), values));
        }
    }
    DataFrame::new(rows.len(), columns)
}

fn precision_table_ui(ui: &mut egui::Ui, result: &ContactsResult) {
    let mut rows: Vec<(String, &ContactPrecision)> = vec![(
        format!("probe, layer {}", result.runs[result.best].layer),
        &result.runs[result.best].mean,
    )];
    if let Some(run) = result
        .untrained
        .iter()
        .find(|r| r.layer == result.runs[result.best].layer)
    {
        rows.push((format!("untrained, layer {}", run.layer), &run.mean));
    }
    if let Some(head) = &result.head {
        rows.push(("contact head".into(), &head.mean));
    }
    egui::Grid::new("contact_precision")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "",
                "short P@L/5",
                "medium P@L/5",
                "long P@L/5",
                "long P@L/2",
                "long P@L",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for (name, p) in rows {
                ui.label(name);
                for v in [
                    p.short.at_l5,
                    p.medium.at_l5,
                    p.long.at_l5,
                    p.long.at_l2,
                    p.long.at_l,
                ] {
                    ui.label(format!("{v:.3}"));
                }
                ui.end_row();
            }
        });
}

/// The map as a zoomable plot: predicted (upper) over true (lower) with top-L markers.
/// A drawn contact map: which result and chain it shows, and the texture.
type MapTexture = (std::sync::Weak<ContactsResult>, usize, egui::TextureHandle);

fn contact_map_ui(
    ui: &mut egui::Ui,
    texture: &mut Option<MapTexture>,
    (result, index): (&Arc<ContactsResult>, usize),
    chain: &TestChain,
    predicted: &[f32],
) {
    let n = chain.truth.len;
    let current = texture
        .as_ref()
        .is_some_and(|(shown, k, _)| *k == index && shown.ptr_eq(&Arc::downgrade(result)));
    if !current {
        let figure = HeatmapFigure::new(
            "",
            n,
            n,
            contact_map_cells(predicted, &chain.truth),
            [0.0, 1.0],
        );
        let pixels: Vec<egui::Color32> = figure
            .values
            .iter()
            .map(|&v| {
                let [r, g, b] = figure.colour(v);
                egui::Color32::from_rgb(r, g, b)
            })
            .collect();
        let image = egui::ColorImage::new([n, n], pixels);
        let handle = ui.ctx().load_texture(
            format!("contact_map_{index}"),
            image,
            egui::TextureOptions::NEAREST,
        );
        *texture = Some((Arc::downgrade(result), index, handle));
    }
    let Some((_, _, handle)) = texture.as_ref() else {
        return;
    };
    let marks = top_l_marks(predicted, &chain.truth);
    let correct = marks.iter().filter(|m| m.2).count();
    ui.label(format!(
        "{}: {n} residues; top-L (|i-j| ≥ 6): {correct} of {} correct. Upper triangle: predicted; lower: true contacts.",
        chain.id,
        marks.len()
    ));
    let size = n as f64;
    // Row i is drawn at y = n - i - 0.5 so residue 1 is at the top, as in a matrix.
    let at = |i: usize, j: usize| [j as f64 + 0.5, size - i as f64 - 0.5];
    let (good, bad): (Vec<&(usize, usize, bool)>, Vec<_>) = marks.iter().partition(|m| m.2);
    let sequence = chain.sequence.clone();
    Plot::new("contact_map")
        .data_aspect(1.0)
        .height(ui.available_height().clamp(240.0, 520.0) - 40.0)
        .legend(Legend::default())
        .x_axis_label("residue j")
        .y_axis_label("residue i")
        // Rows run downwards from residue 1, so the y axis counts from the top.
        .y_axis_formatter(move |mark, _| {
            let residue = size - mark.value;
            if (0.0..=size).contains(&residue) {
                format!("{residue:.0}")
            } else {
                String::new()
            }
        })
        .label_formatter(move |hover| {
            let p = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            let (j, i) = (p.x.floor(), (size - p.y).floor());
            ((0.0..size).contains(&i) && (0.0..size).contains(&j)).then(|| {
                let residue = |k: f64| sequence.chars().nth(k as usize).unwrap_or('?');
                format!(
                    "i {} {} · j {} {}",
                    i + 1.0,
                    residue(i),
                    j + 1.0,
                    residue(j)
                )
            })
        })
        .show(ui, |plot| {
            plot.image(PlotImage::new(
                "map",
                handle.id(),
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
}
