//! Dense layers and LayerNorm loaded from canonical (fair-esm) tensor names.

use candle_core::Tensor;
use candle_nn::VarBuilder;

/// `y = x Wᵀ + b` over the last dimension of any-rank input, computed as one 2-D GEMM.
///
/// candle-nn's `Linear` broadcasts the weight over the batch dimension for 3-D input; folding
/// `(batch, seq)` into one dimension gives gemm a single large product instead.
#[derive(Debug, Clone)]
pub struct Linear {
    /// `(out_features, in_features)`, as stored by PyTorch.
    weight: Tensor,
    /// `(out_features,)`.
    bias: Option<Tensor>,
}

impl Linear {
    /// Loads `{prefix}.weight` `(out, in)` and `{prefix}.bias` `(out,)`.
    pub fn new(in_dim: usize, out_dim: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let weight = vb.get((out_dim, in_dim), "weight")?;
        let bias = vb.get(out_dim, "bias")?;
        Ok(Self {
            weight,
            bias: Some(bias),
        })
    }

    /// Builds a layer from tensors, e.g. after folding a scale into the weights.
    pub fn from_parts(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self { weight, bias }
    }

    /// `xs`: `(..., in)` → `(..., out)`.
    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let dims = xs.dims();
        let in_dim = dims[dims.len() - 1];
        let rows = xs.elem_count() / in_dim.max(1);
        let flat = xs.reshape((rows, in_dim))?;
        let mut ys = flat.matmul(&self.weight.t()?)?;
        if let Some(bias) = &self.bias {
            ys = ys.broadcast_add(bias)?;
        }
        let mut out_dims = dims.to_vec();
        let last = out_dims.len() - 1;
        out_dims[last] = self.weight.dim(0)?;
        ys.reshape(out_dims)
    }
}

/// `torch.nn.LayerNorm(dim)` over the last dimension, on [`super::kernels::layer_norm`]
/// (fast on the CPU and differentiable, unlike candle-nn's fused op).
#[derive(Debug, Clone)]
pub struct LayerNorm {
    /// `(dim,)`.
    weight: Tensor,
    /// `(dim,)`.
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    /// `xs`: `(..., dim)` → same shape.
    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        super::kernels::layer_norm(xs, &self.weight, &self.bias, self.eps)
    }
}

/// Loads a `torch.nn.LayerNorm(dim)` (`{prefix}.weight`, `{prefix}.bias`) with `eps`.
pub fn layer_norm(dim: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<LayerNorm> {
    let weight = vb.get(dim, "weight")?;
    let bias = vb.get(dim, "bias")?;
    Ok(LayerNorm { weight, bias, eps })
}
