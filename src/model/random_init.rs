//! Random-weight checkpoints of any size, for benchmarks and the untrained baseline.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};

use super::checkpoint::{Checkpoint, CheckpointFormat, CheckpointSource, Heads, expected_shapes};
use super::config::EsmConfig;
use super::error::Result;

impl Checkpoint {
    /// A checkpoint with random weights for `config`: N(0, 0.02) matrices (BERT's initialiser),
    /// unit LayerNorm weights, zero biases, with a contact head. Deterministic for a given `seed`.
    pub fn random(config: EsmConfig, seed: u64) -> Result<Self> {
        let device = Device::Cpu;
        let mut rng = SplitMix64(seed);
        let mut tensors = HashMap::new();
        for (name, shape) in expected_shapes(&config, Heads::ALL) {
            let is_norm = name.contains("layer_norm");
            let tensor = if is_norm && name.ends_with("weight") {
                Tensor::ones(shape, DType::F32, &device)?
            } else if name.ends_with("bias") {
                Tensor::zeros(shape, DType::F32, &device)?
            } else {
                let n: usize = shape.iter().product();
                Tensor::from_vec(rng.normals(n, 0.02), shape, &device)?
            };
            tensors.insert(name, tensor);
        }
        Ok(Self {
            config,
            tensors,
            source: CheckpointSource {
                path: PathBuf::from(format!("random-seed-{seed}")),
                format: CheckpointFormat::Workbench,
                contact_regression_path: None,
                ignored_tensors: vec![],
            },
        })
    }
}

/// splitmix64: a small, fast, seedable generator (candle cannot seed its CPU RNG).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 1.0) / (1u64 << 24) as f32
    }

    /// `n` samples of N(0, std²) by the Box-Muller transform.
    fn normals(&mut self, n: usize, std: f32) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let (u1, u2) = (self.unit(), self.unit());
            let r = (-2.0 * u1.ln()).sqrt() * std;
            let theta = std::f32::consts::TAU * u2;
            out.push(r * theta.cos());
            out.push(r * theta.sin());
        }
        out.truncate(n);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_the_requested_spread() {
        let xs = SplitMix64(7).normals(100_000, 0.02);
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(mean.abs() < 5e-4, "{mean}");
        assert!((var.sqrt() - 0.02).abs() < 5e-4, "{}", var.sqrt());
        assert_eq!(SplitMix64(7).normals(3, 1.0), SplitMix64(7).normals(3, 1.0));
    }
}
