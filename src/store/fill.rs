//! Filling a store: embed the missing batches of this shard and write every layer's rows and
//! means in place; batches are marked done only after their data is synced (every 2 s, on
//! cancel and at the end). A killed run loses at most the last 2 s of batches; a rerun resumes
//! after the finished ones.

use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};

use super::error::{StoreError, io_at};
use super::feature_store::FeatureStore;
use super::manifest::StoreDtype;
use super::shard::Shard;
use crate::jobs::JobCtx;
use crate::model::{ForwardRequest, LengthPolicy, LoadedModel, embed_sequence};

/// What one fill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FillReport {
    /// Batches this call embedded.
    pub batches_run: usize,
    /// Residues this call embedded.
    pub residues_embedded: usize,
    /// Batches already finished before the call (by earlier runs or other shards).
    pub batches_already_done: usize,
}

/// Embeds this shard's unfinished batches of `store` (`records` must be the store's records in
/// order). Progress: residues embedded over this shard's residues still missing.
pub fn fill_store(
    model: &LoadedModel,
    store: &FeatureStore,
    records: &[(String, String)],
    policy: LengthPolicy,
    shard: Shard,
    ctx: &JobCtx,
) -> Result<FillReport, StoreError> {
    let manifest = store.manifest();
    check_records(store, records, policy)?;
    let todo: Vec<usize> = store
        .missing_batches()
        .into_iter()
        .filter(|&k| shard.owns(k))
        .collect();
    let mut report = FillReport {
        batches_already_done: manifest.batches.len() - store.missing_batches().len(),
        ..Default::default()
    };
    if todo.is_empty() {
        return Ok(report);
    }
    let batch_residues = |k: usize| -> usize {
        manifest.batches[k]
            .iter()
            .map(|&i| manifest.records[i].residues)
            .sum()
    };
    let total: usize = todo.iter().map(|&k| batch_residues(k)).sum();
    let files = LayerFiles::open(store)?;
    let forward = ForwardRequest {
        repr_layers: manifest.layers.clone(),
        stop: Some(ctx.stop_flag()),
        ..Default::default()
    };
    ctx.checkpoint(0.0)?;
    // Finished batches are synced and marked done together at most every SYNC_EVERY (and at
    // the end, or on cancel): a kill loses at most that much work.
    let mut pending = Vec::new();
    let mut last_sync = std::time::Instant::now();
    for (done, &k) in todo.iter().enumerate() {
        ctx.set_stage(format!(
            "embedding {}: batch {}/{}",
            manifest.dataset,
            done + 1,
            todo.len()
        ));
        let items: Vec<(&str, &str)> = manifest.batches[k]
            .iter()
            .map(|&i| (records[i].0.as_str(), records[i].1.as_str()))
            .collect();
        let outputs = match embed_sequence(&model.model, &items, policy, &forward) {
            Ok(outputs) => outputs,
            Err(err) => {
                files.commit(store, &mut pending)?;
                return Err(err.into());
            }
        };
        for (&record, output) in manifest.batches[k].iter().zip(&outputs) {
            files.write_record(store, record, &output.representations)?;
        }
        pending.push(k);
        report.batches_run += 1;
        report.residues_embedded += batch_residues(k);
        if last_sync.elapsed() >= SYNC_EVERY {
            files.commit(store, &mut pending)?;
            last_sync = std::time::Instant::now();
        }
        if let Err(cancelled) =
            ctx.checkpoint(report.residues_embedded as f32 / total.max(1) as f32)
        {
            files.commit(store, &mut pending)?;
            return Err(cancelled.into());
        }
    }
    files.commit(store, &mut pending)?;
    Ok(report)
}

/// Longest time between syncs of a filling store.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The records given are the store's, with the store's policy.
fn check_records(
    store: &FeatureStore,
    records: &[(String, String)],
    policy: LengthPolicy,
) -> Result<(), StoreError> {
    let manifest = store.manifest();
    let same = records.len() == manifest.records.len()
        && records
            .iter()
            .zip(&manifest.records)
            .all(|((id, _), stored)| *id == stored.id);
    if !same || policy.variant_name() != manifest.length_policy {
        return Err(StoreError::Manifest {
            path: store.dir().join("manifest.json"),
            reason: "the store holds other records or another length policy than the ones given"
                .into(),
        });
    }
    Ok(())
}

/// The open layer and mean files of a store.
struct LayerFiles {
    layers: Vec<(usize, Option<File>, File)>,
    layer_header: u64,
    mean_header: u64,
    dim: usize,
    dtype: StoreDtype,
}

