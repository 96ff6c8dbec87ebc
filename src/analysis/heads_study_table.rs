//! The one table of a heads study, written by `probe heads --out` and the GUI's Heads table
//! export: one row per model, layer and head.
//!
//! Columns: `model` (`trained` or `untrained`), `layer` and `head`, both 1-based (fair-esm's
//! `attentions[:, layer - 1, head - 1]`),
//! `rank` (1 = the model's best head by long-range precision at L), `best` (the trained
//! model's best head), `chains`, then `{short,medium,long}_p_at_{l,l2,l5}`: mean precision
//! over the chains of the head's top L, L/2, L/5 APC-map pairs per separation range (6-11,
//! 12-23, >= 24), Cβ < 8 Å; `confident` (attention weights above `threshold` on pairs at
//! least 6 apart, both directions, over all chains), `confident_on_contacts`,
//! `attention_on_contacts` (their share) and `background` (the share of those pairs that are
//! contacts: the share confident attention falling at random would have).

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::heads_study::{HeadLayerRun, HeadScore, HeadsStudy};

/// One row: model, layer and the head's score.
type Row<'a> = (&'static str, usize, &'a HeadScore);

/// Ranks of `rows` (1 = highest long-range P@L; NaN last; ties in row order).
fn ranks(rows: &[Row<'_>]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let key = |k: usize| {
        let v = rows[k].2.precision.long.at_l;
        if v.is_nan() { f64::NEG_INFINITY } else { v }
    };
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    let mut rank = vec![0u32; rows.len()];
    for (position, k) in order.into_iter().enumerate() {
        rank[k] = position as u32 + 1;
    }
    rank
}

fn model_rows<'a>(model: &'static str, runs: &'a [HeadLayerRun]) -> Vec<Row<'a>> {
    runs.iter()
        .flat_map(|run| run.heads.iter().map(move |h| (model, run.layer, h)))
        .collect()
}

/// See the module docs.
pub fn heads_study_table(study: &HeadsStudy) -> PolarsResult<DataFrame> {
    let best = study.best_head().map(|(layer, h)| (layer, h.head));
    let mut rows = Vec::new();
    let mut rank = Vec::new();
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        let these = model_rows(model, runs);
        rank.extend(ranks(&these));
        rows.extend(these);
    }
    let n = rows.len();
    let mut columns = vec![
        Column::new("model".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new(
            "layer".into(),
            rows.iter().map(|r| r.1 as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "head".into(),
            rows.iter().map(|r| r.2.head as u32 + 1).collect::<Vec<_>>(),
        ),
        Column::new("rank".into(), rank),
        Column::new(
            "best".into(),
            rows.iter()
                .map(|r| r.0 == "trained" && Some((r.1, r.2.head)) == best)
                .collect::<Vec<_>>(),
        ),
        Column::new("chains".into(), vec![study.chains.len() as u32; n]),
    ];
    columns.extend(super::contact_study_table::precision_columns(
        rows.iter().map(|r| &r.2.precision),
    ));
    let attention = rows.iter().map(|r| r.2.attention);
    columns.extend([
        Column::new(
            "confident".into(),
            attention
                .clone()
                .map(|a| a.confident as u64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "confident_on_contacts".into(),
            attention
                .clone()
                .map(|a| a.on_contacts as u64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "attention_on_contacts".into(),
            attention.map(|a| a.share()).collect::<Vec<_>>(),
        ),
        Column::new("threshold".into(), vec![study.threshold; n]),
        Column::new("background".into(), vec![study.background_share(); n]),
    ]);
    DataFrame::new(n, columns)
}
