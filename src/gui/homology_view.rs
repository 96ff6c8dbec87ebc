//! Homology view: embed a SCOPe/ASTRAL set, score remote homology (Hit-10 and AUC at the fold and
//! superfamily levels) for every layer, optionally beside the untrained copy, and list the
//! nearest neighbours of any domain with their sccs and how they relate to it.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;

use super::figure_export::FigureExport;
use super::file_dialog::{DialogKind, browse_button};
use super::job::{JobClick, Progress};
use super::layer_sweep::{SweepPlot, layer_sweep_ui};
use super::study_panel::{
    StudyControls, StudyJob, estimate_text, input_field_width, layers_ui, metric_cell,
    store_folder_row, stores_line_ui,
};
use super::table_export::{TableExport, table_export_ui};
use super::view_slot::StudyView;
use crate::analysis::JobCtx;
use crate::analysis::homology_run::HomologyRun;
use crate::analysis::homology_study::{
    BEST_HOMOLOGY_LAYER, HomologyStudy, HomologyStudyRequest, estimate_homology_study,
    run_homology_study,
};
use crate::analysis::homology_study_table::homology_study_table;
use crate::export::Baseline;
use crate::export::LineSeries;
use crate::model::{Layers, LoadedModel};
use crate::probes::{HomologyLevel, HomologyMetrics};
use crate::store::StoreOptions;
use polars::prelude::{Column, DataFrame, PolarsResult};

/// Neighbours listed for the selected domain.
const NEIGHBOURS: usize = 25;

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HomologySettings {
    /// ASTRAL FASTA file.
    pub astral: String,
    /// At most this many domains, spread evenly over the file.
    pub max_domains: usize,
    /// Also score the untrained copy.
    pub compare_untrained: bool,
    /// Layers scored.
    #[serde(default = "all_layers")]
    pub layers: Layers,
    /// Feature stores (per-domain means only).
    #[serde(default)]
    pub store: StoreOptions,
}

fn all_layers() -> Layers {
    Layers::All
}

impl Default for HomologySettings {
    fn default() -> Self {
        Self {
            astral: String::new(),
            max_domains: 2000,
            compare_untrained: false,
            layers: Layers::All,
            store: StoreOptions::default(),
        }
    }
}

/// A finished homology study (the same one `probe homology` runs).
pub type HomologyResult = HomologyStudy;

/// Why the view starts with no input, and what to do.
pub const NO_ASTRAL_HINT: &str = "No ASTRAL file is bundled: SCOPe states no licence that allows \
    redistributing it. Download the 40 % set (astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa) from \
    https://scop.berkeley.edu/astral/ver=2.07 and open it here.";

/// The study `settings` describe (reads the ASTRAL file).
pub fn homology_request(settings: &HomologySettings) -> anyhow::Result<HomologyStudyRequest> {
    anyhow::ensure!(!settings.astral.trim().is_empty(), "{NO_ASTRAL_HINT}");
    let astral = PathBuf::from(settings.astral.trim());
    Ok(HomologyStudyRequest {
        layers: settings.layers.clone(),
        compare_untrained: settings.compare_untrained,
        store: settings.store.clone(),
        ..HomologyStudyRequest::from_astral(&astral, Some(settings.max_domains))?
    })
}

/// Reads, embeds and scores on a worker thread (called from the job).
pub fn compute_homology(
    model: &LoadedModel,
    settings: &HomologySettings,
    ctx: &JobCtx,
) -> anyhow::Result<HomologyResult> {
    Ok(run_homology_study(
        model,
        &homology_request(settings)?,
        ctx,
    )?)
}

/// The estimate line shown beside the start button: time, RAM and disk, or why the study would
/// be refused.
pub fn homology_estimate_text(
    model: &LoadedModel,
    settings: &HomologySettings,
) -> Result<String, String> {
    estimate_text(
        homology_request(settings).map(|request| estimate_homology_study(model, &request)),
    )
}

/// How a neighbour relates to the query in SCOPe.
pub fn relation(query: &str, other: &str) -> &'static str {
    let q: Vec<&str> = query.split('.').collect();
    let o: Vec<&str> = other.split('.').collect();
    let shared = q.iter().zip(&o).take_while(|(a, b)| a == b).count();
    match shared {
        4.. => "same family",
        3 => "same superfamily",
        2 => "same fold",
        1 => "same class",
        _ => "unrelated",
    }
}

/// The `count` most similar domains to `query` (cosine), excluding itself.
pub fn nearest(result: &HomologyResult, query: usize, count: usize) -> Vec<(usize, f32)> {
    let q = &result.unit_vectors[query];
    let mut scored: Vec<(usize, f32)> = result
        .unit_vectors
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != query)
        .map(|(k, v)| (k, v.iter().zip(q).map(|(a, b)| a * b).sum()))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(count);
    scored
}

