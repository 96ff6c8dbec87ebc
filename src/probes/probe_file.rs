//! Saving and loading fitted probes: one safetensors file with the weights (SS8: `mean`,
//! `scale`, `weights`, `intercept`; contacts: `mean`, `scale`, `projection`, `bias`) and JSON metadata (model fingerprint, layer,
//! classes, metrics) under the `esm_workbench_probe` key, so a probe is applied only to the
//! model and layer it was trained on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use ndarray::{Array1, Array2};

use super::contact_probe::ContactProbe;
use super::precision_at_l::ContactPrecision;
use super::ss8_probe::{Ss8Metrics, Ss8Probe};
use crate::data::SS8_CLASSES;

/// Metadata key in the safetensors header.
const METADATA_KEY: &str = "esm_workbench_probe";

/// What a saved probe was trained on and how it scored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeMetadata {
    /// `ss8` or `contacts`.
    pub kind: String,
    /// Fingerprint of the model whose representations it reads.
    pub model_fingerprint: String,
    /// Model name, for people.
    pub model_name: String,
    /// Representation layer.
    pub layer: usize,
    /// Class letters in column order.
    pub classes: String,
    /// Held-out scores at training time (SS8 probes).
    pub test_metrics: Option<Ss8Metrics>,
    /// Held-out contact precision at training time (contact probes).
    #[serde(default)]
    pub contact_precision: Option<ContactPrecision>,
}

/// Errors of probe files.
#[derive(Debug, thiserror::Error)]
pub enum ProbeFileError {
    /// Reading or writing failed.
    #[error("cannot read or write probe file {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file is not a probe of this kind, or is inconsistent.
    #[error("{message}: {}", path.display())]
    Invalid {
        /// What is wrong.
        message: String,
        /// The file.
        path: PathBuf,
    },
}

/// Writes named tensors and `metadata` to `path` (atomically, through `<path>.partial`).
pub(super) fn write_probe_file(
    tensors: &[(&str, Tensor)],
    metadata: &ProbeMetadata,
    path: &Path,
) -> Result<(), ProbeFileError> {
    let io = |message: String| ProbeFileError::Io {
        path: path.to_owned(),
        message,
    };
    let json = serde_json::to_string(metadata).map_err(|e| io(e.to_string()))?;
    crate::atomic_write::write_atomic_at(path, |partial| {
        safetensors::tensor::serialize_to_file(
            tensors.iter().map(|(n, t)| (*n, t)),
            Some(HashMap::from([(METADATA_KEY.to_owned(), json)])),
            partial,
        )
        .map_err(std::io::Error::other)
    })
    .map_err(|e| io(e.to_string()))
}

/// The values of tensor `name` of a probe file read from `path`, flattened.
pub(super) fn tensor_values(
    tensors: &HashMap<String, Tensor>,
    name: &str,
    path: &Path,
) -> Result<Vec<f32>, ProbeFileError> {
    let invalid = |message: String| ProbeFileError::Invalid {
        message,
        path: path.to_owned(),
    };
    tensors
        .get(name)
        .ok_or_else(|| invalid(format!("tensor {name} is missing")))?
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| invalid(e.to_string()))
}

/// Reads a probe file of `kind`: its tensors and metadata.
pub(super) fn read_probe_file(
    path: &Path,
    kind: &str,
) -> Result<(HashMap<String, Tensor>, ProbeMetadata), ProbeFileError> {
    let invalid = |message: String| ProbeFileError::Invalid {
        message,
        path: path.to_owned(),
    };
    let bytes = std::fs::read(path).map_err(|e| ProbeFileError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| invalid(format!("not a safetensors file ({e})")))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(METADATA_KEY))
        .ok_or_else(|| invalid("not a workbench probe (no probe metadata)".into()))?;
    let metadata: ProbeMetadata =
        serde_json::from_str(json).map_err(|e| invalid(format!("bad probe metadata: {e}")))?;
    if metadata.kind != kind {
        return Err(invalid(format!(
            "a {} probe, not a {kind} probe",
            metadata.kind
        )));
    }
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
        .map_err(|e| invalid(e.to_string()))?;
    Ok((tensors, metadata))
}

/// Writes an SS8 `probe` and its `metadata` (kind `ss8`) to `path`, atomically.
pub fn save_ss8_probe(
    probe: &Ss8Probe,
    metadata: &ProbeMetadata,
    path: &Path,
) -> Result<(), ProbeFileError> {
    let io = |message: String| ProbeFileError::Io {
        path: path.to_owned(),
        message,
    };
    let dim = probe.mean.len();
    let tensor = |values: Vec<f32>, shape: &[usize]| {
        Tensor::from_vec(values, shape, &Device::Cpu).map_err(|e| io(e.to_string()))
    };
    let tensors = [
        ("mean", tensor(probe.mean.to_vec(), &[dim])?),
        ("scale", tensor(probe.scale.to_vec(), &[dim])?),
        (
            "weights",
            tensor(
                probe.weights.iter().copied().collect(),
                &[dim, SS8_CLASSES.len()],
            )?,
        ),
        (
            "intercept",
            tensor(probe.intercept.to_vec(), &[SS8_CLASSES.len()])?,
        ),
    ];
    write_probe_file(&tensors, metadata, path)
}

