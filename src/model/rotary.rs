//! Rotary position embeddings of ESM-2 (`esm/rotary_embedding.py` @ fair-esm 2.0.0).
//!
//! fair-esm rotates halves (`rotate_half`: `cat(-x2, x1)`) with `emb = cat(freqs, freqs)`, which is
//! candle's non-interleaved [`candle_nn::rotary_emb::rope`].

use candle_core::{Device, Tensor};

/// Cosine and sine tables for one sequence length.
#[derive(Debug, Clone)]
pub struct RotaryEmbedding {
    /// `inv_freq[i] = 1 / 10000^(2i / head_dim)`, `head_dim / 2` entries.
    inv_freq: Vec<f32>,
}

impl RotaryEmbedding {
    /// Frequencies for heads of size `head_dim` (must be even).
    pub fn new(head_dim: usize) -> Self {
        let inv_freq = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / 10000f32.powf(i as f32 / head_dim as f32))
            .collect();
        Self { inv_freq }
    }

    /// `(cos, sin)`, each `(seq_len, head_dim / 2)`, for positions `0..seq_len` (BOS is position 0).
    pub fn tables(&self, seq_len: usize, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let mut cos = Vec::with_capacity(seq_len * half);
        let mut sin = Vec::with_capacity(seq_len * half);
        for t in 0..seq_len {
            for &f in &self.inv_freq {
                let angle = t as f32 * f;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        Ok((
            Tensor::from_vec(cos, (seq_len, half), device)?,
            Tensor::from_vec(sin, (seq_len, half), device)?,
        ))
    }

    /// Rotates `xs`: `(batch, heads, seq_len, head_dim)`, contiguous.
    pub fn apply(xs: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::rotary_emb::rope(&xs.contiguous()?, cos, sin)
    }
}
