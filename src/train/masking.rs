//! BERT-style masking for masked-language-model training (Devlin et al. 2019; ESM-1b, Rives et
//! al. 2021, Methods): each residue is chosen as a target with probability `mask_prob`; a chosen
//! residue is replaced by `<mask>` 80% of the time, by a random standard amino acid 10% of the
//! time, and left unchanged 10% of the time. The loss is taken on the chosen positions only.

use crate::model::{Alphabet, TokenBatch};
use crate::rng::SplitMix64;

/// Token ids of the 20 standard amino acids (`LAGVSERTIDPKQNFYMHWC`).
pub const STANDARD_AMINO_ACIDS: std::ops::Range<u32> = 4..24;

/// How targets are chosen and corrupted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MaskingScheme {
    /// Fraction of residues chosen as targets (0.15).
    pub mask_prob: f32,
    /// Of the targets, the fraction replaced by `<mask>` (0.8).
    pub replace_with_mask: f32,
    /// Of the targets, the fraction replaced by a random amino acid (0.1); the rest stay.
    pub replace_with_random: f32,
}

impl Default for MaskingScheme {
    fn default() -> Self {
        Self {
            mask_prob: 0.15,
            replace_with_mask: 0.8,
            replace_with_random: 0.1,
        }
    }
}

impl MaskingScheme {
    /// Evaluation masking: every target becomes `<mask>` (no random or kept tokens), so the
    /// perplexity measures prediction from context alone.
    pub fn evaluation() -> Self {
        Self {
            mask_prob: 0.15,
            replace_with_mask: 1.0,
            replace_with_random: 0.0,
        }
    }
}

/// A corrupted batch and what to predict.
#[derive(Debug, Clone)]
pub struct MaskedBatch {
    /// The model input, `(batch, max_len)` with corrupted targets.
    pub input: TokenBatch,
    /// Flat indices into `input.tokens` (`row * max_len + column`) of the targets.
    pub target_positions: Vec<u32>,
    /// The original token at each target position.
    pub target_tokens: Vec<u32>,
}

impl MaskedBatch {
    /// Row `row` alone and unpadded, with its targets (in their order) re-indexed.
    pub fn single_row(&self, row: usize) -> MaskedBatch {
        let width = self.input.max_len;
        let first = row * width;
        let tokens = self.input.tokens[first..first + self.input.residue_counts[row] + 2].to_vec();
        let mut target_positions = Vec::new();
        let mut target_tokens = Vec::new();
        for (&position, &token) in self.target_positions.iter().zip(&self.target_tokens) {
            if position as usize / width == row {
                target_positions.push(position - first as u32);
                target_tokens.push(token);
            }
        }
        MaskedBatch {
            input: TokenBatch::from_rows(&[tokens]),
            target_positions,
            target_tokens,
        }
    }

    /// Single-row batches padded into one batch, in order, their target positions re-indexed
    /// (each row's targets stay together, rows in order).
    pub fn merge_rows(rows: &[&MaskedBatch]) -> MaskedBatch {
        let token_rows: Vec<Vec<u32>> = rows.iter().map(|r| r.input.tokens.clone()).collect();
        let input = TokenBatch::from_rows(&token_rows);
        let mut target_positions = Vec::new();
        let mut target_tokens = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let offset = (i * input.max_len) as u32;
            target_positions.extend(row.target_positions.iter().map(|p| p + offset));
            target_tokens.extend_from_slice(&row.target_tokens);
        }
        MaskedBatch {
            input,
            target_positions,
            target_tokens,
        }
    }

    /// The rows split into at most `parts` contiguous shards of about equal row counts, each
    /// padded only to its own longest row, with its targets (in the original order) re-indexed.
    /// A shard may have no target. Data-parallel training computes each shard's gradient on its
    /// own thread.
    pub fn split_rows(&self, parts: usize) -> Vec<MaskedBatch> {
        let rows = self.input.batch_size;
        let parts = parts.clamp(1, rows.max(1));
        let singles: Vec<MaskedBatch> = (0..rows).map(|r| self.single_row(r)).collect();
        (0..parts)
            .map(|part| {
                let shard = &singles[part * rows / parts..(part + 1) * rows / parts];
                Self::merge_rows(&shard.iter().collect::<Vec<_>>())
            })
            .collect()
    }
}

