//! Content-addressed on-disk cache of protein embeddings.
//!
//! Key: model fingerprint ([`crate::model::Checkpoint::fingerprint`]), SHA-256 of the sequence
//! and length policy. Each protein is one safetensors file
//! `<root>/<model fp[..16]>/<seq hash[..2]>/<seq hash>.safetensors` holding `mean.{layer}`
//! `(embed_dim,)` and, when asked for, `per_residue.{layer}` `(residues, embed_dim)`, f32.
//! Files are written to a `.partial` name and renamed, so a crash never leaves a half entry,
//! and a run loses at most the batch in flight.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use sha2::Digest as _;

use super::error::DataError;

/// Embeddings of one protein for some layers.
#[derive(Debug, Clone)]
pub struct CachedEmbedding {
    /// Layer → mean over residues, `(embed_dim,)`.
    pub mean: BTreeMap<usize, Tensor>,
    /// Layer → per-residue representation, `(residues, embed_dim)` (only when stored).
    pub per_residue: BTreeMap<usize, Tensor>,
}

/// A cache folder for one model.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
}

/// Hex SHA-256 of an upper-case sequence.
pub fn sequence_hash(sequence: &str) -> String {
    let digest = sha2::Sha256::digest(sequence.to_ascii_uppercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The default cache root: `$XDG_CACHE_HOME/esm-workbench/embeddings` or
/// `~/.cache/esm-workbench/embeddings`.
pub fn default_cache_root() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("esm-workbench")
        .join("embeddings")
}

impl EmbeddingCache {
    /// The cache of the model with `fingerprint` under `root`; `variant` separates settings that
    /// change the numbers (e.g. the length policy).
    pub fn new(root: &Path, fingerprint: &str, variant: &str) -> Self {
        let model = &fingerprint[..fingerprint.len().min(16)];
        Self {
            dir: root.join(format!("{model}-{variant}")),
        }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, sequence: &str) -> PathBuf {
        let hash = sequence_hash(sequence);
        self.dir
            .join(&hash[..2])
            .join(format!("{hash}.safetensors"))
    }

    /// The entry for `sequence` if it holds every layer in `layers` (and per-residue arrays when
    /// `per_residue`); `None` on a miss. A damaged entry counts as a miss and is removed.
    pub fn get(
        &self,
        sequence: &str,
        layers: &[usize],
        per_residue: bool,
    ) -> Option<CachedEmbedding> {
        let path = self.path_of(sequence);
        if !path.exists() {
            return None;
        }
        let Ok(tensors) = candle_core::safetensors::load(&path, &Device::Cpu) else {
            // A corrupt entry (e.g. disk full during an old write): drop it and recompute.
            let _ = std::fs::remove_file(&path);
            return None;
        };
        let mut entry = CachedEmbedding {
            mean: BTreeMap::new(),
            per_residue: BTreeMap::new(),
        };
        for &layer in layers {
            entry
                .mean
                .insert(layer, tensors.get(&format!("mean.{layer}"))?.clone());
            if per_residue {
                entry
                    .per_residue
                    .insert(layer, tensors.get(&format!("per_residue.{layer}"))?.clone());
            }
        }
        Some(entry)
    }

    /// Stores the arrays of `entry` for `sequence`, atomically, keeping arrays of other layers
    /// already cached for it (so computing a new layer never loses earlier ones).
    pub fn put(&self, sequence: &str, entry: &CachedEmbedding) -> Result<(), DataError> {
        let path = self.path_of(sequence);
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(|e| DataError::write(parent, e))?;
        let mut tensors = if path.exists() {
            candle_core::safetensors::load(&path, &Device::Cpu).unwrap_or_default()
        } else {
            std::collections::HashMap::new()
        };
        for (layer, t) in &entry.mean {
            tensors.insert(format!("mean.{layer}"), t.clone());
        }
        for (layer, t) in &entry.per_residue {
            tensors.insert(format!("per_residue.{layer}"), t.clone());
        }
        let tmp = path.with_extension("partial");
        candle_core::safetensors::save(&tensors, &tmp)
            .map_err(|e| DataError::write(&tmp, std::io::Error::other(e.to_string())))?;
        std::fs::rename(&tmp, &path).map_err(|e| DataError::write(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_misses() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let cache = EmbeddingCache::new(dir.path(), "abcdef0123456789ff", "truncate");
        let mean = Tensor::new(&[1f32, 2., 3.], &Device::Cpu)?;
        let per = Tensor::new(&[[1f32, 2., 3.], [4., 5., 6.]], &Device::Cpu)?;
        let entry = CachedEmbedding {
            mean: BTreeMap::from([(6, mean)]),
            per_residue: BTreeMap::from([(6, per)]),
        };
        cache.put("mk", &entry)?;
        let hit = cache
            .get("MK", &[6], true)
            .ok_or("hit expected (case-insensitive key)")?;
        assert_eq!(hit.per_residue[&6].dims(), &[2, 3]);
        assert!(
            cache.get("MK", &[5], false).is_none(),
            "layer 5 was never stored"
        );
        // Adding layer 5 keeps layer 6.
        let five = CachedEmbedding {
            mean: BTreeMap::from([(5, Tensor::new(&[0f32, 0., 1.], &Device::Cpu)?)]),
            per_residue: BTreeMap::new(),
        };
        cache.put("MK", &five)?;
        assert!(cache.get("MK", &[5, 6], false).is_some() && cache.get("MK", &[6], true).is_some());
        assert!(cache.get("MKT", &[6], false).is_none());
        // A damaged file is a miss, not an error.
        std::fs::write(cache.path_of("MK"), b"garbage")?;
        assert!(cache.get("MK", &[6], false).is_none());
        assert!(!cache.path_of("MK").exists());
        Ok(())
    }

    #[test]
    fn a_failed_write_says_write_and_names_the_path() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        // The cache folder is a file: nothing can be created under it.
        let blocked = dir.path().join("not-a-folder");
        std::fs::write(&blocked, b"x")?;
        let cache = EmbeddingCache::new(&blocked, "abcdef0123456789ff", "truncate");
        let entry = CachedEmbedding {
            mean: BTreeMap::from([(1, Tensor::new(&[1f32], &Device::Cpu)?)]),
            per_residue: BTreeMap::new(),
        };
        let message = cache
            .put("MK", &entry)
            .expect_err("cannot write")
            .to_string();
        assert!(
            message.starts_with("cannot write ") && message.contains("not-a-folder"),
            "{message}"
        );
        Ok(())
    }
}
