//! One pre-LayerNorm transformer block, fair-esm's `TransformerLayer` (`esm/modules.py` @ 2.0.0).

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::attention::{RotaryTables, SelfAttention};
use super::config::EsmConfig;
use super::linear::{LayerNorm, Linear, layer_norm};

/// `x + attn(ln(x))`, then `x + fc2(gelu(fc1(ln(x))))`, with exact (erf) GELU.
#[derive(Debug, Clone)]
pub struct TransformerLayer {
    self_attn: SelfAttention,
    self_attn_layer_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    final_layer_norm: LayerNorm,
    span: tracing::Span,
}

impl TransformerLayer {
    /// Loads `self_attn.*`, `self_attn_layer_norm`, `fc1`, `fc2`, `final_layer_norm` under `vb`.
    pub fn new(cfg: &EsmConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let (e, f, eps) = (cfg.embed_dim, cfg.ffn_embed_dim, cfg.layer_norm_eps);
        Ok(Self {
            self_attn: SelfAttention::new(e, cfg.attention_heads, vb.pp("self_attn"))?,
            self_attn_layer_norm: layer_norm(e, eps, vb.pp("self_attn_layer_norm"))?,
            fc1: Linear::new(e, f, vb.pp("fc1"))?,
            fc2: Linear::new(f, e, vb.pp("fc2"))?,
            final_layer_norm: layer_norm(e, eps, vb.pp("final_layer_norm"))?,
            span: tracing::span!(tracing::Level::TRACE, "layer"),
        })
    }

    /// `xs`: `(batch, seq_len, embed_dim)`; `key_padding_bias`: `(batch, 1, 1, seq_len)`.
    /// Returns the block output (same shape) and, when `need_weights`, the attention
    /// probabilities `(batch, heads, seq_len, seq_len)`.
    pub fn forward(
        &self,
        xs: &Tensor,
        key_padding_bias: Option<&Tensor>,
        rotary: Option<&RotaryTables>,
        need_weights: bool,
    ) -> candle_core::Result<(Tensor, Option<Tensor>)> {
        let _enter = self.span.enter();
        let normed = self.self_attn_layer_norm.forward(xs)?;
        let (attn_out, probs) =
            self.self_attn
                .forward(&normed, key_padding_bias, rotary, need_weights)?;
        let xs = (xs + attn_out)?;
        let normed = self.final_layer_norm.forward(&xs)?;
        let hidden = super::kernels::gelu_erf(&self.fc1.forward(&normed)?)?;
        let xs = (xs + self.fc2.forward(&hidden)?)?;
        Ok((xs, probs))
    }
}
