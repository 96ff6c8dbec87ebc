//! Multinomial logistic regression for linear probes, fitted like scikit-learn's
//! `LogisticRegression(solver="lbfgs")` on standardised features, but with one fused pass over
//! the data per objective evaluation.
//!
//! Objective (scikit-learn's with `C = 1 / l2`, scaled by `1/N`), over standardised features
//! `z = (x - mean) / scale`:
//! `f(W, b) = (1/N) Σ_i [logsumexp(W z_i + b) - (W z_i + b)_{y_i}] + l2 / (2N) ||W||²`.
//!
//! - **No standardised copy.** `W z + b = (W / scale) x + (b - (W / scale) · mean)`: the pass
//!   reads the caller's `f32` features as they are; the gradient is mapped back the same way.
//!   Memory: the features plus `O(classes × dim)`.
//! - **One pass per evaluation.** Rows are processed 8 at a time: their logits (`dim × 8` weights
//!   broadcast against each feature), softmax, and their share of `Xᵀ (P - Y)` while the rows are
//!   in cache; classes are packed 8 to a SIMD register; chunks of rows run on all cores (rayon)
//!   with `f32` products and `f64` sums across chunks. AVX2/AVX-512 are chosen at run time (pulp).
//! - **Stopping** as scikit-learn: largest gradient component `<= gradient_tolerance` (1e-4), or
//!   no progress, or `max_iterations` L-BFGS steps. Classes absent from the training labels
//!   get zero weights and a `-inf` intercept.
//!
//! The parameters follow linfa's `ParamGuard` / `Fit` pattern: [`LogisticParams`] is checked
//! once into [`LogisticValidParams`], which fits a `linfa` dataset.

use std::sync::Arc;

use linfa::prelude::Records as _;
use linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Axis, Data, Ix1, Ix2};
use rayon::prelude::*;

use super::lbfgs::{LbfgsSettings, StopReason, minimize};
#[cfg(target_arch = "x86_64")]
use super::logistic_kernels::Avx2;
use super::logistic_kernels::{Block, Kernels, LANES, Portable, ROWS, softmax_residual};

/// Rows per parallel chunk.
const CHUNK_ROWS: usize = 512;
/// Logit of padding lanes: `exp` of it is 0.
const PAD_LOGIT: f32 = -1e30;

/// Called after every L-BFGS step with `(iteration, objective)`; `false` stops the fit, which
/// then fails with [`LogisticError::Stopped`]. Lets a job cancel within one data pass.
pub type IterationHook = Arc<dyn Fn(usize, f64) -> bool + Send + Sync>;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum LogisticError {
    /// A parameter out of range.
    #[error("invalid logistic regression parameter: {0}")]
    InvalidParams(String),
    /// No rows, or labels and rows disagree.
    #[error("cannot fit logistic regression: {0}")]
    BadData(String),
    /// The objective became NaN or infinite (non-finite features).
    #[error("logistic regression diverged (non-finite objective; are the features finite?)")]
    NotFinite,
    /// The iteration hook asked to stop.
    #[error("logistic regression stopped after {0} iterations")]
    Stopped(usize),
    /// From linfa's traits.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Unchecked settings; [`ParamGuard::check`] validates them.
#[derive(Clone)]
pub struct LogisticParams(LogisticValidParams);

/// Checked settings.
#[derive(Clone)]
pub struct LogisticValidParams {
    n_classes: usize,
    l2: f64,
    max_iterations: usize,
    gradient_tolerance: f64,
    hook: Option<IterationHook>,
}

impl std::fmt::Debug for LogisticValidParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogisticValidParams")
            .field("n_classes", &self.n_classes)
            .field("l2", &self.l2)
            .field("max_iterations", &self.max_iterations)
            .field("gradient_tolerance", &self.gradient_tolerance)
            .finish_non_exhaustive()
    }
}

impl LogisticParams {
    /// Defaults of scikit-learn: `C = 1` (`l2 = 1`), 100 iterations, tolerance 1e-4.
    pub fn new(n_classes: usize) -> Self {
        Self(LogisticValidParams {
            n_classes,
            l2: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-4,
            hook: None,
        })
    }

    /// L2 strength (`1 / C` of scikit-learn; linfa-logistic's `alpha`).
    pub fn l2(mut self, l2: f64) -> Self {
        self.0.l2 = l2;
        self
    }

