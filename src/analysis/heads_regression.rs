//! The all-heads regression of the heads study, trained by click: fair-esm's contact head
//! refitted on the user's training structures. Per training chain, every contact (Cβ < 8 Å,
//! `|i - j| >= 6`) and a seeded sample of non-contacts (weighted to stand for all of them,
//! [`crate::probes::sample_pairs`]) become rows of `layers * heads` APC features, gathered as
//! each batch's forward pass hands its layers over (one layer's maps alive); then an L1
//! logistic regression ([`crate::probes::fit_sparse_logistic`]) picks the heads. Rows: at
//! most [`MAX_REGRESSION_PAIRS`] (whole chains; 528 MB at ESM-1b's 660 heads).

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

/// Training pairs at most (whole chains in order until the next would pass it).
pub const MAX_REGRESSION_PAIRS: usize = 200_000;

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
}

/// Gathers the training rows of `chains` on `model` and fits the regression.
pub fn fit_head_regression(
    model: &LoadedModel,
    chains: &[ProteinChain],
    (params, toks_per_batch): (&SparseLogisticParams, usize),
    ctx: &JobCtx,
) -> Result<FittedRegression, StudyError> {
    let config = model.model.config();
    let (layers, heads) = (config.num_layers, config.attention_heads);
    let limit = config.max_residues();
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
    if samples.is_empty() {
        return Err(StudyError::Empty(
            "no training chain has residue pairs at least 6 apart with coordinates".into(),
        ));
    }
    let features = gather_rows(
        model,
        chains,
        &samples,
        toks_per_batch,
        &ctx.scoped(0.0, 0.7),
    )?;
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
    })
}

/// The `pairs x (layers * heads)` features of the sampled pairs, chain by chain in `samples`
/// order, from batched forward passes.
fn gather_rows(
    model: &LoadedModel,
    chains: &[ProteinChain],
    samples: &[(usize, SampledPairs)],
    toks_per_batch: usize,
    ctx: &JobCtx,
) -> Result<Vec<f32>, StudyError> {
    let config = model.model.config();
    let features_per_pair = config.num_layers * config.attention_heads;
    let heads = config.attention_heads;
    let limit = config.max_residues();
    let mut offsets = Vec::with_capacity(samples.len());
    let mut total = 0;
    for (_, s) in samples {
        offsets.push(total);
        total += s.len();
    }
    let mut features = vec![0f32; total * features_per_pair];
    let lengths: Vec<usize> = samples
        .iter()
        .map(|(i, _)| chains[*i].sequence.len().min(limit))
        .collect();
    let batches = crate::batching::batches_by_tokens(&lengths, toks_per_batch, 2);
    for (k, rows) in batches.iter().enumerate() {
        ctx.set_stage(format!(
            "attention of training batch {}/{}",
            k + 1,
            batches.len()
        ));
        let batch = TokenBatch::encode(rows.iter().map(|&r| {
            let chain = &chains[samples[r].0];
            (chain.id.as_str(), &chain.sequence[..lengths[r]])
        }))?;
        let eos_pairs = ContactHead::eos_pair_mask(
            &batch.tokens,
            batch.batch_size,
            batch.max_len,
            model.model.device(),
        )?;
        let mut visit = |block: usize, probs: &Tensor| -> crate::model::Result<()> {
            let maps = BatchMaps::of(probs, &eos_pairs)?;
            for (row, &r) in rows.iter().enumerate() {
                for (p, &(i, j)) in samples[r].1.pairs.iter().enumerate() {
                    let at = (offsets[r] + p) * features_per_pair + block * heads;
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
        ctx.checkpoint((k + 1) as f32 / batches.len() as f32)?;
    }
    Ok(features)
}
