//! `esm-workbench pretrain`: masked-LM training of an ESM-1b-architecture model on a FASTA file.

use std::path::PathBuf;

use anyhow::Context as _;

use super::progress::{Log, with_progress_bar_and_log};
use crate::model::{Architecture, Checkpoint, EsmConfig};
use crate::train::{PretrainConfig, TrainError, TrainEvent, latest_checkpoint, pretrain};

/// Options of `pretrain`.
#[derive(Debug, Clone, clap::Args)]
pub struct PretrainArgs {
    /// Training corpus (FASTA, optionally .gz); a split is held out for perplexity.
    pub fasta: PathBuf,
    /// Output folder (checkpoints, held-out FASTA, final model). A run resumes from the newest
    /// checkpoint found here, with the settings saved in it.
    #[arg(long)]
    pub out: PathBuf,
    /// Transformer blocks.
    #[arg(long, default_value_t = 4)]
    pub layers: usize,
    /// Residue-stream width.
    #[arg(long, default_value_t = 128)]
    pub embed_dim: usize,
    /// Attention heads (must divide --embed-dim).
    #[arg(long, default_value_t = 8)]
    pub heads: usize,
    /// Feed-forward width (default: 4 x --embed-dim).
    #[arg(long)]
    pub ffn_dim: Option<usize>,
    /// Learned positions, BOS/EOS included (ESM-1b: 1024).
    #[arg(long, default_value_t = 1024)]
    pub max_positions: usize,
    /// Optimiser updates.
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,
    /// Linear warmup steps (default: 5% of --steps).
    #[arg(long)]
    pub warmup: Option<u64>,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Padded tokens per batch.
    #[arg(long, default_value_t = 4096)]
    pub tokens_per_batch: usize,
    /// Random crop length for longer sequences (residues).
    #[arg(long, default_value_t = 510)]
    pub max_residues: usize,
    /// Fraction of records held out for perplexity.
    #[arg(long, default_value_t = 0.05)]
    pub heldout_fraction: f64,
    /// At most this many held-out records.
    #[arg(long, default_value_t = 1000)]
    pub heldout_max: usize,
    /// Homology-aware split: a held-out record sharing more than this fraction of its 8-mers
    /// with the training part (e.g. 0.1) trains the model instead, so held-out perplexity
    /// measures generalisation rather than recall of close relatives. Default: random split.
    #[arg(long, value_name = "FRACTION")]
    pub heldout_max_shared_kmers: Option<f64>,
    /// Held-out perplexity every N steps (default: 10 evaluations per run).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Checkpoint every N steps (default: 20 per run).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Seed of the weights, split, batch order and masks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Data-parallel workers: each batch is split into this many shards trained on their own
    /// threads (default: the physical cores). Unless RAYON_NUM_THREADS is set, each worker then
    /// runs its operations on one thread, which trains small models about twice as fast on 2
    /// cores as candle's threads inside each operation. Saved with the run.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Continue pretraining from these weights (any checkpoint the workbench reads); the
    /// architecture is taken from them and --layers, --embed-dim, --heads, --ffn-dim and
    /// --max-positions are ignored.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
}

impl PretrainArgs {
    fn config(&self) -> anyhow::Result<PretrainConfig> {
        let model = match &self.init_from {
            Some(path) => {
                Checkpoint::read(path)
                    .with_context(|| format!("reading the starting weights {}", path.display()))?
                    .config
            }
            None => EsmConfig {
                architecture: Architecture::Esm1b,
                num_layers: self.layers,
                embed_dim: self.embed_dim,
                ffn_embed_dim: self.ffn_dim.unwrap_or(4 * self.embed_dim),
                attention_heads: self.heads,
                max_positions: Some(self.max_positions),
                token_dropout: true,
                emb_layer_norm_before: true,
                layer_norm_eps: 1e-5,
            },
        };
        let mut config = PretrainConfig::small(model, self.steps);
        config.peak_lr = self.lr;
        config.tokens_per_batch = self.tokens_per_batch;
        config.max_residues = self.max_residues;
        config.heldout_fraction = self.heldout_fraction;
        config.heldout_max = self.heldout_max;
        config.heldout_max_shared_kmers = self.heldout_max_shared_kmers;
        config.seed = self.seed;
        config.workers = self.workers.unwrap_or(1).max(1);
        config.init_from = self.init_from.clone();
        if let Some(w) = self.warmup {
            config.warmup_steps = w;
        }
        if let Some(e) = self.eval_every {
            config.eval_every = e.max(1);
        }
        if let Some(c) = self.checkpoint_every {
            config.checkpoint_every = c.max(1);
        }
        Ok(config)
    }
}

