//! The masked-language-model loss and held-out perplexity (exponentiated cross-entropy on
//! masked residues, the "ECE" of Rives et al. 2021, Table 1), with the unigram baseline.

use candle_core::Tensor;

use super::masking::{MaskedBatch, MaskingScheme, mask_batch};
use crate::batching::batches_by_tokens;
use crate::jobs::{Cancelled, JobCtx};
use crate::model::{Alphabet, EsmModel, ForwardRequest, ModelError, TokenBatch};
use crate::rng::SplitMix64;

/// Seed of the evaluation masks: the same residues are masked in every evaluation.
pub const EVAL_MASK_SEED: u64 = 0x5EED_E5A1;

/// The LM logits at the targets of `masked`: `(targets, vocabulary)`, in the order of
/// `masked.target_positions`.
fn target_logits(model: &EsmModel, masked: &MaskedBatch) -> Result<Tensor, ModelError> {
    let last = model.config().num_layers;
    let request = ForwardRequest {
        repr_layers: vec![last],
        ..ForwardRequest::default()
    };
    let output = model.forward(&masked.input, &request)?;
    let hidden = output.representations.get(&last).ok_or_else(|| {
        ModelError::InvalidRequest("final layer missing from the forward pass".into())
    })?;
    let (b, t, e) = hidden.dims3()?;
    let k = masked.target_positions.len();
    let positions = Tensor::from_vec(masked.target_positions.clone(), k, model.device())?;
    let picked = hidden.reshape((b * t, e))?.index_select(&positions, 0)?;
    model.lm_logits(&picked)
}

/// Mean cross-entropy (nats) of the model's predictions at the targets of `masked`: a scalar
/// tensor that back-propagates to the model's weights.
pub fn masked_lm_loss(model: &EsmModel, masked: &MaskedBatch) -> Result<Tensor, ModelError> {
    let logits = target_logits(model, masked)?;
    let k = masked.target_tokens.len();
    let targets = Tensor::from_vec(masked.target_tokens.clone(), k, model.device())?;
    Ok(candle_nn::loss::cross_entropy(&logits, &targets)?)
}

/// Negative log-likelihood (nats) of each target of `masked`: `(targets,)`, in the order of
/// `masked.target_positions`.
pub fn masked_lm_nll(model: &EsmModel, masked: &MaskedBatch) -> Result<Tensor, ModelError> {
    let log_probs = candle_nn::ops::log_softmax(&target_logits(model, masked)?, 1)?;
    let k = masked.target_tokens.len();
    let targets = Tensor::from_vec(masked.target_tokens.clone(), (k, 1), model.device())?;
    Ok(log_probs.gather(&targets, 1)?.squeeze(1)?.neg()?)
}

/// One sequence's masked-LM score: summed negative log-likelihoods (nats) over its targets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SequenceScore {
    /// Residues scored (the first `max_residues`).
    pub residues: usize,
    /// Masked residues (targets).
    pub targets: usize,
    /// The model's summed NLL over the targets.
    pub nll: f64,
    /// The unigram baseline's, when a unigram model was given.
    pub unigram_nll: Option<f64>,
    /// The own-composition baseline's, when a unigram model was given.
    pub composition_nll: Option<f64>,
}

impl SequenceScore {
    /// `exp(nll / targets)`.
    pub fn perplexity(&self) -> f64 {
        per_target_exp(self.nll, self.targets)
    }

    /// The unigram baseline's perplexity on the same targets.
    pub fn unigram_perplexity(&self) -> Option<f64> {
        self.unigram_nll.map(|n| per_target_exp(n, self.targets))
    }

    /// The own-composition baseline's perplexity on the same targets.
    pub fn composition_perplexity(&self) -> Option<f64> {
        self.composition_nll
            .map(|n| per_target_exp(n, self.targets))
    }
}

fn per_target_exp(nll: f64, targets: usize) -> f64 {
    (nll / targets.max(1) as f64).exp()
}

/// Held-out perplexity and what it was computed on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PerplexityReport {
    /// `exp(mean cross-entropy)` over the masked residues.
    pub perplexity: f64,
    /// Mean cross-entropy in nats.
    pub cross_entropy: f64,
    /// Masked residues scored.
    pub targets: usize,
    /// Sequences scored.
    pub sequences: usize,
    /// Perplexity of the unigram baseline (training amino-acid frequencies) on the same targets.
    pub unigram_perplexity: Option<f64>,
    /// Perplexity of the own-composition baseline on the same targets: each masked residue
    /// predicted from the amino-acid counts of the visible residues of its own sequence,
    /// smoothed with [`COMPOSITION_PRIOR`] pseudo-counts of the training frequencies. A model
    /// that reads only "what kind of protein is this" from its context gets about this.
    #[serde(default)]
    pub composition_perplexity: Option<f64>,
}

