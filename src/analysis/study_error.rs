//! Why a study failed: one error type for every study workflow (SS8, contacts, homology, maps,
//! amino-acid groups). The steps they share (layers, stores, resources, cancel) fail the same
//! way; each analysis adds the one step of its own (a fit, a search, a projection).

use super::contact_head_run::ContactRunError;
use crate::jobs::Cancelled;
use crate::model::{LayersError, ModelError};
use crate::probes::ContactProbeError;
use crate::probes::HomologySearchError;
use crate::probes::logistic::LogisticError;
use crate::projection::ProjectionError;
use crate::store::StoreError;

use super::study_estimate::Refusal;

/// Why a study failed.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A parameter outside its range (the message names the field and flag).
    #[error(transparent)]
    Invalid(#[from] crate::params::InvalidParam),
    /// An input file could not be read (the message names the file, record and line).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A layer outside the model.
    #[error(transparent)]
    Layers(#[from] LayersError),
    /// A store could not be created, filled or read (forward-pass failures included).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// It would not fit in RAM or on disk; nothing was started.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// Nothing to train, score or draw (the message says which set).
    #[error("{0}")]
    Empty(String),
    /// The user cancelled; finished store batches are kept.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
    /// The SS8 logistic regression failed.
    #[error(transparent)]
    Fit(LogisticError),
    /// The contact probe's training failed.
    #[error(transparent)]
    ContactProbe(ContactProbeError),
    /// The model's own contact head failed.
    #[error(transparent)]
    ContactHead(ContactRunError),
    /// The nearest-neighbour search failed.
    #[error(transparent)]
    Search(HomologySearchError),
    /// The t-SNE or PCA failed.
    #[error(transparent)]
    Projection(ProjectionError),
    /// A saved probe could not be read (the message names the file).
    #[error(transparent)]
    ProbeFile(#[from] crate::probes::ProbeFileError),
    /// An ensemble member could not be read or loaded.
    #[error("ensemble member {}: {reason}", path.display())]
    Member {
        /// Its file or folder.
        path: std::path::PathBuf,
        /// Why (`not found`, the loader's message).
        reason: String,
    },
    /// A saved probe belongs to another model (the message names both).
    #[error(transparent)]
    ApplyProbe(super::probe_apply::ApplyProbeError),
}

impl StudyError {
    /// A study's own forward pass failed: a stop the user asked for is a cancel, anything
    /// else a model error.
    pub fn from_forward(err: ModelError) -> Self {
        match err {
            ModelError::Stopped => Self::Cancelled(Cancelled),
            other => other.into(),
        }
    }

    /// Whether the user stopped the study (not a failure to report in red).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled(_))
    }
}

impl From<ModelError> for StudyError {
    fn from(err: ModelError) -> Self {
        Self::Store(err.into())
    }
}

impl From<candle_core::Error> for StudyError {
    fn from(err: candle_core::Error) -> Self {
        ModelError::from(err).into()
    }
}

impl From<LogisticError> for StudyError {
    fn from(err: LogisticError) -> Self {
        match err {
            LogisticError::Stopped(_) => Self::Cancelled(Cancelled),
            other => Self::Fit(other),
        }
    }
}

impl From<ContactProbeError> for StudyError {
    fn from(err: ContactProbeError) -> Self {
        match err {
            ContactProbeError::Cancelled(c) => Self::Cancelled(c),
            other => Self::ContactProbe(other),
        }
    }
}

impl From<ContactRunError> for StudyError {
    fn from(err: ContactRunError) -> Self {
        match err {
            ContactRunError::Cancelled(c) => Self::Cancelled(c),
            other => Self::ContactHead(other),
        }
    }
}

impl From<HomologySearchError> for StudyError {
    fn from(err: HomologySearchError) -> Self {
        match err {
            HomologySearchError::Stopped => Self::Cancelled(Cancelled),
            other => Self::Search(other),
        }
    }
}

impl From<ProjectionError> for StudyError {
    fn from(err: ProjectionError) -> Self {
        match err {
            ProjectionError::Cancelled(c) => Self::Cancelled(c),
            other => Self::Projection(other),
        }
    }
}

impl From<super::probe_apply::ApplyProbeError> for StudyError {
    fn from(err: super::probe_apply::ApplyProbeError) -> Self {
        use super::embed_run::EmbedError;
        use super::probe_apply::ApplyProbeError;
        match err {
            ApplyProbeError::Embed(EmbedError::Cancelled(c)) => Self::Cancelled(c),
            other => Self::ApplyProbe(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_step_of_any_analysis_is_a_cancel_not_a_failure() {
        let from_search: StudyError = HomologySearchError::Stopped.into();
        let from_projection: StudyError = ProjectionError::Cancelled(Cancelled).into();
        assert!(from_search.is_cancelled());
        assert!(from_projection.is_cancelled());
        let empty = StudyError::Empty("ts50.json has no labelled residues".into());
        assert!(!empty.is_cancelled());
        assert_eq!(empty.to_string(), "ts50.json has no labelled residues");
    }
}
