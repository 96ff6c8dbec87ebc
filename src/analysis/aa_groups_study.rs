//! The amino-acid groups study, the one workflow behind the Embedding map's "Amino-acid groups"
//! panel and `probe aa-groups` (Rives et al. 2021, Fig. 2: the model's vectors of the 20 amino
//! acids cluster by biochemistry; an untrained model's do not).
//!
//! Two kinds of vectors are scored with [`grouping_score`]:
//! - the token embedding table (the input layer, tied to the LM head in ESM-1b), always;
//! - per representation layer, each amino acid's mean over every residue of a data set, read
//!   from a feature store (embedded once, resumable, reused by later studies).
//!
//! Peak RAM: the model, one forward batch, one chunk of one layer's rows and 20 running sums.
//! The best layer is the trained model's layer with the highest nearest-neighbour agreement
//! ([`BEST_LAYER`]).

use std::path::PathBuf;

use super::study_error::StudyError;
use super::study_estimate::{StudyEstimate, fill_batch_bytes};
use super::study_stores::{
    NamedRecords, embed_seconds_of, full_store_bytes, planned_embed_seconds, store_spec,
};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::probes::{GroupingScore, embedding_table_grouping, grouped_amino_acids, grouping_score};
use crate::store::{FeatureStore, LayerReader, StoreOptions, StorePlan, ensure_store};

/// How the best layer is chosen.
pub const BEST_LAYER: &str = "highest nearest-neighbour group agreement of the trained model \
                              (ties: larger within-minus-between cosine)";

/// Rows read from a store at once.
const CHUNK_ROWS: usize = 16_384;

/// Everything the study needs.
#[derive(Debug, Clone)]
pub struct AaGroupsRequest {
    /// `(id, sequence)` of the proteins whose residues are averaged per amino acid; empty to
    /// score the embedding table only.
    pub records: Vec<(String, String)>,
    /// Name of the data set (stores are labelled with it).
    pub dataset_name: String,
    /// Representation layers scored (ignored when `records` is empty).
    pub layers: Layers,
    /// Also score an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Feature stores.
    pub store: StoreOptions,
}

