//! The model's own (unsupervised) contact head scored against structures: Cβ < 8 Å contacts,
//! precision at L, L/2, L/5 by range (fair-esm's contact notebook). Chains longer than the
//! model's limit are scored on their first `max_residues` residues.

use crate::data::{ContactMap, ProteinChain};
use crate::jobs::{Cancelled, JobCtx};
use crate::model::{ForwardRequest, LoadedModel, ModelError, TokenBatch};
use crate::probes::{ContactPrecision, RangePrecision, contact_precision};

/// Contact threshold between Cβ atoms (virtual Cβ for glycine), Å.
pub const CONTACT_THRESHOLD_ANGSTROM: f32 = 8.0;

/// Per-chain and mean precisions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContactHeadEvaluation {
    /// `(chain id, residues scored, precision)`.
    pub chains: Vec<(String, usize, ContactPrecision)>,
    /// Mean over chains (NaN entries skipped).
    pub mean: ContactPrecision,
}

/// Errors of a contact evaluation.
#[derive(Debug, thiserror::Error)]
pub enum ContactRunError {
    /// The model failed or has no contact head.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The user stopped it.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// Predicts contacts for each chain with the model's contact head and scores them.
pub fn evaluate_contact_head(
    model: &LoadedModel,
    chains: &[ProteinChain],
    ctx: &JobCtx,
) -> Result<ContactHeadEvaluation, ContactRunError> {
    if !model.model.has_contact_head() {
        return Err(ModelError::NoContactHead.into());
    }
    let limit = model.model.config().max_residues();
    let request = ForwardRequest {
        contacts: true,
        ..ForwardRequest::default()
    };
    let mut scored = Vec::with_capacity(chains.len());
    for (done, chain) in chains.iter().enumerate() {
        let len = chain.sequence.len().min(limit);
        let batch = TokenBatch::encode([(chain.id.as_str(), &chain.sequence[..len])])?;
        let output = model.model.forward(&batch, &request)?;
        let contacts = output.contacts.ok_or(ModelError::NoContactHead)?;
        let predicted = contacts
            .squeeze(0)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(ModelError::from)?;
        let truth = truncate(&chain.contact_map(CONTACT_THRESHOLD_ANGSTROM), len);
        scored.push((chain.id.clone(), len, contact_precision(&predicted, &truth)));
        ctx.checkpoint((done + 1) as f32 / chains.len() as f32)?;
    }
    let mean = mean_precision(scored.iter().map(|(_, _, p)| p));
    Ok(ContactHeadEvaluation {
        chains: scored,
        mean,
    })
}

/// The top-left `len x len` block of a contact map (a chain scored on its first `len`
/// residues).
pub(crate) fn truncate(map: &ContactMap, len: usize) -> ContactMap {
    if len == map.len {
        return map.clone();
    }
    let block = |v: &[bool]| {
        (0..len * len)
            .map(|k| v[(k / len) * map.len + k % len])
            .collect()
    };
    ContactMap {
        len,
        contacts: block(&map.contacts),
        valid: map.valid[..len].to_vec(),
        distances: (0..len * len)
            .map(|k| map.distances[(k / len) * map.len + k % len])
            .collect(),
    }
}

pub(crate) fn mean_precision<'a>(
    all: impl Iterator<Item = &'a ContactPrecision> + Clone,
) -> ContactPrecision {
    let mean = |f: &dyn Fn(&ContactPrecision) -> f64| {
        let values: Vec<f64> = all.clone().map(f).filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    };
    let range = |g: &dyn Fn(&ContactPrecision) -> RangePrecision| RangePrecision {
        at_l: mean(&|p| g(p).at_l),
        at_l2: mean(&|p| g(p).at_l2),
        at_l5: mean(&|p| g(p).at_l5),
    };
    ContactPrecision {
        short: range(&|p| p.short),
        medium: range(&|p| p.medium),
        long: range(&|p| p.long),
    }
}
