//! Low-dimensional maps of representations (Rives et al. 2021, Fig. 2 and 5): PCA and t-SNE,
//! for residue-level or protein-level points. Pure compute: no GUI imports.
//!
//! t-SNE here is our own Barnes-Hut implementation (van der Maaten 2014) with openTSNE's
//! defaults (perplexity 30, PCA to 50 dimensions, PCA initialisation, early exaggeration 12 for
//! 250 of 750 iterations, learning rate max(200, n / exaggeration)), exact nearest neighbours by
//! blocked GEMM, forces computed in parallel, and a progress/cancel checkpoint every iteration.
//! linfa-tsne (bhtsne) took 43 s for 5,000 x 1,280 points here, single-threaded and with no
//! cancel hook; see `benches/compare_sklearn.py` for the measured comparison.

mod affinities;
mod error;
mod jacobi;
mod pca;
mod quadtree;
mod tsne;

pub use affinities::{Affinities, perplexity_affinities};
pub use error::ProjectionError;
pub use pca::{Pca, fit_pca};
pub use tsne::{TsneParams, TsneResult, kl_divergence, tsne};