/// View state kept between frames.
#[derive(Default)]
pub struct HomologyView {
    /// Settings of the next run.
    pub settings: HomologySettings,
    /// Text that filters the domain list (id, sccs, description).
    pub query_filter: String,
    /// Selected query domain.
    pub query: usize,
    /// Export of the layer sweep.
    pub sweep_export: FigureExport,
    /// Export of the per-layer scores.
    pub scores_export: TableExport,
    /// Export of the shown neighbour list.
    pub neighbours_export: TableExport,
    /// The estimate and the stores list under the inputs.
    controls: StudyControls,
}

impl StudyView for HomologyView {
    type Settings = HomologySettings;
    type Output = Arc<HomologyResult>;
    const ID: &'static str = "Homology";
    const TITLE: &'static str = "Homology";
    const ABOUT: &'static str = "Nearest-neighbour search for SCOPe remote homologs";
    const SETTINGS_KEY: &'static str = "homology";
    const JOB_NAME: &'static str = "homology";

    fn result_replaced(&mut self) {
        self.sweep_export.result_replaced();
        self.scores_export.result_replaced();
        self.neighbours_export.result_replaced();
    }

    fn new() -> Self {
        Self {
            sweep_export: FigureExport::new("homology_by_layer.svg"),
            scores_export: TableExport::new("homology_by_layer.csv"),
            neighbours_export: TableExport::new("neighbours.csv"),
            ..Self::default()
        }
    }

    fn settings(&self) -> &HomologySettings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut HomologySettings {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.settings.store
    }

    fn compute(
        model: &LoadedModel,
        settings: &HomologySettings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Arc<HomologyResult>> {
        compute_homology(model, settings, ctx).map(Arc::new)
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Arc<HomologyResult>>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        homology_view_ui(ui, self, result, progress, error, model)
    }

    /// The tour scores 300 domains when the user gives an ASTRAL file.
    fn size_for_tour(&mut self) {
        self.settings.max_domains = 300;
    }

    /// No ASTRAL file is bundled (its licence does not allow it).
    fn tour_skip(&self) -> Option<String> {
        (!std::path::Path::new(&self.settings.astral).is_file())
            .then(|| "no ASTRAL file given (none is bundled)".to_owned())
    }
}

fn sweep_series(result: &HomologyResult) -> Vec<LineSeries> {
    let mut series = Vec::new();
    for (runs, name, dashed) in [
        (&result.sweep.runs, "trained", false),
        (&result.sweep.untrained, "untrained", true),
    ] {
        if runs.is_empty() {
            continue;
        }
        let has_queries = |level: fn(&HomologyRun) -> &HomologyMetrics| {
            runs.first().is_some_and(|r| level(r).queries > 0)
        };
        if has_queries(|r| &r.superfamily) {
            series.push(LineSeries {
                name: format!("{name}: superfamily Hit-10"),
                rgb: if dashed {
                    [255, 127, 14]
                } else {
                    [31, 119, 180]
                },
                points: runs
                    .iter()
                    .map(|r| [r.layer as f64, r.superfamily.hit10])
                    .collect(),
                dashed,
            });
        }
        // A level the set has no pairs of has no line (its stored 0 is no score).
        if has_queries(|r| &r.fold) {
            series.push(LineSeries {
                name: format!("{name}: fold Hit-10"),
                rgb: if dashed { [140, 86, 75] } else { [44, 160, 44] },
                points: runs
                    .iter()
                    .map(|r| [r.layer as f64, r.fold.hit10])
                    .collect(),
                dashed,
            });
        }
    }
    series
}

/// The homology view.
pub fn homology_view_ui(
    ui: &mut egui::Ui,
    view: &mut HomologyView,
    result: Option<&Arc<HomologyResult>>,
    progress: Option<Progress>,
    error: Option<&str>,
    model: Option<&LoadedModel>,
) -> Option<JobClick> {
    let num_layers = model.map(|m| m.model.config().num_layers);
    let settings = &mut view.settings;
    let field_width = input_field_width(ui);
    egui::Grid::new("homology_inputs")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("ASTRAL FASTA");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut settings.astral)
                        .desired_width(field_width)
                        .hint_text("astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa"),
                )
                .labelled_by(label.id)
                .on_hover_text("SCOPe ASTRAL domain sequences (FASTA with sccs in each header)");
                browse_button(ui, &mut settings.astral, DialogKind::OpenAstral);
            });
            ui.end_row();
            store_folder_row(ui, &mut settings.store, field_width);
        });
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::DragValue::new(&mut settings.max_domains).prefix("domains ≤ "))
            .on_hover_text("At most this many domains, a seeded sample spread over the folds");
        layers_ui(ui, &mut settings.layers, num_layers);
        super::study_panel::untrained_checkbox(ui, &mut settings.compare_untrained);
    });
    let settings = view.settings.clone();
    let command = view.controls.ui(
        ui,
        "Score homology",
        StudyJob {
            model,
            progress,
            error,
        },
        &settings,
        &settings.store.root,
        homology_estimate_text,
    );
    let Some(result) = result else {
        ui.label("Score a SCOPe set to see whether nearest neighbours in embedding space are remote homologs.");
        return command;
    };
    let best = result.best_run();
    ui.separator();
    super::study_panel::provenance_line_ui(ui, &result.sweep.provenance);
    stores_line_ui(
        ui,
        &result.sweep.cost.stores,
        result.sweep.cost.residues_embedded,
    );
    ui.label(format!(
        "{} domains. Best layer {} ({BEST_HOMOLOGY_LAYER}): superfamily {}, fold {}",
        result.domains.len(),
        best.layer,
        level_summary(&best.superfamily),
        level_summary(&best.fold),
    ));
    super::two_columns::two_columns_ui(ui, |ui, column| match column {
        0 => scores_column_ui(ui, view, result),
        _ => neighbours_column_ui(ui, view, result, best.layer),
    });
    command
}

