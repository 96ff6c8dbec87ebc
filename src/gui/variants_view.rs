//! Variants view: zero-shot variant effects of one protein (the variant study, the same one
//! `variants` runs). Score the bundled deep mutational scan (or any FASTA + DMS file, or typed
//! mutations) by wt- and masked-marginals (and pseudo-ppl for listed variants), see each
//! strategy's Spearman ρ against the assay beside the untrained copy's, the 20 × L heatmap,
//! a clicked position's 20 scores, and the predicted-vs-measured scatter; export the heatmap
//! and the tables.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui;
use egui_plot::{Plot, PlotPoints, Points};

use super::figure_export::{FigureExport, figure_export_ui};
use super::file_dialog::{DialogKind, browse_append_button, browse_button, paths_of_lines};
use super::job::{JobClick, Progress};
use super::study_panel::{StudyControls, StudyJob, estimate_text, input_field_width};
use super::table_export::{TableExport, table_export_ui};
use super::variant_heatmap::{HeatmapImage, heatmap_figure, heatmap_plot_ui};
use super::view_slot::StudyView;
use crate::analysis::JobCtx;
use crate::analysis::variant_ensemble::{estimate_variant_ensemble, run_variant_ensemble};
use crate::analysis::variant_inputs::VariantInputs;
use crate::analysis::variant_scan::ScoringStrategy;
use crate::analysis::variant_study::{VariantStudy, VariantStudyRequest};
use crate::analysis::variant_study_table::{matrix_table, variant_table};
use crate::bundled::bundled_path_text;
use crate::data::AMINO_ACIDS;
use crate::model::LoadedModel;
use crate::store::StoreOptions;

/// The bundled example (datasets/dms).
const EXAMPLE_FASTA: &str = "datasets/dms/BLAT_ECOLX.fasta";
/// See [`EXAMPLE_FASTA`].
const EXAMPLE_DMS: &str = "datasets/dms/BLAT_ECOLX_Ranganathan2015.csv";

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct VariantSettings {
    /// FASTA holding the wild type.
    pub fasta: String,
    /// Its record (empty: the first).
    pub record: String,
    /// Deep mutational scan (empty: none).
    pub dms: String,
    /// Its mutant column.
    pub mutant_column: String,
    /// Its score column.
    pub score_column: String,
    /// Typed mutations, comma-separated.
    pub mutations: String,
    /// Numbering offset (empty: found from the variants).
    pub offset: String,
    /// Strategies: wt-marginals, masked-marginals, pseudo-ppl.
    pub strategies: [bool; 3],
    /// Also score the untrained copy.
    pub compare_untrained: bool,
    /// A saved SS8 probe of the loaded model (empty: no SS8 track).
    pub ss8_probe: String,
    /// More checkpoints averaged with the loaded model, one path a line (empty: none).
    pub ensemble: String,
    /// Forward batch size.
    pub store: StoreOptions,
}

impl Default for VariantSettings {
    fn default() -> Self {
        Self {
            fasta: bundled_path_text(EXAMPLE_FASTA),
            record: String::new(),
            dms: bundled_path_text(EXAMPLE_DMS),
            mutant_column: crate::data::dms::DEFAULT_MUTANT_COLUMN.into(),
            score_column: "2500".into(),
            mutations: String::new(),
            offset: String::new(),
            strategies: [true, true, false],
            compare_untrained: true,
            ss8_probe: String::new(),
            ensemble: String::new(),
            store: StoreOptions::default(),
        }
    }
}

const STRATEGIES: [ScoringStrategy; 3] = [
    ScoringStrategy::WtMarginals,
    ScoringStrategy::MaskedMarginals,
    ScoringStrategy::PseudoPpl,
];

