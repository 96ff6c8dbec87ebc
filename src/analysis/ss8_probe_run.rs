//! The SS8 probe from sequences to metrics: embed the training and test proteins at one layer,
//! fit the logistic-regression probe on the training residues, score the test residues. The
//! GUI and the CLI call this.

use ndarray::Array2;

use super::embed_run::{EmbedError, EmbedRequest, embed_dataset};
use crate::data::Ss8Record;
use crate::jobs::{Cancelled, JobCtx};
use crate::model::{LoadedModel, ModelError};
use crate::probes::logistic::LogisticError;
use crate::probes::{Ss8Metrics, Ss8Probe, Ss8ProbeParams, residue_dataset};

/// A fitted probe and its scores.
#[derive(Debug, Clone)]
pub struct Ss8ProbeRun {
    /// Representation layer probed.
    pub layer: usize,
    /// The probe.
    pub probe: Ss8Probe,
    /// Scores on the training residues.
    pub train: Ss8Metrics,
    /// Scores on the held-out residues.
    pub test: Ss8Metrics,
    /// Training residues used.
    pub train_residues: usize,
}

/// Errors of a probe run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeRunError {
    /// Embedding failed or was cancelled.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The regression failed.
    #[error(transparent)]
    Fit(#[from] LogisticError),
}

/// Per-residue representations of `records` at each of `layers`: `out[k][i]` is record `i`'s
/// `(len, dim)` representation at `layers[k]` (long sequences in overlapping windows).
pub fn residue_representations(
    model: &LoadedModel,
    records: &[Ss8Record],
    layers: &[usize],
    ctx: &JobCtx,
) -> Result<Vec<Vec<Array2<f32>>>, EmbedError> {
    let pairs: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.id.clone(), r.sequence.clone()))
        .collect();
    let request = EmbedRequest::for_probes(model, layers, true);
    let result = embed_dataset(model, &pairs, &request, ctx)?;
    layers
        .iter()
        .map(|layer| {
            result
                .embeddings
                .iter()
                .map(|e| {
                    let reps = e.per_residue.get(layer).ok_or_else(|| {
                        ModelError::InvalidRequest(format!(
                            "layer {layer} missing from the embedding run"
                        ))
                    })?;
                    let (n, d) = reps.dims2().map_err(ModelError::from)?;
                    let values = reps
                        .flatten_all()
                        .and_then(|t| t.to_vec1::<f32>())
                        .map_err(ModelError::from)?;
                    Array2::from_shape_vec((n, d), values).map_err(|e| {
                        EmbedError::from(ModelError::InvalidRequest(format!(
                            "bad representation shape: {e}"
                        )))
                    })
                })
                .collect()
        })
        .collect()
}

/// Embeds once, then fits a probe per layer on `train` and scores it on `test` (a layer sweep
/// when `layers` has several entries).
pub fn run_ss8_probe(
    model: &LoadedModel,
    train: &[Ss8Record],
    test: &[Ss8Record],
    layers: &[usize],
    params: &Ss8ProbeParams,
    ctx: &JobCtx,
) -> Result<Vec<Ss8ProbeRun>, ProbeRunError> {
    let train_reps = residue_representations(model, train, layers, ctx)?;
    let test_reps = residue_representations(model, test, layers, ctx)?;
    let mut runs = Vec::with_capacity(layers.len());
    for ((&layer, train_reps), test_reps) in layers.iter().zip(&train_reps).zip(&test_reps) {
        let (train_x, train_y) = residue_dataset(train, train_reps);
        // Progress moves with the L-BFGS steps of this layer's fit; a cancel stops it at the
        // next step (one pass over the residues).
        let k = runs.len() as f32;
        let phase = ctx.scoped(k / layers.len() as f32, (k + 1.0) / layers.len() as f32);
        let max_steps = params.max_iterations.max(1) as f32;
        let probe = Ss8Probe::fit(
            &train_x,
            &train_y,
            params,
            Some(std::sync::Arc::new(move |step, _| {
                phase.checkpoint(step as f32 / max_steps).is_ok()
            })),
        )
        .map_err(|e| match e {
            LogisticError::Stopped(_) => ProbeRunError::Embed(EmbedError::from(Cancelled)),
            other => ProbeRunError::Fit(other),
        })?;
        let train_metrics = probe.evaluate(&train_x, &train_y);
        let (test_x, test_y) = residue_dataset(test, test_reps);
        let test_metrics = probe.evaluate(&test_x, &test_y);
        runs.push(Ss8ProbeRun {
            layer,
            probe,
            train: train_metrics,
            test: test_metrics,
            train_residues: train_y.len(),
        });
        ctx.checkpoint(runs.len() as f32 / layers.len() as f32)
            .map_err(EmbedError::from)?;
    }
    Ok(runs)
}