/// Pseudo-counts of the training frequencies added to a sequence's own amino-acid counts in the
/// own-composition baseline (about the best single value on held-out UniProt sequences: 50 and
/// 200 score within 0.3% of it).
pub const COMPOSITION_PRIOR: f64 = 100.0;

/// Amino-acid frequencies: the perplexity floor of a model that ignores context.
#[derive(Debug, Clone, PartialEq)]
pub struct UnigramModel {
    /// Probability of each token id (add-one smoothed over residue tokens).
    probabilities: Vec<f64>,
}

impl UnigramModel {
    /// Frequencies of the residue tokens in `sequences` (token ids without BOS/EOS).
    pub fn fit(sequences: &[Vec<u32>]) -> Self {
        let mut counts = vec![1.0f64; Alphabet::SIZE];
        for token in sequences.iter().flatten() {
            counts[*token as usize] += 1.0;
        }
        for special in [
            Alphabet::CLS,
            Alphabet::PAD,
            Alphabet::EOS,
            Alphabet::UNK,
            31,
            Alphabet::MASK,
        ] {
            counts[special as usize] = 0.0;
        }
        let total: f64 = counts.iter().sum();
        Self {
            probabilities: counts.iter().map(|c| c / total).collect(),
        }
    }

    /// Summed negative log-likelihood (nats) of the own-composition baseline on the targets of
    /// `row` (one masked sequence): the visible residues (neither special, `<mask>` nor a
    /// target) are counted, and each target gets `(count + prior * p) / (visible + prior)`.
    pub fn composition_nll(&self, row: &MaskedBatch) -> f64 {
        let mut counts = vec![0.0f64; Alphabet::SIZE];
        let targets: std::collections::HashSet<u32> =
            row.target_positions.iter().copied().collect();
        for (i, &token) in row.input.tokens.iter().enumerate() {
            if !targets.contains(&(i as u32)) && self.probabilities[token as usize] > 0.0 {
                counts[token as usize] += 1.0;
            }
        }
        let visible: f64 = counts.iter().sum();
        row.target_tokens
            .iter()
            .map(|&t| {
                let p = self.probabilities[t as usize];
                -((counts[t as usize] + COMPOSITION_PRIOR * p) / (visible + COMPOSITION_PRIOR))
                    .max(1e-12)
                    .ln()
            })
            .sum()
    }

    /// Summed negative log-likelihood (nats) of `tokens`.
    pub fn nll(&self, tokens: &[u32]) -> f64 {
        tokens
            .iter()
            .map(|&t| -self.probabilities[t as usize].max(1e-12).ln())
            .sum()
    }

    /// Perplexity on `tokens`.
    pub fn perplexity(&self, tokens: &[u32]) -> f64 {
        per_target_exp(self.nll(tokens), tokens.len())
    }
}

/// Masked-LM perplexity of `model` on `sequences` (residue token ids, no BOS/EOS). Each sequence
/// is cut to its first `max_residues` residues and masked with [`MaskingScheme::evaluation`]
/// from a seed fixed per sequence index, so the score does not depend on batching or on the
/// machine. Batches hold at most `tokens_per_batch` tokens. `unigram`, when given, is scored on
/// the same targets, and so is the own-composition baseline built on it.
pub fn heldout_perplexity(
    model: &EsmModel,
    sequences: &[Vec<u32>],
    max_residues: usize,
    tokens_per_batch: usize,
    unigram: Option<&UnigramModel>,
    ctx: &JobCtx,
) -> Result<Result<PerplexityReport, ModelError>, Cancelled> {
    let scored = score_sequences(
        model,
        sequences,
        max_residues,
        tokens_per_batch,
        unigram,
        ctx,
    )?;
    Ok(scored.map(|(report, _)| report))
}

