//! The feature stores of a study's sets: the spec each set is stored under, and what filling
//! them costs (planned: only what is not stored yet; full: a copy not planned yet, such as the
//! untrained model's).

use super::study::StoredSet;
use super::study_estimate::{embed_seconds, forward_flops_per_residue};
use crate::model::LoadedModel;
use crate::store::{StoreOptions, StorePlan, StoreSpec};

/// The store spec of `set` at `layers` (long sequences in overlapping windows).
pub fn store_spec<'a>(
    model: &LoadedModel,
    options: &StoreOptions,
    set: &'a StoredSet,
    layers: &[usize],
) -> StoreSpec<'a> {
    StoreSpec {
        root: options.root.clone(),
        dataset: set.name.clone(),
        records: &set.records,
        layers: layers.to_vec(),
        length_policy: super::embed_run::window_policy(model),
        dtype: options.dtype,
        toks_per_batch: options.toks_per_batch,
        per_residue: set.per_residue,
    }
}

/// Estimated seconds to fill what `plan` says is not stored yet.
pub fn planned_embed_seconds(model: &LoadedModel, plan: &StorePlan) -> f64 {
    model_embed_seconds(model, plan.residues_to_embed, plan_row_tokens(model, plan))
}

/// Rows of `plan`'s records, tokens (mean residues plus BOS and EOS, at most a window).
pub fn plan_row_tokens(model: &LoadedModel, plan: &StorePlan) -> usize {
    let config = model.model.config();
    (plan.mean_residues + 2.0).min(config.max_residues() as f64 + 2.0) as usize
}

/// Seconds to embed `residues` in rows of `row_tokens` with `model`: at the rate measured for
/// it on this machine ([`super::measured_rates`]), else at the fixed rate.
pub(crate) fn model_embed_seconds(model: &LoadedModel, residues: usize, row_tokens: usize) -> f64 {
    let config = model.model.config();
    match super::measured_rates::measured_rate(&model.fingerprint) {
        Some(rate) => {
            residues as f64 * forward_flops_per_residue(config, row_tokens) / rate.max(1.0)
        }
        None => embed_seconds(config, residues, row_tokens),
    }
}

/// Estimated seconds to embed all of `records` (for copies not planned yet).
pub fn embed_seconds_of(model: &LoadedModel, records: &[(String, String)]) -> f64 {
    let config = model.model.config();
    let residues: usize = records.iter().map(|(_, s)| s.len()).sum();
    let mean = residues as f64 / records.len().max(1) as f64;
    model_embed_seconds(
        model,
        residues,
        (mean + 2.0).min(config.max_residues() as f64 + 2.0) as usize,
    )
}

/// Bytes of a complete store of `set` for `layers` layers (for copies not planned yet):
/// per-residue rows in the store's precision plus the f32 means, or the means alone.
pub fn full_store_bytes(
    model: &LoadedModel,
    options: &StoreOptions,
    set: &StoredSet,
    layers: usize,
) -> u64 {
    let dim = model.model.config().embed_dim;
    let means = set.records.len() * dim * 4;
    let rows = if set.per_residue {
        let residues: usize = set.records.iter().map(|(_, s)| s.len()).sum();
        residues * dim * options.dtype.bytes()
    } else {
        0
    };
    ((rows + means) * layers) as u64
}
