//! The SS8 probe study, the one workflow behind the GUI's Secondary structure view and
//! `probe ss8`, a [`Study`] on the study engine: embed the training and test proteins once
//! into feature stores (every layer asked for, resumable), then per layer read the training
//! residues from disk (capped by a seeded per-residue sample), fit the logistic-regression
//! probe, and score the test set in streaming chunks. Peak RAM: the model, one forward batch,
//! one layer's training residues.
//!
//! The best layer is the trained model's layer with the highest test Q8 ([`BEST_LAYER`]).

use std::path::Path;

use ndarray::{Array2, Axis};

use super::probe_apply::Ss8Prediction;
use super::ss8_probe_run::Ss8ProbeRun;
use super::study::{LayerCost, LayerSweep, StoredSet, Study, Sweep, check_residue_cap};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::{StudyEstimate, fit_seconds};
use super::study_split::StudySplit;
use crate::data::{SS8_CLASSES, Ss8Record, read_ss8_labels};
use crate::jobs::JobCtx;
use crate::model::{Layers, LengthPolicy, LoadedModel};
use crate::params::{real_in, whole_in};
use crate::probes::{Ss8Probe, Ss8ProbeParams, ss8_metrics};
use crate::rng::SplitMix64;
use crate::store::{FeatureStore, LayerReader, StoreOptions};

/// Training residues per layer above which a seeded sample is used (1 GB of f32 features at
/// ESM-1b's width).
pub const DEFAULT_RESIDUE_CAP: usize = 200_000;

/// How the best layer is chosen.
pub const BEST_LAYER: &str = "highest test Q8 of the trained model (ties: the lower layer)";

/// Test rows read from a store at once while scoring.
const SCORE_CHUNK_ROWS: usize = 16_384;

/// Everything a study needs.
#[derive(Debug, Clone)]
pub struct Ss8StudyRequest {
    /// Training proteins.
    pub train: Vec<Ss8Record>,
    /// Test proteins.
    pub test: Vec<Ss8Record>,
    /// Name of the training set (stores are labelled with it).
    pub train_name: String,
    /// Name of the test set.
    pub test_name: String,
    /// Layers to probe, one probe each.
    pub layers: Layers,
    /// Fit options.
    pub params: Ss8ProbeParams,
    /// Training residues per layer at most (a seeded sample above it).
    pub residue_cap: usize,
    /// Seed of that sample.
    pub seed: u64,
    /// Also probe an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Feature stores.
    pub store: StoreOptions,
    /// Test proteins whose per-residue predictions are kept (the GUI's tracks).
    pub tracked_proteins: usize,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct Ss8Study {
    /// One run per layer, trained and untrained, the best layer ([`BEST_LAYER`]) and the cost.
    pub sweep: LayerSweep<Ss8ProbeRun>,
    /// What it trained and tested on.
    pub split: StudySplit,
    /// The first tracked test proteins with the best probe's predictions.
    pub tracks: Vec<(Ss8Record, Ss8Prediction)>,
}

impl Ss8StudyRequest {
    /// A request over the SS8 labels of `train` and `test` (tables or structures labelled by
    /// DSSP), keeping the first `max_train` training proteins (all when `None`), named after
    /// their files, every other field at its default: the one builder both shells start from.
    pub fn from_files(
        train: &Path,
        test: &Path,
        max_train: Option<usize>,
    ) -> Result<Self, StudyError> {
        let mut train_records = read_ss8_labels(train)?;
        if let Some(n) = max_train {
            train_records.truncate(n);
        }
        Ok(Self {
            train: train_records,
            test: read_ss8_labels(test)?,
            train_name: crate::store::dataset_label(train),
            test_name: crate::store::dataset_label(test),
            layers: Layers::Last,
            params: Ss8ProbeParams::default(),
            residue_cap: DEFAULT_RESIDUE_CAP,
            seed: 0,
            compare_untrained: false,
            store: StoreOptions::default(),
            tracked_proteins: 0,
        })
    }
}

impl Ss8Study {
    /// The best layer's run ([`BEST_LAYER`]); a study has at least one layer.
    pub fn best_run(&self) -> &Ss8ProbeRun {
        self.sweep
            .best_run()
            .expect("run_ss8_study returns at least one layer")
    }
}

/// The SS8 probe's checks of its settings (shared with saved-probe fits).
pub fn check_ss8_params(params: &Ss8ProbeParams) -> Result<(), StudyError> {
    real_in("L2 penalty (--l2)", params.l2, (0.0, 1e6), false)?;
    whole_in(
        "iterations (--max-iterations)",
        params.max_iterations,
        1..=100_000,
    )?;
    Ok(())
}

fn pairs(records: &[Ss8Record]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| (r.id.clone(), r.sequence.clone()))
        .collect()
}

