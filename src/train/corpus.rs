//! A pretraining corpus: a FASTA file tokenised and split into training and held-out sequences.
//!
//! The split is a deterministic function of each record's id and the seed (a hash threshold),
//! so it does not depend on the file's order and a resumed run sees the same split. Held-out
//! sequences identical to a training sequence train the model instead. By default the split is
//! random, not homology-reduced: held-out proteins may have close relatives in the training set.
//! [`HeldoutSplit::max_shared_kmers`] moves those into training too (shared 8-mers as the
//! measure of closeness), so held-out perplexity measures generalisation rather than recall.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::error::TrainError;
use super::kmer_overlap::KmerSet;
use crate::data::{DataError, FastaReader};
use crate::model::Alphabet;

/// How a corpus is split into training and held-out records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldoutSplit {
    /// About this fraction of the records is held out (by a seeded hash of the id).
    pub fraction: f64,
    /// At most this many held-out records.
    pub max: usize,
    /// Seed of the id hash.
    pub seed: u64,
    /// When set, a held-out record sharing more than this fraction of its 8-mers with the
    /// training part (moved records included) trains the model instead.
    pub max_shared_kmers: Option<f64>,
}

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
    /// Held-out records moved into training for sharing too many 8-mers with it
    /// ([`HeldoutSplit::max_shared_kmers`]).
    pub moved_similar: usize,
    /// SHA-256 over the ids and sequences in file order: identifies the corpus on resume.
    pub digest: String,
}

impl Corpus {
    /// Reads `path` and splits it as `split` says. A character outside the ESM alphabet is an
    /// error naming the record and its line.
    pub fn load(path: &Path, split: &HeldoutSplit) -> Result<Self, TrainError> {
        let (heldout_fraction, heldout_max, seed) = (split.fraction, split.max, split.seed);
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
            moved_similar: 0,
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
        if let Some(max_shared) = split.max_shared_kmers {
            corpus.move_similar_into_training(max_shared);
        }
        if corpus.train.is_empty() {
            return Err(TrainError::Corpus(format!(
                "no training sequences left after the split: {}",
                path.display()
            )));
        }
        Ok(corpus)
    }

    /// Moves held-out records sharing more than `max_shared` of their 8-mers with the training
    /// part into it, until none is left: a record moved in can make another one similar.
    fn move_similar_into_training(&mut self, max_shared: f64) {
        let mut training_kmers = KmerSet::of(&self.train);
        loop {
            let (similar, novel): (Vec<usize>, Vec<usize>) =
                (0..self.heldout.len()).partition(|&i| {
                    training_kmers.shared_fraction(&self.heldout_tokens[i]) > max_shared
                });
            if similar.is_empty() {
                return;
            }
            for &i in &similar {
                training_kmers.insert(&self.heldout_tokens[i]);
                self.train.push(self.heldout_tokens[i].clone());
            }
            self.moved_similar += similar.len();
            self.heldout = novel.iter().map(|&i| self.heldout[i].clone()).collect();
            self.heldout_tokens = novel
                .iter()
                .map(|&i| self.heldout_tokens[i].clone())
                .collect();
        }
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

    fn split(fraction: f64, max: usize, seed: u64) -> HeldoutSplit {
        HeldoutSplit {
            fraction,
            max,
            seed,
            max_shared_kmers: None,
        }
    }

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
        let a = Corpus::load(&path, &split(0.2, 1000, 7))?;
        let b = Corpus::load(&path, &split(0.2, 1000, 7))?;
        assert_eq!(a.heldout, b.heldout);
        assert_eq!(a.train.len() + a.heldout.len(), 202);
        assert!((25..=60).contains(&a.heldout.len()), "{}", a.heldout.len());
        assert!(a.heldout.iter().all(|(_, s)| s != "MMMMMMMMMM"));
        let capped = Corpus::load(&path, &split(0.2, 10, 7))?;
        assert_eq!(capped.heldout.len(), 10);
        Ok(())
    }

