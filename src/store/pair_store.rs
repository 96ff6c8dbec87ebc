//! Sampled residue-pair features on disk: the rows of the all-heads contact regression
//! (`pairs x features_per_pair` f32, record by record in the training set's order), kept as a
//! feature store keeps residue rows. One folder per (model, records and their sampled pairs,
//! features per pair) under `<store root>/pairs/`, holding `manifest.json`, `pairs.npy`
//! reserved at full size before any forward pass (a full disk is found first and leaves
//! nothing behind) and `done/K` per finished batch: a refit with other settings reads the rows
//! back with no forward pass, and a stopped gathering resumes after its last finished batch.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use super::error::{StoreError, io_at};
use super::feature_store::{is_disk_full, reserve_npy};
use crate::export::npy_header;
use crate::model::LoadedModel;

/// Version of the pair-store layout.
pub const PAIR_STORE_FORMAT: u32 = 1;

/// What a pair store holds, written as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PairManifest {
    /// [`PAIR_STORE_FORMAT`].
    pub format: u32,
    /// The model whose attention made the features.
    pub model_fingerprint: String,
    /// Its name, for people.
    pub model_name: String,
    /// The training set's display name.
    pub dataset: String,
    /// SHA-256 of the records' ids and sequences and of every sampled pair.
    pub pairs_hash: String,
    /// Features per pair (`layers * heads`).
    pub features_per_pair: usize,
    /// Pairs of each record, in order.
    pub pairs_per_record: Vec<usize>,
    /// Records of each forward batch.
    pub batches: Vec<Vec<usize>>,
}

/// What to store: records, their sampled pairs and the forward batches.
#[derive(Debug, Clone)]
pub struct PairStoreSpec<'a> {
    /// The store root (the pair stores live in its `pairs` folder).
    pub root: &'a Path,
    /// Display name of the training set.
    pub dataset: &'a str,
    /// `(id, sequence as scored)` per record.
    pub records: &'a [(String, String)],
    /// Each record's sampled `(i, j)` pairs (0-based residues).
    pub pairs: &'a [&'a [(u32, u32)]],
    /// Features per pair.
    pub features_per_pair: usize,
    /// Records of each forward batch.
    pub batches: Vec<Vec<usize>>,
}

/// An open pair store.
#[derive(Debug, Clone)]
pub struct PairStore {
    dir: PathBuf,
    manifest: PairManifest,
    /// First pair of each record, and the total at the end.
    offsets: Vec<usize>,
}

impl PairStore {
    /// The store of `spec` for `model`: the existing one (complete or to resume), or a new one
    /// reserved on disk; refused with [`StoreError::DiskFull`] when it would not fit.
    pub fn open_or_create(model: &LoadedModel, spec: &PairStoreSpec) -> Result<Self, StoreError> {
        let manifest = planned(model, spec);
        let dir = spec.root.join("pairs").join(folder_name(&manifest));
        if dir.join("manifest.json").is_file() {
            let store = Self::open(&dir)?;
            if same_rows(&store.manifest, &manifest) {
                return Ok(store);
            }
            return Err(StoreError::Manifest {
                path: dir.join("manifest.json"),
                reason: "holds other pairs than this training set's; delete the folder".into(),
            });
        }
        create(&dir, manifest)
    }

    /// Whether `spec`'s store is complete on disk already (no forward pass needed), and the
    /// bytes a new one would reserve (0 when it exists).
    pub fn plan(model: &LoadedModel, spec: &PairStoreSpec) -> (bool, u64) {
        let manifest = planned(model, spec);
        let dir = spec.root.join("pairs").join(folder_name(&manifest));
        match Self::open(&dir) {
            Ok(store) if same_rows(&store.manifest, &manifest) => (store.is_complete(), 0),
            _ => (false, data_bytes(&manifest)),
        }
    }

    /// Opens the store at `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(io_at(&path))?;
        let manifest: PairManifest =
            serde_json::from_str(&text).map_err(|e| StoreError::Manifest {
                path: path.clone(),
                reason: format!("not a pair-store manifest ({e})"),
            })?;
        if manifest.format != PAIR_STORE_FORMAT {
            return Err(StoreError::Manifest {
                path,
                reason: format!(
                    "pair-store format {} (this version reads {PAIR_STORE_FORMAT})",
                    manifest.format
                ),
            });
        }
        let offsets = offsets(&manifest.pairs_per_record);
        Ok(Self {
            dir: dir.to_owned(),
            manifest,
            offsets,
        })
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What it holds.
    pub fn manifest(&self) -> &PairManifest {
        &self.manifest
    }

