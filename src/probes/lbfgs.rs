//! Limited-memory BFGS for smooth unconstrained problems, with a strong-Wolfe line search
//! (Nocedal & Wright, "Numerical Optimization", algorithms 7.4, 3.5 and 3.6) and the stopping
//! rules of SciPy's L-BFGS-B as scikit-learn's `lbfgs` solver uses them: the largest gradient
//! component at most `gradient_tolerance`, or a relative objective decrease below
//! `64 * f64::EPSILON`, or `max_iterations`.
//!
//! The objective is one fused call returning the value and writing the gradient, so each trial
//! point costs one pass over the data.

use std::collections::VecDeque;

/// Settings of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsSettings {
    /// Iteration limit (accepted steps).
    pub max_iterations: usize,
    /// Stop once `max |gradient_i| <= gradient_tolerance`.
    pub gradient_tolerance: f64,
    /// Correction pairs kept (SciPy's `maxcor`, 10).
    pub history: usize,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StopReason {
    /// The gradient fell below the tolerance.
    GradientTolerance,
    /// The objective stopped decreasing (relative change below 64 machine epsilons).
    NoProgress,
    /// `max_iterations` steps were taken.
    MaxIterations,
    /// The line search found no acceptable step (the point is as good as it gets in floating
    /// point, or the objective is not smooth there).
    LineSearchFailed,
    /// The caller's per-iteration hook asked to stop.
    Stopped,
}

/// The end point of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsResult {
    /// Final parameters.
    pub x: Vec<f64>,
    /// Objective there.
    pub value: f64,
    /// Largest absolute gradient component there.
    pub gradient_max: f64,
    /// Accepted steps.
    pub iterations: usize,
    /// Objective evaluations (one data pass each).
    pub evaluations: usize,
    /// Why it stopped.
    pub reason: StopReason,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Minimises `objective` from `x0`. `objective(x, gradient)` returns f(x) and writes ∇f(x);
/// `on_iteration(iteration, value)` runs after every accepted step and returns `false` to stop.
pub fn minimize(
    x0: Vec<f64>,
    settings: LbfgsSettings,
    mut objective: impl FnMut(&[f64], &mut [f64]) -> f64,
    mut on_iteration: impl FnMut(usize, f64) -> bool,
) -> LbfgsResult {
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut f = objective(&x, &mut g);
    let mut evaluations = 1;
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(settings.history);
    let mut iterations = 0;
    let reason = loop {
        if max_abs(&g) <= settings.gradient_tolerance {
            break StopReason::GradientTolerance;
        }
        if iterations >= settings.max_iterations {
            break StopReason::MaxIterations;
        }
        let direction = two_loop_direction(&g, &pairs);
        // SciPy starts with a step of 1/||d|| and then 1.
        let first_step = if iterations == 0 {
            (1.0 / dot(&direction, &direction).sqrt()).min(1.0)
        } else {
            1.0
        };
        let Some(step) = wolfe_line_search(
            &mut objective,
            &x,
            f,
            &g,
            &direction,
            first_step,
            &mut evaluations,
        ) else {
            break StopReason::LineSearchFailed;
        };
        let s: Vec<f64> = direction.iter().map(|d| step.alpha * d).collect();
        let y: Vec<f64> = step.gradient.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let previous = f;
        x = step.x;
        f = step.value;
        g = step.gradient;
        iterations += 1;
        if sy > 1e-10 * dot(&y, &y).max(f64::MIN_POSITIVE) {
            if pairs.len() == settings.history {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        if !on_iteration(iterations, f) {
            break StopReason::Stopped;
        }
        if (previous - f) <= 64.0 * f64::EPSILON * previous.abs().max(f.abs()).max(1.0) {
            break StopReason::NoProgress;
        }
    };
    LbfgsResult {
        gradient_max: max_abs(&g),
        x,
        value: f,
        iterations,
        evaluations,
        reason,
    }
}

/// The quasi-Newton direction `-H g` from the stored pairs (two-loop recursion, initial
/// Hessian scaled by `s·y / y·y` of the newest pair).
fn two_loop_direction(g: &[f64], pairs: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q: Vec<f64> = g.to_vec();
    let mut alphas = Vec::with_capacity(pairs.len());
    for (s, y, rho) in pairs.iter().rev() {
        let a = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
        alphas.push(a);
    }
    if let Some((s, y, _)) = pairs.back() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|qi| *qi *= gamma);
    }
    for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
        let b = rho * dot(y, &q);
        q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
    }
    q.iter_mut().for_each(|qi| *qi = -*qi);
    q
}

