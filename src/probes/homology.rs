//! Remote homology detection by nearest neighbours (Rives et al. 2021, "Remote homology"):
//! cosine similarity of mean-pooled embeddings over a SCOPe/ASTRAL set, scored by Hit-10 and
//! ROC AUC at the fold and superfamily levels.
//!
//! Protocol, for every query domain `q` (class, fold, superfamily, family from its sccs):
//! - **Superfamily level.** Candidates exclude `q` and its own family. Positives: same
//!   superfamily (a different family, so not close homologs). Negatives: a different fold.
//!   Same fold but a different superfamily is ambiguous and ignored.
//! - **Fold level.** Candidates exclude `q`'s superfamily. Positives: same fold. Negatives: a
//!   different fold.
//! - **Hit-10**: the fraction of queries (those with at least one positive) having a positive
//!   among their 10 most similar candidates (positives and negatives only).
//! - **AUC**: per query, the probability that a random positive outranks a random negative
//!   (ties count half), averaged over queries.

/// The SCOPe level being scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HomologyLevel {
    /// Same fold, different superfamily.
    Fold,
    /// Same superfamily, different family.
    Superfamily,
}

/// Hit-10 and AUC at one level.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HomologyMetrics {
    /// Which level.
    pub level: HomologyLevel,
    /// Fraction of queries with a positive in their top 10.
    pub hit10: f64,
    /// Mean per-query ROC AUC.
    pub auc: f64,
    /// Queries that had at least one positive and one negative.
    pub queries: usize,
}

impl HomologyMetrics {
    /// Hit-10, or `None` when no query had a positive at this level (the set has no such
    /// pairs, and the stored 0 is no score).
    pub fn scored_hit10(&self) -> Option<f64> {
        (self.queries > 0).then_some(self.hit10)
    }

    /// Mean ROC AUC, or `None` when no query had a positive at this level.
    pub fn scored_auc(&self) -> Option<f64> {
        (self.queries > 0).then_some(self.auc)
    }
}

pub use crate::data::scope::{ScopLabels, scop_labels};

/// Each vector scaled to unit length (a zero vector stays zero), so dot products are cosines.
pub fn unit_vectors(vectors: &[Vec<f32>]) -> Vec<Vec<f32>> {
    vectors
        .iter()
        .map(|v| {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter().map(|x| x / norm).collect()
        })
        .collect()
}

/// Cosine-similarity matrix of `vectors` (`n` rows of equal length), row-major `n x n`. For
/// small sets and tests; [`super::homology_scores`] never holds the whole matrix.
pub fn cosine_similarities(vectors: &[Vec<f32>]) -> Vec<f32> {
    use rayon::prelude::*;
    let normalised = unit_vectors(vectors);
    let n = normalised.len();
    let mut out = vec![0f32; n * n];
    out.par_chunks_mut(n.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            for (j, slot) in row.iter_mut().enumerate() {
                *slot = normalised[i]
                    .iter()
                    .zip(&normalised[j])
                    .map(|(a, b)| a * b)
                    .sum();
            }
        });
    out
}

/// Each domain's labels as integer ids per depth (`[class, fold, superfamily, family]`), so
/// that the per-query scan compares integers.
#[derive(Debug, Clone)]
pub struct LabelIds(Vec<[u32; 4]>);

impl LabelIds {
    /// Ids of `labels` (equal strings at a depth get equal ids).
    pub fn new(labels: &[ScopLabels]) -> Self {
        let mut maps: [std::collections::HashMap<&str, u32>; 4] = Default::default();
        Self(
            labels
                .iter()
                .map(|l| {
                    std::array::from_fn(|depth| {
                        let next = maps[depth].len() as u32;
                        *maps[depth].entry(l[depth].as_str()).or_insert(next)
                    })
                })
                .collect(),
        )
    }
}

/// One query's outcome at one level: a positive in its top 10, and its ROC AUC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryOutcome {
    /// A positive among the 10 best candidates (ties broken by candidate order).
    pub hit10: bool,
    /// Probability that a positive outranks a negative (ties count half).
    pub auc: f64,
}

/// Positives of one level for a query: their scores (sorted ascending) and the best one's
/// `(score, candidate index)`.
struct Positives {
    sorted: Vec<f32>,
    best: (f32, usize),
}

impl Positives {
    fn new(mut scores: Vec<(f32, usize)>) -> Option<Self> {
        let best = scores
            .iter()
            .copied()
            .reduce(|a, b| if b.0 > a.0 { b } else { a })?;
        scores.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(Self {
            sorted: scores.into_iter().map(|s| s.0).collect(),
            best,
        })
    }
}

