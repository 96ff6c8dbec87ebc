//! The ESM-1b / ESM-2 token alphabet, identical to fair-esm's
//! `Alphabet.from_architecture("ESM-1b")` (`esm/data.py` @ fair-esm 2.0.0).
//!
//! 33 tokens: `<cls> <pad> <eos> <unk>`, the 27 residue letters
//! `LAGVSERTIDPKQNFYMHWCXBUZO.-`, `<null_1>` (padding the table to a multiple of 8) and `<mask>`.
//! Every sequence is encoded as `<cls> residues… <eos>` (BOS + EOS).

use super::error::ModelError;

/// The residue letters in fair-esm's order (`proteinseq_toks["toks"]`).
const RESIDUE_TOKENS: &str = "LAGVSERTIDPKQNFYMHWCXBUZO.-";

/// The multi-character tokens a sequence string may contain, e.g. `MKT<mask>AYI`.
const SPECIAL_TOKENS: [(&str, u32); 6] = [
    ("<cls>", Alphabet::CLS),
    ("<pad>", Alphabet::PAD),
    ("<eos>", Alphabet::EOS),
    ("<unk>", Alphabet::UNK),
    ("<null_1>", 31),
    ("<mask>", Alphabet::MASK),
];

/// The ESM-1b alphabet (shared by ESM-1b, ESM-1v and ESM-2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Alphabet;

impl Alphabet {
    /// `<cls>`, prepended to every sequence (BOS).
    pub const CLS: u32 = 0;
    /// `<pad>`, fills batches up to the longest sequence.
    pub const PAD: u32 = 1;
    /// `<eos>`, appended to every sequence.
    pub const EOS: u32 = 2;
    /// `<unk>`.
    pub const UNK: u32 = 3;
    /// `<mask>`, the masked-language-model token.
    pub const MASK: u32 = 32;
    /// Number of tokens (rows of the embedding table).
    pub const SIZE: usize = 33;

    /// The token string of `idx`, e.g. `0 -> "<cls>"`, `5 -> "A"`.
    pub fn token(idx: u32) -> Option<String> {
        match idx {
            4..=30 => RESIDUE_TOKENS
                .chars()
                .nth(idx as usize - 4)
                .map(|c| c.to_string()),
            _ => SPECIAL_TOKENS
                .iter()
                .find(|(_, i)| *i == idx)
                .map(|(s, _)| (*s).to_owned()),
        }
    }

    /// All tokens in index order.
    pub fn all_tokens() -> Vec<String> {
        (0..Self::SIZE as u32).filter_map(Self::token).collect()
    }

    /// Index of a single residue letter; lowercase is upper-cased.
    pub fn residue_index(c: char) -> Option<u32> {
        let c = c.to_ascii_uppercase();
        RESIDUE_TOKENS.find(c).map(|pos| pos as u32 + 4)
    }

    /// Encodes a sequence into tokens **without** BOS/EOS.
    ///
    /// Lowercase letters are upper-cased, whitespace is skipped (as fair-esm's tokenizer does)
    /// and special tokens such as `<mask>` are recognised. Any other character is an error naming
    /// `sequence_id` and the 1-based position (fair-esm raises a bare `KeyError`).
    pub fn encode(sequence_id: &str, sequence: &str) -> Result<Vec<u32>, ModelError> {
        let mut tokens = Vec::with_capacity(sequence.len());
        let mut rest = sequence;
        let mut position = 1usize;
        while let Some(c) = rest.chars().next() {
            if c == '<'
                && let Some((tok, idx)) = SPECIAL_TOKENS.iter().find(|(t, _)| rest.starts_with(t))
            {
                tokens.push(*idx);
                rest = &rest[tok.len()..];
                position += tok.len();
                continue;
            }
            if !c.is_whitespace() {
                let idx = Self::residue_index(c).ok_or_else(|| ModelError::UnknownResidue {
                    sequence_id: sequence_id.to_owned(),
                    position,
                    character: c,
                })?;
                tokens.push(idx);
            }
            rest = &rest[c.len_utf8()..];
            position += 1;
        }
        Ok(tokens)
    }

    /// Encodes a sequence as `<cls> residues… <eos>`.
    pub fn encode_with_bos_eos(sequence_id: &str, sequence: &str) -> Result<Vec<u32>, ModelError> {
        let body = Self::encode(sequence_id, sequence)?;
        let mut tokens = Vec::with_capacity(body.len() + 2);
        tokens.push(Self::CLS);
        tokens.extend(body);
        tokens.push(Self::EOS);
        Ok(tokens)
    }
}

/// A right-padded batch of token rows, as fair-esm's `BatchConverter` builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBatch {
    /// Row-major `(batch, max_len)` token ids, padded with [`Alphabet::PAD`].
    pub tokens: Vec<u32>,
    /// Rows in the batch.
    pub batch_size: usize,
    /// Columns: the longest row, BOS and EOS included.
    pub max_len: usize,
    /// Residue count of each row (BOS/EOS excluded).
    pub residue_counts: Vec<usize>,
}

impl TokenBatch {
    /// Builds a padded batch from rows that already carry BOS/EOS.
    pub fn from_rows(rows: &[Vec<u32>]) -> Self {
        let max_len = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut tokens = vec![Alphabet::PAD; rows.len() * max_len];
        for (row, toks) in rows.iter().enumerate() {
            tokens[row * max_len..row * max_len + toks.len()].copy_from_slice(toks);
        }
        Self {
            tokens,
            batch_size: rows.len(),
            max_len,
            residue_counts: rows.iter().map(|r| r.len().saturating_sub(2)).collect(),
        }
    }

    /// Encodes `(id, sequence)` pairs with BOS/EOS and pads them.
    pub fn encode<'a>(
        records: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ModelError> {
        let rows = records
            .into_iter()
            .map(|(id, seq)| Alphabet::encode_with_bos_eos(id, seq))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_rows(&rows))
    }

    /// The tokens of one row (padding included).
    pub fn row(&self, row: usize) -> &[u32] {
        &self.tokens[row * self.max_len..(row + 1) * self.max_len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_matches_fair_esm_order() {
        let toks = Alphabet::all_tokens();
        assert_eq!(toks.len(), 33);
        assert_eq!(&toks[..4], ["<cls>", "<pad>", "<eos>", "<unk>"]);
        assert_eq!(toks[4], "L");
        assert_eq!(toks[30], "-");
        assert_eq!(toks[31], "<null_1>");
        assert_eq!(toks[32], "<mask>");
    }

    #[test]
    fn encode_handles_case_masks_and_rare_residues() -> Result<(), ModelError> {
        let toks = Alphabet::encode_with_bos_eos("s", "mK<mask>XBUZO")?;
        assert_eq!(toks, vec![0, 20, 15, 32, 24, 25, 26, 27, 28, 2]);
        Ok(())
    }

    #[test]
    fn unknown_character_names_sequence_and_position() {
        let err = Alphabet::encode("P12345", "MKJ").expect_err("J is not a residue");
        let msg = err.to_string();
        assert!(
            msg.contains("P12345") && msg.contains("position 3") && msg.contains("'J'"),
            "{msg}"
        );
    }

    #[test]
    fn batch_is_right_padded() -> Result<(), ModelError> {
        let batch = TokenBatch::encode([("a", "MK"), ("b", "M")])?;
        assert_eq!(batch.max_len, 4);
        assert_eq!(batch.row(1), &[0, 20, 2, 1]);
        assert_eq!(batch.residue_counts, vec![2, 1]);
        Ok(())
    }
}
