//! The ROC AUC of a score at telling positives from negatives: the probability that a random
//! positive scores above a random negative, ties counting one half (the Mann-Whitney U
//! statistic over `positives * negatives`), from one sort of both sets (`O(n log n)`).

/// The AUC of `positives` against `negatives` (NaN scores dropped); `None` when either set is
/// empty.
pub fn roc_auc(positives: &[f32], negatives: &[f32]) -> Option<f64> {
    let mut scored: Vec<(f32, bool)> = positives
        .iter()
        .map(|&s| (s, true))
        .chain(negatives.iter().map(|&s| (s, false)))
        .filter(|(s, _)| !s.is_nan())
        .collect();
    let n_pos = scored.iter().filter(|(_, p)| *p).count();
    let n_neg = scored.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the positives' mid-ranks (1-based), ties sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < scored.len() {
        let mut end = start;
        while end < scored.len() && scored[end].0 == scored[start].0 {
            end += 1;
        }
        let mid_rank = (start + end + 1) as f64 / 2.0;
        rank_sum += mid_rank * scored[start..end].iter().filter(|(_, p)| *p).count() as f64;
        start = end;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_ordered_with_ties_as_half() {
        assert_eq!(roc_auc(&[3.0, 4.0], &[1.0, 2.0]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 2.0], &[3.0, 4.0]), Some(0.0));
        assert_eq!(roc_auc(&[1.0], &[1.0]), Some(0.5));
        // Pairs (p, n): (2,1) win, (2,3) loss, (5,1) win, (5,3) win: 3 of 4.
        assert_eq!(roc_auc(&[2.0, 5.0], &[1.0, 3.0]), Some(0.75));
        // A tie and a win over two pairs.
        assert_eq!(roc_auc(&[2.0], &[2.0, 1.0]), Some(0.75));
        assert_eq!(roc_auc(&[], &[1.0]), None);
        assert_eq!(roc_auc(&[f32::NAN], &[1.0]), None);
    }
}
