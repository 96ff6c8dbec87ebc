//! The bilinear contact probe from structures: embed training and test chains once, then for
//! each layer train a probe on the training chains and score it on the test chains (Cβ < 8 Å,
//! precision at L, L/2, L/5 by range).

use super::contact_head_run::{CONTACT_THRESHOLD_ANGSTROM, mean_precision};
use super::embed_run::{EmbedError, EmbedRequest, embed_dataset};
use super::jobs::JobCtx;
use crate::data::ProteinChain;
use crate::model::{LoadedModel, ModelError};
use crate::probes::{
    ContactPrecision, ContactProbe, ContactProbeError, ContactProbeParams, contact_precision,
};

/// One layer's probe and its scores.
#[derive(Debug, Clone)]
pub struct ContactProbeRun {
    /// Representation layer.
    pub layer: usize,
    /// The trained probe.
    pub probe: ContactProbe,
    /// `(chain id, residues, precision)` on the test chains.
    pub chains: Vec<(String, usize, ContactPrecision)>,
    /// Mean over the test chains.
    pub mean: ContactPrecision,
    /// Predicted contact probabilities of each test chain, row-major `residues x residues`.
    pub predictions: Vec<Vec<f32>>,
}

/// Errors of a contact-probe run.
#[derive(Debug, thiserror::Error)]
pub enum ContactProbeRunError {
    /// Embedding failed or was cancelled.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Training failed or was cancelled.
    #[error(transparent)]
    Probe(#[from] ContactProbeError),
}

/// Trains and scores one probe per layer in `layers`.
pub fn run_contact_probe(
    model: &LoadedModel,
    train: &[ProteinChain],
    test: &[ProteinChain],
    layers: &[usize],
    params: &ContactProbeParams,
    ctx: &JobCtx,
) -> Result<Vec<ContactProbeRun>, ContactProbeRunError> {
    let records: Vec<(String, String)> = train
        .iter()
        .chain(test)
        .map(|c| (c.id.clone(), c.sequence.clone()))
        .collect();
    let request = EmbedRequest::for_probes(model, layers, true);
    let embedded = embed_dataset(model, &records, &request, None, ctx)?;
    let maps: Vec<_> = train
        .iter()
        .chain(test)
        .map(|c| c.contact_map(CONTACT_THRESHOLD_ANGSTROM))
        .collect();
    let mut runs = Vec::with_capacity(layers.len());
    for &layer in layers {
        let reps = |k: usize| {
            embedded.embeddings[k]
                .per_residue
                .get(&layer)
                .cloned()
                .ok_or_else(|| {
                    EmbedError::from(ModelError::InvalidRequest(format!(
                        "layer {layer} was not embedded"
                    )))
                })
        };
        let training = (0..train.len())
            .map(|k| Ok((reps(k)?, maps[k].clone())))
            .collect::<Result<Vec<_>, EmbedError>>()?;
        let probe = ContactProbe::fit(&training, params, ctx)?;
        let mut chains = Vec::with_capacity(test.len());
        let mut predictions = Vec::with_capacity(test.len());
        for (k, chain) in test.iter().enumerate() {
            let index = train.len() + k;
            let predicted = probe
                .predict(&reps(index)?)
                .map_err(|e| EmbedError::from(ModelError::from(e)))?;
            chains.push((
                chain.id.clone(),
                maps[index].len,
                contact_precision(&predicted, &maps[index]),
            ));
            predictions.push(predicted);
        }
        let mean = mean_precision(chains.iter().map(|(_, _, p)| p));
        runs.push(ContactProbeRun {
            layer,
            probe,
            chains,
            mean,
            predictions,
        });
    }
    Ok(runs)
}
