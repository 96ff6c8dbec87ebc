//! The embedding-map study, the one workflow behind the GUI's Embedding map and
//! `project tsne | pca`: choose the points (proteins, or residues stratified by protein, seeded),
//! embed those proteins once into a feature store at every layer (means only for protein
//! points), read the asked layer's points from it, and project them by t-SNE or PCA. A map of
//! another layer of the same points does no forward pass. Peak RAM: the model, one forward
//! batch, the points' features and the projection's state.

use std::path::PathBuf;

use ndarray::Array2;

use super::projection_run::{
    MapPoints, PointLevel, RESIDUE_POOL_FACTOR, choose_records, stratified_residues,
};
use super::study_error::StudyError;
use super::study_estimate::{StudyEstimate, fill_batch_bytes};
use super::study_stores::{NamedRecords, planned_embed_seconds, store_spec};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::projection::{TsneParams, fit_pca, tsne};
use crate::store::{FeatureStore, LayerReader, StoreOptions, StoreSpec, ensure_store, read_means};

/// How the points are projected.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// Barnes-Hut t-SNE to two dimensions.
    Tsne(TsneParams),
    /// The first `components` principal components.
    Pca {
        /// Components kept (at least 2 are drawn).
        components: usize,
        /// Seed of the randomised SVD.
        seed: u64,
    },
}

/// Everything a map needs.
#[derive(Debug, Clone)]
pub struct MapStudyRequest {
    /// `(id, sequence)` of the dataset.
    pub records: Vec<(String, String)>,
    /// Name of the dataset (stores are labelled with it).
    pub dataset_name: String,
    /// The layer (the last of a list).
    pub layer: Layers,
    /// Protein or residue points.
    pub level: PointLevel,
    /// At most this many points.
    pub max_points: usize,
    /// Seed of the point sample.
    pub seed: u64,
    /// t-SNE or PCA.
    pub projection: Projection,
    /// Feature stores.
    pub store: StoreOptions,
}

/// A projected map.
#[derive(Debug, Clone)]
pub struct MapStudy {
    /// The layer mapped.
    pub layer: usize,
    /// What each point is, with its features.
    pub points: MapPoints,
    /// The coordinates and how they were fitted.
    pub projected: Projected,
    /// One line about the map: method, points, layer and fit.
    pub summary: String,
    /// Residues embedded by this map (0 when the store was reused).
    pub residues_embedded: usize,
    /// The store read.
    pub store: PathBuf,
}

/// The chosen records, and the store spec holding them at every layer.
struct Plan {
    chosen: Vec<usize>,
    subset: Vec<(String, String)>,
    name: String,
    layer: usize,
    layers: Vec<usize>,
}

impl Plan {
    fn new(model: &LoadedModel, request: &MapStudyRequest) -> Result<Self, StudyError> {
        let num_layers = model.model.config().num_layers;
        let layer = *request
            .layer
            .resolve(num_layers)?
            .last()
            .ok_or_else(|| StudyError::Empty("no layer chosen".into()))?;
        let lengths: Vec<usize> = request.records.iter().map(|(_, s)| s.len()).collect();
        let chosen = choose_records(&lengths, request.level, request.max_points, request.seed);
        if chosen.is_empty() {
            return Err(StudyError::Empty(format!(
                "{} has no sequences",
                request.dataset_name
            )));
        }
        let subset: Vec<(String, String)> =
            chosen.iter().map(|&i| request.records[i].clone()).collect();
        let name = if chosen.len() == request.records.len() {
            request.dataset_name.clone()
        } else {
            format!(
                "{} ({} of {}, seed {})",
                request.dataset_name,
                chosen.len(),
                request.records.len(),
                request.seed
            )
        };
        Ok(Self {
            chosen,
            subset,
            name,
            layer,
            layers: (0..=num_layers).collect(),
        })
    }

    fn spec<'a>(&'a self, model: &LoadedModel, request: &MapStudyRequest) -> StoreSpec<'a> {
        let set = NamedRecords {
            name: &self.name,
            records: &self.subset,
        };
        let mut spec = store_spec(
            &request.store,
            set,
            &self.layers,
            super::embed_run::window_policy(model),
        );
        spec.per_residue = request.level == PointLevel::Residue;
        spec
    }
}

/// Time, RAM and disk of `request` on `model`.
pub fn estimate_map_study(
    model: &LoadedModel,
    request: &MapStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    let plan = Plan::new(model, request)?;
    let spec = plan.spec(model, request);
    let store = FeatureStore::plan(model, &spec)?;
    let config = model.model.config();
    let residues: usize = plan.subset.iter().map(|(_, s)| s.len()).sum();
    let embed = planned_embed_seconds(model, &plan.subset, &store);
    let points = match request.level {
        PointLevel::Protein => plan.subset.len(),
        PointLevel::Residue => residues.min(request.max_points),
    };
    let forward = fill_batch_bytes(config, &request.store, plan.layers.len());
    // Features, plus t-SNE's neighbour lists and gradients (about 100 floats a point).
    let mapping = (points * (config.embed_dim + 100) * 4 * 2) as u64;
    let projection_seconds = match &request.projection {
        Projection::Tsne(p) => points as f64 * p.iterations as f64 * 2e-6,
        Projection::Pca { .. } => points as f64 * config.embed_dim as f64 * 1e-8,
    };
    Ok(StudyEstimate {
        embed_seconds: embed,
        fit_seconds: projection_seconds,
        extra_ram: forward.max(mapping),
        weights: (config.parameter_count() * 4) as u64,
        disk: store.bytes_to_reserve,
        store_root: request.store.root.clone(),
    })
}

