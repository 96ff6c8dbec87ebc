//! Binary logistic regression with an L1 penalty: the regression of fair-esm's contact head
//! (Rao et al. 2020 fit it with scikit-learn's `LogisticRegression(penalty="l1")` on every
//! head's APC-corrected attention, 20 structures), which keeps few heads.
//!
//! Objective, as scikit-learn's with sample weights (`C` the inverse strength):
//! `F(β, b) = C Σ_i w_i [log(1 + exp(z_i)) - y_i z_i] + ||β||₁`, `z_i = x_i · β + b`; the
//! intercept is not penalised. Minimised by FISTA (accelerated proximal gradient: a gradient
//! step on the smooth part, soft-thresholding for the L1 part) with a backtracking step size
//! and a restart whenever the objective rises. Stops when no coordinate moves by more than
//! `tolerance` (relative to the largest weight, at least 1) in a step, or after
//! `max_iterations`. Each step reads the `rows x dim` features once or twice (rayon over row
//! chunks, `f64` sums); memory is the caller's features plus `O(rows + dim)`.

use rayon::prelude::*;

/// Rows per parallel chunk.
const CHUNK: usize = 1024;

/// Settings of the fit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SparseLogisticParams {
    /// Inverse L1 strength (scikit-learn's `C`; Rao et al. 0.15).
    pub c: f64,
    /// FISTA steps at most.
    pub max_iterations: usize,
    /// Largest relative coordinate change that counts as converged.
    pub tolerance: f64,
}

impl Default for SparseLogisticParams {
    fn default() -> Self {
        Self {
            c: 0.15,
            max_iterations: 2_000,
            tolerance: 1e-5,
        }
    }
}

/// A fitted regression: `p = sigmoid(x · weights + bias)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseLogistic {
    /// One weight per feature; most are exactly 0.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
    /// FISTA steps taken.
    pub iterations: usize,
    /// Whether the tolerance was met (else the step limit was reached).
    pub converged: bool,
    /// The objective at the end.
    pub objective: f64,
}

impl SparseLogistic {
    /// Features with a non-zero weight.
    pub fn non_zero(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }
}

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SparseLogisticError {
    /// Rows, labels and weights disagree, or there are none.
    #[error("cannot fit the L1 logistic regression: {0}")]
    BadData(String),
    /// The objective became NaN or infinite.
    #[error("the L1 logistic regression diverged (non-finite objective; are the features finite?)")]
    NotFinite,
    /// The hook asked to stop.
    #[error("the L1 logistic regression was stopped after {0} steps")]
    Stopped(usize),
}

/// Training rows: `features` row-major `rows x dim`, labels and sample weights.
#[derive(Debug, Clone, Copy)]
pub struct WeightedRows<'a> {
    /// `rows * dim` features.
    pub features: &'a [f32],
    /// Columns.
    pub dim: usize,
    /// One label per row.
    pub labels: &'a [bool],
    /// One non-negative weight per row.
    pub weights: &'a [f32],
}

impl WeightedRows<'_> {
    fn rows(&self) -> usize {
        self.labels.len()
    }

    fn check(&self) -> Result<(), SparseLogisticError> {
        let rows = self.rows();
        if rows == 0 || self.dim == 0 {
            return Err(SparseLogisticError::BadData("no training rows".into()));
        }
        if self.features.len() != rows * self.dim || self.weights.len() != rows {
            return Err(SparseLogisticError::BadData(format!(
                "{} features, {} labels and {} weights for {} columns",
                self.features.len(),
                rows,
                self.weights.len(),
                self.dim
            )));
        }
        if self.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(SparseLogisticError::BadData(
                "sample weights must be finite and >= 0".into(),
            ));
        }
        Ok(())
    }

    /// The smooth part `C Σ w ℓ` at `theta = [β, b]`, and its gradient when asked.
    fn smooth(&self, theta: &[f64], c: f64, want_gradient: bool) -> (f64, Vec<f64>) {
        let dim = self.dim;
        let beta: Vec<f32> = theta[..dim].iter().map(|&v| v as f32).collect();
        let bias = theta[dim];
        let zero = || {
            (
                0.0f64,
                vec![0.0f64; if want_gradient { dim + 1 } else { 0 }],
            )
        };
        let (loss, gradient) = (0..self.rows().div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let (mut loss, mut gradient) = zero();
                let rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(self.rows());
                for r in rows {
                    let x = &self.features[r * dim..(r + 1) * dim];
                    let z = f64::from(dot(x, &beta)) + bias;
                    let y = f64::from(u8::from(self.labels[r]));
                    let w = f64::from(self.weights[r]);
                    // log(1 + e^z) - y z, stable for large |z|.
                    loss += w * (z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z);
                    if want_gradient {
                        let residual = w * (1.0 / (1.0 + (-z).exp()) - y);
                        for (g, &v) in gradient[..dim].iter_mut().zip(x) {
                            *g += residual * f64::from(v);
                        }
                        gradient[dim] += residual;
                    }
                }
                (loss, gradient)
            })
            .reduce(zero, |(la, mut ga), (lb, gb)| {
                for (a, b) in ga.iter_mut().zip(&gb) {
                    *a += b;
                }
                (la + lb, ga)
            });
        (c * loss, gradient.into_iter().map(|g| c * g).collect())
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums: the compiler vectorises them.
    let mut sums = [0f32; 8];
    let chunks = a.len() / 8;
    for k in 0..chunks {
        for lane in 0..8 {
            sums[lane] += a[8 * k + lane] * b[8 * k + lane];
        }
    }
    let tail: f32 = (8 * chunks..a.len()).map(|k| a[k] * b[k]).sum();
    sums.iter().sum::<f32>() + tail
}

