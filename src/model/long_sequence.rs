//! Sequences longer than the model's limit (1022 residues for ESM-1b), and per-sequence outputs.
//!
//! Three explicit choices ([`LengthPolicy`]):
//! - `Error`: refuse, naming the sequence and its length.
//! - `Truncate`: keep the first `limit` residues, as fair-esm's `esm-extract` does
//!   (`--truncation_seq_length 1022`); later residues get no representation.
//! - `Window { overlap }`: run overlapping windows of `limit` residues, starting every
//!   `limit - overlap` residues (the last window is aligned to the sequence end), and take each
//!   residue's representation from the window in which it lies farthest from a window edge.
//!   BOS comes from the first window. Attention maps and contacts need the whole sequence in one
//!   pass, so windows support representations and logits only.

use std::collections::BTreeMap;

use candle_core::{IndexOp as _, Tensor};
use serde::{Deserialize, Serialize};

use super::alphabet::{Alphabet, TokenBatch};
use super::error::{ModelError, Result};
use super::esm::{EsmModel, ForwardRequest};

/// What to do with sequences longer than the model's residue limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LengthPolicy {
    /// Fail with [`ModelError::SequenceTooLong`].
    Error,
    /// Keep the first `limit` residues (fair-esm's behaviour).
    Truncate,
    /// Overlapping windows stitched per residue; `overlap` residues shared by neighbours.
    Window {
        /// Residues shared by consecutive windows (must be below the limit).
        overlap: usize,
    },
}

impl LengthPolicy {
    /// A short name that tells apart policies that change the numbers (cache and store keys).
    pub fn variant_name(self) -> String {
        match self {
            Self::Error | Self::Truncate => "truncate".into(),
            Self::Window { overlap } => format!("window{overlap}"),
        }
    }
}

/// Outputs for one sequence, residues only (BOS/EOS removed).
#[derive(Debug, Clone)]
pub struct SequenceOutput {
    /// Record id.
    pub id: String,
    /// Residues represented (after truncation).
    pub residues: usize,
    /// Residues in the input sequence.
    pub input_residues: usize,
    /// Layer → `(residues, embed_dim)`.
    pub representations: BTreeMap<usize, Tensor>,
    /// Layer → `(embed_dim,)` at the BOS token.
    pub bos_representations: BTreeMap<usize, Tensor>,
    /// `(residues, vocab)`.
    pub logits: Option<Tensor>,
    /// `(residues, residues)` contact probabilities.
    pub contacts: Option<Tensor>,
}

impl SequenceOutput {
    /// Mean over residues of one layer's representation: `(embed_dim,)`.
    pub fn mean_representation(&self, layer: usize) -> Result<Option<Tensor>> {
        Ok(match self.representations.get(&layer) {
            Some(t) => Some(t.mean(0)?),
            None => None,
        })
    }
}

/// One forward-pass row: a slice `[start, start + len)` of a sequence's residues.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    record: usize,
    start: usize,
    len: usize,
}

/// Window starts covering `len` residues with windows of `limit`, stepping `limit - overlap`.
fn window_starts(len: usize, limit: usize, overlap: usize) -> Vec<usize> {
    let stride = limit - overlap;
    let mut starts: Vec<usize> = (0..)
        .map(|k| k * stride)
        .take_while(|&s| s + limit < len)
        .collect();
    starts.push(len - limit);
    starts.dedup();
    starts
}

