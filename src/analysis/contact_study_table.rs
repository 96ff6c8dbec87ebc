//! The one table of a contact study, written by `probe contacts --out` and the GUI's
//! Precision export: one row per predictor.
//!
//! Columns: `model` (`trained`, `untrained`, `contact head`, or `regression` for a scored
//! contact-head file), `predictor` (the model's or the regression file's name), `layer` (empty
//! for the contact heads, which read every layer's attention), `test_chains`, `best` (the study's best layer),
//! then `{short,medium,long}_p_at_{l,l2,l5}`: mean precision over the test chains of the top
//! L, L/2, L/5 predicted pairs in each separation range (6-11, 12-23, >= 24), Cβ < 8 Å.

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::contact_study::ContactStudy;
use crate::probes::{ContactPrecision, RangePrecision};

/// See the module docs.
pub fn contact_study_table(study: &ContactStudy) -> PolarsResult<DataFrame> {
    let best_layer = study.best_run().map(|r| r.layer);
    let model_name = &study.sweep.provenance.model.name;
    let untrained_name = format!("{model_name} (untrained)");
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<u32>,
        usize,
        bool,
        &'a ContactPrecision,
    );
    let mut rows: Vec<Row> = Vec::new();
    for (model, runs, name) in [
        ("trained", &study.sweep.runs, model_name),
        ("untrained", &study.sweep.untrained, &untrained_name),
    ] {
        for run in runs.iter() {
            let best = model == "trained" && Some(run.layer) == best_layer;
            rows.push((
                model,
                name,
                Some(run.layer as u32),
                run.chains.len(),
                best,
                &run.mean,
            ));
        }
    }
    if let Some(head) = &study.head {
        rows.push((
            "contact head",
            model_name,
            None,
            head.chains.len(),
            false,
            &head.mean,
        ));
    }
    if let Some(scored) = &study.regression {
        let evaluation = &scored.evaluation;
        rows.push((
            "regression",
            &scored.model.name,
            None,
            evaluation.chains.len(),
            false,
            &evaluation.mean,
        ));
    }
    let mut columns = vec![
        Column::new("model".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new(
            "predictor".into(),
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        ),
        Column::new("layer".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new(
            "test_chains".into(),
            rows.iter().map(|r| r.3 as u32).collect::<Vec<_>>(),
        ),
        Column::new("best".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
    ];
    columns.extend(precision_columns(rows.iter().map(|r| r.5)));
    DataFrame::new(rows.len(), columns)
}

/// `{short,medium,long}_p_at_{l,l2,l5}` of `precisions`, one value per row (the contact and
/// heads tables share them).
pub(crate) fn precision_columns<'a>(
    precisions: impl Iterator<Item = &'a ContactPrecision> + Clone,
) -> Vec<Column> {
    type Pick = fn(&ContactPrecision) -> &RangePrecision;
    let ranges: [(&str, Pick); 3] = [
        ("short", |p| &p.short),
        ("medium", |p| &p.medium),
        ("long", |p| &p.long),
    ];
    let mut columns = Vec::with_capacity(9);
    for (range, pick) in ranges {
        for (k, name) in ["l", "l2", "l5"].iter().enumerate() {
            let values: Vec<f64> = precisions
                .clone()
                .map(|p| {
                    let p = pick(p);
                    [p.at_l, p.at_l2, p.at_l5][k]
                })
                .collect();
            columns.push(Column::new(format!("{range}_p_at_{name}").into(), values));
        }
    }
    columns
}
