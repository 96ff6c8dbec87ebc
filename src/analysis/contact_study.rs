//! The contact-probe study, the one workflow behind the GUI's Contacts view and
//! `probe contacts`, a [`Study`] on the study engine: embed the training and test chains once into feature stores (every layer
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
use super::study::{LayerCost, LayerSweep, StoredSet, Study, StudyCost, Sweep, check_residue_cap};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::{FIT_FLOPS_PER_CORE, StudyEstimate};
use super::study_split::StudySplit;
use super::study_stores::embed_seconds_of;
use crate::data::{ContactMap, ProteinChain, SeparationRange, read_structures};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::params::{real_in, whole_in};
use crate::probes::{
    ContactPrecision, ContactProbe, ContactProbeError, ContactProbeParams, SampledPairs,
    TrainingChain, contact_precision, pair_sample, standardise_in_place,
};
use crate::rng::SplitMix64;
use crate::store::{FeatureStore, LayerReader, StoreOptions};

/// Training residues per layer above which a seeded sample of whole chains is used (1 GB of
/// f32 features at ESM-1b's width).
pub const DEFAULT_CONTACT_RESIDUE_CAP: usize = 200_000;

/// How the best layer is chosen.
pub const BEST_CONTACT_LAYER: &str = "highest mean long-range (|i - j| >= 24) precision at L over the test chains, trained model (ties: the lower layer)";

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
    /// A contact-head file (an all-heads regression saved by `probe heads --save-regression`
    /// or the Heads view, or a fair-esm `*-contact-regression.pt`) scored on the test chains
    /// beside the probe and the model's own head.
    pub regression: Option<PathBuf>,
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

/// A contact-head file scored on the test chains.
#[derive(Debug, Clone)]
pub struct ScoredRegression {
    /// The file.
    pub path: PathBuf,
    /// The model with it as contact head, as results name it (`<model> + <file stem>`).
    pub model: crate::provenance::ModelRef,
    /// Its precision on the test chains.
    pub evaluation: ContactHeadEvaluation,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct ContactStudy {
    /// One run per layer, trained and untrained ([`BEST_CONTACT_LAYER`]); no runs when only
    /// the contact head was scored.
    pub sweep: LayerSweep<ContactProbeRun>,
    /// What it trained and tested on (no training set when only the head was scored).
    pub split: StudySplit,
    /// The model's own contact head on the test chains.
    pub head: Option<ContactHeadEvaluation>,
    /// The request's contact-head file on the test chains.
    pub regression: Option<ScoredRegression>,
    /// The test chains, in the order of each run's scores.
    pub test: Vec<ProteinChain>,
    /// The trained model's test store (predicted maps are read from it).
    pub test_store: Option<PathBuf>,
    /// What the probes were trained on.
    pub pairs: PairCounts,
    /// Long-range precision a random ranking expects on the test chains: the mean over chains
    /// of their share of long-range pairs in contact (the sweep's baseline; `NaN` without any).
    pub random_long_precision: f64,
}

impl ContactStudy {
    /// The best trained run.
    pub fn best_run(&self) -> Option<&ContactProbeRun> {
        self.sweep.best_run()
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

impl ContactStudyRequest {
    /// A request over the chains of the structure files `train` and `test` (PDB/mmCIF files,
    /// folders, TS50-style JSON), named after their files (`a.pdb+b.pdb`), every other field at
    /// its default: the one builder both shells start from. No training files: only the
    /// model's own contact head is scored.
    pub fn from_structures(train: &[PathBuf], test: &[PathBuf]) -> Result<Self, StudyError> {
        let name = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| crate::store::dataset_label(p))
                .collect::<Vec<_>>()
                .join("+")
        };
        if test.is_empty() {
            return Err(StudyError::Empty(
                "give test structures (PDB/mmCIF files, folders or TS50 JSON)".into(),
            ));
        }
        let train_chains = if train.is_empty() {
            Vec::new()
        } else {
            non_empty(read_structures(train)?, "training", &name(train))?
        };
        Ok(Self {
            train: train_chains,
            test: non_empty(read_structures(test)?, "test", &name(test))?,
            train_name: name(train),
            test_name: name(test),
            layers: Layers::Last,
            params: ContactProbeParams::default(),
            residue_cap: DEFAULT_CONTACT_RESIDUE_CAP,
            compare_untrained: false,
            contact_head: true,
            regression: None,
            store: StoreOptions::default(),
        })
    }
}

/// `chains`, unless there are none.
fn non_empty(
    chains: Vec<ProteinChain>,
    role: &str,
    files: &str,
) -> Result<Vec<ProteinChain>, StudyError> {
    if chains.is_empty() {
        return Err(StudyError::Empty(format!(
            "no protein chains with coordinates in the {role} structures: {files}"
        )));
    }
    Ok(chains)
}

/// The contact probe's checks of its settings.
pub fn check_contact_params(params: &ContactProbeParams) -> Result<(), StudyError> {
    whole_in("probe rank (--rank)", params.rank, 1..=4096)?;
    whole_in("epochs (--epochs)", params.epochs, 1..=10_000)?;
    real_in(
        "learning rate (--lr)",
        params.learning_rate,
        (0.0, 10.0),
        true,
    )?;
    real_in("weight decay", params.weight_decay, (0.0, 10.0), false)?;
    whole_in(
        "non-contacts per contact (--negatives-per-positive)",
        params.negatives_per_positive,
        0..=100_000,
    )?;
    Ok(())
}

fn records(chains: &[ProteinChain]) -> Vec<(String, String)> {
    chains
        .iter()
        .map(|c| (c.id.clone(), c.sequence.clone()))
        .collect()
}

/// A model's training pairs and the test chains' true contacts.
#[derive(Debug)]
pub struct ContactTraining {
    chosen: Vec<usize>,
    samples: Vec<SampledPairs>,
    pairs: PairCounts,
    truth: Vec<ContactMap>,
}

impl Study for ContactStudyRequest {
    type Prepared = ContactTraining;
    type Run = ContactProbeRun;
    const BEST_RULE: &'static str = BEST_CONTACT_LAYER;
    const LAYER_STAGE: &'static str = "training the contact probe on";

