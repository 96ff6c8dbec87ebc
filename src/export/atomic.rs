//! The export error type, and export's door to the crate's one atomic write.

use std::path::{Path, PathBuf};

/// Why a file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Filesystem failure.
    #[error("{}: {}", crate::io_reason::writing(source), path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("{}: {}", crate::io_reason::reading(source), path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not in the expected format.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A table could not be built or encoded.
    #[error("cannot write the table {}: {reason}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
}

/// The extension of `path`, lower-cased (`Map.SVG` gives `svg`): what picks an output format.
pub(super) fn lowercase_extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// A failed atomic write is a failed write of its file.
impl From<crate::atomic_write::AtomicWriteError> for ExportError {
    fn from(e: crate::atomic_write::AtomicWriteError) -> Self {
        Self::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// Writes `path` through `write` atomically (see [`crate::atomic_write`]).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), ExportError> {
    Ok(crate::atomic_write::write_atomic(path, write)?)
}