/// An accepted point of the line search.
struct Step {
    alpha: f64,
    x: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const MAX_TRIALS: usize = 25;

/// Strong-Wolfe line search along `d` from `x` (value `f0`, gradient `g0`).
fn wolfe_line_search(
    objective: &mut impl FnMut(&[f64], &mut [f64]) -> f64,
    x: &[f64],
    f0: f64,
    g0: &[f64],
    d: &[f64],
    first_step: f64,
    evaluations: &mut usize,
) -> Option<Step> {
    let slope0 = dot(g0, d);
    if slope0 >= 0.0 {
        return None; // not a descent direction
    }
    let mut evaluate = |alpha: f64| {
        let point: Vec<f64> = x.iter().zip(d).map(|(xi, di)| xi + alpha * di).collect();
        let mut gradient = vec![0.0; x.len()];
        let value = objective(&point, &mut gradient);
        *evaluations += 1;
        let slope = dot(&gradient, d);
        (
            Step {
                alpha,
                x: point,
                value,
                gradient,
            },
            slope,
        )
    };
    let (mut lo_alpha, mut lo_value, mut lo_slope) = (0.0, f0, slope0);
    let mut alpha = first_step;
    for trial in 0..MAX_TRIALS {
        let (step, slope) = evaluate(alpha);
        if !step.value.is_finite()
            || step.value > f0 + C1 * alpha * slope0
            || (trial > 0 && step.value >= lo_value)
        {
            return zoom(
                &mut evaluate,
                f0,
                slope0,
                (lo_alpha, lo_value, lo_slope),
                (alpha, step.value, slope),
            );
        }
        if slope.abs() <= -C2 * slope0 {
            return Some(step);
        }
        if slope >= 0.0 {
            return zoom(
                &mut evaluate,
                f0,
                slope0,
                (alpha, step.value, slope),
                (lo_alpha, lo_value, lo_slope),
            );
        }
        (lo_alpha, lo_value, lo_slope) = (alpha, step.value, slope);
        alpha *= 2.0;
    }
    None
}

/// Narrows `[lo, hi]` (each `(alpha, value, slope)`) to a step meeting the strong Wolfe
/// conditions, trying the minimiser of the cubic through both ends (bisection as a fallback).
fn zoom(
    evaluate: &mut impl FnMut(f64) -> (Step, f64),
    f0: f64,
    slope0: f64,
    mut lo: (f64, f64, f64),
    mut hi: (f64, f64, f64),
) -> Option<Step> {
    for _ in 0..MAX_TRIALS {
        let alpha = cubic_minimiser(lo, hi);
        let (step, slope) = evaluate(alpha);
        if !step.value.is_finite() || step.value > f0 + C1 * alpha * slope0 || step.value >= lo.1 {
            hi = (alpha, step.value, slope);
        } else {
            if slope.abs() <= -C2 * slope0 {
                return Some(step);
            }
            if slope * (hi.0 - lo.0) >= 0.0 {
                hi = lo;
            }
            lo = (alpha, step.value, slope);
        }
        if (hi.0 - lo.0).abs() <= 1e-12 * lo.0.abs().max(1e-12) {
            break;
        }
    }
    // Accept the best point seen if it decreases the objective enough (the gradient condition
    // can be unreachable in floating point near the optimum).
    (lo.0 > 0.0 && lo.1 <= f0 + C1 * lo.0 * slope0).then(|| evaluate(lo.0).0)
}

/// Minimiser of the cubic interpolating values and slopes at both ends, kept inside the
/// interval's middle 80%; the midpoint when the cubic has no usable minimiser.
fn cubic_minimiser(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let (x1, f1, g1) = a;
    let (x2, f2, g2) = b;
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let disc = d1 * d1 - g1 * g2;
    let (lo, hi) = (x1.min(x2), x1.max(x2));
    let margin = 0.1 * (hi - lo);
    if disc >= 0.0 {
        let d2 = (x2 - x1).signum() * disc.sqrt();
        let x = x2 - (x2 - x1) * (g2 + d2 - d1) / (g2 - g1 + 2.0 * d2);
        if x.is_finite() {
            return x.clamp(lo + margin, hi - margin);
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stopped at the tolerance, or where the objective no longer decreases in f64 (as SciPy).
    fn converged(result: &LbfgsResult) -> bool {
        matches!(
            result.reason,
            StopReason::GradientTolerance | StopReason::NoProgress
        ) && result.gradient_max < 1e-5
    }

    fn settings() -> LbfgsSettings {
        LbfgsSettings {
            max_iterations: 500,
            gradient_tolerance: 1e-8,
            history: 10,
        }
    }

    #[test]
    fn minimises_the_rosenbrock_function() {
        let result = minimize(
            vec![-1.2, 1.0],
            settings(),
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            |_, _| true,
        );
        assert!(converged(&result), "{result:?}");
        assert!(
            (result.x[0] - 1.0).abs() < 1e-6 && (result.x[1] - 1.0).abs() < 1e-6,
            "{result:?}"
        );
        assert!(result.iterations < 100, "{result:?}");
    }

    #[test]
    fn solves_an_ill_conditioned_quadratic_and_can_be_stopped() {
        let scales: Vec<f64> = (0..50).map(|i| 1.0 + i as f64 * 20.0).collect();
        let quadratic = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for ((xi, gi), s) in x.iter().zip(g.iter_mut()).zip(&scales) {
                *gi = s * (xi - 1.0);
                f += 0.5 * s * (xi - 1.0).powi(2);
            }
            f
        };
        let result = minimize(vec![0.0; 50], settings(), quadratic, |_, _| true);
        assert!(converged(&result), "{result:?}");
        assert!(
            result.x.iter().all(|v| (v - 1.0).abs() < 1e-6),
            "{result:?}"
        );
        let stopped = minimize(vec![0.0; 50], settings(), quadratic, |i, _| i < 3);
        assert_eq!(
            (stopped.reason, stopped.iterations),
            (StopReason::Stopped, 3)
        );
    }
}
