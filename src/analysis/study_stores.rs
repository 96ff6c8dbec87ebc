//! The stores of a probe study's two splits: planned (what is missing, what it costs), then
//! filled (embedding only what is not stored yet). Shared by every study that trains on one
//! set and scores on another.

use std::path::PathBuf;

use super::study_estimate::embed_seconds;
use crate::jobs::JobCtx;
use crate::model::{LengthPolicy, LoadedModel};
use crate::store::{FeatureStore, StoreError, StoreOptions, StorePlan, StoreSpec, ensure_store};

/// A named set of `(id, sequence)` records.
#[derive(Debug, Clone, Copy)]
pub struct NamedRecords<'a> {
    /// Display name (stores are labelled with it).
    pub name: &'a str,
    /// `(id, sequence)` in order.
    pub records: &'a [(String, String)],
}

/// The filled stores of a training and a test split.
#[derive(Debug)]
pub struct SplitStores {
    /// Training split.
    pub train: FeatureStore,
    /// Test split.
    pub test: FeatureStore,
    /// Residues embedded now (0 when both were reused).
    pub residues_embedded: usize,
    /// Wall seconds spent filling.
    pub seconds: f64,
}

impl SplitStores {
    /// Both store folders.
    pub fn dirs(&self) -> Vec<PathBuf> {
        vec![self.train.dir().to_owned(), self.test.dir().to_owned()]
    }
}

/// The store spec of `set` (per-residue rows and means).
pub fn store_spec<'a>(
    options: &StoreOptions,
    set: NamedRecords<'a>,
    layers: &[usize],
    policy: LengthPolicy,
) -> StoreSpec<'a> {
    StoreSpec {
        root: options.root.clone(),
        dataset: set.name.to_owned(),
        records: set.records,
        layers: layers.to_vec(),
        length_policy: policy,
        dtype: options.dtype,
        toks_per_batch: options.toks_per_batch,
        per_residue: true,
    }
}

/// Plans of the training and the test store.
pub fn plan_splits(
    model: &LoadedModel,
    options: &StoreOptions,
    [train, test]: [NamedRecords; 2],
    layers: &[usize],
) -> Result<[StorePlan; 2], StoreError> {
    let policy = super::embed_run::window_policy(model);
    Ok([
        FeatureStore::plan(model, &store_spec(options, train, layers, policy))?,
        FeatureStore::plan(model, &store_spec(options, test, layers, policy))?,
    ])
}

/// Estimated seconds to fill each planned store (the weights of the embedding phases).
pub fn embed_phase_seconds(model: &LoadedModel, plans: &[StorePlan; 2]) -> [f64; 2] {
    let config = model.model.config();
    let row =
        |p: &StorePlan| (p.mean_residues + 2.0).min(config.max_residues() as f64 + 2.0) as usize;
    [
        embed_seconds(config, plans[0].residues_to_embed, row(&plans[0])),
        embed_seconds(config, plans[1].residues_to_embed, row(&plans[1])),
    ]
}

/// Estimated seconds to embed all of `records` (for copies not planned yet).
pub fn embed_seconds_of(model: &LoadedModel, records: &[(String, String)]) -> f64 {
    let config = model.model.config();
    let residues: usize = records.iter().map(|(_, s)| s.len()).sum();
    let mean = residues as f64 / records.len().max(1) as f64;
    embed_seconds(
        config,
        residues,
        (mean + 2.0).min(config.max_residues() as f64 + 2.0) as usize,
    )
}

/// Estimated seconds to embed the part of `records` that `plan` says is not stored yet.
pub fn planned_embed_seconds(
    model: &LoadedModel,
    records: &[(String, String)],
    plan: &StorePlan,
) -> f64 {
    let all: usize = records.iter().map(|(_, s)| s.len()).sum();
    embed_seconds_of(model, records) * plan.residues_to_embed as f64 / all.max(1) as f64
}

/// Bytes of complete stores of `records` for `layers` (for copies not planned yet, such as
/// the untrained model's).
pub fn full_store_bytes(
    model: &LoadedModel,
    options: &StoreOptions,
    records: &[(String, String)],
    layers: usize,
) -> u64 {
    let residues: usize = records.iter().map(|(_, s)| s.len()).sum();
    ((residues + records.len()) * model.model.config().embed_dim * options.dtype.bytes() * layers)
        as u64
}

/// Opens or creates both stores and embeds what is missing, each under its own context.
pub fn fill_splits(
    model: &LoadedModel,
    options: &StoreOptions,
    [train, test]: [NamedRecords; 2],
    layers: &[usize],
    [train_ctx, test_ctx]: [&JobCtx; 2],
) -> Result<SplitStores, StoreError> {
    let policy = super::embed_run::window_policy(model);
    let started = std::time::Instant::now();
    let (train_store, train_fill) = ensure_store(
        model,
        &store_spec(options, train, layers, policy),
        train_ctx,
    )?;
    let (test_store, test_fill) =
        ensure_store(model, &store_spec(options, test, layers, policy), test_ctx)?;
    Ok(SplitStores {
        train: train_store,
        test: test_store,
        residues_embedded: train_fill.residues_embedded + test_fill.residues_embedded,
        seconds: started.elapsed().as_secs_f64(),
    })
}
