//! The study engine's contract: every analysis over a model's layers (the SS8 probe, the
//! contact probe, remote homology, amino-acid groups, the embedding map, and every analysis
//! after them) is one [`Study`]. A study says which sets it embeds, what one layer's analysis
//! costs, and how it analyses one layer from the feature stores; the one driver
//! ([`super::study_driver`]) does everything else for all of them, in the style of linfa's
//! `ParamGuard` → `Fit`:
//!
//! 1. [`Study::check`]: the request's own inputs are checked before anything is planned (an
//!    error names the field or flag, the value and what is allowed);
//! 2. [`super::study_driver::plan_study`]: layers resolved against the model, stores planned,
//!    the time / RAM / disk estimate;
//! 3. [`super::study_driver::run_study`]: refused before it starts if it would not fit, then
//!    stores filled (only what is missing), [`Study::prepare`] once per model,
//!    [`Study::run_layer`] per layer, the untrained copy the same way when asked, progress in
//!    phases weighted by their estimated time, cancellation at every checkpoint;
//! 4. a result of one shape, [`LayerSweep`]: the trained and untrained runs, the best layer by
//!    the study's one documented rule ([`Study::BEST_RULE`]) and one [`StudyCost`].

use std::path::PathBuf;

use super::study_error::StudyError;
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::store::{FeatureStore, StoreOptions};

/// What every study request says besides its own inputs.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    /// The layers asked for.
    pub layers: &'a Layers,
    /// Also run an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Where the feature stores go, their precision and batch size.
    pub store: &'a StoreOptions,
}

impl<'a> Sweep<'a> {
    /// The three settings.
    pub fn new(layers: &'a Layers, compare_untrained: bool, store: &'a StoreOptions) -> Self {
        Self {
            layers,
            compare_untrained,
            store,
        }
    }
}

/// A set of proteins a study embeds into one feature store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSet {
    /// Display name (the store is labelled with it).
    pub name: String,
    /// `(id, sequence)` in order; the store's records follow this order.
    pub records: Vec<(String, String)>,
    /// Per-residue rows as well as per-protein means (`false`: means only).
    pub per_residue: bool,
}

/// What one layer's analysis costs beyond the forward passes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LayerCost {
    /// Estimated seconds to read, fit and score one layer.
    pub seconds: f64,
    /// Peak RAM of one layer's analysis, bytes (the forward batch is counted by the driver).
    pub ram: u64,
}

/// One analysis over a model's layers, run by [`super::study_driver::run_study`].
pub trait Study: Sync {
    /// What the study computes once per model after its stores are filled, before the layers
    /// (a training sample, the model's own embedding-table score, the chosen points).
    type Prepared: Send;
    /// One layer's result.
    type Run: Clone + Send + std::fmt::Debug;
    /// How the best layer is chosen: the highest [`Study::layer_score`] of the trained model,
    /// ties broken by [`Study::tie_break`], then by the lower layer.
    const BEST_RULE: &'static str;
    /// What one layer's analysis is called in the job's stage line ("fitting and scoring").
    const LAYER_STAGE: &'static str;

    /// Checks the request's own inputs (sets, parameters) before anything is planned.
    fn check(&self) -> Result<(), StudyError>;
    /// The layers, the untrained baseline and the stores asked for.
    fn sweep(&self) -> Sweep<'_>;
    /// The sets embedded into stores, in the order [`Study::prepare`] and
    /// [`Study::run_layer`] receive their stores; empty when the study embeds nothing.
    fn stored_sets(&self) -> Vec<StoredSet>;
    /// The sets the result is said to come from (its provenance): by default the stored sets;
    /// a study that reads its proteins without storing them (an attention screen) names them
    /// here.
    fn data_sets(&self) -> Vec<StoredSet> {
        self.stored_sets()
    }
    /// The layers analysed, 0-based (0 = after the embedding), ascending.
    fn analysed_layers(&self, num_layers: usize) -> Result<Vec<usize>, StudyError> {
        Ok(self.sweep().layers.resolve(num_layers)?)
    }
    /// The layers stored: by default the layers analysed (a map stores every layer, so that
    /// a map of another layer does no forward pass).
    fn stored_layers(&self, analysed: &[usize], _num_layers: usize) -> Vec<usize> {
        analysed.to_vec()
    }
    /// The cost of one layer's analysis on `model`.
    fn layer_cost(&self, model: &LoadedModel) -> LayerCost;
    /// The cost of [`Study::prepare`] on `model` when it does work of its own (an attention
    /// study's forward passes); none by default.
    fn prepare_cost(&self, _model: &LoadedModel) -> LayerCost {
        LayerCost::default()
    }
    /// Once per model (trained, then the untrained copy) after its stores are filled; `ctx`
    /// takes its progress and cancellation.
    fn prepare(
        &self,
        model: &LoadedModel,
        stores: &[FeatureStore],
        ctx: &JobCtx,
    ) -> Result<Self::Prepared, StudyError>;
    /// Analyses `layer` from the stores.
    fn run_layer(
        &self,
        prepared: &Self::Prepared,
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<Self::Run, StudyError>;
    /// The score that ranks layers (higher is better; NaN never wins).
    fn layer_score(run: &Self::Run) -> f64;
    /// Breaks ties of [`Study::layer_score`] (higher wins); by default none.
    fn tie_break(_run: &Self::Run) -> f64 {
        0.0
    }
}

/// The most training residues per layer a study may ask for (20 GB of f32 features at
/// ESM-1b's width).
pub const MAX_RESIDUE_CAP: usize = 4_000_000;

/// Checks a probe study's training-residue cap (`--residue-cap`).
pub fn check_residue_cap(cap: usize) -> Result<(), StudyError> {
    crate::params::whole_in(
        "training-residue cap (--residue-cap)",
        cap,
        1..=MAX_RESIDUE_CAP,
    )?;
    Ok(())
}

/// What a study cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StudyCost {
    /// Residues embedded by this study (0 when every store was reused).
    pub residues_embedded: usize,
    /// The stores read, sorted, without repeats.
    pub stores: Vec<PathBuf>,
    /// Wall seconds spent filling stores (forward passes and writes).
    pub embed_seconds: f64,
    /// Wall seconds spent reading, fitting and scoring.
    pub analysis_seconds: f64,
}

