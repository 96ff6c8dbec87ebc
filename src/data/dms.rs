//! Deep mutational scan tables: CSV or TSV with a header, one variant per row in a mutant
//! column (`A23K`, `:` joining multi-mutants; fair-esm's and ProteinGym's `mutant`) and the
//! assay's value in a score column (ProteinGym's `DMS_score`, or any named column such as
//! `2500` in fair-esm's BLAT_ECOLX example). Rows without a score are skipped and counted.

use std::path::{Path, PathBuf};

use super::error::DataError;
use super::mutations::{Variant, parse_variant};

/// The mutant column unless one is named.
pub const DEFAULT_MUTANT_COLUMN: &str = "mutant";
/// The score column unless one is named (ProteinGym's).
pub const DEFAULT_SCORE_COLUMN: &str = "DMS_score";

/// A read assay.
#[derive(Debug, Clone, PartialEq)]
pub struct DmsTable {
    /// The file.
    pub path: PathBuf,
    /// The mutant column used.
    pub mutant_column: String,
    /// The score column used.
    pub score_column: String,
    /// Each scored variant and its measured value, in file order.
    pub variants: Vec<(Variant, f64)>,
    /// Rows without a value in the score column.
    pub unscored: usize,
}

/// Reads `path`; `mutant` and `score` name the columns (defaults above).
pub fn read_dms(
    path: &Path,
    mutant: Option<&str>,
    score: Option<&str>,
) -> Result<DmsTable, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    let format = |message: String, record: &str, line: usize| DataError::Format {
        message,
        record: record.to_owned(),
        line,
        path: path.to_owned(),
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| format("an empty file: expected a header row".into(), "", 0))?;
    let separator = if header.contains('\t') { '\t' } else { ',' };
    let columns: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(separator)
        .map(|c| c.trim().trim_matches('"').to_owned())
        .collect();
    let find = |name: &str, flag: &str| {
        columns.iter().position(|c| c == name).ok_or_else(|| {
            format(
                format!(
                    "no column {name:?} ({flag}); the columns are {}",
                    columns.join(", ")
                ),
                "",
                1,
            )
        })
    };
    let mutant_column = mutant.unwrap_or(DEFAULT_MUTANT_COLUMN);
    let score_column = score.unwrap_or(DEFAULT_SCORE_COLUMN);
    let (m, s) = (
        find(mutant_column, "--mutant-col")?,
        find(score_column, "--score-col")?,
    );
    let mut variants = Vec::new();
    let mut unscored = 0;
    for (k, line) in lines {
        let fields: Vec<&str> = line
            .split(separator)
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        let record = format!("row {}", k);
        let (Some(text), Some(value)) = (fields.get(m), fields.get(s)) else {
            return Err(format(
                format!(
                    "{} fields, but the header has {}",
                    fields.len(),
                    columns.len()
                ),
                &record,
                k + 1,
            ));
        };
        let variant = parse_variant(text).map_err(|reason| format(reason, &record, k + 1))?;
        if value.is_empty() || value.eq_ignore_ascii_case("nan") {
            unscored += 1;
            continue;
        }
        let value: f64 = value.parse().map_err(|_| {
            format(
                format!("the score {value:?} in column {score_column:?} is not a number"),
                text,
                k + 1,
            )
        })?;
        variants.push((variant, value));
    }
    if variants.is_empty() {
        return Err(format(
            format!("no variant has a value in column {score_column:?}"),
            "",
            0,
        ));
    }
    Ok(DmsTable {
        path: path.to_owned(),
        mutant_column: mutant_column.to_owned(),
        score_column: score_column.to_owned(),
        variants,
        unscored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn write(text: &str) -> std::io::Result<tempfile::NamedTempFile> {
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), text)?;
        Ok(file)
    }

    /// The error of a read that must fail, as text.
    fn refusal(file: &tempfile::NamedTempFile) -> String {
        read_dms(file.path(), None, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn reads_fair_esms_blat_layout_and_proteingyms() -> TestResult {
        let blat = write(
            "\u{feff},mutant,0,2500\n0,H24C,0.02,-0.41\n1,H24E,0.01,\n2,P25A:E26K,0.1,0.5\n",
        )?;
        let table = read_dms(blat.path(), None, Some("2500"))?;
        assert_eq!(table.variants.len(), 2);
        assert_eq!(table.unscored, 1);
        assert_eq!(table.variants[1].0.substitutions.len(), 2);
        assert_eq!(table.variants[0].1, -0.41);
        let gym = write("mutant\tmutated_sequence\tDMS_score\nH24C\tCPET\t1.5\n")?;
        assert_eq!(read_dms(gym.path(), None, None)?.variants[0].1, 1.5);
        Ok(())
    }

    #[test]
    fn bad_tables_say_where_in_our_words() -> TestResult {
        let missing = write("mutant,fitness\nH24C,1\n")?;
        let err = refusal(&missing);
        assert!(
            err.contains("no column \"DMS_score\" (--score-col); the columns are mutant, fitness"),
            "{err}"
        );
        let bad = write("mutant,DMS_score\nH24C,1\nHxC,2\n")?;
        let err = refusal(&bad);
        assert!(err.contains("line 3") && err.contains("HxC"), "{err}");
        let word = write("mutant,DMS_score\nH24C,high\n")?;
        let err = refusal(&word);
        assert!(err.contains("\"high\"") && err.contains("line 2"), "{err}");
        let short = write("mutant,x,DMS_score\nH24C\n")?;
        assert!(refusal(&short).contains("1 fields"));
        Ok(())
    }
}
