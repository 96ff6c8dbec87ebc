//! Shared 8-mers between a sequence and a set of sequences: a cheap, alignment-free measure of
//! close relatedness, used to keep held-out proteins with near copies in the training part out
//! of the held-out set. A random 8-mer turns up by chance in a corpus of 9M residues with
//! probability ~3e-4 (uniform amino acids; 20^8 = 2.6e10 possible), while orthologs from related
//! species share most of theirs.

use std::collections::HashSet;

/// Residues per k-mer.
pub const KMER: usize = 8;

/// The 8-mers of a set of token sequences (residue ids below 64, packed 6 bits each).
#[derive(Debug, Default, Clone)]
pub struct KmerSet {
    kmers: HashSet<u64>,
}

impl KmerSet {
    /// The 8-mers of every sequence in `sequences` (residue token ids, no BOS/EOS).
    pub fn of<'a>(sequences: impl IntoIterator<Item = &'a Vec<u32>>) -> Self {
        let mut set = Self::default();
        for sequence in sequences {
            set.insert(sequence);
        }
        set
    }

    /// Adds the 8-mers of `sequence`.
    pub fn insert(&mut self, sequence: &[u32]) {
        self.kmers.extend(kmers(sequence));
    }

    /// Fraction of the 8-mers of `sequence` found in the set (0 for sequences shorter than 8).
    pub fn shared_fraction(&self, sequence: &[u32]) -> f64 {
        let total = sequence.len().saturating_sub(KMER - 1);
        if total == 0 {
            return 0.0;
        }
        let shared = kmers(sequence).filter(|k| self.kmers.contains(k)).count();
        shared as f64 / total as f64
    }
}

/// The packed 8-mers of `sequence`, left to right.
fn kmers(sequence: &[u32]) -> impl Iterator<Item = u64> + '_ {
    sequence.windows(KMER).map(|window| {
        window
            .iter()
            .fold(0u64, |packed, &token| (packed << 6) | u64::from(token & 63))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Alphabet;

    fn tokens(s: &str) -> Vec<u32> {
        Alphabet::encode("t", s).unwrap_or_default()
    }

    #[test]
    fn shared_fraction_counts_the_8_mers_found() {
        let set = KmerSet::of(&[tokens("MKTAYIAKQRQISFVK")]);
        assert_eq!(set.shared_fraction(&tokens("MKTAYIAKQRQISFVK")), 1.0);
        // 9 of this sequence's 10 8-mers lie inside the training sequence.
        assert!((set.shared_fraction(&tokens("MKTAYIAKQRQISFVKW")) - 0.9).abs() < 1e-12);
        assert!((set.shared_fraction(&tokens("AKQRQISFVKW")) - 0.75).abs() < 1e-12);
        assert_eq!(set.shared_fraction(&tokens("WWWWWWWWWWWW")), 0.0);
        assert_eq!(
            set.shared_fraction(&tokens("MKTAYIA")),
            0.0,
            "shorter than 8"
        );
    }
}
