//! The embedding-map study, the one workflow behind the GUI's Embedding map and
//! `project tsne | pca`, a [`Study`] on the study engine: choose the points (proteins, or residues stratified by protein, seeded),
//! embed those proteins once into a feature store at every layer (means only for protein
//! points), read the asked layer's points from it, and project them by t-SNE or PCA. A map of
//! another layer of the same points does no forward pass. Peak RAM: the model, one forward
//! batch, the points' features and the projection's state.

use std::path::PathBuf;

use ndarray::Array2;

use super::projection_run::{MapPoints, PointLevel, choose_records, stratified_residues};
use super::study::{LayerCost, StoredSet, Study, Sweep};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::StudyEstimate;
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::params::{real_in, whole_in};
use crate::projection::{TsneParams, fit_pca, tsne};
use crate::provenance::thousands;
use crate::store::{FeatureStore, LayerReader, StoreOptions, read_means};

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

/// The most points a map may have.
pub const MAX_MAP_POINTS: usize = 1_000_000;

impl Projection {
    /// Checks the projection's settings (t-SNE's perplexity, iterations, theta; PCA's
    /// components).
    pub fn check(&self) -> Result<(), StudyError> {
        match self {
            Self::Tsne(p) => {
                real_in(
                    "perplexity (--perplexity)",
                    p.perplexity,
                    (0.0, 10_000.0),
                    true,
                )?;
                whole_in("iterations (--iterations)", p.iterations, 1..=100_000)?;
                real_in("theta (--theta)", p.theta, (0.0, 1.0), false)?;
                real_in(
                    "early exaggeration (--exaggeration)",
                    p.early_exaggeration,
                    (1.0, 1000.0),
                    false,
                )?;
                if let Some(rate) = p.learning_rate {
                    real_in("learning rate (--learning-rate)", rate, (0.0, 1e7), true)?;
                }
            }
            Self::Pca { components, .. } => {
                whole_in("components (--components)", *components, 2..=1024)?;
            }
        }
        Ok(())
    }
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
    /// The model and the sampled set it mapped.
    pub provenance: crate::provenance::Provenance,
}

/// The records a map's points come from.
struct Chosen {
    /// Indices into the request's records.
    indices: Vec<usize>,
    /// The stored set holding them.
    set: StoredSet,
}

impl MapStudyRequest {
    /// The chosen records and the store holding them (a seeded sample of the set when it has
    /// more proteins than the map needs).
    fn chosen(&self) -> Chosen {
        let lengths: Vec<usize> = self.records.iter().map(|(_, s)| s.len()).collect();
        let indices = choose_records(&lengths, self.level, self.max_points, self.seed);
        let name = if indices.len() == self.records.len() {
            self.dataset_name.clone()
        } else {
            format!(
                "{} ({} of {}, seed {})",
                self.dataset_name,
                indices.len(),
                self.records.len(),
                self.seed
            )
        };
        let set = StoredSet {
            name,
            records: indices.iter().map(|&i| self.records[i].clone()).collect(),
            per_residue: self.level == PointLevel::Residue,
        };
        Chosen { indices, set }
    }

    /// Points the map will have.
    fn point_count(&self) -> usize {
        let chosen = self.chosen();
        match self.level {
            PointLevel::Protein => chosen.set.records.len(),
            PointLevel::Residue => {
                let residues: usize = chosen.set.records.iter().map(|(_, s)| s.len()).sum();
                residues.min(self.max_points)
            }
        }
    }
}

/// One map: the points read from the store and their projection.
#[derive(Debug, Clone)]
pub struct MapRun {
    /// The layer mapped.
    pub layer: usize,
    /// What each point is, with its features.
    pub points: MapPoints,
    /// The coordinates.
    pub projected: Projected,
}

impl Study for MapStudyRequest {
    /// The indices of the chosen records.
    type Prepared = Vec<usize>;
    type Run = MapRun;
    const BEST_RULE: &'static str = "one layer is mapped";
    const LAYER_STAGE: &'static str = "projecting";

    fn check(&self) -> Result<(), StudyError> {
        whole_in("points (--max-points)", self.max_points, 2..=MAX_MAP_POINTS)?;
        self.projection.check()?;
        if self.records.is_empty() {
            return Err(StudyError::Empty(format!(
                "{} has no sequences",
                self.dataset_name
            )));
        }
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layer, false, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        vec![self.chosen().set]
    }

    /// The last layer of the choice.
    fn analysed_layers(&self, num_layers: usize) -> Result<Vec<usize>, StudyError> {
        let layers = self.layer.resolve(num_layers)?;
        Ok(layers.last().into_iter().copied().collect())
    }

    /// Every layer: a map of another layer of the same points does no forward pass.
    fn stored_layers(&self, _: &[usize], num_layers: usize) -> Vec<usize> {
        (0..=num_layers).collect()
    }

