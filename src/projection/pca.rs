//! Principal component analysis by eigen-decomposition of the covariance matrix.
//!
//! The `d x d` covariance is one GEMM (candle). For `d <= 256` it is diagonalised by Jacobi
//! rotations; above that, the leading components come from subspace iteration with 10 extra
//! vectors followed by a Rayleigh-Ritz step (Golub & Van Loan, 8.2.4).

use candle_core::{Device, Tensor};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::error::{ProjectionError, check_finite};
use super::jacobi::symmetric_eigen;
use crate::rng::SplitMix64;

/// A fitted PCA.
#[derive(Debug, Clone)]
pub struct Pca {
    /// Column means of the fitted points, `[d]`.
    pub mean: Vec<f32>,
    /// Unit principal axes by decreasing variance, `[k, d]`; each axis is signed so that its
    /// largest loading is positive (deterministic output).
    pub components: Array2<f32>,
    /// Variance along each axis (squared input units), `[k]`.
    pub explained_variance: Vec<f64>,
    /// Share of the total variance (all `d` dimensions) along each axis, `[k]`.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Coordinates of `points` (`[n, d]`) on the axes: `[n, k]`.
    pub fn transform(&self, points: ArrayView2<'_, f32>) -> Result<Array2<f32>, ProjectionError> {
        let (n, d) = points.dim();
        if d != self.mean.len() {
            return Err(ProjectionError::Shape(format!(
                "points have {d} columns, the PCA was fitted on {}",
                self.mean.len()
            )));
        }
        let k = self.components.nrows();
        let centred = centred(points, &self.mean);
        let x = Tensor::from_vec(centred, (n, d), &Device::Cpu)?;
        let axes = Tensor::from_slice(
            self.components
                .as_standard_layout()
                .as_slice()
                .unwrap_or(&[]),
            (k, d),
            &Device::Cpu,
        )?;
        let projected = x.matmul(&axes.t()?)?.flatten_all()?.to_vec1::<f32>()?;
        Array2::from_shape_vec((n, k), projected).map_err(|e| ProjectionError::Shape(e.to_string()))
    }
}

/// Fits the first `k` principal axes of `points` (`[n, d]`, one point per row).
pub fn fit_pca(points: ArrayView2<'_, f32>, k: usize, seed: u64) -> Result<Pca, ProjectionError> {
    let (n, d) = points.dim();
    if n < 2 {
        return Err(ProjectionError::TooFewPoints {
            method: "PCA",
            min: 2,
            got: n,
        });
    }
    check_finite(points)?;
    let k = k.clamp(1, d);
    let mean: Vec<f32> = (0..d)
        .into_par_iter()
        .map(|j| (points.column(j).iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64) as f32)
        .collect();
    let x = Tensor::from_vec(centred(points, &mean), (n, d), &Device::Cpu)?;
    let covariance: Vec<f64> = (x.t()?.matmul(&x)? / (n as f64 - 1.0))?
        .flatten_all()?
        .to_vec1::<f32>()?
        .into_iter()
        .map(f64::from)
        .collect();
    let total_variance: f64 = (0..d).map(|i| covariance[i * d + i]).sum();

    let (values, vectors, width) = if d <= 256 {
        let (values, vectors) = symmetric_eigen(&covariance, d);
        (values, vectors, d)
    } else {
        leading_eigen(&covariance, d, k, seed)
    };
    let mut components = Array2::<f32>::zeros((k, d));
    for c in 0..k {
        let axis: Vec<f64> = (0..d).map(|r| vectors[r * width + c]).collect();
        let largest = axis
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        for (r, v) in axis.iter().enumerate() {
            components[(c, r)] = (sign * v) as f32;
        }
    }
    let explained_variance: Vec<f64> = values[..k].iter().map(|v| v.max(0.0)).collect();
    let explained_variance_ratio = explained_variance
        .iter()
        .map(|v| {
            if total_variance > 0.0 {
                v / total_variance
            } else {
                0.0
            }
        })
        .collect();
    Ok(Pca {
        mean,
        components,
        explained_variance,
        explained_variance_ratio,
    })
}

/// Row-major copy of `points` minus `mean`.
fn centred(points: ArrayView2<'_, f32>, mean: &[f32]) -> Vec<f32> {
    let d = mean.len();
    let mut out = vec![0f32; points.nrows() * d];
    out.par_chunks_mut(d.max(1))
        .zip(points.outer_iter().collect::<Vec<_>>().into_par_iter())
        .for_each(|(dst, row)| {
            for ((o, &v), &m) in dst.iter_mut().zip(row.iter()).zip(mean) {
                *o = v - m;
            }
        });
    out
}

