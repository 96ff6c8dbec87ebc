//! The contact-probe study, the one workflow behind the GUI's Contacts view and
//! `probe contacts`: embed the training and test chains once into feature stores (every layer
//! asked for, resumable), then per layer read the training chains from disk, fit the bilinear
//! probe on sampled residue pairs ([`crate::probes::sample_pairs`]), and score each test chain
//! one at a time (Cβ < 8 Å; precision at L, L/2, L/5 by range). No `L x L` matrix outlives the
//! chain it belongs to: predicted maps are recomputed from the store for the chain on screen
//! ([`ContactStudy::predict_chain`]).
//!
//! Training chains are whole proteins: when their residues exceed the cap, a seeded sample of
//! chains is taken up to it. Peak RAM: the model, one forward batch, one layer's training
//! chains, one test chain's `L x L` scores. The best layer: [`BEST_CONTACT_LAYER`].

use std::path::PathBuf;

use candle_core::{Device, Tensor};

use super::contact_head_run::{
    CONTACT_THRESHOLD_ANGSTROM, ContactHeadEvaluation, evaluate_contact_head, mean_precision,
};
use super::study_error::StudyError;
use super::study_estimate::{FIT_FLOPS_PER_CORE, StudyEstimate, fill_batch_bytes};
use super::study_split::StudySplit;
use super::study_stores::{
    NamedRecords, embed_phase_seconds, embed_seconds_of, fill_splits, full_store_bytes, plan_splits,
};
use crate::data::{ContactMap, ProteinChain};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::probes::{
    ContactPrecision, ContactProbe, ContactProbeError, ContactProbeParams, SampledPairs,
    TrainingChain, contact_precision, pair_sample, standardise_in_place,
};
use crate::rng::SplitMix64;
use crate::store::{FeatureStore, LayerReader, StoreOptions, StorePlan};

/// Training residues per layer above which a seeded sample of whole chains is used (1 GB of
/// f32 features at ESM-1b's width).
pub const DEFAULT_CONTACT_RESIDUE_CAP: usize = 200_000;

/// How the best layer is chosen.
pub const BEST_CONTACT_LAYER: &str =
    "highest mean long-range (|i - j| >= 24) precision at L over the test chains, trained model";

/// Everything a contact study needs.
#[derive(Debug, Clone)]
pub struct ContactStudyRequest {
    /// Training chains (with coordinates).
    pub train: Vec<ProteinChain>,
    /// Test chains.
    pub test: Vec<ProteinChain>,
    /// Name of the training set (stores are labelled with it).
    pub train_name: String,
    /// Name of the test set.
    pub test_name: String,
    /// Layers to probe, one probe each.
    pub layers: Layers,
    /// Probe options (rank, epochs, pair sampling, seed).
    pub params: ContactProbeParams,
    /// Training residues per layer at most (whole chains, seeded).
    pub residue_cap: usize,
    /// Also probe an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Also score the model's own contact head, when it has one.
    pub contact_head: bool,
    /// Feature stores.
    pub store: StoreOptions,
}

/// `(chain id, residues, precision)` of one test chain.
pub type ChainScore = (String, usize, ContactPrecision);

/// One layer's probe and its scores.
#[derive(Debug, Clone)]
pub struct ContactProbeRun {
    /// Representation layer.
    pub layer: usize,
    /// The trained probe.
    pub probe: ContactProbe,
    /// `(chain id, residues, precision)` on the test chains.
    pub chains: Vec<ChainScore>,
    /// Mean over the test chains.
    pub mean: ContactPrecision,
}

