//! A pretraining corpus: a FASTA file tokenised and split into training and held-out sequences.
//!
//! The split is a deterministic function of each record's id and the seed (a hash threshold),
//! so it does not depend on the file's order and a resumed run sees the same split. Held-out
//! sequences identical to a training sequence are dropped from the held-out set. The split is
//! random, not homology-reduced: held-out proteins may have homologs in the training set.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::error::TrainError;
use crate::data::{DataError, FastaReader};
use crate::model::Alphabet;

/// A tokenised corpus with its split.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The FASTA file.
    pub path: PathBuf,
    /// Training sequences as residue token ids (no BOS/EOS).
    pub train: Vec<Vec<u32>>,
    /// Held-out `(id, sequence)` records, in file order.
    pub heldout: Vec<(String, String)>,
    /// Held-out sequences as residue token ids.
    pub heldout_tokens: Vec<Vec<u32>>,
    /// Records skipped because they were empty.
    pub skipped_empty: usize,
    /// SHA-256 over the ids and sequences in file order: identifies the corpus on resume.
    pub digest: String,
}

impl Corpus {
    /// Reads `path` and holds out about `heldout_fraction` of the records (at most
    /// `heldout_max`). A character outside the ESM alphabet is an error naming the record and
    /// its line.
    pub fn load(
        path: &Path,
        heldout_fraction: f64,
        heldout_max: usize,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let mut hasher = Sha256::new();
        let mut records = Vec::new();
        let mut skipped_empty = 0;
        for record in FastaReader::open(path)? {
            let record = record?;
            hasher.update(record.id.as_bytes());
            hasher.update([0]);
            hasher.update(record.sequence.as_bytes());
            hasher.update([0]);
            if record.sequence.is_empty() {
                skipped_empty += 1;
                continue;
            }
            let tokens = Alphabet::encode(&record.id, &record.sequence)
                .map_err(|e| DataError::format(path, &record.id, record.line, e.to_string()))?;
            records.push((record.id, record.sequence, tokens));
        }
        if records.len() < 2 {
            return Err(TrainError::Corpus(format!(
                "{} has {} usable sequences; pretraining needs at least 2: {}",
                "the corpus",
                records.len(),
                path.display()
            )));
        }
        let threshold = (heldout_fraction.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
        let mut scored: Vec<(u64, usize)> = records
            .iter()
            .enumerate()
            .map(|(i, (id, _, _))| (id_hash(id, seed), i))
            .filter(|(h, _)| *h < threshold)
            .collect();
        scored.sort_unstable();
        scored.truncate(heldout_max);
        let mut is_heldout = vec![false; records.len()];
        for &(_, i) in &scored {
            is_heldout[i] = true;
        }
        let train_sequences: HashSet<&str> = records
            .iter()
            .zip(&is_heldout)
            .filter(|(_, h)| !**h)
            .map(|((_, s, _), _)| s.as_str())
            .collect();
        let mut corpus = Self {
            path: path.to_owned(),
            train: Vec::new(),
            heldout: Vec::new(),
            heldout_tokens: Vec::new(),
            skipped_empty,
            digest: format!("{:x}", hasher.finalize()),
        };
        let mut duplicates = Vec::new();
        for ((id, sequence, tokens), heldout) in records.iter().zip(&is_heldout) {
            if !heldout {
                corpus.train.push(tokens.clone());
            } else if train_sequences.contains(sequence.as_str()) {
                duplicates.push(tokens.clone());
            } else {
                corpus.heldout.push((id.clone(), sequence.clone()));
                corpus.heldout_tokens.push(tokens.clone());
            }
        }
        // A held-out sequence that is also in the training set trains the model instead.
        corpus.train.extend(duplicates);
        if corpus.train.is_empty() {
            return Err(TrainError::Corpus(format!(
                "no training sequences left after the split: {}",
                path.display()
            )));
        }
        Ok(corpus)
    }

    /// Residues in the training sequences.
    pub fn train_residues(&self) -> usize {
        self.train.iter().map(Vec::len).sum()
    }

    /// Writes the held-out records as FASTA (atomically).
    pub fn write_heldout_fasta(&self, path: &Path) -> Result<(), TrainError> {
        let mut text = String::new();
        for (id, sequence) in &self.heldout {
            text.push('>');
            text.push_str(id);
            text.push('\n');
            for chunk in sequence.as_bytes().chunks(60) {
                text.push_str(&String::from_utf8_lossy(chunk));
                text.push('\n');
            }
        }
        super::files::write_atomic(path, text.as_bytes())
    }
}

/// A seeded 64-bit hash of a record id (the first 8 bytes of SHA-256).
fn id_hash(id: &str, seed: u64) -> u64 {
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("corpus.fasta");
        std::fs::write(&path, text).ok();
        path
    }

    #[test]
    fn split_is_deterministic_and_drops_duplicates() -> Result<(), TrainError> {
        let dir = tempfile::tempdir().map_err(|e| TrainError::Corpus(e.to_string()))?;
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!(
                ">p{i}\nMKT{}\n",
                "ACDEFGHIKLMNPQRSTVWY"
                    .chars()
                    .cycle()
                    .skip(i)
                    .take(20 + i)
                    .collect::<String>()
            ));
        }
        text.push_str(">dup_a\nMMMMMMMMMM\n>dup_b\nMMMMMMMMMM\n");
        let path = write(dir.path(), &text);
        let a = Corpus::load(&path, 0.2, 1000, 7)?;
        let b = Corpus::load(&path, 0.2, 1000, 7)?;
        assert_eq!(a.heldout, b.heldout);
        assert_eq!(a.train.len() + a.heldout.len(), 202);
        assert!((25..=60).contains(&a.heldout.len()), "{}", a.heldout.len());
        assert!(a.heldout.iter().all(|(_, s)| s != "MMMMMMMMMM"));
        let capped = Corpus::load(&path, 0.2, 10, 7)?;
        assert_eq!(capped.heldout.len(), 10);
        Ok(())
    }

    #[test]
    fn a_bad_residue_names_the_record_and_line() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = write(dir.path(), ">ok\nMKT\n>bad one\nMK\nTJQ\n");
        let err = Corpus::load(&path, 0.1, 10, 1)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("record bad") && err.contains("line 3") && err.contains("corpus.fasta"),
            "{err}"
        );
    }
}
