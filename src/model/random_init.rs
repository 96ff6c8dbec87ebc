//! Random-weight checkpoints of any size, for benchmarks and the untrained baseline.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};

use super::checkpoint::{Checkpoint, CheckpointFormat, CheckpointSource};
use super::config::EsmConfig;
use super::error::Result;
use super::tensor_shapes::{Heads, expected_shapes};
use crate::rng::SplitMix64;

impl Checkpoint {
    /// A checkpoint with random weights for `config`: N(0, 0.02) matrices (BERT's initialiser),
    /// unit LayerNorm weights, zero biases, with a contact head. Deterministic for a given `seed`.
    pub fn random(config: EsmConfig, seed: u64) -> Result<Self> {
        let device = Device::Cpu;
        let mut rng = SplitMix64::new(seed);
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
