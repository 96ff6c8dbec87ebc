//! The paper's supervised contact probe (Rives et al. 2021, "Residue-residue contacts"): each
//! residue's standardised representation is projected to `rank` dimensions by one learned
//! linear map `W`, and a pair is scored by the scaled dot product of the projections,
//! `s_ij = (W x_i) . (W x_j) / sqrt(rank) + b` (symmetric by construction). Trained with AdamW
//! on the weighted logistic loss over sampled pairs ([`super::contact_pairs`]: every contact and
//! a weighted sample of non-contacts, `|i - j| >= 6`, both residues observed), one protein per
//! step. The gradients are computed in closed form (three matrix products and one pass over the
//! sampled pairs), never over `L x L` matrices.

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer as _, ParamsAdamW};

use super::contact_pairs::{
    DEFAULT_NEGATIVES_PER_POSITIVE, MIN_SEPARATION, SampledPairs, sample_pairs,
};
use crate::data::ContactMap;
use crate::jobs::{Cancelled, JobCtx};
use crate::rng::SplitMix64;

/// Training options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContactProbeParams {
    /// Width of the projection.
    pub rank: usize,
    /// Passes over the training proteins.
    pub epochs: usize,
    /// AdamW step size.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Seed of the initial projection, the protein order and the pair sample.
    pub seed: u64,
    /// Non-contacts sampled per contact (0: every pair, the dense loss).
    #[serde(default = "default_negatives_per_positive")]
    pub negatives_per_positive: usize,
}

fn default_negatives_per_positive() -> usize {
    DEFAULT_NEGATIVES_PER_POSITIVE
}

impl Default for ContactProbeParams {
    fn default() -> Self {
        Self {
            rank: 64,
            epochs: 20,
            learning_rate: 1e-3,
            weight_decay: 1e-2,
            seed: 0,
            negatives_per_positive: DEFAULT_NEGATIVES_PER_POSITIVE,
        }
    }
}

/// Errors of the contact probe.
#[derive(Debug, thiserror::Error)]
pub enum ContactProbeError {
    /// No usable training protein.
    #[error(
        "no training protein has a pair at |i - j| >= {MIN_SEPARATION} with both residues observed"
    )]
    NoTrainingPairs,
    /// Representations and contact maps disagree.
    #[error("protein {index}: {reason}")]
    Shape {
        /// Position in the training list.
        index: usize,
        /// What disagrees.
        reason: String,
    },
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The user stopped training.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// A fitted probe.
#[derive(Debug, Clone)]
pub struct ContactProbe {
    /// Per-feature mean of the training residues, `(dim,)`.
    pub mean: Tensor,
    /// Per-feature standard deviation (1 where constant), `(dim,)`.
    pub scale: Tensor,
    /// The projection `W`, `(dim, rank)`.
    pub projection: Tensor,
    /// The bias `b`, `()`.
    pub bias: Tensor,
    /// Mean training loss of each epoch (nats per pair).
    pub epoch_losses: Vec<f64>,
}

/// One training protein: standardised representations and its sampled pairs.
#[derive(Debug, Clone)]
pub struct TrainingChain {
    /// `(L, dim)` f32, standardised with the probe's mean and scale.
    pub features: Tensor,
    /// Pairs to train on.
    pub pairs: SampledPairs,
}

/// Standardises `rows` (row-major `(n, dim)` f32) in place and returns the per-feature mean
/// and standard deviation (1 where a feature is constant). Accumulates in f64, no copy.
pub fn standardise_in_place(rows: &mut [f32], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = rows.len() / dim.max(1);
    let mut sum = vec![0f64; dim];
    let mut square = vec![0f64; dim];
    for row in rows.chunks_exact(dim) {
        for ((s, q), &v) in sum.iter_mut().zip(&mut square).zip(row) {
            *s += f64::from(v);
            *q += f64::from(v) * f64::from(v);
        }
    }
    let count = n.max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / count) as f32).collect();
    let scale: Vec<f32> = sum
        .iter()
        .zip(&square)
        .map(|(s, q)| {
            let variance = (q / count - (s / count).powi(2)).max(0.0);
            if variance < 1e-12 {
                1.0
            } else {
                (variance.sqrt() as f32).max(1e-6)
            }
        })
        .collect();
    use rayon::prelude::*;
    rows.par_chunks_mut(dim.max(1)).for_each(|row| {
        for ((v, m), s) in row.iter_mut().zip(&mean).zip(&scale) {
            *v = (*v - m) / s;
        }
    });
    (mean, scale)
}