impl StudyCost {
    /// Adds `other`'s residues, stores and seconds.
    pub fn add(&mut self, other: StudyCost) {
        self.residues_embedded += other.residues_embedded;
        self.stores.extend(other.stores);
        self.stores.sort();
        self.stores.dedup();
        self.embed_seconds += other.embed_seconds;
        self.analysis_seconds += other.analysis_seconds;
    }
}

/// The result every study shares: one run per layer of the trained model and of the
/// untrained copy, the best layer and the cost.
#[derive(Debug, Clone)]
pub struct LayerSweep<R> {
    /// The model and the data sets it ran on.
    pub provenance: crate::provenance::Provenance,
    /// One run per layer of the trained model, ascending.
    pub runs: Vec<R>,
    /// The same layers on the untrained copy (empty when not compared).
    pub untrained: Vec<R>,
    /// Index into `runs` of the best layer (`None` without runs).
    pub best: Option<usize>,
    /// How the best layer was chosen.
    pub best_rule: &'static str,
    /// Residues embedded, stores read, seconds.
    pub cost: StudyCost,
}

impl<R> LayerSweep<R> {
    /// The best trained run.
    pub fn best_run(&self) -> Option<&R> {
        self.best.and_then(|b| self.runs.get(b))
    }
}

/// The index of the best of `runs` by `S`'s rule ([`Study::BEST_RULE`]).
pub fn best_layer<S: Study>(runs: &[S::Run]) -> Option<usize> {
    let key = |run: &S::Run| {
        let score = S::layer_score(run);
        (
            if score.is_nan() {
                f64::NEG_INFINITY
            } else {
                score
            },
            S::tie_break(run),
        )
    };
    let mut best: Option<(usize, (f64, f64))> = None;
    for (index, run) in runs.iter().enumerate() {
        let this = key(run);
        let better = best
            .is_none_or(|(_, (score, tie))| this.0 > score || (this.0 == score && this.1 > tie));
        if better {
            best = Some((index, this));
        }
    }
    best.map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A study whose runs are their scores.
    struct Scores;

    impl Study for Scores {
        type Prepared = ();
        type Run = (f64, f64);
        const BEST_RULE: &'static str = "highest score";
        const LAYER_STAGE: &'static str = "scoring";
        fn check(&self) -> Result<(), StudyError> {
            Ok(())
        }
        fn sweep(&self) -> Sweep<'_> {
            unreachable!("not planned in this test")
        }
        fn stored_sets(&self) -> Vec<StoredSet> {
            Vec::new()
        }
        fn layer_cost(&self, _: &LoadedModel) -> LayerCost {
            LayerCost::default()
        }
        fn prepare(
            &self,
            _: &LoadedModel,
            _: &[FeatureStore],
            _: &JobCtx,
        ) -> Result<(), StudyError> {
            Ok(())
        }
        fn run_layer(
            &self,
            _: &(),
            _: &[FeatureStore],
            _: usize,
            _: &JobCtx,
        ) -> Result<(f64, f64), StudyError> {
            Ok((0.0, 0.0))
        }
        fn layer_score(run: &(f64, f64)) -> f64 {
            run.0
        }
        fn tie_break(run: &(f64, f64)) -> f64 {
            run.1
        }
    }

    #[test]
    fn the_best_layer_is_the_highest_score_then_the_tie_break_then_the_lower_layer() {
        assert_eq!(best_layer::<Scores>(&[]), None);
        assert_eq!(
            best_layer::<Scores>(&[(0.1, 0.0), (0.3, 0.0), (0.2, 0.0)]),
            Some(1)
        );
        assert_eq!(
            best_layer::<Scores>(&[(0.3, 0.0), (0.3, 0.5), (0.3, 0.5)]),
            Some(1)
        );
        assert_eq!(
            best_layer::<Scores>(&[(f64::NAN, 0.0), (0.0, 0.0)]),
            Some(1)
        );
        assert_eq!(best_layer::<Scores>(&[(f64::NAN, 0.0)]), Some(0));
    }

    #[test]
    fn costs_add_up_and_stores_are_listed_once() {
        let mut cost = StudyCost {
            residues_embedded: 10,
            stores: vec!["b".into(), "a".into()],
            embed_seconds: 1.0,
            analysis_seconds: 2.0,
        };
        cost.add(StudyCost {
            residues_embedded: 5,
            stores: vec!["a".into(), "c".into()],
            embed_seconds: 0.5,
            analysis_seconds: 0.25,
        });
        assert_eq!(cost.residues_embedded, 15);
        assert_eq!(
            cost.stores,
            vec![PathBuf::from("a"), "b".into(), "c".into()]
        );
        assert_eq!((cost.embed_seconds, cost.analysis_seconds), (1.5, 2.25));
    }
}
