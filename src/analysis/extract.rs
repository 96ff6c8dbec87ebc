//! Embedding extraction to files, like fair-esm's `esm-extract` (`scripts/extract.py`):
//! length-sorted batches bounded by tokens per batch, chosen layers, per-token / mean / BOS
//! representations and contacts, one NumPy `.npz` (or safetensors) file per sequence.
//!
//! Files are written atomically (`.partial` then rename); a `manifest.tsv` maps record ids to
//! files, residue counts and truncation.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

pub use crate::batching::{batches_by_tokens, pack_by_tokens};
use crate::data::{DataError, FastaReader, FastaRecord};
use crate::jobs::{Cancelled, JobCtx};
use crate::model::{EsmModel, ForwardRequest, Layers, LengthPolicy, ModelError, embed_sequence};

/// Which outputs to write (fair-esm's `--include`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Include {
    /// Mean over residues: `mean_representations_{layer}`, `(embed_dim,)`.
    pub mean: bool,
    /// Per residue: `representations_{layer}`, `(residues, embed_dim)`.
    pub per_tok: bool,
    /// BOS token: `bos_representations_{layer}`, `(embed_dim,)`.
    pub bos: bool,
    /// Contact probabilities: `contacts`, `(residues, residues)`.
    pub contacts: bool,
}

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OutputFormat {
    /// NumPy `.npz` (`numpy.load(path)["mean_representations_33"]`).
    #[default]
    Npz,
    /// safetensors (`safetensors.numpy.load_file(path)`).
    Safetensors,
}

/// Settings of an extraction run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractParams {
    /// fair-esm style layer indices; negative counts from the end (-1: last layer).
    pub repr_layers: Layers,
    /// What to write.
    pub include: Include,
    /// Upper bound on `rows * longest row` tokens per forward pass (fair-esm default 4096).
    pub toks_per_batch: usize,
    /// Sequences over the model's limit.
    pub length_policy: LengthPolicy,
    /// File format.
    pub format: OutputFormat,
}

impl Default for ExtractParams {
    fn default() -> Self {
        Self {
            repr_layers: Layers::Last,
            include: Include {
                mean: true,
                ..Include::default()
            },
            toks_per_batch: 4096,
            length_policy: LengthPolicy::Truncate,
            format: OutputFormat::Npz,
        }
    }
}

/// Errors of an extraction run.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Reading the FASTA failed.
    #[error(transparent)]
    Fasta(#[from] DataError),
    /// The model refused a sequence or failed.
    #[error(transparent)]
    Model(Box<ModelError>),
    /// Writing an output failed.
    #[error("{}: {}", crate::io_reason::writing(source), path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Nothing to do.
    #[error("{0}")]
    Invalid(String),
    /// A layer outside the model.
    #[error(transparent)]
    Layers(#[from] crate::model::LayersError),
    /// The user cancelled; files written so far are complete.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl From<ModelError> for ExtractError {
    fn from(err: ModelError) -> Self {
        match err {
            ModelError::Stopped => Self::Cancelled(Cancelled),
            other => Self::Model(Box::new(other)),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Sequences written.
    pub sequences: usize,
    /// Sequences longer than the model's limit (truncated or windowed).
    pub over_limit: usize,
    /// Forward passes run.
    pub batches: usize,
    /// Ids seen more than once, with their header lines (their files get `_2`, `_3`, …).
    pub duplicate_ids: Vec<(String, Vec<usize>)>,
}

/// A file name for a record id: `/` and other unsafe characters become `_`.
pub fn file_stem_for(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '|') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("_{stem}")
    } else {
        stem
    }
}

/// Reads `fasta`, runs `model` and writes one file per sequence into `out_dir`.
pub fn extract_fasta(
    model: &EsmModel,
    fasta: &Path,
    out_dir: &Path,
    params: &ExtractParams,
    ctx: &JobCtx,
) -> Result<ExtractSummary, ExtractError> {
    let records = FastaReader::read_all(fasta)?;
    extract_records(model, &records, out_dir, params, ctx)
}

/// Runs `model` over `records` and writes one file per sequence into `out_dir`.
pub fn extract_records(
    model: &EsmModel,
    records: &[FastaRecord],
    out_dir: &Path,
    params: &ExtractParams,
    ctx: &JobCtx,
) -> Result<ExtractSummary, ExtractError> {
    let inc = params.include;
    if !(inc.mean || inc.per_tok || inc.bos || inc.contacts) {
        return Err(ExtractError::Invalid(
            "nothing to extract: include at least one of mean, per_tok, bos, contacts".into(),
        ));
    }
    let layers = params.repr_layers.resolve(model.config().num_layers)?;
    crate::params::whole_in(
        "tokens per batch (--toks-per-batch)",
        params.toks_per_batch,
        1..=crate::store::MAX_TOKS_PER_BATCH,
    )
    .map_err(|e| ExtractError::Invalid(e.to_string()))?;
    let request = ForwardRequest {
        repr_layers: if inc.mean || inc.per_tok || inc.bos {
            layers.clone()
        } else {
            vec![]
        },
        logits: false,
        attentions: false,
        contacts: inc.contacts,
        stop: Some(ctx.stop_flag()),
    };
    if inc.contacts && !model.has_contact_head() {
        return Err(ModelError::NoContactHead.into());
    }
    std::fs::create_dir_all(out_dir).map_err(|source| ExtractError::Write {
        path: out_dir.to_owned(),
        source,
    })?;

    let limit = model.config().max_residues();
    let lengths: Vec<usize> = records
        .iter()
        .map(|r| r.sequence.len().min(limit))
        .collect();
    let batches = batches_by_tokens(&lengths, params.toks_per_batch, 2);
    let stems = unique_stems(records);
    let manifest_path = out_dir.join("manifest.tsv");
    let mut manifest = String::from("id\tfile\tresidues\tinput_residues\n");
    let mut summary = ExtractSummary {
        duplicate_ids: crate::data::duplicate_ids(records),
        ..ExtractSummary::default()
    };
    ctx.checkpoint(0.0)?;
    for (done, batch) in batches.iter().enumerate() {
        let items: Vec<(&str, &str)> = batch
            .iter()
            .map(|&i| (records[i].id.as_str(), records[i].sequence.as_str()))
            .collect();
        let outputs = embed_sequence(model, &items, params.length_policy, &request)?;
        for (&i, out) in batch.iter().zip(&outputs) {
            let mut arrays: Vec<(String, Tensor)> = Vec::new();
            for &layer in &layers {
                if inc.per_tok
                    && let Some(t) = out.representations.get(&layer)
                {
                    arrays.push((format!("representations_{layer}"), t.clone()));
                }
                if inc.mean
                    && let Some(t) = out.mean_representation(layer)?
                {
                    arrays.push((format!("mean_representations_{layer}"), t));
                }
                if inc.bos
                    && let Some(t) = out.bos_representations.get(&layer)
                {
                    arrays.push((format!("bos_representations_{layer}"), t.clone()));
                }
            }
            if let Some(c) = &out.contacts {
                arrays.push(("contacts".into(), c.clone()));
            }
            let file = write_arrays(out_dir, &stems[i], &arrays, params.format)?;
            manifest.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                out.id, file, out.residues, out.input_residues
            ));
            summary.sequences += 1;
            summary.over_limit += usize::from(out.input_residues > limit);
        }
        summary.batches += 1;
        write_atomically(&manifest_path, manifest.as_bytes())?;
        ctx.checkpoint((done + 1) as f32 / batches.len() as f32)?;
    }
    write_atomically(&manifest_path, manifest.as_bytes())?;
    Ok(summary)
}

