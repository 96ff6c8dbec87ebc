//! Embedding a dataset with a model in memory: length-sorted batches, progress and
//! cancellation between batches (the studies embed into feature stores instead,
//! [`crate::store`]).

use std::collections::BTreeMap;

use candle_core::Tensor;

use crate::batching::batches_by_tokens;
use crate::jobs::{Cancelled, JobCtx};
use crate::model::{ForwardRequest, LengthPolicy, LoadedModel, ModelError, embed_sequence};

/// What to compute for every protein.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedRequest {
    /// Representation layers (`0..=num_layers`).
    pub layers: Vec<usize>,
    /// Keep per-residue representations (needed for residue-level probes); means always.
    pub per_residue: bool,
    /// Sequences over the model's limit.
    pub length_policy: LengthPolicy,
    /// Upper bound on `rows x longest row` tokens per forward pass.
    pub toks_per_batch: usize,
}

impl EmbedRequest {
    /// What the probes ask for: `layers`, per-residue representations or means only, long
    /// sequences in overlapping windows ([`window_policy`]), 8,192 tokens per pass.
    pub fn for_probes(model: &LoadedModel, layers: &[usize], per_residue: bool) -> Self {
        Self {
            layers: layers.to_vec(),
            per_residue,
            length_policy: window_policy(model),
            toks_per_batch: 8192,
        }
    }
}

/// Errors of an embedding run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model failed or refused a sequence.
    #[error(transparent)]
    Model(Box<ModelError>),
    /// The user cancelled.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl From<ModelError> for EmbedError {
    fn from(err: ModelError) -> Self {
        match err {
            ModelError::Stopped => Self::Cancelled(Cancelled),
            other => Self::Model(Box::new(other)),
        }
    }
}

impl From<candle_core::Error> for EmbedError {
    fn from(err: candle_core::Error) -> Self {
        ModelError::from(err).into()
    }
}

/// One protein's representations.
#[derive(Debug, Clone)]
pub struct Embedding {
    /// Mean over residues per layer, `(embed_dim,)`.
    pub mean: BTreeMap<usize, Tensor>,
    /// Per-residue representations per layer, `(residues, embed_dim)` (when asked for).
    pub per_residue: BTreeMap<usize, Tensor>,
}

/// Per-protein results in input order.
#[derive(Debug, Clone)]
pub struct EmbedResult {
    /// One entry per input record.
    pub embeddings: Vec<Embedding>,
}

/// Overlapping windows sized for `model`: 64 shared residues, or a quarter of the window for
/// models with short limits.
pub fn window_policy(model: &LoadedModel) -> LengthPolicy {
    LengthPolicy::Window {
        overlap: (model.model.config().max_residues() / 4).min(64),
    }
}

/// Embeds `(id, sequence)` records.
pub fn embed_dataset(
    model: &LoadedModel,
    records: &[(String, String)],
    request: &EmbedRequest,
    ctx: &JobCtx,
) -> Result<EmbedResult, EmbedError> {
    let mut slots: Vec<Option<Embedding>> = vec![None; records.len()];
    let missing: Vec<usize> = (0..records.len()).collect();
    let limit = model.model.config().max_residues();
    let lengths: Vec<usize> = missing
        .iter()
        .map(|&i| records[i].1.len().min(limit))
        .collect();
    let batches = batches_by_tokens(&lengths, request.toks_per_batch, 2);
    let forward = ForwardRequest {
        repr_layers: request.layers.clone(),
        stop: Some(ctx.stop_flag()),
        ..Default::default()
    };
    ctx.checkpoint(0.0)?;
    for (done, batch) in batches.iter().enumerate() {
        let items: Vec<(&str, &str)> = batch
            .iter()
            .map(|&k| {
                let (id, seq) = &records[missing[k]];
                (id.as_str(), seq.as_str())
            })
            .collect();
        let outputs = embed_sequence(&model.model, &items, request.length_policy, &forward)?;
        for (&k, out) in batch.iter().zip(outputs) {
            let mut entry = Embedding {
                mean: BTreeMap::new(),
                per_residue: BTreeMap::new(),
            };
            for (&layer, reps) in &out.representations {
                entry.mean.insert(layer, reps.mean(0)?);
                if request.per_residue {
                    entry.per_residue.insert(layer, reps.clone());
                }
            }
            slots[missing[k]] = Some(entry);
        }
        ctx.checkpoint((done + 1) as f32 / batches.len() as f32)?;
    }
    let embeddings = slots
        .into_iter()
        .map(|s| {
            s.ok_or_else(|| {
                ModelError::InvalidRequest("internal: a protein was not embedded".into())
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    ctx.checkpoint(1.0)?;
    Ok(EmbedResult { embeddings })
}

/// Stacks the mean embeddings of `layer` into `(proteins, embed_dim)`.
pub fn stack_means(embeddings: &[Embedding], layer: usize) -> Result<Tensor, EmbedError> {
    let rows = embeddings
        .iter()
        .map(|e| {
            e.mean.get(&layer).cloned().ok_or_else(|| {
                ModelError::InvalidRequest(format!("layer {layer} was not embedded"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tensor::stack(&rows, 0)?)
}
