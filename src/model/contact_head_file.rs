//! A contact head from its own file, for any model of the same shape: the all-heads
//! regression saved by `probe heads --save-regression` or the Heads view (safetensors), or
//! fair-esm's `*-contact-regression.pt`. Attaching it to a loaded model reads only the small
//! file (no reload of the weights); the model is then named `<model> + <head file stem>` and
//! fingerprinted with the head, so every result's provenance says which head it has.

use std::path::Path;

use candle_core::{Device, Tensor};

use super::checkpoint::read_state_dict;
use super::contact_head::ContactHead;
use super::error::{ModelError, Result};
use super::loaded::LoadedModel;
use super::pth::PthFile;

/// The regression tensors of `path` (any key ending in `regression.weight` / `.bias`).
fn read_regression(path: &Path) -> Result<(Tensor, Tensor)> {
    let bad = |reason: String| ModelError::NotACheckpoint {
        reason,
        path: path.to_owned(),
    };
    if !path.is_file() {
        return Err(bad(
            "not found (a contact-head file is a .safetensors or .pt file)".into(),
        ));
    }
    let tensors = if path.extension().is_some_and(|e| e == "pt") {
        read_state_dict(&PthFile::open(path)?, Some("model"), |n| n.to_owned())?.0
    } else {
        candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| bad(format!("not a contact-head file ({e})")))?
    };
    let find = |suffix: &str| {
        tensors
            .iter()
            .find(|(name, _)| name.ends_with(suffix))
            .map(|(_, t)| t.clone())
            .ok_or_else(|| bad(format!("no {suffix} tensor: not a contact-head file")))
    };
    Ok((find("regression.weight")?, find("regression.bias")?))
}

/// The contact head of `path` for a model of `layers x heads`, as f32 on `device`; refused
/// when it was made for another number of layers or heads.
pub fn read_contact_head(
    path: &Path,
    (layers, heads): (usize, usize),
    device: &Device,
) -> Result<ContactHead> {
    let (weight, bias) = read_regression(path)?;
    let wanted = layers * heads;
    if weight.elem_count() != wanted || bias.elem_count() != 1 {
        return Err(ModelError::NotACheckpoint {
            reason: format!(
                "a contact head of {} weights, but this model has {layers} layers x {heads} heads = {wanted}",
                weight.elem_count(),
            ),
            path: path.to_owned(),
        });
    }
    let as_f32 = |t: Tensor| t.to_dtype(candle_core::DType::F32)?.to_device(device);
    Ok(ContactHead::from_tensors(
        as_f32(weight.reshape((1, wanted))?)?,
        as_f32(bias.reshape(1)?)?,
    ))
}

impl LoadedModel {
    /// This model with the contact head of `path` in place of its own (if any), named
    /// `<model> + <head file stem>`; its fingerprint is this one's with the head's weights.
    pub fn with_contact_head_file(&self, path: &Path) -> Result<Self> {
        let config = self.model.config();
        let head = read_contact_head(
            path,
            (config.num_layers, config.attention_heads),
            self.model.device(),
        )?;
        let (weights, bias) = head.weights()?;
        let added = if self.model.has_contact_head() {
            0
        } else {
            weights.len() + 1
        };
        let stem = path.file_stem().map_or_else(
            || "contact head".into(),
            |s| s.to_string_lossy().into_owned(),
        );
        let mut source = self.source.clone();
        source.contact_regression_path = Some(path.to_owned());
        Ok(Self {
            model: self.model.with_contact_head(head),
            source,
            parameter_count: self.parameter_count + added,
            name: format!("{} + {stem}", self.name),
            fingerprint: fingerprint_with_head(&self.fingerprint, &weights, bias),
        })
    }
}

/// SHA-256 of a model's fingerprint and a contact head's weights and bias.
fn fingerprint_with_head(model: &str, weights: &[f32], bias: f32) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update(b"contact_head.regression");
    for v in weights.iter().chain(std::iter::once(&bias)) {
        hasher.update(v.to_le_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Attaching a model's own head to it changes only its name and fingerprint: contacts
    /// are the same; a head of another shape is refused naming both shapes.
    #[test]
    fn a_head_file_attaches_without_reloading()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &Device::Cpu)?;
        let dir = tempfile::tempdir()?;
        let (weights, bias) = model
            .model
            .contact_head()
            .ok_or("fixture head")?
            .weights()?;
        let file = dir.path().join("own_head.safetensors");
        let n = weights.len();
        candle_core::safetensors::save(
            &std::collections::HashMap::from([
                (
                    "regression.weight".to_owned(),
                    Tensor::from_vec(weights, (1, n), &Device::Cpu)?,
                ),
                (
                    "regression.bias".to_owned(),
                    Tensor::from_vec(vec![bias], 1, &Device::Cpu)?,
                ),
            ]),
            &file,
        )?;
        let attached = model.with_contact_head_file(&file)?;
        assert_eq!(attached.name, format!("{} + own_head", model.name));
        assert_ne!(attached.fingerprint, model.fingerprint);
        assert_eq!(attached.parameter_count, model.parameter_count);
        let batch = super::super::TokenBatch::encode([("a", "MKTAYIAKQRQISFVKSHFSRQ")])?;
        let request = super::super::ForwardRequest {
            contacts: true,
            ..Default::default()
        };
        let contacts =
            |m: &LoadedModel| -> std::result::Result<Vec<f32>, Box<dyn std::error::Error>> {
                let out = m.model.forward(&batch, &request)?;
                Ok(out
                    .contacts
                    .ok_or("contacts")?
                    .flatten_all()?
                    .to_vec1::<f32>()?)
            };
        assert_eq!(contacts(&attached)?, contacts(&model)?);
        let wrong = dir.path().join("wrong.safetensors");
        candle_core::safetensors::save(
            &std::collections::HashMap::from([
                (
                    "regression.weight".to_owned(),
                    Tensor::zeros((1, 3), candle_core::DType::F32, &Device::Cpu)?,
                ),
                (
                    "regression.bias".to_owned(),
                    Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu)?,
                ),
            ]),
            &wrong,
        )?;
        let err = model
            .with_contact_head_file(&wrong)
            .err()
            .ok_or("refused")?
            .to_string();
        assert!(
            err.contains("3 weights") && err.contains("wrong.safetensors"),
            "{err}"
        );
        let missing = model.with_contact_head_file(&dir.path().join("none.safetensors"));
        assert!(
            missing
                .err()
                .ok_or("refused")?
                .to_string()
                .contains("not found")
        );
        Ok(())
    }
}
