//! Barnes-Hut t-SNE (van der Maaten 2014) with openTSNE's defaults (Poličar et al. 2024).
//!
//! Gradient (no factor 4, as in bhtsne and openTSNE, which sets the learning rate to match):
//! `dC/dy_i = exaggeration * sum_j p_ij w_ij (y_i - y_j) - sum_j w_ij^2 (y_i - y_j) / Z`,
//! `w_ij = 1 / (1 + |y_i - y_j|^2)`, `Z = sum_{k != l} w_kl`; the second sum comes from the
//! quadtree. Updates use momentum and per-coordinate gains (Jacobs 1988), step norms are
//! clipped to 5 per point, and the embedding is re-centred each iteration.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::affinities::{
    Affinities, check_tsne_input, effective_perplexity, perplexity_affinities,
};
use super::error::ProjectionError;
use super::pca::fit_pca;
use super::quadtree::QuadTree;
use crate::jobs::JobCtx;

/// Above this many points the KL divergence uses the Barnes-Hut estimate of `Z`.
const EXACT_KL_MAX_POINTS: usize = 20_000;

/// t-SNE settings; [`Default`] is openTSNE's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TsneParams {
    /// Effective number of neighbours (clamped to `(n - 1) / 3`).
    pub perplexity: f64,
    /// Gradient-descent iterations in total, early exaggeration included.
    pub iterations: usize,
    /// Attraction multiplier of the first phase.
    pub early_exaggeration: f64,
    /// Iterations of the first phase.
    pub early_exaggeration_iterations: usize,
    /// Step size; `None` = max(200, n / exaggeration) (Belkina et al. 2019).
    pub learning_rate: Option<f64>,
    /// Barnes-Hut accuracy (0 = exact, slower).
    pub theta: f64,
    /// Reduce to this many principal components first (0 = never).
    pub pca_dimensions: usize,
    /// Seed of the PCA's random start.
    pub seed: u64,
}

impl Default for TsneParams {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 750,
            early_exaggeration: 12.0,
            early_exaggeration_iterations: 250,
            learning_rate: None,
            theta: 0.5,
            pca_dimensions: 50,
            seed: 42,
        }
    }
}

/// A t-SNE map.
#[derive(Debug, Clone)]
pub struct TsneResult {
    /// One row per input point, `[n, 2]`.
    pub embedding: Array2<f32>,
    /// KL(P || Q) of the final map (nats).
    pub kl_divergence: f64,
    /// The perplexity used (after clamping).
    pub perplexity: f64,
}

/// Maps `points` (`[n, d]`) to 2-D. Progress: 5% PCA, 10% affinities, 85% iterations; a
/// cancel is honoured at every block and iteration.
pub fn tsne(
    points: ArrayView2<'_, f32>,
    params: &TsneParams,
    ctx: &JobCtx,
) -> Result<TsneResult, ProjectionError> {
    check_tsne_input(points)?;
    let (n, d) = points.dim();
    // PCA: to `pca_dimensions` when the input is wider, and to 2 for the initialisation.
    let reduce = params.pca_dimensions > 0 && d > params.pca_dimensions;
    let width = if reduce { params.pca_dimensions } else { 2 };
    let pca = fit_pca(points, width.min(n), params.seed)?;
    let projected = pca.transform(points)?;
    let input: ArrayView2<'_, f32> = if reduce {
        projected.view()
    } else {
        points.view()
    };
    ctx.checkpoint(0.05)?;
    let perplexity = effective_perplexity(params.perplexity, n);
    let p = perplexity_affinities(input, perplexity, &ctx.scoped(0.05, 0.15))?;

    let mut y = initial_positions(&projected);
    let mut update = vec![0.0f64; 2 * n];
    let mut gains = vec![1.0f64; 2 * n];
    for iteration in 0..params.iterations {
        let early = iteration < params.early_exaggeration_iterations;
        let (exaggeration, momentum) = if early {
            (params.early_exaggeration, 0.5)
        } else {
            (1.0, 0.8)
        };
        let learning_rate = params
            .learning_rate
            .unwrap_or_else(|| (n as f64 / exaggeration).max(200.0));
        let gradient = gradient(&p, &y, exaggeration, params.theta);
        for k in 0..2 * n {
            let flipped = (gradient[k] > 0.0) != (update[k] > 0.0) || update[k] == 0.0;
            gains[k] = if flipped {
                gains[k] + 0.2
            } else {
                gains[k] * 0.8
            }
            .max(0.01);
            update[k] = momentum * update[k] - learning_rate * gains[k] * gradient[k];
        }
        for step in update.chunks_exact_mut(2) {
            let norm = (step[0] * step[0] + step[1] * step[1]).sqrt();
            if norm > 5.0 {
                step[0] *= 5.0 / norm;
                step[1] *= 5.0 / norm;
            }
        }
        let mut mean = [0.0; 2];
        for (k, (yk, uk)) in y.iter_mut().zip(&update).enumerate() {
            *yk += uk;
            mean[k % 2] += *yk / n as f64;
        }
        for (k, yk) in y.iter_mut().enumerate() {
            *yk -= mean[k % 2];
        }
        ctx.checkpoint(0.15 + 0.85 * (iteration + 1) as f32 / params.iterations.max(1) as f32)?;
    }
    let embedding = Array2::from_shape_vec((n, 2), y.iter().map(|&v| v as f32).collect())
        .map_err(|e| ProjectionError::Shape(e.to_string()))?;
    let kl_divergence = kl_of(&p, &y, params.theta);
    Ok(TsneResult {
        embedding,
        kl_divergence,
        perplexity,
    })
}

