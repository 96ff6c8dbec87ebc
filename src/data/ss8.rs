//! Secondary-structure label tables (DSSP 8 states), in the three layouts people use:
//! - NetSurfP-2.0 / ProtTrans CSV (`input, dssp3, dssp8, disorder, cb513_mask`; each field holds
//!   space-separated per-residue tokens; `disorder` 1.0 marks resolved residues and is the
//!   evaluation mask; `cb513_mask` is not used: in the CB513 file it is 0 for 42% of residues
//!   and is not the resolved-residue mask). These files have no ids: records are named `row N`.
//! - A table (TSV or CSV) with `id`, `sequence` and `dssp8` columns (other columns ignored).
//! - 3-line FASTA-style: `>id`, sequence, labels.
//!
//! DSSP's `P` (polyproline II, mkdssp >= 4) and `-` (blank/coil) map to `C`.

use std::path::Path;

use super::error::DataError;

/// The 8 DSSP states, in the order used for class indices.
pub const SS8_CLASSES: [char; 8] = ['G', 'H', 'I', 'B', 'E', 'S', 'T', 'C'];

/// Class index (into [`SS8_CLASSES`]) of a DSSP letter; `P`, `-` and `L` count as coil.
pub fn ss8_index(label: char) -> Option<u8> {
    let label = match label.to_ascii_uppercase() {
        'P' | '-' | 'L' => 'C',
        other => other,
    };
    SS8_CLASSES
        .iter()
        .position(|&c| c == label)
        .map(|i| i as u8)
}

/// 3-state reduction of an 8-state index: G/H/I → H (0), B/E → E (1), rest → C (2).
pub fn ss3_of(ss8: u8) -> u8 {
    match ss8 {
        0..=2 => 0,
        3 | 4 => 1,
        _ => 2,
    }
}

/// The 3 reduced states, in the order of [`ss3_of`].
pub const SS3_CLASSES: [char; 3] = ['H', 'E', 'C'];

/// One protein with per-residue labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ss8Record {
    /// Record id (`row N` for id-less CSVs).
    pub id: String,
    /// Upper-case residues.
    pub sequence: String,
    /// One class index (into [`SS8_CLASSES`]) per residue.
    pub labels: Vec<u8>,
    /// `true` where the residue is resolved and should be evaluated.
    pub mask: Vec<bool>,
    /// 1-based line of the record.
    pub line: usize,
}

/// Reads any supported layout, chosen from the first line.
pub fn read_ss8(path: &Path) -> Result<Vec<Ss8Record>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let first = text.lines().next().unwrap_or("").to_ascii_lowercase();
    if first.starts_with('>') {
        parse_three_line(&text, path)
    } else if first.split(',').map(str::trim).eq([
        "input",
        "dssp3",
        "dssp8",
        "disorder",
        "cb513_mask",
    ]) || (first.contains("input") && first.contains("dssp8"))
    {
        parse_netsurfp_csv(&text, path)
    } else if first.contains("dssp8") || first.contains("sequence") {
        parse_table(&text, path)
    } else {
        Err(DataError::format(
            path,
            "-",
            1,
            "unknown SS8 layout: expected a NetSurfP CSV header, an id/sequence/dssp8 table header, or '>' records",
        ))
    }
}

fn labels_of(
    tokens: impl Iterator<Item = char>,
    path: &Path,
    record: &str,
    line: usize,
) -> Result<Vec<u8>, DataError> {
    tokens
        .enumerate()
        .map(|(i, c)| {
            ss8_index(c).ok_or_else(|| {
                DataError::format(
                    path,
                    record,
                    line,
                    format!("unknown DSSP label {c:?} at residue {}", i + 1),
                )
            })
        })
        .collect()
}

fn check_lengths(rec: &Ss8Record, path: &Path) -> Result<(), DataError> {
    let residues = rec.sequence.chars().count();
    if residues != rec.labels.len() || residues != rec.mask.len() {
        return Err(DataError::format(
            path,
            &rec.id,
            rec.line,
            format!(
                "{residues} residues but {} labels and {} mask values",
                rec.labels.len(),
                rec.mask.len()
            ),
        ));
    }
    Ok(())
}

