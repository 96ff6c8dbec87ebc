//! A feature store's manifest: what was embedded (model, dataset content, settings), how the
//! residues are laid out in the layer files, and the fixed batches that fill them.

use std::path::Path;

use sha2::Digest as _;

use super::error::{StoreError, io_at};

/// Version of the layout below; a store of another version is rebuilt, never misread.
pub const STORE_FORMAT: u32 = 1;

/// Element type of the per-residue layer files (per-protein means are always f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreDtype {
    /// 4 bytes per value.
    #[default]
    F32,
    /// 2 bytes per value (IEEE half); half the disk, values rounded to 11 significant bits.
    F16,
}

impl StoreDtype {
    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
        }
    }

    /// NumPy's `descr` of the type.
    pub fn numpy_descr(self) -> &'static str {
        match self {
            Self::F32 => "<f4",
            Self::F16 => "<f2",
        }
    }
}

impl std::str::FromStr for StoreDtype {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            other => Err(format!("'{other}' is not a store type (f32 or f16)")),
        }
    }
}

/// One protein of the store, in input order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredRecord {
    /// Record id.
    pub id: String,
    /// Residues stored (rows in each layer file).
    pub residues: usize,
}

/// `manifest.json` of a store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoreManifest {
    /// [`STORE_FORMAT`].
    pub format: u32,
    /// [`crate::model::Checkpoint::fingerprint`] of the model.
    pub model_fingerprint: String,
    /// Display name of the model.
    pub model_name: String,
    /// Display name of the dataset (e.g. its file name).
    pub dataset: String,
    /// [`dataset_hash`] of the records.
    pub dataset_hash: String,
    /// How sequences over the model's limit were handled (`window64`, `truncate`).
    pub length_policy: String,
    /// Element type of the layer files.
    pub dtype: StoreDtype,
    /// Width of the representations.
    pub embed_dim: usize,
    /// Representation layers stored, ascending.
    pub layers: Vec<usize>,
    /// Proteins in input order; their residues are consecutive rows of each layer file.
    pub records: Vec<StoredRecord>,
    /// Record indices of each forward batch; batch `k` is finished when `done/k` exists.
    pub batches: Vec<Vec<usize>>,
    /// Whether per-residue layer files are stored (else only the per-protein means, for
    /// studies such as homology that need nothing else: 1/residues of the disk).
    #[serde(default = "stores_residues")]
    pub per_residue: bool,
}

fn stores_residues() -> bool {
    true
}

impl StoreManifest {
    /// Rows of each layer file.
    pub fn total_residues(&self) -> usize {
        self.records.iter().map(|r| r.residues).sum()
    }

    /// First row of each record in the layer files, `(records + 1,)` (the last is the total).
    pub fn row_offsets(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.records.len() + 1);
        let mut next = 0;
        offsets.push(0);
        for record in &self.records {
            next += record.residues;
            offsets.push(next);
        }
        offsets
    }

    /// Bytes of all the store's files once complete (headers excluded).
    pub fn data_bytes(&self) -> u64 {
        let residues = if self.per_residue {
            self.total_residues()
        } else {
            0
        };
        let per_layer = residues * self.embed_dim * self.dtype.bytes()
            + self.records.len() * self.embed_dim * 4;
        (per_layer * self.layers.len()) as u64
    }

    /// The prefix of the folder names of stores of the same model, data and settings (any
    /// layers): `<model fp[..12]>-<data hash[..12]>-<policy>-<dtype>`.
    pub fn family(&self) -> String {
        store_family(
            &self.model_fingerprint,
            &self.dataset_hash,
            &self.length_policy,
            self.dtype,
        )
    }

    /// The folder name: [`Self::family`] and a digest of the layers.
    pub fn folder_name(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(usize::to_string).collect();
        let digest = sha2::Sha256::digest(layers.join(",").as_bytes());
        format!(
            "{}-L{:02x}{:02x}{:02x}{}",
            self.family(),
            digest[0],
            digest[1],
            digest[2],
            if self.per_residue { "" } else { "-means" }
        )
    }

    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Self, StoreError> {
        let text = std::fs::read_to_string(path).map_err(io_at(path))?;
        let manifest: Self = serde_json::from_str(&text).map_err(|e| StoreError::Manifest {
            path: path.to_owned(),
            reason: format!("unreadable manifest: {e}"),
        })?;
        if manifest.format != STORE_FORMAT {
            return Err(StoreError::Manifest {
                path: path.to_owned(),
                reason: format!(
                    "store format {} (this build reads {STORE_FORMAT}); delete it to rebuild",
                    manifest.format
                ),
            });
        }
        Ok(manifest)
    }
}

/// See [`StoreManifest::family`].
pub fn store_family(
    fingerprint: &str,
    dataset_hash: &str,
    policy: &str,
    dtype: StoreDtype,
) -> String {
    let dtype = match dtype {
        StoreDtype::F32 => "f32",
        StoreDtype::F16 => "f16",
    };
    format!(
        "{}-{}-{policy}-{dtype}",
        &fingerprint[..fingerprint.len().min(12)],
        &dataset_hash[..dataset_hash.len().min(12)]
    )
}

/// SHA-256 (hex) over the ids and upper-case sequences of `records`, in order: two datasets
/// with the same proteins in the same order share stores.
pub fn dataset_hash(records: &[(String, String)]) -> String {
    let mut hasher = sha2::Sha256::new();
    for (id, sequence) in records {
        hasher.update(id.as_bytes());
        hasher.update([0]);
        hasher.update(sequence.to_ascii_uppercase().as_bytes());
        hasher.update([0xff]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