/// KL(P || Q) of a 2-D map `embedding` (`[n, 2]`) under affinities `p` (nats): exact `Z` up
/// to 20,000 points, Barnes-Hut (theta 0.5) above.
pub fn kl_divergence(
    p: &Affinities,
    embedding: ArrayView2<'_, f32>,
) -> Result<f64, ProjectionError> {
    if embedding.ncols() != 2 || embedding.nrows() != p.len() {
        return Err(ProjectionError::Shape(format!(
            "a map of {} x {} for {} points (need n x 2)",
            embedding.nrows(),
            embedding.ncols(),
            p.len()
        )));
    }
    let y: Vec<f64> = embedding.iter().map(|&v| f64::from(v)).collect();
    Ok(kl_of(p, &y, 0.5))
}

fn kl_of(p: &Affinities, y: &[f64], theta: f64) -> f64 {
    let n = p.len();
    let z: f64 = if n <= EXACT_KL_MAX_POINTS {
        (0..n)
            .into_par_iter()
            .map(|i| {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| 1.0 / (1.0 + squared_distance(y, i, j)))
                    .sum::<f64>()
            })
            .sum()
    } else {
        let tree = QuadTree::new(y);
        (0..n)
            .into_par_iter()
            .map(|i| tree.repulsion(i, theta).1)
            .sum()
    };
    let cross: f64 = (0..n)
        .into_par_iter()
        .map(|i| {
            p.row(i)
                .filter(|&(_, pij)| pij > 0.0)
                .map(|(j, pij)| pij * (pij.ln() + (1.0 + squared_distance(y, i, j)).ln()))
                .sum::<f64>()
        })
        .sum();
    cross + z.ln()
}

fn squared_distance(y: &[f64], i: usize, j: usize) -> f64 {
    let (dx, dy) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
    dx * dx + dy * dy
}

/// `[2n]` gradient of the KL divergence at `y`.
fn gradient(p: &Affinities, y: &[f64], exaggeration: f64, theta: f64) -> Vec<f64> {
    let n = p.len();
    let tree = QuadTree::new(y);
    let repulsion: Vec<([f64; 2], f64)> = (0..n)
        .into_par_iter()
        .map(|i| tree.repulsion(i, theta))
        .collect();
    let z: f64 = repulsion
        .iter()
        .map(|r| r.1)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let mut gradient = vec![0.0; 2 * n];
    gradient.par_chunks_mut(2).enumerate().for_each(|(i, g)| {
        let mut attraction = [0.0; 2];
        for (j, pij) in p.row(i) {
            let (dx, dy) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
            let w = pij / (1.0 + dx * dx + dy * dy);
            attraction[0] += w * dx;
            attraction[1] += w * dy;
        }
        let (force, _) = repulsion[i];
        g[0] = exaggeration * attraction[0] - force[0] / z;
        g[1] = exaggeration * attraction[1] - force[1] / z;
    });
    gradient
}

