//! The remote-homology study, the one workflow behind the GUI's Homology view and
//! `probe homology`, a [`Study`] on the study engine: embed the SCOPe/ASTRAL domains once into a means-only feature store
//! (every layer asked for, resumable; no per-residue rows), then per layer read the domains'
//! mean embeddings from disk and score cosine nearest neighbours by the blocked search (Hit-10
//! and ROC AUC at the fold and superfamily levels). Peak RAM: the model, one forward batch, one
//! layer's domain vectors. The best layer: [`BEST_HOMOLOGY_LAYER`].

use super::homology_run::{HomologyRun, score_homology};
use super::study::{LayerCost, LayerSweep, StoredSet, Study, Sweep};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::{FIT_FLOPS_PER_CORE, StudyEstimate};
use std::path::Path;

use crate::data::{ScopDomain, read_astral, spread_evenly};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::store::{FeatureStore, StoreError, StoreOptions, read_means};

/// How the best layer is chosen.
pub const BEST_HOMOLOGY_LAYER: &str =
    "highest superfamily Hit-10 of the trained model (ties: the lower layer)";

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
    /// One run per layer, trained and untrained, the best layer ([`BEST_HOMOLOGY_LAYER`]) and
    /// the cost.
    pub sweep: LayerSweep<HomologyRun>,
    /// The domains, in the order of the vectors.
    pub domains: Vec<ScopDomain>,
    /// Unit-normalised mean embeddings at the best layer, `[domains][embed_dim]`.
    pub unit_vectors: Vec<Vec<f32>>,
    /// Hit-10 of a random ranking, `[fold, superfamily]` ([`crate::probes::chance_hit10`]).
    pub chance_hit10: [Option<f64>; 2],
}

impl HomologyStudyRequest {
    /// A request over the domains of the ASTRAL FASTA `astral`, at most `max_domains` of them
    /// spread evenly over the folds (all when `None`), every other field at its default: the
    /// one builder both shells start from.
    pub fn from_astral(astral: &Path, max_domains: Option<usize>) -> Result<Self, StudyError> {
        let domains = read_astral(astral)?;
        let domains = match max_domains {
            Some(n) => spread_evenly(domains, n),
            None => domains,
        };
        Ok(Self {
            domains,
            dataset_name: crate::store::dataset_label(astral),
            layers: Layers::Last,
            compare_untrained: false,
            store: StoreOptions::default(),
        })
    }
}

impl HomologyStudy {
    /// The best layer's run ([`BEST_HOMOLOGY_LAYER`]); a study has at least one layer.
    pub fn best_run(&self) -> &HomologyRun {
        self.sweep
            .best_run()
            .expect("run_homology_study returns at least one layer")
    }
}

/// Seconds of one layer's blocked search: `n^2 dim` multiply-adds.
fn score_seconds(domains: usize, dim: usize) -> f64 {
    2.0 * (domains * domains * dim) as f64
        / (FIT_FLOPS_PER_CORE * rayon::current_num_threads().max(1) as f64)
}

impl Study for HomologyStudyRequest {
    type Prepared = ();
    type Run = HomologyRun;
    const BEST_RULE: &'static str = BEST_HOMOLOGY_LAYER;
    const LAYER_STAGE: &'static str = "scoring";

    fn check(&self) -> Result<(), StudyError> {
        if self.domains.len() < 2 {
            return Err(StudyError::Empty(format!(
                "need at least 2 domains, {} has {}",
                self.dataset_name,
                self.domains.len()
            )));
        }
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layers, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        vec![StoredSet {
            name: self.dataset_name.clone(),
            records: self
                .domains
                .iter()
                .map(|d| (d.id.clone(), d.sequence.clone()))
                .collect(),
            per_residue: false,
        }]
    }

    fn layer_cost(&self, model: &LoadedModel) -> LayerCost {
        let dim = model.model.config().embed_dim;
        LayerCost {
            seconds: score_seconds(self.domains.len(), dim),
            ram: (self.domains.len() * dim * 4 * 3) as u64,
        }
    }

    fn prepare(&self, _: &LoadedModel, _: &[FeatureStore], _: &JobCtx) -> Result<(), StudyError> {
        Ok(())
    }

    fn run_layer(
        &self,
        _: &(),
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<HomologyRun, StudyError> {
        let vectors = means_rows(&stores[0], layer)?;
        Ok(score_homology(layer, &vectors, &self.domains, ctx)?)
    }

    fn layer_score(run: &HomologyRun) -> f64 {
        run.superfamily.hit10
    }
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_homology_study(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    estimate_study(model, request)
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_homology_study`]).
pub fn run_homology_study(
    model: &LoadedModel,
    request: &HomologyStudyRequest,
    ctx: &JobCtx,
) -> Result<HomologyStudy, StudyError> {
    let outcome = run_study(model, request, ctx)?;
    let Some(best) = outcome.sweep.best_run() else {
        return Err(StudyError::Empty("no layer was scored".into()));
    };
    let unit_vectors =
        crate::probes::unit_vectors(&means_rows(&outcome.trained.stores[0], best.layer)?);
    Ok(HomologyStudy {
        sweep: outcome.sweep,
        domains: request.domains.clone(),
        unit_vectors,
        chance_hit10: crate::probes::chance_hit10(
            &request
                .domains
                .iter()
                .map(|d| crate::probes::scop_labels(&d.sccs))
                .collect::<Vec<_>>(),
        ),
    })
}

/// The per-domain means of `layer`, `[domains][embed_dim]`.
fn means_rows(store: &FeatureStore, layer: usize) -> Result<Vec<Vec<f32>>, StoreError> {
    Ok(read_means(store, layer)?
        .outer_iter()
        .map(|row| row.to_vec())
        .collect())
}
