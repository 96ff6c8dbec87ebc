//! Errors of the data layer: every message names the file, and for content errors the record
//! and the 1-based line.

use std::path::PathBuf;

/// Reading an input file failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: {}", crate::io_reason::reading(source), path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file or folder the data layer writes (the embedding cache) could not be written.
    #[error("{}: {}", crate::io_reason::writing(source), path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Malformed content.
    #[error("{message}{}: {}", place(record, *line), path.display())]
    Format {
        /// What is wrong, with the numbers.
        message: String,
        /// Record id (or `row N` where the format has no ids).
        record: String,
        /// 1-based line.
        line: usize,
        /// The file.
        path: PathBuf,
    },
}

/// ` (record R, line N)`; ` (line N)` where the record has no id, ` (record R)` where the
/// format has no lines (JSON); nothing for the whole file.
fn place(record: &str, line: usize) -> String {
    match (record, line) {
        ("-" | "", 0) => String::new(),
        (record, 0) => format!(" (record {record})"),
        ("-" | "", line) => format!(" (line {line})"),
        (record, line) => format!(" (record {record}, line {line})"),
    }
}

impl DataError {
    /// A content error.
    pub fn format(
        path: &std::path::Path,
        record: impl Into<String>,
        line: usize,
        message: impl Into<String>,
    ) -> Self {
        Self::Format {
            message: message.into(),
            record: record.into(),
            line,
            path: path.to_owned(),
        }
    }

    /// An I/O error.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// A failed write of `path`.
    pub fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Write {
            path: path.to_owned(),
            source,
        }
    }
}