/// The training sample of a model's training store: rows ascending, with their labels.
#[derive(Debug)]
pub struct Ss8Sample {
    rows: Vec<usize>,
    labels: Vec<usize>,
}

impl Study for Ss8StudyRequest {
    type Prepared = Ss8Sample;
    type Run = Ss8ProbeRun;
    const BEST_RULE: &'static str = BEST_LAYER;
    const LAYER_STAGE: &'static str = "fitting and scoring";

    fn check(&self) -> Result<(), StudyError> {
        check_ss8_params(&self.params)?;
        check_residue_cap(self.residue_cap)?;
        for (name, set) in [
            (&self.train_name, &self.train),
            (&self.test_name, &self.test),
        ] {
            if labelled_count(set) == 0 {
                return Err(StudyError::Empty(format!(
                    "{name} has no labelled residues ({} proteins): give an SS8 table or structures with secondary structure",
                    set.len()
                )));
            }
        }
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layers, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        [
            (&self.train_name, &self.train),
            (&self.test_name, &self.test),
        ]
        .into_iter()
        .map(|(name, records)| StoredSet {
            name: name.clone(),
            records: pairs(records),
            per_residue: true,
        })
        .collect()
    }

    fn layer_cost(&self, model: &LoadedModel) -> LayerCost {
        let dim = model.model.config().embed_dim;
        let train_rows = labelled_count(&self.train).min(self.residue_cap);
        let test_rows = labelled_count(&self.test);
        let read_bytes = ((train_rows + test_rows) * dim * self.store.dtype.bytes()) as u64;
        LayerCost {
            seconds: fit_seconds(
                train_rows,
                dim,
                SS8_CLASSES.len(),
                self.params.max_iterations as usize,
                read_bytes,
            ),
            ram: (train_rows * dim * 4 + SCORE_CHUNK_ROWS * dim * 8) as u64,
        }
    }

    fn prepare(
        &self,
        _: &LoadedModel,
        stores: &[FeatureStore],
        _: &JobCtx,
    ) -> Result<Ss8Sample, StudyError> {
        let (rows, labels) = training_sample(&stores[0], &self.train, self.residue_cap, self.seed);
        if rows.is_empty() {
            return Err(StudyError::Empty(format!(
                "{} has no labelled residues",
                self.train_name
            )));
        }
        Ok(Ss8Sample { rows, labels })
    }

