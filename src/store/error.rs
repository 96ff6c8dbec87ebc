//! Errors of feature stores.

use std::path::PathBuf;

use crate::jobs::Cancelled;
use crate::model::ModelError;

/// What can go wrong creating, filling or reading a feature store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file of the store could not be read or written.
    #[error("feature store file {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Not enough free disk for the store; nothing was left behind.
    #[error(
        "not enough free disk for the feature store in {}: it needs {}, {} are free. Choose another store folder, fewer layers, or f16 features",
        folder.display(), crate::store::human_bytes(*needed), crate::store::human_bytes(*free)
    )]
    DiskFull {
        /// The store's folder.
        folder: PathBuf,
        /// Bytes the store needs.
        needed: u64,
        /// Bytes free there.
        free: u64,
    },
    /// The manifest is unreadable or belongs to another model, dataset or layout.
    #[error("feature store {}: {reason}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A read asked for something the store does not hold.
    #[error("feature store {}: {reason}", dir.display())]
    Missing {
        /// The store.
        dir: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The model failed.
    #[error(transparent)]
    Model(Box<ModelError>),
    /// The user cancelled; finished batches are kept and a rerun resumes after them.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl From<ModelError> for StoreError {
    fn from(err: ModelError) -> Self {
        match err {
            ModelError::Stopped => Self::Cancelled(Cancelled),
            other => Self::Model(Box::new(other)),
        }
    }
}

impl From<candle_core::Error> for StoreError {
    fn from(err: candle_core::Error) -> Self {
        ModelError::from(err).into()
    }
}

/// Attaches a path to an I/O error.
pub(crate) fn io_at(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io { path, source }
}
