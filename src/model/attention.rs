//! Multi-head self-attention as in fair-esm's `esm/multihead_attention.py` @ fair-esm 2.0.0
//! (no bias_kv, no zero-attention; the 1/sqrt(head_dim) query scaling is folded into `q_proj`).

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::linear::Linear;
use super::rotary::RotaryEmbedding;

/// Cos/sin tables of rotary embeddings for the current sequence length.
pub struct RotaryTables<'a> {
    /// `(seq_len, head_dim / 2)`.
    pub cos: &'a Tensor,
    /// `(seq_len, head_dim / 2)`.
    pub sin: &'a Tensor,
}

/// Self-attention with `heads` heads.
#[derive(Debug, Clone)]
pub struct SelfAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    heads: usize,
    span: tracing::Span,
}

impl SelfAttention {
    /// Loads `q_proj`, `k_proj`, `v_proj`, `out_proj` under `vb`.
    pub fn new(embed_dim: usize, heads: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let head_dim = embed_dim / heads;
        let scaling = (head_dim as f64).powf(-0.5);
        let q = Linear::new(embed_dim, embed_dim, vb.pp("q_proj"))?;
        // fair-esm computes `q_proj(x) * scaling`; scaling weight and bias once is the same map.
        let q_proj = Linear::from_parts(
            (q.weight() * scaling)?,
            q.bias().map(|b| b * scaling).transpose()?,
        );
        Ok(Self {
            q_proj,
            k_proj: Linear::new(embed_dim, embed_dim, vb.pp("k_proj"))?,
            v_proj: Linear::new(embed_dim, embed_dim, vb.pp("v_proj"))?,
            out_proj: Linear::new(embed_dim, embed_dim, vb.pp("out_proj"))?,
            heads,
            span: tracing::span!(tracing::Level::TRACE, "self-attn"),
        })
    }

    /// `xs`: `(batch, seq_len, embed_dim)`; `key_padding_bias`: `(batch, 1, 1, seq_len)` with 0 for
    /// real tokens and -inf for padding. Returns the output `(batch, seq_len, embed_dim)` and,
    /// when `need_weights`, the attention probabilities `(batch, heads, seq_len, seq_len)`.
    pub fn forward(
        &self,
        xs: &Tensor,
        key_padding_bias: Option<&Tensor>,
        rotary: Option<&RotaryTables>,
        need_weights: bool,
    ) -> candle_core::Result<(Tensor, Option<Tensor>)> {
        let _enter = self.span.enter();
        let (batch, seq_len, embed_dim) = xs.dims3()?;
        let head_dim = embed_dim / self.heads;
        let split_heads = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((batch, seq_len, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let mut q = split_heads(self.q_proj.forward(xs)?)?;
        let mut k = split_heads(self.k_proj.forward(xs)?)?;
        let v = split_heads(self.v_proj.forward(xs)?)?;
        if let Some(rot) = rotary {
            q = RotaryEmbedding::apply(&q, rot.cos, rot.sin)?;
            k = RotaryEmbedding::apply(&k, rot.cos, rot.sin)?;
        }
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(bias) = key_padding_bias {
            scores = scores.broadcast_add(bias)?;
        }
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((batch, seq_len, embed_dim))?;
        let out = self.out_proj.forward(&context)?;
        Ok((out, need_weights.then_some(probs)))
    }
}

/// `(batch, 1, 1, seq_len)` additive mask: 0 for tokens, -inf for padding (`None` when no padding).
pub fn key_padding_bias(
    tokens: &[u32],
    batch: usize,
    seq_len: usize,
    pad: u32,
    device: &candle_core::Device,
) -> candle_core::Result<Option<Tensor>> {
    if !tokens.contains(&pad) {
        return Ok(None);
    }
    let bias: Vec<f32> = tokens
        .iter()
        .map(|&t| if t == pad { f32::NEG_INFINITY } else { 0.0 })
        .collect();
    Tensor::from_vec(bias, (batch, 1, 1, seq_len), device).map(Some)
}
