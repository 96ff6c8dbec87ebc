//! The all-heads regression of the heads study, trained by click: fair-esm's contact head
//! refitted on the user's training structures. Per training chain, every contact (Cβ < 8 Å,
//! `|i - j| >= 6`) and a seeded sample of non-contacts (weighted to stand for all of them,
//! [`crate::probes::sample_pairs`]) become rows of `layers * heads` APC features, gathered as
//! each batch's forward pass hands its layers over (one layer's maps alive) and written to a
//! pair store ([`crate::store::PairStore`]) batch by batch; then an L1 logistic regression
//! ([`crate::probes::fit_sparse_logistic`]) picks the heads from the rows read back. A refit of
//! the same model and chains (another C) does no forward pass, and a stopped gathering resumes.
//! Rows: at most [`MAX_REGRESSION_PAIRS`] (whole chains; 528 MB at ESM-1b's 660 heads).

use std::path::PathBuf;

use candle_core::Tensor;

use super::batch_maps::BatchMaps;
use super::contact_head_run::{CONTACT_THRESHOLD_ANGSTROM, truncate};
use super::study_error::StudyError;
use crate::data::ProteinChain;
use crate::jobs::JobCtx;
use crate::model::{ContactHead, ForwardRequest, LoadedModel, TokenBatch};
use crate::probes::{
    AttentionRegression, DEFAULT_NEGATIVES_PER_POSITIVE, SampledPairs, SparseLogisticParams,
    WeightedRows, fit_sparse_logistic, sample_pairs,
};
use crate::store::{PairStore, PairStoreSpec, StoreOptions};

/// A training chain's index and its sampled pairs.
type ChainSample = (usize, SampledPairs);

/// Training pairs at most (whole chains in order until the next would pass it).
pub const MAX_REGRESSION_PAIRS: usize = 200_000;

/// Where the regression's training rows come from: the training set's name and the stores.
#[derive(Debug, Clone, Copy)]
pub struct RegressionData<'a> {
    /// The training chains.
    pub chains: &'a [ProteinChain],
    /// Their set's name (the pair store is labelled with it).
    pub name: &'a str,
    /// Store root and forward batch size.
    pub store: &'a StoreOptions,
}

/// The training chains' sampled pairs, `(chain index, sample)`: whole chains in order while
/// the pairs stay within [`MAX_REGRESSION_PAIRS`]; chains without pairs are skipped.
fn training_samples(model: &LoadedModel, chains: &[ProteinChain]) -> Vec<(usize, SampledPairs)> {
    let limit = model.model.config().max_residues();
    let mut samples: Vec<(usize, SampledPairs)> = Vec::new();
    let mut total = 0;
    for (index, chain) in chains.iter().enumerate() {
        let len = chain.sequence.len().min(limit);
        let truth = truncate(&chain.contact_map(CONTACT_THRESHOLD_ANGSTROM), len);
        let sample = sample_pairs(&truth, DEFAULT_NEGATIVES_PER_POSITIVE, index as u64);
        if sample.is_empty() || (total + sample.len() > MAX_REGRESSION_PAIRS && total > 0) {
            continue;
        }
        total += sample.len();
        samples.push((index, sample));
    }
    samples
}

/// The pair store's records `(id, sequence as scored)` and forward batches of `samples`.
fn store_layout(
    model: &LoadedModel,
    data: &RegressionData,
    samples: &[(usize, SampledPairs)],
) -> (Vec<(String, String)>, Vec<Vec<usize>>) {
    let limit = model.model.config().max_residues();
    let records: Vec<(String, String)> = samples
        .iter()
        .map(|(i, _)| {
            let chain = &data.chains[*i];
            let len = chain.sequence.len().min(limit);
            (chain.id.clone(), chain.sequence[..len].to_owned())
        })
        .collect();
    let lengths: Vec<usize> = records.iter().map(|(_, s)| s.len()).collect();
    let batches = crate::batching::batches_by_tokens(&lengths, data.store.toks_per_batch, 2);
    (records, batches)
}

/// What gathering the regression's rows would take: `(pairs, whether they are stored
/// already, bytes a new pair store reserves)`.
pub fn regression_plan(model: &LoadedModel, data: &RegressionData) -> (usize, bool, u64) {
    let samples = training_samples(model, data.chains);
    let (stored, bytes) =
        with_pair_spec(model, data, &samples, |spec| PairStore::plan(model, spec));
    (samples.iter().map(|(_, s)| s.len()).sum(), stored, bytes)
}

/// Calls `f` with the pair store's spec of `samples`.
fn with_pair_spec<R>(
    model: &LoadedModel,
    data: &RegressionData,
    samples: &[ChainSample],
    f: impl FnOnce(&PairStoreSpec) -> R,
) -> R {
    let (records, batches) = store_layout(model, data, samples);
    let pairs: Vec<&[(u32, u32)]> = samples.iter().map(|(_, s)| s.pairs.as_slice()).collect();
    let config = model.model.config();
    f(&PairStoreSpec {
        root: &data.store.root,
        dataset: data.name,
        records: &records,
        pairs: &pairs,
        features_per_pair: config.num_layers * config.attention_heads,
        batches,
    })
}

/// A fitted regression and what it was fitted on.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedRegression {
    /// The regression.
    pub regression: AttentionRegression,
    /// Training chains used.
    pub chains: usize,
    /// Pairs trained on, and the contacts among them.
    pub pairs: (usize, usize),
    /// FISTA steps, and whether it converged.
    pub steps: (usize, bool),
    /// The pair store holding the training rows.
    pub store: PathBuf,
    /// Rows gathered by this fit's forward passes (0: all were read from the store).
    pub pairs_gathered: usize,
}