    fn check(&self) -> Result<(), StudyError> {
        check_contact_params(&self.params)?;
        check_residue_cap(self.residue_cap)?;
        if self.test.is_empty() {
            return Err(StudyError::Empty(format!(
                "{} has no test chains with coordinates",
                self.test_name
            )));
        }
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layers, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        if self.train.is_empty() {
            return Vec::new();
        }
        [
            (&self.train_name, &self.train),
            (&self.test_name, &self.test),
        ]
        .into_iter()
        .map(|(name, chains)| StoredSet {
            name: name.clone(),
            records: records(chains),
            per_residue: true,
        })
        .collect()
    }

    fn analysed_layers(&self, num_layers: usize) -> Result<Vec<usize>, StudyError> {
        let layers = self.layers.resolve(num_layers)?;
        Ok(if self.train.is_empty() {
            Vec::new()
        } else {
            layers
        })
    }

    fn layer_cost(&self, model: &LoadedModel) -> LayerCost {
        let dim = model.model.config().embed_dim;
        let train_rows = residues(&self.train).min(self.residue_cap);
        let longest_test = self
            .test
            .iter()
            .map(|c| c.sequence.len())
            .max()
            .unwrap_or(0);
        LayerCost {
            seconds: layer_seconds(dim, self, train_rows),
            ram: (train_rows * dim * 4 + longest_test.pow(2) * 16) as u64,
        }
    }

    fn prepare(
        &self,
        _: &LoadedModel,
        stores: &[FeatureStore],
        _: &JobCtx,
    ) -> Result<ContactTraining, StudyError> {
        let (chosen, samples, pairs) = training_pairs(self, &stores[0])?;
        Ok(ContactTraining {
            chosen,
            samples,
            pairs,
            truth: test_contact_maps(&self.test),
        })
    }

