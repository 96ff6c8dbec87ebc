//! Multiple sequence alignments of protein families: Stockholm (Pfam's seeds, several families
//! a file), aligned FASTA, A2M and A3M. Each sequence keeps every residue (what the model
//! embeds) and, per residue, its alignment column, or none where the format calls it an insert:
//!
//! - **Stockholm**: blocks interleaved by name; with a `#=GC RF` line the columns it marks
//!   `.`, `-` or `~` are inserts (hmmalign's output); without one every column counts (Pfam's
//!   seeds). `.` and `-` are gaps.
//! - **aligned FASTA**: every row as long as the first; every column counts; `-` and `.` gaps.
//! - **A2M**: upper-case letters and `-` are match columns, lower-case letters and `.` inserts.
//! - **A3M**: as A2M without the `.` (rows differ in length; match states line up).
//!
//! Errors name the file, the record and the line.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::error::DataError;

/// One sequence of an alignment.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignedSequence {
    /// Name as the file gives it (`LAR_DROME/418-503`).
    pub id: String,
    /// Its residues, gaps removed, upper case.
    pub sequence: String,
    /// Per residue, its 0-based alignment column (`None`: an insert).
    pub columns: Vec<Option<u32>>,
}

/// One family's alignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// The family (`#=GF ID`, else the file's stem).
    pub name: String,
    /// Its accession (`#=GF AC`, e.g. `PF00041.20`), empty when not given.
    pub accession: String,
    /// The sequences, in file order.
    pub sequences: Vec<AlignedSequence>,
    /// Alignment columns (match columns).
    pub width: usize,
}

impl Alignment {
    /// `(id, sequence)` of every sequence, for the model.
    pub fn records(&self) -> Vec<(String, String)> {
        self.sequences
            .iter()
            .map(|s| (s.id.clone(), s.sequence.clone()))
            .collect()
    }

    /// Residues in an alignment column, over all sequences.
    pub fn aligned_residues(&self) -> usize {
        self.sequences
            .iter()
            .map(|s| s.columns.iter().flatten().count())
            .sum()
    }
}

/// The alignment formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignmentFormat {
    /// Stockholm 1.0.
    Stockholm,
    /// Aligned FASTA (every column a match column).
    AlignedFasta,
    /// A2M (lower case and `.` inserts).
    A2m,
    /// A3M (lower case inserts, no `.`).
    A3m,
}

impl AlignmentFormat {
    /// The format `path`'s name says (`.sto`, `.stk`, `.a2m`, `.a3m`; other names: aligned
    /// FASTA), a `.gz` suffix aside; a file starting `# STOCKHOLM` is Stockholm whatever its
    /// name.
    fn of(path: &Path, first_line: &str) -> Self {
        if first_line.starts_with("# STOCKHOLM") {
            return Self::Stockholm;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        match name.rsplit('.').next() {
            Some("sto" | "stk" | "stockholm") => Self::Stockholm,
            Some("a2m") => Self::A2m,
            Some("a3m") => Self::A3m,
            _ => Self::AlignedFasta,
        }
    }
}

/// Reads every family in `path` (`.gz` decompressed on the fly); a file with none is an error.
pub fn read_alignments(path: &Path) -> Result<Vec<Alignment>, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let inner: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut lines = Vec::new();
    for line in BufReader::new(inner).lines() {
        lines.push(line.map_err(|e| DataError::io(path, e))?);
    }
    let first = lines.iter().find(|l| !l.trim().is_empty()).cloned();
    let Some(first) = first else {
        return Err(DataError::format(
            path,
            "",
            0,
            "the file holds no alignment",
        ));
    };
    let stem = crate::store::dataset_label(path);
    let stem = stem.split('.').next().unwrap_or(&stem).to_owned();
    let families = match AlignmentFormat::of(path, &first) {
        AlignmentFormat::Stockholm => read_stockholm(path, &lines, &stem)?,
        format => vec![read_fasta_alignment(path, &lines, &stem, format)?],
    };
    if families.is_empty() {
        return Err(DataError::format(
            path,
            "",
            0,
            "the file holds no alignment",
        ));
    }
    Ok(families)
}

/// Rows of one Stockholm family being read.
#[derive(Default)]
struct StockholmFamily {
    name: String,
    accession: String,
    /// `(name, aligned text, first line)` in first-seen order.
    rows: Vec<(String, String, usize)>,
    reference: Option<String>,
    start_line: usize,
}