    /// Pairs stored in all.
    pub fn total_pairs(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    fn data_path(&self) -> PathBuf {
        self.dir.join("pairs.npy")
    }

    fn done_path(&self, batch: usize) -> PathBuf {
        self.dir.join("done").join(batch.to_string())
    }

    /// Batches not yet finished.
    pub fn missing_batches(&self) -> Vec<usize> {
        (0..self.manifest.batches.len())
            .filter(|&k| !self.done_path(k).exists())
            .collect()
    }

    /// Whether every batch is finished.
    pub fn is_complete(&self) -> bool {
        self.missing_batches().is_empty()
    }

    /// Writes batch `batch`'s rows: `rows[k]` is the `pairs x features` block of the batch's
    /// `k`-th record; then syncs and marks the batch finished.
    pub fn write_batch(&self, batch: usize, rows: &[Vec<f32>]) -> Result<(), StoreError> {
        let path = self.data_path();
        let mut file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_at(&path))?;
        let header = self.header_len() as u64;
        let width = self.manifest.features_per_pair;
        for (&record, block) in self.manifest.batches[batch].iter().zip(rows) {
            let expected = self.manifest.pairs_per_record[record] * width;
            if block.len() != expected {
                return Err(StoreError::Missing {
                    dir: self.dir.clone(),
                    reason: format!(
                        "record {record}: {} values written for {expected}",
                        block.len()
                    ),
                });
            }
            let at = header + (self.offsets[record] * width * 4) as u64;
            file.seek(SeekFrom::Start(at)).map_err(io_at(&path))?;
            let bytes: Vec<u8> = block.iter().flat_map(|v| v.to_le_bytes()).collect();
            file.write_all(&bytes).map_err(io_at(&path))?;
        }
        file.sync_data().map_err(io_at(&path))?;
        let done = self.done_path(batch);
        File::create(&done)
            .and_then(|f| f.sync_all())
            .map_err(io_at(&done))
    }

    /// Every row, `total_pairs x features_per_pair` row-major (the store must be complete).
    pub fn read_rows(&self) -> Result<Vec<f32>, StoreError> {
        let missing = self.missing_batches();
        if !missing.is_empty() {
            return Err(StoreError::Missing {
                dir: self.dir.clone(),
                reason: format!("{} batches not gathered yet", missing.len()),
            });
        }
        let path = self.data_path();
        let mut file = File::open(&path).map_err(io_at(&path))?;
        file.seek(SeekFrom::Start(self.header_len() as u64))
            .map_err(io_at(&path))?;
        let values = self.total_pairs() * self.manifest.features_per_pair;
        let mut bytes = vec![0u8; values * 4];
        file.read_exact(&mut bytes).map_err(io_at(&path))?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn header_len(&self) -> usize {
        npy_header("<f4", &self.shape()).len()
    }

    fn shape(&self) -> [usize; 2] {
        [self.total_pairs(), self.manifest.features_per_pair]
    }
}

fn offsets(counts: &[usize]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(counts.len() + 1);
    let mut total = 0;
    offsets.push(0);
    for &n in counts {
        total += n;
        offsets.push(total);
    }
    offsets
}

fn data_bytes(manifest: &PairManifest) -> u64 {
    (manifest.pairs_per_record.iter().sum::<usize>() * manifest.features_per_pair * 4) as u64
}

/// Two manifests describe the same rows (names may differ).
fn same_rows(a: &PairManifest, b: &PairManifest) -> bool {
    a.model_fingerprint == b.model_fingerprint
        && a.pairs_hash == b.pairs_hash
        && a.features_per_pair == b.features_per_pair
        && a.pairs_per_record == b.pairs_per_record
        && a.batches == b.batches
}

fn planned(model: &LoadedModel, spec: &PairStoreSpec) -> PairManifest {
    let mut hasher = sha2::Sha256::new();
    for ((id, sequence), pairs) in spec.records.iter().zip(spec.pairs) {
        hasher.update(id.as_bytes());
        hasher.update([0]);
        hasher.update(sequence.to_ascii_uppercase().as_bytes());
        hasher.update([0xff]);
        for (i, j) in pairs.iter() {
            hasher.update(i.to_le_bytes());
            hasher.update(j.to_le_bytes());
        }
    }
    PairManifest {
        format: PAIR_STORE_FORMAT,
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        dataset: spec.dataset.to_owned(),
        pairs_hash: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        features_per_pair: spec.features_per_pair,
        pairs_per_record: spec.pairs.iter().map(|p| p.len()).collect(),
        batches: spec.batches.clone(),
    }
}

/// `<dataset>-<model fingerprint, 12>-<pairs hash, 12>`, the dataset name made file-safe.
fn folder_name(manifest: &PairManifest) -> String {
    let safe: String = manifest
        .dataset
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{safe}-{}-{}",
        &manifest.model_fingerprint[..manifest.model_fingerprint.len().min(12)],
        &manifest.pairs_hash[..12]
    )
}