    fn run_layer(
        &self,
        training: &ContactTraining,
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<ContactProbeRun, StudyError> {
        let chosen = (training.chosen.as_slice(), training.samples.as_slice());
        let probe = train_layer(&stores[0], layer, chosen, self, ctx)?;
        let (chains, mean) = score_layer(
            &probe,
            &stores[1],
            layer,
            (&self.test, &training.truth),
            ctx,
        )?;
        Ok(ContactProbeRun {
            layer,
            probe,
            chains,
            mean,
        })
    }

    fn layer_score(run: &ContactProbeRun) -> f64 {
        run.mean.long.at_l
    }
}

/// Seconds to read, train and score one layer: per epoch and residue, `x W` and `xᵀ dz`
/// (`4 dim rank` flops), plus the test chains' scores.
fn layer_seconds(dim: usize, request: &ContactStudyRequest, train_rows: usize) -> f64 {
    let dim = dim as f64;
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

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_contact_study(
    model: &LoadedModel,
    request: &ContactStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    let mut estimate = estimate_study(model, request)?;
    let head_forward = HEAD_FORWARD_FACTOR * embed_seconds_of(model, &records(&request.test));
    if request.contact_head && model.model.has_contact_head() {
        // The head's forward keeps every layer's attention maps and regresses them: about
        // 1.8x a plain forward of the test chains (652M ESM-1b, 50 TS50 chains: 75 s against
        // 41 s; Intel Xeon, 2 cores).
        estimate.embed_seconds += head_forward;
    }
    if request.regression.is_some() {
        regression_model(model, request)?;
        estimate.embed_seconds += head_forward;
    }
    Ok(estimate)
}

/// `model` with the request's contact-head file as its head (read and checked against the
/// model's layers and heads) and its file; `None` without one.
fn regression_model<'a>(
    model: &LoadedModel,
    request: &'a ContactStudyRequest,
) -> Result<Option<(&'a PathBuf, LoadedModel)>, StudyError> {
    let Some(path) = &request.regression else {
        return Ok(None);
    };
    let with = model.with_contact_head_file(path).map_err(|e| {
        StudyError::Empty(format!(
            "the regression to score beside the probe (--regression): {e}"
        ))
    })?;
    Ok(Some((path, with)))
}

/// The contact head's forward pass against a plain one (see [`estimate_contact_study`]).
const HEAD_FORWARD_FACTOR: f64 = 1.8;

/// Runs the study; refuses first if it cannot fit (see [`estimate_contact_study`]). With no
/// training chains only the contact head is scored.
pub fn run_contact_study(
    model: &LoadedModel,
    request: &ContactStudyRequest,
    ctx: &JobCtx,
) -> Result<ContactStudy, StudyError> {
    request.check()?;
    let head_wanted = request.contact_head && model.model.has_contact_head();
    let with_regression = regression_model(model, request)?;
    if request.train.is_empty() && !head_wanted && with_regression.is_none() {
        return Err(StudyError::Empty(format!(
            "{} has no contact head; give training structures to fit the bilinear probe",
            model.name
        )));
    }
    let head_share = 0.1 * (head_wanted as u8 + with_regression.is_some() as u8) as f32;
    let (sweep, test_store, pairs, random) = if request.train.is_empty() {
        let sweep = LayerSweep {
            provenance: super::study_driver::provenance(model, &request.stored_sets()),
            runs: Vec::new(),
            untrained: Vec::new(),
            best: None,
            best_rule: BEST_CONTACT_LAYER,
            cost: StudyCost::default(),
        };
        let random = random_long_precision(&test_contact_maps(&request.test));
        (sweep, None, PairCounts::default(), random)
    } else {
        let outcome = run_study(model, request, &ctx.scoped(0.0, 1.0 - head_share))?;
        let test_store = outcome.trained.stores[1].dir().to_owned();
        // The test chains' true maps, computed once when the probe was prepared.
        let random = random_long_precision(&outcome.trained.prepared.truth);
        (
            outcome.sweep,
            Some(test_store),
            outcome.trained.prepared.pairs,
            random,
        )
    };
    let heads_from = 1.0 - head_share;
    let head = if head_wanted {
        let scoped = ctx.scoped(heads_from, heads_from + 0.1);
        Some(evaluate_contact_head(model, &request.test, &scoped)?)
    } else {
        None
    };
    let regression = match with_regression {
        Some((path, with)) => Some(ScoredRegression {
            path: path.clone(),
            model: with.model_ref(),
            evaluation: evaluate_contact_head(&with, &request.test, &ctx.scoped(1.0 - 0.1, 1.0))?,
        }),
        None => None,
    };
    ctx.checkpoint(1.0)?;
    Ok(ContactStudy {
        sweep,
        split: StudySplit::of(
            &request.train_name,
            request.train.iter().map(|c| c.sequence.as_str()),
            &request.test_name,
            request.test.iter().map(|c| c.sequence.as_str()),
        ),
        head,
        regression,
        test: request.test.clone(),
        test_store,
        pairs,
        random_long_precision: random,
    })
}

/// The mean over the test chains' true `maps` (those with long-range pairs) of their
/// long-range contact share.
fn random_long_precision(maps: &[ContactMap]) -> f64 {
    let shares: Vec<f64> = maps
        .iter()
        .map(|map| crate::probes::random_precision(map, SeparationRange::Long))
        .filter(|p| p.is_finite())
        .collect();
    if shares.is_empty() {
        f64::NAN
    } else {
        shares.iter().sum::<f64>() / shares.len() as f64
    }
}

/// The test chains' true contacts, computed once per model for every layer (the distances
/// dropped: one byte per residue pair).
fn test_contact_maps(test: &[ProteinChain]) -> Vec<ContactMap> {
    test.iter()
        .map(|chain| {
            let mut map = chain.contact_map(CONTACT_THRESHOLD_ANGSTROM);
            map.distances = Vec::new();
            map
        })
        .collect()
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