/// Runs (or resumes) pretraining with a progress bar; Ctrl-C saves a checkpoint and stops.
pub fn run(args: &PretrainArgs) -> anyhow::Result<()> {
    if let Some(dir) = latest_checkpoint(&args.out)? {
        eprintln!("resuming from {} (its saved settings apply)", dir.display());
    }
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let (fasta, out, config) = (args.fasta.clone(), args.out.clone(), args.config()?);
    let result = with_progress_bar_and_log("pretrain", ctx, move |ctx, log| {
        pretrain(&fasta, config, &out, &ctx, &mut |event| {
            print_event(&log, &event)
        })
    })?;
    match result {
        Ok(state) => {
            let last = state.log.iter().rev().find_map(|e| e.heldout.clone());
            eprintln!("wrote {}", args.out.join("model.safetensors").display());
            if state.heldout_sequences == 0 {
                eprintln!("no held-out split (--heldout-fraction 0): perplexity not measured");
            }
            if let Some(report) = last {
                eprintln!(
                    "held-out perplexity {:.3} ({} masked residues of {} sequences); baselines: unigram {:.3}, own composition {:.3}",
                    report.perplexity,
                    report.targets,
                    report.sequences,
                    report.unigram_perplexity.unwrap_or(f64::NAN),
                    report.composition_perplexity.unwrap_or(f64::NAN)
                );
            }
            Ok(())
        }
        Err(e @ TrainError::Cancelled { .. }) => {
            eprintln!("{e}");
            Ok(())
        }
        Err(e) => Err(e).context(format!("pretraining on {}", args.fasta.display())),
    }
}

fn print_event(log: &Log, event: &TrainEvent) {
    match event {
        TrainEvent::Started {
            from_step,
            state,
            parameters,
        } => {
            let moved = match state.config.heldout_max_shared_kmers {
                Some(limit) => format!(
                    " ({} more moved to training for sharing over {:.0}% of their 8-mers with it)",
                    state.heldout_moved_similar,
                    limit * 100.0
                ),
                None => String::new(),
            };
            log.line(format!(
                "{} parameters; {} training sequences ({} residues), {} held out{}; steps {}..{}",
                parameters,
                state.train_sequences,
                state.train_residues,
                state.heldout_sequences,
                moved,
                from_step,
                state.config.steps
            ))
        }
        TrainEvent::Logged(entry) => {
            let mut line = format!(
                "step {:>6}  loss {:.4}  lr {:.2e}  |g| {:.3}  {:.0} tok/s",
                entry.step, entry.train_loss, entry.lr, entry.grad_norm, entry.tokens_per_second
            );
            if let Some(h) = &entry.heldout {
                line.push_str(&format!(
                    "  held-out ppl {:.3} (unigram {:.3})",
                    h.perplexity,
                    h.unigram_perplexity.unwrap_or(f64::NAN)
                ));
            }
            log.line(line);
        }
        TrainEvent::Saved(path) => log.line(format!("saved {}", path.display())),
    }
}

/// Options of `perplexity`.
#[derive(Debug, Clone, clap::Args)]
pub struct PerplexityArgs {
    /// Checkpoint with an LM head.
    #[arg(long)]
    pub model: PathBuf,
    /// Sequences to score (FASTA).
    #[arg(long)]
    pub fasta: PathBuf,
    /// Residues kept per sequence (the first N).
    #[arg(long, default_value_t = 510)]
    pub max_residues: usize,
    /// Also score the baselines (unigram and own-composition), with amino-acid frequencies
    /// from this corpus minus the records of --fasta (the training split of a `pretrain` run
    /// when given its corpus and its heldout.fasta).
    #[arg(long, value_name = "CORPUS")]
    pub baselines_from: Option<PathBuf>,
    /// Also write each sequence's score to this table (.csv or .parquet): id, residues scored,
    /// masked residues, perplexity, and the baselines' when --baselines-from is given.
    #[arg(long, value_name = "FILE")]
    pub per_sequence: Option<PathBuf>,
}