/// The study `settings` describe (reads the files).
pub fn variant_request(settings: &VariantSettings) -> anyhow::Result<VariantStudyRequest> {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let offset = match text(&settings.offset) {
        None => None,
        Some(o) => Some(o.parse::<i64>().map_err(|_| {
            anyhow::anyhow!("offset: {o:?} is not a whole number (leave it empty to find it)")
        })?),
    };
    let inputs = VariantInputs {
        fasta: text(&settings.fasta).map(Into::into),
        id: text(&settings.record),
        sequence: None,
        mutations: settings
            .mutations
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        dms: text(&settings.dms).map(|path| {
            (
                path.into(),
                text(&settings.mutant_column),
                text(&settings.score_column),
            )
        }),
        offset,
        ss8_probe: text(&settings.ss8_probe).map(Into::into),
    };
    let strategies = STRATEGIES
        .iter()
        .zip(settings.strategies)
        .filter(|(_, on)| *on)
        .map(|(s, _)| *s)
        .collect();
    let mut request = VariantStudyRequest::from_inputs(&inputs, strategies)?;
    request.compare_untrained = settings.compare_untrained;
    request.store = settings.store.clone();
    Ok(request)
}

/// The ensemble members `settings` name (one path a line).
fn ensemble_members(settings: &VariantSettings) -> Vec<std::path::PathBuf> {
    paths_of_lines(&settings.ensemble)
}

/// The estimate line beside the start button.
pub fn variants_estimate_text(
    model: &LoadedModel,
    settings: &VariantSettings,
) -> Result<String, String> {
    let members = ensemble_members(settings);
    estimate_text(
        variant_request(settings).map(|r| estimate_variant_ensemble(model, &members, &r, true)),
    )
}

/// A finished variant study.
pub type VariantsResult = VariantStudy;

/// The heatmap on screen: which result and strategy it shows.
struct ShownHeatmap {
    result: std::sync::Weak<VariantsResult>,
    strategy: usize,
    image: HeatmapImage,
}

/// View state kept between frames.
#[derive(Default)]
pub struct VariantsView {
    /// Settings of the next run.
    pub settings: VariantSettings,
    controls: StudyControls,
    /// The strategy drawn (index into the run's strategies with a matrix).
    pub strategy: usize,
    /// The clicked position (residue index).
    pub picked: Option<usize>,
    shown: Option<ShownHeatmap>,
    /// Measured value by variant text, of the result on screen.
    measured: HashMap<String, f64>,
    /// Export of the heatmap.
    pub heatmap_export: FigureExport,
    /// Export of the variants' scores.
    pub variants_export: TableExport,
    /// Export of the matrix.
    pub matrix_export: TableExport,
}

impl StudyView for VariantsView {
    type Settings = VariantSettings;
    type Output = Arc<VariantsResult>;
    const ID: &'static str = "Variants";
    const TITLE: &'static str = "Variants";
    const ABOUT: &'static str = "Zero-shot variant effects from the language-model head, scored against a deep mutational scan";
    const SETTINGS_KEY: &'static str = "variants";
    const JOB_NAME: &'static str = "variant scan";

    fn new() -> Self {
        Self {
            // 80 positions a block at 1280 px: TEM-1's 263 in four blocks.
            heatmap_export: {
                let mut export = FigureExport::with_height_from_content("variant_heatmap.svg");
                export.size.width = 1280.0;
                export
            },
            variants_export: TableExport::new("variants.csv"),
            matrix_export: TableExport::new("variant_matrix.csv"),
            ..Self::default()
        }
    }

    fn result_replaced(&mut self) {
        self.heatmap_export.result_replaced();
        self.variants_export.result_replaced();
        self.matrix_export.result_replaced();
        self.picked = None;
    }

    fn settings(&self) -> &VariantSettings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut VariantSettings {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.settings.store
    }

