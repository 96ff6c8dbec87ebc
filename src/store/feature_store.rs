//! Opening or creating a feature store: one folder per (model, dataset, settings, layers) under a
//! root, holding `manifest.json`, `layer_LL.npy` `(residues, embed_dim)` and `mean_LL.npy`
//! `(proteins, embed_dim)` per layer, and `done/K` for each finished batch.
//!
//! A new store is built in a `.partial` folder with every file reserved at full size
//! (`fallocate`), then renamed into place: a full disk is found before any forward pass and
//! leaves nothing behind, and shard processes racing to create the same store end up sharing one.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use fs4::FileExt as _;

use super::error::{StoreError, io_at};
use super::manifest::{STORE_FORMAT, StoreDtype, StoreManifest, StoredRecord, dataset_hash};
use crate::batching::batches_by_tokens;
use crate::export::npy_header;
use crate::model::{Alphabet, LengthPolicy, LoadedModel};

/// What a study needs stored.
#[derive(Debug, Clone)]
pub struct StoreSpec<'a> {
    /// Folder holding stores.
    pub root: PathBuf,
    /// Display name of the dataset.
    pub dataset: String,
    /// `(id, sequence)` in order.
    pub records: &'a [(String, String)],
    /// Representation layers needed.
    pub layers: Vec<usize>,
    /// Sequences over the model's limit.
    pub length_policy: LengthPolicy,
    /// Element type of the layer files.
    pub dtype: StoreDtype,
    /// Padded tokens per forward batch.
    pub toks_per_batch: usize,
    /// Store per-residue rows (else only per-protein means).
    pub per_residue: bool,
}

/// What opening a store for a spec would take.
#[derive(Debug, Clone, PartialEq)]
pub struct StorePlan {
    /// Residues whose batches are not stored yet.
    pub residues_to_embed: usize,
    /// Bytes a new store would reserve (0 when one is reused).
    pub bytes_to_reserve: u64,
    /// Mean residues per protein.
    pub mean_residues: f64,
    /// The store that would be reused.
    pub existing: Option<PathBuf>,
}

/// An open store.
#[derive(Debug, Clone)]
pub struct FeatureStore {
    dir: PathBuf,
    manifest: StoreManifest,
    offsets: Vec<usize>,
}

