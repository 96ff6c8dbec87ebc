//! The SS8 probe study, the one workflow behind the GUI's Secondary structure view and
//! `probe ss8`: embed the training and test proteins once into feature stores (every layer
//! asked for, resumable), then per layer read the training residues from disk (capped by a
//! seeded per-residue sample), fit the logistic-regression probe, and score the test set in
//! streaming chunks. Peak RAM: the model, one forward batch, one layer's training residues.
//!
//! The best layer is the trained model's layer with the highest test Q8 ([`BEST_LAYER`]).

use std::path::PathBuf;

use ndarray::{Array2, Axis};

use super::probe_apply::Ss8Prediction;
use super::ss8_probe_run::Ss8ProbeRun;
use super::study_error::StudyError;
use super::study_estimate::{StudyEstimate, fill_batch_bytes, fit_seconds};
use super::study_split::StudySplit;
use super::study_stores::{
    NamedRecords, embed_phase_seconds, embed_seconds_of, fill_splits, full_store_bytes, plan_splits,
};
use crate::data::{SS8_CLASSES, Ss8Record};
use crate::jobs::JobCtx;
use crate::model::{Layers, LengthPolicy, LoadedModel};
use crate::probes::{Ss8Probe, Ss8ProbeParams, ss8_metrics};
use crate::rng::SplitMix64;
use crate::store::{FeatureStore, LayerReader, StoreOptions, StorePlan};

/// Training residues per layer above which a seeded sample is used (1 GB of f32 features at
/// ESM-1b's width).
pub const DEFAULT_RESIDUE_CAP: usize = 200_000;

/// How the best layer is chosen.
pub const BEST_LAYER: &str = "highest test Q8 of the trained model";

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
    /// The model's name.
    pub model_name: String,
    /// What it trained and tested on.
    pub split: StudySplit,
    /// One run per layer, ascending.
    pub runs: Vec<Ss8ProbeRun>,
    /// The same layers on the untrained copy (empty when not compared).
    pub untrained: Vec<Ss8ProbeRun>,
    /// Index into `runs` of the best layer ([`BEST_LAYER`]).
    pub best: usize,
    /// The first tracked test proteins with the best probe's predictions.
    pub tracks: Vec<(Ss8Record, Ss8Prediction)>,
    /// Residues embedded by this study (0 when every store was reused).
    pub residues_embedded: usize,
    /// The stores read.
    pub stores: Vec<PathBuf>,
    /// Wall seconds spent filling stores (forward passes and writes).
    pub embed_seconds: f64,
    /// Wall seconds spent reading, fitting and scoring.
    pub fit_seconds: f64,
}

impl Ss8StudyRequest {
    fn sets<'a>(
        &'a self,
        train: &'a [(String, String)],
        test: &'a [(String, String)],
    ) -> [NamedRecords<'a>; 2] {
        [
            NamedRecords {
                name: &self.train_name,
                records: train,
            },
            NamedRecords {
                name: &self.test_name,
                records: test,
            },
        ]
    }

    fn pairs(records: &[Ss8Record]) -> Vec<(String, String)> {
        records
            .iter()
            .map(|r| (r.id.clone(), r.sequence.clone()))
            .collect()
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
    let layers = request.layers.resolve(model.model.config().num_layers)?;
    let plans = plan_stores(model, request, &layers)?;
    estimate_from_plans(model, request, &layers, &plans)
}

/// Plans of the training and the test store of `model`.
fn plan_stores(
    model: &LoadedModel,
    request: &Ss8StudyRequest,
    layers: &[usize],
) -> Result<[StorePlan; 2], StudyError> {
    let (train, test) = (
        Ss8StudyRequest::pairs(&request.train),
        Ss8StudyRequest::pairs(&request.test),
    );
    Ok(plan_splits(
        model,
        &request.store,
        request.sets(&train, &test),
        layers,
    )?)
}

