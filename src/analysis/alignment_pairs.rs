//! The residue pairs of the alignment study (Rives et al. 2021, "learning encodes alignment
//! within a protein family"): aligned pairs are pairs of residues that the family's alignment
//! puts in one column (all of them, or a seeded sample of `budget` without repeats); unaligned
//! pairs are as many pairs of residues of different sequences in different columns, seeded.
//! Insert residues (no column) and residues past what the model read (a store holds at most
//! the model's window) are in neither set.

use std::collections::HashSet;

use crate::data::Alignment;
use crate::rng::SplitMix64;

/// A residue: `(sequence index, residue index)` in the family.
pub type Residue = (u32, u32);

/// The two sets of one family.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FamilyPairs {
    /// Pairs in one column.
    pub aligned: Vec<(Residue, Residue)>,
    /// Pairs of different sequences in different columns, as many as `aligned`.
    pub unaligned: Vec<(Residue, Residue)>,
    /// Aligned pairs in the family before sampling.
    pub aligned_total: u64,
}

/// The residues of each column that the model read (`read[s]` residues of sequence `s`).
fn columns(alignment: &Alignment, read: &[usize]) -> Vec<Vec<Residue>> {
    let mut columns = vec![Vec::new(); alignment.width];
    for (s, sequence) in alignment.sequences.iter().enumerate() {
        let limit = read.get(s).copied().unwrap_or(0);
        for (p, column) in sequence.columns.iter().enumerate().take(limit) {
            if let Some(c) = column {
                columns[*c as usize].push((s as u32, p as u32));
            }
        }
    }
    columns
}

/// `k` distinct indices below `n`, sorted (Floyd's algorithm; all of them when `k >= n`).
fn distinct_sorted(n: u64, k: u64, rng: &mut SplitMix64) -> Vec<u64> {
    if k >= n {
        return (0..n).collect();
    }
    let mut chosen = HashSet::with_capacity(k as usize);
    for j in n - k..n {
        let t = rng.next_u64() % (j + 1);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let mut sorted: Vec<u64> = chosen.into_iter().collect();
    sorted.sort_unstable();
    sorted
}

/// Pair number `t` of `m` items as `(i, j)`, `i < j` (row-major over the upper triangle).
fn pair_of(mut t: u64, m: u64) -> (usize, usize) {
    let mut i = 0;
    while t >= m - 1 - i {
        t -= m - 1 - i;
        i += 1;
    }
    (i as usize, (i + 1 + t) as usize)
}

/// The aligned and unaligned pairs of `alignment` (each at most `budget`), `read` residues of
/// each sequence read by the model, seeded by `seed`.
pub fn sample_pairs(
    alignment: &Alignment,
    read: &[usize],
    budget: usize,
    seed: u64,
) -> FamilyPairs {
    let columns = columns(alignment, read);
    let counts: Vec<u64> = columns
        .iter()
        .map(|c| (c.len() as u64) * (c.len() as u64).saturating_sub(1) / 2)
        .collect();
    let total: u64 = counts.iter().sum();
    let mut rng = SplitMix64::stream(seed, 1);
    let picked = distinct_sorted(total, budget as u64, &mut rng);
    let mut aligned = Vec::with_capacity(picked.len());
    let (mut column, mut before) = (0, 0u64);
    for t in picked {
        while t >= before + counts[column] {
            before += counts[column];
            column += 1;
        }
        let (i, j) = pair_of(t - before, columns[column].len() as u64);
        aligned.push((columns[column][i], columns[column][j]));
    }
    let in_columns: Vec<(Residue, usize)> = columns
        .iter()
        .enumerate()
        .flat_map(|(c, residues)| residues.iter().map(move |&r| (r, c)))
        .collect();
    let mut unaligned = Vec::with_capacity(aligned.len());
    let mut rng = SplitMix64::stream(seed, 2);
    let mut attempts = 0;
    while unaligned.len() < aligned.len() && attempts < 100 * aligned.len().max(1) {
        attempts += 1;
        let (a, ca) = in_columns[rng.below(in_columns.len())];
        let (b, cb) = in_columns[rng.below(in_columns.len())];
        if a.0 != b.0 && ca != cb {
            unaligned.push((a, b));
        }
    }
    FamilyPairs {
        aligned,
        unaligned,
        aligned_total: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::AlignedSequence;

    fn family() -> Alignment {
        // Three sequences over 4 columns; the second has an insert, the third a gap.
        let seq = |id: &str, s: &str, columns: Vec<Option<u32>>| AlignedSequence {
            id: id.into(),
            sequence: s.into(),
            columns,
        };
        Alignment {
            name: "toy".into(),
            accession: String::new(),
            sequences: vec![
                seq("a", "ACDE", vec![Some(0), Some(1), Some(2), Some(3)]),
                seq("b", "AKCDE", vec![Some(0), None, Some(1), Some(2), Some(3)]),
                seq("c", "ACE", vec![Some(0), Some(1), Some(3)]),
            ],
            width: 4,
        }
    }

    #[test]
    fn aligned_pairs_share_a_column_and_unaligned_ones_do_not() {
        let family = family();
        let all = sample_pairs(&family, &[4, 5, 3], 1000, 7);
        // Columns hold 3, 3, 2 and 3 residues: 3 + 3 + 1 + 3 pairs.
        assert_eq!(all.aligned_total, 10);
        assert_eq!(all.aligned.len(), 10);
        let column = |(s, p): Residue| family.sequences[s as usize].columns[p as usize];
        for &(a, b) in &all.aligned {
            assert_eq!(column(a), column(b));
            assert_ne!(a.0, b.0);
        }
        assert_eq!(all.unaligned.len(), 10);
        for &(a, b) in &all.unaligned {
            assert_ne!(column(a), column(b));
            assert_ne!(a.0, b.0);
            assert!(column(a).is_some() && column(b).is_some(), "no inserts");
        }
        let some = sample_pairs(&family, &[4, 5, 3], 4, 7);
        assert_eq!(some.aligned.len(), 4);
        let distinct: HashSet<_> = some.aligned.iter().collect();
        assert_eq!(distinct.len(), 4, "sampled without repeats");
        assert_eq!(some, sample_pairs(&family, &[4, 5, 3], 4, 7), "seeded");
        // Only the first residue of each sequence read: column 0 alone, 3 pairs.
        assert_eq!(sample_pairs(&family, &[1, 1, 1], 1000, 7).aligned_total, 3);
    }

    #[test]
    fn pair_numbers_cover_the_upper_triangle_once() {
        let pairs: Vec<(usize, usize)> = (0..6).map(|t| pair_of(t, 4)).collect();
        assert_eq!(pairs, vec![(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]);
    }
}
