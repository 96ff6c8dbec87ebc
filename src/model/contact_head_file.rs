//! A contact head from its own file, for any checkpoint of the same shape: the all-heads
//! regression saved by `probe heads --save-regression` (safetensors), or fair-esm's
//! `*-contact-regression.pt`. The checkpoint then carries `contact_head.regression.weight`
//! `(1, layers * heads)` and `.bias` `(1,)`, so its fingerprint (and every result's
//! provenance) says which head it has.

use std::path::Path;

use candle_core::{Device, Tensor};

use super::checkpoint::{Checkpoint, read_state_dict};
use super::error::{ModelError, Result};
use super::pth::PthFile;

/// The regression tensors of `path` (any key ending in `regression.weight` / `.bias`).
fn read_regression(path: &Path) -> Result<(Tensor, Tensor)> {
    let bad = |reason: String| ModelError::NotACheckpoint {
        reason,
        path: path.to_owned(),
    };
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

impl Checkpoint {
    /// This checkpoint with the contact head of `path` in place of its own (if any); refused
    /// when the head was made for another number of layers or heads.
    pub fn with_contact_head_file(mut self, path: &Path) -> Result<Self> {
        let (weight, bias) = read_regression(path)?;
        let wanted = self.config.num_layers * self.config.attention_heads;
        if weight.elem_count() != wanted || bias.elem_count() != 1 {
            return Err(ModelError::NotACheckpoint {
                reason: format!(
                    "a contact head of {} weights, but this model has {} layers x {} heads = {wanted}",
                    weight.elem_count(),
                    self.config.num_layers,
                    self.config.attention_heads
                ),
                path: path.to_owned(),
            });
        }
        let weight = weight.reshape((1, wanted))?;
        let bias = bias.reshape(1)?;
        self.tensors
            .insert("contact_head.regression.weight".into(), weight);
        self.tensors
            .insert("contact_head.regression.bias".into(), bias);
        self.source.contact_regression_path = Some(path.to_owned());
        Ok(self)
    }
}
