//! Contacts view: train the paper's bilinear contact probe by click (one layer or all, optionally
//! beside the same architecture untrained), see long-range precision against the layer, the
//! precision table by separation range (and the model's own contact head when it has one), and
//! for any test protein the predicted map over the true one with the top-L contacts marked.

use std::sync::Arc;

use eframe::egui;

use super::contact_map_plot::{ContactMapImage, contact_map_plot_ui, map_figure};
use super::figure_export::{FigureExport, figure_export_ui};
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
use crate::export::Baseline;
use crate::export::LineSeries;
use crate::model::{Layers, LoadedModel};
use crate::probes::{ContactPrecision, ContactProbeParams};
use crate::store::StoreOptions;

/// Colours of the two model lines.
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
    /// A contact-head file scored beside the probe and the model's own head (empty: none).
    #[serde(default)]
    pub regression: String,
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
            regression: String::new(),
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
        regression: Some(settings.regression.trim())
            .filter(|p| !p.is_empty())
            .map(Into::into),
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
    image: ContactMapImage,
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
        let label = ui.label("Saved regression");
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut settings.regression)
                    .hint_text("optional: regression.safetensors")
                    .desired_width(field_width),
            )
            .labelled_by(label.id)
            .on_hover_text("An all-heads regression saved by the Heads view or `probe heads --save-regression` (or a fair-esm *-contact-regression.pt), scored on the test structures beside the probe and the model's own contact head");
            browse_button(ui, &mut settings.regression, DialogKind::OpenContactHead);
        });
        ui.end_row();
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
                    image: ContactMapImage::new(
                        ui,
                        truth,
                        predicted,
                        "predicted p",
                        &format!("contact_map_{}", view.chain),
                    ),
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
    contact_map_plot_ui(
        ui,
        "contact_map",
        &shown.image,
        (&chain.id, &chain.sequence),
    );
    view.map_export.follow(&crate::export::result_stem(&[
        "contact_map",
        &chain.id,
        &format!("layer{}", best.layer),
        &study.sweep.provenance.model.name,
    ]));
    if figure_export_ui(ui, "Contact map", &mut view.map_export) {
        let (id, truth, predicted) = (
            chain.id.clone(),
            shown.image.truth.clone(),
            shown.image.predicted.clone(),
        );
        let probe = format!(
            "layer {}, {}",
            best.layer, study.sweep.provenance.model.name
        );
        view.map_export
            .save(ui.ctx(), Some(&study.sweep.provenance), move |size| {
                crate::export::heatmap_svg(&map_figure(
                    &id,
                    &truth,
                    &predicted,
                    (&probe, "predicted probability"),
                    size,
                ))
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
    if let Some(scored) = &study.regression {
        let file = scored
            .path
            .file_stem()
            .map_or_else(|| "regression".into(), |s| s.to_string_lossy().into_owned());
        columns.push((file, &scored.evaluation.mean));
    }
    type Metric = fn(&ContactPrecision) -> f64;
    let metrics: [(&str, Metric); 5] = [
        ("short P@L/5", |p| p.short.at_l5),
        ("medium P@L/5", |p| p.medium.at_l5),
        ("long P@L/5", |p| p.long.at_l5),
        ("long P@L/2", |p| p.long.at_l2),
        ("long P@L", |p| p.long.at_l),
    ];
    // One column per predictor (at most four), one row per metric: narrow enough for an
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
