//! Length-bucketed batches under a token budget, and random crops of long sequences, for
//! masked-language-model training.
//!
//! Each epoch shuffles the sequences, groups them by cropped length (buckets of
//! [`BUCKET_WIDTH`] residues), packs each group into batches of at most `tokens_per_batch`
//! padded tokens, then shuffles the batch order. Similar lengths share a batch, so little
//! compute goes to padding.

use crate::batching::pack_by_tokens;
use crate::model::{Alphabet, TokenBatch};
use crate::rng::SplitMix64;

/// Residues per length bucket.
pub const BUCKET_WIDTH: usize = 32;

/// The batches (lists of sequence indices) of one epoch over sequences of `lengths` residues,
/// each cropped to `max_residues`. A batch holds at most `tokens_per_batch` tokens, counting
/// BOS/EOS and padding; a sequence longer than the budget forms a batch of its own.
pub fn epoch_batches(
    lengths: &[usize],
    max_residues: usize,
    tokens_per_batch: usize,
    rng: &mut SplitMix64,
) -> Vec<Vec<usize>> {
    let cropped = |i: usize| lengths[i].min(max_residues);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    rng.shuffle(&mut order);
    order.sort_by_key(|&i| cropped(i) / BUCKET_WIDTH);
    let mut batches = pack_by_tokens(order, |i| cropped(i) + 2, tokens_per_batch);
    rng.shuffle(&mut batches);
    batches
}

/// A random window of at most `max_residues` residue tokens (BOS/EOS added), as fair-esm's
/// training crops long UniRef sequences.
pub fn crop_with_bos_eos(residues: &[u32], max_residues: usize, rng: &mut SplitMix64) -> Vec<u32> {
    let start = if residues.len() > max_residues {
        rng.below(residues.len() - max_residues + 1)
    } else {
        0
    };
    let window = &residues[start..(start + max_residues).min(residues.len())];
    let mut row = Vec::with_capacity(window.len() + 2);
    row.push(Alphabet::CLS);
    row.extend_from_slice(window);
    row.push(Alphabet::EOS);
    row
}

/// The padded batch of sequences `indices`, each randomly cropped.
pub fn build_batch(
    sequences: &[Vec<u32>],
    indices: &[usize],
    max_residues: usize,
    rng: &mut SplitMix64,
) -> TokenBatch {
    let rows: Vec<Vec<u32>> = indices
        .iter()
        .map(|&i| crop_with_bos_eos(&sequences[i], max_residues, rng))
        .collect();
    TokenBatch::from_rows(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_sequence_once_within_budget() {
        let mut rng = SplitMix64::new(5);
        let lengths: Vec<usize> = (0..500).map(|_| 20 + rng.below(1500)).collect();
        let batches = epoch_batches(&lengths, 1000, 4096, &mut rng);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..500).collect::<Vec<_>>());
        let mut padded = 0;
        let mut real = 0;
        for batch in &batches {
            let longest = batch
                .iter()
                .map(|&i| lengths[i].min(1000) + 2)
                .max()
                .unwrap_or(0);
            assert!(batch.len() * longest <= 4096 || batch.len() == 1);
            padded += batch.len() * longest;
            real += batch
                .iter()
                .map(|&i| lengths[i].min(1000) + 2)
                .sum::<usize>();
        }
        // Bucketing keeps padding small.
        assert!(
            real as f64 / padded as f64 > 0.9,
            "{}",
            real as f64 / padded as f64
        );
    }

    #[test]
    fn crops_are_windows_of_the_sequence() {
        let residues: Vec<u32> = (0..50).map(|i| 4 + i % 20).collect();
        let mut rng = SplitMix64::new(1);
        for _ in 0..20 {
            let row = crop_with_bos_eos(&residues, 10, &mut rng);
            assert_eq!(row.len(), 12);
            assert_eq!((row[0], row[11]), (Alphabet::CLS, Alphabet::EOS));
            let window = &row[1..11];
            assert!(residues.windows(10).any(|w| w == window));
        }
        assert_eq!(crop_with_bos_eos(&residues[..5], 10, &mut rng).len(), 7);
    }
}
