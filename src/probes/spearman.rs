//! Spearman's rank correlation (ties get their average rank; scipy's `spearmanr`), the
//! measure ProteinGym ranks zero-shot variant scores by.

/// A correlation and the pairs it was computed on.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Correlation {
    /// Spearman's ρ (`NaN` when undefined: fewer than 2 pairs, or a constant side).
    pub rho: f64,
    /// Pairs with both values finite.
    pub n: usize,
}

/// 1-based ranks of `values`, ties averaged.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &k in &order[start..end] {
            ranks[k] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson's r of two equally long slices (`NaN` when either is constant).
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's ρ of the pairs of `x` and `y` where both are finite.
pub fn spearman(x: &[f64], y: &[f64]) -> Correlation {
    let (a, b): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .unzip();
    let n = a.len();
    let rho = if n < 2 {
        f64::NAN
    } else {
        pearson(&average_ranks(&a), &average_ranks(&b))
    };
    Correlation { rho, n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_on_ties_and_skips_missing_values() {
        // scipy.stats.spearmanr([1, 2, 2, 3, 5], [2, 1, 4, 4, 9]).correlation = 0.7631578947368421
        let c = spearman(
            &[1.0, 2.0, 2.0, 3.0, 5.0, f64::NAN],
            &[2.0, 1.0, 4.0, 4.0, 9.0, 1.0],
        );
        assert_eq!(c.n, 5);
        assert!((c.rho - 0.763_157_894_736_842_1).abs() < 1e-12, "{}", c.rho);
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).rho, -1.0);
        assert!(spearman(&[1.0], &[1.0]).rho.is_nan());
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).rho.is_nan());
    }
}