/// The layer sweep, its export and the per-layer scores of trained and untrained.
fn scores_column_ui(ui: &mut egui::Ui, view: &mut HomologyView, result: &HomologyResult) {
    let series = sweep_series(result);
    if series.is_empty() {
        ui.label(
            "Nothing to plot: no domain of this set has a remote homolog in it (another domain \
             of its superfamily in a different family, or of its fold in a different \
             superfamily). Use a set with several families per superfamily, such as ASTRAL 40%.",
        );
    } else {
        let [fold, superfamily] = result.chance_hit10;
        let baselines = [("chance: superfamily", superfamily), ("chance: fold", fold)]
            .into_iter()
            .filter_map(|(label, value)| {
                Some(Baseline {
                    label: label.into(),
                    value: value?,
                })
            })
            .collect();
        layer_sweep_ui(
            ui,
            SweepPlot {
                id: "homology_sweep",
                figure_name: "Layer sweep",
                file_stem: "homology_by_layer",
                title: format!(
                    "Remote homology by layer, {} ({} SCOPe domains)",
                    result.sweep.provenance.model.name,
                    result.domains.len()
                ),
                y_label: "Hit-10",
                series,
                baselines,
            },
            &mut view.sweep_export,
            &result.sweep.provenance,
        );
    }
    view.scores_export.follow(&crate::export::result_stem(&[
        "homology_by_layer",
        &result.sweep.provenance.model.name,
    ]));
    if table_export_ui(ui, "Scores", &mut view.scores_export) {
        view.scores_export.save(
            ui.ctx(),
            homology_study_table(result),
            Some(&result.sweep.provenance),
        );
    }
    egui::ScrollArea::both()
        .id_salt("homology_table")
        .max_height(260.0)
        .show(ui, |ui| {
            egui::Grid::new("homology_scores")
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        "layer",
                        "model",
                        "fold Hit-10",
                        "fold AUC",
                        "superfamily Hit-10",
                        "superfamily AUC",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (runs, name) in [
                        (&result.sweep.runs, "trained"),
                        (&result.sweep.untrained, "untrained"),
                    ] {
                        for r in runs.iter() {
                            ui.label(r.layer.to_string());
                            ui.label(name);
                            for metrics in [&r.fold, &r.superfamily] {
                                for value in [metrics.scored_hit10(), metrics.scored_auc()] {
                                    metric_cell(
                                        ui,
                                        value.unwrap_or(f64::NAN),
                                        no_pairs_hint(metrics.level),
                                    );
                                }
                            }
                            ui.end_row();
                        }
                    }
                });
        });
}

/// "Hit-10 0.958 (AUC 0.498)", or why a level has no score.
fn level_summary(metrics: &HomologyMetrics) -> String {
    match (metrics.scored_hit10(), metrics.scored_auc()) {
        (Some(hit10), Some(auc)) => format!("Hit-10 {hit10:.3} (AUC {auc:.3})"),
        _ => "– (no such pairs in this set)".to_owned(),
    }
}

/// Why a level has no score in this set.
fn no_pairs_hint(level: HomologyLevel) -> &'static str {
    match level {
        HomologyLevel::Fold => {
            "No domain here has another of the same fold in a different superfamily, \
             so the fold level cannot be scored on this set."
        }
        HomologyLevel::Superfamily => {
            "No domain here has another of the same superfamily in a different family, \
             so the superfamily level cannot be scored on this set."
        }
    }
}

