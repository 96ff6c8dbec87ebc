//! Listing and deleting the stores under a root (`store list`, `store delete`, the GUI's store
//! panel).

use std::path::{Path, PathBuf};

use super::error::{StoreError, io_at};
use super::feature_store::FeatureStore;

/// One store found under a root.
#[derive(Debug, Clone)]
pub struct StoreSummary {
    /// Its folder.
    pub dir: PathBuf,
    /// Model name.
    pub model_name: String,
    /// Dataset name.
    pub dataset: String,
    /// Proteins.
    pub proteins: usize,
    /// Residues.
    pub residues: usize,
    /// Layers stored.
    pub layers: Vec<usize>,
    /// Finished and total batches.
    pub batches_done: usize,
    /// Batches in all.
    pub batches: usize,
    /// Bytes on disk.
    pub bytes: u64,
    /// Whether per-residue rows are stored (else per-protein means only).
    pub per_residue: bool,
}

impl StoreSummary {
    /// Whether every batch is finished.
    pub fn is_complete(&self) -> bool {
        self.batches_done == self.batches
    }
}

/// Every store under `root`, by folder name; unreadable folders are skipped.
pub fn list_stores(root: &Path) -> Vec<StoreSummary> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<StoreSummary> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| FeatureStore::open(&e.path()).ok())
        .map(|store| {
            let m = store.manifest();
            StoreSummary {
                dir: store.dir().to_owned(),
                model_name: m.model_name.clone(),
                dataset: m.dataset.clone(),
                proteins: m.records.len(),
                residues: m.total_residues(),
                layers: m.layers.clone(),
                batches_done: m.batches.len() - store.missing_batches().len(),
                batches: m.batches.len(),
                bytes: folder_bytes(store.dir()),
                per_residue: m.per_residue,
            }
        })
        .collect();
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    found
}

/// Deletes the store at `dir` (refused unless it holds a store manifest).
pub fn delete_store(dir: &Path) -> Result<(), StoreError> {
    FeatureStore::open(dir)?;
    std::fs::remove_dir_all(dir).map_err(io_at(dir))
}

/// Removes `.partial` folders left by creations that were killed, of feature stores and of
/// pair stores (`root/pairs`); returns how many.
pub fn remove_partial_stores(root: &Path) -> usize {
    remove_partial_folders(root) + remove_partial_folders(&root.join("pairs"))
}

fn remove_partial_folders(root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with('.') && name.contains(".partial-")
        })
        .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}

/// Bytes allocated by the files directly in `dir` and its `done/` folder.
pub fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