impl ContactProbe {
    /// Trains on `(representations (L, dim), contact map of L residues)` pairs: standardises,
    /// samples each protein's pairs (`params.negatives_per_positive`) and calls
    /// [`Self::fit_standardised`].
    pub fn fit(
        train: &[(Tensor, ContactMap)],
        params: &ContactProbeParams,
        ctx: &JobCtx,
    ) -> Result<Self, ContactProbeError> {
        for (index, (reps, map)) in train.iter().enumerate() {
            if reps.dims().first() != Some(&map.len) {
                return Err(ContactProbeError::Shape {
                    index,
                    reason: format!("{:?} representations for {} residues", reps.dims(), map.len),
                });
            }
        }
        let samples: Vec<SampledPairs> = train
            .iter()
            .enumerate()
            .map(|(i, (_, map))| pair_sample(map, params, i))
            .collect();
        let used: Vec<usize> = (0..train.len())
            .filter(|&i| !samples[i].is_empty())
            .collect();
        if used.is_empty() {
            return Err(ContactProbeError::NoTrainingPairs);
        }
        let all = Tensor::cat(&used.iter().map(|&i| &train[i].0).collect::<Vec<_>>(), 0)?
            .to_dtype(DType::F32)?;
        let dim = all.dim(1)?;
        let mut rows = all.flatten_all()?.to_vec1::<f32>()?;
        let (mean, scale) = standardise_in_place(&mut rows, dim);
        let all = Tensor::from_vec(rows, (rows_len(&used, train), dim), &Device::Cpu)?;
        let mut offset = 0;
        let chains = used
            .iter()
            .map(|&i| {
                let len = train[i].1.len;
                let features = all.narrow(0, offset, len)?;
                offset += len;
                Ok(TrainingChain {
                    features,
                    pairs: samples[i].clone(),
                })
            })
            .collect::<Result<Vec<_>, candle_core::Error>>()?;
        Self::fit_standardised(&chains, (mean, scale), params, ctx)
    }

    /// Trains on standardised proteins; `(mean, scale)` (each `dim` long) are kept for
    /// [`Self::predict`]. Progress is the fraction of steps done; a cancel stops at the next
    /// protein.
    pub fn fit_standardised(
        train: &[TrainingChain],
        (mean, scale): (Vec<f32>, Vec<f32>),
        params: &ContactProbeParams,
        ctx: &JobCtx,
    ) -> Result<Self, ContactProbeError> {
        let usable: Vec<&TrainingChain> = train.iter().filter(|c| !c.pairs.is_empty()).collect();
        let Some(first) = usable.first() else {
            return Err(ContactProbeError::NoTrainingPairs);
        };
        let device = Device::Cpu;
        let dim = first.features.dim(1)?;
        let mut rng = SplitMix64::new(params.seed);
        let init = Tensor::from_vec(
            rng.normals(dim * params.rank, 1.0 / (dim as f32).sqrt()),
            (dim, params.rank),
            &device,
        )?;
        let projection = Var::from_tensor(&init)?;
        let bias = Var::from_tensor(&Tensor::new(-3.0f32, &device)?)?;
        let mut optimizer = AdamW::new(
            vec![projection.clone(), bias.clone()],
            ParamsAdamW {
                lr: params.learning_rate,
                weight_decay: params.weight_decay,
                ..ParamsAdamW::default()
            },
        )?;
        let total_steps = params.epochs * usable.len();
        let mut epoch_losses = Vec::with_capacity(params.epochs);
        let mut order: Vec<usize> = (0..usable.len()).collect();
        for epoch in 0..params.epochs {
            rng.shuffle(&mut order);
            let mut sum = 0.0;
            for (k, &i) in order.iter().enumerate() {
                let chain = usable[i];
                let step = step_gradients(
                    &chain.features,
                    &chain.pairs,
                    projection.as_tensor(),
                    bias.as_tensor(),
                )?;
                let mut grads = candle_core::backprop::GradStore::default();
                grads.insert(projection.as_tensor(), step.projection);
                grads.insert(bias.as_tensor(), step.bias);
                optimizer.step(&grads)?;
                sum += step.loss;
                ctx.checkpoint((epoch * usable.len() + k + 1) as f32 / total_steps as f32)?;
            }
            epoch_losses.push(sum / usable.len() as f64);
        }
        Ok(Self {
            mean: Tensor::from_vec(mean, dim, &device)?,
            scale: Tensor::from_vec(scale, dim, &device)?,
            projection: projection.as_tensor().detach(),
            bias: bias.as_tensor().detach(),
            epoch_losses,
        })
    }