/// The families of a Stockholm file (each ends with `//`).
fn read_stockholm(path: &Path, lines: &[String], stem: &str) -> Result<Vec<Alignment>, DataError> {
    let mut families = Vec::new();
    let mut family = StockholmFamily::default();
    for (k, raw) in lines.iter().enumerate() {
        let (line_no, line) = (k + 1, raw.trim_end());
        if family.start_line == 0 {
            family.start_line = line_no;
        }
        if line.trim().is_empty() || line.starts_with("# STOCKHOLM") {
            continue;
        }
        if line.starts_with("//") {
            let name = match (&family.name, families.len()) {
                (n, _) if !n.is_empty() => n.clone(),
                (_, 0) => stem.to_owned(),
                (_, k) => format!("{stem}_{}", k + 1),
            };
            families.push(finish_stockholm(path, std::mem::take(&mut family), name)?);
            continue;
        }
        if let Some(rest) = line.strip_prefix("#=GF ") {
            let (tag, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            match tag {
                "ID" => family.name = value.trim().to_owned(),
                "AC" => family.accession = value.trim().to_owned(),
                _ => {}
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("#=GC RF") {
            family
                .reference
                .get_or_insert_with(String::new)
                .push_str(rest.trim());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(name), Some(text), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DataError::format(
                path,
                "",
                line_no,
                "a sequence line must be a name and its aligned residues, nothing else",
            ));
        };
        match family.rows.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, row, _)) => row.push_str(text),
            None => family
                .rows
                .push((name.to_owned(), text.to_owned(), line_no)),
        }
    }
    if !family.rows.is_empty() {
        return Err(DataError::format(
            path,
            family.name.as_str(),
            lines.len(),
            "the last alignment does not end with \"//\" (truncated?)",
        ));
    }
    Ok(families)
}

/// Checks a Stockholm family's rows and maps its residues to columns.
fn finish_stockholm(
    path: &Path,
    family: StockholmFamily,
    name: String,
) -> Result<Alignment, DataError> {
    let Some((_, first, _)) = family.rows.first() else {
        return Err(DataError::format(
            path,
            name.as_str(),
            family.start_line,
            "the alignment has no sequences",
        ));
    };
    let length = first.chars().count();
    let matches: Vec<bool> = match &family.reference {
        Some(rf) if rf.chars().count() == length => {
            rf.chars().map(|c| !matches!(c, '.' | '-' | '~')).collect()
        }
        Some(rf) => {
            return Err(DataError::format(
                path,
                name.as_str(),
                family.start_line,
                format!(
                    "the #=GC RF line has {} columns and the sequences {length}",
                    rf.chars().count()
                ),
            ));
        }
        None => vec![true; length],
    };
    let mut sequences = Vec::with_capacity(family.rows.len());
    for (id, text, line) in &family.rows {
        if text.chars().count() != length {
            return Err(DataError::format(
                path,
                id.as_str(),
                *line,
                format!(
                    "{} aligned columns where the first sequence has {length}",
                    text.chars().count()
                ),
            ));
        }
        let states = text.chars().zip(matches.iter().copied());
        sequences.push(aligned(path, (id, *line), states)?);
    }
    Ok(Alignment {
        name,
        accession: family.accession,
        sequences,
        width: matches.iter().filter(|m| **m).count(),
    })
}

/// One sequence from `(character, column is a match column)` pairs: gaps dropped, residues of
/// match columns numbered by column, others inserts.
fn aligned(
    path: &Path,
    (id, line): (&str, usize),
    states: impl Iterator<Item = (char, bool)>,
) -> Result<AlignedSequence, DataError> {
    let (mut sequence, mut columns, mut column) = (String::new(), Vec::new(), 0u32);
    for (c, is_match) in states {
        match c {
            '-' | '.' | '~' => {}
            c if c.is_ascii_alphabetic() => {
                sequence.push(c.to_ascii_uppercase());
                columns.push(is_match.then_some(column));
            }
            other => {
                return Err(DataError::format(
                    path,
                    id,
                    line,
                    format!("{other:?} is neither a residue letter nor a gap ('-' or '.')"),
                ));
            }
        }
        column += u32::from(is_match);
    }
    if sequence.is_empty() {
        return Err(DataError::format(
            path,
            id,
            line,
            "the sequence is all gaps",
        ));
    }
    Ok(AlignedSequence {
        id: id.to_owned(),
        sequence,
        columns,
    })
}

