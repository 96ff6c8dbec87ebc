//! The residue pairs a contact probe trains on: every contact of a protein (Cβ < 8 Å,
//! `|i - j| >= 6`, both residues observed) and a seeded uniform sample of its non-contacts,
//! `negatives_per_positive` of them per contact. Each sampled non-contact is weighted by
//! `all non-contacts / sampled non-contacts`, so the weighted loss is an unbiased estimate of
//! the loss over every pair: the probe's probabilities stay calibrated, while training touches
//! about `(1 + ratio) * contacts` pairs per protein instead of `L^2` (a 300-residue chain has
//! ~42k trainable pairs and ~500 contacts: 5.5k pairs at the default ratio of 10).

use crate::data::ContactMap;
use crate::rng::SplitMix64;

/// Pairs closer in sequence than this are not trained on (nor scored).
pub const MIN_SEPARATION: usize = 6;

/// Non-contacts sampled per contact, by default.
pub const DEFAULT_NEGATIVES_PER_POSITIVE: usize = 10;

/// One protein's training pairs, `i < j`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampledPairs {
    /// Residue indices `(i, j)`, `i < j`.
    pub pairs: Vec<(u32, u32)>,
    /// Whether each pair is a contact.
    pub positive: Vec<bool>,
    /// Loss weight of each pair (1 for contacts, the inverse sampling rate for non-contacts).
    pub weights: Vec<f32>,
    /// Contacts (all of them are kept).
    pub positives: usize,
    /// Trainable non-contacts before sampling.
    pub negatives_available: usize,
}

impl SampledPairs {
    /// Sum of the weights: the number of trainable pairs the sample stands for.
    pub fn weight_sum(&self) -> f64 {
        (self.positives + self.negatives_available) as f64
    }

    /// Pairs trained on.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether nothing is trained on.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// The pairs of `map` to train on (see the module docs); `negatives_per_positive == 0` keeps
/// every non-contact (the dense loss). A protein without contacts keeps `negatives_per_positive`
/// non-contacts, so it still teaches the bias.
pub fn sample_pairs(map: &ContactMap, negatives_per_positive: usize, seed: u64) -> SampledPairs {
    let n = map.len;
    let mut sample = SampledPairs::default();
    let mut negatives = Vec::new();
    for i in 0..n {
        if !map.valid[i] {
            continue;
        }
        for j in i + MIN_SEPARATION..n {
            if !map.valid[j] {
                continue;
            }
            if map.contact(i, j) {
                sample.pairs.push((i as u32, j as u32));
                sample.positive.push(true);
                sample.weights.push(1.0);
            } else {
                negatives.push((i as u32, j as u32));
            }
        }
    }
    sample.positives = sample.pairs.len();
    sample.negatives_available = negatives.len();
    let wanted = if negatives_per_positive == 0 {
        negatives.len()
    } else {
        (negatives_per_positive * sample.positives.max(1)).min(negatives.len())
    };
    if wanted < negatives.len() {
        // A partial Fisher-Yates shuffle: the first `wanted` are a uniform sample.
        let mut rng = SplitMix64::new(seed);
        for k in 0..wanted {
            let pick = k + rng.below(negatives.len() - k);
            negatives.swap(k, pick);
        }
        negatives.truncate(wanted);
        negatives.sort_unstable();
    }
    let weight = if wanted == 0 {
        0.0
    } else {
        sample.negatives_available as f32 / wanted as f32
    };
    sample.positive.extend(std::iter::repeat_n(false, wanted));
    sample.weights.extend(std::iter::repeat_n(weight, wanted));
    sample.pairs.extend(negatives);
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain of `n` residues with contacts between `i` and `i + 7` and one unobserved residue.
    fn map(n: usize) -> ContactMap {
        let mut contacts = vec![false; n * n];
        for i in 0..n - 7 {
            contacts[i * n + i + 7] = true;
            contacts[(i + 7) * n + i] = true;
        }
        let mut valid = vec![true; n];
        valid[3] = false;
        ContactMap {
            len: n,
            contacts,
            valid,
            distances: vec![0.0; n * n],
        }
    }

    #[test]
    fn keeps_every_contact_and_weights_the_sampled_non_contacts_to_the_full_count() {
        let map = map(60);
        let sample = sample_pairs(&map, 2, 7);
        // Contacts (i, i+7) for i in 0..53, minus the one that touches residue 3.
        assert_eq!(sample.positives, 52);
        assert_eq!(sample.len(), 52 * 3);
        assert!(
            sample
                .pairs
                .iter()
                .all(|&(i, j)| j as usize >= i as usize + 6)
        );
        assert!(sample.pairs.iter().all(|&(i, j)| i != 3 && j != 3));
        let trainable: usize = (0..60)
            .filter(|&i| i != 3)
            .map(|i| (i + 6..60).filter(|&j| j != 3).count())
            .sum();
        assert_eq!(sample.positives + sample.negatives_available, trainable);
        let total: f64 = sample.weights.iter().map(|&w| f64::from(w)).sum();
        assert!((total - sample.weight_sum()).abs() < 1e-3, "{total}");
        let mut unique = sample.pairs.clone();
        unique.dedup();
        assert_eq!(unique.len(), sample.len(), "no pair twice");
    }

    #[test]
    fn is_seeded_and_ratio_zero_keeps_the_dense_loss() {
        let map = map(40);
        assert_eq!(sample_pairs(&map, 3, 1), sample_pairs(&map, 3, 1));
        assert_ne!(
            sample_pairs(&map, 3, 1).pairs,
            sample_pairs(&map, 3, 2).pairs
        );
        let dense = sample_pairs(&map, 0, 1);
        assert_eq!(dense.len(), dense.positives + dense.negatives_available);
        assert!(dense.weights.iter().all(|&w| w == 1.0));
    }
}