impl LayerFiles {
    fn open(store: &FeatureStore) -> Result<Self, StoreError> {
        let open = |path: std::path::PathBuf| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_at(&path))
        };
        let layers = store
            .manifest()
            .layers
            .iter()
            .map(|&l| {
                let rows = if store.manifest().per_residue {
                    Some(open(store.layer_path(l))?)
                } else {
                    None
                };
                Ok((l, rows, open(store.mean_path(l))?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Self {
            layers,
            layer_header: store.layer_header_len() as u64,
            mean_header: store.mean_header_len() as u64,
            dim: store.manifest().embed_dim,
            dtype: store.manifest().dtype,
        })
    }

    /// Writes record `record`'s rows `(residues, dim)` and mean of every layer.
    fn write_record(
        &self,
        store: &FeatureStore,
        record: usize,
        representations: &std::collections::BTreeMap<usize, candle_core::Tensor>,
    ) -> Result<(), StoreError> {
        let expected = store.manifest().records[record].residues;
        let first_row = store.row_offsets()[record];
        for (layer, rows_file, mean_file) in &self.layers {
            let reps = representations
                .get(layer)
                .ok_or_else(|| StoreError::Missing {
                    dir: store.dir().to_owned(),
                    reason: format!("the forward pass returned no layer {layer}"),
                })?;
            let (residues, dim) = reps.dims2()?;
            if residues != expected || dim != self.dim {
                return Err(StoreError::Missing {
                    dir: store.dir().to_owned(),
                    reason: format!(
                        "record {} has {residues} x {dim} features, the store expects {expected} x {}",
                        store.manifest().records[record].id,
                        self.dim
                    ),
                });
            }
            if let Some(rows_file) = rows_file {
                let values = reps.flatten_all()?.to_vec1::<f32>()?;
                let at = self.layer_header + (first_row * dim * self.dtype.bytes()) as u64;
                write_at(
                    rows_file,
                    at,
                    &encode(&values, self.dtype),
                    &store.layer_path(*layer),
                )?;
            }
            let mean = reps.mean(0)?.to_vec1::<f32>()?;
            let at = self.mean_header + (record * dim * 4) as u64;
            write_at(
                mean_file,
                at,
                &encode(&mean, StoreDtype::F32),
                &store.mean_path(*layer),
            )?;
        }
        Ok(())
    }

    /// Flushes every file to disk, then marks the `pending` batches done (and empties it).
    fn commit(&self, store: &FeatureStore, pending: &mut Vec<usize>) -> Result<(), StoreError> {
        if pending.is_empty() {
            return Ok(());
        }
        for (layer, rows, means) in &self.layers {
            if let Some(rows) = rows {
                rows.sync_data().map_err(io_at(store.layer_path(*layer)))?;
            }
            means.sync_data().map_err(io_at(store.mean_path(*layer)))?;
        }
        for k in pending.drain(..) {
            store.mark_batch_done(k)?;
        }
        Ok(())
    }
}

/// Little-endian bytes of `values` as `dtype`.
pub(crate) fn encode(values: &[f32], dtype: StoreDtype) -> Vec<u8> {
    match dtype {
        StoreDtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        StoreDtype::F16 => values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect(),
    }
}

fn write_at(
    mut file: &File,
    at: u64,
    bytes: &[u8],
    path: &std::path::Path,
) -> Result<(), StoreError> {
    file.seek(SeekFrom::Start(at)).map_err(io_at(path))?;
    file.write_all(bytes).map_err(io_at(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Alphabet, LoadedModel};
    use crate::store::{LayerReader, StoreSpec, read_means};

    fn tiny() -> LoadedModel {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/esm1b_tiny_t2.pt");
        LoadedModel::load(&path, &candle_core::Device::Cpu).expect("fixture loads")
    }

    fn records() -> Vec<(String, String)> {
        [
            "MKTAYIAKQRQISFVKSHFSRQ",
            "GSH",
            "MLKNVQVQLV",
            "ACDEFGHIKLMNPQRSTVWY",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("p{i}"), (*s).to_owned()))
        .collect()
    }

    fn spec_for<'a>(
        root: &std::path::Path,
        records: &'a [(String, String)],
        dtype: StoreDtype,
    ) -> StoreSpec<'a> {
        StoreSpec {
            root: root.to_owned(),
            dataset: "four".into(),
            records,
            layers: vec![0, 2],
            length_policy: LengthPolicy::Window { overlap: 8 },
            dtype,
            toks_per_batch: 40,
            per_residue: true,
        }
    }

    /// Stored rows and means equal a direct forward pass of each protein; f16 stays within
    /// its rounding; a second open finds the same store, complete.
    #[test]
    fn stored_rows_equal_a_direct_forward_pass() -> Result<(), StoreError> {
        let model = tiny();
        let records = records();
        let dir = tempfile::tempdir().map_err(io_at("tempdir"))?;
        for dtype in [StoreDtype::F32, StoreDtype::F16] {
            let spec = spec_for(dir.path(), &records, dtype);
            let store = FeatureStore::open_or_create(&model, &spec)?;
            assert!(store.manifest().batches.len() >= 2);
            let report = fill_store(
                &model,
                &store,
                &records,
                spec.length_policy,
                Shard::WHOLE,
                &JobCtx::default(),
            )?;
            assert_eq!(report.residues_embedded, store.manifest().total_residues());
            // Batched rows differ from single ones in the last bits (padding changes GEMM blocking).
            let tolerance = if dtype == StoreDtype::F32 { 1e-5 } else { 2e-3 };
            let forward = ForwardRequest {
                repr_layers: vec![2],
                ..Default::default()
            };
            let mut reader = LayerReader::open(&store, 2)?;
            let means = read_means(&store, 2)?;
            for (i, (id, seq)) in records.iter().enumerate() {
                let direct =
                    embed_sequence(&model.model, &[(id, seq)], spec.length_policy, &forward)?;
                let expected = direct[0].representations[&2].to_vec2::<f32>()?;
                let offsets = store.row_offsets();
                let stored = reader.read_range(offsets[i], offsets[i + 1] - offsets[i])?;
                assert_eq!(stored.nrows(), Alphabet::encode(id, seq)?.len());
                for (row, want) in stored.rows().into_iter().zip(&expected) {
                    for (a, b) in row.iter().zip(want) {
                        assert!((a - b).abs() <= tolerance * b.abs().max(1.0), "{a} vs {b}");
                    }
                }
                let mean = direct[0].representations[&2].mean(0)?.to_vec1::<f32>()?;
                for (a, b) in means.row(i).iter().zip(&mean) {
                    assert!((a - b).abs() < 1e-5);
                }
            }
            let again =
                FeatureStore::open_or_create(&model, &spec_for(dir.path(), &records, dtype))?;
            assert_eq!(again.dir(), store.dir());
            assert!(again.is_complete());
            // A study needing only layer 2 reuses the store of layers 0 and 2.
            let mut fewer = spec_for(dir.path(), &records, dtype);
            fewer.layers = vec![2];
            assert_eq!(
                FeatureStore::open_or_create(&model, &fewer)?.dir(),
                store.dir()
            );
            assert_eq!(FeatureStore::plan(&model, &fewer)?.residues_to_embed, 0);
        }
        Ok(())
    }

    /// A cancelled fill keeps its finished batches and reads as incomplete; the next fill does
    /// only the rest.
    #[test]
    fn a_cancelled_fill_resumes_after_its_finished_batches() -> Result<(), StoreError> {
        let model = tiny();
        let records = records();
        let dir = tempfile::tempdir().map_err(io_at("tempdir"))?;
        let spec = spec_for(dir.path(), &records, StoreDtype::F32);
        let store = FeatureStore::open_or_create(&model, &spec)?;
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let holder: std::sync::Arc<std::sync::OnceLock<JobCtx>> = Default::default();
        let (c, h) = (calls.clone(), holder.clone());
        let ctx = JobCtx::new(move || {
            if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
                && let Some(ctx) = h.get()
            {
                ctx.cancel();
            }
        });
        let _ = holder.set(ctx.clone());
        let stopped = fill_store(
            &model,
            &store,
            &records,
            spec.length_policy,
            Shard::WHOLE,
            &ctx,
        );
        assert!(
            matches!(stopped, Err(StoreError::Cancelled(_))),
            "{stopped:?}"
        );
        let missing = store.missing_batches().len();
        assert!(missing > 0 && missing < store.manifest().batches.len());
        assert!(
            LayerReader::open(&store, 0).is_err(),
            "an incomplete store is not readable"
        );
        let rest = fill_store(
            &model,
            &store,
            &records,
            spec.length_policy,
            Shard::WHOLE,
            &JobCtx::default(),
        )?;
        assert_eq!(rest.batches_run, missing);
        assert!(store.is_complete());
        Ok(())
    }
}