    #[test]
    fn a_bad_residue_names_the_record_and_line() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = write(dir.path(), ">ok\nMKT\n>bad one\nMK\nTJQ\n");
        let err = Corpus::load(&path, &split(0.1, 10, 1))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("record bad") && err.contains("line 3") && err.contains("corpus.fasta"),
            "{err}"
        );
    }

    fn random_protein(rng: &mut crate::rng::SplitMix64, len: usize) -> String {
        let aa = b"ACDEFGHIKLMNPQRSTVWY";
        (0..len).map(|_| aa[rng.below(20)] as char).collect()
    }

    /// `seq` with every 30th residue, from `offset`, changed: about 3/4 of its 8-mers kept.
    fn mutated(seq: &str, offset: usize) -> String {
        seq.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 30 == offset {
                    if c == 'W' { 'Y' } else { 'W' }
                } else {
                    c
                }
            })
            .collect()
    }

    /// A close relative of `seq`.
    fn relative(seq: &str) -> String {
        mutated(seq, 15)
    }

    #[test]
    fn held_out_records_with_close_training_relatives_move_into_training() -> Result<(), TrainError>
    {
        let dir = tempfile::tempdir().map_err(|e| TrainError::Corpus(e.to_string()))?;
        let mut rng = crate::rng::SplitMix64::new(11);
        let mut text = String::new();
        for family in 0..150 {
            let protein = random_protein(&mut rng, 120);
            text.push_str(&format!(
                ">f{family}a\n{protein}\n>f{family}b\n{}\n",
                relative(&protein)
            ));
        }
        let path = write(dir.path(), &text);
        let random = Corpus::load(&path, &split(0.2, 1000, 3))?;
        let strict = Corpus::load(
            &path,
            &HeldoutSplit {
                max_shared_kmers: Some(0.5),
                ..split(0.2, 1000, 3)
            },
        )?;
        // Every record is still used, and only held-out ones moved.
        assert_eq!(strict.train.len() + strict.heldout.len(), 300);
        assert_eq!(
            strict.heldout.len() + strict.moved_similar,
            random.heldout.len()
        );
        assert_eq!(random.moved_similar, 0);
        // Most held-out proteins had their relative in training; those that stay do not.
        assert!(
            strict.moved_similar > random.heldout.len() / 2,
            "{}",
            strict.moved_similar
        );
        let training = KmerSet::of(&strict.train);
        for tokens in &strict.heldout_tokens {
            assert!(training.shared_fraction(tokens) <= 0.5);
        }
        // The ones left are families held out whole: both members in the held-out set.
        let ids: HashSet<&str> = strict.heldout.iter().map(|(id, _)| id.as_str()).collect();
        for (id, _) in &strict.heldout {
            let family = &id[..id.len() - 1];
            assert!(
                ids.contains(format!("{family}a").as_str())
                    && ids.contains(format!("{family}b").as_str())
            );
        }
        Ok(())
    }

    #[test]
    fn a_record_made_similar_by_a_moved_one_moves_too() -> Result<(), TrainError> {
        let mut rng = crate::rng::SplitMix64::new(5);
        let x = random_protein(&mut rng, 120);
        let a = relative(&x);
        // b is a relative of a (every 30th residue, offset by 7, changed) but shares under half
        // of its 8-mers with x itself.
        let b = mutated(&a, 22);
        let unrelated = random_protein(&mut rng, 120);
        let encode = |id: &str, s: &str| {
            Alphabet::encode(id, s).map_err(|e| TrainError::Corpus(e.to_string()))
        };
        let mut corpus = Corpus {
            path: PathBuf::from("c.fasta"),
            train: vec![encode("x", &x)?],
            heldout: vec![
                ("a".into(), a.clone()),
                ("b".into(), b.clone()),
                ("u".into(), unrelated.clone()),
            ],
            heldout_tokens: vec![encode("a", &a)?, encode("b", &b)?, encode("u", &unrelated)?],
            skipped_empty: 0,
            moved_similar: 0,
            digest: String::new(),
        };
        let only_x = KmerSet::of(&corpus.train);
        assert!(only_x.shared_fraction(&corpus.heldout_tokens[0]) > 0.5);
        assert!(
            only_x.shared_fraction(&corpus.heldout_tokens[1]) <= 0.5,
            "b must need the second round"
        );
        corpus.move_similar_into_training(0.5);
        assert_eq!(corpus.moved_similar, 2);
        assert_eq!(corpus.heldout, vec![("u".to_string(), unrelated)]);
        assert_eq!(corpus.train.len(), 3);
        Ok(())
    }
}
