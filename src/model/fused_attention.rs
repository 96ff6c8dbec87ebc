//! The attention core `softmax(q kᵀ + bias) v` as one CPU op, for inference and training.
//!
//! The composed candle graph splits q, k and v out of the fused projection (three copies),
//! runs `B·H` small products one after another, each with its own thread fan-out, builds the
//! whole `(B, H, L, L)` score tensor, and copies the context back into `(B, L, E)`. Here one
//! rayon task per `(batch row, head)` reads its q, k and v in place (any strides: views of the
//! projection), computes its `L × L` scores in a scratch buffer with single-threaded GEMMs,
//! applies the padding bias and the softmax there; each task's `(L, D)` context is then copied
//! into its head's columns of the `(B, L, H, D)` output in one pass. Scratch memory is one `L × L` block per worker instead of a whole
//! batch's scores. Measured on ESM-1b shapes: see `benches/forward_in_study.py`.
//!
//! The backward pass recomputes the probabilities with candle ops (same formulas), so
//! `pretrain` runs through the same forward code.

use candle_core::{CpuStorage, CustomOp3, D, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::kernels::{softmax_row, with_wide_simd};

/// `softmax(q kᵀ + bias) v` for `q`, `k`, `v`: `(B, H, L, D)` (any strides, f32); `bias`:
/// `(B, 1, 1, L)` additive key mask (0 or -inf), or `None`. Returns the context `(B, L, H, D)`
/// (contiguous: reshape to `(B, L, H·D)`). Runs the fused kernel on the CPU; elsewhere the
/// composed candle ops.
pub fn attention_context(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
) -> candle_core::Result<Tensor> {
    if q.device().is_cpu() && q.dtype() == candle_core::DType::F32 {
        let bias_rows = match bias {
            Some(b) => Some(b.flatten_all()?.to_vec1::<f32>()?),
            None => None,
        };
        let op = FusedAttention {
            bias: bias.cloned(),
            bias_rows,
        };
        q.apply_op3(k, v, op)
    } else {
        composed_probabilities(q, k, bias)?
            .matmul(&v.contiguous()?)?
            .transpose(1, 2)?
            .contiguous()
    }
}

/// [`attention_context`] and the probabilities `softmax(q kᵀ + bias)` `(B, H, L, L)` it
/// used, for inference that reads the attention maps (contact heads, head screens): the same
/// fused kernel, each task's `L × L` block kept instead of dropped. No backward pass.
pub fn attention_context_and_probabilities(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
) -> candle_core::Result<(Tensor, Tensor)> {
    if !(q.device().is_cpu() && q.dtype() == candle_core::DType::F32) {
        let probs = composed_probabilities(q, k, bias)?;
        let context = probs
            .matmul(&v.contiguous()?)?
            .transpose(1, 2)?
            .contiguous()?;
        return Ok((context, probs));
    }
    let op = FusedAttention {
        bias: None,
        bias_rows: match bias {
            Some(b) => Some(b.flatten_all()?.to_vec1::<f32>()?),
            None => None,
        },
    };
    let (qs, ql) = q.storage_and_layout();
    let (ks, kl) = k.storage_and_layout();
    let (vs, vl) = v.storage_and_layout();
    let (
        candle_core::Storage::Cpu(qc),
        candle_core::Storage::Cpu(kc),
        candle_core::Storage::Cpu(vc),
    ) = (&*qs, &*ks, &*vs)
    else {
        candle_core::bail!("fused attention: CPU tensors expected")
    };
    let inputs = [
        Input4::new(qc, ql)?,
        Input4::new(kc, kl)?,
        Input4::new(vc, vl)?,
    ];
    op.check(&inputs)?;
    let [b, h, l, d] = inputs[0].dims;
    let results: Vec<(Vec<f32>, Vec<f32>)> = (0..b * h)
        .into_par_iter()
        .map_init(Vec::new, |scores, task| {
            let context = op.head_context(
                [&inputs[0], &inputs[1], &inputs[2]],
                (task / h, task % h),
                scores,
            );
            (context, scores.clone())
        })
        .collect();
    let mut probs = Vec::with_capacity(b * h * l * l);
    for (_, p) in &results {
        probs.extend_from_slice(p);
    }
    let contexts: Vec<&[f32]> = results.iter().map(|(c, _)| c.as_slice()).collect();
    let out = scatter_contexts(&contexts, [b, h, l, d]);
    let device = q.device();
    Ok((
        Tensor::from_vec(out, (b, l, h, d), device)?,
        Tensor::from_vec(probs, (b, h, l, l), device)?,
    ))
}

/// Each `(b, h)` task's `(L, D)` context into its head's columns of a `(B, L, H, D)` buffer.
fn scatter_contexts(contexts: &[&[f32]], [b, h, l, d]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0f32; b * l * h * d];
    for (task, context) in contexts.iter().enumerate() {
        let (bi, hi) = (task / h, task % h);
        for (i, row) in context.chunks(d.max(1)).enumerate() {
            let at = ((bi * l + i) * h + hi) * d;
            out[at..at + d].copy_from_slice(row);
        }
    }
    out
}

