//! Accuracy, per-class precision/recall and the confusion matrix of a multi-class prediction.

/// Precision, recall and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassMetrics {
    /// Correct predictions of the class / predictions of the class (NaN when never predicted;
    /// `null` in JSON).
    #[serde(deserialize_with = "nan_from_null")]
    pub precision: f64,
    /// Correct predictions of the class / true members (NaN when absent).
    #[serde(deserialize_with = "nan_from_null")]
    pub recall: f64,
    /// True members in the evaluation set.
    pub support: usize,
}

/// A precision or recall as shown in tables: three decimals, or "–" where it is undefined
/// (NaN: a class never predicted has no precision, one absent from the labels no recall).
pub fn metric_text(value: f64) -> String {
    metric_text_with_decimals(value, 3)
}

/// [`metric_text`] with `decimals` decimals.
pub fn metric_text_with_decimals(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "–".into()
    }
}

/// Metrics of a `k`-class prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassificationMetrics {
    /// Fraction predicted correctly (NaN for an empty set).
    #[serde(deserialize_with = "nan_from_null")]
    pub accuracy: f64,
    /// Per class, in class-index order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[truth][prediction]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Items scored.
    pub count: usize,
}

/// serde_json writes NaN as `null`; read it back as NaN.
fn nan_from_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let value: Option<f64> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.unwrap_or(f64::NAN))
}

impl ClassificationMetrics {
    /// Scores `predicted` against `truth` (class indices below `classes`).
    pub fn new(truth: &[usize], predicted: &[usize], classes: usize) -> Self {
        let mut confusion = vec![vec![0usize; classes]; classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            if t < classes && p < classes {
                confusion[t][p] += 1;
            }
        }
        let count: usize = confusion.iter().flatten().sum();
        let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let per_class = (0..classes)
            .map(|c| {
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                let hit = confusion[c][c] as f64;
                ClassMetrics {
                    precision: if predicted == 0 {
                        f64::NAN
                    } else {
                        hit / predicted as f64
                    },
                    recall: if support == 0 {
                        f64::NAN
                    } else {
                        hit / support as f64
                    },
                    support,
                }
            })
            .collect();
        Self {
            accuracy: if count == 0 {
                f64::NAN
            } else {
                correct as f64 / count as f64
            },
            per_class,
            confusion,
            count,
        }
    }

    /// Accuracy of always predicting the most frequent true class.
    pub fn majority_baseline(&self) -> f64 {
        let most = self.per_class.iter().map(|c| c.support).max().unwrap_or(0);
        most as f64 / self.count.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_metrics_show_as_a_dash() {
        assert_eq!(metric_text(0.41234), "0.412");
        assert_eq!(metric_text(f64::NAN), "–");
    }

    #[test]
    fn counts_by_hand() {
        // truth:     0 0 0 1 1 2
        // predicted: 0 0 1 1 0 2
        let m = ClassificationMetrics::new(&[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 0, 2], 3);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(
            m.confusion,
            vec![vec![2, 1, 0], vec![1, 1, 0], vec![0, 0, 1]]
        );
        assert!((m.per_class[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[1].precision - 0.5).abs() < 1e-12);
        assert_eq!(m.per_class[2].support, 1);
        assert!((m.majority_baseline() - 0.5).abs() < 1e-12);
    }
}