    fn layer_cost(&self, model: &LoadedModel) -> LayerCost {
        let dim = model.model.config().embed_dim;
        let points = self.point_count();
        LayerCost {
            seconds: match &self.projection {
                Projection::Tsne(p) => points as f64 * p.iterations as f64 * 2e-6,
                Projection::Pca { .. } => points as f64 * dim as f64 * 1e-8,
            },
            // Features, plus t-SNE's neighbour lists and gradients (about 100 floats a point).
            ram: (points * (dim + 100) * 4 * 2) as u64,
        }
    }

    fn prepare(
        &self,
        _: &LoadedModel,
        _: &[FeatureStore],
        _: &JobCtx,
    ) -> Result<Vec<usize>, StudyError> {
        Ok(self.chosen().indices)
    }

    fn run_layer(
        &self,
        chosen: &Vec<usize>,
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<MapRun, StudyError> {
        let points = read_points(&stores[0], chosen, layer, self)?;
        let method = match self.projection {
            Projection::Tsne(_) => "t-SNE",
            Projection::Pca { .. } => "PCA",
        };
        ctx.set_stage(format!(
            "projecting {} points ({method})",
            points.features.nrows()
        ));
        let projected = project(&points.features, &self.projection, ctx)?;
        Ok(MapRun {
            layer,
            points,
            projected,
        })
    }

    fn layer_score(_: &MapRun) -> f64 {
        0.0
    }
}

/// Time, RAM and disk of `request` on `model`.
pub fn estimate_map_study(
    model: &LoadedModel,
    request: &MapStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    estimate_study(model, request)
}

/// Chooses, embeds (or reuses) and projects; refuses first if it cannot fit.
pub fn run_map_study(
    model: &LoadedModel,
    request: &MapStudyRequest,
    ctx: &JobCtx,
) -> Result<MapStudy, StudyError> {
    let mut outcome = run_study(model, request, ctx)?;
    let Some(MapRun {
        layer,
        points,
        projected,
    }) = outcome.sweep.runs.pop()
    else {
        return Err(StudyError::Empty("no layer chosen".into()));
    };
    let chosen = &outcome.trained.prepared;
    Ok(MapStudy {
        layer,
        summary: format!(
            "{} of {} points, layer {layer}: {}. {}",
            projected.method,
            points.features.nrows(),
            projected.summary,
            sampling_statement(request, chosen, &points)
        ),
        points,
        projected,
        residues_embedded: outcome.sweep.cost.residues_embedded,
        store: outcome.trained.stores[0].dir().to_owned(),
        provenance: outcome.sweep.provenance,
    })
}

/// What the map shows of the data set, in plain words: "5,000 of the set's 158,536 residues, sampled from 183 of 288
/// proteins, evenly by protein length (seed 42)."
fn sampling_statement(request: &MapStudyRequest, chosen: &[usize], points: &MapPoints) -> String {
    let total_proteins = request.records.len();
    match request.level {
        PointLevel::Protein if chosen.len() == total_proteins => {
            format!("All {total_proteins} proteins.")
        }
        PointLevel::Protein => format!(
            "{} of {total_proteins} proteins (a seeded sample, seed {}).",
            chosen.len(),
            request.seed
        ),
        PointLevel::Residue => {
            let all: usize = request.records.iter().map(|(_, s)| s.len()).sum();
            let proteins: std::collections::BTreeSet<usize> =
                points.protein.iter().copied().collect();
            format!(
                "{} of the set's {} residues, sampled from {} of {} proteins, evenly by protein \
                 length (seed {}).",
                thousands(points.features.nrows()),
                thousands(all),
                thousands(proteins.len()),
                thousands(total_proteins),
                request.seed
            )
        }
    }
}

/// The layer's points from the store: per-protein means, or the first `max_points` residue
/// rows of the chosen proteins.
fn read_points(
    store: &FeatureStore,
    chosen: &[usize],
    layer: usize,
    request: &MapStudyRequest,
) -> Result<MapPoints, StudyError> {
    match request.level {
        PointLevel::Protein => Ok(MapPoints {
            features: read_means(store, layer)?,
            protein: chosen.to_vec(),
            position: None,
        }),
        PointLevel::Residue => {
            let offsets = store.row_offsets();
            let lengths: Vec<usize> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
            let picked = stratified_residues(&lengths, request.max_points, request.seed);
            let rows: Vec<usize> = picked.iter().map(|&(k, p)| offsets[k] + p).collect();
            let features = LayerReader::open(store, layer)?.gather(&rows)?;
            Ok(MapPoints {
                features,
                protein: picked.iter().map(|&(k, _)| chosen[k]).collect(),
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
    /// Axis titles: `PC1 (46.3%)` with the share of variance, or `t-SNE 1`.
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
                axes: Some(("t-SNE 1".into(), "t-SNE 2".into())),
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