/// The query-domain picker and its nearest neighbours at the best layer (`layer`).
fn neighbours_column_ui(
    ui: &mut egui::Ui,
    view: &mut HomologyView,
    result: &HomologyResult,
    layer: usize,
) {
    ui.horizontal(|ui| {
        let label = ui.label("Find domain");
        ui.add(
            egui::TextEdit::singleline(&mut view.query_filter)
                .desired_width(200.0)
                .hint_text("id, sccs or name"),
        )
        .labelled_by(label.id)
        .on_hover_text("Narrows the query-domain list to domains matching this text");
    });
    let needle = view.query_filter.to_lowercase();
    view.query = view.query.min(result.domains.len() - 1);
    let query = &result.domains[view.query];
    egui::ComboBox::from_label("query domain")
        .selected_text(format!("{} {}", query.id, query.sccs))
        .show_ui(ui, |ui| {
            for (k, d) in result
                .domains
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    needle.is_empty()
                        || d.id.to_lowercase().contains(&needle)
                        || d.sccs.contains(&needle)
                        || d.description.to_lowercase().contains(&needle)
                })
                .take(200)
            {
                ui.selectable_value(
                    &mut view.query,
                    k,
                    format!("{} {} {}", d.id, d.sccs, d.description),
                );
            }
        })
        .response
        .on_hover_text("The domain whose nearest neighbours are listed, with their SCOPe relation");
    ui.label(format!(
        "{} · {} · {}",
        query.id, query.sccs, query.description
    ));
    ui.strong(format!(
        "Nearest neighbours at layer {layer} (cosine of mean embeddings)"
    ));
    view.neighbours_export.follow(&crate::export::result_stem(&[
        "neighbours",
        &query.id,
        &format!("layer{layer}"),
        &result.sweep.provenance.model.name,
    ]));
    if table_export_ui(ui, "Neighbours", &mut view.neighbours_export) {
        view.neighbours_export.save(
            ui.ctx(),
            neighbours_table(result, view.query),
            Some(&result.sweep.provenance),
        );
    }
    egui::ScrollArea::vertical()
        .id_salt("neighbours")
        .show(ui, |ui| {
            egui::Grid::new("neighbours_grid")
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        "rank",
                        "domain",
                        "sccs",
                        "cosine",
                        "relation",
                        "description",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (rank, (k, similarity)) in nearest(result, view.query, NEIGHBOURS)
                        .into_iter()
                        .enumerate()
                    {
                        let d = &result.domains[k];
                        let rel = relation(&query.sccs, &d.sccs);
                        ui.label((rank + 1).to_string());
                        ui.label(&d.id);
                        ui.label(&d.sccs);
                        ui.label(format!("{similarity:.3}"));
                        let colour = match rel {
                            "same superfamily" | "same fold" => {
                                egui::Color32::from_rgb(44, 160, 44)
                            }
                            "same family" => ui.visuals().strong_text_color(),
                            _ => ui.visuals().weak_text_color(),
                        };
                        ui.colored_label(colour, rel);
                        ui.label(d.description.chars().take(40).collect::<String>());
                        ui.end_row();
                    }
                });
        });
}

/// `query, rank, domain, sccs, cosine, relation, description`: the listed nearest neighbours of
/// domain `query` at the best layer.
pub fn neighbours_table(result: &HomologyResult, query: usize) -> PolarsResult<DataFrame> {
    let q = &result.domains[query];
    let hits = nearest(result, query, NEIGHBOURS);
    let domain = |k: usize| &result.domains[k];
    DataFrame::new(
        hits.len(),
        vec![
            Column::new("query".into(), vec![q.id.as_str(); hits.len()]),
            Column::new("rank".into(), (1..=hits.len() as u32).collect::<Vec<_>>()),
            Column::new(
                "domain".into(),
                hits.iter()
                    .map(|&(k, _)| domain(k).id.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "sccs".into(),
                hits.iter()
                    .map(|&(k, _)| domain(k).sccs.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "cosine".into(),
                hits.iter().map(|&(_, c)| c).collect::<Vec<_>>(),
            ),
            Column::new(
                "relation".into(),
                hits.iter()
                    .map(|&(k, _)| relation(&q.sccs, &domain(k).sccs))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "description".into(),
                hits.iter()
                    .map(|&(k, _)| domain(k).description.as_str())
                    .collect::<Vec<_>>(),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_follow_the_sccs_hierarchy() {
        assert_eq!(relation("a.1.1.1", "a.1.1.1"), "same family");
        assert_eq!(relation("a.1.1.1", "a.1.1.2"), "same superfamily");
        assert_eq!(relation("a.1.1.1", "a.1.2.1"), "same fold");
        assert_eq!(relation("a.1.1.1", "a.2.1.1"), "same class");
        assert_eq!(relation("a.1.1.1", "b.1.1.1"), "unrelated");
    }
}
