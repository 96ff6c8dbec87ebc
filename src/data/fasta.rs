//! Streaming FASTA reader: plain or gzip, wrapped lines, lowercase, `*` terminators.
//!
//! Records are yielded one at a time, so million-sequence files never sit in memory at once.
//! Errors name the file, the record and the line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::error::DataError;

/// One FASTA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastaRecord {
    /// The first word of the header (after `>`).
    pub id: String,
    /// The rest of the header line, trimmed.
    pub description: String,
    /// The sequence, upper-cased, line breaks and a trailing `*` removed.
    pub sequence: String,
    /// 1-based line number of the header.
    pub line: usize,
}

/// Iterator over the records of a FASTA file.
pub struct FastaReader {
    lines: Box<dyn BufRead + Send>,
    path: PathBuf,
    line_no: usize,
    pending_header: Option<(String, usize)>,
    buf: String,
}

impl FastaReader {
    /// Opens `path`; `.gz` files are decompressed on the fly.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|source| DataError::io(path, source))?;
        let inner: Box<dyn Read + Send> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        Ok(Self::new(BufReader::with_capacity(1 << 16, inner), path))
    }

    /// Reads from any buffered source; `path` is used in error messages.
    pub fn new(reader: impl BufRead + Send + 'static, path: &Path) -> Self {
        Self {
            lines: Box::new(reader),
            path: path.to_owned(),
            line_no: 0,
            pending_header: None,
            buf: String::new(),
        }
    }

    /// Reads all records (convenience for small files); a file without any record is an
    /// error (there is nothing to do with it).
    pub fn read_all(path: &Path) -> Result<Vec<FastaRecord>, DataError> {
        let records: Vec<FastaRecord> = Self::open(path)?.collect::<Result<_, _>>()?;
        if records.is_empty() {
            return Err(DataError::format(
                path,
                "-",
                0,
                "no FASTA records (no line starts with '>'): is this the right file?",
            ));
        }
        Ok(records)
    }

    fn format_error(&self, message: String, record: &str) -> DataError {
        DataError::format(&self.path, record, self.line_no, message)
    }

    /// Next line without its terminator, or `None` at EOF.
    fn next_line(&mut self) -> Result<Option<&str>, DataError> {
        self.buf.clear();
        let n = self
            .lines
            .read_line(&mut self.buf)
            .map_err(|source| DataError::io(&self.path, source))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(self.buf.trim_end_matches(['\n', '\r'])))
    }

    fn read_record(&mut self) -> Result<Option<FastaRecord>, DataError> {
        let (header, header_line) = match self.pending_header.take() {
            Some(h) => h,
            None => loop {
                let line_no = self.line_no + 1;
                match self.next_line()? {
                    None => return Ok(None),
                    Some(l) if l.trim().is_empty() || l.starts_with(';') => {}
                    Some(l) if l.starts_with('>') => {
                        break (l.trim_start_matches('>').to_owned(), line_no);
                    }
                    Some(_) => {
                        return Err(self.format_error(
                            "sequence data before the first '>' header".into(),
                            "-",
                        ));
                    }
                }
            },
        };
        let header = header.trim();
        let (id, description) = header
            .split_once(char::is_whitespace)
            .unwrap_or((header, ""));
        if id.is_empty() {
            return Err(DataError::format(
                &self.path,
                "-",
                header_line,
                "empty record id",
            ));
        }
        let (id, description) = (id.to_owned(), description.trim().to_owned());
        let mut sequence = String::new();
        loop {
            let line_no = self.line_no + 1;
            let Some(line) = self.next_line()? else { break };
            if let Some(header) = line.strip_prefix('>') {
                self.pending_header = Some((header.to_owned(), line_no));
                break;
            }
            let line = line.trim();
            if line.starts_with(';') {
                continue;
            }
            for c in line.chars() {
                if c.is_ascii_alphabetic() || c == '-' || c == '.' {
                    if sequence.ends_with('*') {
                        return Err(
                            self.format_error("residues after a '*' terminator".into(), &id)
                        );
                    }
                    sequence.push(c.to_ascii_uppercase());
                } else if c == '*' {
                    sequence.push('*');
                } else if !c.is_whitespace() {
                    return Err(
                        self.format_error(format!("invalid character {c:?} in sequence"), &id)
                    );
                }
            }
        }
        if sequence.ends_with('*') {
            sequence.pop();
        }
        if sequence.is_empty() {
            return Err(DataError::format(
                &self.path,
                id,
                header_line,
                "record has no residues: give its sequence on the lines after the header, or remove the header",
            ));
        }
        Ok(Some(FastaRecord {
            id,
            description,
            sequence,
            line: header_line,
        }))
    }
}

/// Ids that occur more than once, each with the header lines where it occurs (file order).
pub fn duplicate_ids(records: &[FastaRecord]) -> Vec<(String, Vec<usize>)> {
    let mut lines: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for r in records {
        lines.entry(r.id.as_str()).or_default().push(r.line);
    }
    lines
        .into_iter()
        .filter(|(_, l)| l.len() > 1)
        .map(|(id, l)| (id.to_owned(), l))
        .collect()
}

impl Iterator for FastaReader {
    type Item = Result<FastaRecord, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_record().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &'static str) -> Result<Vec<FastaRecord>, DataError> {
        FastaReader::new(std::io::Cursor::new(text), Path::new("t.fa")).collect()
    }

    #[test]
    fn wrapped_lowercase_and_terminators() -> Result<(), DataError> {
        let recs = parse(">a desc here\nmkt\nAYI*\n\n>b\nGG\n")?;
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].id, "a");
        assert_eq!(recs[0].description, "desc here");
        assert_eq!(recs[0].sequence, "MKTAYI");
        assert_eq!(recs[1].line, 5);
        Ok(())
    }

    #[test]
    fn gzip_files_are_read_transparently() -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write as _;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.fasta.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path)?,
            flate2::Compression::default(),
        );
        gz.write_all(b">a\nMKT\nAYI\n>b\nGG*\n")?;
        gz.finish()?;
        let recs = FastaReader::read_all(&path)?;
        assert_eq!(
            recs.iter().map(|r| r.sequence.as_str()).collect::<Vec<_>>(),
            ["MKTAYI", "GG"]
        );
        Ok(())
    }

    #[test]
    fn duplicate_ids_are_flagged_with_lines() -> Result<(), DataError> {
        let recs = parse(">a\nM\n>b\nK\n>a\nT\n")?;
        assert_eq!(duplicate_ids(&recs), vec![("a".to_owned(), vec![1, 5])]);
        Ok(())
    }

    #[test]
    fn errors_name_record_and_line() {
        let err = parse(">a\nMK\nM1K\n").expect_err("digit is invalid");
        let msg = err.to_string();
        assert!(
            msg.contains("record a") && msg.contains("line 3") && msg.contains("t.fa"),
            "{msg}"
        );
        let err = parse("MK\n>a\n").expect_err("data before header");
        assert!(err.to_string().contains("line 1"));
    }

    #[test]
    fn a_record_without_residues_is_named_with_its_header_line() {
        let err = parse(">a\nMK\n>empty\n\n>c\nMK\n").expect_err("no residues");
        let msg = err.to_string();
        assert!(
            msg.contains("record empty") && msg.contains("line 3") && msg.contains("no residues"),
            "{msg}"
        );
        let err = parse(">only_a_stop\n*\n").expect_err("only a terminator");
        assert!(err.to_string().contains("no residues"), "{err}");
    }
}
