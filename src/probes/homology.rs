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

/// One domain's labels: `[class, fold, superfamily, family]` sccs prefixes.
pub type ScopLabels = [String; 4];

/// Labels of an sccs string such as `a.1.1.1`.
pub fn scop_labels(sccs: &str) -> ScopLabels {
    let parts: Vec<&str> = sccs.split('.').collect();
    std::array::from_fn(|depth| parts[..(depth + 1).min(parts.len())].join("."))
}

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

/// Cosine-similarity matrix of `vectors` (`n` rows of equal length), row-major `n x n`.
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

/// Scores a similarity matrix (`n x n`, row-major) against the domains' labels.
pub fn homology_metrics(
    similarity: &[f32],
    labels: &[ScopLabels],
    level: HomologyLevel,
) -> HomologyMetrics {
    let n = labels.len();
    let (mut hits, mut auc_sum, mut queries) = (0usize, 0f64, 0usize);
    for q in 0..n {
        let mut scored: Vec<(f32, bool)> = Vec::new();
        for c in (0..n).filter(|&c| c != q) {
            let same = |depth: usize| labels[q][depth] == labels[c][depth];
            let role = match level {
                HomologyLevel::Superfamily if same(3) => None,
                HomologyLevel::Superfamily if same(2) => Some(true),
                HomologyLevel::Superfamily if same(1) => None,
                HomologyLevel::Fold if same(2) => None,
                HomologyLevel::Fold if same(1) => Some(true),
                _ => Some(false),
            };
            if let Some(positive) = role {
                scored.push((similarity[q * n + c], positive));
            }
        }
        let positives = scored.iter().filter(|s| s.1).count();
        let negatives = scored.len() - positives;
        if positives == 0 || negatives == 0 {
            continue;
        }
        queries += 1;
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        hits += usize::from(scored.iter().take(10).any(|s| s.1));
        auc_sum += roc_auc(&scored, positives, negatives);
    }
    HomologyMetrics {
        level,
        hit10: hits as f64 / queries.max(1) as f64,
        auc: auc_sum / queries.max(1) as f64,
        queries,
    }
}

/// AUC of `(score, is_positive)` sorted by descending score, with ties counted half.
fn roc_auc(sorted: &[(f32, bool)], positives: usize, negatives: usize) -> f64 {
    // For each positive, count negatives strictly below it plus half of the tied ones.
    let mut wins = 0f64;
    let mut i = 0;
    let mut negatives_seen = 0usize;
    while i < sorted.len() {
        let mut j = i;
        let (mut pos, mut neg) = (0usize, 0usize);
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            if sorted[j].1 {
                pos += 1
            } else {
                neg += 1
            }
            j += 1;
        }
        let below = negatives - negatives_seen - neg;
        wins += pos as f64 * (below as f64 + 0.5 * neg as f64);
        negatives_seen += neg;
        i = j;
    }
    wins / (positives * negatives) as f64
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
        let sorted = [(0.5, true), (0.5, false)];
        assert!((roc_auc(&sorted, 1, 1) - 0.5).abs() < 1e-12);
        let sim = cosine_similarities(&[vec![1.0, 0.0], vec![2.0, 0.0], vec![0.0, 3.0]]);
        assert!((sim[1] - 1.0).abs() < 1e-6 && sim[2].abs() < 1e-6 && (sim[8] - 1.0).abs() < 1e-6);
    }
}