/// Scores query `q` at both levels from its similarity row (`row[c]` = similarity to `c`) in
/// one pass over the negatives: AUC counts, for each negative, the positives above it (binary
/// search in the few sorted positives); Hit-10 counts the negatives ranked before the best
/// positive. Returns `[fold, superfamily]`, `None` where a level has no positive or negative.
pub fn score_query(row: &[f32], q: usize, ids: &LabelIds) -> [Option<QueryOutcome>; 2] {
    let ids = &ids.0;
    let me = ids[q];
    let (mut fold_pos, mut sf_pos) = (Vec::new(), Vec::new());
    for (c, (&score, other)) in row.iter().zip(ids).enumerate() {
        if c == q || other[1] != me[1] {
            continue;
        }
        if other[2] != me[2] {
            fold_pos.push((score, c));
        } else if other[3] != me[3] {
            sf_pos.push((score, c));
        }
    }
    let levels = [Positives::new(fold_pos), Positives::new(sf_pos)];
    if levels.iter().all(Option::is_none) {
        return [None, None];
    }
    // Per level: (wins over negatives, negatives ranked before the best positive).
    let mut tallies = [(0f64, 0usize); 2];
    let mut negatives = 0usize;
    for (c, (&score, other)) in row.iter().zip(ids).enumerate() {
        if other[1] == me[1] {
            continue; // same fold (the query included): a negative at neither level
        }
        negatives += 1;
        for (positives, tally) in levels.iter().zip(&mut tallies) {
            let Some(p) = positives else { continue };
            // Positives above this negative win; ties (rare in floats) count half.
            let below = p.sorted.partition_point(|&s| s < score);
            let tied = if p.sorted.get(below) == Some(&score) {
                p.sorted[below..].partition_point(|&s| s <= score)
            } else {
                0
            };
            tally.0 += (p.sorted.len() - below - tied) as f64 + 0.5 * tied as f64;
            if score > p.best.0 || (score == p.best.0 && c < p.best.1) {
                tally.1 += 1;
            }
        }
    }
    std::array::from_fn(|level| {
        let positives = levels[level].as_ref()?;
        (negatives > 0).then(|| QueryOutcome {
            hit10: tallies[level].1 < 10,
            auc: tallies[level].0 / (positives.sorted.len() * negatives) as f64,
        })
    })
}

/// Sums query outcomes into the metrics of `level`.
pub fn summarise(
    outcomes: impl Iterator<Item = QueryOutcome>,
    level: HomologyLevel,
) -> HomologyMetrics {
    let (mut hits, mut auc_sum, mut queries) = (0usize, 0f64, 0usize);
    for o in outcomes {
        hits += usize::from(o.hit10);
        auc_sum += o.auc;
        queries += 1;
    }
    HomologyMetrics {
        level,
        hit10: hits as f64 / queries.max(1) as f64,
        auc: auc_sum / queries.max(1) as f64,
        queries,
    }
}

/// Scores a similarity matrix (`n x n`, row-major) against the domains' labels.
pub fn homology_metrics(
    similarity: &[f32],
    labels: &[ScopLabels],
    level: HomologyLevel,
) -> HomologyMetrics {
    let n = labels.len();
    let ids = LabelIds::new(labels);
    let index = match level {
        HomologyLevel::Fold => 0,
        HomologyLevel::Superfamily => 1,
    };
    summarise(
        (0..n).filter_map(|q| score_query(&similarity[q * n..(q + 1) * n], q, &ids)[index]),
        level,
    )
}

