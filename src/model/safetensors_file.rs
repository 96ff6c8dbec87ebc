//! safetensors files (Hugging Face and the workbench's own), read tensor by tensor: the JSON
//! header is parsed here, and each tensor's bytes go straight from the file into its buffer,
//! so a 2.6 GB ESM-1b costs 2.6 GB to load, not the file plus the tensors.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use candle_core::{DType, Tensor};
use serde::Deserialize;

use super::error::{ModelError, Result};
use super::tensor_read::read_tensor;

/// Largest JSON header accepted (the format's own limit is 100 MB).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// One tensor's entry in the header.
#[derive(Debug, Deserialize)]
struct TensorEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (u64, u64),
}

/// The parsed header: metadata, tensors, and where the data starts.
#[derive(Debug)]
pub struct SafetensorsHeader {
    /// The `__metadata__` strings.
    pub metadata: HashMap<String, String>,
    tensors: Vec<(String, TensorEntry)>,
    data_start: u64,
    file_len: u64,
}

fn not_safetensors(path: &Path, reason: String) -> ModelError {
    ModelError::NotACheckpoint {
        reason: format!("not a safetensors file ({reason})"),
        path: path.to_owned(),
    }
}

/// Reads and checks the header of `path` (no tensor data).
pub fn read_header(path: &Path) -> Result<SafetensorsHeader> {
    let io = |source| ModelError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(io)?;
    let len = u64::from_le_bytes(len);
    if len == 0 || len > MAX_HEADER_BYTES || len + 8 > file_len {
        return Err(not_safetensors(path, "bad header length".into()));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header).map_err(io)?;
    let mut json: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| not_safetensors(path, format!("header is not JSON: {e}")))?;
    let metadata = json
        .remove("__metadata__")
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default();
    let mut tensors = Vec::with_capacity(json.len());
    for (name, value) in json {
        let entry: TensorEntry = serde_json::from_value(value)
            .map_err(|e| not_safetensors(path, format!("bad header entry for {name}: {e}")))?;
        tensors.push((name, entry));
    }
    tensors.sort_by_key(|(_, e)| e.data_offsets.0);
    Ok(SafetensorsHeader {
        metadata,
        tensors,
        data_start: 8 + len,
        file_len,
    })
}

fn dtype_of(name: &str) -> Option<DType> {
    Some(match name {
        "F32" => DType::F32,
        "F16" => DType::F16,
        "BF16" => DType::BF16,
        "F64" => DType::F64,
        "I64" => DType::I64,
        "U32" => DType::U32,
        "U8" => DType::U8,
        _ => return None,
    })
}

/// Every tensor of `path`, plus the entries whose dtype candle cannot hold (`name (dtype)`).
pub fn load(
    path: &Path,
    header: &SafetensorsHeader,
) -> Result<(HashMap<String, Tensor>, Vec<String>)> {
    let mut file = File::open(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut tensors = HashMap::with_capacity(header.tensors.len());
    let mut unreadable = Vec::new();
    for (name, entry) in &header.tensors {
        let Some(dtype) = dtype_of(&entry.dtype) else {
            unreadable.push(format!("{name} (dtype {})", entry.dtype));
            continue;
        };
        let bad = |reason: String| ModelError::BadTensor {
            name: name.clone(),
            path: path.to_owned(),
            source: Box::new(candle_core::Error::Msg(reason)),
        };
        let count: usize = entry.shape.iter().product();
        let (begin, end) = entry.data_offsets;
        if end < begin || end - begin != (count * dtype.size_in_bytes()) as u64 {
            return Err(bad(format!(
                "{} bytes declared for shape {:?} of {}",
                end.saturating_sub(begin),
                entry.shape,
                entry.dtype
            )));
        }
        if header.data_start + end > header.file_len {
            return Err(bad(format!(
                "its data ends at byte {}, past the end of the {}-byte file (truncated?)",
                header.data_start + end,
                header.file_len
            )));
        }
        file.seek(SeekFrom::Start(header.data_start + begin))
            .map_err(|e| bad(e.to_string()))?;
        let (tensor, _) = read_tensor(&mut file, count, dtype, &entry.shape).map_err(bad)?;
        tensors.insert(name.clone(), tensor);
    }
    Ok((tensors, unreadable))
}
