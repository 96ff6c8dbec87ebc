//! Opening several data files as one protein set: FASTA and SCOPe/ASTRAL FASTA, SS8 label
//! tables and structures give proteins (with a `source` column and their own columns: sccs
//! levels and species, DSSP labels), and metadata tables (CSV/TSV/Parquet
//! with an `id` column) are joined onto them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::Column;

use super::error::DataError;
use super::fasta::{FastaReader, FastaRecord, duplicate_ids};
use super::frame::{JoinReport, fasta_frame, join_metadata, read_table};
use super::protein_set::ProteinSet;
use super::scope::{is_sccs, read_astral};
use super::ss8::{SS8_CLASSES, read_ss8};
use super::structure::{is_structure_file, read_structures};

/// What a file holds, as told by its extension (and, for text tables, its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFileKind {
    /// Plain FASTA.
    Fasta,
    /// SCOPe/ASTRAL FASTA (sccs in the header).
    Astral,
    /// SS8 labels (NetSurfP CSV, id/sequence/dssp8 table, 3-line).
    Ss8,
    /// PDB / mmCIF / TS50 JSON.
    Structure,
    /// A metadata table joined by `id`.
    Metadata,
}

fn lower_name(path: &Path) -> String {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.strip_suffix(".gz").map(str::to_owned).unwrap_or(name)
}

/// The kind of `path`: structures and FASTA by extension; a FASTA whose first header carries
/// an sccs is ASTRAL; `.csv/.tsv/.txt` are SS8 tables when they read as one, else metadata.
pub fn classify_data_file(path: &Path) -> Result<DataFileKind, DataError> {
    let name = lower_name(path);
    let has = |exts: &[&str]| exts.iter().any(|e| name.ends_with(e));
    // A path that is not there is "not found", whatever its name says it would be.
    if let Err(e) = std::fs::metadata(path) {
        return Err(DataError::io(path, e));
    }
    if is_structure_file(path) || path.is_dir() {
        return Ok(DataFileKind::Structure);
    }
    if has(&[".fasta", ".fa", ".faa", ".fas", ".fna", ".seq"]) {
        let first = FastaReader::open(path)?.next().transpose()?;
        return Ok(match first {
            Some(r) if r.description.split_whitespace().next().is_some_and(is_sccs) => {
                DataFileKind::Astral
            }
            _ => DataFileKind::Fasta,
        });
    }
    if has(&[".parquet"]) {
        return Ok(DataFileKind::Metadata);
    }
    if has(&[".csv", ".tsv", ".txt"]) {
        return Ok(match read_ss8(path) {
            Ok(records) if !records.is_empty() => DataFileKind::Ss8,
            _ => DataFileKind::Metadata,
        });
    }
    Err(DataError::format(
        path,
        "-",
        0,
        "unknown data file: expected FASTA, ASTRAL, SS8 table (.csv/.tsv/.txt), structure (.pdb/.cif/.json) or metadata table (.parquet/.csv/.tsv)",
    ))
}

/// The added columns that come first, in this order.
const ADDED_COLUMN_ORDER: [&str; 7] = [
    "source",
    "sccs",
    "class",
    "fold",
    "superfamily",
    "family",
    "species",
];

/// Where an added column goes: the source file, then SCOPe's levels from the top of its
/// hierarchy down (sccs, class, fold, superfamily, family), then the rest by name.
fn column_rank(key: &str) -> usize {
    ADDED_COLUMN_ORDER
        .iter()
        .position(|k| *k == key)
        .unwrap_or(ADDED_COLUMN_ORDER.len())
}

/// Opens `paths` as one set (see the module doc). Proteins keep file order; the set is named
/// after the first sequence file.
pub fn open_data_files(paths: &[PathBuf]) -> Result<ProteinSet, DataError> {
    let mut records: Vec<FastaRecord> = Vec::new();
    let mut extras: Vec<BTreeMap<&'static str, String>> = Vec::new();
    let mut tables: Vec<&PathBuf> = Vec::new();
    let mut first_source: Option<&PathBuf> = None;
    let mut sequence_files = 0;
    for path in paths {
        let kind = classify_data_file(path)?;
        if kind == DataFileKind::Metadata {
            tables.push(path);
            continue;
        }
        let source = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        for (record, mut extra) in read_sequence_file(path, kind)? {
            extra.insert("source", source.clone());
            records.push(record);
            extras.push(extra);
        }
        first_source.get_or_insert(path);
        sequence_files += 1;
    }
    let Some(first) = first_source else {
        let path = paths.first().cloned().unwrap_or_default();
        return Err(DataError::format(
            &path,
            "-",
            0,
            "no sequence file among the data files (FASTA, ASTRAL, SS8 table or structure)",
        ));
    };
    let frame_error =
        |e: polars::prelude::PolarsError| DataError::format(first, "-", 0, e.to_string());
    let mut frame = fasta_frame(&records).map_err(frame_error)?;
    add_extra_columns(&mut frame, &extras).map_err(frame_error)?;
    let mut join: Option<JoinReport> = None;
    for table in tables {
        let (joined, report) = join_metadata(&frame, &read_table(table)?, "id", table)?;
        frame = joined;
        join = Some(report);
    }
    let name = first
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = if sequence_files > 1 {
        format!("{name} + {} more", sequence_files - 1)
    } else {
        name
    };
    Ok(ProteinSet {
        name,
        fasta: first.clone(),
        duplicate_ids: duplicate_ids(&records),
        records,
        frame,
        join,
    })
}