/// Runs a batch of `(id, sequence)` records with `policy` and returns per-sequence outputs in input
/// order. All rows (windows included) are padded into one forward pass: callers choose batch
/// sizes (see `analysis::extract`).
pub fn embed_sequence(
    model: &EsmModel,
    records: &[(&str, &str)],
    policy: LengthPolicy,
    request: &ForwardRequest,
) -> Result<Vec<SequenceOutput>> {
    let limit = model.config().max_residues();
    if let LengthPolicy::Window { overlap } = policy
        && overlap >= limit
    {
        return Err(ModelError::InvalidRequest(format!(
            "window overlap {overlap} must be below the limit {limit}"
        )));
    }
    let mut bodies = Vec::with_capacity(records.len());
    let mut chunks = Vec::new();
    for (record, (id, seq)) in records.iter().enumerate() {
        let body = Alphabet::encode(id, seq)?;
        chunks.extend(chunks_of(record, id, body.len(), limit, policy, request)?);
        bodies.push(body);
    }
    let rows: Vec<Vec<u32>> = chunks
        .iter()
        .map(|c| {
            let mut row = Vec::with_capacity(c.len + 2);
            row.push(Alphabet::CLS);
            row.extend_from_slice(&bodies[c.record][c.start..c.start + c.len]);
            row.push(Alphabet::EOS);
            row
        })
        .collect();
    let batch = TokenBatch::from_rows(&rows);
    let out = model.forward(&batch, request)?;

    let mut outputs = Vec::with_capacity(records.len());
    for (record, (id, _)) in records.iter().enumerate() {
        let mine: Vec<(usize, Chunk)> = chunks
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, c)| c.record == record)
            .collect();
        let input_residues = bodies[record].len();
        let residues = mine.iter().map(|(_, c)| c.start + c.len).max().unwrap_or(0);
        let source = residue_sources(&mine, residues);
        let gather = |t: &Tensor| -> Result<Tensor> { stitch(t, &source) };
        let first_row = mine.first().map_or(0, |(row, _)| *row);
        let mut representations = BTreeMap::new();
        let mut bos_representations = BTreeMap::new();
        for (&layer, t) in &out.representations {
            representations.insert(layer, gather(t)?);
            bos_representations.insert(layer, t.i((first_row, 0))?);
        }
        let logits = out.logits.as_ref().map(gather).transpose()?;
        let contacts = match &out.contacts {
            Some(c) => Some(c.i((first_row, ..residues, ..residues))?),
            None => None,
        };
        outputs.push(SequenceOutput {
            id: (*id).to_owned(),
            residues,
            input_residues,
            representations,
            bos_representations,
            logits,
            contacts,
        });
    }
    Ok(outputs)
}

/// The model rows of record `record` (`id`, `len` residues) under `policy`: one row when it
/// fits in `limit` residues, else the truncated start or overlapping windows (refused when the
/// request needs one pass: contacts or attention maps), or an error.
fn chunks_of(
    record: usize,
    id: &str,
    len: usize,
    limit: usize,
    policy: LengthPolicy,
    request: &ForwardRequest,
) -> Result<Vec<Chunk>> {
    let chunk = |start, len| Chunk { record, start, len };
    if len <= limit {
        return Ok(vec![chunk(0, len)]);
    }
    match policy {
        LengthPolicy::Error => Err(ModelError::SequenceTooLong {
            sequence_id: id.to_owned(),
            residues: len,
            limit,
        }),
        LengthPolicy::Truncate => Ok(vec![chunk(0, limit)]),
        LengthPolicy::Window { overlap } => {
            if request.contacts || request.attentions {
                return Err(ModelError::InvalidRequest(format!(
                    "sequence {id} ({len} residues) needs windows, but contacts and attention maps need one pass; use truncation"
                )));
            }
            Ok(window_starts(len, limit, overlap)
                .into_iter()
                .map(|start| chunk(start, limit))
                .collect())
        }
    }
}

/// For each of `residues` positions, the `(row, offset within the row's residues)` it is read
/// from: of the record's rows `mine` covering it, the one where it sits farthest from an edge.
fn residue_sources(mine: &[(usize, Chunk)], residues: usize) -> Vec<(usize, usize)> {
    (0..residues)
        .filter_map(|pos| {
            mine.iter()
                .filter(|(_, c)| pos >= c.start && pos < c.start + c.len)
                .max_by_key(|(_, c)| (pos - c.start).min(c.start + c.len - 1 - pos))
                .map(|(row, c)| (*row, pos - c.start))
        })
        .collect()
}

/// Gathers per-residue rows from `t`: `(rows, seq_len, dim)` → `(residues, dim)`, where
/// `source[i] = (row, offset)` and the residue sits at token `offset + 1` (after BOS).
fn stitch(t: &Tensor, source: &[(usize, usize)]) -> Result<Tensor> {
    // Consecutive residues from the same row are taken as one slice.
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < source.len() {
        let (row, offset) = source[i];
        let mut run = 1;
        while i + run < source.len() && source[i + run] == (row, offset + run) {
            run += 1;
        }
        pieces.push(t.i(row)?.narrow(0, offset + 1, run)?);
        i += run;
    }
    Ok(Tensor::cat(&pieces, 0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_sequence_and_end_aligned() {
        assert_eq!(window_starts(2500, 1022, 256), vec![0, 766, 1478]);
        assert_eq!(window_starts(1100, 1022, 256), vec![0, 78]);
    }
}