/// Chooses, embeds (or reuses) and projects; refuses first if it cannot fit.
pub fn run_map_study(
    model: &LoadedModel,
    request: &MapStudyRequest,
    ctx: &JobCtx,
) -> Result<MapStudy, StudyError> {
    let estimate = estimate_map_study(model, request)?;
    estimate.check_resources()?;
    let plan = Plan::new(model, request)?;
    let total = estimate.seconds().max(1e-3);
    let phases = ctx.phases(&[
        estimate.embed_seconds.max(1e-3 * total),
        estimate.fit_seconds.max(1e-3 * total),
    ]);
    let (store, fill) = ensure_store(model, &plan.spec(model, request), &phases[0])?;
    let points = read_points(&store, &plan, request)?;
    phases[1].set_stage(match request.projection {
        Projection::Tsne(_) => format!("projecting {} points (t-SNE)", points.features.nrows()),
        Projection::Pca { .. } => format!("projecting {} points (PCA)", points.features.nrows()),
    });
    let projected = project(&points.features, &request.projection, &phases[1])?;
    ctx.checkpoint(1.0)?;
    Ok(MapStudy {
        layer: plan.layer,
        summary: format!(
            "{} of {} points, layer {}: {}. {}",
            projected.method,
            points.features.nrows(),
            plan.layer,
            projected.summary,
            sampling_statement(request, &plan, &points)
        ),
        points,
        projected,
        residues_embedded: fill.residues_embedded,
        store: store.dir().to_owned(),
    })
}

/// What the map shows of the data set: "5000 residues from 10 of 288 proteins (…)".
fn sampling_statement(request: &MapStudyRequest, plan: &Plan, points: &MapPoints) -> String {
    let total_proteins = request.records.len();
    match request.level {
        PointLevel::Protein if plan.chosen.len() == total_proteins => {
            format!("All {total_proteins} proteins.")
        }
        PointLevel::Protein => format!(
            "{} of {total_proteins} proteins (a seeded sample, seed {}).",
            plan.chosen.len(),
            request.seed
        ),
        PointLevel::Residue => {
            let all: usize = request.records.iter().map(|(_, s)| s.len()).sum();
            let proteins: std::collections::BTreeSet<usize> =
                points.protein.iter().copied().collect();
            let pool = if plan.chosen.len() == total_proteins {
                "all proteins".to_owned()
            } else {
                format!(
                    "a seeded sample of {} proteins, {RESIDUE_POOL_FACTOR}x the points",
                    plan.chosen.len()
                )
            };
            format!(
                "{} of the set's {all} residues, from {} of {total_proteins} proteins (stratified \
                 by protein length over {pool}, seed {}).",
                points.features.nrows(),
                proteins.len(),
                request.seed
            )
        }
    }
}

/// The layer's points from the store: per-protein means, or the first `max_points` residue
/// rows of the chosen proteins.
fn read_points(
    store: &FeatureStore,
    plan: &Plan,
    request: &MapStudyRequest,
) -> Result<MapPoints, StudyError> {
    match request.level {
        PointLevel::Protein => Ok(MapPoints {
            features: read_means(store, plan.layer)?,
            protein: plan.chosen.clone(),
            position: None,
        }),
        PointLevel::Residue => {
            let offsets = store.row_offsets();
            let lengths: Vec<usize> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
            let picked = stratified_residues(&lengths, request.max_points, request.seed);
            let rows: Vec<usize> = picked.iter().map(|&(k, p)| offsets[k] + p).collect();
            let features = LayerReader::open(store, plan.layer)?.gather(&rows)?;
            Ok(MapPoints {
                features,
                protein: picked.iter().map(|&(k, _)| plan.chosen[k]).collect(),
                position: Some(picked.iter().map(|&(_, p)| p).collect()),
            })
        }
    }
}

/// A projection's coordinates and description.
#[derive(Debug, Clone)]
pub struct Projected {
    /// `(points, components)`.
    pub coordinates: Array2<f32>,
    /// Column names.
    pub columns: Vec<String>,
    /// Axis titles (PCA).
    pub axes: Option<(String, String)>,
    /// `t-SNE` or `PCA`.
    pub method: &'static str,
    /// KL divergence or explained variance.
    pub summary: String,
}

/// Projects `features` `(points, dim)` (also used on points read from an `.npy` file).
pub fn project(
    features: &Array2<f32>,
    projection: &Projection,
    ctx: &JobCtx,
) -> Result<Projected, StudyError> {
    match projection {
        Projection::Tsne(params) => {
            let map = tsne(features.view(), params, ctx)?;
            Ok(Projected {
                coordinates: map.embedding,
                columns: vec!["x".into(), "y".into()],
                axes: None,
                method: "t-SNE",
                summary: format!(
                    "KL {:.3} (perplexity {:.0})",
                    map.kl_divergence, map.perplexity
                ),
            })
        }
        Projection::Pca { components, seed } => {
            let pca = fit_pca(features.view(), (*components).max(2), *seed)?;
            let coordinates = pca.transform(features.view())?;
            let r = &pca.explained_variance_ratio;
            let share = |k: usize| 100.0 * r.get(k).copied().unwrap_or(0.0);
            Ok(Projected {
                columns: (1..=coordinates.ncols())
                    .map(|c| format!("pc{c}"))
                    .collect(),
                coordinates,
                axes: Some((
                    format!("PC1 ({:.1}%)", share(0)),
                    format!("PC2 ({:.1}%)", share(1)),
                )),
                method: "PCA",
                summary: format!("PC1 {:.1}%, PC2 {:.1}% of the variance", share(0), share(1)),
            })
        }
    }
}