    /// Contact probabilities, row-major `L x L`, for representations `(L, dim)`.
    pub fn predict(&self, representations: &Tensor) -> Result<Vec<f32>, candle_core::Error> {
        let x = representations
            .to_dtype(DType::F32)?
            .broadcast_sub(&self.mean)?
            .broadcast_div(&self.scale)?;
        candle_nn::ops::sigmoid(&pair_logits(&x, &self.projection, &self.bias)?)?
            .flatten_all()?
            .to_vec1::<f32>()
    }
}

/// The pair sample of training protein `index` (seeded by the probe's seed and the index).
pub fn pair_sample(map: &ContactMap, params: &ContactProbeParams, index: usize) -> SampledPairs {
    let seed = params.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    sample_pairs(map, params.negatives_per_positive, seed)
}

fn rows_len(used: &[usize], train: &[(Tensor, ContactMap)]) -> usize {
    used.iter().map(|&i| train[i].1.len).sum()
}

/// `(L, L)` scores `(x W)(x W)^T / sqrt(rank) + b` for standardised `x` `(L, dim)`.
fn pair_logits(x: &Tensor, projection: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    let z = x.matmul(projection)?;
    let rank = projection.dim(D::Minus1)? as f64;
    (z.matmul(&z.t()?)? / rank.sqrt())?.broadcast_add(bias)
}

/// One protein's loss (weighted mean over its sampled pairs) and its gradients.
struct StepGradients {
    loss: f64,
    /// `(dim, rank)`.
    projection: Tensor,
    /// `()`.
    bias: Tensor,
}