/// openTSNE's start: the first two principal components, scaled so the first has standard
/// deviation 1e-4.
fn initial_positions(projected: &Array2<f32>) -> Vec<f64> {
    let n = projected.nrows();
    let column = |c: usize| -> Vec<f64> {
        if c < projected.ncols() {
            projected.column(c).iter().map(|&v| f64::from(v)).collect()
        } else {
            vec![0.0; n]
        }
    };
    let (x, y) = (column(0), column(1));
    let mean = x.iter().sum::<f64>() / n as f64;
    let std = (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt();
    let scale = if std > 0.0 { 1e-4 / std } else { 1.0 };
    x.iter()
        .zip(&y)
        .flat_map(|(a, b)| [a * scale, b * scale])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Three well-separated Gaussian clusters in 20-D.
    fn clusters(per_cluster: usize) -> (Array2<f32>, Vec<usize>) {
        let mut rng = SplitMix64::new(11);
        let mut points = Array2::<f32>::zeros((3 * per_cluster, 20));
        let mut labels = Vec::new();
        for (row, mut values) in points.outer_iter_mut().enumerate() {
            let cluster = row / per_cluster;
            labels.push(cluster);
            for (j, v) in values.iter_mut().enumerate() {
                *v = rng.normals(1, 1.0)[0] + if j == cluster { 12.0 } else { 0.0 };
            }
        }
        (points, labels)
    }

    #[test]
    fn separates_clusters_and_lowers_the_kl_divergence() {
        let (points, labels) = clusters(60);
        let params = TsneParams {
            perplexity: 15.0,
            iterations: 300,
            early_exaggeration_iterations: 100,
            ..TsneParams::default()
        };
        let map = tsne(points.view(), &params, &JobCtx::default()).expect("t-SNE");
        assert_eq!(map.embedding.dim(), (180, 2));
        // Each point's nearest map neighbour is in its own cluster.
        let e = &map.embedding;
        let mut agree = 0;
        for i in 0..180 {
            let nearest = (0..180)
                .filter(|&j| j != i)
                .min_by(|&a, &b| {
                    let da = (e[(i, 0)] - e[(a, 0)]).powi(2) + (e[(i, 1)] - e[(a, 1)]).powi(2);
                    let db = (e[(i, 0)] - e[(b, 0)]).powi(2) + (e[(i, 1)] - e[(b, 1)]).powi(2);
                    da.total_cmp(&db)
                })
                .unwrap_or(i);
            agree += usize::from(labels[nearest] == labels[i]);
        }
        assert_eq!(agree, 180);
        // The optimised map has a lower KL than the (PCA) start and a random layout.
        let p = perplexity_affinities(points.view(), 15.0, &JobCtx::default()).expect("P");
        let mut rng = SplitMix64::new(1);
        let random = Array2::from_shape_vec((180, 2), rng.normals(360, 10.0)).expect("shape");
        let kl_random = kl_divergence(&p, random.view()).expect("kl");
        assert!(
            map.kl_divergence < 0.5 * kl_random,
            "{} vs {kl_random}",
            map.kl_divergence
        );
        assert!(
            (kl_divergence(&p, map.embedding.view()).expect("kl") - map.kl_divergence).abs() < 1e-3
        );
    }

    #[test]
    fn cancels_promptly_and_rejects_tiny_inputs() {
        let (points, _) = clusters(30);
        let ctx = JobCtx::default();
        ctx.cancel();
        let err = tsne(points.view(), &TsneParams::default(), &ctx).expect_err("cancelled");
        assert!(matches!(err, ProjectionError::Cancelled(_)));
        let err = tsne(
            points.slice(ndarray::s![..3, ..]),
            &TsneParams::default(),
            &JobCtx::default(),
        )
        .expect_err("3 points");
        assert!(err.to_string().contains("at least 4 points"));
    }
}