/// The score of one layer's per-amino-acid mean vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct AaGroupsRun {
    /// Representation layer (0 = after the embedding).
    pub layer: usize,
    /// Agreement, cosine contrast and chance.
    pub score: GroupingScore,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct AaGroupsStudy {
    /// The model's name.
    pub model_name: String,
    /// The token embedding table of the model.
    pub table: GroupingScore,
    /// The same for the untrained copy (when compared).
    pub untrained_table: Option<GroupingScore>,
    /// One run per layer, ascending (empty without records).
    pub runs: Vec<AaGroupsRun>,
    /// The same layers on the untrained copy (empty when not compared).
    pub untrained: Vec<AaGroupsRun>,
    /// Index into `runs` of the best layer ([`BEST_LAYER`]); `None` without runs.
    pub best: Option<usize>,
    /// Standard residues averaged per layer (0 without records).
    pub residues: usize,
    /// Residues embedded by this study (0 when every store was reused).
    pub residues_embedded: usize,
    /// The stores read.
    pub stores: Vec<PathBuf>,
    /// Wall seconds spent filling stores.
    pub embed_seconds: f64,
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_aa_groups_study(
    model: &LoadedModel,
    request: &AaGroupsRequest,
) -> Result<StudyEstimate, StudyError> {
    let layers = layers_scored(model, request)?;
    let plan = plan_store(model, request, &layers)?;
    Ok(estimate_from_plan(model, request, &layers, plan.as_ref()))
}

/// The representation layers scored: none without records.
fn layers_scored(model: &LoadedModel, request: &AaGroupsRequest) -> Result<Vec<usize>, StudyError> {
    if request.records.is_empty() {
        return Ok(Vec::new());
    }
    Ok(request.layers.resolve(model.model.config().num_layers)?)
}

/// The plan of `model`'s store (`None` when no layer is scored).
fn plan_store(
    model: &LoadedModel,
    request: &AaGroupsRequest,
    layers: &[usize],
) -> Result<Option<StorePlan>, StudyError> {
    if layers.is_empty() {
        return Ok(None);
    }
    Ok(Some(FeatureStore::plan(
        model,
        &spec(model, request, layers),
    )?))
}

/// [`estimate_aa_groups_study`] from the store's plan.
fn estimate_from_plan(
    model: &LoadedModel,
    request: &AaGroupsRequest,
    layers: &[usize],
    plan: Option<&StorePlan>,
) -> StudyEstimate {
    let config = model.model.config();
    let weights = (config.parameter_count() * 4) as u64;
    let untrained_copy = if request.compare_untrained {
        weights
    } else {
        0
    };
    let mut estimate = StudyEstimate {
        embed_seconds: 0.0,
        fit_seconds: 0.0,
        extra_ram: untrained_copy,
        weights,
        disk: 0,
        store_root: request.store.root.clone(),
    };
    let Some(plan) = plan else {
        return estimate;
    };
    estimate.embed_seconds = planned_embed_seconds(model, &request.records, plan);
    estimate.disk = plan.bytes_to_reserve;
    if request.compare_untrained {
        estimate.embed_seconds += embed_seconds_of(model, &request.records);
        estimate.disk += full_store_bytes(model, &request.store, &request.records, layers.len());
    }
    let forward = fill_batch_bytes(config, &request.store, layers.len());
    let reading = (CHUNK_ROWS * config.embed_dim * 4) as u64;
    estimate.extra_ram += forward.max(reading);
    estimate
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_aa_groups_study`]).
pub fn run_aa_groups_study(
    model: &LoadedModel,
    request: &AaGroupsRequest,
    ctx: &JobCtx,
) -> Result<AaGroupsStudy, StudyError> {
    let layers = layers_scored(model, request)?;
    let plan = plan_store(model, request, &layers)?;
    estimate_from_plan(model, request, &layers, plan.as_ref()).check_resources()?;
    let split = if request.compare_untrained {
        ctx.phases(&[0.5, 0.5])
    } else {
        vec![ctx.clone()]
    };
    let trained = score_model(model, request, (&layers, plan), &split[0])?;
    let untrained = if request.compare_untrained {
        let copy = model.untrained_copy(0)?;
        let plan = plan_store(&copy, request, &layers)?;
        Some(score_model(&copy, request, (&layers, plan), &split[1])?)
    } else {
        None
    };
    ctx.checkpoint(1.0)?;
    let best = best_run(&trained.runs);
    let mut study = AaGroupsStudy {
        model_name: model.name.clone(),
        table: trained.table,
        untrained_table: None,
        best,
        residues: trained.residues,
        residues_embedded: trained.residues_embedded,
        stores: trained.store.into_iter().collect(),
        embed_seconds: trained.embed_seconds,
        runs: trained.runs,
        untrained: Vec::new(),
    };
    if let Some(untrained) = untrained {
        study.untrained_table = Some(untrained.table);
        study.untrained = untrained.runs;
        study.residues_embedded += untrained.residues_embedded;
        study.embed_seconds += untrained.embed_seconds;
        study.stores.extend(untrained.store);
    }
    Ok(study)
}

/// The index of the best run ([`BEST_LAYER`]).
fn best_run(runs: &[AaGroupsRun]) -> Option<usize> {
    (0..runs.len()).max_by(|&a, &b| {
        let (x, y) = (&runs[a].score, &runs[b].score);
        x.nearest_neighbour_agreement
            .total_cmp(&y.nearest_neighbour_agreement)
            .then(
                x.within_minus_between_cosine
                    .total_cmp(&y.within_minus_between_cosine),
            )
            .then(b.cmp(&a))
    })
}

/// The scores of one model.
struct ModelScores {
    table: GroupingScore,
    runs: Vec<AaGroupsRun>,
    residues: usize,
    store: Option<PathBuf>,
    residues_embedded: usize,
    embed_seconds: f64,
}

/// Scores the embedding table, then fills (or reuses) the store and scores each layer.
fn score_model(
    model: &LoadedModel,
    request: &AaGroupsRequest,
    (layers, plan): (&[usize], Option<StorePlan>),
    ctx: &JobCtx,
) -> Result<ModelScores, StudyError> {
    let table = embedding_table_grouping(model.model.token_embeddings())?.ok_or_else(|| {
        StudyError::Empty(format!(
            "the embedding table of {} lacks a standard amino acid",
            model.name
        ))
    })?;
    let mut scores = ModelScores {
        table,
        runs: Vec::new(),
        residues: 0,
        store: None,
        residues_embedded: 0,
        embed_seconds: 0.0,
    };
    let Some(plan) = plan else {
        return Ok(scores);
    };
    let mut weights = vec![planned_embed_seconds(model, &request.records, &plan).max(1e-3)];
    weights.extend(std::iter::repeat_n(1e-3, layers.len()));
    let phases = ctx.phases(&weights);
    let started = std::time::Instant::now();
    let (store, fill) = ensure_store(model, &spec(model, request, layers), &phases[0])?;
    scores.embed_seconds = started.elapsed().as_secs_f64();
    scores.residues_embedded = fill.residues_embedded;
    scores.store = Some(store.dir().to_owned());
    for (k, (&layer, phase)) in layers.iter().zip(&phases[1..]).enumerate() {
        phase.set_stage(format!(
            "averaging layer {layer} per amino acid ({}/{})",
            k + 1,
            layers.len()
        ));
        let (means, residues) = amino_acid_means(&store, &request.records, layer, phase)?;
        scores.residues = residues;
        let score = grouping_score(|r| means.get(&r).cloned()).ok_or_else(|| {
            StudyError::Empty(format!(
                "{} lacks a standard amino acid (all 20 are needed)",
                request.dataset_name
            ))
        })?;
        scores.runs.push(AaGroupsRun { layer, score });
    }
    Ok(scores)
}

/// Per-residue rows of every layer asked for.
fn spec<'a>(
    model: &LoadedModel,
    request: &'a AaGroupsRequest,
    layers: &[usize],
) -> crate::store::StoreSpec<'a> {
    let set = NamedRecords {
        name: &request.dataset_name,
        records: &request.records,
    };
    store_spec(
        &request.store,
        set,
        layers,
        super::embed_run::window_policy(model),
    )
}

/// Each standard amino acid's mean `[embed_dim]` vector of `layer` over every stored residue,
/// read in chunks of about [`CHUNK_ROWS`] rows; and the residues averaged.
fn amino_acid_means(
    store: &FeatureStore,
    records: &[(String, String)],
    layer: usize,
    ctx: &JobCtx,
) -> Result<(std::collections::HashMap<char, Vec<f32>>, usize), StudyError> {
    let mut reader = LayerReader::open(store, layer)?;
    let mut sums: std::collections::HashMap<char, (Vec<f64>, usize)> = grouped_amino_acids()
        .map(|r| (r, (vec![0.0; reader.dim()], 0)))
        .collect();
    let offsets = store.row_offsets();
    for chunk in store.record_chunks(CHUNK_ROWS) {
        let (first, last) = (chunk.start, chunk.end);
        let block = reader.read_range(offsets[first], offsets[last] - offsets[first])?;
        for (i, (_, sequence)) in records.iter().enumerate().take(last).skip(first) {
            let stored = offsets[i + 1] - offsets[i];
            for (p, residue) in sequence.chars().take(stored).enumerate() {
                let Some((sum, count)) = sums.get_mut(&residue.to_ascii_uppercase()) else {
                    continue;
                };
                for (s, &x) in sum
                    .iter_mut()
                    .zip(block.row(offsets[i] - offsets[first] + p))
                {
                    *s += f64::from(x);
                }
                *count += 1;
            }
        }
        ctx.checkpoint(last as f32 / records.len() as f32)?;
    }
    let averaged = sums.values().map(|(_, count)| count).sum();
    let means = sums
        .into_iter()
        .filter(|(_, (_, count))| *count > 0)
        .map(|(r, (sum, count))| (r, sum.iter().map(|s| (s / count as f64) as f32).collect()))
        .collect();
    Ok((means, averaged))
}
