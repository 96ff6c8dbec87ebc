//! The one table of a homology study, written by `probe homology --out` and the GUI's Scores
//! export: one row per (model, layer).
//!
//! Columns: `model` (`trained`/`untrained`), `layer`, `best` (the study's best layer),
//! `fold_hit10`, `fold_auc`, `fold_queries`, `superfamily_hit10`, `superfamily_auc`,
//! `superfamily_queries` (queries with at least one positive and one negative at that level).
//! A level without queries (a set with no such pairs) has empty Hit-10 and AUC cells, not 0.

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::homology_run::HomologyRun;
use super::homology_study::HomologyStudy;

/// See the module docs.
pub fn homology_study_table(study: &HomologyStudy) -> PolarsResult<DataFrame> {
    let best_layer = study.sweep.best_run().map(|r| r.layer);
    let rows: Vec<(&str, &HomologyRun)> = study
        .sweep
        .runs
        .iter()
        .map(|r| ("trained", r))
        .chain(study.sweep.untrained.iter().map(|r| ("untrained", r)))
        .collect();
    let float =
        |f: fn(&HomologyRun) -> Option<f64>| rows.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
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
            Column::new("fold_hit10".into(), float(|r| r.fold.scored_hit10())),
            Column::new("fold_auc".into(), float(|r| r.fold.scored_auc())),
            Column::new("fold_queries".into(), count(|r| r.fold.queries)),
            Column::new(
                "superfamily_hit10".into(),
                float(|r| r.superfamily.scored_hit10()),
            ),
            Column::new(
                "superfamily_auc".into(),
                float(|r| r.superfamily.scored_auc()),
            ),
            Column::new(
                "superfamily_queries".into(),
                count(|r| r.superfamily.queries),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::{HomologyLevel, HomologyMetrics, metric_text};

    fn metrics(level: HomologyLevel, hit10: f64, queries: usize) -> HomologyMetrics {
        HomologyMetrics {
            level,
            hit10,
            auc: hit10,
            queries,
        }
    }

    /// A set without fold-level pairs (every fold holds one superfamily) has no fold score:
    /// empty cells, not the 0 the metrics hold.
    #[test]
    fn a_level_without_queries_has_empty_cells_not_zeros() {
        let study = HomologyStudy {
            sweep: crate::analysis::study::LayerSweep {
                provenance: Default::default(),
                runs: vec![HomologyRun {
                    layer: 4,
                    fold: metrics(HomologyLevel::Fold, 0.0, 0),
                    superfamily: metrics(HomologyLevel::Superfamily, 0.75, 24),
                }],
                untrained: Vec::new(),
                best: Some(0),
                best_rule: "test",
                cost: Default::default(),
            },
            domains: Vec::new(),
            unit_vectors: Vec::new(),
            chance_hit10: [None, None],
        };
        let table = homology_study_table(&study).expect("a table");
        for column in ["fold_hit10", "fold_auc"] {
            assert_eq!(
                table.column(column).expect(column).null_count(),
                1,
                "{column}"
            );
        }
        let superfamily = table.column("superfamily_hit10").expect("column");
        assert_eq!(superfamily.null_count(), 0);
        assert_eq!(superfamily.f64().expect("f64").get(0), Some(0.75));
        let shown = |value: Option<f64>| metric_text(value.unwrap_or(f64::NAN));
        assert_eq!(shown(study.sweep.runs[0].fold.scored_hit10()), "–");
        assert_eq!(
            shown(study.sweep.runs[0].superfamily.scored_hit10()),
            "0.750"
        );
    }
}