impl FeatureStore {
    /// Opens the store at `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let manifest = StoreManifest::read(&dir.join("manifest.json"))?;
        let offsets = manifest.row_offsets();
        Ok(Self {
            dir: dir.to_owned(),
            manifest,
            offsets,
        })
    }

    /// The store for `model` and `spec`: an existing one holding every needed layer (a complete
    /// one first, else an unfinished one to resume), or a new one reserved on disk.
    pub fn open_or_create(model: &LoadedModel, spec: &StoreSpec) -> Result<Self, StoreError> {
        let manifest = planned_manifest(model, spec)?;
        if let Some(found) = find_existing(&spec.root, &manifest, &spec.layers)? {
            return Ok(found);
        }
        create(&spec.root, manifest)
    }

    /// What [`Self::open_or_create`] would do, without doing it: residues still to embed and
    /// bytes still to reserve.
    pub fn plan(model: &LoadedModel, spec: &StoreSpec) -> Result<StorePlan, StoreError> {
        let manifest = planned_manifest(model, spec)?;
        let mean_row = manifest.total_residues() as f64 / manifest.records.len().max(1) as f64;
        Ok(match find_existing(&spec.root, &manifest, &spec.layers)? {
            Some(store) => StorePlan {
                residues_to_embed: store
                    .missing_batches()
                    .iter()
                    .flat_map(|&k| &store.manifest.batches[k])
                    .map(|&i| store.manifest.records[i].residues)
                    .sum(),
                bytes_to_reserve: 0,
                mean_residues: mean_row,
                existing: Some(store.dir),
            },
            None => StorePlan {
                residues_to_embed: manifest.total_residues(),
                bytes_to_reserve: manifest.data_bytes(),
                mean_residues: mean_row,
                existing: None,
            },
        })
    }

    /// Consecutive runs of records, each holding at most `max_rows` rows (a single longer
    /// record stands alone): the chunks a study reads a layer in.
    pub fn record_chunks(&self, max_rows: usize) -> Vec<std::ops::Range<usize>> {
        let offsets = &self.offsets;
        let records = offsets.len().saturating_sub(1);
        let mut chunks = Vec::new();
        let mut first = 0;
        while first < records {
            let mut last = first + 1;
            while last < records && offsets[last + 1] - offsets[first] <= max_rows {
                last += 1;
            }
            chunks.push(first..last);
            first = last;
        }
        chunks
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its manifest.
    pub fn manifest(&self) -> &StoreManifest {
        &self.manifest
    }

    /// First row of each record, `(records + 1,)`.
    pub fn row_offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// `layer_LL.npy`.
    pub fn layer_path(&self, layer: usize) -> PathBuf {
        self.dir.join(format!("layer_{layer:02}.npy"))
    }

    /// `mean_LL.npy`.
    pub fn mean_path(&self, layer: usize) -> PathBuf {
        self.dir.join(format!("mean_{layer:02}.npy"))
    }

    /// Bytes before the data of a layer file.
    pub fn layer_header_len(&self) -> usize {
        let m = &self.manifest;
        npy_header(m.dtype.numpy_descr(), &[m.total_residues(), m.embed_dim]).len()
    }

    /// Bytes before the data of a mean file.
    pub fn mean_header_len(&self) -> usize {
        let m = &self.manifest;
        npy_header("<f4", &[m.records.len(), m.embed_dim]).len()
    }

    fn done_path(&self, batch: usize) -> PathBuf {
        self.dir.join("done").join(batch.to_string())
    }

    /// Whether batch `batch` is written and synced.
    pub fn is_batch_done(&self, batch: usize) -> bool {
        self.done_path(batch).exists()
    }

    /// Records batch `batch` as finished (after its data was synced).
    pub fn mark_batch_done(&self, batch: usize) -> Result<(), StoreError> {
        let path = self.done_path(batch);
        let file = File::create(&path).map_err(io_at(&path))?;
        file.sync_all().map_err(io_at(&path))
    }

    /// Batches not yet finished.
    pub fn missing_batches(&self) -> Vec<usize> {
        (0..self.manifest.batches.len())
            .filter(|&k| !self.is_batch_done(k))
            .collect()
    }

    /// Whether every batch is finished.
    pub fn is_complete(&self) -> bool {
        self.missing_batches().is_empty()
    }

    /// Whether `layer` is stored.
    pub fn has_layer(&self, layer: usize) -> bool {
        self.manifest.layers.contains(&layer)
    }
}

/// The manifest a new store for `spec` would have (sequences checked, batches planned).
fn planned_manifest(model: &LoadedModel, spec: &StoreSpec) -> Result<StoreManifest, StoreError> {
    let config = model.model.config();
    let limit = config.max_residues();
    let records = spec
        .records
        .iter()
        .map(|(id, sequence)| {
            let residues = Alphabet::encode(id, sequence)?.len();
            let residues = match spec.length_policy {
                LengthPolicy::Window { .. } => residues,
                _ => residues.min(limit),
            };
            Ok(StoredRecord {
                id: id.clone(),
                residues,
            })
        })
        .collect::<Result<Vec<_>, crate::model::ModelError>>()?;
    let lengths: Vec<usize> = records.iter().map(|r| r.residues.min(limit)).collect();
    let mut layers = spec.layers.clone();
    layers.sort_unstable();
    layers.dedup();
    Ok(StoreManifest {
        format: STORE_FORMAT,
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        dataset: spec.dataset.clone(),
        dataset_hash: dataset_hash(spec.records),
        length_policy: spec.length_policy.variant_name(),
        dtype: spec.dtype,
        embed_dim: config.embed_dim,
        layers,
        records,
        batches: batches_by_tokens(&lengths, spec.toks_per_batch, 2),
        per_residue: spec.per_residue,
    })
}

