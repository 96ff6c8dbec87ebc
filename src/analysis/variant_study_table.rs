//! The tables of a variant study, written by `variants --out/--matrix` and the Variants view's
//! exports:
//!
//! - **variants**: one row per variant: `mutant` (as read), `substitutions`, `measured` (the
//!   assay's value, empty when none), then one column per model and strategy,
//!   `<strategy>` for the model and `untrained_<strategy>` for the untrained copy (scores as
//!   predict.py writes them: marginals summed over substitutions, natural log; pseudo-ppl the
//!   mutated sequence's pseudo-log-likelihood);
//! - **matrix**: one row per position and amino acid: `position` (numbered with the offset),
//!   `wild_type`, `mutant`, then `<strategy>` = `log p(mt) - log p(wt)` (0 on the wild type);
//!   with an SS8 probe, `ss8` (the wild type's predicted class) and `ss8_probability`;
//! - **correlations**: one row per model and strategy: `model`, `strategy`, `spearman`, `n`;
//! - **positions**: one row per position with at least 3 measured single substitutions:
//!   `position`, `wild_type`, then `<strategy>_spearman` and `n` (the model's), and with an
//!   SS8 probe `ss8` and `ss8_probability`.

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::variant_scan::ScoringStrategy;
use super::variant_study::{VariantRun, VariantStudy};
use crate::data::AMINO_ACIDS;

fn models(study: &VariantStudy) -> Vec<(&'static str, &VariantRun)> {
    let mut runs: Vec<(&'static str, &VariantRun)> =
        study.sweep.runs.iter().map(|r| ("", r)).collect();
    runs.extend(study.sweep.untrained.iter().map(|r| ("untrained_", r)));
    runs
}

/// See the module docs.
pub fn variant_table(study: &VariantStudy) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        Column::new(
            "mutant".into(),
            study
                .variants
                .iter()
                .map(|(v, _)| v.text.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "substitutions".into(),
            study
                .variants
                .iter()
                .map(|(v, _)| v.substitutions.len() as u32)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "measured".into(),
            study.variants.iter().map(|(_, m)| *m).collect::<Vec<_>>(),
        ),
    ];
    for (prefix, run) in models(study) {
        for scores in &run.strategies {
            let values: Vec<Option<f64>> = scores
                .variant_scores
                .iter()
                .map(|v| v.is_finite().then_some(*v))
                .collect();
            columns.push(Column::new(
                format!("{prefix}{}", scores.strategy.name()).into(),
                values,
            ));
        }
    }
    DataFrame::new(study.variants.len(), columns)
}

/// See the module docs.
pub fn matrix_table(study: &VariantStudy) -> PolarsResult<DataFrame> {
    let sequence = &study.protein.1;
    let rows = sequence.len() * 20;
    let mut position = Vec::with_capacity(rows);
    let mut wild_type = Vec::with_capacity(rows);
    let mut mutant = Vec::with_capacity(rows);
    for (i, wt) in sequence.chars().enumerate() {
        for aa in AMINO_ACIDS.chars() {
            position.push(i as i64 + study.offset);
            wild_type.push(wt.to_string());
            mutant.push(aa.to_string());
        }
    }
    let mut columns = vec![
        Column::new("position".into(), position),
        Column::new("wild_type".into(), wild_type),
        Column::new("mutant".into(), mutant),
    ];
    columns.extend(ss8_columns(study, |i| i / 20, rows));
    for (prefix, run) in models(study) {
        for scores in &run.strategies {
            let Some(matrix) = &scores.matrix else {
                continue;
            };
            let values: Vec<Option<f32>> = matrix
                .iter()
                .flat_map(|row| row.iter().map(|v| v.is_finite().then_some(*v)))
                .collect();
            columns.push(Column::new(
                format!("{prefix}{}", scores.strategy.name()).into(),
                values,
            ));
        }
    }
    DataFrame::new(rows, columns)
}

/// See the module docs.
pub fn correlation_table(study: &VariantStudy) -> PolarsResult<DataFrame> {
    let mut model = Vec::new();
    let mut strategy: Vec<&str> = Vec::new();
    let mut rho = Vec::new();
    let mut n = Vec::new();
    for (prefix, run) in models(study) {
        for scores in &run.strategies {
            let Some(c) = scores.spearman else { continue };
            model.push(if prefix.is_empty() {
                "trained"
            } else {
                "untrained"
            });
            strategy.push(ScoringStrategy::name(scores.strategy));
            rho.push(c.rho.is_finite().then_some(c.rho));
            n.push(c.n as u32);
        }
    }
    let height = model.len();
    DataFrame::new(
        height,
        vec![
            Column::new("model".into(), model),
            Column::new("strategy".into(), strategy),
            Column::new("spearman".into(), rho),
            Column::new("n".into(), n),
        ],
    )
}

/// See the module docs.
pub fn position_table(study: &VariantStudy) -> PolarsResult<DataFrame> {
    let Some(run) = study.run() else {
        return DataFrame::new(0, Vec::new());
    };
    let mut positions: Vec<i64> = run
        .strategies
        .iter()
        .flat_map(|s| s.by_position.iter().map(|(p, _)| *p))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    let sequence = study.protein.1.as_bytes();
    let wild_type: Vec<String> = positions
        .iter()
        .map(|p| {
            usize::try_from(p - study.offset)
                .ok()
                .and_then(|i| sequence.get(i))
                .map_or_else(String::new, |&b| (b as char).to_string())
        })
        .collect();
    let mut columns = vec![
        Column::new("position".into(), positions.clone()),
        Column::new("wild_type".into(), wild_type),
    ];
    let mut counts: Vec<Option<u32>> = vec![None; positions.len()];
    for scores in &run.strategies {
        let by: std::collections::HashMap<i64, _> = scores.by_position.iter().copied().collect();
        let rho: Vec<Option<f64>> = positions
            .iter()
            .map(|p| by.get(p).and_then(|c| c.rho.is_finite().then_some(c.rho)))
            .collect();
        for (k, p) in positions.iter().enumerate() {
            if let Some(c) = by.get(p) {
                counts[k] = Some(c.n as u32);
            }
        }
        columns.push(Column::new(
            format!("{}_spearman", scores.strategy.name()).into(),
            rho,
        ));
    }
    columns.push(Column::new("n".into(), counts));
    let indices: Vec<usize> = positions
        .iter()
        .map(|p| usize::try_from(p - study.offset).unwrap_or(usize::MAX))
        .collect();
    columns.extend(ss8_columns(study, |row| indices[row], positions.len()));
    DataFrame::new(positions.len(), columns)
}

/// `ss8` and `ss8_probability` of `rows` rows, row `r` at residue `residue(r)` (none without a
/// track, empty cells outside the sequence).
fn ss8_columns(study: &VariantStudy, residue: impl Fn(usize) -> usize, rows: usize) -> Vec<Column> {
    let Some(track) = &study.ss8 else {
        return Vec::new();
    };
    let at = |r: usize| track.classes.get(residue(r));
    vec![
        Column::new(
            "ss8".into(),
            (0..rows)
                .map(|r| at(r).map(|(c, _)| c.to_string()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "ss8_probability".into(),
            (0..rows)
                .map(|r| at(r).map(|(_, p)| *p))
                .collect::<Vec<_>>(),
        ),
    ]
}
