//! Errors of pretraining.

use std::path::PathBuf;

/// What can stop a pretraining run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The corpus could not be read or parsed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The model could not be built or run.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The corpus is unusable.
    #[error("{0}")]
    Corpus(String),
    /// A checkpoint to resume or start from is unreadable or does not match this run.
    #[error("cannot continue from {} ({reason})", path.display())]
    Resume {
        /// What is wrong.
        reason: String,
        /// The checkpoint folder.
        path: PathBuf,
    },
    /// A file could not be written or read.
    #[error("cannot write or read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The user stopped the run (a checkpoint was saved first).
    #[error("stopped at step {step}; resume with the same output folder")]
    Cancelled {
        /// Updates completed and saved.
        step: u64,
    },
}
