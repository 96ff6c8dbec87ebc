//! Contact precision as fair-esm's contact-prediction notebook reports it: for each separation
//! range (short 6-11, medium 12-23, long ≥ 24), rank the pairs `i < j` of that range by
//! predicted probability and take the fraction of true contacts among the top `L`, `L/2` and
//! `L/5` (`L` = sequence length). Pairs with a residue lacking a Cβ are not ranked.

use crate::data::{ContactMap, SeparationRange};

use super::precision_at_l::ContactPrecision;

/// The `count` most probable pairs `(i, j, probability)` with `j - i >= min_separation` of a
/// row-major `len x len` probability map, most probable first (the "top-L" contacts).
pub fn top_contact_pairs(
    probabilities: &[f32],
    len: usize,
    count: usize,
    min_separation: usize,
) -> Vec<(usize, usize, f32)> {
    let mut pairs: Vec<(usize, usize, f32)> = (0..len)
        .flat_map(|i| (i + min_separation..len).map(move |j| (i, j)))
        .map(|(i, j)| (i, j, probabilities[i * len + j]))
        .collect();
    pairs.sort_by(|a, b| b.2.total_cmp(&a.2));
    pairs.truncate(count);
    pairs
}

/// Scores `predicted` (row-major `len x len` probabilities) against `truth`.
pub fn contact_precision(predicted: &[f32], truth: &ContactMap) -> ContactPrecision {
    // The ranking a per-head screen uses too: listed pairs, top L by selection, ties in
    // pair order.
    super::head_scores::ChainPairs::new(truth).precision(predicted)
}

/// The precision a random ranking expects in `range`: the share of `truth`'s evaluable pairs
/// in that range that are contacts (`NaN` without such pairs).
pub fn random_precision(truth: &ContactMap, range: SeparationRange) -> f64 {
    let (mut pairs, mut contacts) = (0usize, 0usize);
    for i in (0..truth.len).filter(|&i| truth.valid[i]) {
        for j in (i + 1..truth.len).filter(|&j| truth.valid[j]) {
            if SeparationRange::of(i, j) == Some(range) {
                pairs += 1;
                contacts += usize::from(truth.contact(i, j));
            }
        }
    }
    if pairs == 0 {
        f64::NAN
    } else {
        contacts as f64 / pairs as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40-residue chain with three long-range contacts; the prediction ranks two of them
    /// first, then a non-contact, then the third. Expected values worked out by hand below.
    #[test]
    fn precision_by_hand() {
        let len = 40;
        let mut contacts = vec![false; len * len];
        let mut predicted = vec![0.0f32; len * len];
        for &(i, j) in &[(0, 30), (1, 35), (5, 39)] {
            contacts[i * len + j] = true;
            contacts[j * len + i] = true;
        }
        predicted[30] = 0.9; // (0, 30) contact
        predicted[len + 35] = 0.8; // (1, 35) contact
        predicted[2 * len + 33] = 0.7; // (2, 33) not a contact
        predicted[5 * len + 39] = 0.6; // (5, 39) contact
        predicted[len + 8] = 0.95; // (1, 8): short range, a non-contact
        let truth = ContactMap {
            len,
            contacts,
            valid: vec![true; len],
            distances: vec![0.0; len * len],
        };
        let p = contact_precision(&predicted, &truth);
        // Long range, top L/5 = 8 pairs: the 3 contacts are among them.
        assert!((p.long.at_l5 - 3.0 / 8.0).abs() < 1e-12, "{:?}", p.long);
        // Top L/2 = 20 and L = 40 pairs: still 3 contacts.
        assert!((p.long.at_l2 - 3.0 / 20.0).abs() < 1e-12);
        assert!((p.long.at_l - 3.0 / 40.0).abs() < 1e-12);
        // Short range has no contacts at all.
        assert_eq!(p.short.at_l5, 0.0);
        // Invalid residues drop their pairs: without residue 0, only 2 long-range contacts remain.
        let mut partial = truth.clone();
        partial.valid[0] = false;
        assert!((contact_precision(&predicted, &partial).long.at_l5 - 2.0 / 8.0).abs() < 1e-12);
        // Long range: pairs (i, j) with j - i >= 24 among 40 residues: 16 * 17 / 2 = 136.
        assert!((random_precision(&truth, SeparationRange::Long) - 3.0 / 136.0).abs() < 1e-12);
        assert!(random_precision(&truth, SeparationRange::Short) == 0.0);
    }
}