/// A store under `root` of the same family whose layers include `layers`.
fn find_existing(
    root: &Path,
    planned: &StoreManifest,
    layers: &[usize],
) -> Result<Option<FeatureStore>, StoreError> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(None);
    };
    let prefix = format!("{}-L", planned.family());
    let mut candidates: Vec<FeatureStore> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| FeatureStore::open(&e.path()).ok())
        .filter(|s| {
            s.manifest.dataset_hash == planned.dataset_hash
                && s.manifest.records == planned.records
                && layers.iter().all(|l| s.manifest.layers.contains(l))
                && (s.manifest.per_residue || !planned.per_residue)
        })
        .collect();
    // Complete stores first, then the smallest.
    candidates.sort_by_key(|s| (!s.is_complete(), s.manifest.data_bytes()));
    Ok(candidates.into_iter().next())
}

/// Reserves a new store in a `.partial` folder and renames it into place.
fn create(root: &Path, manifest: StoreManifest) -> Result<FeatureStore, StoreError> {
    std::fs::create_dir_all(root).map_err(io_at(root))?;
    let needed = manifest.data_bytes();
    let free = fs4::available_space(root).map_err(io_at(root))?;
    if needed > free {
        return Err(StoreError::DiskFull {
            folder: root.to_owned(),
            needed,
            free,
        });
    }
    let name = manifest.folder_name();
    let partial = root.join(format!(".{name}.partial-{}", std::process::id()));
    let built = reserve_files(&partial, manifest).map_err(|err| {
        let _ = std::fs::remove_dir_all(&partial);
        match err {
            StoreError::Io { source, .. } if is_disk_full(&source) => StoreError::DiskFull {
                folder: root.to_owned(),
                needed,
                free: fs4::available_space(root).unwrap_or(0),
            },
            other => other,
        }
    })?;
    let target = root.join(&name);
    if std::fs::rename(&partial, &target).is_err() {
        // Another process (a shard) created it first: use theirs.
        let _ = std::fs::remove_dir_all(&partial);
        return FeatureStore::open(&target);
    }
    Ok(FeatureStore {
        dir: target,
        ..built
    })
}

/// Whether an I/O error means the disk (or quota) is full.
pub(crate) fn is_disk_full(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Writes the manifest and every layer and mean file (header, then space reserved) in `dir`.
fn reserve_files(dir: &Path, manifest: StoreManifest) -> Result<FeatureStore, StoreError> {
    std::fs::create_dir_all(dir.join("done")).map_err(io_at(dir))?;
    let offsets = manifest.row_offsets();
    let store = FeatureStore {
        dir: dir.to_owned(),
        manifest,
        offsets,
    };
    let m = &store.manifest;
    for &layer in &m.layers {
        let rows = [m.total_residues(), m.embed_dim];
        let bytes = (rows[0] * rows[1] * m.dtype.bytes()) as u64;
        if m.per_residue {
            reserve_npy(
                &store.layer_path(layer),
                m.dtype.numpy_descr(),
                &rows,
                bytes,
            )?;
        }
        let means = [m.records.len(), m.embed_dim];
        reserve_npy(
            &store.mean_path(layer),
            "<f4",
            &means,
            (means[0] * means[1] * 4) as u64,
        )?;
    }
    let path = dir.join("manifest.json");
    let text = serde_json::to_string(m).map_err(|e| StoreError::Manifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(io_at(&path))?;
    Ok(store)
}

/// An `.npy` file of `shape` whose `data_bytes` are reserved on disk (zeros).
pub(crate) fn reserve_npy(
    path: &Path,
    descr: &str,
    shape: &[usize],
    data_bytes: u64,
) -> Result<(), StoreError> {
    let header = npy_header(descr, shape);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)
        .map_err(io_at(path))?;
    file.write_all(&header).map_err(io_at(path))?;
    file.allocate(header.len() as u64 + data_bytes)
        .map_err(io_at(path))?;
    Ok(())
}
