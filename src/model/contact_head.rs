//! Unsupervised contact prediction from attention maps (`ContactPredictionHead`,
//! `esm/modules.py` @ fair-esm 2.0.0; Rao et al. 2020).
//!
//! All layers' and heads' attention maps, with BOS/EOS rows and columns removed, are symmetrised
//! (`x + xᵀ`), corrected by the average product (APC), and combined by a logistic regression.

use candle_core::{D, Tensor};
use candle_nn::VarBuilder;

/// Logistic regression over `layers * heads` APC-corrected attention maps.
#[derive(Debug, Clone)]
pub struct ContactHead {
    /// `(1, layers * heads)`.
    weight: Tensor,
    /// `(1,)`.
    bias: Tensor,
}

impl ContactHead {
    /// Loads `regression.weight` `(1, in_features)` and `regression.bias` `(1,)` under `vb`.
    pub fn new(in_features: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let vb = vb.pp("regression");
        Ok(Self {
            weight: vb.get((1, in_features), "weight")?,
            bias: vb.get(1, "bias")?,
        })
    }

    /// The head of `weight` `(1, layers * heads)` and `bias` `(1,)`.
    pub fn from_tensors(weight: Tensor, bias: Tensor) -> Self {
        Self { weight, bias }
    }

    /// The regression's weights `(layers * heads)`, layer-major, and its bias.
    pub fn weights(&self) -> candle_core::Result<(Vec<f32>, f32)> {
        let weights = self.weight.flatten_all()?.to_vec1::<f32>()?;
        let bias = self.bias.flatten_all()?.to_vec1::<f32>()?;
        Ok((weights, bias.first().copied().unwrap_or(0.0)))
    }

    /// `(batch, 1, seq_len, seq_len)`: 0 for pairs involving an EOS token (it may sit mid-row
    /// in a padded batch), else 1. Built once per forward pass for [`Self::partial_logits`].
    pub fn eos_pair_mask(
        tokens: &[u32],
        batch: usize,
        seq_len: usize,
        device: &candle_core::Device,
    ) -> candle_core::Result<Tensor> {
        let not_eos: Vec<f32> = tokens
            .iter()
            .map(|&t| if t == super::Alphabet::EOS { 0.0 } else { 1.0 })
            .collect();
        let not_eos = Tensor::from_vec(not_eos, (batch, 1, seq_len), device)?;
        not_eos
            .transpose(1, 2)?
            .broadcast_mul(&not_eos)?
            .unsqueeze(1)
    }

    /// One layer's share of the regression logits, so that a forward pass can add the layers up
    /// as it goes and keep one layer's attention maps at a time (a 1,022-residue ESM-1b holds
    /// 2.8 GB of maps over all 33 layers, 84 MB per layer).
    ///
    /// `attentions`: `(batch, heads, seq_len, seq_len)`, the regression's channels
    /// `first..first + heads` (`first = layer * heads`), padding rows/columns zeroed;
    /// `eos_pairs`: [`Self::eos_pair_mask`]. Returns `(batch, seq_len - 2, seq_len - 2)`.
    pub fn partial_logits(
        &self,
        attentions: &Tensor,
        first: usize,
        eos_pairs: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (batch, heads, seq_len, _) = attentions.dims4()?;
        let residues = seq_len - 2;
        let normalized = apc_maps(attentions, eos_pairs)?;
        // Weighted sum over this layer's channels: (batch, 1, H) x (batch, H, S*S).
        let flat = normalized.reshape((batch, heads, residues * residues))?;
        let weight = self
            .weight
            .narrow(1, first, heads)?
            .unsqueeze(0)?
            .broadcast_as((batch, 1, heads))?
            .contiguous()?;
        weight.matmul(&flat)?.reshape((batch, residues, residues))
    }

    /// Contact probabilities from the summed logits of every layer: `sigmoid(sum + bias)`.
    pub fn finish(&self, logits: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::sigmoid(&logits.broadcast_add(&self.bias)?)
    }
}

/// Each head's map as the contact regression sees it: pairs with an EOS zeroed, BOS and the
/// last position dropped, symmetrised (`x + xᵀ`) and APC-corrected.
///
/// `attentions`: `(batch, heads, seq_len, seq_len)`, padding rows/columns zeroed; `eos_pairs`:
/// [`ContactHead::eos_pair_mask`]. Returns `(batch, heads, seq_len - 2, seq_len - 2)`; for a row
/// of `L` residues only the top-left `L x L` block is that sequence's map.
pub fn apc_maps(attentions: &Tensor, eos_pairs: &Tensor) -> candle_core::Result<Tensor> {
    let seq_len = attentions.dim(3)?;
    let masked = attentions.broadcast_mul(eos_pairs)?;
    // Drop the last position (EOS or padding) and BOS.
    let residues = seq_len - 2;
    let maps = masked.narrow(2, 1, residues)?.narrow(3, 1, residues)?;
    apc(&(&maps + maps.t()?)?)
}

/// Average product correction over the last two dimensions:
/// `x - (rowsum ⊗ colsum) / total`. `xs`: `(..., n, n)`.
pub fn apc(xs: &Tensor) -> candle_core::Result<Tensor> {
    let row_sums = xs.sum_keepdim(D::Minus1)?;
    let col_sums = xs.sum_keepdim(D::Minus2)?;
    let total = row_sums.sum_keepdim(D::Minus2)?;
    let expected = row_sums.broadcast_mul(&col_sums)?.broadcast_div(&total)?;
    xs - expected
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn apc_matches_hand_computation() -> candle_core::Result<()> {
        // x = [[1, 2], [3, 4]]: rows 3, 7; cols 4, 6; total 10.
        let x = Tensor::new(&[[1f32, 2.], [3., 4.]], &Device::Cpu)?;
        let got = apc(&x)?.to_vec2::<f32>()?;
        let want = [[1. - 1.2, 2. - 1.8], [3. - 2.8, 4. - 4.2]];
        for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
        Ok(())
    }
}
