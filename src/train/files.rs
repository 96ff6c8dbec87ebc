//! Atomic file writes for training outputs: write beside the target, then rename.

use std::path::Path;

use super::error::TrainError;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|source| TrainError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| TrainError::Io {
        path: path.to_owned(),
        source,
    })
}
