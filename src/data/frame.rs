//! Datasets as polars data frames (one row per protein), shared by probes, plots and exports,
//! and metadata joins: any CSV / TSV / Parquet with an id column and label columns.

use std::path::Path;

use polars::prelude::*;

use super::error::DataError;
use super::fasta::FastaRecord;
use super::scope::ScopDomain;
use super::ss8::{SS8_CLASSES, Ss8Record};

fn polars_err(path: &Path, what: &str, e: PolarsError) -> DataError {
    DataError::format(path, "-", 0, format!("{what}: {e}"))
}

/// `id, description, length, sequence`.
pub fn fasta_frame(records: &[FastaRecord]) -> PolarsResult<DataFrame> {
    df!(
        "id" => records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        "description" => records.iter().map(|r| r.description.as_str()).collect::<Vec<_>>(),
        "length" => records.iter().map(|r| r.sequence.len() as u32).collect::<Vec<_>>(),
        "sequence" => records.iter().map(|r| r.sequence.as_str()).collect::<Vec<_>>(),
    )
}

/// `id, sccs, class, fold, superfamily, family, description, species, length, sequence`.
pub fn astral_frame(domains: &[ScopDomain]) -> PolarsResult<DataFrame> {
    let col = |f: fn(&ScopDomain) -> &str| domains.iter().map(f).collect::<Vec<_>>();
    df!(
        "id" => col(|d| &d.id),
        "sccs" => col(|d| &d.sccs),
        "class" => col(ScopDomain::class),
        "fold" => col(ScopDomain::fold),
        "superfamily" => col(ScopDomain::superfamily),
        "family" => col(ScopDomain::family),
        "description" => col(|d| &d.description),
        "species" => col(|d| &d.species),
        "length" => domains.iter().map(|d| d.sequence.len() as u32).collect::<Vec<_>>(),
        "sequence" => col(|d| &d.sequence),
    )
}

/// `id, length, resolved, sequence, dssp8` (labels as a string of DSSP letters).
pub fn ss8_frame(records: &[Ss8Record]) -> PolarsResult<DataFrame> {
    df!(
        "id" => records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        "length" => records.iter().map(|r| r.sequence.len() as u32).collect::<Vec<_>>(),
        "resolved" => records.iter().map(|r| r.mask.iter().filter(|&&m| m).count() as u32).collect::<Vec<_>>(),
        "sequence" => records.iter().map(|r| r.sequence.as_str()).collect::<Vec<_>>(),
        "dssp8" => records
            .iter()
            .map(|r| r.labels.iter().map(|&l| SS8_CLASSES[l as usize]).collect::<String>())
            .collect::<Vec<_>>(),
    )
}

/// Reads a table: `.parquet`, `.tsv`/`.tab` (tab-separated) or CSV (anything else), with a header.
pub fn read_table(path: &Path) -> Result<DataFrame, DataError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "parquet" {
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        return ParquetReader::new(file)
            .finish()
            .map_err(|e| polars_err(path, "cannot read Parquet", e));
    }
    let separator = if matches!(ext.as_str(), "tsv" | "tab") {
        b'\t'
    } else {
        b','
    };
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(10_000))
        .with_parse_options(CsvParseOptions::default().with_separator(separator))
        .try_into_reader_with_file_path(Some(path.to_owned()))
        .and_then(|reader| reader.finish())
        .map_err(|e| polars_err(path, "cannot read table", e))
}

