//! AdamW (Loshchilov & Hutter 2019) with global-norm gradient clipping and a state that can be
//! saved and restored, so an interrupted run resumes exactly.
//!
//! Weight decay is decoupled and applied to matrices only (rank ≥ 2: projections and
//! embeddings), not to biases or LayerNorm parameters, as in fairseq and BERT.

use std::collections::BTreeMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

/// AdamW hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWParams {
    /// β₁ (0.9).
    pub beta1: f64,
    /// β₂ (0.98 in fairseq's RoBERTa/ESM recipes).
    pub beta2: f64,
    /// ε (1e-8).
    pub eps: f64,
    /// Decoupled weight decay (0.01).
    pub weight_decay: f64,
}

impl Default for AdamWParams {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// First and second moment estimates of one parameter.
#[derive(Debug, Clone)]
struct Moments {
    m: Tensor,
    v: Tensor,
}

/// The optimiser over named parameters.
#[derive(Debug)]
pub struct AdamW {
    params: AdamWParams,
    vars: BTreeMap<String, Var>,
    moments: BTreeMap<String, Moments>,
    /// Updates applied so far.
    step: u64,
}

impl AdamW {
    /// An optimiser with zero moments over `vars`.
    pub fn new(vars: BTreeMap<String, Var>, params: AdamWParams) -> candle_core::Result<Self> {
        let moments = vars
            .iter()
            .map(|(name, var)| {
                let zeros = var.as_tensor().zeros_like()?;
                Ok((
                    name.clone(),
                    Moments {
                        m: zeros.clone(),
                        v: zeros,
                    },
                ))
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            params,
            vars,
            moments,
            step: 0,
        })
    }

    /// Updates applied so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// The parameters.
    pub fn vars(&self) -> &BTreeMap<String, Var> {
        &self.vars
    }

    /// Global L2 norm of the gradients (before clipping).
    pub fn grad_norm(&self, grads: &GradStore) -> candle_core::Result<f64> {
        let mut sum = 0f64;
        for var in self.vars.values() {
            if let Some(g) = grads.get(var.as_tensor()) {
                sum += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
            }
        }
        Ok(sum.sqrt())
    }

    /// One update with learning rate `lr`, gradients first scaled so their global norm is at
    /// most `clip_norm` (no clipping when `clip_norm <= 0`). Returns the norm before clipping.
    pub fn step(&mut self, grads: &GradStore, lr: f64, clip_norm: f64) -> candle_core::Result<f64> {
        let norm = self.grad_norm(grads)?;
        let scale = if clip_norm > 0.0 && norm > clip_norm {
            clip_norm / norm
        } else {
            1.0
        };
        self.step += 1;
        let p = self.params;
        let t = self.step as i32;
        let (bias1, bias2) = (1.0 - p.beta1.powi(t), 1.0 - p.beta2.powi(t));
        for (name, var) in &self.vars {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            let Some(moments) = self.moments.get_mut(name) else {
                continue;
            };
            // Gradients carry the graph that produced them (they reference the weights), and
            // the moments outlive the step: detach, or every step's graph stays alive.
            let grad = (grad.detach() * scale)?;
            moments.m = ((&moments.m * p.beta1)? + (&grad * (1.0 - p.beta1))?)?;
            moments.v = ((&moments.v * p.beta2)? + (grad.sqr()? * (1.0 - p.beta2))?)?;
            let update = ((&moments.m / bias1)? / ((&moments.v / bias2)?.sqrt()? + p.eps)?)?;
            let theta = var.as_tensor();
            let decayed = if theta.rank() >= 2 && p.weight_decay > 0.0 {
                (theta * (1.0 - lr * p.weight_decay))?
            } else {
                theta.clone()
            };
            var.set(&(decayed - (update * lr)?)?.detach())?;
        }
        Ok(norm)
    }

    /// The moments as named tensors (`m.{name}`, `v.{name}`) for a checkpoint.
    pub fn state_tensors(&self) -> BTreeMap<String, Tensor> {
        let mut out = BTreeMap::new();
        for (name, moments) in &self.moments {
            out.insert(format!("m.{name}"), moments.m.clone());
            out.insert(format!("v.{name}"), moments.v.clone());
        }
        out
    }