    fn compute(
        model: &LoadedModel,
        settings: &VariantSettings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Arc<VariantsResult>> {
        Ok(Arc::new(run_variant_ensemble(
            std::borrow::Cow::Borrowed(model),
            &ensemble_members(settings),
            &variant_request(settings)?,
            ctx,
        )?))
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Arc<VariantsResult>>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        variants_view_ui(ui, self, result, (progress, error), model)
    }

    /// The tour scores by wt-marginals only (two forward passes with the untrained copy).
    fn size_for_tour(&mut self) {
        self.settings.strategies = [true, false, false];
    }
}

/// Files, columns, offset, mutations, strategies.
fn inputs_ui(ui: &mut egui::Ui, settings: &mut VariantSettings) {
    let width = input_field_width(ui);
    egui::Grid::new("variant_inputs").num_columns(2).show(ui, |ui| {
        for (name, value, kind, hover) in [
            ("Wild-type FASTA", &mut settings.fasta, DialogKind::OpenData, "The protein whose variants are scored (its first record unless one is named)"),
            ("Deep mutational scan", &mut settings.dms, DialogKind::OpenData, "CSV or TSV with a mutant column (A23K, ':' joining multi-mutants) and a score column; empty: the full substitution scan only"),
            ("SS8 probe (optional)", &mut settings.ss8_probe, DialogKind::OpenProbe, "A saved SS8 probe of the loaded model (the SS8 view's \"Save best probe\", or probe ss8 --save): the wild type's predicted classes are drawn above the heatmap"),
        ] {
            let label = ui.label(name);
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(value).desired_width(width))
                    .labelled_by(label.id)
                    .on_hover_text(hover);
                browse_button(ui, value, kind);
            });
            ui.end_row();
        }
        for (name, value, hint, hover) in [
            ("Record", &mut settings.record, "first", "The FASTA record to score (its id)"),
            ("Mutant column", &mut settings.mutant_column, "mutant", "The DMS column holding the variants"),
            ("Score column", &mut settings.score_column, "DMS_score", "The DMS column holding the measured value (fair-esm's BLAT example: 2500)"),
            ("Offset", &mut settings.offset, "found from the variants", "Position - offset is the 0-based residue (predict.py's --offset-idx); empty: the one offset under which every wild type matches"),
            ("Mutations", &mut settings.mutations, "e.g. H24C, P25A:E26K", "Variants to score besides the DMS file's, comma-separated"),
        ] {
            let label = ui.label(name);
            ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(width))
                .labelled_by(label.id)
                .on_hover_text(hover);
            ui.end_row();
        }
    });
    ui.horizontal_wrapped(|ui| {
        let hovers = [
            "log p(mt) - log p(wt) from one pass over the wild type",
            "the same with the position masked: one pass per position, batched",
            "the mutated sequence's pseudo-log-likelihood: one masked pass per position and variant (slow)",
        ];
        for ((strategy, on), hover) in STRATEGIES.iter().zip(&mut settings.strategies).zip(hovers) {
            ui.checkbox(on, strategy.name()).on_hover_text(hover);
        }
        super::study_panel::untrained_checkbox(ui, &mut settings.compare_untrained);
    });
    ensemble_ui(ui, settings);
}

/// The ensemble members: checkpoints averaged with the loaded model.
fn ensemble_ui(ui: &mut egui::Ui, settings: &mut VariantSettings) {
    let members = ensemble_members(settings).len();
    let header = match members {
        0 => "Ensemble: the loaded model alone".to_owned(),
        n => format!("Ensemble: the loaded model and {n} more"),
    };
    egui::CollapsingHeader::new(header)
        .id_salt("variant_ensemble")
        .show(ui, |ui| {
            ui.weak("Checkpoints scored the same way and averaged with the loaded model (ESM-1v's five models are used this way), one path a line; each is read, scored and dropped before the next.");
            ui.horizontal(|ui| {
                let label = ui.label("Members");
                ui.add(
                    egui::TextEdit::multiline(&mut settings.ensemble)
                        .desired_rows(2)
                        .desired_width(input_field_width(ui))
                        .hint_text("/models/esm1v_t33_650M_UR90S_2.pt"),
                )
                .labelled_by(label.id);
                browse_append_button(ui, &mut settings.ensemble, DialogKind::OpenModel);
            });
        });
}

