//! How well one attention head tracks contacts, on one chain: its symmetrised, APC-corrected
//! map ranked as a contact predictor (precision at L, L/2, L/5 per separation range, as
//! [`super::contact_precision`]), and the share of its confident attention (weight above a
//! threshold, Vig et al. 2021 use 0.3) that falls on contacts.
//!
//! The pairs of each range are listed once per chain ([`ChainPairs`]) and each head only
//! gathers its values and selects its top `L`, so that scoring the 660 heads of ESM-1b costs
//! `O(heads · L²)` rather than 660 full sorts.

use crate::data::{ContactMap, SeparationRange};

use super::precision_at_l::{ContactPrecision, RangePrecision};

/// Vig et al.'s confidence threshold on an attention weight.
pub const DEFAULT_ATTENTION_THRESHOLD: f64 = 0.3;

/// One chain's evaluable pairs, listed once for all heads.
#[derive(Debug, Clone)]
pub struct ChainPairs {
    /// Residues.
    len: usize,
    /// Per range (short, medium, long): `(i * len + j, contact)` of the pairs `i < j` of that
    /// range whose residues both have a Cβ.
    ranges: [Vec<(usize, bool)>; 3],
}

/// Confident-attention counts of one head on one chain.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConfidentAttention {
    /// Attention weights above the threshold on evaluable pairs at least 6 apart (both
    /// directions, `i → j` and `j → i`).
    pub confident: usize,
    /// Those of them on contacts.
    pub on_contacts: usize,
}

impl ConfidentAttention {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: ConfidentAttention) {
        self.confident += other.confident;
        self.on_contacts += other.on_contacts;
    }

    /// The share on contacts (`NaN` when no weight passed the threshold).
    pub fn share(&self) -> f64 {
        if self.confident == 0 {
            f64::NAN
        } else {
            self.on_contacts as f64 / self.confident as f64
        }
    }
}

const RANGES: [SeparationRange; 3] = [
    SeparationRange::Short,
    SeparationRange::Medium,
    SeparationRange::Long,
];

impl ChainPairs {
    /// The evaluable pairs of `truth`, by range.
    pub fn new(truth: &ContactMap) -> Self {
        let len = truth.len;
        let mut ranges: [Vec<(usize, bool)>; 3] = Default::default();
        for i in (0..len).filter(|&i| truth.valid[i]) {
            for j in (i + 1..len).filter(|&j| truth.valid[j]) {
                if let Some(range) = SeparationRange::of(i, j) {
                    let slot = RANGES.iter().position(|r| *r == range).unwrap_or(0);
                    ranges[slot].push((i * len + j, truth.contact(i, j)));
                }
            }
        }
        Self { len, ranges }
    }

    /// Residues of the chain.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The chain has no residues.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Evaluable pairs at least 6 apart and the contacts among them: the background rate of
    /// [`ConfidentAttention::share`] is `contacts / pairs`.
    pub fn background(&self) -> (usize, usize) {
        let pairs = self.ranges.iter().map(Vec::len).sum();
        let contacts = self.ranges.iter().flatten().filter(|p| p.1).count();
        (pairs, contacts)
    }

    /// Precision of the row-major `len x len` map `scores` (ties keep the pairs' order):
    /// what [`super::contact_precision`] reports.
    pub fn precision(&self, scores: &[f32]) -> ContactPrecision {
        let [short, medium, long] = std::array::from_fn(|k| self.range_precision(scores, k));
        ContactPrecision {
            short,
            medium,
            long,
        }
    }

    fn range_precision(&self, scores: &[f32], range: usize) -> RangePrecision {
        let pairs = &self.ranges[range];
        // The top `len` pairs, best first; a stable order among equal scores.
        let mut ranked: Vec<(f32, usize, bool)> = pairs
            .iter()
            .enumerate()
            .map(|(order, &(index, contact))| (scores[index], order, contact))
            .collect();
        let keep = self.len.max(1).min(ranked.len());
        let by_score = |a: &(f32, usize, bool), b: &(f32, usize, bool)| {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
        };
        if keep > 0 && keep < ranked.len() {
            ranked.select_nth_unstable_by(keep - 1, by_score);
            ranked.truncate(keep);
        }
        ranked.sort_by(by_score);
        let top = |k: usize| {
            let k = k.max(1).min(pairs.len());
            if k == 0 {
                f64::NAN
            } else {
                ranked[..k].iter().filter(|p| p.2).count() as f64 / k as f64
            }
        };
        RangePrecision {
            at_l: top(self.len),
            at_l2: top(self.len / 2),
            at_l5: top(self.len / 5),
        }
    }

