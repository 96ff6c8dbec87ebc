//! Result tables as CSV or Parquet (polars), chosen by the file extension.

use std::path::Path;

use polars::prelude::{
    Column, CsvWriter, DataFrame, DataType, ParquetWriter, PlSmallStr, PolarsResult, SerWriter as _,
};

use super::atomic::{ExportError, write_atomic};

/// Table file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated, with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl TableFormat {
    /// The format named by `path`'s extension (`.csv`, `.parquet`/`.pq`).
    pub fn from_path(path: &Path) -> Result<Self, ExportError> {
        match super::atomic::lowercase_extension(path).as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("parquet" | "pq") => Ok(Self::Parquet),
            _ => Err(ExportError::Format {
                path: path.to_owned(),
                reason: "tables are written as .csv or .parquet".into(),
            }),
        }
    }
}

/// Writes `frame` to `path` (format from the extension), atomically. A NaN (an undefined
/// score, such as the precision of a class never predicted) is written as a missing value: an
/// empty CSV cell, a Parquet null; no exported table holds `NaN`.
pub fn write_table(path: &Path, frame: &mut DataFrame) -> Result<(), ExportError> {
    let format = TableFormat::from_path(path)?;
    nan_to_missing(frame).map_err(|e| ExportError::Table {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let mut failure = None;
    let result = write_atomic(path, |w| {
        let written = match format {
            TableFormat::Csv => CsvWriter::new(w).include_header(true).finish(frame),
            TableFormat::Parquet => ParquetWriter::new(w).finish(frame).map(|_| ()),
        };
        written.map_err(|e| {
            failure = Some(e.to_string());
            std::io::Error::other("polars")
        })
    });
    match (result, failure) {
        (Err(_), Some(reason)) => Err(ExportError::Table {
            path: path.to_owned(),
            reason,
        }),
        (result, _) => result,
    }
}

/// Replaces every NaN of the float columns of `frame` by a missing value.
fn nan_to_missing(frame: &mut DataFrame) -> PolarsResult<()> {
    let names: Vec<PlSmallStr> = frame
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Float32 | DataType::Float64))
        .map(|c| c.name().clone())
        .collect();
    for name in names {
        let column = frame.column(&name)?;
        let replaced = match column.dtype() {
            DataType::Float32 => {
                let values: Vec<Option<f32>> = column
                    .f32()?
                    .iter()
                    .map(|v| v.filter(|x| !x.is_nan()))
                    .collect();
                Column::new(name, values)
            }
            _ => {
                let values: Vec<Option<f64>> = column
                    .f64()?
                    .iter()
                    .map(|v| v.filter(|x| !x.is_nan()))
                    .collect();
                Column::new(name, values)
            }
        };
        frame.with_column(replaced)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn writes_csv_and_parquet_that_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut frame = df!("id" => ["a", "b"], "x" => [1.5f32, -2.0]).expect("frame");
        let csv = dir.path().join("t.csv");
        write_table(&csv, &mut frame).expect("csv");
        assert_eq!(
            std::fs::read_to_string(&csv).expect("read"),
            "id,x\na,1.5\nb,-2.0\n"
        );
        let parquet = dir.path().join("t.parquet");
        write_table(&parquet, &mut frame).expect("parquet");
        let back = ParquetReader::new(std::fs::File::open(&parquet).expect("open"))
            .finish()
            .expect("read parquet");
        assert!(back.equals(&frame));
        let err = write_table(&dir.path().join("t.xlsx"), &mut frame).expect_err("extension");
        assert!(err.to_string().contains(".csv or .parquet"));
    }

    #[test]
    fn a_nan_is_written_as_a_missing_value() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut frame =
            df!("class" => ["G", "H"], "precision" => [f64::NAN, 0.5], "x" => [f32::NAN, 1.0])
                .expect("frame");
        let csv = dir.path().join("t.csv");
        write_table(&csv, &mut frame).expect("csv");
        let text = std::fs::read_to_string(&csv).expect("read");
        assert_eq!(text, "class,precision,x\nG,,\nH,0.5,1.0\n");
        assert!(!text.contains("NaN"));
    }
}
