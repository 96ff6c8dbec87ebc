//! Training outputs are written through the crate's one atomic write
//! ([`crate::atomic_write`]).

use std::path::Path;

use super::error::TrainError;

/// Writes `bytes` to `path` atomically (see [`crate::atomic_write`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    crate::atomic_write::write_bytes_atomic(path, bytes).map_err(|e| TrainError::Io {
        path: e.path,
        source: e.source,
    })
}
