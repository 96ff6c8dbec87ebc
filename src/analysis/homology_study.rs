//! The remote-homology study, the one workflow behind the GUI's Homology view and
//! `probe homology`: embed the SCOPe/ASTRAL domains once into a means-only feature store
//! (every layer asked for, resumable; no per-residue rows), then per layer read the domains'
//! mean embeddings from disk and score cosine nearest neighbours by the blocked search (Hit-10
//! and ROC AUC at the fold and superfamily levels). Peak RAM: the model, one forward batch, one
//! layer's domain vectors. The best layer: [`BEST_HOMOLOGY_LAYER`].

use std::path::PathBuf;

use super::homology_run::{HomologyRun, score_homology};
use super::study_error::StudyError;
use super::study_estimate::{FIT_FLOPS_PER_CORE, StudyEstimate, fill_batch_bytes};
use super::study_stores::{NamedRecords, embed_seconds_of, planned_embed_seconds, store_spec};
use crate::data::ScopDomain;
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::store::{
    FeatureStore, StoreError, StoreOptions, StorePlan, StoreSpec, ensure_store, read_means,
};

/// How the best layer is chosen.
pub const BEST_HOMOLOGY_LAYER: &str = "highest superfamily Hit-10 of the trained model";

/// Everything a homology study needs.
#[derive(Debug, Clone)]
pub struct HomologyStudyRequest {
    /// The domains (sccs-labelled).
    pub domains: Vec<ScopDomain>,
    /// Name of the set (stores are labelled with it).
    pub dataset_name: String,
    /// Layers to score.
    pub layers: Layers,
    /// Also score an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Feature stores.
    pub store: StoreOptions,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct HomologyStudy {
    /// The model's name.
    pub model_name: String,
    /// The domains, in the order of the vectors.
    pub domains: Vec<ScopDomain>,
    /// One run per layer, ascending.
    pub runs: Vec<HomologyRun>,
    /// The same layers on the untrained copy (empty when not compared).
    pub untrained: Vec<HomologyRun>,
    /// Index into `runs` of the best layer ([`BEST_HOMOLOGY_LAYER`]).
    pub best: usize,
    /// Unit-normalised mean embeddings at the best layer, `[domains][embed_dim]`.
    pub unit_vectors: Vec<Vec<f32>>,
    /// Residues embedded by this study (0 when every store was reused).
    pub residues_embedded: usize,
    /// The stores read.
    pub stores: Vec<PathBuf>,
    /// Wall seconds spent filling stores.
    pub embed_seconds: f64,
    /// Wall seconds spent reading and scoring.
    pub score_seconds: f64,
}

impl HomologyStudyRequest {
    fn records(&self) -> Vec<(String, String)> {
        self.domains
            .iter()
            .map(|d| (d.id.clone(), d.sequence.clone()))
            .collect()
    }
}

/// Seconds of one layer's blocked search: `n^2 dim` multiply-adds.
fn score_seconds(domains: usize, dim: usize) -> f64 {
    2.0 * (domains * domains * dim) as f64
        / (FIT_FLOPS_PER_CORE * rayon::current_num_threads().max(1) as f64)
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_homology_study(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    let layers = request.layers.resolve(model.model.config().num_layers)?;
    let plan = plan_store(model, request, &layers)?;
    estimate_from_plan(model, request, &layers, &plan)
}

/// The plan of `model`'s means store.
fn plan_store(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
    layers: &[usize],
) -> Result<StorePlan, StudyError> {
    let records = request.records();
    Ok(FeatureStore::plan(
        model,
        &means_spec(model, request, &records, layers),
    )?)
}

/// The spec of the per-domain means store (no per-residue rows).
fn means_spec<'a>(
    model: &LoadedModel,
    request: &'a HomologyStudyRequest,
    records: &'a [(String, String)],
    layers: &[usize],
) -> StoreSpec<'a> {
    let set = NamedRecords {
        name: &request.dataset_name,
        records,
    };
    let policy = super::embed_run::window_policy(model);
    let mut spec = store_spec(&request.store, set, layers, policy);
    spec.per_residue = false;
    spec
}

