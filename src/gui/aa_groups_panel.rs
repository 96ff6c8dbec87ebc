//! The Embedding map's "Amino-acid groups" panel (Rives et al. 2021, Fig. 2): do the model's
//! vectors of the 20 amino acids group by biochemistry, in the embedding table and at each
//! layer (each amino acid's mean over the open data set), and does an untrained copy's? A thin
//! shell over `analysis::aa_groups_study`, the same study `probe aa-groups` runs.

use eframe::egui;

use super::figure_export::FigureExport;
use super::job::{JobClick, JobView};
use super::layer_sweep::{SweepPlot, layer_sweep_ui};
use super::study_panel::{
    EstimateLine, estimate_text, layers_ui, stores_line_ui, study_job_controls,
};
use super::table_export::{TableExport, table_export_ui};
use crate::analysis::JobCtx;
use crate::analysis::aa_groups_study::{
    AaGroupsRequest, AaGroupsRun, AaGroupsStudy, BEST_LAYER, estimate_aa_groups_study,
    run_aa_groups_study,
};
use crate::analysis::aa_groups_study_table::aa_groups_study_table;
use crate::data::ProteinSet;
use crate::export::Baseline;
use crate::export::LineSeries;
use crate::model::{Layers, LoadedModel};
use crate::probes::GroupingScore;
use crate::store::StoreOptions;

/// What the user set up (the store folder is the map's).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AaGroupsSettings {
    /// Representation layers scored.
    pub layers: Layers,
    /// Also score an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
}

impl Default for AaGroupsSettings {
    fn default() -> Self {
        Self {
            layers: Layers::All,
            compare_untrained: true,
        }
    }
}

/// Panel state kept between frames.
#[derive(Debug)]
pub struct AaGroupsPanel {
    /// Settings of the next run.
    pub settings: AaGroupsSettings,
    /// The estimate beside the start button.
    estimate: EstimateLine,
    /// Export of the agreement sweep.
    pub sweep_export: FigureExport,
    /// Export of the cosine-contrast sweep.
    pub contrast_export: FigureExport,
    /// Export of the scores.
    pub table_export: TableExport,
}

impl Default for AaGroupsPanel {
    fn default() -> Self {
        Self {
            settings: AaGroupsSettings::default(),
            estimate: EstimateLine::default(),
            sweep_export: FigureExport::new("aa_groups_agreement_by_layer.svg"),
            contrast_export: FigureExport::new("aa_groups_cosine_by_layer.svg"),
            table_export: TableExport::new("aa_groups_by_layer.csv"),
        }
    }
}

/// The study of `settings` on the records of `set`.
pub fn aa_groups_request(
    set: &ProteinSet,
    settings: &AaGroupsSettings,
    store: &StoreOptions,
) -> AaGroupsRequest {
    AaGroupsRequest {
        records: set
            .records
            .iter()
            .map(|r| (r.id.clone(), r.sequence.clone()))
            .collect(),
        dataset_name: set.name.clone(),
        layers: settings.layers.clone(),
        compare_untrained: settings.compare_untrained,
        store: store.clone(),
    }
}

/// Runs the study on a worker thread (called from the job).
pub fn compute_aa_groups(
    model: &LoadedModel,
    request: &AaGroupsRequest,
    ctx: &JobCtx,
) -> anyhow::Result<AaGroupsStudy> {
    Ok(run_aa_groups_study(model, request, ctx)?)
}

/// One score per layer, the model's solid and the untrained copy's dashed.
fn score_series(
    study: &AaGroupsStudy,
    name: &str,
    f: fn(&GroupingScore) -> f64,
) -> Vec<LineSeries> {
    let line = |name: String, runs: &[AaGroupsRun], dashed| LineSeries {
        name,
        rgb: [0, 0, 0],
        points: runs.iter().map(|r| [r.layer as f64, f(&r.score)]).collect(),
        dashed,
    };
    let mut series = vec![line(name.to_owned(), &study.sweep.runs, false)];
    if !study.sweep.untrained.is_empty() {
        series.push(line(
            format!("untrained {name}"),
            &study.sweep.untrained,
            true,
        ));
    }
    series
}