/// The variants view.
pub fn variants_view_ui(
    ui: &mut egui::Ui,
    view: &mut VariantsView,
    result: Option<&Arc<VariantsResult>>,
    (progress, error): (Option<Progress>, Option<&str>),
    model: Option<&LoadedModel>,
) -> Option<JobClick> {
    inputs_ui(ui, &mut view.settings);
    let settings = view.settings.clone();
    let command = view.controls.ui(
        ui,
        "Score variants",
        StudyJob {
            model,
            progress,
            error,
        },
        &settings,
        &settings.store.root,
        variants_estimate_text,
    );
    let Some(result) = result else {
        ui.label("Score the bundled TEM-1 beta-lactamase scan (or your own protein) to see which substitutions the model expects.");
        return command;
    };
    let study: &VariantStudy = result;
    ui.separator();
    super::study_panel::provenance_line_ui(ui, &study.sweep.provenance);
    summary_ui(ui, study);
    let with_matrix: Vec<usize> = study
        .run()
        .map(|r| {
            (0..r.strategies.len())
                .filter(|&k| r.strategies[k].matrix.is_some())
                .collect()
        })
        .unwrap_or_default();
    if with_matrix.is_empty() {
        return command;
    }
    view.strategy = *with_matrix
        .iter()
        .find(|&&k| k == view.strategy)
        .unwrap_or(&with_matrix[0]);
    strategy_picker_ui(ui, view, study, &with_matrix);
    refresh_heatmap(ui, view, result);
    let Some(shown) = &view.shown else {
        return command;
    };
    if let Some(i) = heatmap_plot_ui(ui, "variant_heatmap", &shown.image, &view.measured) {
        view.picked = Some(i);
    }
    exports_ui(ui, view, study);
    super::two_columns::two_columns_ui(ui, |ui, column| {
        if column == 0 {
            position_ui(ui, view, study);
        } else {
            scatter_ui(ui, view, study);
        }
    });
    command
}

/// The protein, the variants and each strategy's Spearman, trained beside untrained.
fn summary_ui(ui: &mut egui::Ui, study: &VariantStudy) {
    ui.label(format!("{}.", study.describe()));
    let Some(run) = study.run() else { return };
    if run.strategies.iter().all(|s| s.spearman.is_none()) {
        return;
    }
    let untrained = study.sweep.untrained.first();
    egui::Grid::new("variant_spearman")
        .striped(true)
        .show(ui, |ui| {
            ui.strong("Spearman ρ with the assay");
            ui.strong("model");
            if untrained.is_some() {
                ui.strong("untrained copy");
            }
            ui.strong("n");
            ui.end_row();
            for (k, scores) in run.strategies.iter().enumerate() {
                let Some(c) = scores.spearman else { continue };
                ui.label(scores.strategy.name());
                ui.label(format!("{:.3}", c.rho));
                if let Some(u) = untrained
                    .and_then(|u| u.strategies.get(k))
                    .and_then(|s| s.spearman)
                {
                    ui.label(format!("{:.3}", u.rho));
                }
                ui.label(c.n.to_string());
                ui.end_row();
            }
        });
}

fn strategy_picker_ui(
    ui: &mut egui::Ui,
    view: &mut VariantsView,
    study: &VariantStudy,
    with_matrix: &[usize],
) {
    let Some(run) = study.run() else { return };
    ui.horizontal(|ui| {
        ui.label("Heatmap:");
        for &k in with_matrix {
            ui.radio_value(&mut view.strategy, k, run.strategies[k].strategy.name())
                .on_hover_text("Which strategy's 20 x L scores are drawn");
        }
    });
}

/// Builds the heatmap's texture when the result or strategy changed.
fn refresh_heatmap(ui: &egui::Ui, view: &mut VariantsView, result: &Arc<VariantsResult>) {
    let current = view
        .shown
        .as_ref()
        .is_some_and(|s| s.strategy == view.strategy && s.result.ptr_eq(&Arc::downgrade(result)));
    if current {
        return;
    }
    let Some(scores) = result.run().and_then(|r| r.strategies.get(view.strategy)) else {
        return;
    };
    let Some(matrix) = scores.matrix.clone() else {
        return;
    };
    view.measured = result
        .variants
        .iter()
        .filter_map(|(v, m)| m.map(|m| (v.text.clone(), m)))
        .collect();
    view.shown = Some(ShownHeatmap {
        result: Arc::downgrade(result),
        strategy: view.strategy,
        image: HeatmapImage::new(
            ui,
            (matrix, scores.strategy.name()),
            (&result.protein.1, result.offset, result.ss8.clone()),
            "variant_heatmap",
        ),
    });
}

