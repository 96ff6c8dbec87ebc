//! Reading a complete store: rows of one layer (a range or a sorted selection, coalesced into
//! runs of consecutive rows) and per-protein means. Reads go through the file, not a memory
//! map, so only what is asked for is resident.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};

use ndarray::Array2;

use super::error::{StoreError, io_at};
use super::feature_store::FeatureStore;
use super::manifest::StoreDtype;

/// One layer of a complete store, open for reading.
#[derive(Debug)]
pub struct LayerReader {
    file: File,
    path: std::path::PathBuf,
    header: u64,
    dim: usize,
    dtype: StoreDtype,
    rows: usize,
}

impl LayerReader {
    /// Opens `layer` of `store`; the store must be complete and hold the layer.
    pub fn open(store: &FeatureStore, layer: usize) -> Result<Self, StoreError> {
        check_readable(store, layer)?;
        if !store.manifest().per_residue {
            return Err(StoreError::Missing {
                dir: store.dir().to_owned(),
                reason: "this store holds per-protein means only, no per-residue rows".into(),
            });
        }
        let path = store.layer_path(layer);
        Ok(Self {
            file: File::open(&path).map_err(io_at(&path))?,
            path,
            header: store.layer_header_len() as u64,
            dim: store.manifest().embed_dim,
            dtype: store.manifest().dtype,
            rows: store.manifest().total_residues(),
        })
    }

    /// Width of a row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows in the file.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Rows `start..start + count` as `(count, dim)`.
    pub fn read_range(&mut self, start: usize, count: usize) -> Result<Array2<f32>, StoreError> {
        let mut out = vec![0f32; count * self.dim];
        self.read_into(start, &mut out)?;
        Array2::from_shape_vec((count, self.dim), out).map_err(|e| self.bad(e.to_string()))
    }

    /// The rows at `sorted_rows` (ascending) as `(rows, dim)`; consecutive rows are read at once.
    pub fn gather(&mut self, sorted_rows: &[usize]) -> Result<Array2<f32>, StoreError> {
        let mut out = vec![0f32; sorted_rows.len() * self.dim];
        let mut k = 0;
        while k < sorted_rows.len() {
            let mut run = 1;
            while k + run < sorted_rows.len() && sorted_rows[k + run] == sorted_rows[k] + run {
                run += 1;
            }
            let slot = &mut out[k * self.dim..(k + run) * self.dim];
            self.read_into(sorted_rows[k], slot)?;
            k += run;
        }
        Array2::from_shape_vec((sorted_rows.len(), self.dim), out)
            .map_err(|e| self.bad(e.to_string()))
    }

    /// Rows `start..start + out.len() / dim` into `out` (row-major, f32 whatever the store's dtype).
    pub fn read_into(&mut self, start: usize, out: &mut [f32]) -> Result<(), StoreError> {
        let count = out.len() / self.dim.max(1);
        if start + count > self.rows {
            return Err(self.bad(format!(
                "rows {start}..{} past the end ({})",
                start + count,
                self.rows
            )));
        }
        let width = self.dtype.bytes();
        let at = self.header + (start * self.dim * width) as u64;
        self.file
            .seek(SeekFrom::Start(at))
            .map_err(io_at(&self.path))?;
        let mut bytes = vec![0u8; out.len() * width];
        self.file
            .read_exact(&mut bytes)
            .map_err(io_at(&self.path))?;
        decode_into(&bytes, self.dtype, out);
        Ok(())
    }

    fn bad(&self, reason: String) -> StoreError {
        StoreError::Missing {
            dir: self.path.clone(),
            reason,
        }
    }
}

/// Per-protein means of `layer`, `(proteins, dim)`.
pub fn read_means(store: &FeatureStore, layer: usize) -> Result<Array2<f32>, StoreError> {
    check_readable(store, layer)?;
    let path = store.mean_path(layer);
    let (n, dim) = (store.manifest().records.len(), store.manifest().embed_dim);
    let bytes = std::fs::read(&path).map_err(io_at(&path))?;
    let data = bytes.get(store.mean_header_len()..).unwrap_or(&[]);
    let mut out = vec![0f32; n * dim];
    if data.len() != out.len() * 4 {
        return Err(StoreError::Missing {
            dir: path,
            reason: format!("{} bytes of means, expected {}", data.len(), out.len() * 4),
        });
    }
    decode_into(data, StoreDtype::F32, &mut out);
    Array2::from_shape_vec((n, dim), out).map_err(|e| StoreError::Missing {
        dir: store.dir().to_owned(),
        reason: e.to_string(),
    })
}

fn check_readable(store: &FeatureStore, layer: usize) -> Result<(), StoreError> {
    let missing = store.missing_batches().len();
    if missing > 0 {
        return Err(StoreError::Missing {
            dir: store.dir().to_owned(),
            reason: format!("{missing} batches are not embedded yet; fill the store first"),
        });
    }
    if !store.has_layer(layer) {
        return Err(StoreError::Missing {
            dir: store.dir().to_owned(),
            reason: format!("layer {layer} is not stored"),
        });
    }
    Ok(())
}

fn decode_into(bytes: &[u8], dtype: StoreDtype, out: &mut [f32]) {
    match dtype {
        StoreDtype::F32 => bytes
            .chunks_exact(4)
            .zip(out)
            .for_each(|(b, o)| *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        StoreDtype::F16 => bytes
            .chunks_exact(2)
            .zip(out)
            .for_each(|(b, o)| *o = half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
    }
}