/// File stems for each record, made unique by appending `_2`, `_3`, … to repeated ids.
fn unique_stems(records: &[FastaRecord]) -> Vec<String> {
    let mut seen = HashSet::new();
    records
        .iter()
        .map(|r| {
            let base = file_stem_for(&r.id);
            let mut stem = base.clone();
            let mut k = 1;
            while !seen.insert(stem.to_lowercase()) {
                k += 1;
                stem = format!("{base}_{k}");
            }
            stem
        })
        .collect()
}

fn write_arrays(
    dir: &Path,
    stem: &str,
    arrays: &[(String, Tensor)],
    format: OutputFormat,
) -> Result<String, ExtractError> {
    let ext = match format {
        OutputFormat::Npz => "npz",
        OutputFormat::Safetensors => "safetensors",
    };
    let name = format!("{stem}.{ext}");
    let path = dir.join(&name);
    crate::atomic_write::write_atomic_at(&path, |partial| {
        match format {
            OutputFormat::Npz => Tensor::write_npz(arrays, partial),
            OutputFormat::Safetensors => candle_core::safetensors::save(
                &arrays.iter().map(|(n, t)| (n.clone(), t.clone())).collect(),
                partial,
            ),
        }
        .map_err(|e| std::io::Error::other(e.to_string()))
    })
    .map_err(|e| ExtractError::Write {
        path: e.path,
        source: e.source,
    })?;
    Ok(name)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExtractError> {
    crate::atomic_write::write_bytes_atomic(path, bytes).map_err(|e| ExtractError::Write {
        path: e.path,
        source: e.source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batching_follows_fair_esm() {
        // Sorted lengths 3, 5, 8, 10 with budget 20 (+2 per sequence): [5,7] -> 14 ok, +10 -> 30 > 20.
        let batches = batches_by_tokens(&[10, 3, 8, 5], 20, 2);
        assert_eq!(batches, vec![vec![1, 3], vec![2], vec![0]]);
        // A sequence above the budget still gets its own batch.
        assert_eq!(batches_by_tokens(&[100], 20, 2), vec![vec![0]]);
    }

    #[test]
    fn stems_are_safe_and_unique() {
        let rec = |id: &str| FastaRecord {
            id: id.into(),
            description: String::new(),
            sequence: "M".into(),
            line: 1,
        };
        let stems = unique_stems(&[rec("sp|P1|A/B"), rec("x"), rec("x"), rec("../etc")]);
        assert_eq!(stems, vec!["sp|P1|A_B", "x", "x_2", "_.._etc"]);
    }
}
