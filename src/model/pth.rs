//! Tensors inside a torch `.pt` file (the zip format of torch >= 1.6): the pickle
//! `<archive>/data.pkl` is decoded once (candle's pickle reader), state-dict entries become
//! [`TensorInfo`]s pointing at storages `<archive>/data/<key>`, and a tensor's bytes are read
//! straight from its storage into the tensor's own buffer.
//!
//! Only the tensors asked for are read: a fairseq checkpoint's `last_optimizer_state` (Adam
//! moments, about twice the model's size) stays on disk, so loading costs the model's weights.

use std::path::Path;

use candle_core::pickle::{Object, Stack, TensorInfo};
use candle_core::{DType, Device, Tensor};

use super::error::{ModelError, Result};
use super::tensor_read::read_tensor;
use super::torch_zip::{TorchZip, TorchZipError, ZipEntry};

/// An opened torch file: its archive and its decoded pickle.
pub struct PthFile {
    zip: TorchZip,
    root: Object,
    /// `<archive>/data`: the folder holding the storages.
    data_dir: String,
}

/// One state-dict entry: its name and where its tensor lives, or why it cannot be read.
pub type StateDictEntry = (String, std::result::Result<TensorInfo, String>);

impl PthFile {
    /// Opens `path` and decodes its pickle.
    pub fn open(path: &Path) -> Result<Self> {
        let zip = TorchZip::open(path).map_err(|e| zip_error(path, e))?;
        let pickle = zip
            .entries()
            .iter()
            .find(|e| e.name.ends_with("data.pkl"))
            .cloned()
            .ok_or_else(|| {
                not_a_checkpoint(
                    path,
                    "no data.pkl inside the zip archive, not a torch checkpoint".into(),
                )
            })?;
        let bytes = zip.read_all(&pickle).map_err(|e| zip_error(path, e))?;
        let mut stack = Stack::empty();
        let decoded = stack
            .read_loop(&mut std::io::Cursor::new(bytes))
            .and_then(|()| stack.finalize());
        let root = decoded.map_err(|e| {
            not_a_checkpoint(
                path,
                format!("cannot decode the checkpoint's pickle {}: {e}", pickle.name),
            )
        })?;
        let data_dir = pickle.name.trim_end_matches(".pkl").to_owned();
        Ok(Self {
            zip,
            root,
            data_dir,
        })
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        self.zip.path()
    }

    /// The decoded top-level object.
    pub fn root(&self) -> &Object {
        &self.root
    }