/// The named columns as display strings, row-major (nulls become empty strings).
pub fn string_rows(frame: &DataFrame, columns: &[&str]) -> PolarsResult<Vec<Vec<String>>> {
    let cols = columns
        .iter()
        .map(|name| {
            let c = frame.column(name)?.cast(&DataType::String)?;
            Ok(c.str()?
                .iter()
                .map(|v| v.unwrap_or("").to_owned())
                .collect::<Vec<_>>())
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok((0..frame.height())
        .map(|row| cols.iter().map(|c| c[row].clone()).collect())
        .collect())
}

/// What a metadata join did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinReport {
    /// Dataset rows that found a metadata row.
    pub matched: usize,
    /// Dataset rows without metadata (their new columns are null).
    pub unmatched: usize,
    /// Columns added to the dataset.
    pub added_columns: Vec<String>,
}

/// Left-joins `metadata` onto `dataset` by `dataset.id == metadata[key]`. Metadata ids must be
/// unique (a repeated id would duplicate proteins); columns whose names clash get `_meta`.
pub fn join_metadata(
    dataset: &DataFrame,
    metadata: &DataFrame,
    key: &str,
    path: &Path,
) -> Result<(DataFrame, JoinReport), DataError> {
    let err = |msg: String| DataError::format(path, "-", 1, msg);
    let ids = metadata
        .column(key)
        .map_err(|_| {
            err(format!(
                "no column {key:?}; columns are {:?}",
                metadata.get_column_names()
            ))
        })?
        .cast(&DataType::String)
        .map_err(|e| err(format!("column {key:?}: {e}")))?;
    let mut seen = std::collections::HashSet::new();
    for (row, id) in ids
        .str()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .enumerate()
    {
        let Some(id) = id else { continue };
        if !seen.insert(id.to_owned()) {
            return Err(DataError::format(
                path,
                id,
                row + 2,
                format!("id {id:?} appears more than once in column {key:?}"),
            ));
        }
    }
    let mut meta = metadata.clone();
    meta.with_column(ids.with_name("id".into()))
        .map_err(|e| err(e.to_string()))?;
    if key != "id" {
        let _ = meta.drop_in_place(key);
    }
    let existing: Vec<String> = dataset
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut added = Vec::new();
    for name in meta.get_column_names_owned() {
        if name == "id" {
            continue;
        }
        let target = if existing.contains(&name.to_string()) {
            format!("{name}_meta")
        } else {
            name.to_string()
        };
        if target != name.as_str() {
            meta.rename(&name, target.clone().into())
                .map_err(|e| err(e.to_string()))?;
        }
        added.push(target);
    }
    let joined = dataset
        .left_join(&meta, ["id"], ["id"])
        .map_err(|e| err(format!("join failed: {e}")))?;
    let matched = match added.first() {
        Some(first) => joined.column(first).map_or(0, |c| c.len() - c.null_count()),
        None => 0,
    };
    let report = JoinReport {
        matched,
        unmatched: joined.height() - matched,
        added_columns: added,
    };
    Ok((joined, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_joins_by_id_and_reports_misses() -> Result<(), Box<dyn std::error::Error>> {
        let rec = |id: &str| FastaRecord {
            id: id.into(),
            description: String::new(),
            sequence: "MK".into(),
            line: 1,
        };
        let dataset = fasta_frame(&[rec("a"), rec("b"), rec("c")])?;
        let dir = tempfile::tempdir()?;
        let meta_path = dir.path().join("meta.tsv");
        std::fs::write(
            &meta_path,
            "accession\tspecies\tlength\nb\tE. coli\t9\na\tHuman\t7\nz\tMouse\t1\n",
        )?;
        let meta = read_table(&meta_path)?;
        let (joined, report) = join_metadata(&dataset, &meta, "accession", &meta_path)?;
        assert_eq!(joined.height(), 3);
        assert_eq!(
            report,
            JoinReport {
                matched: 2,
                unmatched: 1,
                added_columns: vec!["species".into(), "length_meta".into()]
            }
        );
        let species: Vec<Option<&str>> = joined.column("species")?.str()?.iter().collect();
        assert_eq!(species, vec![Some("Human"), Some("E. coli"), None]);
        // The same metadata as Parquet.
        let parquet = dir.path().join("meta.parquet");
        let mut meta_df = meta.clone();
        ParquetWriter::new(std::fs::File::create(&parquet)?).finish(&mut meta_df)?;
        let (joined_pq, report_pq) =
            join_metadata(&dataset, &read_table(&parquet)?, "accession", &parquet)?;
        assert_eq!((joined_pq.height(), report_pq.matched), (3, 2));
        // A repeated id is refused, naming it and its line.
        std::fs::write(&meta_path, "accession\tspecies\na\tx\na\ty\n")?;
        let msg = join_metadata(&dataset, &read_table(&meta_path)?, "accession", &meta_path)
            .expect_err("dup")
            .to_string();
        assert!(
            msg.contains("\"a\" appears more than once") && msg.contains("line 3"),
            "{msg}"
        );
        Ok(())
    }
}
