//! The all-heads contact regression: fair-esm's contact head (Rao et al. 2020), one weight
//! per layer and head on its symmetrised, APC-corrected attention map, `p_ij = sigmoid(Σ_k
//! w_k a_k,ij + b)`. Built from a fit ([`super::fit_sparse_logistic`]) or read from a
//! checkpoint's own head; saved as a contact head (`regression.weight` `(1, layers * heads)`,
//! `regression.bias` `(1,)`, the names of fair-esm's `*-contact-regression.pt`) that any
//! checkpoint of the same shape can carry (`--contact-head FILE`).

use std::path::Path;

use candle_core::{Device, Tensor};

use super::probe_file::{
    ProbeFileError, ProbeMetadata, read_probe_file, tensor_values, write_probe_file,
};

/// The probe-file kind of a saved regression.
pub const ATTENTION_REGRESSION_KIND: &str = "attention-regression";

/// One weight per layer and head, and a bias.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionRegression {
    /// Transformer layers.
    pub layers: usize,
    /// Heads per layer.
    pub heads: usize,
    /// `layers * heads` weights, layer-major (layer 0's heads first).
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
}

impl AttentionRegression {
    /// The regression with `weights` (`layers * heads`) and `bias`.
    pub fn new(layers: usize, heads: usize, weights: Vec<f32>, bias: f32) -> Option<Self> {
        (weights.len() == layers * heads).then_some(Self {
            layers,
            heads,
            weights,
            bias,
        })
    }

    /// The contact head `model` carries, as a regression (`None` without one).
    pub fn of_model(model: &crate::model::EsmModel) -> candle_core::Result<Option<Self>> {
        let Some(head) = model.contact_head() else {
            return Ok(None);
        };
        let (weights, bias) = head.weights()?;
        let config = model.config();
        Ok(Self::new(
            config.num_layers,
            config.attention_heads,
            weights,
            bias,
        ))
    }

    /// Heads with a non-zero weight.
    pub fn heads_used(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }

    /// Adds block `block` (0-based)'s share to `logits` (row-major `len x len`), where
    /// `apc(head, i, j)` is that head's APC value at residues `(i, j)`.
    pub fn add_layer(
        &self,
        block: usize,
        apc: impl Fn(usize, usize, usize) -> f32,
        logits: &mut [f32],
        len: usize,
    ) {
        for head in 0..self.heads {
            let w = self.weights[block * self.heads + head];
            if w == 0.0 {
                continue;
            }
            for (k, logit) in logits.iter_mut().enumerate().take(len * len) {
                *logit += w * apc(head, k / len, k % len);
            }
        }
    }

    /// `sigmoid(logit + bias)` of every pair.
    pub fn probabilities(&self, logits: &[f32]) -> Vec<f32> {
        logits
            .iter()
            .map(|&z| 1.0 / (1.0 + (-(z + self.bias)).exp()))
            .collect()
    }

    /// Writes the regression as a contact head with `metadata` (kind
    /// [`ATTENTION_REGRESSION_KIND`]).
    pub fn save(&self, metadata: &ProbeMetadata, path: &Path) -> Result<(), ProbeFileError> {
        let invalid = |e: candle_core::Error| ProbeFileError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let weight = Tensor::from_vec(
            self.weights.clone(),
            (1, self.layers * self.heads),
            &Device::Cpu,
        )
        .map_err(invalid)?;
        let bias = Tensor::from_vec(vec![self.bias], 1, &Device::Cpu).map_err(invalid)?;
        let metadata = ProbeMetadata {
            kind: ATTENTION_REGRESSION_KIND.into(),
            ..metadata.clone()
        };
        write_probe_file(
            &[("regression.weight", weight), ("regression.bias", bias)],
            &metadata,
            path,
        )
    }

    /// Reads a regression written by [`Self::save`] for a model of `layers x heads`.
    pub fn load(
        path: &Path,
        (layers, heads): (usize, usize),
    ) -> Result<(Self, ProbeMetadata), ProbeFileError> {
        let invalid = |message: String| ProbeFileError::Invalid {
            message,
            path: path.to_owned(),
        };
        let (tensors, metadata) = read_probe_file(path, ATTENTION_REGRESSION_KIND)?;
        let read = |name: &str| tensor_values(&tensors, name, path);
        let (weights, bias) = (read("regression.weight")?, read("regression.bias")?);
        if bias.len() != 1 {
            return Err(invalid(format!(
                "regression.bias has {} values, not 1",
                bias.len()
            )));
        }
        let found = weights.len();
        let regression = Self::new(layers, heads, weights, bias[0]).ok_or_else(|| {
            invalid(format!(
                "{found} head weights, but the model has {layers} layers x {heads} heads = {}",
                layers * heads
            ))
        })?;
        Ok((regression, metadata))
    }
}
