//! Reading a tensor's little-endian bytes from a file straight into the tensor's own buffer, in
//! chunks: loading a checkpoint costs the weights once, never a second copy of the file.

use std::io::Read;

use candle_core::{DType, Device, Tensor};

/// Bytes read per chunk (a whole number of elements of every dtype).
const CHUNK_BYTES: usize = 1 << 20;

/// Reads `count` elements of `dtype` from `reader` into a `dims`-shaped CPU tensor. f32 (the
/// weights of every ESM checkpoint) is decoded chunk by chunk into the final buffer; other dtypes
/// are read whole, then copied once by candle. Returns the CRC-32 of the bytes read too.
pub fn read_tensor(
    reader: &mut dyn Read,
    count: usize,
    dtype: DType,
    dims: &[usize],
) -> Result<(Tensor, u32), String> {
    let bytes = count * dtype.size_in_bytes();
    let mut crc = crc32fast::Hasher::new();
    let tensor = match dtype {
        DType::F32 => {
            let mut values = Vec::with_capacity(count);
            stream_chunks(reader, bytes, |chunk| {
                crc.update(chunk);
                values.extend(
                    chunk
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                );
            })?;
            Tensor::from_vec(values, dims, &Device::Cpu)
        }
        _ => {
            let mut raw = Vec::with_capacity(bytes);
            stream_chunks(reader, bytes, |chunk| {
                crc.update(chunk);
                raw.extend_from_slice(chunk);
            })?;
            Tensor::from_raw_buffer(&raw, dtype, dims, &Device::Cpu)
        }
    }
    .map_err(|e| e.to_string())?;
    Ok((tensor, crc.finalize()))
}

/// Feeds exactly `total` bytes from `reader` to `sink`, [`CHUNK_BYTES`] at a time.
fn stream_chunks(
    reader: &mut dyn Read,
    total: usize,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), String> {
    let mut buffer = vec![0u8; CHUNK_BYTES.min(total).max(1)];
    let mut left = total;
    while left > 0 {
        let n = left.min(buffer.len());
        reader
            .read_exact(&mut buffer[..n])
            .map_err(|e| format!("the data ends early ({e}; truncated?)"))?;
        sink(&buffer[..n]);
        left -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_and_f16_round_trip_through_chunks() -> Result<(), String> {
        // 300,000 f32 values span several 1 MiB chunks.
        let values: Vec<f32> = (0..300_000).map(|i| i as f32 * 0.5 - 7.0).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let (t, crc) = read_tensor(
            &mut bytes.as_slice(),
            values.len(),
            DType::F32,
            &[1000, 300],
        )?;
        assert_eq!(crc, crc32fast::hash(&bytes));
        let back = t
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| e.to_string())?;
        assert_eq!(back, values);
        let halves = [0x3c00u16, 0xc000]; // 1.0, -2.0
        let bytes: Vec<u8> = halves.iter().flat_map(|v| v.to_le_bytes()).collect();
        let (t, _) = read_tensor(&mut bytes.as_slice(), 2, DType::F16, &[2])?;
        let back = t
            .to_dtype(DType::F32)
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| e.to_string())?;
        assert_eq!(back, vec![1.0, -2.0]);
        Ok(())
    }

    #[test]
    fn short_data_is_an_error() {
        let bytes = [0u8; 10];
        let err = read_tensor(&mut bytes.as_slice(), 4, DType::F32, &[4]).expect_err("short");
        assert!(err.contains("truncated"), "{err}");
    }
}
