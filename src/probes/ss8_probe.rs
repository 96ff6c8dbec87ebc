//! The paper's SS8 linear probe (Rives et al. 2021, "Secondary structure"): multinomial logistic
//! regression ([`super::logistic`], L-BFGS) on standardised per-residue representations of one layer,
//! 8 DSSP classes (GHIBESTC), residues outside the evaluation mask excluded; Q8 and Q3
//! (H/G/I→H, E/B→E, rest→C) on a held-out set.

use ndarray::{Array1, Array2, ArrayView1};

use super::classification_metrics::ClassificationMetrics;
use super::logistic::{IterationHook, LogisticError, LogisticParams, probabilities};
use crate::data::{SS8_CLASSES, Ss8Record, ss3_of};

/// Fitting options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ss8ProbeParams {
    /// L2 penalty strength (`1 / C` of scikit-learn, linfa-logistic's `alpha`).
    pub l2: f64,
    /// L-BFGS iterations.
    pub max_iterations: u64,
}

impl Default for Ss8ProbeParams {
    fn default() -> Self {
        Self {
            l2: 1.0,
            max_iterations: 100,
        }
    }
}

/// A fitted probe: `softmax(((x - mean) / scale) W + b)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ss8Probe {
    /// Per-feature mean, `(dim,)`.
    pub mean: Array1<f32>,
    /// Per-feature standard deviation (1 where constant), `(dim,)`.
    pub scale: Array1<f32>,
    /// `(dim, 8)` weights, columns in [`SS8_CLASSES`] order (zero for classes absent in training).
    pub weights: Array2<f32>,
    /// `(8,)` intercepts (-inf for classes absent in training).
    pub intercept: Array1<f32>,
}

/// Q8, Q3 and the per-class detail of a probe on a labelled set.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ss8Metrics {
    /// 8-class accuracy.
    pub q8: f64,
    /// 3-class accuracy after the H/E/C reduction.
    pub q3: f64,
    /// 8-class detail (classes in `GHIBESTC` order).
    pub ss8: ClassificationMetrics,
    /// 3-class detail (`HEC`).
    pub ss3: ClassificationMetrics,
}

/// Stacks the evaluated residues of `records` into `(residues, dim)` features and class labels;
/// `per_residue[i]` is record `i`'s `(len, dim)` representation.
pub fn residue_dataset(
    records: &[Ss8Record],
    per_residue: &[Array2<f32>],
) -> (Array2<f32>, Vec<usize>) {
    let dim = per_residue.first().map_or(0, |a| a.ncols());
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (record, reps) in records.iter().zip(per_residue) {
        for (i, (&label, &keep)) in record.labels.iter().zip(&record.mask).enumerate() {
            if keep && i < reps.nrows() {
                rows.extend(reps.row(i).iter().copied());
                labels.push(usize::from(label));
            }
        }
    }
    let n = labels.len();
    (
        Array2::from_shape_vec((n, dim), rows).unwrap_or_else(|_| Array2::zeros((0, dim))),
        labels,
    )
}

impl Ss8Probe {
    /// Fits the probe on `features` `(n, dim)` with labels in `0..8` (scikit-learn's objective
    /// with `C = 1 / l2`, see [`super::logistic`]). `hook` sees every L-BFGS step and can stop
    /// the fit.
    pub fn fit(
        features: &Array2<f32>,
        labels: &[usize],
        params: &Ss8ProbeParams,
        hook: Option<IterationHook>,
    ) -> Result<Self, LogisticError> {
        use linfa::prelude::Fit as _;
        let mut settings = LogisticParams::new(SS8_CLASSES.len())
            .l2(params.l2)
            .max_iterations(params.max_iterations as usize);
        if let Some(hook) = hook {
            settings = settings.on_iteration(hook);
        }
        let dataset = linfa::DatasetBase::new(features.view(), ArrayView1::from(labels));
        let model = settings.fit(&dataset)?;
        Ok(Self {
            mean: model.mean,
            scale: model.scale,
            weights: model.weights,
            intercept: model.intercept,
        })
    }

    /// Class probabilities `(n, 8)` for `features` `(n, dim)`.
    pub fn predict_probabilities(&self, features: &Array2<f32>) -> Array2<f32> {
        probabilities(
            features.view(),
            &self.mean,
            &self.scale,
            &self.weights,
            &self.intercept,
        )
    }

    /// The most probable class of each row.
    pub fn predict(&self, features: &Array2<f32>) -> Vec<usize> {
        self.predict_probabilities(features)
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold(
                        (0, f32::MIN),
                        |best, (i, &p)| if p > best.1 { (i, p) } else { best },
                    )
                    .0
            })
            .collect()
    }

    /// Q8/Q3 on a labelled set.
    pub fn evaluate(&self, features: &Array2<f32>, labels: &[usize]) -> Ss8Metrics {
        ss8_metrics(labels, &self.predict(features))
    }
}

/// Q8 and Q3 of SS8 predictions.
pub fn ss8_metrics(truth: &[usize], predicted: &[usize]) -> Ss8Metrics {
    let ss8 = ClassificationMetrics::new(truth, predicted, SS8_CLASSES.len());
    let to3 = |c: &usize| usize::from(ss3_of(*c as u8));
    let ss3 = ClassificationMetrics::new(
        &truth.iter().map(to3).collect::<Vec<_>>(),
        &predicted.iter().map(to3).collect::<Vec<_>>(),
        3,
    );
    Ss8Metrics {
        q8: ss8.accuracy,
        q3: ss3.accuracy,
        ss8,
        ss3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two separable classes in 2-D: the probe learns them and maps them to their SS8 slots.
    #[test]
    fn fits_a_separable_problem() -> Result<(), LogisticError> {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..200 {
            let x = (i % 20) as f32 / 10.0;
            let (class, shift) = if i % 2 == 0 { (0, 3.0) } else { (4, -3.0) };
            rows.extend([x + shift, x * 0.5]);
            labels.push(class);
        }
        let features = Array2::from_shape_vec((200, 2), rows)
            .map_err(|e| LogisticError::BadData(e.to_string()))?;
        let probe = Ss8Probe::fit(&features, &labels, &Ss8ProbeParams::default(), None)?;
        let metrics = probe.evaluate(&features, &labels);
        assert!(metrics.q8 > 0.99, "{}", metrics.q8);
        // G (0) → H and E (4) → E in 3 states.
        assert!(metrics.q3 > 0.99);
        assert_eq!(metrics.ss8.per_class[7].support, 0);
        Ok(())
    }
}