/// [`heldout_perplexity`] with each sequence's score as well, in the order of `sequences`.
pub fn score_sequences(
    model: &EsmModel,
    sequences: &[Vec<u32>],
    max_residues: usize,
    tokens_per_batch: usize,
    unigram: Option<&UnigramModel>,
    ctx: &JobCtx,
) -> Result<Result<(PerplexityReport, Vec<SequenceScore>), ModelError>, Cancelled> {
    if sequences.iter().all(Vec::is_empty) {
        return Ok(Err(ModelError::InvalidRequest(
            "no residues to score: the held-out set is empty".into(),
        )));
    }
    let scheme = MaskingScheme::evaluation();
    let rows: Vec<MaskedBatch> = sequences
        .iter()
        .enumerate()
        .map(|(i, residues)| {
            let mut row = Vec::with_capacity(residues.len().min(max_residues) + 2);
            row.push(Alphabet::CLS);
            row.extend_from_slice(&residues[..residues.len().min(max_residues)]);
            row.push(Alphabet::EOS);
            mask_batch(
                &TokenBatch::from_rows(&[row]),
                &scheme,
                &mut SplitMix64::stream(EVAL_MASK_SEED, i as u64),
            )
        })
        .collect();
    let lengths: Vec<usize> = rows.iter().map(|r| r.input.max_len).collect();
    let batches = batches_by_tokens(&lengths, tokens_per_batch, 0);
    let mut scores: Vec<SequenceScore> = rows
        .iter()
        .map(|row| SequenceScore {
            residues: row.input.max_len - 2,
            targets: row.target_tokens.len(),
            nll: 0.0,
            unigram_nll: unigram.map(|u| u.nll(&row.target_tokens)),
            composition_nll: unigram.map(|u| u.composition_nll(row)),
        })
        .collect();
    for (done, indices) in batches.iter().enumerate() {
        let batch = MaskedBatch::merge_rows(&indices.iter().map(|&i| &rows[i]).collect::<Vec<_>>());
        let nll = match masked_lm_nll(model, &batch).and_then(|t| Ok(t.to_vec1::<f32>()?)) {
            Ok(nll) => nll,
            Err(e) => return Ok(Err(e)),
        };
        // merge_rows keeps each row's targets together, rows in batch order.
        let mut next = nll.iter();
        for &i in indices {
            scores[i].nll = next
                .by_ref()
                .take(scores[i].targets)
                .map(|&v| f64::from(v))
                .sum();
        }
        ctx.checkpoint((done + 1) as f32 / batches.len() as f32)?;
    }
    let targets: usize = scores.iter().map(|s| s.targets).sum();
    let total = |nll: fn(&SequenceScore) -> Option<f64>| -> Option<f64> {
        scores
            .iter()
            .map(nll)
            .sum::<Option<f64>>()
            .map(|n| per_target_exp(n, targets))
    };
    let cross_entropy = scores.iter().map(|s| s.nll).sum::<f64>() / targets.max(1) as f64;
    let report = PerplexityReport {
        perplexity: cross_entropy.exp(),
        cross_entropy,
        targets,
        sequences: sequences.len(),
        unigram_perplexity: total(|s| s.unigram_nll),
        composition_perplexity: total(|s| s.composition_nll),
    };
    Ok(Ok((report, scores)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_composition_baseline_counts_only_visible_residues_of_the_same_sequence() {
        let a = Alphabet::encode("a", "A").expect("A")[0];
        let c = Alphabet::encode("c", "C").expect("C")[0];
        let unigram = UnigramModel::fit(&[vec![a, c, c, c]]);
        // BOS A A C A EOS, with the last A (column 4) masked as the only target.
        let mut tokens = vec![Alphabet::CLS, a, a, c, Alphabet::MASK, Alphabet::EOS];
        let row = MaskedBatch {
            input: TokenBatch::from_rows(std::slice::from_ref(&tokens)),
            target_positions: vec![4],
            target_tokens: vec![a],
        };
        let p_a = unigram.probabilities[a as usize];
        let expected = -((2.0 + COMPOSITION_PRIOR * p_a) / (3.0 + COMPOSITION_PRIOR)).ln();
        assert!((unigram.composition_nll(&row) - expected).abs() < 1e-12);
        // A sequence rich in A makes A likelier than the training frequency does.
        assert!(expected < -p_a.ln());
        // Another sequence's residues do not count: the same target alone in its row.
        tokens = vec![Alphabet::CLS, Alphabet::MASK, Alphabet::EOS];
        let alone = MaskedBatch {
            input: TokenBatch::from_rows(&[tokens]),
            target_positions: vec![1],
            target_tokens: vec![a],
        };
        let prior_only = -((COMPOSITION_PRIOR * p_a) / COMPOSITION_PRIOR).ln();
        assert!((unigram.composition_nll(&alone) - prior_only).abs() < 1e-12);
    }

    #[test]
    fn an_empty_set_is_refused_rather_than_scored_as_perfect() -> Result<(), ModelError> {
        let config = crate::model::EsmConfig {
            architecture: crate::model::Architecture::Esm1b,
            num_layers: 1,
            embed_dim: 8,
            ffn_embed_dim: 16,
            attention_heads: 2,
            max_positions: Some(16),
            token_dropout: true,
            emb_layer_norm_before: true,
            layer_norm_eps: 1e-5,
        };
        let checkpoint = crate::model::Checkpoint::random(config, 1)?;
        let model =
            crate::model::LoadedModel::from_checkpoint(checkpoint, &candle_core::Device::Cpu)?;
        let outcome = heldout_perplexity(&model.model, &[], 14, 1024, None, &JobCtx::default());
        let Ok(Err(ModelError::InvalidRequest(message))) = outcome else {
            panic!("expected a refusal, got {outcome:?}");
        };
        assert!(message.contains("empty"), "{message}");
        Ok(())
    }
}