fn l1(theta: &[f64], dim: usize) -> f64 {
    theta[..dim].iter().map(|v| v.abs()).sum()
}

/// Soft-thresholds the weights of a gradient step from `y` with step `1 / lipschitz`.
fn proximal_step(y: &[f64], gradient: &[f64], lipschitz: f64, dim: usize) -> Vec<f64> {
    let step = 1.0 / lipschitz;
    y.iter()
        .zip(gradient)
        .enumerate()
        .map(|(k, (&v, &g))| {
            let moved = v - step * g;
            if k == dim {
                moved
            } else {
                moved.signum() * (moved.abs() - step).max(0.0)
            }
        })
        .collect()
}

/// Fits the regression (see the module docs); `keep_going(step)` is asked after every step
/// and stops the fit with [`SparseLogisticError::Stopped`] when it says no.
pub fn fit_sparse_logistic(
    rows: WeightedRows<'_>,
    params: &SparseLogisticParams,
    keep_going: &(dyn Fn(usize) -> bool + Sync),
) -> Result<SparseLogistic, SparseLogisticError> {
    rows.check()?;
    let dim = rows.dim;
    let c = params.c;
    let mut theta = vec![0.0f64; dim + 1];
    let mut y = theta.clone();
    let mut momentum = 1.0f64;
    let mut lipschitz = 1.0f64;
    let mut objective = rows.smooth(&theta, c, false).0;
    let mut converged = false;
    let mut steps = 0;
    while steps < params.max_iterations {
        steps += 1;
        let (smooth_y, gradient) = rows.smooth(&y, c, true);
        // Backtracking: grow the Lipschitz estimate until the quadratic bound holds.
        let (next, smooth_next) = loop {
            let candidate = proximal_step(&y, &gradient, lipschitz, dim);
            let smooth_candidate = rows.smooth(&candidate, c, false).0;
            let bound: f64 = smooth_y
                + candidate
                    .iter()
                    .zip(&y)
                    .zip(&gradient)
                    .map(|((p, q), g)| g * (p - q) + 0.5 * lipschitz * (p - q).powi(2))
                    .sum::<f64>();
            if !smooth_candidate.is_finite() && lipschitz > 1e30 {
                return Err(SparseLogisticError::NotFinite);
            }
            if smooth_candidate <= bound * (1.0 + 1e-12) + 1e-12 {
                break (candidate, smooth_candidate);
            }
            lipschitz *= 2.0;
        };
        let next_objective = smooth_next + l1(&next, dim);
        if !next_objective.is_finite() {
            return Err(SparseLogisticError::NotFinite);
        }
        let largest = next.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let moved = next
            .iter()
            .zip(&theta)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        if next_objective > objective {
            // Adaptive restart: drop the momentum and retry from the last iterate.
            momentum = 1.0;
            y = theta.clone();
            lipschitz *= 0.9;
            continue;
        }
        let following = 0.5 * (1.0 + (1.0 + 4.0 * momentum * momentum).sqrt());
        y = next
            .iter()
            .zip(&theta)
            .map(|(n, t)| n + (momentum - 1.0) / following * (n - t))
            .collect();
        momentum = following;
        theta = next;
        objective = next_objective;
        // Let the step grow again slowly.
        lipschitz *= 0.95;
        if !keep_going(steps) {
            return Err(SparseLogisticError::Stopped(steps));
        }
        if moved <= params.tolerance * largest {
            converged = true;
            break;
        }
    }
    Ok(SparseLogistic {
        weights: theta[..dim].iter().map(|&v| v as f32).collect(),
        bias: theta[dim] as f32,
        iterations: steps,
        converged,
        objective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Rows from a sparse truth: 3 of 40 features matter.
    fn data(rows: usize) -> (Vec<f32>, Vec<bool>, Vec<f32>) {
        let dim = 40;
        let mut rng = SplitMix64::new(3);
        let mut x = Vec::with_capacity(rows * dim);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let row: Vec<f32> = (0..dim).map(|_| 2.0 * rng.unit() - 1.0).collect();
            let z = 3.0 * row[0] - 2.0 * row[5] + 1.5 * row[17] - 0.5;
            labels.push(rng.unit() < 1.0 / (1.0 + (-z).exp()));
            x.extend(row);
        }
        (x, labels, vec![1.0; rows])
    }

    /// The optimality conditions of the L1 problem: `|∂_k| <= 1` where `β_k = 0`,
    /// `∂_k = -sign(β_k)` elsewhere, `∂_b = 0` (∂ the smooth part's gradient).
    #[test]
    fn the_fit_meets_the_l1_optimality_conditions_and_finds_the_sparse_truth() {
        let (x, labels, weights) = data(3000);
        let rows = WeightedRows {
            features: &x,
            dim: 40,
            labels: &labels,
            weights: &weights,
        };
        let params = SparseLogisticParams {
            c: 0.05,
            max_iterations: 5000,
            tolerance: 1e-7,
        };
        let fit = fit_sparse_logistic(rows, &params, &|_| true).expect("fits");
        assert!(fit.converged, "{} steps", fit.iterations);
        let theta: Vec<f64> = fit
            .weights
            .iter()
            .map(|&w| f64::from(w))
            .chain([f64::from(fit.bias)])
            .collect();
        let (_, gradient) = rows.smooth(&theta, params.c, true);
        for (k, (&beta, &g)) in theta[..40].iter().zip(&gradient).enumerate() {
            if beta == 0.0 {
                assert!(g.abs() <= 1.0 + 1e-3, "feature {k}: |∂| = {}", g.abs());
            } else {
                assert!(
                    (g + beta.signum()).abs() < 1e-2,
                    "feature {k}: ∂ = {g}, β = {beta}"
                );
            }
        }
        assert!(
            gradient[40].abs() < 1e-2,
            "intercept gradient {}",
            gradient[40]
        );
        let kept: Vec<usize> = (0..40).filter(|&k| fit.weights[k] != 0.0).collect();
        for k in [0, 5, 17] {
            assert!(kept.contains(&k), "feature {k} kept: {kept:?}");
        }
        assert!(fit.non_zero() < 15, "sparse: {kept:?}");
        assert!(fit.weights[0] > 0.0 && fit.weights[5] < 0.0);
    }

    #[test]
    fn a_sample_weight_counts_as_repeated_rows() {
        let (x, labels, _) = data(400);
        let doubled_x: Vec<f32> = x.iter().chain(&x[..40 * 100]).copied().collect();
        let doubled_labels: Vec<bool> = labels.iter().chain(&labels[..100]).copied().collect();
        let mut weights = vec![1.0f32; 400];
        weights[..100].fill(2.0);
        let params = SparseLogisticParams {
            c: 0.2,
            max_iterations: 5000,
            tolerance: 1e-8,
        };
        let weighted = fit_sparse_logistic(
            WeightedRows {
                features: &x,
                dim: 40,
                labels: &labels,
                weights: &weights,
            },
            &params,
            &|_| true,
        )
        .expect("fits");
        let repeated = fit_sparse_logistic(
            WeightedRows {
                features: &doubled_x,
                dim: 40,
                labels: &doubled_labels,
                weights: &vec![1.0; 500],
            },
            &params,
            &|_| true,
        )
        .expect("fits");
        for (a, b) in weighted.weights.iter().zip(&repeated.weights) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn bad_rows_and_a_stop_are_errors() {
        let err = fit_sparse_logistic(
            WeightedRows {
                features: &[1.0; 6],
                dim: 3,
                labels: &[true],
                weights: &[1.0],
            },
            &SparseLogisticParams::default(),
            &|_| true,
        );
        assert!(matches!(err, Err(SparseLogisticError::BadData(_))));
        let (x, labels, weights) = data(50);
        let stopped = fit_sparse_logistic(
            WeightedRows {
                features: &x,
                dim: 40,
                labels: &labels,
                weights: &weights,
            },
            &SparseLogisticParams::default(),
            &|step| step < 3,
        );
        assert_eq!(stopped, Err(SparseLogisticError::Stopped(3)));
    }
}