/// A record and the values of the columns its file format adds, by column name.
type RecordWithColumns = (FastaRecord, BTreeMap<&'static str, String>);

/// The records of one sequence file with the columns its format adds (SCOPe levels of an
/// ASTRAL file, the DSSP string of an SS8 table; nothing for FASTA and structures).
fn read_sequence_file(
    path: &Path,
    kind: DataFileKind,
) -> Result<Vec<RecordWithColumns>, DataError> {
    let record = |id: String, description: String, sequence: String, line: usize| FastaRecord {
        id,
        description,
        sequence,
        line,
    };
    Ok(match kind {
        DataFileKind::Metadata => Vec::new(),
        DataFileKind::Fasta => FastaReader::read_all(path)?
            .into_iter()
            .map(|r| (r, BTreeMap::new()))
            .collect(),
        DataFileKind::Astral => read_astral(path)?
            .into_iter()
            .map(|d| {
                let labels = super::scope::scop_labels(&d.sccs);
                let extra = BTreeMap::from([
                    ("sccs", d.sccs.clone()),
                    ("class", labels[0].clone()),
                    ("fold", labels[1].clone()),
                    ("superfamily", labels[2].clone()),
                    ("family", labels[3].clone()),
                    ("species", d.species.clone()),
                ]);
                (record(d.id, d.description, d.sequence, 0), extra)
            })
            .collect(),
        DataFileKind::Ss8 => read_ss8(path)?
            .into_iter()
            .map(|r| {
                let dssp8: String = r.labels.iter().map(|&l| SS8_CLASSES[l as usize]).collect();
                let extra = BTreeMap::from([("dssp8", dssp8)]);
                (record(r.id, String::new(), r.sequence, r.line), extra)
            })
            .collect(),
        DataFileKind::Structure => read_structures(std::slice::from_ref(&path.to_path_buf()))?
            .into_iter()
            .map(|chain| {
                let description = format!("chain {}", chain.chain);
                (
                    record(chain.id.clone(), description, chain.sequence, 0),
                    BTreeMap::new(),
                )
            })
            .collect(),
    })
}

/// One column per key of the records' extra values (missing values null), in the columns'
/// display order.
fn add_extra_columns(
    frame: &mut polars::prelude::DataFrame,
    extras: &[BTreeMap<&'static str, String>],
) -> Result<(), polars::prelude::PolarsError> {
    let mut keys: Vec<&str> = extras.iter().flat_map(|e| e.keys().copied()).collect();
    keys.sort_unstable_by_key(|k| (column_rank(k), *k));
    keys.dedup();
    for key in keys {
        let values: Vec<Option<&str>> = extras
            .iter()
            .map(|e| e.get(key).map(String::as_str))
            .collect();
        frame.with_column(Column::new(key.into(), values))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_fasta_astral_ss8_and_metadata_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fasta = dir.path().join("a.fasta");
        std::fs::write(&fasta, ">p1 first\nMKV\n>p2\nGGA\n").expect("write");
        let astral = dir.path().join("scope.fa");
        std::fs::write(
            &astral,
            ">d1abca_ a.1.1.2 (A:) globin {Homo sapiens [TaxId: 9606]}\nmkvl\n",
        )
        .expect("write");
        let ss8 = dir.path().join("labels.tsv");
        std::fs::write(&ss8, "id\tsequence\tdssp8\ns1\tMKVL\tHHEC\n").expect("write");
        let meta = dir.path().join("meta.tsv");
        std::fs::write(&meta, "id\tgene\np1\tdnaK\n").expect("write");
        assert_eq!(
            classify_data_file(&astral).expect("astral"),
            DataFileKind::Astral
        );
        assert_eq!(classify_data_file(&ss8).expect("ss8"), DataFileKind::Ss8);
        assert_eq!(
            classify_data_file(&meta).expect("meta"),
            DataFileKind::Metadata
        );
        let set = open_data_files(&[fasta.clone(), astral, ss8, meta]).expect("open");
        assert_eq!(set.records.len(), 4);
        assert_eq!(set.name, "a + 2 more", "metadata tables are not counted");
        let names: Vec<String> = set
            .frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let scop: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| ADDED_COLUMN_ORDER.contains(n))
            .collect();
        assert_eq!(scop, ADDED_COLUMN_ORDER, "SCOPe columns in hierarchy order");
        let rows = crate::data::frame::string_rows(
            &set.frame,
            &["id", "source", "superfamily", "dssp8", "gene"],
        )
        .expect("rows");
        assert_eq!(rows[0], vec!["p1", "a.fasta", "", "", "dnaK"]);
        assert_eq!(rows[2], vec!["d1abca_", "scope.fa", "a.1.1", "", ""]);
        assert_eq!(rows[3], vec!["s1", "labels.tsv", "", "HHEC", ""]);
        std::fs::write(dir.path().join("x.xyz"), "?").expect("write");
        let err = open_data_files(&[dir.path().join("x.xyz")]).expect_err("unknown kind");
        assert!(err.to_string().contains("unknown data file") && err.to_string().contains("x.xyz"));
        let missing = classify_data_file(Path::new("/nonexistent/y.xyz")).unwrap_err();
        assert_eq!(missing.to_string(), "not found: /nonexistent/y.xyz");
    }
}
