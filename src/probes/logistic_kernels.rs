//! The inner loops of [`super::logistic`]'s fused objective: 8 rows at a time against a block
//! of 8 classes (one AVX register of `f32`), with an AVX2 + FMA version chosen at run time and
//! a portable one.

/// Classes per SIMD block (one AVX register of `f32`).
pub(super) const LANES: usize = 8;
/// Rows processed together (independent accumulators for the FMA pipes).
pub(super) const ROWS: usize = 8;

/// One block of class values.
pub(super) type Block = [f32; LANES];

/// The two inner loops of an evaluation, for one block of 8 classes and `ROWS` rows.
pub(super) trait Kernels: Copy {
    /// `out[r] = bias + Σ_d xs[r][d] · w[d]`.
    fn logits(self, xs: &[&[f32]; ROWS], w: &[Block], bias: &Block, out: &mut [Block; ROWS]);
    /// `grad[d] += Σ_r xs[r][d] · g[r]`.
    fn gradient(self, xs: &[&[f32]; ROWS], g: &[Block; ROWS], grad: &mut [Block]);
}

/// Plain loops (any CPU).
#[derive(Clone, Copy)]
pub(super) struct Portable;

impl Kernels for Portable {
    #[inline(always)]
    fn logits(self, xs: &[&[f32]; ROWS], w: &[Block], bias: &Block, out: &mut [Block; ROWS]) {
        let dim = w.len();
        let xs: [&[f32]; ROWS] = std::array::from_fn(|r| &xs[r][..dim]);
        let mut acc = [[0f32; LANES]; ROWS];
        for (d, wd) in w.iter().enumerate() {
            for r in 0..ROWS {
                let xv = xs[r][d];
                for l in 0..LANES {
                    acc[r][l] += xv * wd[l];
                }
            }
        }
        for r in 0..ROWS {
            for l in 0..LANES {
                out[r][l] = acc[r][l] + bias[l];
            }
        }
    }

    #[inline(always)]
    fn gradient(self, xs: &[&[f32]; ROWS], g: &[Block; ROWS], grad: &mut [Block]) {
        let dim = grad.len();
        let xs: [&[f32]; ROWS] = std::array::from_fn(|r| &xs[r][..dim]);
        for (d, gd) in grad.iter_mut().enumerate() {
            for r in 0..ROWS {
                let xv = xs[r][d];
                for l in 0..LANES {
                    gd[l] += xv * g[r][l];
                }
            }
        }
    }
}

/// AVX2 + FMA: a block of 8 classes is one register; `ROWS` accumulators stay in registers.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2(pub(super) pulp::x86::V3);

#[cfg(target_arch = "x86_64")]
impl Kernels for Avx2 {
    #[inline(always)]
    fn logits(self, xs: &[&[f32]; ROWS], w: &[Block], bias: &Block, out: &mut [Block; ROWS]) {
        use pulp::{bytemuck::cast, f32x8};
        let simd = self.0;
        let dim = w.len();
        let xs: [&[f32]; ROWS] = std::array::from_fn(|r| &xs[r][..dim]);
        let mut acc = [simd.splat_f32x8(0.0); ROWS];
        for d in 0..dim {
            let wd: f32x8 = cast(w[d]);
            for r in 0..ROWS {
                acc[r] = simd.mul_add_f32x8(simd.splat_f32x8(xs[r][d]), wd, acc[r]);
            }
        }
        let b: f32x8 = cast(*bias);
        for r in 0..ROWS {
            out[r] = cast(simd.add_f32x8(acc[r], b));
        }
    }

    #[inline(always)]
    fn gradient(self, xs: &[&[f32]; ROWS], g: &[Block; ROWS], grad: &mut [Block]) {
        use pulp::{bytemuck::cast, f32x8};
        let simd = self.0;
        let dim = grad.len();
        let xs: [&[f32]; ROWS] = std::array::from_fn(|r| &xs[r][..dim]);
        let g: [f32x8; ROWS] = std::array::from_fn(|r| cast(g[r]));
        for d in 0..dim {
            let mut acc: f32x8 = cast(grad[d]);
            for r in 0..ROWS {
                acc = simd.mul_add_f32x8(simd.splat_f32x8(xs[r][d]), g[r], acc);
            }
            grad[d] = cast(acc);
        }
    }
}

/// Softmax of row `r` over the real classes; writes `p - onehot(label)` into `g` and returns
/// the row's cross-entropy (f64).
#[inline(always)]
pub(super) fn softmax_residual(
    logits: &[[Block; ROWS]],
    r: usize,
    label: usize,
    classes: usize,
    g: &mut [[Block; ROWS]],
) -> f64 {
    let logit = |c: usize| logits[c / LANES][r][c % LANES];
    let max = (0..classes).map(logit).fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f64;
    for c in 0..classes {
        let e = (logit(c) - max).exp();
        g[c / LANES][r][c % LANES] = e;
        sum += f64::from(e);
    }
    let inv = (1.0 / sum) as f32;
    for c in 0..classes {
        g[c / LANES][r][c % LANES] *= inv;
    }
    g[label / LANES][r][label % LANES] -= 1.0;
    sum.ln() + f64::from(max) - f64::from(logit(label))
}
