//! A protein dataset as the workbench opens it: a FASTA file plus, optionally, a metadata table
//! joined by id (the bundled demo: `datasets/demo/uniprot_orthologs.{fasta,tsv}`).

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use super::error::DataError;
use super::fasta::{FastaReader, FastaRecord, duplicate_ids};
use super::frame::{JoinReport, fasta_frame, join_metadata, read_table};

/// Sequences and their table.
#[derive(Debug, Clone)]
pub struct ProteinSet {
    /// Display name (the FASTA file stem).
    pub name: String,
    /// The FASTA file.
    pub fasta: PathBuf,
    /// Records in file order.
    pub records: Vec<FastaRecord>,
    /// One row per record: `id, description, length, sequence` plus metadata columns.
    pub frame: DataFrame,
    /// The metadata join, when a table was given.
    pub join: Option<JoinReport>,
    /// Ids that occur more than once, with their lines.
    pub duplicate_ids: Vec<(String, Vec<usize>)>,
}

impl ProteinSet {
    /// Reads `fasta` and joins `metadata` (CSV/TSV/Parquet; its `id` column) when given.
    pub fn load(fasta: &Path, metadata: Option<&Path>) -> Result<Self, DataError> {
        let records = FastaReader::read_all(fasta)?;
        let frame =
            fasta_frame(&records).map_err(|e| DataError::format(fasta, "-", 0, e.to_string()))?;
        let (frame, join) = match metadata {
            Some(table) => {
                let (joined, report) = join_metadata(&frame, &read_table(table)?, "id", table)?;
                (joined, Some(report))
            }
            None => (frame, None),
        };
        Ok(Self {
            name: fasta
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            fasta: fasta.to_owned(),
            duplicate_ids: duplicate_ids(&records),
            records,
            frame,
            join,
        })
    }

    /// The bundled demo set (see [`crate::bundled`]: beside the executable or the sources,
    /// whatever the working directory).
    pub fn demo_paths() -> Option<(PathBuf, PathBuf)> {
        Some((
            crate::bundled::bundled_path("datasets/demo/uniprot_orthologs.fasta")?,
            crate::bundled::bundled_path("datasets/demo/uniprot_orthologs.tsv")?,
        ))
    }
}
