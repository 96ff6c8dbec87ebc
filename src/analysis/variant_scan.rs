//! Zero-shot variant scores from the masked-language-model head (Meier et al. 2021; the
//! arithmetic of fair-esm's `examples/variant-prediction/predict.py`). Per position `i` of a
//! sequence, the log-probabilities of the 20 amino acids (log-softmax over the whole
//! vocabulary, then the 20 read out):
//!
//! - **wt-marginals**: from one forward pass over the unmasked wild type;
//! - **masked-marginals**: from a pass with residue `i` masked, one per position, the masked
//!   copies batched to the token budget.
//!
//! A substitution `wt → mt` at `i` scores `log p(mt) - log p(wt)`; a multi-mutant sums its
//! substitutions. **pseudo-ppl** scores a variant by the pseudo-log-likelihood of its mutated
//! sequence, `Σ_i log p(x_i | x_-i)` (one masked pass per position).
//!
//! Sequences longer than the model's limit (1,022 residues for ESM-1b) are read through
//! windows of `limit` residues: a masked position sits in the window centred on it (clipped
//! to the sequence; ProteinGym's "optimal" window), and the wild-type pass is tiled with
//! windows overlapping by half, each position read from the window whose centre is nearest.

use candle_core::D;

use super::study_error::StudyError;
use crate::data::AMINO_ACIDS;
use crate::jobs::JobCtx;
use crate::model::{Alphabet, ForwardRequest, LoadedModel, ModelError, TokenBatch};

/// How variants are scored (predict.py's `--scoring-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ScoringStrategy {
    /// One pass over the wild type.
    WtMarginals,
    /// One masked pass per position.
    MaskedMarginals,
    /// Pseudo-log-likelihood of each mutated sequence.
    PseudoPpl,
}

impl ScoringStrategy {
    /// predict.py's name: `wt-marginals`, `masked-marginals`, `pseudo-ppl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::WtMarginals => "wt-marginals",
            Self::MaskedMarginals => "masked-marginals",
            Self::PseudoPpl => "pseudo-ppl",
        }
    }
}

/// Per position, the log-probabilities of the 20 amino acids in [`AMINO_ACIDS`] order.
pub type PositionLogProbs = Vec<[f32; 20]>;

/// The vocabulary indices of [`AMINO_ACIDS`].
fn amino_acid_tokens() -> [usize; 20] {
    let mut tokens = [0usize; 20];
    for (k, c) in AMINO_ACIDS.chars().enumerate() {
        tokens[k] = Alphabet::residue_index(c).unwrap_or(Alphabet::UNK) as usize;
    }
    tokens
}

/// `(start, len)` of the window position `i` of a `len`-residue sequence is read in when
/// masked: the `limit` residues centred on it, clipped to the sequence.
pub fn centred_window(i: usize, len: usize, limit: usize) -> (usize, usize) {
    if len <= limit {
        return (0, len);
    }
    let start = i.saturating_sub(limit / 2).min(len - limit);
    (start, limit)
}

/// The tiles of the wild-type pass: starts every `limit / 2` residues (the last flush with
/// the end), and for each position the tile whose centre is nearest.
fn wild_type_tiles(len: usize, limit: usize) -> (Vec<usize>, Vec<usize>) {
    if len <= limit {
        return (vec![0], vec![0; len]);
    }
    let step = (limit / 2).max(1);
    let mut starts: Vec<usize> = (0..)
        .map(|k| k * step)
        .take_while(|&s| s + limit < len)
        .collect();
    starts.push(len - limit);
    let tile_of = (0..len)
        .map(|i| {
            (0..starts.len())
                .min_by_key(|&t| (starts[t] as i64 + limit as i64 / 2 - i as i64).abs())
                .unwrap_or(0)
        })
        .collect();
    (starts, tile_of)
}

/// One masked or unmasked row to run: the window's tokens and the positions (in the row, BOS
/// at 0) whose log-probabilities are read, each with the sequence position it stands for.
struct Row {
    tokens: Vec<u32>,
    reads: Vec<(usize, usize)>,
}

/// Runs `rows` in batches of at most `toks_per_batch` padded tokens (at least one row each)
/// and hands each read `(sequence position, 33 log-probabilities)` to `take`.
fn run_rows(
    model: &LoadedModel,
    rows: Vec<Row>,
    toks_per_batch: usize,
    ctx: &JobCtx,
    take: &mut dyn FnMut(usize, &[f32]),
) -> Result<(), StudyError> {
    let total = rows.len();
    let mut done = 0;
    let mut rest = rows.into_iter().peekable();
    while rest.peek().is_some() {
        let mut batch_rows: Vec<Row> = Vec::new();
        while let Some(next) = rest.peek() {
            let width = next
                .tokens
                .len()
                .max(batch_rows.first().map_or(0, |r| r.tokens.len()));
            if !batch_rows.is_empty() && width * (batch_rows.len() + 1) > toks_per_batch {
                break;
            }
            batch_rows.extend(rest.next());
        }
        let tokens: Vec<Vec<u32>> = batch_rows.iter().map(|r| r.tokens.clone()).collect();
        let batch = TokenBatch::from_rows(&tokens);
        let request = ForwardRequest {
            logits: true,
            stop: Some(ctx.stop_flag()),
            ..ForwardRequest::default()
        };
        let output = model
            .model
            .forward(&batch, &request)
            .map_err(StudyError::from_forward)?;
        let logits = output.logits.ok_or(ModelError::NoLmHead)?;
        let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1)?.to_vec3::<f32>()?;
        for (row, values) in batch_rows.iter().zip(&log_probs) {
            for &(at, position) in &row.reads {
                take(position, &values[at]);
            }
        }
        done += batch_rows.len();
        ctx.checkpoint(done as f32 / total as f32)?;
    }
    Ok(())
}