/// Reserves the store in a `.partial` folder beside `dir`, then renames it into place.
fn create(dir: &Path, manifest: PairManifest) -> Result<PairStore, StoreError> {
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io_at(parent))?;
    let needed = data_bytes(&manifest);
    let free = fs4::available_space(parent).map_err(io_at(parent))?;
    let full = |free| StoreError::DiskFull {
        folder: parent.to_owned(),
        needed,
        free,
    };
    if needed > free {
        return Err(full(free));
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let partial = parent.join(format!(
        ".{}.partial-{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let reserved = reserve(&partial, &manifest).map_err(|err| {
        let _ = std::fs::remove_dir_all(&partial);
        match err {
            StoreError::Io { source, .. } if is_disk_full(&source) => {
                full(fs4::available_space(parent).unwrap_or(0))
            }
            other => other,
        }
    });
    reserved?;
    if std::fs::rename(&partial, dir).is_err() {
        // Another process made it first: use theirs.
        let _ = std::fs::remove_dir_all(&partial);
    }
    PairStore::open(dir)
}

fn reserve(dir: &Path, manifest: &PairManifest) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir.join("done")).map_err(io_at(dir))?;
    let total = manifest.pairs_per_record.iter().sum::<usize>();
    reserve_npy(
        &dir.join("pairs.npy"),
        "<f4",
        &[total, manifest.features_per_pair],
        data_bytes(manifest),
    )?;
    let path = dir.join("manifest.json");
    let text = serde_json::to_string(manifest).map_err(|e| StoreError::Manifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(io_at(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LoadedModel {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        LoadedModel::load(
            &root.join("tests/fixtures/esm1b_tiny_t2.pt"),
            &candle_core::Device::Cpu,
        )
        .expect("fixture")
    }

    /// Rows written batch by batch read back in record order; the same spec reopens the same
    /// store (complete, nothing to reserve); a stopped gathering resumes at its missing batch;
    /// the file is a NumPy array of `(pairs, features)`.
    #[test]
    fn pair_rows_round_trip_and_resume() -> Result<(), Box<dyn std::error::Error>> {
        let model = model();
        let dir = tempfile::tempdir()?;
        let records = vec![
            ("a".to_owned(), "MKT".to_owned()),
            ("b".to_owned(), "GAVL".to_owned()),
        ];
        let (pa, pb) = (vec![(0u32, 2u32)], vec![(0u32, 3u32), (1, 3)]);
        let pairs = [pa.as_slice(), pb.as_slice()];
        let spec = PairStoreSpec {
            root: dir.path(),
            dataset: "train set.json",
            records: &records,
            pairs: &pairs,
            features_per_pair: 3,
            batches: vec![vec![1], vec![0]],
        };
        assert_eq!(PairStore::plan(&model, &spec), (false, 9 * 4));
        let store = PairStore::open_or_create(&model, &spec)?;
        assert!(store.dir().starts_with(dir.path().join("pairs")));
        store.write_batch(0, &[vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0]])?;
        assert_eq!(store.missing_batches(), vec![1]);
        assert!(
            store.read_rows().is_err(),
            "an unfinished store is not read"
        );
        let again = PairStore::open_or_create(&model, &spec)?;
        assert_eq!(again.dir(), store.dir());
        assert_eq!(again.missing_batches(), vec![1]);
        assert!(
            again.write_batch(1, &[vec![1.0]]).is_err(),
            "wrong row count refused"
        );
        again.write_batch(1, &[vec![1.0, 2.0, 3.0]])?;
        assert_eq!(PairStore::plan(&model, &spec), (true, 0));
        let rows = PairStore::open_or_create(&model, &spec)?.read_rows()?;
        assert_eq!(rows, (1..=9).map(|v| v as f32).collect::<Vec<_>>());
        let npy = std::fs::read(store.dir().join("pairs.npy"))?;
        let header = String::from_utf8_lossy(&npy[..npy.len().min(128)]).into_owned();
        assert!(header.contains("(3, 3)"), "{header}");
        // Other pairs of the same records are another store.
        let other = [pa.as_slice(), &pb[..1]];
        let spec = PairStoreSpec {
            pairs: &other,
            ..spec
        };
        assert_eq!(PairStore::plan(&model, &spec), (false, 6 * 4));
        // A creation killed midway leaves a `.partial` folder that the store sweep removes.
        let partial = dir.path().join("pairs").join(".x.partial-1");
        std::fs::create_dir_all(&partial)?;
        assert_eq!(crate::store::remove_partial_stores(dir.path()), 1);
        assert!(!partial.exists() && store.dir().exists());
        Ok(())
    }
}
