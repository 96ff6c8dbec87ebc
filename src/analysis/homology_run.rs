//! Remote homology from sequences: mean-pooled embeddings of ASTRAL domains at one layer, cosine
//! nearest neighbours, Hit-10 and AUC at the fold and superfamily levels.

use super::embed_run::{EmbedError, EmbedRequest, embed_dataset, stack_means};
use super::jobs::{Cancelled, JobCtx};
use crate::data::ScopDomain;
use crate::model::LoadedModel;
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

/// Embeds `domains` once and scores every layer in `layers`.
pub fn run_homology(
    model: &LoadedModel,
    domains: &[ScopDomain],
    layers: &[usize],
    ctx: &JobCtx,
) -> Result<Vec<HomologyRun>, EmbedError> {
    let means = embed_domain_means(model, domains, layers, ctx)?;
    layers
        .iter()
        .zip(&means)
        .map(|(&layer, vectors)| {
            score_homology(layer, vectors, domains, ctx).map_err(|e| match e {
                HomologySearchError::Stopped => EmbedError::from(Cancelled),
                other => {
                    EmbedError::from(crate::model::ModelError::InvalidRequest(other.to_string()))
                }
            })
        })
        .collect()
}

/// Mean-pooled embeddings of `domains` at each layer in `layers`: one `[domains][embed_dim]`
/// matrix per layer, in the order of `layers`.
pub fn embed_domain_means(
    model: &LoadedModel,
    domains: &[ScopDomain],
    layers: &[usize],
    ctx: &JobCtx,
) -> Result<Vec<Vec<Vec<f32>>>, EmbedError> {
    let pairs: Vec<(String, String)> = domains
        .iter()
        .map(|d| (d.id.clone(), d.sequence.clone()))
        .collect();
    let request = EmbedRequest::for_probes(model, layers, false);
    let result = embed_dataset(model, &pairs, &request, None, ctx)?;
    layers
        .iter()
        .map(|&layer| Ok(stack_means(&result.embeddings, layer)?.to_vec2::<f32>()?))
        .collect()
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