/// What the probes were trained on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairCounts {
    /// Training chains used (after the residue cap).
    pub chains: usize,
    /// Their residues.
    pub residues: usize,
    /// Contacts trained on (all of them).
    pub contacts: usize,
    /// Non-contacts sampled.
    pub sampled_non_contacts: usize,
    /// Non-contacts available before sampling.
    pub non_contacts: usize,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct ContactStudy {
    /// The model's name.
    pub model_name: String,
    /// What it trained and tested on (no training set when only the head was scored).
    pub split: StudySplit,
    /// One run per layer, ascending (empty when only the contact head was scored).
    pub runs: Vec<ContactProbeRun>,
    /// The same layers on the untrained copy (empty when not compared).
    pub untrained: Vec<ContactProbeRun>,
    /// Index into `runs` of the best layer ([`BEST_CONTACT_LAYER`]).
    pub best: Option<usize>,
    /// The model's own contact head on the test chains.
    pub head: Option<ContactHeadEvaluation>,
    /// The test chains, in the order of each run's scores.
    pub test: Vec<ProteinChain>,
    /// The trained model's test store (predicted maps are read from it).
    pub test_store: Option<PathBuf>,
    /// What the probes were trained on.
    pub pairs: PairCounts,
    /// Residues embedded by this study (0 when every store was reused).
    pub residues_embedded: usize,
    /// The stores read.
    pub stores: Vec<PathBuf>,
    /// Wall seconds spent filling stores.
    pub embed_seconds: f64,
    /// Wall seconds spent reading, training and scoring.
    pub fit_seconds: f64,
}

impl ContactStudy {
    /// The best trained run.
    pub fn best_run(&self) -> Option<&ContactProbeRun> {
        self.best.map(|b| &self.runs[b])
    }

    /// The best probe's contact probabilities for test chain `index`, row-major `L x L`, from
    /// the test store (no forward pass, nothing kept).
    pub fn predict_chain(&self, index: usize) -> Result<Vec<f32>, StudyError> {
        let (Some(run), Some(dir)) = (self.best_run(), &self.test_store) else {
            return Err(StudyError::Empty("no probe was trained".into()));
        };
        let store = FeatureStore::open(dir)?;
        let mut reader = LayerReader::open(&store, run.layer)?;
        Ok(run
            .probe
            .predict(&chain_features(&store, &mut reader, index)?)?)
    }
}