/// [`estimate_ss8_study`] from the stores' plans.
fn estimate_from_plans(
    model: &LoadedModel,
    request: &Ss8StudyRequest,
    layers: &[usize],
    plans: &[StorePlan; 2],
) -> Result<StudyEstimate, StudyError> {
    let config = model.model.config();
    let (train, test) = (
        Ss8StudyRequest::pairs(&request.train),
        Ss8StudyRequest::pairs(&request.test),
    );
    let copies = if request.compare_untrained { 2.0 } else { 1.0 };
    let mut embed: f64 = embed_phase_seconds(model, plans).iter().sum();
    let mut disk: u64 = plans.iter().map(|p| p.bytes_to_reserve).sum();
    if request.compare_untrained {
        let all = [train.as_slice(), test.as_slice()].concat();
        embed += embed_seconds_of(model, &all);
        disk += full_store_bytes(model, &request.store, &all, layers.len());
    }
    let train_rows = labelled_count(&request.train).min(request.residue_cap);
    let test_rows = labelled_count(&request.test);
    let layer_bytes =
        ((train_rows + test_rows) * config.embed_dim * request.store.dtype.bytes()) as u64;
    let per_layer = fit_seconds(
        train_rows,
        config.embed_dim,
        SS8_CLASSES.len(),
        request.params.max_iterations as usize,
        layer_bytes,
    );
    let fit = copies * per_layer * layers.len() as f64;
    let weights = (config.parameter_count() * 4) as u64;
    let forward = fill_batch_bytes(config, &request.store, layers.len());
    let fitting =
        (train_rows * config.embed_dim * 4 + SCORE_CHUNK_ROWS * config.embed_dim * 8) as u64;
    let untrained_copy = if request.compare_untrained {
        weights
    } else {
        0
    };
    Ok(StudyEstimate {
        embed_seconds: embed,
        fit_seconds: fit,
        extra_ram: forward.max(fitting) + untrained_copy,
        weights,
        disk,
        store_root: request.store.root.clone(),
    })
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_ss8_study`]).
pub fn run_ss8_study(
    model: &LoadedModel,
    request: &Ss8StudyRequest,
    ctx: &JobCtx,
) -> Result<Ss8Study, StudyError> {
    let layers = request.layers.resolve(model.model.config().num_layers)?;
    let plans = plan_stores(model, request, &layers)?;
    estimate_from_plans(model, request, &layers, &plans)?.check_resources()?;
    let split = if request.compare_untrained {
        let trained_share = 1.0 / 2.0;
        ctx.phases(&[trained_share, 1.0 - trained_share])
    } else {
        vec![ctx.clone()]
    };
    let trained = probe_model(model, request, (&layers, Some(plans)), &split[0])?;
    let untrained = if request.compare_untrained {
        let copy = model.untrained_copy(0)?;
        probe_model(&copy, request, (&layers, None), &split[1])?
    } else {
        ModelRuns::default()
    };
    let best = (0..trained.runs.len())
        .max_by(|&a, &b| trained.runs[a].test.q8.total_cmp(&trained.runs[b].test.q8))
        .ok_or_else(|| StudyError::Empty("no layer was probed".into()))?;
    let tracks = tracks(
        &trained.test_store,
        &request.test,
        &trained.runs[best],
        request.tracked_proteins,
    )?;
    ctx.checkpoint(1.0)?;
    let mut stores = [trained.stores, untrained.stores].concat();
    stores.sort();
    stores.dedup();
    Ok(Ss8Study {
        model_name: model.name.clone(),
        split: StudySplit::of(
            &request.train_name,
            request.train.iter().map(|r| r.sequence.as_str()),
            &request.test_name,
            request.test.iter().map(|r| r.sequence.as_str()),
        ),
        best,
        tracks,
        residues_embedded: trained.residues_embedded + untrained.residues_embedded,
        stores,
        embed_seconds: trained.embed_seconds + untrained.embed_seconds,
        fit_seconds: trained.fit_seconds + untrained.fit_seconds,
        runs: trained.runs,
        untrained: untrained.runs,
    })
}

/// The runs of one model.
#[derive(Debug, Default)]
struct ModelRuns {
    runs: Vec<Ss8ProbeRun>,
    residues_embedded: usize,
    stores: Vec<PathBuf>,
    test_store: Option<FeatureStore>,
    embed_seconds: f64,
    fit_seconds: f64,
}

/// Embeds (or reuses) both sets, then fits and scores each layer: phases weighted by their
/// estimated time.
fn probe_model(
    model: &LoadedModel,
    request: &Ss8StudyRequest,
    (layers, plans): (&[usize], Option<[StorePlan; 2]>),
    ctx: &JobCtx,
) -> Result<ModelRuns, StudyError> {
    let config = model.model.config();
    let (train, test) = (
        Ss8StudyRequest::pairs(&request.train),
        Ss8StudyRequest::pairs(&request.test),
    );
    let sets = request.sets(&train, &test);
    let plans = match plans {
        Some(plans) => plans,
        None => plan_stores(model, request, layers)?,
    };
    let train_rows = labelled_count(&request.train).min(request.residue_cap);
    let per_layer = fit_seconds(
        train_rows,
        config.embed_dim,
        SS8_CLASSES.len(),
        request.params.max_iterations as usize,
        0,
    );
    let mut weights = embed_phase_seconds(model, &plans).to_vec();
    weights.extend(std::iter::repeat_n(per_layer.max(1e-3), layers.len()));
    let phases = ctx.phases(&weights);
    let stores = fill_splits(
        model,
        &request.store,
        sets,
        layers,
        [&phases[0], &phases[1]],
    )?;
    let (train_store, test_store) = (&stores.train, &stores.test);
    let started = std::time::Instant::now();
    let (rows, labels) = training_sample(
        train_store,
        &request.train,
        request.residue_cap,
        request.seed,
    );
    if rows.is_empty() {
        return Err(StudyError::Empty(format!(
            "{} has no labelled residues",
            request.train_name
        )));
    }
    let mut runs = Vec::with_capacity(layers.len());
    for (k, (&layer, phase)) in layers.iter().zip(&phases[2..]).enumerate() {
        phase.set_stage(format!(
            "fitting and scoring layer {layer} ({}/{})",
            k + 1,
            layers.len()
        ));
        runs.push(probe_layer(
            train_store,
            test_store,
            &request.test,
            layer,
            (&rows, &labels),
            &request.params,
            phase,
        )?);
    }
    Ok(ModelRuns {
        runs,
        residues_embedded: stores.residues_embedded,
        stores: stores.dirs(),
        embed_seconds: stores.seconds,
        fit_seconds: started.elapsed().as_secs_f64(),
        test_store: Some(stores.test),
    })
}

/// Fits one layer on the sampled training rows and scores the test set.
fn probe_layer(
    train_store: &FeatureStore,
    test_store: &FeatureStore,
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
    store: &Option<FeatureStore>,
    test: &[Ss8Record],
    best: &Ss8ProbeRun,
    count: usize,
) -> Result<Vec<(Ss8Record, Ss8Prediction)>, StudyError> {
    let Some(store) = store else {
        return Ok(Vec::new());
    };
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
