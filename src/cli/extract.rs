//! `esm-workbench extract`: fair-esm's `esm-extract` on candle.

use std::path::PathBuf;

use anyhow::Context as _;
use candle_core::Device;
use clap::ValueEnum;

use super::progress::with_progress_bar;
use crate::analysis::extract::{ExtractParams, Include, OutputFormat, extract_fasta};
use crate::model::{LengthPolicy, LoadedModel};

/// What to include in each output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IncludeArg {
    /// Mean over residues per layer.
    Mean,
    /// Per-residue representations per layer.
    #[value(name = "per_tok", alias = "per-tok")]
    PerTok,
    /// BOS-token representation per layer.
    Bos,
    /// Contact probabilities (needs a contact head).
    Contacts,
}

/// Sequences longer than the model's limit (1022 residues for ESM-1b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LengthArg {
    /// Fail, naming the sequence.
    Error,
    /// Keep the first 1022 residues (fair-esm's behaviour).
    Truncate,
    /// Overlapping windows stitched per residue (see --window-overlap).
    Window,
}

/// File format of the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// NumPy .npz per sequence.
    Npz,
    /// safetensors per sequence.
    Safetensors,
}

/// Arguments of `extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExtractArgs {
    /// Model checkpoint: fair-esm .pt, Hugging Face folder or workbench .safetensors.
    pub model: PathBuf,
    /// Input FASTA (plain or .gz).
    pub fasta: PathBuf,
    /// Output folder: one file per sequence plus manifest.tsv.
    pub output_dir: PathBuf,
    /// A contact head for `--include contacts` in place of the checkpoint's own (or where it
    /// has none): an all-heads regression saved by `probe heads --save-regression`, or a
    /// fair-esm `*-contact-regression.pt`.
    #[arg(long, value_name = "FILE")]
    pub contact_head: Option<PathBuf>,
    /// Layers to return; negative counts from the end (-1 is the last layer, 0 the embeddings).
    #[arg(long, num_args = 1.., default_values_t = [-1], allow_negative_numbers = true)]
    pub repr_layers: Vec<i64>,
    /// What to write per sequence.
    #[arg(long, num_args = 1.., value_enum, default_values_t = [IncludeArg::Mean])]
    pub include: Vec<IncludeArg>,
    /// Maximum tokens per batch (rows x longest row).
    #[arg(long, default_value_t = 4096)]
    pub toks_per_batch: usize,
    /// What to do with sequences over the model's limit.
    #[arg(long, value_enum, default_value_t = LengthArg::Truncate)]
    pub long_sequences: LengthArg,
    /// Residues shared by consecutive windows with --long-sequences window.
    #[arg(long, default_value_t = 256)]
    pub window_overlap: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Npz)]
    pub format: FormatArg,
}

impl ExtractArgs {
    /// The core parameters these arguments describe.
    pub fn params(&self) -> ExtractParams {
        let has = |x| self.include.contains(&x);
        ExtractParams {
            repr_layers: crate::model::Layers::from_indices(&self.repr_layers),
            include: Include {
                mean: has(IncludeArg::Mean),
                per_tok: has(IncludeArg::PerTok),
                bos: has(IncludeArg::Bos),
                contacts: has(IncludeArg::Contacts),
            },
            toks_per_batch: self.toks_per_batch,
            length_policy: match self.long_sequences {
                LengthArg::Error => LengthPolicy::Error,
                LengthArg::Truncate => LengthPolicy::Truncate,
                LengthArg::Window => LengthPolicy::Window {
                    overlap: self.window_overlap,
                },
            },
            format: match self.format {
                FormatArg::Npz => OutputFormat::Npz,
                FormatArg::Safetensors => OutputFormat::Safetensors,
            },
        }
    }
}

/// Loads the model, extracts with a progress bar and prints a summary.
pub fn run(args: &ExtractArgs) -> anyhow::Result<()> {
    let loaded = LoadedModel::load_with_contact_head(
        &args.model,
        args.contact_head.as_deref(),
        &Device::Cpu,
    )
    .context("loading the model")?;
    eprintln!("{}: {}", loaded.name, loaded.summary());
    let params = args.params();
    let (fasta, out) = (args.fasta.clone(), args.output_dir.clone());
    let model = loaded.model;
    let summary = with_progress_bar("extract", move |ctx| {
        extract_fasta(&model, &fasta, &out, &params, &ctx)
    })?
    .with_context(|| format!("extracting {}", args.fasta.display()))?;
    for (id, lines) in &summary.duplicate_ids {
        eprintln!(
            "warning: id {id} occurs at lines {lines:?} of {}; later copies are written as {id}_2, …",
            args.fasta.display()
        );
    }
    eprintln!(
        "wrote {} sequences in {} batches to {} ({} over the length limit)",
        summary.sequences,
        summary.batches,
        args.output_dir.display(),
        summary.over_limit
    );
    Ok(())
}