/// NetSurfP-2.0 / ProtTrans CSV.
fn parse_netsurfp_csv(text: &str, path: &Path) -> Result<Vec<Ss8Record>, DataError> {
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = lines.next().map_or_else(Vec::new, |(_, h)| {
        h.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .collect()
    });
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(input), Some(dssp8)) = (col("input"), col("dssp8")) else {
        return Err(DataError::format(
            path,
            "-",
            1,
            "header needs 'input' and 'dssp8' columns",
        ));
    };
    let disorder = col("disorder");
    let mut records = Vec::new();
    for (idx, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = idx + 1;
        let id = format!("row {}", records.len() + 1);
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < header.len() {
            return Err(DataError::format(
                path,
                &id,
                line_no,
                format!("{} fields, expected {}", fields.len(), header.len()),
            ));
        }
        let tokens = |i: usize| fields[i].split_whitespace();
        let sequence: String = tokens(input)
            .collect::<Vec<_>>()
            .concat()
            .to_ascii_uppercase();
        let labels = labels_of(tokens(dssp8).flat_map(str::chars), path, &id, line_no)?;
        let mask = match disorder {
            None => vec![true; labels.len()],
            Some(i) => tokens(i)
                .map(|t| {
                    t.parse::<f32>().map(|v| v > 0.5).map_err(|_| {
                        DataError::format(
                            path,
                            &id,
                            line_no,
                            format!("disorder value {t:?} is not a number"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let rec = Ss8Record {
            id,
            sequence,
            labels,
            mask,
            line: line_no,
        };
        check_lengths(&rec, path)?;
        records.push(rec);
    }
    Ok(records)
}

/// TSV/CSV with `id`, `sequence`, `dssp8` columns.
fn parse_table(text: &str, path: &Path) -> Result<Vec<Ss8Record>, DataError> {
    let mut lines = text.lines().enumerate();
    let header_line = lines.next().map_or("", |(_, h)| h);
    let sep = if header_line.contains('\t') {
        '\t'
    } else {
        ','
    };
    let header: Vec<String> = header_line
        .split(sep)
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let (Some(id_col), Some(seq_col), Some(ss_col)) = (
        col(&["id", "name"]),
        col(&["sequence", "seq"]),
        col(&["dssp8", "ss8"]),
    ) else {
        return Err(DataError::format(
            path,
            "-",
            1,
            format!("header {header:?} needs id, sequence and dssp8 columns"),
        ));
    };
    let mut records = Vec::new();
    for (idx, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = idx + 1;
        let fields: Vec<&str> = line.split(sep).map(str::trim).collect();
        let get = |i: usize| fields.get(i).copied();
        let id = get(id_col).unwrap_or("").to_owned();
        let (Some(seq), Some(ss)) = (get(seq_col), get(ss_col)) else {
            return Err(DataError::format(
                path,
                &id,
                line_no,
                format!("{} fields, expected {}", fields.len(), header.len()),
            ));
        };
        let labels = labels_of(ss.chars(), path, &id, line_no)?;
        let mask = vec![true; labels.len()];
        let rec = Ss8Record {
            id,
            sequence: seq.to_ascii_uppercase(),
            labels,
            mask,
            line: line_no,
        };
        check_lengths(&rec, path)?;
        records.push(rec);
    }
    Ok(records)
}

/// `>id` / sequence / labels, one line each.
fn parse_three_line(text: &str, path: &Path) -> Result<Vec<Ss8Record>, DataError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let mut records = Vec::new();
    for chunk in lines.chunks(3) {
        let (line_no, header) = chunk[0];
        let Some(id) = header.strip_prefix('>') else {
            return Err(DataError::format(
                path,
                "-",
                line_no,
                "expected a '>' header line",
            ));
        };
        let id = id.split_whitespace().next().unwrap_or("").to_owned();
        let [_, (_, seq), (ss_line, ss)] = chunk else {
            return Err(DataError::format(
                path,
                &id,
                line_no,
                "record needs a sequence line and a label line",
            ));
        };
        let labels = labels_of(ss.chars(), path, &id, *ss_line)?;
        let mask = vec![true; labels.len()];
        let rec = Ss8Record {
            id,
            sequence: seq.to_ascii_uppercase(),
            labels,
            mask,
            line: line_no,
        };
        check_lengths(&rec, path)?;
        records.push(rec);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        (dir, p)
    }

    #[test]
    fn reads_all_three_layouts() -> Result<(), DataError> {
        let (_d, p) = write(
            "input, dssp3, dssp8, disorder, cb513_mask\nM K T,C H H,C H G,1.0 0.0 1.0,1.0 1.0 1.0\n",
            "a.csv",
        );
        let r = read_ss8(&p)?;
        assert_eq!(r[0].id, "row 1");
        assert_eq!(r[0].labels, vec![7, 1, 0]);
        assert_eq!(r[0].mask, vec![true, false, true]);
        let (_d, p) = write(
            "id\tsequence\tdssp8\tfold\n1abc.A\tmkt\tCHP\talpha\n",
            "b.tsv",
        );
        assert_eq!(read_ss8(&p)?[0].labels, vec![7, 1, 7]);
        let (_d, p) = write(">x desc\nMKT\nEEB\n>y\nA\nH\n", "c.txt");
        let r = read_ss8(&p)?;
        assert_eq!((r.len(), r[1].id.as_str(), r[0].labels[2]), (2, "y", 3));
        Ok(())
    }

    #[test]
    fn errors_name_record_and_line() {
        let (_d, p) = write("id\tsequence\tdssp8\nok\tMK\tCC\nbad\tMKT\tCC\n", "b.tsv");
        let msg = read_ss8(&p).expect_err("length mismatch").to_string();
        assert!(
            msg.contains("record bad")
                && msg.contains("line 3")
                && msg.contains("3 residues but 2 labels"),
            "{msg}"
        );
        let (_d, p) = write(">x\nMK\nCQ\n", "c.txt");
        let msg = read_ss8(&p).expect_err("bad label").to_string();
        assert!(
            msg.contains("'Q'") && msg.contains("residue 2") && msg.contains("line 3"),
            "{msg}"
        );
    }

    #[test]
    fn three_state_reduction() {
        let q3: String = SS8_CLASSES
            .iter()
            .map(|&c| SS3_CLASSES[ss3_of(ss8_index(c).unwrap_or(7)) as usize])
            .collect();
        assert_eq!(q3, "HHHEECCC");
    }
}
