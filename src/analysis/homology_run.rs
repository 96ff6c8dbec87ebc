//! One layer's remote-homology scores: cosine nearest neighbours of ASTRAL domains' mean
//! embeddings, Hit-10 and AUC at the fold and superfamily levels
//! ([`super::homology_study`] runs them over layers from a feature store).

use crate::data::ScopDomain;
use crate::jobs::JobCtx;
use crate::probes::{HomologyMetrics, HomologySearchError, homology_scores, scop_labels};

/// Fold- and superfamily-level scores of one layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HomologyRun {
    /// Representation layer.
    pub layer: usize,
    /// Fold level.
    pub fold: HomologyMetrics,
    /// Superfamily level.
    pub superfamily: HomologyMetrics,
}

/// Fold- and superfamily-level scores of one layer's domain vectors (`vectors[k]` belongs to
/// `domains[k]`), by the blocked search (no `n × n` matrix); stops when `ctx` is cancelled.
pub fn score_homology(
    layer: usize,
    vectors: &[Vec<f32>],
    domains: &[ScopDomain],
    ctx: &JobCtx,
) -> Result<HomologyRun, HomologySearchError> {
    let labels: Vec<_> = domains.iter().map(|d| scop_labels(&d.sccs)).collect();
    let [fold, superfamily] = homology_scores(vectors, &labels, |_| !ctx.is_cancelled())?;
    Ok(HomologyRun {
        layer,
        fold,
        superfamily,
    })
}