/// Masks the residues (never BOS, EOS or padding) of `batch`. Always returns at least one target
/// when the batch has a residue, so a step never has an empty loss.
pub fn mask_batch(batch: &TokenBatch, scheme: &MaskingScheme, rng: &mut SplitMix64) -> MaskedBatch {
    let mut input = batch.clone();
    let mut target_positions = Vec::new();
    let mut target_tokens = Vec::new();
    let is_residue = |t: u32| !matches!(t, Alphabet::CLS | Alphabet::EOS | Alphabet::PAD);
    for (i, token) in input.tokens.iter_mut().enumerate() {
        if !is_residue(*token) || rng.unit() > scheme.mask_prob {
            continue;
        }
        target_positions.push(i as u32);
        target_tokens.push(*token);
        let roll = rng.unit();
        if roll <= scheme.replace_with_mask {
            *token = Alphabet::MASK;
        } else if roll <= scheme.replace_with_mask + scheme.replace_with_random {
            *token = STANDARD_AMINO_ACIDS.start + rng.below(STANDARD_AMINO_ACIDS.len()) as u32;
        }
    }
    if target_positions.is_empty() {
        let residues: Vec<usize> = (0..input.tokens.len())
            .filter(|&i| is_residue(input.tokens[i]))
            .collect();
        if !residues.is_empty() {
            let i = residues[rng.below(residues.len())];
            target_positions.push(i as u32);
            target_tokens.push(input.tokens[i]);
            input.tokens[i] = Alphabet::MASK;
        }
    }
    MaskedBatch {
        input,
        target_positions,
        target_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_follows_the_80_10_10_scheme() -> Result<(), crate::model::ModelError> {
        let seq: String = "ACDEFGHIKLMNPQRSTVWY".repeat(250);
        let batch = TokenBatch::encode([("a", seq.as_str()), ("b", &seq[..3000])])?;
        let masked = mask_batch(&batch, &MaskingScheme::default(), &mut SplitMix64::new(3));
        let residues = 8000.0;
        let n = masked.target_positions.len() as f32;
        assert!(
            (n / residues - 0.15).abs() < 0.015,
            "target fraction {}",
            n / residues
        );
        let (mut mask, mut same, mut random) = (0.0, 0.0, 0.0);
        for (&pos, &orig) in masked.target_positions.iter().zip(&masked.target_tokens) {
            let now = masked.input.tokens[pos as usize];
            assert!(!matches!(
                orig,
                Alphabet::CLS | Alphabet::EOS | Alphabet::PAD
            ));
            if now == Alphabet::MASK {
                mask += 1.0;
            } else if now == orig {
                same += 1.0;
            } else {
                assert!(STANDARD_AMINO_ACIDS.contains(&now));
                random += 1.0;
            }
        }
        assert!((mask / n - 0.8).abs() < 0.04, "mask {}", mask / n);
        // A random replacement equal to the original counts as "same": 10% + 10%/20.
        assert!((same / n - 0.105).abs() < 0.03, "same {}", same / n);
        assert!((random / n - 0.095).abs() < 0.03, "random {}", random / n);
        // Untouched positions are unchanged.
        let changed = batch
            .tokens
            .iter()
            .zip(&masked.input.tokens)
            .filter(|(a, b)| a != b)
            .count();
        assert!(changed as f32 <= n);
        Ok(())
    }

    #[test]
    fn a_short_sequence_always_gets_a_target() -> Result<(), crate::model::ModelError> {
        let batch = TokenBatch::encode([("a", "MK")])?;
        for seed in 0..50 {
            let masked = mask_batch(
                &batch,
                &MaskingScheme::default(),
                &mut SplitMix64::new(seed),
            );
            assert!(!masked.target_positions.is_empty());
        }
        Ok(())
    }

    #[test]
    fn split_rows_keeps_every_row_and_target() -> Result<(), crate::model::ModelError> {
        let batch = TokenBatch::encode([
            ("a", "MKTAYIAKQRQISFVKSHFSRQ"),
            ("b", "MKV"),
            ("c", "MSTNPKPQRKTKRNTNRRPQDVKFPGG"),
            ("d", "ACDEFGHIK"),
            ("e", "LLLLLLLLLLLLLLLLLLLL"),
        ])?;
        let masked = mask_batch(&batch, &MaskingScheme::default(), &mut SplitMix64::new(4));
        // (row, column, original token, input token) of every target, as the shards see them.
        let targets_of = |m: &MaskedBatch, first_row: usize| -> Vec<(usize, usize, u32, u32)> {
            let w = m.input.max_len;
            m.target_positions
                .iter()
                .zip(&m.target_tokens)
                .map(|(&p, &t)| {
                    let p = p as usize;
                    (first_row + p / w, p % w, t, m.input.tokens[p])
                })
                .collect()
        };
        let whole = targets_of(&masked, 0);
        for parts in [1, 2, 3, 5, 9] {
            let shards = masked.split_rows(parts);
            assert_eq!(shards.len(), parts.min(5));
            let (mut rows, mut targets) = (0, Vec::new());
            for shard in &shards {
                for r in 0..shard.input.batch_size {
                    let original = rows + r;
                    let n = masked.input.residue_counts[original] + 2;
                    assert_eq!(
                        shard.input.row(r)[..n],
                        masked.input.row(original)[..n],
                        "row {original} with {parts} parts"
                    );
                }
                targets.extend(targets_of(shard, rows));
                rows += shard.input.batch_size;
            }
            assert_eq!(rows, 5);
            assert_eq!(targets, whole, "{parts} parts");
        }
        Ok(())
    }
}