fn check_lm_head(model: &LoadedModel) -> Result<(), StudyError> {
    if model.model.has_lm_head() {
        Ok(())
    } else {
        Err(StudyError::Empty(format!(
            "{} has no language-model head: variant scores need one (fair-esm checkpoints and the starter have it)",
            model.name
        )))
    }
}

/// Encodes `sequence[start..start + len]` with BOS and EOS.
fn window_tokens(
    id: &str,
    sequence: &str,
    (start, len): (usize, usize),
) -> Result<Vec<u32>, StudyError> {
    Ok(Alphabet::encode_with_bos_eos(
        id,
        &sequence[start..start + len],
    )?)
}

/// The 20 amino acids' log-probabilities at each position under `strategy` (wt- or
/// masked-marginals).
pub fn position_log_probs(
    model: &LoadedModel,
    (id, sequence): (&str, &str),
    strategy: ScoringStrategy,
    toks_per_batch: usize,
    ctx: &JobCtx,
) -> Result<PositionLogProbs, StudyError> {
    check_lm_head(model)?;
    let len = sequence.len();
    let limit = model.model.config().max_residues();
    let mut rows = Vec::new();
    match strategy {
        ScoringStrategy::WtMarginals => {
            let (starts, tile_of) = wild_type_tiles(len, limit);
            for (t, &start) in starts.iter().enumerate() {
                let window = (start, len.min(limit));
                let reads = (0..len)
                    .filter(|&i| tile_of[i] == t)
                    .map(|i| (1 + i - start, i))
                    .collect();
                rows.push(Row {
                    tokens: window_tokens(id, sequence, window)?,
                    reads,
                });
            }
        }
        ScoringStrategy::MaskedMarginals | ScoringStrategy::PseudoPpl => {
            for i in 0..len {
                let window = centred_window(i, len, limit);
                let mut tokens = window_tokens(id, sequence, window)?;
                tokens[1 + i - window.0] = Alphabet::MASK;
                rows.push(Row {
                    tokens,
                    reads: vec![(1 + i - window.0, i)],
                });
            }
        }
    }
    let tokens = amino_acid_tokens();
    let mut out = vec![[0f32; 20]; len];
    run_rows(model, rows, toks_per_batch, ctx, &mut |i, values| {
        for (k, &t) in tokens.iter().enumerate() {
            out[i][k] = values[t];
        }
    })?;
    Ok(out)
}

/// The pseudo-log-likelihood of `sequence`: `Σ_i log p(x_i | x_-i)`, natural log.
pub fn pseudo_log_likelihood(
    model: &LoadedModel,
    (id, sequence): (&str, &str),
    toks_per_batch: usize,
    ctx: &JobCtx,
) -> Result<f64, StudyError> {
    let log_probs = position_log_probs(
        model,
        (id, sequence),
        ScoringStrategy::PseudoPpl,
        toks_per_batch,
        ctx,
    )?;
    Ok(sequence
        .chars()
        .zip(&log_probs)
        .map(|(c, lp)| {
            AMINO_ACIDS
                .find(c.to_ascii_uppercase())
                .map_or(0.0, |k| lp[k] as f64)
        })
        .sum())
}

/// `log p(mt) - log p(wt)` at each position for each of the 20 amino acids, `L x 20`
/// (0 for the wild type itself; `NaN` where the wild type is not a standard amino acid).
pub fn substitution_matrix(sequence: &str, log_probs: &PositionLogProbs) -> Vec<[f32; 20]> {
    sequence
        .chars()
        .zip(log_probs)
        .map(|(wt, lp)| match AMINO_ACIDS.find(wt.to_ascii_uppercase()) {
            Some(w) => std::array::from_fn(|k| lp[k] - lp[w]),
            None => [f32::NAN; 20],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_centre_each_position_and_tiles_cover_the_sequence() {
        assert_eq!(centred_window(5, 100, 1022), (0, 100));
        assert_eq!(centred_window(0, 2000, 1022), (0, 1022));
        assert_eq!(centred_window(1000, 2000, 1022), (489, 1022));
        assert_eq!(centred_window(1999, 2000, 1022), (978, 1022));
        let (starts, tile_of) = wild_type_tiles(2000, 1000);
        assert_eq!(starts, vec![0, 500, 1000]);
        assert_eq!(tile_of[0], 0);
        assert_eq!(tile_of[1000], 1);
        assert_eq!(tile_of[1999], 2);
        assert_eq!(wild_type_tiles(10, 1000), (vec![0], vec![0; 10]));
    }
}