fn exports_ui(ui: &mut egui::Ui, view: &mut VariantsView, study: &VariantStudy) {
    let model_name = &study.sweep.provenance.model.name;
    let provenance = &study.sweep.provenance;
    let Some(shown) = &view.shown else { return };
    let strategy = shown.image.data.strategy;
    view.heatmap_export.follow(&crate::export::result_stem(&[
        "variant_heatmap",
        &study.protein.0,
        strategy,
        model_name,
    ]));
    if figure_export_ui(ui, "Heatmap", &mut view.heatmap_export) {
        let title = format!("{}: {strategy}, {model_name}", study.protein.0);
        let data = shown.image.data.clone();
        let figure_of =
            move |size| crate::export::heatmap_svg(&heatmap_figure(&data, &title, size));
        view.heatmap_export
            .save(ui.ctx(), Some(provenance), figure_of);
    }
    view.variants_export.follow(&crate::export::result_stem(&[
        "variants",
        &study.protein.0,
        model_name,
    ]));
    if table_export_ui(ui, "Variant scores", &mut view.variants_export) {
        view.variants_export
            .save(ui.ctx(), variant_table(study), Some(provenance));
    }
    view.matrix_export.follow(&crate::export::result_stem(&[
        "variant_matrix",
        &study.protein.0,
        model_name,
    ]));
    if table_export_ui(ui, "Substitution matrix", &mut view.matrix_export) {
        view.matrix_export
            .save(ui.ctx(), matrix_table(study), Some(provenance));
    }
}

/// The clicked position's 20 scores, best first, with the assay's values.
fn position_ui(ui: &mut egui::Ui, view: &VariantsView, study: &VariantStudy) {
    let (Some(i), Some(shown)) = (view.picked, &view.shown) else {
        ui.weak("Click a column of the heatmap for that position's 20 scores.");
        return;
    };
    let row = &shown.image.data.matrix[i];
    let wt = study.protein.1.as_bytes()[i] as char;
    let position = i as i64 + study.offset;
    ui.strong(format!(
        "{wt}{position}: {} scores",
        shown.image.data.strategy
    ));
    let at_position = study
        .run()
        .and_then(|r| r.strategies.get(view.strategy))
        .and_then(|s| s.by_position.iter().find(|(p, _)| *p == position))
        .map(|(_, c)| *c);
    if let Some((class, p)) = study.ss8.as_ref().and_then(|t| t.classes.get(i)) {
        ui.label(format!("Predicted SS8: {class} (p = {p:.2})"));
    }
    if let Some(c) = at_position {
        ui.label(format!(
            "Spearman ρ at this position: {:.3} over its {} measured substitutions",
            c.rho, c.n
        ));
    }
    let mut order: Vec<usize> = (0..20).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    egui::Grid::new("variant_position")
        .striped(true)
        .show(ui, |ui| {
            ui.strong("mutant");
            ui.strong("score");
            ui.strong("assay");
            ui.end_row();
            for k in order {
                let mt = AMINO_ACIDS.as_bytes()[k] as char;
                let name = format!("{wt}{position}{mt}");
                ui.label(if mt == wt {
                    format!("{name} (wild type)")
                } else {
                    name.clone()
                });
                ui.label(format!("{:.3}", row[k]));
                ui.label(
                    view.measured
                        .get(&name)
                        .map_or_else(|| "-".into(), |v| format!("{v:.3}")),
                );
                ui.end_row();
            }
        });
}

/// Predicted against measured for the strategy on screen.
fn scatter_ui(ui: &mut egui::Ui, view: &VariantsView, study: &VariantStudy) {
    let Some(scores) = study.run().and_then(|r| r.strategies.get(view.strategy)) else {
        return;
    };
    let points: Vec<[f64; 2]> = scores
        .variant_scores
        .iter()
        .zip(&study.variants)
        .filter_map(|(s, (_, m))| {
            m.filter(|m| m.is_finite() && s.is_finite())
                .map(|m| [*s, m])
        })
        .collect();
    if points.is_empty() {
        return;
    }
    let rho = scores.spearman.map_or(f64::NAN, |c| c.rho);
    ui.strong(format!(
        "Measured against {} (ρ = {rho:.3})",
        scores.strategy.name()
    ));
    Plot::new("variant_scatter")
        .allow_scroll(false)
        .height(260.0)
        .x_axis_label(format!("{} score", scores.strategy.name()))
        .y_axis_label("assay")
        .show(ui, |plot| {
            plot.points(Points::new("variants", PlotPoints::new(points)).radius(1.5));
        });
}
