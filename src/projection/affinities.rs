//! t-SNE input affinities: Gaussian conditional probabilities over each point's exact
//! `3 * perplexity` nearest neighbours, calibrated to the perplexity by bisection and
//! symmetrised, `P = (P_j|i + P_i|j) / 2n` (van der Maaten 2014, section 4.1).

use candle_core::{Device, Tensor};
use ndarray::ArrayView2;
use rayon::prelude::*;

use super::error::{ProjectionError, check_finite};
use crate::jobs::JobCtx;

/// Rows of the GEMM distance blocks (a block is `ROWS x n` f32).
const BLOCK_ROWS: usize = 256;

/// A sparse symmetric joint distribution over point pairs (CSR), summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Affinities {
    /// Row `i`'s entries are `indptr[i]..indptr[i + 1]`, `[n + 1]`.
    pub indptr: Vec<usize>,
    /// Column (neighbour) of each entry.
    pub indices: Vec<u32>,
    /// `p_ij` of each entry.
    pub values: Vec<f64>,
}

impl Affinities {
    /// Points.
    pub fn len(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` as (neighbour, p) pairs.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.indptr[i]..self.indptr[i + 1];
        self.indices[range.clone()]
            .iter()
            .map(|&j| j as usize)
            .zip(self.values[range].iter().copied())
    }
}

/// Fewest points t-SNE accepts.
const MIN_POINTS: usize = 4;

/// Rejects inputs t-SNE cannot map: fewer than 4 points, or non-finite values.
pub(crate) fn check_tsne_input(points: ArrayView2<'_, f32>) -> Result<(), ProjectionError> {
    if points.nrows() < MIN_POINTS {
        return Err(ProjectionError::TooFewPoints {
            method: "t-SNE",
            min: MIN_POINTS,
            got: points.nrows(),
        });
    }
    check_finite(points)
}

/// The perplexity used for `n` points: `perplexity` clamped to `1..=(n - 1) / 3`, so that
/// `3 * perplexity` neighbours exist.
pub(crate) fn effective_perplexity(perplexity: f64, n: usize) -> f64 {
    perplexity.clamp(1.0, (n.max(MIN_POINTS) - 1) as f64 / 3.0)
}

/// Affinities of `points` (`[n, d]`) at `perplexity` (clamped to `(n - 1) / 3` for small sets).
/// Reports progress over `0..=1` through `ctx` per distance block.
pub fn perplexity_affinities(
    points: ArrayView2<'_, f32>,
    perplexity: f64,
    ctx: &JobCtx,
) -> Result<Affinities, ProjectionError> {
    check_tsne_input(points)?;
    let n = points.nrows();
    let perplexity = effective_perplexity(perplexity, n);
    let k = ((3.0 * perplexity).floor() as usize).clamp(1, n - 1);
    let neighbours = nearest_neighbours(points, k, ctx)?;
    let conditional: Vec<Vec<f64>> = neighbours
        .par_iter()
        .map(|row| calibrate(row, perplexity))
        .collect();
    Ok(symmetrise(&neighbours, &conditional))
}

/// The `k` nearest other points of each point as (index, squared distance), nearest first.
fn nearest_neighbours(
    points: ArrayView2<'_, f32>,
    k: usize,
    ctx: &JobCtx,
) -> Result<Vec<Vec<(u32, f32)>>, ProjectionError> {
    let (n, d) = points.dim();
    let owned = points.as_standard_layout();
    let flat = owned.as_slice().unwrap_or(&[]);
    let all = Tensor::from_slice(flat, (n, d), &Device::Cpu)?;
    let norms: Vec<f32> = flat
        .par_chunks(d)
        .map(|row| row.iter().map(|v| v * v).sum())
        .collect();
    let all_t = all.t()?.contiguous()?;
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(BLOCK_ROWS) {
        let rows = BLOCK_ROWS.min(n - start);
        let block = all.narrow(0, start, rows)?;
        let dots = block.matmul(&all_t)?.flatten_all()?.to_vec1::<f32>()?;
        let block_neighbours: Vec<Vec<(u32, f32)>> = dots
            .par_chunks(n)
            .enumerate()
            .map(|(r, dot_row)| {
                let i = start + r;
                let mut candidates: Vec<(u32, f32)> = dot_row
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, &dot)| (j as u32, (norms[i] + norms[j] - 2.0 * dot).max(0.0)))
                    .collect();
                candidates.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
                candidates.truncate(k);
                candidates.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                candidates
            })
            .collect();
        out.extend(block_neighbours);
        ctx.checkpoint((start + rows) as f32 / n as f32)?;
    }
    Ok(out)
}

/// `P_j|i` over one point's neighbours with entropy `ln(perplexity)`, by bisection on the
/// Gaussian precision.
fn calibrate(neighbours: &[(u32, f32)], perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let nearest = f64::from(neighbours.first().map_or(0.0, |n| n.1));
    let distances: Vec<f64> = neighbours
        .iter()
        .map(|&(_, d)| f64::from(d) - nearest)
        .collect();
    let (mut beta, mut low, mut high) = (1.0f64, 0.0f64, f64::INFINITY);
    let mut p = vec![0.0; distances.len()];
    for _ in 0..200 {
        let mut sum = 0.0;
        for (pj, &dj) in p.iter_mut().zip(&distances) {
            *pj = (-beta * dj).exp();
            sum += *pj;
        }
        let sum = sum.max(f64::MIN_POSITIVE);
        let weighted: f64 = p.iter().zip(&distances).map(|(pj, dj)| pj * dj).sum();
        let entropy = sum.ln() + beta * weighted / sum;
        for pj in &mut p {
            *pj /= sum;
        }
        if (entropy - target).abs() < 1e-5 {
            break;
        }
        if entropy > target {
            low = beta;
            beta = if high.is_finite() {
                (beta + high) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            high = beta;
            beta = (beta + low) / 2.0;
        }
    }
    p
}

/// `(P + P^T) / 2n` as CSR with sorted columns.
fn symmetrise(neighbours: &[Vec<(u32, f32)>], conditional: &[Vec<f64>]) -> Affinities {
    let n = neighbours.len();
    let mut triplets: Vec<(u32, u32, f64)> = Vec::with_capacity(2 * n * neighbours[0].len());
    for (i, (row, p)) in neighbours.iter().zip(conditional).enumerate() {
        for (&(j, _), &pij) in row.iter().zip(p) {
            triplets.push((i as u32, j, pij));
            triplets.push((j, i as u32, pij));
        }
    }
    triplets.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut indptr = vec![0usize; n + 1];
    let mut indices = Vec::with_capacity(triplets.len());
    let mut values: Vec<f64> = Vec::with_capacity(triplets.len());
    let scale = 1.0 / (2.0 * n as f64);
    let mut last: Option<(u32, u32)> = None;
    for (i, j, p) in triplets {
        if last == Some((i, j)) {
            if let Some(v) = values.last_mut() {
                *v += p * scale;
            }
            continue;
        }
        last = Some((i, j));
        indptr[i as usize + 1] += 1;
        indices.push(j);
        values.push(p * scale);
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    Affinities {
        indptr,
        indices,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn calibration_reaches_the_perplexity() {
        let neighbours: Vec<(u32, f32)> = (0..30).map(|j| (j, j as f32 * 0.37 + 1.0)).collect();
        let p = calibrate(&neighbours, 10.0);
        let entropy: f64 = -p
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|x| x * x.ln())
            .sum::<f64>();
        assert!(
            (entropy.exp() - 10.0).abs() < 1e-3,
            "perplexity {}",
            entropy.exp()
        );
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn affinities_are_symmetric_sum_to_one_and_find_true_neighbours() {
        // Points on a line at 0, 1, 2, ...: each point's nearest neighbours are its next ones.
        let points = Array2::from_shape_fn((40, 3), |(i, j)| if j == 0 { i as f32 } else { 0.0 });
        let p = perplexity_affinities(points.view(), 3.0, &JobCtx::default()).expect("P");
        assert_eq!(p.len(), 40);
        assert!((p.values.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let get = |i: usize, j: usize| p.row(i).find(|&(c, _)| c == j).map(|e| e.1);
        for i in 0..40 {
            for (j, v) in p.row(i) {
                assert_eq!(get(j, i), Some(v), "p[{i},{j}] = p[{j},{i}]");
                assert!(i.abs_diff(j) <= 9, "only the 9 nearest on either side");
            }
        }
        assert!(get(10, 11).unwrap_or(0.0) > get(10, 14).unwrap_or(0.0));
    }
}
