//! One layer's attention maps of a padded batch as the heads study, its regression and its
//! overlay read them: APC-corrected symmetrised maps and raw attention, per row and head.

use candle_core::Tensor;

use crate::model::apc_maps;

/// One layer's maps of a padded batch, flat `(batch, heads, S, S)` with `S` = padded tokens
/// minus BOS and the last position: APC-corrected symmetrised maps and raw attention.
pub(crate) struct BatchMaps {
    apc: Vec<f32>,
    raw: Vec<f32>,
    heads: usize,
    side: usize,
}

impl BatchMaps {
    /// `probs`: `(batch, heads, T, T)`, padding zeroed; `eos_pairs`: its EOS mask.
    pub(crate) fn of(probs: &Tensor, eos_pairs: &Tensor) -> candle_core::Result<Self> {
        let (_, heads, t, _) = probs.dims4()?;
        let (apc, raw) = head_maps(probs, eos_pairs)?;
        Ok(Self {
            apc,
            raw,
            heads,
            side: t - 2,
        })
    }

    /// Row `row`'s APC value of `head` at residues `(i, j)`.
    pub(crate) fn apc_at(&self, row: usize, head: usize, (i, j): (usize, usize)) -> f32 {
        self.apc[(row * self.heads + head) * self.side * self.side + i * self.side + j]
    }

    /// Row `row`'s `len x len` maps of `head`, copied out of the padded block: (APC, raw).
    pub(crate) fn block(&self, row: usize, head: usize, len: usize) -> (Vec<f32>, Vec<f32>) {
        let base = (row * self.heads + head) * self.side * self.side;
        let copy = |all: &[f32]| -> Vec<f32> {
            (0..len)
                .flat_map(|i| {
                    let start = base + i * self.side;
                    all[start..start + len].iter().copied()
                })
                .collect()
        };
        (copy(&self.apc), copy(&self.raw))
    }
}

/// One layer's maps as flat `(batch, heads, T - 2, T - 2)` vectors: the APC-corrected
/// symmetrised maps and the raw attention (rows attend to columns), BOS and the last position
/// dropped; a row of `L` residues is the top-left `L x L` block. `probs`: `(batch, heads, T,
/// T)`, padding zeroed.
pub fn head_maps(probs: &Tensor, eos_pairs: &Tensor) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
    let residues = probs.dim(3)? - 2;
    let apc = apc_maps(probs, eos_pairs)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let raw = probs
        .narrow(2, 1, residues)?
        .narrow(3, 1, residues)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    Ok((apc, raw))
}