/// `softmax(q kᵀ + bias)`: `(B, H, L, L)`, with candle ops (reference and backward pass).
fn composed_probabilities(
    q: &Tensor,
    k: &Tensor,
    bias: Option<&Tensor>,
) -> candle_core::Result<Tensor> {
    let mut scores = q.contiguous()?.matmul(&k.contiguous()?.t()?)?;
    if let Some(bias) = bias {
        scores = scores.broadcast_add(bias)?;
    }
    super::kernels::softmax_last_dim(&scores)
}

struct FusedAttention {
    /// `(B, 1, 1, L)` for the backward pass.
    bias: Option<Tensor>,
    /// The same bias flattened to `B × L` values for the kernel.
    bias_rows: Option<Vec<f32>>,
}

/// One `(rows, cols)` matrix inside a flat f32 buffer: element `(i, j)` at
/// `offset + i·row_stride + j·col_stride`.
#[derive(Clone, Copy)]
struct MatrixView<'a> {
    data: &'a [f32],
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl MatrixView<'_> {
    /// True when every element lies inside `data` (checked before any GEMM reads it).
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }

    /// The transposed view (no copy).
    fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `out (m × n, row-major, contiguous) = lhs (m × k) · rhs (k × n)` on the calling thread.
///
/// Panics when the shapes disagree or a view reaches outside its buffer: the bounds are
/// checked here, so the unchecked GEMM below never reads or writes out of bounds.
fn matmul_into(out: &mut [f32], lhs: MatrixView, rhs: MatrixView) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert!(rhs.rows == k && out.len() == m * n && lhs.in_bounds() && rhs.in_bounds());
    if m == 0 || n == 0 {
        return;
    }
    #[allow(unsafe_code)]
    // SAFETY: `out` holds exactly m·n elements written with strides (n, 1); every element of
    // `lhs` and `rhs` lies inside its slice (asserted above); the three buffers are distinct
    // borrows, so nothing aliases; `Parallelism::None` keeps the work on this thread.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.data.as_ptr().add(lhs.offset),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr().add(rhs.offset),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The f32 data of a 4-D input and the `(b, h)` matrix view builder over it.
struct Input4<'a> {
    data: &'a [f32],
    start: usize,
    dims: [usize; 4],
    strides: [usize; 4],
}

impl<'a> Input4<'a> {
    fn new(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<Self> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("fused attention: only f32 is supported")
        };
        let (b, h, l, d) = layout.shape().dims4()?;
        let s = layout.stride();
        Ok(Self {
            data,
            start: layout.start_offset(),
            dims: [b, h, l, d],
            strides: [s[0], s[1], s[2], s[3]],
        })
    }

    /// Head `h` of batch row `b`: an `(L, D)` view.
    fn matrix(&self, b: usize, h: usize) -> MatrixView<'a> {
        MatrixView {
            data: self.data,
            offset: self.start + b * self.strides[0] + h * self.strides[1],
            rows: self.dims[2],
            cols: self.dims[3],
            row_stride: self.strides[2],
            col_stride: self.strides[3],
        }
    }
}

