//! Applying saved probes to new sequences: the probe's layer of the same model (checked by
//! fingerprint); SS8 class probabilities per residue, contact probabilities per residue pair.

use ndarray::Array2;

use super::embed_run::{EmbedError, EmbedRequest, embed_dataset};
use crate::jobs::JobCtx;
use crate::model::{LoadedModel, ModelError};
use crate::probes::{ContactProbe, ProbeMetadata, Ss8Probe};

/// One protein's predictions.
#[derive(Debug, Clone)]
pub struct Ss8Prediction {
    /// Record id.
    pub id: String,
    /// Probabilities per residue and class, `[residues, 8]`, columns in `SS8_CLASSES` order.
    pub probabilities: Array2<f32>,
}

impl Ss8Prediction {
    /// The most probable class index of each residue and its probability.
    pub fn best(&self) -> Vec<(usize, f32)> {
        self.probabilities
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .copied()
                    .enumerate()
                    .fold((0, f32::MIN), |b, (i, p)| if p > b.1 { (i, p) } else { b })
            })
            .collect()
    }
}

/// Errors of applying a saved probe.
#[derive(Debug, thiserror::Error)]
pub enum ApplyProbeError {
    /// The probe was trained on another model's representations.
    #[error(
        "the probe was trained on {probe_model} (fingerprint {probe_fingerprint:.12}), not on {model} ({fingerprint:.12}); load that model or retrain the probe"
    )]
    WrongModel {
        /// The probe's model name.
        probe_model: String,
        /// Its fingerprint.
        probe_fingerprint: String,
        /// The loaded model's name.
        model: String,
        /// Its fingerprint.
        fingerprint: String,
    },
    /// Embedding failed or was cancelled.
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// Predicts SS8 for `(id, sequence)` records with `probe` on `model`.
pub fn predict_ss8(
    model: &LoadedModel,
    probe: &Ss8Probe,
    metadata: &ProbeMetadata,
    records: &[(String, String)],
    ctx: &JobCtx,
) -> Result<Vec<Ss8Prediction>, ApplyProbeError> {
    let per_residue = probe_layer_representations(model, metadata, records, ctx)?;
    records
        .iter()
        .zip(per_residue)
        .map(|((id, _), reps)| {
            let rows = reps.to_vec2::<f32>().map_err(EmbedError::from)?;
            let width = rows.first().map_or(0, Vec::len);
            let features =
                Array2::from_shape_vec((rows.len(), width), rows.into_iter().flatten().collect())
                    .map_err(|e| {
                    EmbedError::from(ModelError::InvalidRequest(format!("internal: {e}")))
                })?;
            Ok(Ss8Prediction {
                id: id.clone(),
                probabilities: probe.predict_probabilities(&features),
            })
        })
        .collect()
}

/// One protein's predicted contacts.
#[derive(Debug, Clone)]
pub struct ContactPrediction {
    /// Record id.
    pub id: String,
    /// Residues.
    pub len: usize,
    /// Contact probabilities, row-major `len x len` (symmetric).
    pub probabilities: Vec<f32>,
}

/// Predicts contacts for `(id, sequence)` records with a saved contact `probe` on `model`.
pub fn predict_contacts(
    model: &LoadedModel,
    probe: &ContactProbe,
    metadata: &ProbeMetadata,
    records: &[(String, String)],
    ctx: &JobCtx,
) -> Result<Vec<ContactPrediction>, ApplyProbeError> {
    let per_residue = probe_layer_representations(model, metadata, records, ctx)?;
    records
        .iter()
        .zip(per_residue)
        .map(|((id, _), reps)| {
            let len = reps.dim(0).map_err(EmbedError::from)?;
            let probabilities = probe.predict(&reps).map_err(EmbedError::from)?;
            Ok(ContactPrediction {
                id: id.clone(),
                len,
                probabilities,
            })
        })
        .collect()
}

/// Checks that `metadata` belongs to `model` and embeds `records` at the probe's layer:
/// `(residues, embed_dim)` per record.
fn probe_layer_representations(
    model: &LoadedModel,
    metadata: &ProbeMetadata,
    records: &[(String, String)],
    ctx: &JobCtx,
) -> Result<Vec<candle_core::Tensor>, ApplyProbeError> {
    if metadata.model_fingerprint != model.fingerprint {
        return Err(ApplyProbeError::WrongModel {
            probe_model: metadata.model_name.clone(),
            probe_fingerprint: metadata.model_fingerprint.clone(),
            model: model.name.clone(),
            fingerprint: model.fingerprint.clone(),
        });
    }
    let layer = metadata.layer;
    let request = EmbedRequest::for_probes(model, &[layer], true);
    let embedded = embed_dataset(model, records, &request, ctx)?;
    embedded
        .embeddings
        .into_iter()
        .map(|mut embedding| {
            embedding.per_residue.remove(&layer).ok_or_else(|| {
                EmbedError::from(ModelError::InvalidRequest(format!(
                    "layer {layer} was not embedded"
                )))
                .into()
            })
        })
        .collect()
}
