//! RoBERTa masked-LM head tied to the token embeddings (`RobertaLMHead`, `esm/modules.py` @ 2.0.0).

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::linear::{LayerNorm, Linear, layer_norm};

/// `logits = layer_norm(gelu(dense(x))) Eᵀ + bias`, with `E` the `(vocab, embed_dim)` embeddings.
#[derive(Debug, Clone)]
pub struct LmHead {
    dense: Linear,
    layer_norm: LayerNorm,
    /// Weight `(vocab, embed_dim)`: the token embedding table (tied); bias `(vocab,)`.
    decoder: Linear,
}

impl LmHead {
    /// Loads `dense`, `layer_norm` and `bias` under `vb`; `weight` is the tied embedding table.
    pub fn new(
        embed_dim: usize,
        vocab: usize,
        eps: f64,
        weight: Tensor,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        Ok(Self {
            dense: Linear::new(embed_dim, embed_dim, vb.pp("dense"))?,
            layer_norm: layer_norm(embed_dim, eps, vb.pp("layer_norm"))?,
            decoder: Linear::from_parts(weight, Some(vb.get(vocab, "bias")?)),
        })
    }

    /// `xs`: `(batch, seq_len, embed_dim)` → logits `(batch, seq_len, vocab)`.
    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let hidden = super::kernels::gelu_erf(&self.dense.forward(xs)?)?;
        let hidden = self.layer_norm.forward(&hidden)?;
        self.decoder.forward(&hidden)
    }
}
