//! Errors of the projections.

use crate::jobs::Cancelled;

/// Why a projection could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// Too few points for the method.
    #[error("{method} needs at least {min} points, got {got}")]
    TooFewPoints {
        /// PCA or t-SNE.
        method: &'static str,
        /// The minimum.
        min: usize,
        /// How many were given.
        got: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("point {row} has a non-finite value in column {column}")]
    NonFinite {
        /// Row (0-based) of the point.
        row: usize,
        /// Column (0-based).
        column: usize,
    },
    /// An embedding and its points disagree in size.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The user stopped the job.
    #[error("cancelled")]
    Cancelled(#[from] Cancelled),
}

/// Rejects NaN and infinite inputs with the position of the first one.
pub(crate) fn check_finite(points: ndarray::ArrayView2<'_, f32>) -> Result<(), ProjectionError> {
    for (row, values) in points.outer_iter().enumerate() {
        if let Some(column) = values.iter().position(|v| !v.is_finite()) {
            return Err(ProjectionError::NonFinite { row, column });
        }
    }
    Ok(())
}