    /// L-BFGS step limit.
    pub fn max_iterations(mut self, iterations: usize) -> Self {
        self.0.max_iterations = iterations;
        self
    }

    /// Stop when the largest gradient component is at most this.
    pub fn gradient_tolerance(mut self, tolerance: f64) -> Self {
        self.0.gradient_tolerance = tolerance;
        self
    }

    /// Progress / cancel hook, called after each step.
    pub fn on_iteration(mut self, hook: IterationHook) -> Self {
        self.0.hook = Some(hook);
        self
    }
}

impl ParamGuard for LogisticParams {
    type Checked = LogisticValidParams;
    type Error = LogisticError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        if p.n_classes < 2 {
            return Err(LogisticError::InvalidParams(format!(
                "{} classes, need at least 2",
                p.n_classes
            )));
        }
        if !(p.l2.is_finite() && p.l2 >= 0.0) {
            return Err(LogisticError::InvalidParams(format!(
                "l2 must be finite and >= 0, got {}",
                p.l2
            )));
        }
        if !(p.gradient_tolerance.is_finite() && p.gradient_tolerance > 0.0) {
            return Err(LogisticError::InvalidParams(format!(
                "gradient tolerance must be > 0, got {}",
                p.gradient_tolerance
            )));
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted model: `softmax(((x - mean) / scale) · weights + intercept)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticModel {
    /// Per-feature mean, `(dim,)`.
    pub mean: Array1<f32>,
    /// Per-feature standard deviation (1 where constant), `(dim,)`.
    pub scale: Array1<f32>,
    /// `(dim, n_classes)` weights on standardised features.
    pub weights: Array2<f32>,
    /// `(n_classes,)` intercepts (`-inf` for classes absent in training).
    pub intercept: Array1<f32>,
    /// Training objective at the end (see the module docs).
    pub objective: f64,
    /// L-BFGS steps taken.
    pub iterations: usize,
    /// Objective evaluations (passes over the data).
    pub evaluations: usize,
    /// Why L-BFGS stopped.
    pub stop_reason: StopReason,
}

impl<S, T> linfa::traits::Fit<ArrayBase<S, Ix2>, ArrayBase<T, Ix1>, LogisticError>
    for LogisticValidParams
where
    S: Data<Elem = f32>,
    T: Data<Elem = usize>,
{
    type Object = LogisticModel;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<S, Ix2>, ArrayBase<T, Ix1>>,
    ) -> Result<LogisticModel, LogisticError> {
        let x = dataset.records();
        let labels = dataset.targets();
        if x.nsamples() == 0 || x.nsamples() != labels.len() {
            return Err(LogisticError::BadData(format!(
                "{} rows and {} labels",
                x.nsamples(),
                labels.len()
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.n_classes) {
            return Err(LogisticError::BadData(format!(
                "label {bad} outside 0..{}",
                self.n_classes
            )));
        }
        let owned;
        let x = if x.is_standard_layout() {
            x.view()
        } else {
            owned = x.as_standard_layout().into_owned();
            owned.view()
        };
        fit_view(self, x, labels.view())
    }
}

fn fit_view(
    p: &LogisticValidParams,
    x: ArrayView2<f32>,
    labels: ArrayView1<usize>,
) -> Result<LogisticModel, LogisticError> {
    // Classes present in training, in order; the optimisation runs on them only.
    let mut present = vec![false; p.n_classes];
    labels.iter().for_each(|&l| present[l] = true);
    let classes: Vec<usize> = (0..p.n_classes).filter(|&c| present[c]).collect();
    let mut compact = vec![usize::MAX; p.n_classes];
    classes
        .iter()
        .enumerate()
        .for_each(|(i, &c)| compact[c] = i);
    let y: Vec<u32> = labels.iter().map(|&l| compact[l] as u32).collect();
    let (mean, scale) = feature_moments(x);
    let problem = Problem {
        x,
        y,
        classes: classes.len(),
        blocks: classes.len().div_ceil(LANES),
        mean,
        scale,
        l2: p.l2,
    };
    let settings = LbfgsSettings {
        max_iterations: p.max_iterations,
        gradient_tolerance: p.gradient_tolerance,
        history: 10,
    };
    let dim = x.ncols();
    let hook = p.hook.clone();
    let result = minimize(
        vec![0.0; classes.len() * (dim + 1)],
        settings,
        |theta, gradient| problem.evaluate(theta, gradient),
        |iteration, value| hook.as_ref().is_none_or(|h| h(iteration, value)),
    );
    if !result.value.is_finite() || result.x.iter().any(|v| !v.is_finite()) {
        return Err(LogisticError::NotFinite);
    }
    if result.reason == StopReason::Stopped {
        return Err(LogisticError::Stopped(result.iterations));
    }
    let mut weights = Array2::zeros((dim, p.n_classes));
    let mut intercept = Array1::from_elem(p.n_classes, f32::NEG_INFINITY);
    for (k, &class) in classes.iter().enumerate() {
        for d in 0..dim {
            weights[[d, class]] = result.x[k * dim + d] as f32;
        }
        intercept[class] = result.x[classes.len() * dim + k] as f32;
    }
    Ok(LogisticModel {
        mean: problem.mean.iter().map(|&m| m as f32).collect(),
        scale: problem.scale.iter().map(|&s| s as f32).collect(),
        weights,
        intercept,
        objective: result.value,
        iterations: result.iterations,
        evaluations: result.evaluations,
        stop_reason: result.reason,
    })
}

/// Per-feature mean and standard deviation (population, as scikit-learn's `StandardScaler`;
/// 1 where below 1e-6), in f64: per-chunk two-pass moments merged with Chan's formula.
fn feature_moments(x: ArrayView2<f32>) -> (Vec<f64>, Vec<f64>) {
    let dim = x.ncols();
    let partial = |rows: ArrayView2<f32>| {
        let n = rows.nrows() as f64;
        let mut mean = vec![0.0f64; dim];
        rows.rows().into_iter().for_each(|r| {
            mean.iter_mut()
                .zip(r)
                .for_each(|(m, &v)| *m += f64::from(v))
        });
        mean.iter_mut().for_each(|m| *m /= n);
        let mut m2 = vec![0.0f64; dim];
        rows.rows().into_iter().for_each(|r| {
            m2.iter_mut()
                .zip(r)
                .zip(&mean)
                .for_each(|((s, &v), m)| *s += (f64::from(v) - m).powi(2))
        });
        (n, mean, m2)
    };
    let chunks: Vec<ArrayView2<f32>> = x.axis_chunks_iter(Axis(0), 4 * CHUNK_ROWS).collect();
    // Partials are combined in chunk order, not in rayon's stealing order: the same data gives
    // bit-identical moments on every run.
    let partials: Vec<_> = chunks.into_par_iter().map(partial).collect();
    let (n, mean, m2) = partials
        .into_iter()
        .reduce(|(na, ma, sa), (nb, mb, sb)| {
            let n = na + nb;
            let mean = ma
                .iter()
                .zip(&mb)
                .map(|(a, b)| a + (b - a) * nb / n)
                .collect();
            let m2 = sa
                .iter()
                .zip(&sb)
                .zip(ma.iter().zip(&mb))
                .map(|((s1, s2), (a, b))| s1 + s2 + (b - a).powi(2) * na * nb / n)
                .collect();
            (n, mean, m2)
        })
        .unwrap_or((1.0, vec![0.0; dim], vec![0.0; dim]));
    let scale = m2
        .iter()
        .map(|s| (s / n).sqrt())
        .map(|s| if s > 1e-6 { s } else { 1.0 })
        .collect();
    (mean, scale)
}

/// The data and constants of one fit; `evaluate` is the fused objective.
struct Problem<'a> {
    x: ArrayView2<'a, f32>,
    /// Compact class index of each row.
    y: Vec<u32>,
    classes: usize,
    /// Blocks of [`LANES`] classes.
    blocks: usize,
    mean: Vec<f64>,
    scale: Vec<f64>,
    l2: f64,
}

/// One chunk's sums: gradient of the raw-feature weights `(blocks, dim)` of lanes, per-class
/// sums of `p - y`, and the summed cross-entropy.
struct Partial {
    weight_grad: Vec<f64>,
    class_grad: Vec<f64>,
    loss: f64,
}

impl Problem<'_> {
    /// `θ = [W (classes × dim, row-major), b (classes)]` on standardised features → objective,
    /// gradient written to `gradient`.
    fn evaluate(&self, theta: &[f64], gradient: &mut [f64]) -> f64 {
        let (n, dim, k) = (self.x.nrows(), self.x.ncols(), self.classes);
        let (w, b) = theta.split_at(k * dim);
        // Raw-feature weights W/scale in lane blocks `[block][d]`, and the folded bias.
        let mut folded = vec![[0f32; LANES]; self.blocks * dim];
        let mut bias = vec![[PAD_LOGIT; LANES]; self.blocks];
        for c in 0..k {
            let (block, lane) = (c / LANES, c % LANES);
            let mut shift = 0.0f64;
            for d in 0..dim {
                let v = w[c * dim + d] / self.scale[d];
                folded[block * dim + d][lane] = v as f32;
                shift += v * self.mean[d];
            }
            bias[block][lane] = (b[c] - shift) as f32;
        }
        let chunks: Vec<(ArrayView2<f32>, &[u32])> = self
            .x
            .axis_chunks_iter(Axis(0), CHUNK_ROWS)
            .zip(self.y.chunks(CHUNK_ROWS))
            .collect();
        // Summed in chunk order (not rayon's stealing order), so a fit is bit-identical from
        // run to run: a study rerun on a reused store reproduces its table exactly.
        let partials: Vec<_> = chunks
            .into_par_iter()
            .map(|(rows, labels)| self.chunk_dispatched(rows, labels, &folded, &bias))
            .collect();
        let total = partials.into_iter().reduce(|mut a, b| {
            a.weight_grad
                .iter_mut()
                .zip(&b.weight_grad)
                .for_each(|(x, y)| *x += y);
            a.class_grad
                .iter_mut()
                .zip(&b.class_grad)
                .for_each(|(x, y)| *x += y);
            a.loss += b.loss;
            a
        });
        let Some(total) = total else { return f64::NAN };
        let inv_n = 1.0 / n as f64;
        let mut penalty = 0.0;
        for c in 0..k {
            let (block, lane) = (c / LANES, c % LANES);
            let class_sum = total.class_grad[c];
            for d in 0..dim {
                let raw = total.weight_grad[(block * dim + d) * LANES + lane];
                let wi = w[c * dim + d];
                gradient[c * dim + d] =
                    (raw - self.mean[d] * class_sum) / self.scale[d] * inv_n + self.l2 * inv_n * wi;
                penalty += wi * wi;
            }
            gradient[k * dim + c] = class_sum * inv_n;
        }
        total.loss * inv_n + 0.5 * self.l2 * inv_n * penalty
    }

    /// [`Self::chunk`] with AVX2 + FMA kernels where the CPU has them (checked at run time; the
    /// closure runs inside a function compiled for those features), else the portable ones.
    fn chunk_dispatched(
        &self,
        rows: ArrayView2<f32>,
        labels: &[u32],
        folded: &[Block],
        bias: &[Block],
    ) -> Partial {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = pulp::x86::V3::try_new() {
            return simd.vectorize(|| self.chunk(Avx2(simd), rows, labels, folded, bias));
        }
        self.chunk(Portable, rows, labels, folded, bias)
    }

    /// Loss and gradient sums over one chunk of rows, `ROWS` at a time.
    #[inline(always)]
    fn chunk(
        &self,
        kernels: impl Kernels,
        rows: ArrayView2<f32>,
        labels: &[u32],
        folded: &[Block],
        bias: &[Block],
    ) -> Partial {
        let dim = rows.ncols();
        let zero_row = vec![0f32; dim];
        let mut grad = vec![[0f32; LANES]; self.blocks * dim];
        let mut class_grad = vec![0f64; self.classes];
        let mut loss = 0.0f64;
        let mut logits = vec![[[0f32; LANES]; ROWS]; self.blocks];
        let mut g = vec![[[0f32; LANES]; ROWS]; self.blocks];
        let mut start = 0;
        while start < rows.nrows() {
            let valid = (rows.nrows() - start).min(ROWS);
            let xs: [&[f32]; ROWS] = std::array::from_fn(|r| {
                if r < valid {
                    rows.row(start + r).to_slice().unwrap_or(&zero_row)
                } else {
                    &zero_row
                }
            });
            for (block, out) in logits.iter_mut().enumerate() {
                kernels.logits(
                    &xs,
                    &folded[block * dim..(block + 1) * dim],
                    &bias[block],
                    out,
                );
            }
            g.iter_mut().for_each(|b| *b = [[0f32; LANES]; ROWS]);
            for r in 0..valid {
                let label = labels[start + r] as usize;
                loss += softmax_residual(&logits, r, label, self.classes, &mut g);
                for c in 0..self.classes {
                    class_grad[c] += f64::from(g[c / LANES][r][c % LANES]);
                }
            }
            for (block, gb) in g.iter().enumerate() {
                kernels.gradient(&xs, gb, &mut grad[block * dim..(block + 1) * dim]);
            }
            start += ROWS;
        }
        Partial {
            weight_grad: grad
                .iter()
                .flat_map(|b| b.iter().map(|&v| f64::from(v)))
                .collect(),
            class_grad,
            loss,
        }
    }
}

impl LogisticModel {
    /// Class probabilities `(n, n_classes)` for raw features `(n, dim)`, without a
    /// standardised copy of the features.
    pub fn predict_probabilities(&self, features: ArrayView2<f32>) -> Array2<f32> {
        probabilities(
            features,
            &self.mean,
            &self.scale,
            &self.weights,
            &self.intercept,
        )
    }

    /// The objective of the module docs for these parameters on `(features, labels)`, in f64
    /// (for comparing solvers).
    pub fn objective_on(&self, features: ArrayView2<f32>, labels: &[usize], l2: f64) -> f64 {
        let probabilities = self.predict_probabilities(features);
        let n = labels.len() as f64;
        let loss: f64 = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| -f64::from(probabilities[[i, l]].max(f32::MIN_POSITIVE)).ln())
            .sum();
        let penalty: f64 = self.weights.iter().map(|&w| f64::from(w).powi(2)).sum();
        loss / n + 0.5 * l2 / n * penalty
    }
}

/// `softmax(((x - mean) / scale) W + b)` computed as `x (W / scale) + (b - mean · W / scale)`.
pub fn probabilities(
    features: ArrayView2<f32>,
    mean: &Array1<f32>,
    scale: &Array1<f32>,
    weights: &Array2<f32>,
    intercept: &Array1<f32>,
) -> Array2<f32> {
    let folded = weights / &scale.view().insert_axis(Axis(1));
    let shift = mean.dot(&folded);
    let bias: Array1<f32> = intercept
        .iter()
        .zip(&shift)
        .map(|(&b, &s)| if b.is_finite() { b - s } else { b })
        .collect();
    let mut logits = features.dot(&folded) + &bias;
    let classes = logits.ncols().max(1);
    if let Some(values) = logits.as_slice_mut() {
        values.par_chunks_mut(classes).for_each(|row| {
            let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            row.iter_mut().for_each(|v| *v = (*v - max).exp());
            let sum: f32 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= sum);
        });
    }
    logits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use linfa::prelude::Fit as _;

    /// `n` rows of `dim` features from `classes` Gaussian clusters with overlapping means, some
    /// features offset and scaled (so standardisation matters), and one constant feature.
    fn clusters(n: usize, dim: usize, classes: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = SplitMix64::new(seed);
        let centres: Vec<Vec<f32>> = (0..classes).map(|_| rng.normals(dim, 1.0)).collect();
        let mut x = Array2::zeros((n, dim));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let class = rng.below(classes);
            let noise = rng.normals(dim, 1.5);
            for d in 0..dim {
                let offset = if d % 3 == 0 { 40.0 } else { 0.0 };
                let spread = 1.0 + d as f32;
                x[[i, d]] = if d == dim - 1 {
                    7.0
                } else {
                    offset + spread * (centres[class][d] + noise[d])
                };
            }
            y.push(class);
        }
        (x, y)
    }

    fn fit(
        x: &Array2<f32>,
        y: &[usize],
        classes: usize,
        tolerance: f64,
    ) -> Result<LogisticModel, LogisticError> {
        LogisticParams::new(classes)
            .max_iterations(1000)
            .gradient_tolerance(tolerance)
            .fit(&DatasetBase::new(x.view(), ndarray::ArrayView1::from(y)))
    }

    /// linfa-logistic is the reference solver: on the same standardised data with the same
    /// penalty (its `alpha` is our `l2`), both reach the same objective.
    #[test]
    fn reaches_linfa_logistics_optimum() -> Result<(), Box<dyn std::error::Error>> {
        let (x, y) = clusters(900, 13, 5, 7);
        let ours = fit(&x, &y, 5, 1e-7)?;
        let standardised = ((&x - &ours.mean) / &ours.scale).mapv(f64::from);
        let reference = linfa_logistic::MultiLogisticRegression::default()
            .alpha(1.0)
            .max_iterations(2000)
            .gradient_tolerance(1e-10)
            .fit(&linfa::Dataset::new(standardised, Array1::from(y.clone())))?;
        let mut theirs = ours.clone();
        for (column, &class) in reference.classes().iter().enumerate() {
            theirs
                .weights
                .column_mut(class)
                .assign(&reference.params().column(column).mapv(|w| w as f32));
            theirs.intercept[class] = reference.intercept()[column] as f32;
        }
        let (f_ours, f_theirs) = (
            ours.objective_on(x.view(), &y, 1.0),
            theirs.objective_on(x.view(), &y, 1.0),
        );
        assert!(
            (f_ours - f_theirs).abs() <= 1e-5 * f_theirs,
            "ours {f_ours} linfa {f_theirs}"
        );
        assert!(
            (ours.objective - f_ours).abs() <= 1e-5 * f_ours,
            "solver {} recomputed {f_ours}",
            ours.objective
        );
        // f32 features limit how small the gradient can get: the fit ends at the tolerance or
        // where no step decreases the objective any more, never at the iteration limit.
        assert!(ours.stop_reason != StopReason::MaxIterations, "{ours:?}");
        eprintln!(
            "ours {f_ours:.10} linfa {f_theirs:.10} after {} iterations ({:?})",
            ours.iterations, ours.stop_reason
        );
        Ok(())
    }

    /// The fused gradient equals a finite difference of the objective, with classes spanning
    /// two SIMD blocks and a row count that is not a multiple of the row group.
    #[test]
    fn gradient_matches_finite_differences() {
        let (x, y) = clusters(203, 9, 11, 3);
        let (mean, scale) = feature_moments(x.view());
        let labels: Vec<u32> = y.iter().map(|&c| c as u32).collect();
        let problem = Problem {
            x: x.view(),
            y: labels,
            classes: 11,
            blocks: 2,
            mean,
            scale,
            l2: 0.7,
        };
        let mut rng = SplitMix64::new(1);
        let theta: Vec<f64> = rng
            .normals(11 * 10, 0.3)
            .into_iter()
            .map(f64::from)
            .collect();
        let mut gradient = vec![0.0; theta.len()];
        problem.evaluate(&theta, &mut gradient);
        for i in [0, 5, 17, 50, 98, 99, 104, 109] {
            let h = 1e-3;
            let mut plus = theta.clone();
            plus[i] += h;
            let mut minus = theta.clone();
            minus[i] -= h;
            let mut scratch = vec![0.0; theta.len()];
            let numeric = (problem.evaluate(&plus, &mut scratch)
                - problem.evaluate(&minus, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - gradient[i]).abs() < 2e-4,
                "θ[{i}]: numeric {numeric} fused {}",
                gradient[i]
            );
        }
    }

    #[test]
    fn absent_classes_get_no_probability_and_bad_params_are_refused()
    -> Result<(), Box<dyn std::error::Error>> {
        let (x, mut y) = clusters(300, 6, 3, 5);
        y.iter_mut().for_each(|c| *c *= 2); // classes 0, 2, 4 of 8
        let model = fit(&x, &y, 8, 1e-6)?;
        let p = model.predict_probabilities(x.view());
        assert!(p.column(1).iter().all(|&v| v == 0.0) && p.column(7).iter().all(|&v| v == 0.0));
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-5));
        assert!(matches!(
            LogisticParams::new(8).l2(-1.0).check(),
            Err(LogisticError::InvalidParams(_))
        ));
        assert!(matches!(
            fit(&x, &[9; 300], 8, 1e-4),
            Err(LogisticError::BadData(_))
        ));
        Ok(())
    }

    #[test]
    fn the_hook_stops_a_fit() {
        let (x, y) = clusters(200, 5, 3, 9);
        let stopped = LogisticParams::new(3)
            .on_iteration(Arc::new(|iteration, _| iteration < 2))
            .fit(&DatasetBase::new(
                x.view(),
                ndarray::ArrayView1::from(&y[..]),
            ));
        assert!(
            matches!(stopped, Err(LogisticError::Stopped(2))),
            "{stopped:?}"
        );
    }
}