/// Where a fit's rows came from, for people: "rows gathered" or "rows read from the pair
/// store <dir>".
pub fn rows_source(fitted: &FittedRegression) -> String {
    match fitted.pairs_gathered {
        0 => format!("rows read from the pair store {}", fitted.store.display()),
        n if n == fitted.pairs.0 => format!("rows kept in {}", fitted.store.display()),
        n => format!(
            "{n} rows gathered, the rest read from the pair store {}",
            fitted.store.display()
        ),
    }
}

/// Gathers the training rows of `data` on `model` into their pair store (what it lacks) and
/// fits the regression on them.
pub fn fit_head_regression(
    model: &LoadedModel,
    data: &RegressionData,
    params: &SparseLogisticParams,
    ctx: &JobCtx,
) -> Result<FittedRegression, StudyError> {
    let config = model.model.config();
    let (layers, heads) = (config.num_layers, config.attention_heads);
    let samples = training_samples(model, data.chains);
    if samples.is_empty() {
        return Err(StudyError::Empty(
            "no training chain has residue pairs at least 6 apart with coordinates".into(),
        ));
    }
    let total: usize = samples.iter().map(|(_, s)| s.len()).sum();
    let store = with_pair_spec(model, data, &samples, |spec| {
        PairStore::open_or_create(model, spec)
    })?;
    let (records, _) = store_layout(model, data, &samples);
    let pairs_gathered = gather_rows(model, (&records, &samples), &store, &ctx.scoped(0.0, 0.7))?;
    let features = store.read_rows()?;
    let labels: Vec<bool> = samples
        .iter()
        .flat_map(|(_, s)| s.positive.clone())
        .collect();
    let weights: Vec<f32> = samples
        .iter()
        .flat_map(|(_, s)| s.weights.clone())
        .collect();
    ctx.set_stage(format!("fitting the all-heads regression on {total} pairs"));
    let fitting = ctx.scoped(0.7, 1.0);
    let fit = fit_sparse_logistic(
        WeightedRows {
            features: &features,
            dim: layers * heads,
            labels: &labels,
            weights: &weights,
        },
        params,
        &|step| {
            fitting
                .checkpoint(step as f32 / params.max_iterations as f32)
                .is_ok()
        },
    )
    .map_err(|e| match e {
        crate::probes::SparseLogisticError::Stopped(_) => {
            StudyError::Cancelled(crate::jobs::Cancelled)
        }
        other => StudyError::Empty(other.to_string()),
    })?;
    let contacts = labels.iter().filter(|l| **l).count();
    Ok(FittedRegression {
        regression: AttentionRegression::new(layers, heads, fit.weights, fit.bias)
            .ok_or_else(|| StudyError::Empty("the fit has the wrong number of weights".into()))?,
        chains: samples.len(),
        pairs: (total, contacts),
        steps: (fit.iterations, fit.converged),
        store: store.dir().to_owned(),
        pairs_gathered,
    })
}

/// Writes the store's missing batches: per batch one forward pass, its rows `pairs x (layers *
/// heads)` per record filled layer by layer. Returns the pairs gathered.
fn gather_rows(
    model: &LoadedModel,
    (records, samples): (&[(String, String)], &[ChainSample]),
    store: &PairStore,
    ctx: &JobCtx,
) -> Result<usize, StudyError> {
    let config = model.model.config();
    let features_per_pair = config.num_layers * config.attention_heads;
    let heads = config.attention_heads;
    let missing = store.missing_batches();
    let batches = &store.manifest().batches;
    let mut gathered = 0;
    for (done, &k) in missing.iter().enumerate() {
        let rows = &batches[k];
        ctx.set_stage(format!(
            "attention of training batch {}/{} ({} left)",
            k + 1,
            batches.len(),
            missing.len() - done
        ));
        let batch = TokenBatch::encode(
            rows.iter()
                .map(|&r| (records[r].0.as_str(), records[r].1.as_str())),
        )?;
        let eos_pairs = ContactHead::eos_pair_mask(
            &batch.tokens,
            batch.batch_size,
            batch.max_len,
            model.model.device(),
        )?;
        let mut blocks: Vec<Vec<f32>> = rows
            .iter()
            .map(|&r| vec![0f32; samples[r].1.len() * features_per_pair])
            .collect();
        let mut visit = |block: usize, probs: &Tensor| -> crate::model::Result<()> {
            let maps = BatchMaps::of(probs, &eos_pairs)?;
            for (row, (&r, features)) in rows.iter().zip(blocks.iter_mut()).enumerate() {
                for (p, &(i, j)) in samples[r].1.pairs.iter().enumerate() {
                    let at = p * features_per_pair + block * heads;
                    for h in 0..heads {
                        features[at + h] = maps.apc_at(row, h, (i as usize, j as usize));
                    }
                }
            }
            Ok(())
        };
        let request = ForwardRequest {
            stop: Some(ctx.stop_flag()),
            ..ForwardRequest::default()
        };
        model
            .model
            .forward_with_attention(&batch, &request, &mut visit)
            .map_err(StudyError::from_forward)?;
        store.write_batch(k, &blocks)?;
        gathered += rows.iter().map(|&r| samples[r].1.len()).sum::<usize>();
        ctx.checkpoint((done + 1) as f32 / missing.len() as f32)?;
    }
    Ok(gathered)
}