/// The leading `k` eigenpairs of the symmetric `d x d` matrix `c` by subspace iteration:
/// returns (values, row-major `d x l` vectors, l) with `l = k + 10` columns.
fn leading_eigen(c: &[f64], d: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<f64>, usize) {
    let l = (k + 10).min(d);
    let mut rng = SplitMix64::new(seed);
    let mut q: Vec<f64> = rng.normals(d * l, 1.0).into_iter().map(f64::from).collect();
    orthonormalise(&mut q, d, l);
    for _ in 0..30 {
        q = multiply(c, &q, d, l);
        orthonormalise(&mut q, d, l);
    }
    // Rayleigh-Ritz: T = Q^T C Q (l x l), then rotate Q by T's eigenvectors.
    let cq = multiply(c, &q, d, l);
    let mut t = vec![0.0; l * l];
    for a in 0..l {
        for b in 0..l {
            t[a * l + b] = (0..d).map(|r| q[r * l + a] * cq[r * l + b]).sum();
        }
    }
    for a in 0..l {
        for b in 0..a {
            let s = 0.5 * (t[a * l + b] + t[b * l + a]);
            t[a * l + b] = s;
            t[b * l + a] = s;
        }
    }
    let (values, w) = symmetric_eigen(&t, l);
    let mut vectors = vec![0.0; d * l];
    vectors.par_chunks_mut(l).enumerate().for_each(|(r, row)| {
        for (col, out) in row.iter_mut().enumerate() {
            *out = (0..l).map(|a| q[r * l + a] * w[a * l + col]).sum();
        }
    });
    (values, vectors, l)
}

/// `c (d x d) * q (d x l)`, row-major, rows in parallel.
fn multiply(c: &[f64], q: &[f64], d: usize, l: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * l];
    out.par_chunks_mut(l).enumerate().for_each(|(r, row)| {
        for (i, &cri) in c[r * d..(r + 1) * d].iter().enumerate() {
            for (o, &qi) in row.iter_mut().zip(&q[i * l..(i + 1) * l]) {
                *o += cri * qi;
            }
        }
    });
    out
}

/// Modified Gram-Schmidt on the `l` columns of the row-major `d x l` matrix `q`.
fn orthonormalise(q: &mut [f64], d: usize, l: usize) {
    for a in 0..l {
        for b in 0..a {
            let dot: f64 = (0..d).map(|r| q[r * l + a] * q[r * l + b]).sum();
            for r in 0..d {
                q[r * l + a] -= dot * q[r * l + b];
            }
        }
        let norm = (0..d)
            .map(|r| q[r * l + a] * q[r * l + a])
            .sum::<f64>()
            .sqrt();
        for r in 0..d {
            q[r * l + a] /= norm.max(1e-300);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points spread 10x more along (1,1,0,...) than along (1,-1,0,...), nearly flat elsewhere.
    fn elongated(n: usize, d: usize) -> Array2<f32> {
        let mut rng = SplitMix64::new(7);
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let mut m = Array2::<f32>::zeros((n, d));
        for mut row in m.outer_iter_mut() {
            let (a, b) = (rng.normals(1, 10.0)[0], rng.normals(1, 1.0)[0]);
            for (j, v) in row.iter_mut().enumerate() {
                *v = 5.0 + 0.01 * rng.normals(1, 1.0)[0];
                if j == 0 {
                    *v += s * (a + b);
                } else if j == 1 {
                    *v += s * (a - b);
                }
            }
        }
        m
    }

    fn check_axes(d: usize) {
        let points = elongated(2000, d);
        let pca = fit_pca(points.view(), 2, 1).expect("pca");
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let first = pca.components.row(0);
        assert!(
            (first[0] - s).abs() < 0.01 && (first[1] - s).abs() < 0.01,
            "{first}"
        );
        let second = pca.components.row(1);
        assert!((second[0].abs() - s).abs() < 0.02 && (second[0] + second[1]).abs() < 0.02);
        let r = &pca.explained_variance_ratio;
        assert!(r[0] > 0.95 && r[1] > 0.005 && r[1] < 0.02, "{r:?}");
        assert!((pca.explained_variance[0] - 100.0).abs() < 10.0);
        let projected = pca.transform(points.view()).expect("transform");
        let mean0 = projected.column(0).mean().unwrap_or(1.0);
        assert!(mean0.abs() < 1e-3, "projections are centred");
    }

    #[test]
    fn finds_the_axes_of_an_elongated_cloud_by_jacobi() {
        check_axes(8);
    }

    #[test]
    fn finds_the_axes_of_an_elongated_cloud_by_subspace_iteration() {
        check_axes(300);
    }

    #[test]
    fn rejects_nan_with_its_position() {
        let mut points = elongated(10, 3);
        points[(4, 2)] = f32::NAN;
        let err = fit_pca(points.view(), 2, 1).expect_err("NaN");
        assert!(err.to_string().contains("point 4") && err.to_string().contains("column 2"));
    }
}