/// Reads a probe written by [`save_ss8_probe`].
pub fn load_ss8_probe(path: &Path) -> Result<(Ss8Probe, ProbeMetadata), ProbeFileError> {
    let invalid = |message: String| ProbeFileError::Invalid {
        message,
        path: path.to_owned(),
    };
    let (tensors, metadata) = read_probe_file(path, "ss8")?;
    let get = |name: &str| tensor_values(&tensors, name, path);
    let (mean, scale, weights, intercept) = (
        get("mean")?,
        get("scale")?,
        get("weights")?,
        get("intercept")?,
    );
    let dim = mean.len();
    if scale.len() != dim
        || intercept.len() != SS8_CLASSES.len()
        || weights.len() != dim * SS8_CLASSES.len()
    {
        return Err(invalid("tensor shapes do not agree".into()));
    }
    let weights = Array2::from_shape_vec((dim, SS8_CLASSES.len()), weights)
        .map_err(|e| invalid(e.to_string()))?;
    let probe = Ss8Probe {
        mean: Array1::from(mean),
        scale: Array1::from(scale),
        weights,
        intercept: Array1::from(intercept),
    };
    Ok((probe, metadata))
}

/// Writes a contact `probe` and its `metadata` (kind `contacts`) to `path`, atomically.
pub fn save_contact_probe(
    probe: &ContactProbe,
    metadata: &ProbeMetadata,
    path: &Path,
) -> Result<(), ProbeFileError> {
    let tensors = [
        ("mean", probe.mean.clone()),
        ("scale", probe.scale.clone()),
        ("projection", probe.projection.clone()),
        ("bias", probe.bias.clone()),
    ];
    write_probe_file(&tensors, metadata, path)
}

/// Reads a probe written by [`save_contact_probe`].
pub fn load_contact_probe(path: &Path) -> Result<(ContactProbe, ProbeMetadata), ProbeFileError> {
    let invalid = |message: String| ProbeFileError::Invalid {
        message,
        path: path.to_owned(),
    };
    let (tensors, metadata) = read_probe_file(path, "contacts")?;
    let get = |name: &str| {
        tensors
            .get(name)
            .cloned()
            .ok_or_else(|| invalid(format!("tensor {name} is missing")))
    };
    let probe = ContactProbe {
        mean: get("mean")?,
        scale: get("scale")?,
        projection: get("projection")?,
        bias: get("bias")?,
        epoch_losses: Vec::new(),
    };
    let dim = probe.mean.elem_count();
    if probe.scale.elem_count() != dim
        || probe.projection.dims().first() != Some(&dim)
        || probe.bias.elem_count() != 1
    {
        return Err(invalid("tensor shapes do not agree".into()));
    }
    Ok((probe, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_probe_predicts_the_same() -> Result<(), Box<dyn std::error::Error>> {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..120 {
            let class = [1usize, 4, 7][i % 3];
            rows.extend([
                class as f32 + (i % 5) as f32 * 0.1,
                (i % 7) as f32,
                -(class as f32),
            ]);
            labels.push(class);
        }
        let x = Array2::from_shape_vec((120, 3), rows)?;
        let probe = Ss8Probe::fit(&x, &labels, &super::super::Ss8ProbeParams::default(), None)?;
        let metadata = ProbeMetadata {
            kind: "ss8".into(),
            model_fingerprint: "abc".into(),
            model_name: "tiny".into(),
            layer: 2,
            classes: SS8_CLASSES.iter().collect(),
            test_metrics: Some(probe.evaluate(&x, &labels)),
            contact_precision: None,
        };
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("probe.safetensors");
        save_ss8_probe(&probe, &metadata, &path)?;
        let (loaded, meta) = load_ss8_probe(&path)?;
        // NaN (never-predicted classes) != NaN, so compare the serialised forms.
        assert_eq!(
            serde_json::to_string(&meta)?,
            serde_json::to_string(&metadata)?
        );
        assert_eq!(loaded.predict(&x), probe.predict(&x));
        assert_eq!(loaded, probe);
        std::fs::write(&path, b"junk")?;
        let err = load_ss8_probe(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("probe.safetensors") && err.contains("safetensors"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn a_saved_contact_probe_predicts_the_same() -> Result<(), Box<dyn std::error::Error>> {
        let (mean, scale) = (
            Tensor::zeros(4, candle_core::DType::F32, &Device::Cpu)?,
            Tensor::ones(4, candle_core::DType::F32, &Device::Cpu)?,
        );
        let probe = ContactProbe {
            mean,
            scale,
            projection: Tensor::arange(0f32, 8.0, &Device::Cpu)?.reshape((4, 2))?,
            bias: Tensor::new(-1f32, &Device::Cpu)?,
            epoch_losses: vec![0.5],
        };
        let metadata = ProbeMetadata {
            kind: "contacts".into(),
            model_fingerprint: "abc".into(),
            model_name: "tiny".into(),
            layer: 1,
            classes: "contact".into(),
            test_metrics: None,
            contact_precision: None,
        };
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("contacts.safetensors");
        save_contact_probe(&probe, &metadata, &path)?;
        let (loaded, meta) = load_contact_probe(&path)?;
        assert_eq!(meta, metadata);
        let reps = Tensor::arange(0f32, 12.0, &Device::Cpu)?.reshape((3, 4))?;
        assert_eq!(loaded.predict(&reps)?, probe.predict(&reps)?);
        let err = load_ss8_probe(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("a contacts probe, not a ss8 probe"), "{err}");
        Ok(())
    }
}