fn records(chains: &[ProteinChain]) -> Vec<(String, String)> {
    chains
        .iter()
        .map(|c| (c.id.clone(), c.sequence.clone()))
        .collect()
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_contact_study(
    model: &LoadedModel,
    request: &ContactStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    let layers = request.layers.resolve(model.model.config().num_layers)?;
    let plans = plan_stores(model, request, &layers)?;
    estimate_from_plans(model, request, &layers, &plans)
}

/// Plans of the training and the test store of `model`.
fn plan_stores(
    model: &LoadedModel,
    request: &ContactStudyRequest,
    layers: &[usize],
) -> Result<[StorePlan; 2], StudyError> {
    let (train, test) = (records(&request.train), records(&request.test));
    Ok(plan_splits(
        model,
        &request.store,
        named(request, &train, &test),
        layers,
    )?)
}

/// [`estimate_contact_study`] from the stores' plans.
fn estimate_from_plans(
    model: &LoadedModel,
    request: &ContactStudyRequest,
    layers: &[usize],
    plans: &[StorePlan; 2],
) -> Result<StudyEstimate, StudyError> {
    let config = model.model.config();
    let (train, test) = (records(&request.train), records(&request.test));
    let [a, b] = embed_phase_seconds(model, plans);
    let mut embed = a + b;
    let mut disk: u64 = plans.iter().map(|p| p.bytes_to_reserve).sum();
    if request.compare_untrained {
        let all = [train.as_slice(), test.as_slice()].concat();
        embed += embed_seconds_of(model, &all);
        disk += full_store_bytes(model, &request.store, &all, layers.len());
    }
    let train_rows = residues(&request.train).min(request.residue_cap);
    let copies = if request.compare_untrained { 2.0 } else { 1.0 };
    let fit = copies * layers.len() as f64 * layer_seconds(model, request, train_rows);
    let weights = (config.parameter_count() * 4) as u64;
    let forward = fill_batch_bytes(config, &request.store, layers.len());
    let longest_test = request
        .test
        .iter()
        .map(|c| c.sequence.len())
        .max()
        .unwrap_or(0);
    let fitting = (train_rows * config.embed_dim * 4 + longest_test.pow(2) * 16) as u64;
    Ok(StudyEstimate {
        embed_seconds: embed,
        fit_seconds: fit,
        extra_ram: forward.max(fitting)
            + if request.compare_untrained {
                weights
            } else {
                0
            },
        weights,
        disk,
        store_root: request.store.root.clone(),
    })
}

/// Seconds to read, train and score one layer: per epoch and residue, `x W` and `xᵀ dz`
/// (`4 dim rank` flops), plus the test chains' scores.
fn layer_seconds(model: &LoadedModel, request: &ContactStudyRequest, train_rows: usize) -> f64 {
    let dim = model.model.config().embed_dim as f64;
    let rank = request.params.rank as f64;
    let train = request.params.epochs as f64 * train_rows as f64 * 4.0 * dim * rank;
    let test: f64 = request
        .test
        .iter()
        .map(|c| {
            let l = c.sequence.len() as f64;
            2.0 * l * dim * rank + 2.0 * l * l * rank
        })
        .sum();
    (train + test) / (FIT_FLOPS_PER_CORE * rayon::current_num_threads().max(1) as f64)
}

fn residues(chains: &[ProteinChain]) -> usize {
    chains.iter().map(|c| c.sequence.len()).sum()
}

fn named<'a>(
    request: &'a ContactStudyRequest,
    train: &'a [(String, String)],
    test: &'a [(String, String)],
) -> [NamedRecords<'a>; 2] {
    [
        NamedRecords {
            name: &request.train_name,
            records: train,
        },
        NamedRecords {
            name: &request.test_name,
            records: test,
        },
    ]
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_contact_study`]). With no
/// training chains only the contact head is scored.
pub fn run_contact_study(
    model: &LoadedModel,
    request: &ContactStudyRequest,
    ctx: &JobCtx,
) -> Result<ContactStudy, StudyError> {
    if request.test.is_empty() {
        return Err(StudyError::Empty("no test chains".into()));
    }
    let head_wanted = request.contact_head && model.model.has_contact_head();
    if request.train.is_empty() && !head_wanted {
        return Err(StudyError::Empty(format!(
            "{} has no contact head; give training structures to fit the bilinear probe",
            model.name
        )));
    }
    let mut study = ContactStudy {
        model_name: model.name.clone(),
        split: StudySplit::of(
            &request.train_name,
            request.train.iter().map(|c| c.sequence.as_str()),
            &request.test_name,
            request.test.iter().map(|c| c.sequence.as_str()),
        ),
        runs: Vec::new(),
        untrained: Vec::new(),
        best: None,
        head: None,
        test: request.test.clone(),
        test_store: None,
        pairs: PairCounts::default(),
        residues_embedded: 0,
        stores: Vec::new(),
        embed_seconds: 0.0,
        fit_seconds: 0.0,
    };
    let head_share = if head_wanted { 0.1 } else { 0.0 };
    if !request.train.is_empty() {
        let truth = test_contact_maps(&request.test);
        probe_both(
            model,
            request,
            &truth,
            &ctx.scoped(0.0, 1.0 - head_share),
            &mut study,
        )?;
    }
    if head_wanted {
        study.head = Some(evaluate_contact_head(
            model,
            &request.test,
            &ctx.scoped(1.0 - head_share, 1.0),
        )?);
    }
    ctx.checkpoint(1.0)?;
    Ok(study)
}

/// The test chains' true contacts, computed once for every layer and both models (the
/// distances dropped: one byte per residue pair).
fn test_contact_maps(test: &[ProteinChain]) -> Vec<ContactMap> {
    test.iter()
        .map(|chain| {
            let mut map = chain.contact_map(CONTACT_THRESHOLD_ANGSTROM);
            map.distances = Vec::new();
            map
        })
        .collect()
}

/// Probes the trained model (and the untrained copy when asked) into `study`.
fn probe_both(
    model: &LoadedModel,
    request: &ContactStudyRequest,
    truth: &[ContactMap],
    ctx: &JobCtx,
    study: &mut ContactStudy,
) -> Result<(), StudyError> {
    let layers = request.layers.resolve(model.model.config().num_layers)?;
    let plans = plan_stores(model, request, &layers)?;
    estimate_from_plans(model, request, &layers, &plans)?.check_resources()?;
    let split = if request.compare_untrained {
        ctx.phases(&[0.5, 0.5])
    } else {
        vec![ctx.clone()]
    };
    let trained = probe_model(model, request, truth, (&layers, Some(plans)), &split[0])?;
    study.runs = trained.runs;
    study.pairs = trained.pairs;
    study.test_store = Some(trained.test_store);
    study.residues_embedded += trained.residues_embedded;
    study.stores.extend(trained.stores);
    study.embed_seconds += trained.embed_seconds;
    study.fit_seconds += trained.fit_seconds;
    if request.compare_untrained {
        let copy = model.untrained_copy(0)?;
        let untrained = probe_model(&copy, request, truth, (&layers, None), &split[1])?;
        study.untrained = untrained.runs;
        study.residues_embedded += untrained.residues_embedded;
        study.stores.extend(untrained.stores);
        study.embed_seconds += untrained.embed_seconds;
        study.fit_seconds += untrained.fit_seconds;
    }
    study.best = (0..study.runs.len())
        .max_by(|&a, &b| long_at_l(&study.runs[a].mean).total_cmp(&long_at_l(&study.runs[b].mean)));
    Ok(())
}

/// Long-range precision at L, NaN-safe for ranking.
fn long_at_l(p: &ContactPrecision) -> f64 {
    if p.long.at_l.is_finite() {
        p.long.at_l
    } else {
        -1.0
    }
}

/// The runs of one model.
struct ModelRuns {
    runs: Vec<ContactProbeRun>,
    pairs: PairCounts,
    test_store: PathBuf,
    residues_embedded: usize,
    stores: Vec<PathBuf>,
    embed_seconds: f64,
    fit_seconds: f64,
}

/// Embeds (or reuses) both sets, samples the training pairs once, then trains and scores each
/// layer: phases weighted by their estimated time.
fn probe_model(
    model: &LoadedModel,
    request: &ContactStudyRequest,
    truth: &[ContactMap],
    (layers, plans): (&[usize], Option<[StorePlan; 2]>),
    ctx: &JobCtx,
) -> Result<ModelRuns, StudyError> {
    let (train, test) = (records(&request.train), records(&request.test));
    let sets = named(request, &train, &test);
    let plans = match plans {
        Some(plans) => plans,
        None => plan_stores(model, request, layers)?,
    };
    let train_rows = residues(&request.train).min(request.residue_cap);
    let mut weights = embed_phase_seconds(model, &plans).to_vec();
    let per_layer = layer_seconds(model, request, train_rows).max(1e-3);
    weights.extend(std::iter::repeat_n(per_layer, layers.len()));
    let phases = ctx.phases(&weights);
    let stores = fill_splits(
        model,
        &request.store,
        sets,
        layers,
        [&phases[0], &phases[1]],
    )?;
    let started = std::time::Instant::now();
    let (chosen, samples, pairs) = training_pairs(request, &stores.train)?;
    let mut runs = Vec::with_capacity(layers.len());
    for (k, (&layer, phase)) in layers.iter().zip(&phases[2..]).enumerate() {
        phase.set_stage(format!(
            "training the contact probe on layer {layer} ({}/{})",
            k + 1,
            layers.len()
        ));
        let probe = train_layer(&stores.train, layer, (&chosen, &samples), request, phase)?;
        let (chains, mean) =
            score_layer(&probe, &stores.test, layer, (&request.test, truth), phase)?;
        runs.push(ContactProbeRun {
            layer,
            probe,
            chains,
            mean,
        });
    }
    Ok(ModelRuns {
        runs,
        pairs,
        test_store: stores.test.dir().to_owned(),
        residues_embedded: stores.residues_embedded,
        stores: stores.dirs(),
        embed_seconds: stores.seconds,
        fit_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The training chains (indices, ascending) within the residue cap, their pair samples and
/// the counts. Chains without trainable pairs are skipped; above the cap, chains are taken in a
/// seeded order until the next would exceed it (at least one).
fn training_pairs(
    request: &ContactStudyRequest,
    store: &FeatureStore,
) -> Result<(Vec<usize>, Vec<SampledPairs>, PairCounts), StudyError> {
    let offsets = store.row_offsets();
    let mut order: Vec<usize> = (0..request.train.len()).collect();
    SplitMix64::new(request.params.seed).shuffle(&mut order);
    let mut chosen = Vec::new();
    let mut samples = Vec::new();
    let mut counts = PairCounts::default();
    for index in order {
        let chain = &request.train[index];
        let stored = offsets[index + 1] - offsets[index];
        if counts.residues + stored > request.residue_cap && !chosen.is_empty() {
            continue;
        }
        let map = chain.contact_map(CONTACT_THRESHOLD_ANGSTROM);
        if stored != map.len {
            return Err(StudyError::Empty(format!(
                "training chain {}: {} residues stored for {} with coordinates",
                chain.id, stored, map.len
            )));
        }
        let sample = pair_sample(&map, &request.params, index);
        if sample.is_empty() {
            continue;
        }
        counts.chains += 1;
        counts.residues += map.len;
        counts.contacts += sample.positives;
        counts.sampled_non_contacts += sample.len() - sample.positives;
        counts.non_contacts += sample.negatives_available;
        chosen.push(index);
        samples.push(sample);
    }
    if chosen.is_empty() {
        return Err(ContactProbeError::NoTrainingPairs.into());
    }
    let mut by_index: Vec<(usize, SampledPairs)> = chosen.into_iter().zip(samples).collect();
    by_index.sort_by_key(|(i, _)| *i);
    let (chosen, samples) = by_index.into_iter().unzip();
    Ok((chosen, samples, counts))
}

/// Reads the chosen chains' rows of `layer`, standardises them in place and trains.
fn train_layer(
    store: &FeatureStore,
    layer: usize,
    (chosen, samples): (&[usize], &[SampledPairs]),
    request: &ContactStudyRequest,
    ctx: &JobCtx,
) -> Result<ContactProbe, StudyError> {
    ctx.checkpoint(0.0)?;
    let offsets = store.row_offsets();
    let mut reader = LayerReader::open(store, layer)?;
    let dim = reader.dim();
    let lengths: Vec<usize> = chosen
        .iter()
        .map(|&i| offsets[i + 1] - offsets[i])
        .collect();
    let total: usize = lengths.iter().sum();
    let mut rows = vec![0f32; total * dim];
    let mut at = 0;
    for (&i, &len) in chosen.iter().zip(&lengths) {
        reader.read_into(offsets[i], &mut rows[at * dim..(at + len) * dim])?;
        at += len;
    }
    let standardisation = standardise_in_place(&mut rows, dim);
    let all = Tensor::from_vec(rows, (total, dim), &Device::Cpu)?;
    let mut at = 0;
    let mut chains = Vec::with_capacity(chosen.len());
    for (sample, &len) in samples.iter().zip(&lengths) {
        chains.push(TrainingChain {
            features: all.narrow(0, at, len)?,
            pairs: sample.clone(),
        });
        at += len;
    }
    Ok(ContactProbe::fit_standardised(
        &chains,
        standardisation,
        &request.params,
        &ctx.scoped(0.0, 0.9),
    )?)
}

/// Per-chain and mean precision of `probe` on the test chains, one chain in memory at a time.
fn score_layer(
    probe: &ContactProbe,
    store: &FeatureStore,
    layer: usize,
    (test, truth): (&[ProteinChain], &[ContactMap]),
    ctx: &JobCtx,
) -> Result<(Vec<ChainScore>, ContactPrecision), StudyError> {
    let mut reader = LayerReader::open(store, layer)?;
    let scoring = ctx.scoped(0.9, 1.0);
    let mut chains = Vec::with_capacity(test.len());
    for (index, (chain, truth)) in test.iter().zip(truth).enumerate() {
        let predicted = probe.predict(&chain_features(store, &mut reader, index)?)?;
        if truth.len * truth.len != predicted.len() {
            return Err(StudyError::Empty(format!(
                "test chain {}: {} residues with coordinates, {} predicted",
                chain.id,
                truth.len,
                (predicted.len() as f64).sqrt()
            )));
        }
        chains.push((
            chain.id.clone(),
            truth.len,
            contact_precision(&predicted, truth),
        ));
        scoring.checkpoint((index + 1) as f32 / test.len() as f32)?;
    }
    let mean = mean_precision(chains.iter().map(|(_, _, p)| p));
    Ok((chains, mean))
}

/// Chain `index`'s rows of the reader's layer as `(L, dim)`.
fn chain_features(
    store: &FeatureStore,
    reader: &mut LayerReader,
    index: usize,
) -> Result<Tensor, StudyError> {
    let offsets = store.row_offsets();
    let Some(&end) = offsets.get(index + 1) else {
        return Err(StudyError::Empty(format!(
            "test chain {index} is not in the store"
        )));
    };
    let len = end - offsets[index];
    let mut rows = vec![0f32; len * reader.dim()];
    reader.read_into(offsets[index], &mut rows)?;
    Ok(Tensor::from_vec(rows, (len, reader.dim()), &Device::Cpu)?)
}
