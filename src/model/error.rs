//! Errors of the model layer.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running an ESM model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A character that is not in the ESM alphabet.
    #[error(
        "sequence {sequence_id}: character {character:?} at position {position} is not in the ESM alphabet"
    )]
    UnknownResidue {
        /// Record id of the sequence.
        sequence_id: String,
        /// 1-based character position in the sequence string.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// A sequence longer than the model accepts, under [`super::LengthPolicy::Error`].
    #[error(
        "sequence {sequence_id} has {residues} residues, more than the model's limit of {limit} (choose truncation or windows)"
    )]
    SequenceTooLong {
        /// Record id.
        sequence_id: String,
        /// Residue count.
        residues: usize,
        /// The model's residue limit.
        limit: usize,
    },
    /// The file could not be read at all.
    #[error("checkpoint {}: {}", crate::io_reason::reading(source), path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint could not be written (the previous file, if any, is untouched).
    #[error("checkpoint {}: {}", crate::io_reason::writing(source), path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a checkpoint in any format we know.
    #[error("{reason}: {}", path.display())]
    NotACheckpoint {
        /// What was wrong.
        reason: String,
        /// The file.
        path: PathBuf,
    },
    /// The checkpoint lacks or mis-states a hyperparameter.
    #[error("bad hyperparameters ({reason}): {}", path.display())]
    BadConfig {
        /// What was wrong.
        reason: String,
        /// The file.
        path: PathBuf,
    },
    /// A tensor the architecture needs is absent.
    #[error("tensor {name} is missing ({found} tensors found): {}", path.display())]
    MissingTensor {
        /// Canonical (fair-esm) tensor name.
        name: String,
        /// How many tensors the file did provide.
        found: usize,
        /// The file.
        path: PathBuf,
    },
    /// A tensor has the wrong shape for the configuration.
    #[error("tensor {name} has shape {actual:?}, expected {expected:?}: {}", path.display())]
    WrongShape {
        /// Canonical tensor name.
        name: String,
        /// Shape in the file.
        actual: Vec<usize>,
        /// Shape the configuration implies.
        expected: Vec<usize>,
        /// The file.
        path: PathBuf,
    },
    /// A tensor could not be decoded (truncated file, unsupported dtype, …).
    #[error("cannot read tensor {name}: {}", path.display())]
    BadTensor {
        /// Tensor name as stored in the file.
        name: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<candle_core::Error>,
    },
    /// Contacts were requested from weights without a contact regression.
    #[error(
        "contacts are unavailable: the checkpoint has no contact regression weights (for fair-esm .pt files, put <name>-contact-regression.pt beside the model)"
    )]
    NoContactHead,
    /// Logits were requested from weights without an LM head.
    #[error(
        "logits are unavailable: the checkpoint has no LM head (a Hugging Face EsmModel rather than EsmForMaskedLM)"
    )]
    NoLmHead,
    /// A request the model cannot serve, e.g. a representation layer out of range.
    #[error("{0}")]
    InvalidRequest(String),
    /// The request's [`super::StopFlag`] was raised; the pass stopped between layers.
    #[error("stopped at the user's request")]
    Stopped,
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(Box<candle_core::Error>),
}

impl From<candle_core::Error> for ModelError {
    fn from(err: candle_core::Error) -> Self {
        Self::Candle(Box::new(err))
    }
}

/// Result alias for the model layer.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
