//! NumPy `.npy` files (format versions 1-3, C order, little-endian): write f32 arrays, read
//! float and integer arrays.

use std::path::Path;

use super::atomic::{ExportError, write_atomic};

/// An array read from an `.npy` file, converted to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions, C order.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f64>,
}

/// Writes a C-order little-endian f32 array of `shape` atomically.
pub fn write_npy_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), ExportError> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(ExportError::Format {
            path: path.to_owned(),
            reason: format!(
                "shape {shape:?} needs {expected} values, got {}",
                data.len()
            ),
        });
    }
    let header = npy_header("<f4", shape);
    write_atomic(path, |w| {
        use std::io::Write as _;
        w.write_all(&header)?;
        for v in data {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    })
}

/// The bytes before the data of a version-1 `.npy` file of `descr` (`<f4`, `<f2`) and `shape`,
/// C order, padded to a multiple of 64 bytes (so the data is aligned for memory mapping).
pub fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes
}

/// Reads a 2-D `.npy` array (any dtype [`read_npy`] reads) as `[rows, cols]` f32.
pub fn read_npy_matrix(path: &Path) -> Result<ndarray::Array2<f32>, ExportError> {
    let array = read_npy(path)?;
    let bad = |reason: String| ExportError::Format {
        path: path.to_owned(),
        reason,
    };
    let [rows, cols] = array.shape[..] else {
        return Err(bad(format!(
            "expected a 2-D array, got shape {:?}",
            array.shape
        )));
    };
    ndarray::Array2::from_shape_vec((rows, cols), array.data.iter().map(|&v| v as f32).collect())
        .map_err(|e| bad(e.to_string()))
}

/// Reads a C-order array of `<f4`, `<f8`, `|i1`, `|u1`, `<i2`, `<i4`, `<i8`, `<u4` or `<u8`.
pub fn read_npy(path: &Path) -> Result<NpyArray, ExportError> {
    let bytes = std::fs::read(path).map_err(|source| ExportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let bad = |reason: String| ExportError::Format {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not an .npy file (no \\x93NUMPY magic)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("truncated or non-text header".into()))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        Some(
            header[at..]
                .trim_start()
                .trim_start_matches(':')
                .trim_start(),
        )
    };
    let descr = field("descr")
        .and_then(|s| s.strip_prefix('\''))
        .and_then(|s| s.split('\'').next())
        .ok_or_else(|| bad("header has no 'descr'".into()))?;
    if field("fortran_order").is_some_and(|s| s.starts_with("True")) {
        return Err(bad(
            "Fortran-order arrays are not supported (save with C order)".into(),
        ));
    }
    let shape_text = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("header has no 'shape'".into()))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad(format!("bad dimension {s:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count: usize = shape.iter().product();
    let body = &bytes[start + header_len..];
    let width = match descr {
        "<f4" | "<i4" | "<u4" => 4,
        "<f8" | "<i8" | "<u8" => 8,
        "<i2" => 2,
        "|i1" | "|u1" => 1,
        other => return Err(bad(format!("unsupported dtype {other}"))),
    };
    if body.len() < count * width {
        return Err(bad(format!(
            "data truncated: shape {shape:?} needs {} bytes, the file has {}",
            count * width,
            body.len()
        )));
    }
    let data = body[..count * width]
        .chunks_exact(width)
        .map(|c| match descr {
            "<f4" => f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            "<i4" => f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            "<u4" => f64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            "<f8" => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            "<i8" => i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64,
            "<u8" => u64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64,
            "<i2" => f64::from(i16::from_le_bytes([c[0], c[1]])),
            "|i1" => f64::from(c[0] as i8),
            _ => f64::from(c[0]),
        })
        .collect();
    Ok(NpyArray { shape, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads_the_header() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        let data: Vec<f32> = (0..6).map(|v| v as f32 * 0.5).collect();
        write_npy_f32(&path, &[2, 3], &data).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(
            (bytes.len() - 6 * 4) % 64,
            0,
            "data starts on a 64-byte boundary"
        );
        let array = read_npy(&path).expect("read back");
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.data, vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
        write_npy_f32(&path, &[4], &data[..4]).expect("1-D");
        assert_eq!(read_npy(&path).expect("1-D back").shape, vec![4]);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.npy");
        std::fs::write(&path, b"hello world").expect("write");
        assert!(
            read_npy(&path)
                .expect_err("magic")
                .to_string()
                .contains("bad.npy")
        );
        let err = write_npy_f32(&path, &[2, 2], &[1.0]).expect_err("shape");
        assert!(err.to_string().contains("needs 4 values"));
    }
}