/// Hit-10 of a random ranking, `[fold, superfamily]`, over the same queries, positives and
/// negatives as [`score_query`]: a query with `p` positives and `n` negatives finds no
/// positive in a random top 10 with probability `prod_{i<10} (n - i) / (n + p - i)`; the mean of
/// one minus that over the queries having both (`None` at a level without such queries).
/// Counts per label make it `O(domains)`.
pub fn chance_hit10(labels: &[ScopLabels]) -> [Option<f64>; 2] {
    let count_at = |depth: usize| {
        let mut counts = std::collections::HashMap::<&str, usize>::new();
        for l in labels {
            *counts.entry(l[depth].as_str()).or_default() += 1;
        }
        counts
    };
    let [fold, superfamily, family] = [1, 2, 3].map(count_at);
    let total = labels.len();
    let miss = |positives: usize, negatives: usize| {
        (0..10.min(negatives + 1))
            .map(|i| negatives.saturating_sub(i) as f64 / (negatives + positives - i) as f64)
            .product::<f64>()
    };
    let mut sums = [(0.0, 0usize); 2];
    for l in labels {
        let same = |counts: &std::collections::HashMap<&str, usize>, depth: usize| {
            counts[l[depth].as_str()]
        };
        let negatives = total - same(&fold, 1);
        let positives = [
            same(&fold, 1) - same(&superfamily, 2),
            same(&superfamily, 2) - same(&family, 3),
        ];
        for (sum, p) in sums.iter_mut().zip(positives) {
            if p > 0 && negatives > 0 {
                sum.0 += 1.0 - miss(p, negatives);
                sum.1 += 1;
            }
        }
    }
    sums.map(|(sum, queries)| (queries > 0).then(|| sum / queries as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(sccs: &[&str]) -> Vec<ScopLabels> {
        sccs.iter().map(|s| scop_labels(s)).collect()
    }

    #[test]
    fn labels_are_prefixes() {
        assert_eq!(
            scop_labels("a.1.2.3"),
            ["a", "a.1", "a.1.2", "a.1.2.3"].map(String::from)
        );
    }

    /// Domains 0 and 1 share a superfamily (different families), 2 shares only the fold with
    /// them, 3 and 4 are another fold. Similarities put 0's superfamily mate first.
    #[test]
    fn a_hand_made_set_scores_as_computed_by_hand() {
        let l = labels(&["a.1.1.1", "a.1.1.2", "a.1.2.1", "b.1.1.1", "b.2.1.1"]);
        #[rustfmt::skip]
        let sim = vec![
            1.0, 0.9, 0.5, 0.6, 0.1,
            0.9, 1.0, 0.2, 0.3, 0.4,
            0.5, 0.2, 1.0, 0.7, 0.1,
            0.6, 0.3, 0.7, 1.0, 0.2,
            0.1, 0.4, 0.1, 0.2, 1.0,
        ];
        // Superfamily level: queries 0 and 1 each have one positive (each other) and the two
        // b-fold domains as negatives (2 is ignored). Both rank the positive first: AUC 1.
        let sf = homology_metrics(&sim, &l, HomologyLevel::Superfamily);
        assert_eq!(sf.queries, 2);
        assert!((sf.hit10 - 1.0).abs() < 1e-12 && (sf.auc - 1.0).abs() < 1e-12);
        // Fold level: 0 and 1 have positive 2; 2 has positives 0 and 1. Negatives: 3 and 4.
        // q0: 2 (0.5) vs 3 (0.6), 4 (0.1) → AUC 1/2. q1: 2 (0.2) vs 3 (0.3), 4 (0.4) → 0.
        // q2: 0 (0.5), 1 (0.2) vs 3 (0.7), 4 (0.1) → (1 + 1) / 4 = 0.5.
        let fold = homology_metrics(&sim, &l, HomologyLevel::Fold);
        assert_eq!(fold.queries, 3);
        assert!(
            (fold.auc - (0.5 + 0.0 + 0.5) / 3.0).abs() < 1e-12,
            "{}",
            fold.auc
        );
        // With only 3 candidates every positive is in the top 10.
        assert!((fold.hit10 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ties_count_half_and_cosines_are_normalised() {
        // Query 0: its positive (1) and its negative (2) tie at 0.5, AUC 1/2; query 1: its
        // positive (0, 0.5) beats its negative (2, 0.2), AUC 1. Mean 3/4.
        let tied = [1.0, 0.5, 0.5, 0.5, 1.0, 0.2, 0.5, 0.2, 1.0];
        let fold = homology_metrics(
            &tied,
            &labels(&["a.1.1.1", "a.1.2.1", "b.1.1.1"]),
            HomologyLevel::Fold,
        );
        assert_eq!(fold.queries, 2);
        assert!((fold.auc - 0.75).abs() < 1e-12, "{fold:?}");
        let sim = cosine_similarities(&[vec![1.0, 0.0], vec![2.0, 0.0], vec![0.0, 3.0]]);
        assert!((sim[1] - 1.0).abs() < 1e-6 && sim[2].abs() < 1e-6 && (sim[8] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn chance_hit10_is_one_minus_the_chance_of_ten_negatives_first() {
        // Fold a.1: 2 superfamilies; 20 domains of other folds as negatives.
        let mut sccs = vec!["a.1.1.1", "a.1.1.2", "a.1.2.1"];
        let others: Vec<String> = (0..20).map(|k| format!("b.{k}.1.1")).collect();
        sccs.extend(others.iter().map(String::as_str));
        let [fold, superfamily] = chance_hit10(&labels(&sccs));
        // Superfamily: queries 0 and 1, one positive each, 20 negatives (2 is ignored):
        // 1 - C(20,10)/C(21,10) = 1 - 11/21.
        assert!((superfamily.expect("queries") - 10.0 / 21.0).abs() < 1e-12);
        // Fold: 0 and 1 have one positive (2), 2 has two (0, 1); the b domains have none.
        let one = 10.0 / 21.0;
        let two = 1.0 - (11.0 * 12.0) / (21.0 * 22.0);
        assert!((fold.expect("queries") - (2.0 * one + two) / 3.0).abs() < 1e-12);
        assert_eq!(chance_hit10(&labels(&["a.1.1.1", "b.1.1.1"])), [None, None]);
    }
}