/// One family from a FASTA-style alignment (`format` says which characters are inserts).
fn read_fasta_alignment(
    path: &Path,
    lines: &[String],
    stem: &str,
    format: AlignmentFormat,
) -> Result<Alignment, DataError> {
    let mut rows: Vec<(String, String, usize)> = Vec::new();
    for (k, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('>') {
            let id = header.split_whitespace().next().unwrap_or("").to_owned();
            rows.push((id, String::new(), k + 1));
        } else if !line.is_empty() {
            let Some((_, text, _)) = rows.last_mut() else {
                return Err(DataError::format(
                    path,
                    "",
                    k + 1,
                    "residues before the first '>' header",
                ));
            };
            text.push_str(line);
        }
    }
    let mut sequences = Vec::with_capacity(rows.len());
    let mut width = None;
    for (id, text, line) in &rows {
        // Match states: every character (aligned FASTA), or upper case and '-' (A2M, A3M).
        let is_match =
            |c: char| format == AlignmentFormat::AlignedFasta || c.is_ascii_uppercase() || c == '-';
        let states: Vec<(char, bool)> = text.chars().map(|c| (c, is_match(c))).collect();
        let row_width = match format {
            AlignmentFormat::AlignedFasta => states.len(),
            _ => states.iter().filter(|(_, m)| *m).count(),
        };
        if format == AlignmentFormat::A3m && text.contains('.') {
            return Err(DataError::format(
                path,
                id.as_str(),
                *line,
                "A3M has no '.' (inserts are lower case only); is this A2M? name it .a2m",
            ));
        }
        match width {
            None => width = Some(row_width),
            Some(w) if w != row_width => {
                let what = match format {
                    AlignmentFormat::AlignedFasta => "aligned columns",
                    _ => "match columns (upper case and '-')",
                };
                return Err(DataError::format(
                    path,
                    id.as_str(),
                    *line,
                    format!("{row_width} {what} where the first sequence has {w}"),
                ));
            }
            _ => {}
        }
        sequences.push(aligned(path, (id, *line), states.into_iter())?);
    }
    let Some(width) = width else {
        return Err(DataError::format(
            path,
            "",
            0,
            "the file holds no '>' record",
        ));
    };
    Ok(Alignment {
        name: stem.to_owned(),
        accession: String::new(),
        sequences,
        width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        (dir, path)
    }

    #[test]
    fn stockholm_blocks_join_by_name_and_rf_marks_inserts() {
        let text = "# STOCKHOLM 1.0\n#=GF ID   fam1\n#=GF AC   PF00001.1\n\n\
                    a/1-5  AC.DE\nb/2-6  A-gDE\n#=GC RF xx.xx\n\na/1-5  FG\nb/2-6  F-\n#=GC RF xx\n//\n\
                    # STOCKHOLM 1.0\nc  MK\nd  M-\n//\n";
        let (_dir, path) = write("two.sto", text);
        let families = read_alignments(&path).expect("read");
        assert_eq!(families.len(), 2);
        let fam = &families[0];
        assert_eq!(
            (fam.name.as_str(), fam.accession.as_str(), fam.width),
            ("fam1", "PF00001.1", 6)
        );
        assert_eq!(fam.sequences[0].sequence, "ACDEFG");
        assert_eq!(
            fam.sequences[1].columns,
            vec![Some(0), None, Some(2), Some(3), Some(4)],
            "b: A, g in the insert column, D, E, F"
        );
        assert_eq!(fam.sequences[1].sequence, "AGDEF");
        assert_eq!(
            families[1].name, "two_2",
            "no ID: the file's stem and its place"
        );
        assert_eq!(families[1].sequences[1].columns, vec![Some(0)]);
    }

    #[test]
    fn a2m_and_a3m_drop_their_inserts_the_way_each_defines() {
        let (_d, a2m) = write("f.a2m", ">x\nAC..DE\n>y\nA-gkDE\n");
        let x = &read_alignments(&a2m).expect("a2m")[0];
        assert_eq!(x.width, 4);
        assert_eq!(x.sequences[1].sequence, "AGKDE");
        assert_eq!(
            x.sequences[1].columns,
            vec![Some(0), None, None, Some(2), Some(3)]
        );
        let (_d, a3m) = write("f.a3m", ">x\nACDE\n>y\nA-gkDE\n");
        let y = &read_alignments(&a3m).expect("a3m")[0];
        assert_eq!(
            y.sequences[1].columns,
            vec![Some(0), None, None, Some(2), Some(3)]
        );
        let (_d, afa) = write("f.afa", ">x\nAC-DE\n>y\nacgde\n");
        let z = &read_alignments(&afa).expect("aligned fasta")[0];
        assert_eq!(z.width, 5);
        assert_eq!(
            z.sequences[0].columns,
            vec![Some(0), Some(1), Some(3), Some(4)]
        );
        assert_eq!(z.sequences[1].sequence, "ACGDE");
    }

    #[test]
    fn broken_alignments_are_refused_naming_the_record_and_line() {
        let (_d, short) = write("s.sto", "# STOCKHOLM 1.0\na  ACDE\nb  AC\n//\n");
        let err = read_alignments(&short).expect_err("ragged").to_string();
        assert!(
            err.contains("2 aligned columns where the first sequence has 4"),
            "{err}"
        );
        assert!(err.contains("(record b, line 3)"), "{err}");
        let (_d, open) = write("o.sto", "# STOCKHOLM 1.0\na  ACDE\n");
        let err = read_alignments(&open).expect_err("no //").to_string();
        assert!(err.contains("does not end with \"//\""), "{err}");
        let (_d, ragged) = write("r.a2m", ">x\nACDE\n>y\nACD\n");
        let err = read_alignments(&ragged)
            .expect_err("ragged a2m")
            .to_string();
        assert!(
            err.contains("3 match columns (upper case and '-') where the first sequence has 4"),
            "{err}"
        );
        let (_d, digits) = write("d.afa", ">x\nAC1E\n");
        let err = read_alignments(&digits).expect_err("digit").to_string();
        assert!(
            err.contains("'1' is neither a residue letter nor a gap"),
            "{err}"
        );
        let (_d, empty) = write("e.sto", "\n\n");
        assert!(read_alignments(&empty).is_err());
    }
}
