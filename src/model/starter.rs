//! The bundled starter model: a 4-layer ESM-1b-architecture model trained by `pretrain` on
//! 20,000 UniProt sequences (see `assets/starter/MODEL_CARD.md`), and its held-out set.

use std::path::PathBuf;

/// The starter model, relative to the repository root.
pub const STARTER_MODEL: &str = "assets/starter/starter_esm1b_t4_128.safetensors";
/// Its held-out sequences (built by `pretrain`), relative to the repository root.
pub const STARTER_HELDOUT: &str = "datasets/starter/heldout.fasta";

/// Finds a bundled file (see [`crate::bundled`]).
fn find(relative: &str) -> Option<PathBuf> {
    crate::bundled::bundled_path(relative).filter(|p| p.is_file())
}

/// The bundled starter model's file, when present.
pub fn starter_model_path() -> Option<PathBuf> {
    find(STARTER_MODEL)
}

/// The starter model's held-out FASTA, when present.
pub fn starter_heldout_path() -> Option<PathBuf> {
    find(STARTER_HELDOUT)
}