    fn run_layer(
        &self,
        sample: &Ss8Sample,
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<Ss8ProbeRun, StudyError> {
        probe_layer(
            (&stores[0], &stores[1]),
            &self.test,
            layer,
            (&sample.rows, &sample.labels),
            &self.params,
            ctx,
        )
    }

    fn layer_score(run: &Ss8ProbeRun) -> f64 {
        run.test.q8
    }
}

/// Long sequences in overlapping windows (64 shared residues, or a quarter of short limits).
pub fn study_policy(model: &LoadedModel) -> LengthPolicy {
    super::embed_run::window_policy(model)
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_ss8_study(
    model: &LoadedModel,
    request: &Ss8StudyRequest,
) -> Result<StudyEstimate, StudyError> {
    estimate_study(model, request)
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_ss8_study`]).
pub fn run_ss8_study(
    model: &LoadedModel,
    request: &Ss8StudyRequest,
    ctx: &JobCtx,
) -> Result<Ss8Study, StudyError> {
    let outcome = run_study(model, request, ctx)?;
    let Some(best) = outcome.sweep.best_run() else {
        return Err(StudyError::Empty("no layer was probed".into()));
    };
    let tracks = tracks(
        &outcome.trained.stores[1],
        &request.test,
        best,
        request.tracked_proteins,
    )?;
    Ok(Ss8Study {
        sweep: outcome.sweep,
        split: StudySplit::of(
            &request.train_name,
            request.train.iter().map(|r| r.sequence.as_str()),
            &request.test_name,
            request.test.iter().map(|r| r.sequence.as_str()),
        ),
        tracks,
    })
}

/// Fits one layer on the sampled training rows and scores the test set.
fn probe_layer(
    (train_store, test_store): (&FeatureStore, &FeatureStore),
    test: &[Ss8Record],
    layer: usize,
    (rows, labels): (&[usize], &[usize]),
    params: &Ss8ProbeParams,
    ctx: &JobCtx,
) -> Result<Ss8ProbeRun, StudyError> {
    ctx.checkpoint(0.0)?;
    let features = LayerReader::open(train_store, layer)?.gather(rows)?;
    let fit_ctx = ctx.scoped(0.0, 0.9);
    let max_steps = params.max_iterations.max(1) as f32;
    let hook: crate::probes::logistic::IterationHook =
        std::sync::Arc::new(move |step, _| fit_ctx.checkpoint(step as f32 / max_steps).is_ok());
    let probe = Ss8Probe::fit(&features, labels, params, Some(hook))?;
    let train = probe.evaluate(&features, labels);
    drop(features);
    let test_metrics = score_streaming(&probe, test_store, test, layer, &ctx.scoped(0.9, 1.0))?;
    Ok(Ss8ProbeRun {
        layer,
        probe,
        train,
        test: test_metrics,
        train_residues: labels.len(),
    })
}

/// Q8/Q3 of `probe` on every labelled residue of `records`, read in chunks of about
/// [`SCORE_CHUNK_ROWS`] rows.
fn score_streaming(
    probe: &Ss8Probe,
    store: &FeatureStore,
    records: &[Ss8Record],
    layer: usize,
    ctx: &JobCtx,
) -> Result<crate::probes::Ss8Metrics, StudyError> {
    let mut reader = LayerReader::open(store, layer)?;
    let offsets = store.row_offsets();
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for chunk in store.record_chunks(SCORE_CHUNK_ROWS) {
        let (first, last) = (chunk.start, chunk.end);
        let block = reader.read_range(offsets[first], offsets[last] - offsets[first])?;
        let mut keep = Vec::new();
        for (i, record) in records.iter().enumerate().take(last).skip(first) {
            let base = offsets[i] - offsets[first];
            for (p, (&label, &evaluated)) in record.labels.iter().zip(&record.mask).enumerate() {
                if evaluated && p < offsets[i + 1] - offsets[i] {
                    keep.push(base + p);
                    truth.push(usize::from(label));
                }
            }
        }
        predicted.extend(probe.predict(&block.select(Axis(0), &keep)));
        ctx.checkpoint(last as f32 / records.len() as f32)?;
    }
    Ok(ss8_metrics(&truth, &predicted))
}

/// Labelled training rows of the store (`mask` true), subsampled to `cap` by a seeded shuffle
/// when there are more; rows ascending, with their labels.
fn training_sample(
    store: &FeatureStore,
    records: &[Ss8Record],
    cap: usize,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let offsets = store.row_offsets();
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let stored = offsets[i + 1] - offsets[i];
        for (p, (&label, &evaluated)) in record.labels.iter().zip(&record.mask).enumerate() {
            if evaluated && p < stored {
                rows.push(offsets[i] + p);
                labels.push(usize::from(label));
            }
        }
    }
    if rows.len() <= cap {
        return (rows, labels);
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    order.truncate(cap);
    order.sort_unstable();
    (
        order.iter().map(|&k| rows[k]).collect(),
        order.iter().map(|&k| labels[k]).collect(),
    )
}

/// Residues of `records` that are evaluated.
fn labelled_count(records: &[Ss8Record]) -> usize {
    records
        .iter()
        .map(|r| r.labels.iter().zip(&r.mask).filter(|(_, m)| **m).count())
        .sum()
}

/// The best probe's per-residue probabilities for the first `count` test proteins, from the
/// store (no forward pass).
fn tracks(
    store: &FeatureStore,
    test: &[Ss8Record],
    best: &Ss8ProbeRun,
    count: usize,
) -> Result<Vec<(Ss8Record, Ss8Prediction)>, StudyError> {
    let mut reader = LayerReader::open(store, best.layer)?;
    let offsets = store.row_offsets();
    test.iter()
        .take(count)
        .enumerate()
        .map(|(i, record)| {
            let features: Array2<f32> =
                reader.read_range(offsets[i], offsets[i + 1] - offsets[i])?;
            let prediction = Ss8Prediction {
                id: record.id.clone(),
                probabilities: best.probe.predict_probabilities(&features),
            };
            Ok((record.clone(), prediction))
        })
        .collect()
}
