//! CPU kernels where candle's generic ops leave speed on the table at ESM shapes:
//! a row-parallel softmax and an erf-GELU, both built on a polynomial `exp` that the compiler
//! vectorises on plain x86-64 (no libm calls in the inner loops).
//!
//! Accuracy: `exp` relative error < 2e-7; `erf` absolute error < 1.5e-7 (Abramowitz & Stegun
//! 7.1.26); well inside the 1e-4 parity budget with fair-esm.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

/// `exp(x)` in f32; 0 below -87 (so `-inf` masks give exactly 0), saturating above 88.3.
#[inline(always)]
#[allow(clippy::manual_clamp)] // compare-and-select vectorises; `f32::clamp` carries NaN/assert semantics
pub fn fast_exp(x: f32) -> f32 {
    // n = round(x / ln 2) lands in the low mantissa bits of t (the 1.5 * 2^23 + 127 trick), so
    // `t.to_bits() << 23` is the bit pattern of 2^n: no float->int casts, so the loop vectorises.
    const SHIFT: f32 = 12_582_912.0 + 127.0;
    let xc = if x < -87.0 { -87.0 } else if x > 88.3 { 88.3 } else { x };
    let t = xc * std::f32::consts::LOG2_E + SHIFT;
    let n = t - SHIFT;
    let r = xc - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_66;
    p = p * r + 0.5;
    p = p * r * r + r + 1.0;
    let e = p * f32::from_bits(t.to_bits() << 23);
    if x < -87.0 { 0.0 } else { e }
}

/// `erf(x)`, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
#[inline(always)]
pub fn fast_erf(x: f32) -> f32 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6) * t;
    let y = 1.0 - poly * fast_exp(-z * z);
    if x < 0.0 { -y } else { y }
}

const LANES: usize = 8;

/// Folds a slice with `LANES` independent accumulators (vectorisable without fast-math).
#[inline(always)]
fn lane_fold(row: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] = f(acc[i], c[i]);
        }
    }
    let mut r = init;
    for a in acc {
        r = f(r, a);
    }
    for &v in rest {
        r = f(r, v);
    }
    r
}

/// In-place softmax of one row.
fn softmax_row(row: &mut [f32]) {
    let max = lane_fold(row, f32::NEG_INFINITY, |a, b| if b > a { b } else { a });
    for v in row.iter_mut() {
        *v = fast_exp(*v - max);
    }
    let inv = 1.0 / lane_fold(row, 0.0, |a, b| a + b);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// Rows per rayon task.
const ROWS_PER_TASK: usize = 64;

/// Copies the contiguous f32 data of `storage` or fails with the op's name.
fn contiguous_f32(op: &str, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<Vec<f32>> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{op}: only f32 is supported")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: input must be contiguous")
    };
    Ok(data[start..end].to_vec())
}

struct SoftmaxLastDim;

impl CustomOp1 for SoftmaxLastDim {
    fn name(&self) -> &'static str {
        "esm-softmax-last-dim"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let mut data = contiguous_f32(self.name(), storage, layout)?;
        let cols = layout.dims().last().copied().unwrap_or(1).max(1);
        data.par_chunks_mut(cols * ROWS_PER_TASK)
            .for_each(|rows| rows.chunks_mut(cols).for_each(softmax_row));
        Ok((CpuStorage::F32(data), layout.shape().clone()))
    }
}

struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "esm-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let mut data = contiguous_f32(self.name(), storage, layout)?;
        data.par_chunks_mut(1 << 14).for_each(|chunk| {
            for v in chunk.iter_mut() {
                *v = 0.5 * *v * (1.0 + fast_erf(*v * std::f32::consts::FRAC_1_SQRT_2));
            }
        });
        Ok((CpuStorage::F32(data), layout.shape().clone()))
    }
}

/// Softmax over the last dimension. Parallel f32 kernel on the CPU, candle's op elsewhere.
pub fn softmax_last_dim(xs: &Tensor) -> candle_core::Result<Tensor> {
    if xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
        xs.contiguous()?.apply_op1_no_bwd(&SoftmaxLastDim)
    } else {
        candle_nn::ops::softmax_last_dim(xs)
    }
}

/// Exact (erf) GELU, `x * Φ(x)`, as fair-esm's `gelu`. Parallel f32 kernel on the CPU.
pub fn gelu_erf(xs: &Tensor) -> candle_core::Result<Tensor> {
    if xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32 {
        xs.contiguous()?.apply_op1_no_bwd(&GeluErf)
    } else {
        xs.gelu_erf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn exp_and_erf_are_accurate() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.04;
            let rel = (fast_exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 3e-7, "exp({x}): rel err {rel}");
        }
        assert_eq!(fast_exp(f32::NEG_INFINITY), 0.0);
        // erf reference values (Abramowitz & Stegun table 7.1).
        for (x, want) in [(0.0f32, 0.0f32), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3), (-1.0, -0.842_700_8)] {
            assert!((fast_erf(x) - want).abs() < 2e-7, "erf({x}) = {}", fast_erf(x));
        }
    }

    #[test]
    fn kernels_match_candle() -> candle_core::Result<()> {
        let d = Device::Cpu;
        let xs = (Tensor::arange(0f32, 3000., &d)?.reshape((3, 1000))?.sin()? * 8.0)?;
        let diff = |a: Tensor, b: Tensor| -> candle_core::Result<f32> {
            (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
        };
        assert!(diff(softmax_last_dim(&xs)?, candle_nn::ops::softmax_last_dim(&xs)?)? < 1e-7);
        assert!(diff(gelu_erf(&xs)?, xs.gelu_erf()?)? < 1e-5);
        // Masked (-inf) entries get exactly zero probability.
        let masked = Tensor::new(&[[1f32, f32::NEG_INFINITY, 2.0]], &d)?;
        assert_eq!(softmax_last_dim(&masked)?.to_vec2::<f32>()?[0][1], 0.0);
        Ok(())
    }
}
