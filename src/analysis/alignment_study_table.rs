//! The tables of an alignment study, written by `probe alignment --out/--histograms` and the
//! Alignment view's exports:
//!
//! - **families**: one row per model, layer and family: `model` (`trained`/`untrained`),
//!   `layer`, `best` (the study's best layer), `family`, `sequences`, `aligned_pairs` (scored;
//!   as many unaligned), `aligned_pairs_total` (in the family), `auc`, `mean_cosine_aligned`,
//!   `mean_cosine_unaligned`; then one row per model and layer with `family` = `mean` and the
//!   mean AUC;
//! - **histograms**: one row per model, layer, family and bin: `model`, `layer`, `family`,
//!   `cosine_from`, `cosine_to`, `aligned`, `unaligned` (pair counts).

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::alignment_study::{AlignmentRun, AlignmentStudy, HISTOGRAM_BINS};

fn runs(study: &AlignmentStudy) -> Vec<(&'static str, &AlignmentRun)> {
    study
        .sweep
        .runs
        .iter()
        .map(|r| ("trained", r))
        .chain(study.sweep.untrained.iter().map(|r| ("untrained", r)))
        .collect()
}

/// An empty cell for NaN.
fn cell(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// See the module docs.
pub fn alignment_family_table(study: &AlignmentStudy) -> PolarsResult<DataFrame> {
    let best = study.sweep.best_run().map(|r| r.layer);
    let (mut model, mut layer, mut is_best, mut family) = (vec![], vec![], vec![], vec![]);
    let (mut sequences, mut pairs, mut total) = (vec![], vec![], vec![]);
    let (mut auc, mut aligned, mut unaligned) = (vec![], vec![], vec![]);
    for (name, run) in runs(study) {
        let rows = run.families.iter().map(|f| {
            (
                f.name.as_str(),
                Some(f.sequences as u32),
                Some(f.pairs.0 as u32),
                Some(f.pairs.1),
                f.auc,
                cell(f.mean_cosine.0),
                cell(f.mean_cosine.1),
            )
        });
        let mean = std::iter::once(("mean", None, None, None, run.mean_auc, None, None));
        for (f, s, p, t, a, ca, cu) in rows.chain(mean) {
            model.push(name);
            layer.push(run.layer as u32);
            is_best.push(name == "trained" && Some(run.layer) == best);
            family.push(f.to_owned());
            sequences.push(s);
            pairs.push(p);
            total.push(t);
            auc.push(cell(a));
            aligned.push(ca);
            unaligned.push(cu);
        }
    }
    let height = model.len();
    DataFrame::new(
        height,
        vec![
            Column::new("model".into(), model),
            Column::new("layer".into(), layer),
            Column::new("best".into(), is_best),
            Column::new("family".into(), family),
            Column::new("sequences".into(), sequences),
            Column::new("aligned_pairs".into(), pairs),
            Column::new("aligned_pairs_total".into(), total),
            Column::new("auc".into(), auc),
            Column::new("mean_cosine_aligned".into(), aligned),
            Column::new("mean_cosine_unaligned".into(), unaligned),
        ],
    )
}

/// See the module docs.
pub fn alignment_histogram_table(study: &AlignmentStudy) -> PolarsResult<DataFrame> {
    let (mut model, mut layer, mut family) = (vec![], vec![], vec![]);
    let (mut from, mut to, mut aligned, mut unaligned) = (vec![], vec![], vec![], vec![]);
    let width = 2.0 / HISTOGRAM_BINS as f64;
    for (name, run) in runs(study) {
        for f in &run.families {
            for k in 0..HISTOGRAM_BINS {
                model.push(name);
                layer.push(run.layer as u32);
                family.push(f.name.clone());
                from.push(-1.0 + k as f64 * width);
                to.push(-1.0 + (k + 1) as f64 * width);
                aligned.push(f.histograms.0[k]);
                unaligned.push(f.histograms.1[k]);
            }
        }
    }
    let height = model.len();
    DataFrame::new(
        height,
        vec![
            Column::new("model".into(), model),
            Column::new("layer".into(), layer),
            Column::new("family".into(), family),
            Column::new("cosine_from".into(), from),
            Column::new("cosine_to".into(), to),
            Column::new("aligned".into(), aligned),
            Column::new("unaligned".into(), unaligned),
        ],
    )
}

/// One family's residues at `layer`: `sequence`, `residue` (1-based in the sequence),
/// `amino_acid`, `column` (1-based alignment column; empty for inserts) and `distance` (cosine
/// distance from the column's mean; empty where none).
pub fn alignment_distance_table(
    family: &crate::data::Alignment,
    score: &super::alignment_study::FamilyScore,
    layer: usize,
) -> PolarsResult<DataFrame> {
    let (mut sequence, mut residue, mut amino_acid) = (vec![], vec![], vec![]);
    let (mut column, mut distance) = (vec![], vec![]);
    for (s, distances) in family.sequences.iter().zip(&score.column_distance) {
        for (p, ((aa, col), d)) in s
            .sequence
            .chars()
            .zip(&s.columns)
            .zip(distances)
            .enumerate()
        {
            sequence.push(s.id.clone());
            residue.push(p as u32 + 1);
            amino_acid.push(aa.to_string());
            column.push(col.map(|c| c + 1));
            distance.push(*d);
        }
    }
    let height = sequence.len();
    DataFrame::new(
        height,
        vec![
            Column::new("layer".into(), vec![layer as u32; height]),
            Column::new("sequence".into(), sequence),
            Column::new("residue".into(), residue),
            Column::new("amino_acid".into(), amino_acid),
            Column::new("column".into(), column),
            Column::new("distance".into(), distance),
        ],
    )
}