    /// Restores the moments saved by [`Self::state_tensors`] after `step` updates. Fails when a
    /// moment is missing or mis-shaped.
    pub fn restore(
        &mut self,
        tensors: &std::collections::HashMap<String, Tensor>,
        step: u64,
    ) -> candle_core::Result<()> {
        for (name, moments) in &mut self.moments {
            for (kind, slot) in [("m", &mut moments.m), ("v", &mut moments.v)] {
                let key = format!("{kind}.{name}");
                let saved = tensors.get(&key).ok_or_else(|| {
                    candle_core::Error::Msg(format!("optimiser state lacks {key}"))
                })?;
                if saved.dims() != slot.dims() {
                    candle_core::bail!(
                        "optimiser state {key} has shape {:?}, expected {:?}",
                        saved.dims(),
                        slot.dims()
                    );
                }
                *slot = saved.clone();
            }
        }
        self.step = step;
        Ok(())
    }
}

/// Learning rate at `step` (0-based): linear warmup from 0 to `peak` over `warmup` steps, then
/// cosine decay to `peak * final_fraction` at `total` steps.
pub fn learning_rate(step: u64, warmup: u64, total: u64, peak: f64, final_fraction: f64) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let decay_steps = total.saturating_sub(warmup).max(1);
    let progress = ((step - warmup) as f64 / decay_steps as f64).min(1.0);
    let floor = peak * final_fraction;
    floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedule_warms_up_then_decays() {
        let lr = |s| learning_rate(s, 10, 110, 1e-3, 0.1);
        assert!((lr(0) - 1e-4).abs() < 1e-12);
        assert!((lr(9) - 1e-3).abs() < 1e-12);
        assert!((lr(60) - 0.55e-3).abs() < 1e-9);
        assert!((lr(110) - 1e-4).abs() < 1e-12);
        assert!((lr(500) - 1e-4).abs() < 1e-12);
    }

    /// One step on a quadratic: the first AdamW update moves each coordinate by `lr` against its
    /// gradient's sign (bias-corrected m/√v = ±1), and decay shrinks matrices only.
    #[test]
    fn first_update_has_the_textbook_size() -> candle_core::Result<()> {
        let d = Device::Cpu;
        let w = Var::from_tensor(&Tensor::new(&[[1f32, -2.0]], &d)?)?;
        let b = Var::from_tensor(&Tensor::new(&[3f32], &d)?)?;
        let vars = BTreeMap::from([("w".to_owned(), w.clone()), ("b".to_owned(), b.clone())]);
        let params = AdamWParams {
            weight_decay: 0.5,
            ..AdamWParams::default()
        };
        let mut opt = AdamW::new(vars, params)?;
        let loss = (w.as_tensor().sqr()?.sum_all()? + b.as_tensor().sqr()?.sum_all()?)?;
        let grads = loss.backward()?;
        let norm = opt.step(&grads, 0.1, 0.0)?;
        assert!((norm - (4.0f64 + 16.0 + 36.0).sqrt()).abs() < 1e-4);
        let w_now = w.as_tensor().to_vec2::<f32>()?;
        // decay: w * (1 - 0.1 * 0.5), then -0.1 * sign(grad).
        assert!((w_now[0][0] - (0.95 - 0.1)).abs() < 1e-5, "{w_now:?}");
        assert!((w_now[0][1] - (-1.9 + 0.1)).abs() < 1e-5, "{w_now:?}");
        assert!((b.as_tensor().to_vec1::<f32>()?[0] - 2.9).abs() < 1e-5);
        // Saved state restores into a fresh optimiser.
        let state: std::collections::HashMap<_, _> = opt.state_tensors().into_iter().collect();
        let mut fresh = AdamW::new(opt.vars().clone(), params)?;
        fresh.restore(&state, opt.step_count())?;
        assert_eq!(fresh.step_count(), 1);
        Ok(())
    }
}
