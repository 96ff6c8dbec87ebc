//! What a study trained and tested on, so that every score can say which split it is on and
//! warn when the two share sequences (a training accuracy shown as a test score).

use std::collections::HashSet;

/// Names and sizes of a study's training and test sets, and their overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudySplit {
    /// The training set's name (file name).
    pub train_name: String,
    /// Training proteins (chains).
    pub train_proteins: usize,
    /// Training residues (all, before any cap).
    pub train_residues: usize,
    /// The test set's name.
    pub test_name: String,
    /// Test proteins.
    pub test_proteins: usize,
    /// Test residues.
    pub test_residues: usize,
    /// Test proteins whose sequence is also a training sequence.
    pub shared_sequences: usize,
}

impl StudySplit {
    /// The split of two named sets of sequences.
    pub fn of<'a>(
        train_name: &str,
        train: impl IntoIterator<Item = &'a str>,
        test_name: &str,
        test: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let train: Vec<&str> = train.into_iter().collect();
        let test: Vec<&str> = test.into_iter().collect();
        let training: HashSet<&str> = train.iter().copied().collect();
        Self {
            train_name: train_name.to_owned(),
            train_proteins: train.len(),
            train_residues: train.iter().map(|s| s.chars().count()).sum(),
            test_name: test_name.to_owned(),
            test_proteins: test.len(),
            test_residues: test.iter().map(|s| s.chars().count()).sum(),
            shared_sequences: test.iter().filter(|s| training.contains(*s)).count(),
        }
    }

    /// "Trained on A (n proteins, r residues); tested on B (...)".
    pub fn describe(&self) -> String {
        format!(
            "Trained on {} ({} proteins, {} residues); tested on {} ({} proteins, {} residues)",
            self.train_name,
            self.train_proteins,
            self.train_residues,
            self.test_name,
            self.test_proteins,
            self.test_residues
        )
    }

    /// A warning when test sequences also occur in training, else `None`.
    pub fn overlap_warning(&self) -> Option<String> {
        (self.shared_sequences > 0).then(|| {
            format!(
                "{} of {} test proteins are also in the training set: test scores are optimistic",
                self.shared_sequences, self.test_proteins
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sizes_and_shared_sequences() {
        let split = StudySplit::of("a.tsv", ["MKV", "GG"], "b.json", ["GG", "WWWW", "MKT"]);
        assert_eq!(split.train_proteins, 2);
        assert_eq!(split.train_residues, 5);
        assert_eq!(split.test_proteins, 3);
        assert_eq!(split.test_residues, 9);
        assert_eq!(split.shared_sequences, 1);
        assert_eq!(
            split.describe(),
            "Trained on a.tsv (2 proteins, 5 residues); tested on b.json (3 proteins, 9 residues)"
        );
        assert!(
            split
                .overlap_warning()
                .expect("one shared")
                .starts_with("1 of 3")
        );
        let disjoint = StudySplit::of("a", ["MKV"], "b", ["MKT"]);
        assert_eq!(disjoint.overlap_warning(), None);
    }
}