/// Prints the masked-LM perplexity of a model on a FASTA file (fixed evaluation masks).
pub fn perplexity(args: &PerplexityArgs) -> anyhow::Result<()> {
    let loaded = crate::model::LoadedModel::load(&args.model, &candle_core::Device::Cpu)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let records = crate::data::FastaReader::read_all(&args.fasta)?;
    let sequences = records
        .iter()
        .map(|r| crate::model::Alphabet::encode(&r.id, &r.sequence))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("tokenising {}", args.fasta.display()))?;
    let max_residues = args.max_residues.min(loaded.model.config().max_residues());
    let unigram = match &args.baselines_from {
        Some(corpus) => {
            let scored: std::collections::HashSet<&str> =
                records.iter().map(|r| r.id.as_str()).collect();
            let training = crate::data::FastaReader::read_all(corpus)?
                .into_iter()
                .filter(|r| !scored.contains(r.id.as_str()))
                .map(|r| crate::model::Alphabet::encode(&r.id, &r.sequence))
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("tokenising {}", corpus.display()))?;
            if training.is_empty() {
                anyhow::bail!(
                    "{} has no records besides those of {}: give --baselines-from the training corpus",
                    corpus.display(),
                    args.fasta.display()
                );
            }
            Some(crate::train::UnigramModel::fit(&training))
        }
        None => None,
    };
    if let Some(path) = &args.per_sequence {
        // A bad extension is reported before the scoring, not after.
        crate::export::TableFormat::from_path(path)?;
    }
    let (report, scores) = super::progress::with_progress_bar("perplexity", move |ctx| {
        crate::train::score_sequences(
            &loaded.model,
            &sequences,
            max_residues,
            8192,
            unigram.as_ref(),
            &ctx,
        )
    })?
    .map_err(|_| anyhow::anyhow!("cancelled"))??;
    if let Some(path) = &args.per_sequence {
        let mut table = per_sequence_table(&records, &scores)?;
        crate::export::write_table(path, &mut table)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} ({} sequences)", path.display(), scores.len());
    }
    println!(
        "perplexity {:.4} (cross-entropy {:.4} nats) on {} masked residues of {} sequences",
        report.perplexity, report.cross_entropy, report.targets, report.sequences
    );
    if let (Some(unigram), Some(composition)) =
        (report.unigram_perplexity, report.composition_perplexity)
    {
        println!(
            "baselines on the same residues: unigram {unigram:.4}, own composition {composition:.4}"
        );
    }
    Ok(())
}

/// One row per scored sequence: `id`, `residues`, `masked`, `perplexity`, and
/// `unigram_perplexity` / `composition_perplexity` (null without baselines).
fn per_sequence_table(
    records: &[crate::data::FastaRecord],
    scores: &[crate::train::SequenceScore],
) -> anyhow::Result<polars::prelude::DataFrame> {
    use polars::prelude::{Column, DataFrame};
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    // The baselines' columns are null without --baselines-from.
    let column = |name: &str, values: Vec<Option<f64>>| Column::new(name.into(), values);
    Ok(DataFrame::new(
        scores.len(),
        vec![
            Column::new("id".into(), ids),
            Column::new(
                "residues".into(),
                scores.iter().map(|s| s.residues as u64).collect::<Vec<_>>(),
            ),
            Column::new(
                "masked".into(),
                scores.iter().map(|s| s.targets as u64).collect::<Vec<_>>(),
            ),
            Column::new(
                "perplexity".into(),
                scores.iter().map(|s| s.perplexity()).collect::<Vec<_>>(),
            ),
            column(
                "unigram_perplexity",
                scores.iter().map(|s| s.unigram_perplexity()).collect(),
            ),
            column(
                "composition_perplexity",
                scores.iter().map(|s| s.composition_perplexity()).collect(),
            ),
        ],
    )?)
}