impl FusedAttention {
    /// Refuses inputs the kernel cannot read: shapes that differ, or a bias of another size.
    fn check(&self, [q, k, v]: &[Input4; 3]) -> candle_core::Result<()> {
        let [b, _, l, _] = q.dims;
        if k.dims != q.dims || v.dims != q.dims {
            candle_core::bail!("fused attention: q, k, v shapes differ")
        }
        if self.bias_rows.as_ref().is_some_and(|r| r.len() != b * l) {
            candle_core::bail!("fused attention: the bias must be (batch, 1, 1, seq_len)")
        }
        Ok(())
    }

    /// The `(L, D)` context of one `(b, h)`; `scores` is `L × L` scratch.
    fn head_context(
        &self,
        [q, k, v]: [&Input4; 3],
        (b, h): (usize, usize),
        scores: &mut Vec<f32>,
    ) -> Vec<f32> {
        let [_, _, l, d] = q.dims;
        scores.resize(l * l, 0.0);
        matmul_into(scores, q.matrix(b, h), k.matrix(b, h).t());
        with_wide_simd(|| {
            for row in scores.chunks_mut(l) {
                if let Some(bias) = &self.bias_rows {
                    for (s, m) in row.iter_mut().zip(&bias[b * l..(b + 1) * l]) {
                        *s += m;
                    }
                }
                softmax_row(row);
            }
        });
        let probs = MatrixView {
            data: scores,
            offset: 0,
            rows: l,
            cols: l,
            row_stride: l,
            col_stride: 1,
        };
        let mut context = vec![0.0; l * d];
        matmul_into(&mut context, probs, v.matrix(b, h));
        context
    }
}

