//! The one table of a homology study, written by `probe homology --out` and the GUI's Scores
//! export: one row per (model, layer).
//!
//! Columns: `model` (`trained`/`untrained`), `layer`, `best` (the study's best layer),
//! `fold_hit10`, `fold_auc`, `fold_queries`, `superfamily_hit10`, `superfamily_auc`,
//! `superfamily_queries` (queries with at least one positive and one negative at that level).

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::homology_run::HomologyRun;
use super::homology_study::HomologyStudy;

/// See the module docs.
pub fn homology_study_table(study: &HomologyStudy) -> PolarsResult<DataFrame> {
    let best_layer = study.runs.get(study.best).map(|r| r.layer);
    let rows: Vec<(&str, &HomologyRun)> = study
        .runs
        .iter()
        .map(|r| ("trained", r))
        .chain(study.untrained.iter().map(|r| ("untrained", r)))
        .collect();
    let float = |f: fn(&HomologyRun) -> f64| rows.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
    let count =
        |f: fn(&HomologyRun) -> usize| rows.iter().map(|(_, r)| f(r) as u32).collect::<Vec<_>>();
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "model".into(),
                rows.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
            ),
            Column::new(
                "layer".into(),
                rows.iter().map(|(_, r)| r.layer as u32).collect::<Vec<_>>(),
            ),
            Column::new(
                "best".into(),
                rows.iter()
                    .map(|(m, r)| *m == "trained" && Some(r.layer) == best_layer)
                    .collect::<Vec<_>>(),
            ),
            Column::new("fold_hit10".into(), float(|r| r.fold.hit10)),
            Column::new("fold_auc".into(), float(|r| r.fold.auc)),
            Column::new("fold_queries".into(), count(|r| r.fold.queries)),
            Column::new("superfamily_hit10".into(), float(|r| r.superfamily.hit10)),
            Column::new("superfamily_auc".into(), float(|r| r.superfamily.auc)),
            Column::new(
                "superfamily_queries".into(),
                count(|r| r.superfamily.queries),
            ),
        ],
    )
}