    /// Confident weights of the row-major `len x len` attention map `weights` (rows attend to
    /// columns) on the evaluable pairs at least 6 apart, and those on contacts.
    pub fn confident_attention(&self, weights: &[f32], threshold: f64) -> ConfidentAttention {
        let mut counts = ConfidentAttention::default();
        for &(index, contact) in self.ranges.iter().flatten() {
            let (i, j) = (index / self.len, index % self.len);
            for w in [weights[index], weights[j * self.len + i]] {
                if f64::from(w) > threshold {
                    counts.confident += 1;
                    counts.on_contacts += usize::from(contact);
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition itself: every pair of a range sorted (stably) by score, then the
    /// contacts among the top `L`, `L/2`, `L/5`.
    fn full_sort_precision(predicted: &[f32], truth: &ContactMap) -> ContactPrecision {
        let len = truth.len;
        let range = |which: SeparationRange| {
            let mut pairs: Vec<(f32, bool)> = Vec::new();
            for i in 0..len {
                for j in (i + 1)..len {
                    if SeparationRange::of(i, j) == Some(which) && truth.valid[i] && truth.valid[j]
                    {
                        pairs.push((predicted[i * len + j], truth.contact(i, j)));
                    }
                }
            }
            pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
            let top = |k: usize| {
                let k = k.max(1).min(pairs.len());
                if k == 0 {
                    f64::NAN
                } else {
                    pairs[..k].iter().filter(|p| p.1).count() as f64 / k as f64
                }
            };
            RangePrecision {
                at_l: top(len),
                at_l2: top(len / 2),
                at_l5: top(len / 5),
            }
        };
        ContactPrecision {
            short: range(SeparationRange::Short),
            medium: range(SeparationRange::Medium),
            long: range(SeparationRange::Long),
        }
    }

    fn chain(len: usize, seed: u64) -> (ContactMap, Vec<f32>) {
        let mut rng = crate::rng::SplitMix64::new(seed);
        let mut contacts = vec![false; len * len];
        for i in 0..len {
            for j in i + 1..len {
                let c = rng.unit() < 0.1;
                contacts[i * len + j] = c;
                contacts[j * len + i] = c;
            }
        }
        let mut valid = vec![true; len];
        if len > 3 {
            valid[3] = false;
        }
        let scores: Vec<f32> = (0..len * len).map(|_| rng.unit()).collect();
        let map = ContactMap {
            len,
            contacts,
            valid,
            distances: vec![f32::NAN; len * len],
        };
        (map, scores)
    }

    #[test]
    fn the_selected_top_pairs_give_the_full_sorts_precision() {
        for (len, seed) in [(40, 1), (97, 2), (7, 3), (1, 4)] {
            let (truth, scores) = chain(len, seed);
            let pairs = ChainPairs::new(&truth);
            let fast = pairs.precision(&scores);
            let full = full_sort_precision(&scores, &truth);
            let same = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || a == b;
            for (f, g) in [
                (fast.short, full.short),
                (fast.medium, full.medium),
                (fast.long, full.long),
            ] {
                assert!(same(f.at_l, g.at_l) && same(f.at_l2, g.at_l2) && same(f.at_l5, g.at_l5));
            }
        }
    }

    #[test]
    fn confident_attention_counts_both_directions_on_pairs_six_apart() {
        let len = 10;
        let mut contacts = vec![false; len * len];
        contacts[7] = true; // (0, 7)
        contacts[70] = true;
        let truth = ContactMap {
            len,
            contacts,
            valid: vec![true; len],
            distances: vec![f32::NAN; len * len],
        };
        let pairs = ChainPairs::new(&truth);
        let mut weights = vec![0.0f32; len * len];
        weights[7] = 0.9; // 0 -> 7, a contact
        weights[9 * len] = 0.5; // 9 -> 0, not a contact
        weights[1] = 0.9; // 0 -> 1, too close to count
        weights[8] = 0.2; // below the threshold
        let counts = pairs.confident_attention(&weights, 0.3);
        assert_eq!(
            counts,
            ConfidentAttention {
                confident: 2,
                on_contacts: 1
            }
        );
        assert_eq!(counts.share(), 0.5);
        // Pairs 6+ apart among 10 residues: (0,6..9), (1,7..9), (2,8..9), (3,9) = 10.
        assert_eq!(pairs.background(), (10, 1));
    }
}
