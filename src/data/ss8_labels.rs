//! SS8 labels from either source a user has: a label table (see [`super::ss8`]) or structures
//! (PDB, mmCIF, TS50-style JSON, or a folder of them), labelled by the workbench's own DSSP.

use std::path::{Path, PathBuf};

use super::dssp::dssp8;
use super::error::DataError;
use super::ss8::{Ss8Record, read_ss8};
use super::structure::{ProteinChain, is_structure_file, read_structures};

/// SS8 records of `path`: read from a label table, or computed by DSSP from structures. For
/// structures, residues without a complete backbone (N, Cα, C, O) are masked out: DSSP cannot
/// assign them, so they are not evaluated.
pub fn read_ss8_labels(path: &Path) -> Result<Vec<Ss8Record>, DataError> {
    if path.is_dir() || is_structure_file(path) {
        let chains = read_structures(&[PathBuf::from(path)])?;
        if chains.is_empty() {
            return Err(DataError::format(
                path,
                "-",
                0,
                "no protein chain in these structures",
            ));
        }
        Ok(chains.iter().map(dssp_record).collect())
    } else {
        read_ss8(path)
    }
}

/// One chain's DSSP labels as an SS8 record.
fn dssp_record(chain: &ProteinChain) -> Ss8Record {
    Ss8Record {
        id: chain.id.clone(),
        sequence: chain.sequence.clone(),
        labels: dssp8(chain),
        mask: chain
            .atoms
            .iter()
            .map(|a| a.n.is_some() && a.ca.is_some() && a.c.is_some() && a.o.is_some())
            .collect(),
        line: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_are_labelled_by_dssp_and_tables_read_as_tables() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let demo = read_ss8_labels(&root.join("datasets/demo/structures.json")).expect("json");
        let table =
            read_ss8_labels(&root.join("datasets/demo/structures_ss8.txt")).expect("3-line");
        assert_eq!(demo.len(), table.len());
        let (mut agree, mut total) = (0, 0);
        for (d, t) in demo.iter().zip(&table) {
            assert_eq!(d.id, t.id);
            assert_eq!(d.sequence, t.sequence);
            assert_eq!(d.labels.len(), d.sequence.len());
            agree += d
                .labels
                .iter()
                .zip(&t.labels)
                .filter(|(a, b)| a == b)
                .count();
            total += d.labels.len();
        }
        // The 3-line file holds mkdssp's labels; the Rust DSSP follows mkdssp's rules.
        assert!(agree as f64 / total as f64 > 0.95, "{agree} of {total}");
    }

    #[test]
    fn a_folder_without_structures_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_ss8_labels(dir.path()).expect_err("empty folder");
        assert!(err.to_string().contains("no protein chain"), "{err}");
    }
}