impl CustomOp3 for FusedAttention {
    fn name(&self) -> &'static str {
        "esm-fused-attention"
    }

    fn cpu_fwd(
        &self,
        q: &CpuStorage,
        q_layout: &Layout,
        k: &CpuStorage,
        k_layout: &Layout,
        v: &CpuStorage,
        v_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let inputs = [
            Input4::new(q, q_layout)?,
            Input4::new(k, k_layout)?,
            Input4::new(v, v_layout)?,
        ];
        self.check(&inputs)?;
        let [q, k, v] = &inputs;
        let [b, h, l, d] = q.dims;
        let contexts: Vec<Vec<f32>> = (0..b * h)
            .into_par_iter()
            .map_init(Vec::new, |scores, task| {
                self.head_context([q, k, v], (task / h, task % h), scores)
            })
            .collect();
        let views: Vec<&[f32]> = contexts.iter().map(Vec::as_slice).collect();
        let out = scatter_contexts(&views, [b, h, l, d]);
        Ok((CpuStorage::F32(out), Shape::from((b, l, h, d))))
    }

    /// With `P = softmax(q kᵀ + bias)` and `g` the context gradient as `(B, H, L, D)`:
    /// `dv = Pᵀ g`, `dS = P ⊙ (g vᵀ − rowsum(g vᵀ ⊙ P))`, `dq = dS k`, `dk = dSᵀ q`.
    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (q, k, v) = (q.contiguous()?, k.contiguous()?, v.contiguous()?);
        let g = grad_res.transpose(1, 2)?.contiguous()?;
        let p = composed_probabilities(&q, &k, self.bias.as_ref())?;
        let grad_v = p.t()?.matmul(&g)?;
        let grad_p = g.matmul(&v.t()?)?;
        let row_dot = (&grad_p * &p)?.sum_keepdim(D::Minus1)?;
        let grad_s = (grad_p.broadcast_sub(&row_dot)? * &p)?;
        let grad_q = grad_s.matmul(&k)?;
        let grad_k = grad_s.t()?.matmul(&q)?;
        Ok((Some(grad_q), Some(grad_k), Some(grad_v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, IndexOp as _, Var};

    /// q, k, v as strided views of one fused `(B, L, 3E)` projection, like the model's.
    fn projections(b: usize, l: usize, h: usize, d: usize) -> candle_core::Result<[Tensor; 3]> {
        let e = h * d;
        let qkv = Tensor::randn(0f32, 1.0, (b, l, 3 * e), &Device::Cpu)?;
        let heads = qkv.reshape((b, l, 3, h, d))?;
        let split =
            |i: usize| -> candle_core::Result<Tensor> { heads.i((.., .., i))?.transpose(1, 2) };
        Ok([split(0)?, split(1)?, split(2)?])
    }

    fn padding(b: usize, l: usize) -> candle_core::Result<Tensor> {
        // Row 0 is full; the others are padded after l - 3 tokens.
        let values: Vec<f32> = (0..b * l)
            .map(|i| {
                if i >= l && i % l >= l - 3 {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
            .collect();
        Tensor::from_vec(values, (b, 1, 1, l), &Device::Cpu)
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> candle_core::Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    }

    #[test]
    fn the_probabilities_are_the_composed_ones_and_the_context_unchanged() -> candle_core::Result<()>
    {
        let (b, l, h, d) = (2, 29, 3, 8);
        let [q, k, v] = projections(b, l, h, d)?;
        let bias = padding(b, l)?;
        let (context, probs) = attention_context_and_probabilities(&q, &k, &v, Some(&bias))?;
        assert_eq!(probs.dims(), &[b, h, l, l]);
        assert!(max_diff(&probs, &composed_probabilities(&q, &k, Some(&bias))?)? < 1e-6);
        assert!(max_diff(&context, &attention_context(&q, &k, &v, Some(&bias))?)? == 0.0);
        Ok(())
    }

    #[test]
    fn fused_equals_the_composed_ops_on_strided_views() -> candle_core::Result<()> {
        let (b, l, h, d) = (3, 37, 4, 8);
        let [q, k, v] = projections(b, l, h, d)?;
        assert!(!q.is_contiguous());
        let bias = padding(b, l)?;
        let fused = attention_context(&q, &k, &v, Some(&bias))?;
        let want = composed_probabilities(&q, &k, Some(&bias))?
            .matmul(&v.contiguous()?)?
            .transpose(1, 2)?;
        assert_eq!(fused.dims(), &[b, l, h, d]);
        assert!(max_diff(&fused, &want)? < 1e-5);
        let unpadded = attention_context(&q, &k, &v, None)?;
        let want = composed_probabilities(&q, &k, None)?
            .matmul(&v.contiguous()?)?
            .transpose(1, 2)?;
        assert!(max_diff(&unpadded, &want)? < 1e-5);
        Ok(())
    }

    #[test]
    fn fused_gradients_equal_the_composed_ones() -> candle_core::Result<()> {
        let (b, l, h, d) = (2, 11, 3, 4);
        let dev = Device::Cpu;
        let vars = [
            Var::randn(0f32, 1.0, (b, h, l, d), &dev)?,
            Var::randn(0f32, 1.0, (b, h, l, d), &dev)?,
            Var::randn(0f32, 1.0, (b, h, l, d), &dev)?,
        ];
        let bias = padding(b, l)?;
        let weights = Tensor::randn(0f32, 1.0, (b, l, h, d), &dev)?;
        let fused = attention_context(&vars[0], &vars[1], &vars[2], Some(&bias))?;
        let fused_grads = (fused * &weights)?.sum_all()?.backward()?;
        let composed = composed_probabilities(&vars[0], &vars[1], Some(&bias))?
            .matmul(&vars[2])?
            .transpose(1, 2)?;
        let composed_grads = (composed * &weights)?.sum_all()?.backward()?;
        for var in &vars {
            let (Some(a), Some(c)) = (fused_grads.get(var), composed_grads.get(var)) else {
                panic!("missing gradient");
            };
            assert!(
                max_diff(a, c)? < 1e-4,
                "gradient differs by {}",
                max_diff(a, c)?
            );
        }
        Ok(())
    }
}
