//! Multi-head self-attention as in fair-esm's `esm/multihead_attention.py` @ fair-esm 2.0.0
//! (no bias_kv, no zero-attention; the 1/sqrt(head_dim) query scaling is folded into `q_proj`).

use candle_core::{IndexOp as _, Tensor};
use candle_nn::VarBuilder;

use super::fused_attention::{attention_context, attention_context_and_probabilities};
use super::kernels::softmax_last_dim;

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
    /// `q_proj`, `k_proj` and `v_proj` stacked into one `(3 * embed_dim, embed_dim)` product
    /// (one GEMM instead of three: fewer passes over the input and fewer thread handshakes).
    qkv_proj: Linear,
    out_proj: Linear,
    heads: usize,
    span: tracing::Span,
}

impl SelfAttention {
    /// Loads the fused `qkv_proj` (see [`fuse_qkv`]) and `out_proj` under `vb`.
    pub fn new(embed_dim: usize, heads: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            qkv_proj: Linear::new(embed_dim, 3 * embed_dim, vb.pp("qkv_proj"))?,
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
        let qkv = self.qkv_proj.forward(xs)?;
        if qkv.device().is_cpu() {
            // Views of the projection, no copies: (B, L, 3, H, D) → three (B, H, L, D).
            let heads = qkv.reshape((batch, seq_len, 3, self.heads, head_dim))?;
            let view = |i: usize| heads.i((.., .., i))?.transpose(1, 2);
            let (mut q, mut k) = (view(0)?, view(1)?);
            if let Some(rot) = rotary {
                q = RotaryEmbedding::apply(&q, rot.cos, rot.sin)?;
                k = RotaryEmbedding::apply(&k, rot.cos, rot.sin)?;
            }
            let (context, probs) = if need_weights {
                let (context, probs) =
                    attention_context_and_probabilities(&q, &k, &view(2)?, key_padding_bias)?;
                (context, Some(probs))
            } else {
                (
                    attention_context(&q, &k, &view(2)?, key_padding_bias)?,
                    None,
                )
            };
            let context = context.reshape((batch, seq_len, embed_dim))?;
            return Ok((self.out_proj.forward(&context)?, probs));
        }
        let split_heads = |t: Tensor| -> candle_core::Result<Tensor> {
            t.contiguous()?
                .reshape((batch, seq_len, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let mut q = split_heads(qkv.narrow(2, 0, embed_dim)?)?;
        let mut k = split_heads(qkv.narrow(2, embed_dim, embed_dim)?)?;
        let v = split_heads(qkv.narrow(2, 2 * embed_dim, embed_dim)?)?;
        if let Some(rot) = rotary {
            q = RotaryEmbedding::apply(&q, rot.cos, rot.sin)?;
            k = RotaryEmbedding::apply(&k, rot.cos, rot.sin)?;
        }
        let (context, probs) = if seq_len > BLOCKED_MIN_TOKENS {
            blocked_attention(&q, &k, &v, key_padding_bias, need_weights)?
        } else {
            let mut scores = q.matmul(&k.t()?)?;
            if let Some(bias) = key_padding_bias {
                scores = scores.broadcast_add(bias)?;
            }
            let probs = softmax_last_dim(&scores)?;
            (probs.matmul(&v)?, need_weights.then_some(probs))
        };
        let context = context
            .transpose(1, 2)?
            .reshape((batch, seq_len, embed_dim))?;
        let out = self.out_proj.forward(&context)?;
        Ok((out, probs))
    }
}

/// Replaces `{prefix}.q_proj`, `k_proj`, `v_proj` (weights `(E, E)`, biases `(E,)`) in `tensors`
/// by one `{prefix}.qkv_proj` (`(3E, E)`, `(3E,)`), folding fair-esm's query scaling
/// `head_dim^-0.5` into the query rows. Originals are dropped as each layer is fused, so peak
/// memory grows by one layer's projections only.
pub fn fuse_qkv(
    tensors: &mut std::collections::HashMap<String, Tensor>,
    prefix: &str,
    head_dim: usize,
) -> candle_core::Result<()> {
    let scaling = (head_dim as f64).powf(-0.5);
    for param in ["weight", "bias"] {
        let mut take = |proj: &str| {
            let name = format!("{prefix}.{proj}.{param}");
            tensors
                .remove(&name)
                .ok_or_else(|| candle_core::Error::Msg(format!("cannot find tensor {name}")))
        };
        let (q, k, v) = (take("q_proj")?, take("k_proj")?, take("v_proj")?);
        let fused = Tensor::cat(&[(q * scaling)?, k, v], 0)?;
        tensors.insert(format!("{prefix}.qkv_proj.{param}"), fused);
    }
    Ok(())
}

/// Rows above which attention is computed in blocks of query rows.
const BLOCKED_MIN_TOKENS: usize = 256;
/// Query rows per block: a `(128, seq_len)` score block stays in cache between the QKᵀ product,
/// the softmax and the product with V (2.3x faster than whole-matrix ops at 1024 tokens).
const QUERY_BLOCK: usize = 128;

/// `softmax(q kᵀ + bias) v` per head in blocks of query rows. `q`, `k`, `v`:
/// `(batch, heads, seq_len, head_dim)`; `bias`: `(batch, 1, 1, seq_len)`. Returns the context
/// `(batch, heads, seq_len, head_dim)` and, when `need_weights`, the probabilities
/// `(batch, heads, seq_len, seq_len)`.
fn blocked_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    need_weights: bool,
) -> candle_core::Result<(Tensor, Option<Tensor>)> {
    let (batch, heads, seq_len, _) = q.dims4()?;
    let mut contexts = Vec::with_capacity(batch);
    let mut all_probs = Vec::with_capacity(if need_weights { batch } else { 0 });
    for b in 0..batch {
        let row_bias = bias.map(|t| t.i((b, 0))).transpose()?;
        let mut head_contexts = Vec::with_capacity(heads);
        let mut head_probs = Vec::with_capacity(heads);
        for h in 0..heads {
            let (qh, kt, vh) = (q.i((b, h))?, k.i((b, h))?.t()?, v.i((b, h))?);
            let mut blocks = Vec::with_capacity(seq_len.div_ceil(QUERY_BLOCK));
            let mut prob_blocks = Vec::new();
            for start in (0..seq_len).step_by(QUERY_BLOCK) {
                let rows = QUERY_BLOCK.min(seq_len - start);
                let mut scores = qh.narrow(0, start, rows)?.matmul(&kt)?;
                if let Some(rb) = &row_bias {
                    scores = scores.broadcast_add(rb)?;
                }
                let probs = softmax_last_dim(&scores)?;
                blocks.push(probs.matmul(&vh)?);
                if need_weights {
                    prob_blocks.push(probs);
                }
            }
            head_contexts.push(Tensor::cat(&blocks, 0)?);
            if need_weights {
                head_probs.push(Tensor::cat(&prob_blocks, 0)?);
            }
        }
        contexts.push(Tensor::stack(&head_contexts, 0)?);
        if need_weights {
            all_probs.push(Tensor::stack(&head_probs, 0)?);
        }
    }
    let probs = if need_weights {
        Some(Tensor::stack(&all_probs, 0)?)
    } else {
        None
    };
    Ok((Tensor::stack(&contexts, 0)?, probs))
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn blocked_attention_equals_whole_matrix_attention() -> candle_core::Result<()> {
        let d = Device::Cpu;
        let (b, h, t, dh) = (2, 3, 300, 8);
        let q = Tensor::randn(0f32, 1., (b, h, t, dh), &d)?;
        let k = Tensor::randn(0f32, 1., (b, h, t, dh), &d)?;
        let v = Tensor::randn(0f32, 1., (b, h, t, dh), &d)?;
        // Row 1 is padded after 250 tokens.
        let tokens: Vec<u32> = (0..b * t)
            .map(|i| if i >= t + 250 { 1 } else { 5 })
            .collect();
        let bias = key_padding_bias(&tokens, b, t, 1, &d)?;
        let (ctx, probs) = blocked_attention(&q, &k, &v, bias.as_ref(), true)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(
            bias.as_ref()
                .ok_or_else(|| candle_core::Error::Msg("bias".into()))?,
        )?;
        let want_probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let want_ctx = want_probs.matmul(&v)?;
        let diff = |a: &Tensor, b: &Tensor| -> candle_core::Result<f32> {
            (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
        };
        assert!(diff(&ctx, &want_ctx)? < 1e-5);
        assert!(
            diff(
                &probs.ok_or_else(|| candle_core::Error::Msg("probs".into()))?,
                &want_probs
            )? < 1e-6
        );
        Ok(())
    }
}