/// The two plots of the study, one metric each: nearest-neighbour agreement against chance,
/// and the within-minus-between cosine against 0 (no grouping).
pub fn aa_groups_plots(study: &AaGroupsStudy) -> [SweepPlot<'static>; 2] {
    let model = &study.sweep.provenance.model.name;
    let chance = study.sweep.runs.first().map(|r| r.score.chance_agreement);
    [
        SweepPlot {
            id: "aa_groups_agreement",
            figure_name: "Agreement by layer",
            file_stem: "aa_groups_agreement_by_layer",
            title: format!("Amino-acid groups by layer: nearest-neighbour agreement, {model}"),
            y_label: "NN group agreement",
            series: score_series(study, "NN group agreement", |s| {
                s.nearest_neighbour_agreement
            }),
            baselines: chance
                .map(|value| Baseline {
                    label: "chance agreement".into(),
                    value,
                })
                .into_iter()
                .collect(),
        },
        SweepPlot {
            id: "aa_groups_cosine",
            figure_name: "Cosine contrast by layer",
            file_stem: "aa_groups_cosine_by_layer",
            title: format!("Amino-acid groups by layer: within - between cosine, {model}"),
            y_label: "within - between cosine",
            series: score_series(study, "within - between cosine", |s| {
                s.within_minus_between_cosine
            }),
            baselines: vec![Baseline {
                label: "no grouping".into(),
                value: 0.0,
            }],
        },
    ]
}

/// One line about a score: agreement against chance, and the cosine contrast.
fn score_text(what: &str, score: &GroupingScore) -> String {
    format!(
        "{what}: nearest-neighbour group agreement {:.2} (chance {:.2}), within - between cosine {:.3}",
        score.nearest_neighbour_agreement,
        score.chance_agreement,
        score.within_minus_between_cosine
    )
}

/// The panel: settings, estimate, start/cancel, then the result. `data` is the open set.
pub fn aa_groups_panel_ui(
    ui: &mut egui::Ui,
    panel: &mut AaGroupsPanel,
    job: JobView<'_, AaGroupsStudy>,
    model: Option<&LoadedModel>,
    data: Option<&ProteinSet>,
    store: &StoreOptions,
) -> Option<JobClick> {
    ui.label(
        "Do the amino acids' vectors group by biochemistry (hydrophobic, aromatic, polar, \
         charged, special)? Scored on the embedding table and, per layer, on each amino acid's \
         mean over the open data set.",
    );
    let num_layers = model.map(|m| m.model.config().num_layers);
    ui.horizontal_wrapped(|ui| {
        layers_ui(ui, &mut panel.settings.layers, num_layers);
        super::study_panel::untrained_checkbox(ui, &mut panel.settings.compare_untrained);
    });
    let refused = match data {
        Some(set) => {
            let key = format!(
                "{}|{}|{}",
                serde_json::to_string(&panel.settings).unwrap_or_default(),
                set.name,
                store.root.display()
            );
            // The request (a copy of every record) is built only when the estimate is redone,
            // not every frame.
            let settings = &panel.settings;
            panel
                .estimate
                .ui(ui, model, job.progress.is_some(), key, || {
                    let request = aa_groups_request(set, settings, store);
                    move |model: &LoadedModel| {
                        estimate_text(Ok(estimate_aa_groups_study(model, &request)))
                    }
                })
        }
        None => false,
    };
    let click = study_job_controls(
        ui,
        job.progress,
        "Score amino-acid groups",
        model.is_some() && data.is_some(),
        refused,
    );
    if let Some(err) = job.error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    if let Some(study) = job.result {
        result_ui(ui, panel, study);
    }
    click
}

/// Embedding-table lines, the best layer, the sweep and the table export.
fn result_ui(ui: &mut egui::Ui, panel: &mut AaGroupsPanel, study: &AaGroupsStudy) {
    ui.label(score_text("Embedding table", &study.table));
    if let Some(untrained) = &study.untrained_table {
        ui.label(score_text("Untrained embedding table", untrained));
    }
    if let Some(best) = study.sweep.best {
        let run = &study.sweep.runs[best];
        ui.label(score_text(
            &format!(
                "Best layer {} (mean of {} residues per amino acid set)",
                run.layer, study.residues
            ),
            &run.score,
        ))
        .on_hover_text(format!("Best layer: {BEST_LAYER}"));
        super::study_panel::provenance_line_ui(ui, &study.sweep.provenance);
        stores_line_ui(
            ui,
            &study.sweep.cost.stores,
            study.sweep.cost.residues_embedded,
        );
    }
    let [agreement, contrast] = aa_groups_plots(study);
    layer_sweep_ui(
        ui,
        agreement,
        &mut panel.sweep_export,
        &study.sweep.provenance,
    );
    layer_sweep_ui(
        ui,
        contrast,
        &mut panel.contrast_export,
        &study.sweep.provenance,
    );
    panel.table_export.follow(&crate::export::result_stem(&[
        "aa_groups_by_layer",
        &study.sweep.provenance.model.name,
    ]));
    if table_export_ui(ui, "Scores", &mut panel.table_export) {
        panel.table_export.save(
            ui.ctx(),
            aa_groups_study_table(study),
            Some(&study.sweep.provenance),
        );
    }
}
