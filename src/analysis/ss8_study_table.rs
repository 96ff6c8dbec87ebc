//! The one table of an SS8 study, written by `probe ss8 --out` and the GUI's Accuracy export:
//! one row per (model, layer, class) with the layer's scores repeated on its rows.
//!
//! Columns: `model` (`trained`/`untrained`), `layer`, `train_q8`, `test_q8`, `test_q3`,
//! `train_residues`, `test_residues`, `best` (the study's best layer), `class` (GHIBESTC),
//! `precision`, `recall`, `support` (test set).

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::ss8_probe_run::Ss8ProbeRun;
use super::ss8_study::Ss8Study;
use crate::data::SS8_CLASSES;

/// See the module docs.
pub fn ss8_study_table(study: &Ss8Study) -> PolarsResult<DataFrame> {
    let best_layer = study.sweep.best_run().map(|r| r.layer);
    let mut rows = Rows::default();
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        for run in runs.iter() {
            rows.push(
                model,
                run,
                model == "trained" && Some(run.layer) == best_layer,
            );
        }
    }
    rows.into_frame()
}

#[derive(Default)]
struct Rows {
    model: Vec<String>,
    layer: Vec<u32>,
    scores: [Vec<f64>; 5],
    counts: [Vec<u32>; 3],
    best: Vec<bool>,
    class: Vec<String>,
}

impl Rows {
    fn push(&mut self, model: &str, run: &Ss8ProbeRun, best: bool) {
        for (letter, m) in SS8_CLASSES.iter().zip(&run.test.ss8.per_class) {
            self.model.push(model.to_owned());
            self.layer.push(run.layer as u32);
            let scores = [
                run.train.q8,
                run.test.q8,
                run.test.q3,
                m.precision,
                m.recall,
            ];
            for (column, v) in self.scores.iter_mut().zip(scores) {
                column.push(v);
            }
            let counts = [run.train_residues, run.test.ss8.count, m.support];
            for (column, v) in self.counts.iter_mut().zip(counts) {
                column.push(v as u32);
            }
            self.best.push(best);
            self.class.push(letter.to_string());
        }
    }

    fn into_frame(self) -> PolarsResult<DataFrame> {
        let [train_q8, test_q8, test_q3, precision, recall] = self.scores;
        let [train_residues, test_residues, support] = self.counts;
        DataFrame::new(
            self.layer.len(),
            vec![
                Column::new("model".into(), self.model),
                Column::new("layer".into(), self.layer),
                Column::new("train_q8".into(), train_q8),
                Column::new("test_q8".into(), test_q8),
                Column::new("test_q3".into(), test_q3),
                Column::new("train_residues".into(), train_residues),
                Column::new("test_residues".into(), test_residues),
                Column::new("best".into(), self.best),
                Column::new("class".into(), self.class),
                Column::new("precision".into(), precision),
                Column::new("recall".into(), recall),
                Column::new("support".into(), support),
            ],
        )
    }
}