    /// The entries of the state dict under `key` (or the top level), in file order. Entries that
    /// are not tensors (e.g. `_metadata`) are left out; tensors of a storage type candle cannot
    /// hold are listed with the reason.
    pub fn state_dict(&self, key: Option<&str>) -> Result<Vec<StateDictEntry>> {
        let path = self.zip.path();
        let dict = match key {
            Some(key) => dict_entries(&self.root)
                .and_then(|entries| {
                    entries
                        .iter()
                        .find(|(k, _)| matches!(k, Object::Unicode(s) if s == key))
                        .map(|(_, v)| v)
                })
                .ok_or_else(|| {
                    not_a_checkpoint(path, format!("no `{key}` entry at the top level"))
                })?,
            None => &self.root,
        };
        let entries = dict_entries(dict).ok_or_else(|| {
            not_a_checkpoint(path, format!("the state dict under {key:?} is not a dict"))
        })?;
        let dir = Path::new(&self.data_dir);
        let mut out = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            let Object::Unicode(name_str) = name else {
                continue;
            };
            match value.clone().into_tensor_info(name.clone(), dir) {
                Ok(Some(info)) => out.push((name_str.clone(), Ok(info))),
                Ok(None) => {}
                Err(e) => out.push((name_str.clone(), Err(e.to_string()))),
            }
        }
        Ok(out)
    }

    /// Reads one tensor into its own buffer (contiguous, Fortran-order or any strided view of
    /// its storage). Checks the storage's CRC-32 when the tensor covers all of it.
    pub fn read_tensor(&self, info: &TensorInfo) -> Result<Tensor> {
        self.read_tensor_inner(info)
            .map_err(|reason| ModelError::BadTensor {
                name: info.name.clone(),
                path: self.zip.path().to_owned(),
                source: Box::new(candle_core::Error::Msg(reason)),
            })
    }

    fn read_tensor_inner(&self, info: &TensorInfo) -> std::result::Result<Tensor, String> {
        let entry = self.zip.entry(&info.path).map_err(|e| e.to_string())?;
        let layout = &info.layout;
        let dims = layout.dims().to_vec();
        let start = layout.start_offset() as u64;
        let count = layout.shape().elem_count();
        if layout.is_contiguous() || count <= 1 {
            return self.read_span(entry, start, count, info.dtype, &dims);
        }
        let rank = dims.len();
        if layout.is_fortran_contiguous() {
            let reversed: Vec<usize> = dims.iter().rev().copied().collect();
            let t = self.read_span(entry, start, count, info.dtype, &reversed)?;
            let order: Vec<usize> = (0..rank).rev().collect();
            return t
                .permute(order)
                .and_then(|t| t.contiguous())
                .map_err(|e| e.to_string());
        }
        // Any other view: read the storage span it touches, then gather its elements.
        let strides = layout.stride();
        let span = 1 + dims
            .iter()
            .zip(strides)
            .map(|(d, s)| (d.saturating_sub(1)) * s)
            .sum::<usize>();
        let flat = self.read_span(entry, start, span, info.dtype, &[span])?;
        let mut index = Vec::with_capacity(count);
        let mut position = vec![0usize; rank];
        for _ in 0..count {
            index.push(
                position
                    .iter()
                    .zip(strides)
                    .map(|(p, s)| p * s)
                    .sum::<usize>() as u32,
            );
            for axis in (0..rank).rev() {
                position[axis] += 1;
                if position[axis] < dims[axis] {
                    break;
                }
                position[axis] = 0;
            }
        }
        let index = Tensor::from_vec(index, count, &Device::Cpu).map_err(|e| e.to_string())?;
        flat.index_select(&index, 0)
            .and_then(|t| t.reshape(dims))
            .map_err(|e| e.to_string())
    }

    /// `count` elements of `dtype` from byte `start` of the storage `entry`, shaped `dims`;
    /// the storage's CRC-32 is checked when the span is the whole storage.
    fn read_span(
        &self,
        entry: &ZipEntry,
        start: u64,
        count: usize,
        dtype: DType,
        dims: &[usize],
    ) -> std::result::Result<Tensor, String> {
        let bytes = (count * dtype.size_in_bytes()) as u64;
        if start + bytes > entry.size {
            return Err(format!(
                "needs bytes {start}..{} of storage {}, which holds {} bytes (truncated?)",
                start + bytes,
                entry.name,
                entry.size
            ));
        }
        let mut reader = self
            .zip
            .open_entry(entry, start)
            .map_err(|e| e.to_string())?;
        let (tensor, crc) = read_tensor(&mut reader, count, dtype, dims)?;
        if start == 0 && bytes == entry.size {
            entry.check_crc(crc).map_err(|e| e.to_string())?;
        }
        Ok(tensor)
    }
}

/// The key/value pairs of a dict (an `OrderedDict` decodes to one as well).
fn dict_entries(obj: &Object) -> Option<&[(Object, Object)]> {
    match obj {
        Object::Dict(entries) => Some(entries),
        _ => None,
    }
}

fn not_a_checkpoint(path: &Path, reason: String) -> ModelError {
    ModelError::NotACheckpoint {
        reason,
        path: path.to_owned(),
    }
}

fn zip_error(path: &Path, err: TorchZipError) -> ModelError {
    match err {
        TorchZipError::Io(source) => ModelError::Io {
            path: path.to_owned(),
            source,
        },
        other => not_a_checkpoint(path, format!("not a readable torch zip archive: {other}")),
    }
}