/// Loss and gradients of one protein in closed form: with `z = x W` `(L, rank)` and
/// `s_ij = z_i . z_j / sqrt(rank) + b` on the sampled pairs, the weighted mean logistic loss has
/// `g_ij = w_ij (sigmoid(s_ij) - y_ij) / Σw`, `∂/∂b = Σ g`, `∂/∂z_i = Σ_j g_ij z_j / sqrt(rank)`
/// (and symmetrically for `j`), `∂/∂W = xᵀ ∂/∂z`. Two matrix products and one pass over the
/// pairs.
fn step_gradients(
    x: &Tensor,
    pairs: &SampledPairs,
    projection: &Tensor,
    bias: &Tensor,
) -> candle_core::Result<StepGradients> {
    let n = x.dim(0)?;
    let rank = projection.dim(D::Minus1)?;
    let inv_sqrt_rank = 1.0 / (rank as f32).sqrt();
    let z = x.matmul(projection)?.flatten_all()?.to_vec1::<f32>()?;
    let b = bias.to_scalar::<f32>()?;
    let norm = 1.0 / pairs.weight_sum().max(1.0) as f32;
    let mut dz = vec![0f32; n * rank];
    let (mut loss, mut g_sum) = (0f64, 0f64);
    for ((&(i, j), &positive), &w) in pairs.pairs.iter().zip(&pairs.positive).zip(&pairs.weights) {
        let (i, j) = (i as usize * rank, j as usize * rank);
        let (zi, zj) = (&z[i..i + rank], &z[j..j + rank]);
        let s = zi.iter().zip(zj).map(|(a, b)| a * b).sum::<f32>() * inv_sqrt_rank + b;
        let y = if positive { 1.0 } else { 0.0 };
        // e = exp(-|s|): sigmoid and softplus from one exponential, stably.
        let e = (-s.abs()).exp();
        let sigmoid = if s >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        loss += f64::from(w * (s.max(0.0) - y * s + e.ln_1p()));
        let g = w * (sigmoid - y) * norm;
        g_sum += f64::from(g);
        let scaled = g * inv_sqrt_rank;
        for r in 0..rank {
            dz[i + r] += scaled * z[j + r];
            dz[j + r] += scaled * z[i + r];
        }
    }
    let dz = Tensor::from_vec(dz, (n, rank), x.device())?;
    Ok(StepGradients {
        loss: loss * f64::from(norm),
        projection: x.t()?.matmul(&dz)?,
        bias: Tensor::new(g_sum as f32, x.device())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Features that encode a hidden 2-D position; contacts are pairs closer than 1.5.
    fn synthetic(len: usize, seed: u64) -> (Tensor, ContactMap) {
        let mut rng = SplitMix64::new(seed);
        let coords: Vec<(f32, f32)> = (0..len)
            .map(|_| (4.0 * rng.unit(), 4.0 * rng.unit()))
            .collect();
        let mut features = Vec::new();
        for &(x, y) in &coords {
            features.extend([x, y, x * x + y * y, 1.0]);
            features.extend(rng.normals(4, 0.1));
        }
        let mut contacts = vec![false; len * len];
        let mut distances = vec![0.0; len * len];
        for i in 0..len {
            for j in 0..len {
                let d = ((coords[i].0 - coords[j].0).powi(2) + (coords[i].1 - coords[j].1).powi(2))
                    .sqrt();
                distances[i * len + j] = d;
                contacts[i * len + j] = d < 1.5;
            }
        }
        let reps = Tensor::from_vec(features, (len, 8), &Device::Cpu).expect("tensor");
        (
            reps,
            ContactMap {
                len,
                contacts,
                valid: vec![true; len],
                distances,
            },
        )
    }

    #[test]
    fn learns_contacts_that_are_a_bilinear_function_of_the_features() {
        let train: Vec<_> = (0..8).map(|s| synthetic(60, s)).collect();
        let params = ContactProbeParams {
            rank: 8,
            epochs: 60,
            learning_rate: 1e-2,
            ..ContactProbeParams::default()
        };
        let probe = ContactProbe::fit(&train, &params, &JobCtx::default()).expect("fit");
        let losses = &probe.epoch_losses;
        assert!(losses[losses.len() - 1] < 0.7 * losses[0], "{losses:?}");
        let (reps, truth) = synthetic(60, 99);
        let predicted = probe.predict(&reps).expect("predict");
        let precision = crate::probes::contact_precision(&predicted, &truth);
        let base_rate = truth.contacts.iter().filter(|&&c| c).count() as f64 / (60.0 * 60.0);
        assert!(
            precision.long.at_l5 > 2.0 * base_rate,
            "long-range P@L/5 {} vs base rate {base_rate}",
            precision.long.at_l5
        );
    }

    /// The closed-form loss and gradients over sampled, weighted pairs equal candle's autograd
    /// through the dense model with the same weights as a mask.
    #[test]
    fn closed_form_gradients_match_autograd() -> candle_core::Result<()> {
        let (reps, map) = synthetic(30, 5);
        let pairs = sample_pairs(&map, 2, 11);
        assert!(
            pairs.negatives_available > pairs.len() - pairs.positives,
            "sampled"
        );
        let mut rng = SplitMix64::new(3);
        let projection = Var::from_tensor(&Tensor::from_vec(
            rng.normals(8 * 4, 0.5),
            (8, 4),
            &Device::Cpu,
        )?)?;
        let bias = Var::from_tensor(&Tensor::new(-1.0f32, &Device::Cpu)?)?;
        let step = step_gradients(&reps, &pairs, projection.as_tensor(), bias.as_tensor())?;

        let mut target = vec![0f32; 30 * 30];
        let mut mask = vec![0f32; 30 * 30];
        for ((&(i, j), &positive), &w) in
            pairs.pairs.iter().zip(&pairs.positive).zip(&pairs.weights)
        {
            let k = i as usize * 30 + j as usize;
            target[k] = f32::from(u8::from(positive));
            mask[k] = w;
        }
        let target = Tensor::from_vec(target, (30, 30), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (30, 30), &Device::Cpu)?;
        let logits = pair_logits(&reps, projection.as_tensor(), bias.as_tensor())?;
        let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
        let elementwise = ((logits.relu()? - (&logits * &target)?)? + softplus)?;
        let loss = ((elementwise * mask)?.sum_all()? / pairs.weight_sum())?;
        let grads = loss.backward()?;
        let close = |a: &Tensor, b: &Tensor| -> candle_core::Result<f32> {
            (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
        };
        assert!((f64::from(loss.to_scalar::<f32>()?) - step.loss).abs() < 1e-5);
        let dw = grads
            .get(projection.as_tensor())
            .ok_or_else(|| candle_core::Error::Msg("no dW".into()))?;
        let db = grads
            .get(bias.as_tensor())
            .ok_or_else(|| candle_core::Error::Msg("no db".into()))?;
        assert!(close(dw, &step.projection)? < 1e-5, "dW differs");
        assert!(close(db, &step.bias)? < 1e-6, "db differs");
        Ok(())
    }

    #[test]
    fn standardises_in_place_like_the_tensor_formula() {
        let mut rows = vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 6.0, 5.0];
        let (mean, scale) = standardise_in_place(&mut rows, 2);
        assert_eq!(mean, vec![3.0, 5.0]);
        assert!((scale[0] - 1.870_829).abs() < 1e-5 && scale[1] == 1.0);
        assert!((rows[0] + 1.069_045).abs() < 1e-5 && rows[1] == 0.0);
    }

    #[test]
    fn refuses_proteins_without_trainable_pairs() {
        let (reps, mut map) = synthetic(10, 1);
        map.valid = vec![false; 10];
        let err = ContactProbe::fit(
            &[(reps, map)],
            &ContactProbeParams::default(),
            &JobCtx::default(),
        )
        .expect_err("no pairs");
        assert!(matches!(err, ContactProbeError::NoTrainingPairs));
    }
}
