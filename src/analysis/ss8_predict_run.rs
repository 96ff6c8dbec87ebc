//! Applying a saved SS8 probe to new sequences: the probe's layer of the same model (checked by
//! fingerprint), per-residue class probabilities.

use ndarray::Array2;

use super::embed_run::{EmbedError, EmbedRequest, embed_dataset};
use super::jobs::JobCtx;
use crate::data::embedding_cache::EmbeddingCache;
use crate::model::{LoadedModel, ModelError};
use crate::probes::{ProbeMetadata, Ss8Probe};

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

/// Errors of applying a probe.
#[derive(Debug, thiserror::Error)]
pub enum Ss8PredictError {
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
    cache: Option<&EmbeddingCache>,
    ctx: &JobCtx,
) -> Result<Vec<Ss8Prediction>, Ss8PredictError> {
    if metadata.model_fingerprint != model.fingerprint {
        return Err(Ss8PredictError::WrongModel {
            probe_model: metadata.model_name.clone(),
            probe_fingerprint: metadata.model_fingerprint.clone(),
            model: model.name.clone(),
            fingerprint: model.fingerprint.clone(),
        });
    }
    let layer = metadata.layer;
    let request = EmbedRequest::for_probes(model, &[layer], true);
    let embedded = embed_dataset(model, records, &request, cache, ctx)?;
    records
        .iter()
        .zip(&embedded.embeddings)
        .map(|((id, _), embedding)| {
            let reps = embedding.per_residue.get(&layer).ok_or_else(|| {
                EmbedError::from(ModelError::InvalidRequest(format!(
                    "layer {layer} was not embedded"
                )))
            })?;
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