/// [`estimate_homology_study`] from the store's plan.
fn estimate_from_plan(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
    layers: &[usize],
    plan: &StorePlan,
) -> Result<StudyEstimate, StudyError> {
    let config = model.model.config();
    let records = request.records();
    let copies = if request.compare_untrained { 2.0 } else { 1.0 };
    let mut embed = planned_embed_seconds(model, &records, plan);
    let means_bytes = (records.len() * config.embed_dim * 4 * layers.len()) as u64;
    let mut disk = plan.bytes_to_reserve;
    if request.compare_untrained {
        embed += embed_seconds_of(model, &records);
        disk += means_bytes;
    }
    let weights = (config.parameter_count() * 4) as u64;
    let forward = fill_batch_bytes(config, &request.store, layers.len());
    let scoring = (records.len() * config.embed_dim * 4 * 3) as u64;
    Ok(StudyEstimate {
        embed_seconds: embed,
        fit_seconds: copies * layers.len() as f64 * score_seconds(records.len(), config.embed_dim),
        extra_ram: forward.max(scoring)
            + if request.compare_untrained {
                weights
            } else {
                0
            },
        weights,
        disk,
        store_root: request.store.root.clone(),
    })
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_homology_study`]).
pub fn run_homology_study(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
    ctx: &JobCtx,
) -> Result<HomologyStudy, StudyError> {
    if request.domains.len() < 2 {
        return Err(StudyError::Empty(format!(
            "need at least 2 domains, {} has {}",
            request.dataset_name,
            request.domains.len()
        )));
    }
    let layers = request.layers.resolve(model.model.config().num_layers)?;
    let plan = plan_store(model, request, &layers)?;
    estimate_from_plan(model, request, &layers, &plan)?.check_resources()?;
    let split = if request.compare_untrained {
        ctx.phases(&[0.5, 0.5])
    } else {
        vec![ctx.clone()]
    };
    let trained = score_model(model, request, (&layers, Some(plan)), &split[0])?;
    let untrained = if request.compare_untrained {
        let copy = model.untrained_copy(0)?;
        Some(score_model(&copy, request, (&layers, None), &split[1])?)
    } else {
        None
    };
    let runs = trained.runs;
    let best = (0..runs.len())
        .max_by(|&a, &b| {
            runs[a]
                .superfamily
                .hit10
                .total_cmp(&runs[b].superfamily.hit10)
        })
        .ok_or_else(|| StudyError::Empty("no layer was scored".into()))?;
    let store = FeatureStore::open(&trained.store)?;
    let vectors = means_rows(&store, runs[best].layer)?;
    let mut stores = vec![trained.store];
    let (mut embedded, mut embed_seconds, mut score_seconds) = (
        trained.residues_embedded,
        trained.embed_seconds,
        trained.score_seconds,
    );
    let untrained_runs = match untrained {
        Some(u) => {
            stores.push(u.store);
            embedded += u.residues_embedded;
            embed_seconds += u.embed_seconds;
            score_seconds += u.score_seconds;
            u.runs
        }
        None => Vec::new(),
    };
    ctx.checkpoint(1.0)?;
    Ok(HomologyStudy {
        model_name: model.name.clone(),
        domains: request.domains.clone(),
        runs,
        untrained: untrained_runs,
        best,
        unit_vectors: crate::probes::unit_vectors(&vectors),
        residues_embedded: embedded,
        stores,
        embed_seconds,
        score_seconds,
    })
}

/// The scores of one model.
struct ModelScores {
    runs: Vec<HomologyRun>,
    store: PathBuf,
    residues_embedded: usize,
    embed_seconds: f64,
    score_seconds: f64,
}

/// Fills (or reuses) the means store, then scores each layer from it.
fn score_model(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
    (layers, plan): (&[usize], Option<StorePlan>),
    ctx: &JobCtx,
) -> Result<ModelScores, StudyError> {
    let records = request.records();
    let spec = means_spec(model, request, &records, layers);
    let config = model.model.config();
    let plan = match plan {
        Some(plan) => plan,
        None => FeatureStore::plan(model, &spec)?,
    };
    let mut weights = vec![planned_embed_seconds(model, &records, &plan)];
    weights.extend(std::iter::repeat_n(
        score_seconds(records.len(), config.embed_dim).max(1e-3),
        layers.len(),
    ));
    let phases = ctx.phases(&weights);
    let started = std::time::Instant::now();
    let (store, fill) = ensure_store(model, &spec, &phases[0])?;
    let embed_seconds = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let mut runs = Vec::with_capacity(layers.len());
    for (k, (&layer, phase)) in layers.iter().zip(&phases[1..]).enumerate() {
        phase.set_stage(format!(
            "scoring layer {layer} ({}/{})",
            k + 1,
            layers.len()
        ));
        let vectors = means_rows(&store, layer)?;
        runs.push(score_homology(layer, &vectors, &request.domains, phase)?);
        phase.checkpoint(1.0)?;
    }
    Ok(ModelScores {
        runs,
        store: store.dir().to_owned(),
        residues_embedded: fill.residues_embedded,
        embed_seconds,
        score_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The per-domain means of `layer`, `[domains][embed_dim]`.
fn means_rows(store: &FeatureStore, layer: usize) -> Result<Vec<Vec<f32>>, StoreError> {
    Ok(read_means(store, layer)?
        .outer_iter()
        .map(|row| row.to_vec())
        .collect())
}
