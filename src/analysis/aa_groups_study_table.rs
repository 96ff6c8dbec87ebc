//! The one table of an amino-acid groups study, written by `probe aa-groups --out` and the GUI's
//! Scores export: one row per (model, vectors).
//!
//! Columns: `model` (`trained`/`untrained`), `vectors` (`embedding table` or `layer mean`),
//! `layer` (null for the embedding table), `best` (the study's best layer),
//! `nn_group_agreement`, `chance_agreement`, `within_minus_between_cosine`, `residues`
//! (standard residues averaged; 0 for the embedding table).

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::aa_groups_study::AaGroupsStudy;
use crate::probes::GroupingScore;

/// One row before it becomes columns.
struct Row<'a> {
    model: &'static str,
    layer: Option<u32>,
    score: &'a GroupingScore,
    residues: u32,
}

/// See the module docs.
pub fn aa_groups_study_table(study: &AaGroupsStudy) -> PolarsResult<DataFrame> {
    let best_layer = study.sweep.best.map(|b| study.sweep.runs[b].layer as u32);
    let mut rows = vec![Row {
        model: "trained",
        layer: None,
        score: &study.table,
        residues: 0,
    }];
    if let Some(table) = &study.untrained_table {
        rows.push(Row {
            model: "untrained",
            layer: None,
            score: table,
            residues: 0,
        });
    }
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        rows.extend(runs.iter().map(|r| Row {
            model,
            layer: Some(r.layer as u32),
            score: &r.score,
            residues: study.residues as u32,
        }));
    }
    let float = |f: fn(&GroupingScore) -> f64| rows.iter().map(|r| f(r.score)).collect::<Vec<_>>();
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "model".into(),
                rows.iter().map(|r| r.model).collect::<Vec<_>>(),
            ),
            Column::new(
                "vectors".into(),
                rows.iter()
                    .map(|r| match r.layer {
                        None => "embedding table",
                        Some(_) => "layer mean",
                    })
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "layer".into(),
                rows.iter().map(|r| r.layer).collect::<Vec<_>>(),
            ),
            Column::new(
                "best".into(),
                rows.iter()
                    .map(|r| r.model == "trained" && r.layer.is_some() && r.layer == best_layer)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "nn_group_agreement".into(),
                float(|s| s.nearest_neighbour_agreement),
            ),
            Column::new("chance_agreement".into(), float(|s| s.chance_agreement)),
            Column::new(
                "within_minus_between_cosine".into(),
                float(|s| s.within_minus_between_cosine),
            ),
            Column::new(
                "residues".into(),
                rows.iter().map(|r| r.residues).collect::<Vec<_>>(),
            ),
        ],
    )
}
