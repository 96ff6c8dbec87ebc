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

    /// `attentions`: `(batch, layers * heads, seq_len, seq_len)` attention probabilities with
    /// padding rows/columns already zeroed; `tokens`: the `(batch, seq_len)` token ids.
    /// Returns contact probabilities `(batch, seq_len - 2, seq_len - 2)` over residues.
    pub fn forward(&self, attentions: &Tensor, tokens: &[u32]) -> candle_core::Result<Tensor> {
        let (batch, channels, seq_len, _) = attentions.dims4()?;
        // Zero attention to and from EOS (it may sit mid-row in a padded batch).
        let not_eos: Vec<f32> = tokens
            .iter()
            .map(|&t| if t == super::Alphabet::EOS { 0.0 } else { 1.0 })
            .collect();
        let not_eos = Tensor::from_vec(not_eos, (batch, 1, seq_len), attentions.device())?;
        let pair_mask = not_eos
            .transpose(1, 2)?
            .broadcast_mul(&not_eos)?
            .unsqueeze(1)?;
        let masked = attentions.broadcast_mul(&pair_mask)?;
        // Drop the last position (EOS or padding) and BOS.
        let residues = seq_len - 2;
        let maps = masked.narrow(2, 1, residues)?.narrow(3, 1, residues)?;
        let normalized = apc(&(&maps + maps.t()?)?)?;
        // Logistic regression over channels: (batch, 1, C) x (batch, C, S*S).
        let flat = normalized.reshape((batch, channels, residues * residues))?;
        let weight = self
            .weight
            .unsqueeze(0)?
            .broadcast_as((batch, 1, channels))?
            .contiguous()?;
        let logits = weight.matmul(&flat)?.broadcast_add(&self.bias)?;
        candle_nn::ops::sigmoid(&logits.reshape((batch, residues, residues))?)
    }
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
