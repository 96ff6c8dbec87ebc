//! Masked-language-model pretraining of an ESM-1b-architecture model (Rives et al. 2021,
//! Methods): BERT masking, AdamW with warmup and cosine decay, gradient clipping,
//! length-bucketed batches, held-out perplexity, and atomic checkpoints a run resumes from.
//!
//! A run writes into one output folder:
//! - `heldout.fasta`: the held-out split;
//! - `checkpoints/step-NNNNNNNN/{model.safetensors, optimizer.safetensors, state.json}`, each
//!   folder renamed into place only once complete (the two newest are kept);
//! - `model.safetensors` and `training.json` when the run ends: the model in the workbench
//!   format, loadable anywhere a checkpoint is, and the run's configuration and log.
//!
//! Dropout is not used (the runs this is meant for are short, on small corpora).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};

use super::adamw::{AdamW, AdamWParams, learning_rate};
use super::batching::{build_batch, epoch_batches};
use super::corpus::{Corpus, HeldoutSplit};
use super::error::TrainError;
use super::files::write_atomic;
use super::masking::{MaskedBatch, MaskingScheme, mask_batch};
use super::perplexity::{PerplexityReport, UnigramModel, heldout_perplexity, masked_lm_loss};
use crate::jobs::JobCtx;
use crate::model::{Checkpoint, CheckpointFormat, CheckpointSource, EsmConfig, EsmModel, Heads};
use crate::rng::SplitMix64;

/// Everything that defines a run (saved in each checkpoint; a resumed run uses the saved one).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PretrainConfig {
    /// The architecture to train (ESM-1b family: learned positions, `max_positions` set).
    pub model: EsmConfig,
    /// Longer sequences are randomly cropped to this many residues.
    pub max_residues: usize,
    /// Padded tokens per batch, BOS/EOS included.
    pub tokens_per_batch: usize,
    /// Optimiser updates in total.
    pub steps: u64,
    /// Linear warmup steps.
    pub warmup_steps: u64,
    /// Learning rate after warmup.
    pub peak_lr: f64,
    /// The cosine decay ends at `peak_lr * final_lr_fraction`.
    pub final_lr_fraction: f64,
    /// Global gradient-norm clip (0 disables).
    pub clip_norm: f64,
    /// AdamW hyperparameters.
    pub optimizer: AdamWParams,
    /// Target selection and corruption.
    pub masking: MaskingScheme,
    /// Fraction of records held out.
    pub heldout_fraction: f64,
    /// At most this many held-out records.
    pub heldout_max: usize,
    /// When set, held-out records sharing more than this fraction of their 8-mers with the
    /// training part train the model instead (a homology-aware split; `None`: random split).
    #[serde(default)]
    pub heldout_max_shared_kmers: Option<f64>,
    /// Held-out perplexity every this many steps (and at the end).
    pub eval_every: u64,
    /// A checkpoint every this many steps (and at the end, and on cancel).
    pub checkpoint_every: u64,
    /// Seed of the weights, the split, the batch order and the masks.
    pub seed: u64,
    /// Data-parallel workers: each batch is split by rows into this many shards whose
    /// gradients are computed on their own threads and summed. Small models train faster this
    /// way than with candle's threads inside each operation (twice as fast on 2 cores with
    /// `RAYON_NUM_THREADS=1`, which the `pretrain` command sets). The weights depend on it
    /// only through floating-point summation order.
    #[serde(default = "one_worker")]
    pub workers: usize,
    /// Start from these weights instead of random ones (continued pretraining, e.g. domain
    /// adaptation of a released model); its architecture must equal `model`.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
}

impl PretrainConfig {
    /// Defaults for a small model on one CPU: crops of 510 residues, 4,096-token batches,
    /// peak learning rate 1e-3 after 5% warmup, clip 1.0, 5% held out (at most 1,000).
    pub fn small(model: EsmConfig, steps: u64) -> Self {
        Self {
            model,
            max_residues: 510,
            tokens_per_batch: 4096,
            steps,
            warmup_steps: (steps / 20).max(1),
            peak_lr: 1e-3,
            final_lr_fraction: 0.1,
            clip_norm: 1.0,
            optimizer: AdamWParams::default(),
            masking: MaskingScheme::default(),
            heldout_fraction: 0.05,
            heldout_max: 1000,
            heldout_max_shared_kmers: None,
            eval_every: (steps / 10).max(1),
            checkpoint_every: (steps / 20).max(1),
            seed: 1,
            workers: 1,
            init_from: None,
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: &str| {
            Err(TrainError::Corpus(format!(
                "invalid pretraining settings: {m}"
            )))
        };
        self.model
            .validate()
            .map_err(|e| TrainError::Corpus(format!("invalid model: {e}")))?;
        let Some(max_positions) = self.model.max_positions else {
            return bad("the model needs max_positions (ESM-1b architecture)");
        };
        if self.max_residues + 2 > max_positions {
            return bad(&format!(
                "crops of {} residues exceed the model's {max_positions} positions",
                self.max_residues
            ));
        }
        if self
            .heldout_max_shared_kmers
            .is_some_and(|f| !(0.0..=1.0).contains(&f))
        {
            return bad("the held-out 8-mer share limit must lie in 0..=1");
        }
        if self.workers == 0 {
            return bad("workers must be at least 1");
        }
        if self.steps == 0 || self.tokens_per_batch < self.max_residues + 2 {
            return bad("steps must be > 0 and tokens_per_batch must hold one full crop");
        }
        Ok(())
    }
}

fn one_worker() -> usize {
    1
}

/// One line of the training log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    /// Updates completed.
    pub step: u64,
    /// Mean training loss (nats per masked residue) since the previous entry.
    pub train_loss: f64,
    /// Learning rate of the last update.
    pub lr: f64,
    /// Gradient norm of the last update, before clipping.
    pub grad_norm: f64,
    /// Tokens (padding excluded) per second since the previous entry.
    pub tokens_per_second: f64,
    /// Held-out perplexity, on evaluation steps.
    pub heldout: Option<PerplexityReport>,
}

/// The state saved with each checkpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunState {
    /// Updates completed.
    pub step: u64,
    /// The run's configuration.
    pub config: PretrainConfig,
    /// The corpus file.
    pub corpus_path: PathBuf,
    /// [`Corpus::digest`]: a resumed run must see the same corpus.
    pub corpus_digest: String,
    /// Sequences and residues trained on, and held out.
    pub train_sequences: usize,
    /// Residues in the training split.
    pub train_residues: usize,
    /// Held-out sequences.
    pub heldout_sequences: usize,
    /// Held-out records moved into training for their close training relatives
    /// ([`PretrainConfig::heldout_max_shared_kmers`]).
    #[serde(default)]
    pub heldout_moved_similar: usize,
    /// Unigram (amino-acid frequency) perplexity on the held-out targets.
    pub unigram_perplexity: Option<f64>,
    /// The log so far.
    pub log: Vec<LogEntry>,
    /// Training time so far, seconds.
    pub elapsed_seconds: f64,
}

/// What the loop reports as it goes (the CLI prints these; the GUI shows them).
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// The run (re)started.
    Started {
        /// First step to run.
        from_step: u64,
        /// The saved state, for the split sizes and the configuration.
        state: Box<RunState>,
        /// Trainable parameters.
        parameters: usize,
    },
    /// A log line.
    Logged(LogEntry),
    /// A checkpoint was written.
    Saved(PathBuf),
}

/// Trains (or resumes, when `out_dir` holds a checkpoint of the same corpus) and returns the
/// final state. Progress goes through `ctx` (fraction of steps done); on cancel a checkpoint is
/// saved and [`TrainError::Cancelled`] returned.
pub fn pretrain(
    corpus_path: &Path,
    config: PretrainConfig,
    out_dir: &Path,
    ctx: &JobCtx,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<RunState, TrainError> {
    std::fs::create_dir_all(out_dir.join("checkpoints")).map_err(|source| TrainError::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    // The newest checkpoint and its saved state, read once; a resumed run keeps its config.
    let resume = match latest_checkpoint(out_dir)? {
        Some(dir) => Some((read_state(&dir)?, dir)),
        None => None,
    };
    let config = match &resume {
        Some((saved, _)) => saved.config.clone(),
        None => config,
    };
    config.validate()?;
    let corpus = load_corpus(corpus_path, &config, out_dir)?;
    let unigram = UnigramModel::fit(&corpus.train);
    let heads = Heads {
        lm: true,
        contact: false,
    };

    let (vars, mut state) = starting_point(resume.as_ref(), &config, &corpus, heads)?;
    let mut optimizer = AdamW::new(vars, config.optimizer)?;
    if let Some((_, dir)) = &resume {
        restore_optimizer(&mut optimizer, dir, state.step)?;
    }
    let parameters = optimizer.vars().values().map(|v| v.elem_count()).sum();
    on_event(TrainEvent::Started {
        from_step: state.step,
        state: Box::new(state.clone()),
        parameters,
    });

    let lengths: Vec<usize> = corpus.train.iter().map(Vec::len).collect();
    let mut schedule = BatchSchedule::new(&lengths, &config);
    schedule.skip(state.step);
    let build = |opt: &AdamW| model_of(opt, &config, heads);

    let workers = worker_pool(config.workers)?;
    let mut window = LogWindow::new();
    let log_every = (config.eval_every / 10).clamp(1, 50);
    while state.step < config.steps {
        let rows = schedule.next_batch();
        let (loss, lr, grad_norm, tokens) = train_step(
            &corpus,
            &rows,
            &config,
            heads,
            &mut optimizer,
            workers.as_ref(),
            state.step,
        )?;
        state.step += 1;
        window.add(loss, tokens);

        // With no held-out split (`heldout_fraction` 0) there is nothing to score.
        let evaluate = !corpus.heldout_tokens.is_empty()
            && (state.step % config.eval_every == 0 || state.step == config.steps);
        if evaluate || state.step % log_every == 0 {
            // Measured before any held-out scoring: throughput counts training time only.
            let seconds = window.since.elapsed().as_secs_f64();
            state.elapsed_seconds += seconds;
            let heldout = if evaluate {
                let report =
                    score_heldout(&build(&optimizer)?, &corpus, &config, &unigram, state.step)?;
                state.unigram_perplexity = report.unigram_perplexity;
                Some(report)
            } else {
                None
            };
            let entry = window.close(state.step, lr, grad_norm, seconds, heldout);
            state.log.push(entry.clone());
            on_event(TrainEvent::Logged(entry));
        }
        let cancelled = ctx
            .checkpoint(state.step as f32 / config.steps as f32)
            .is_err();
        if cancelled || state.step % config.checkpoint_every == 0 || state.step == config.steps {
            on_event(TrainEvent::Saved(save_checkpoint(
                out_dir, &optimizer, &state,
            )?));
        }
        if cancelled {
            return Err(TrainError::Cancelled { step: state.step });
        }
    }
    let final_model = checkpoint_of(&optimizer, &config.model, out_dir.join("model.safetensors"));
    final_model.save_workbench_safetensors(&out_dir.join("model.safetensors"))?;
    write_json(&out_dir.join("training.json"), &state)?;
    Ok(state)
}

/// The steps since the last log line: summed loss, step count, tokens, and when it began.
struct LogWindow {
    loss_sum: f64,
    steps: usize,
    tokens: usize,
    since: Instant,
}

impl LogWindow {
    fn new() -> Self {
        Self {
            loss_sum: 0.0,
            steps: 0,
            tokens: 0,
            since: Instant::now(),
        }
    }

    /// Counts one step's loss and tokens.
    fn add(&mut self, loss: f32, tokens: usize) {
        self.loss_sum += f64::from(loss);
        self.steps += 1;
        self.tokens += tokens;
    }

    /// The log line at `step`: mean loss over the window and its throughput over `seconds` of
    /// training; a new window starts now.
    fn close(
        &mut self,
        step: u64,
        lr: f64,
        grad_norm: f64,
        seconds: f64,
        heldout: Option<PerplexityReport>,
    ) -> LogEntry {
        let entry = LogEntry {
            step,
            train_loss: self.loss_sum / self.steps.max(1) as f64,
            lr,
            grad_norm,
            tokens_per_second: self.tokens as f64 / seconds.max(1e-9),
            heldout,
        };
        *self = Self::new();
        entry
    }
}

/// The training corpus and its held-out split (written to `out_dir/heldout.fasta`).
fn load_corpus(
    corpus_path: &Path,
    config: &PretrainConfig,
    out_dir: &Path,
) -> Result<Corpus, TrainError> {
    let corpus = Corpus::load(
        corpus_path,
        &HeldoutSplit {
            fraction: config.heldout_fraction,
            max: config.heldout_max,
            seed: config.seed,
            max_shared_kmers: config.heldout_max_shared_kmers,
        },
    )?;
    corpus.write_heldout_fasta(&out_dir.join("heldout.fasta"))?;
    Ok(corpus)
}

/// The weights and run state a run starts from: a resumed run's (its corpus must be the one it
/// was started on), or fresh ones (from `init_from` or random) for a new run.
fn starting_point(
    resume: Option<&(RunState, PathBuf)>,
    config: &PretrainConfig,
    corpus: &Corpus,
    heads: Heads,
) -> Result<(BTreeMap<String, Var>, RunState), TrainError> {
    match resume {
        Some((saved, dir)) => {
            if saved.corpus_digest != corpus.digest {
                return Err(TrainError::Resume {
                    reason: format!("the corpus differs from {}", saved.corpus_path.display()),
                    path: dir.clone(),
                });
            }
            let vars = load_vars(&dir.join("model.safetensors"), &config.model, heads)?;
            Ok((vars, saved.clone()))
        }
        None => {
            let vars = match &config.init_from {
                Some(path) => load_vars(path, &config.model, heads)?,
                None => init_vars(config, heads)?,
            };
            Ok((vars, new_state(config, corpus)))
        }
    }
}

/// Loads the optimizer moments saved in checkpoint folder `dir` at `step`.
fn restore_optimizer(optimizer: &mut AdamW, dir: &Path, step: u64) -> Result<(), TrainError> {
    let path = dir.join("optimizer.safetensors");
    let resume_error = |e: &dyn std::fmt::Display| TrainError::Resume {
        reason: e.to_string(),
        path: path.clone(),
    };
    let tensors =
        candle_core::safetensors::load(&path, &Device::Cpu).map_err(|e| resume_error(&e))?;
    optimizer
        .restore(&tensors, step)
        .map_err(|e| resume_error(&e))
}

/// A pool of `workers` threads for data-parallel gradients (`None` for one worker).
fn worker_pool(workers: usize) -> Result<Option<rayon::ThreadPool>, TrainError> {
    if workers == 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("pretrain-worker-{i}"))
        .build()
        .map(Some)
        .map_err(|e| TrainError::Corpus(format!("cannot start {workers} workers: {e}")))
}

/// The model of the optimizer's current weights.
fn model_of(
    optimizer: &AdamW,
    config: &PretrainConfig,
    heads: Heads,
) -> Result<EsmModel, TrainError> {
    let tensors = optimizer
        .vars()
        .iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
        .collect();
    Ok(EsmModel::from_tensors(
        config.model.clone(),
        heads,
        tensors,
        &Device::Cpu,
    )?)
}

/// One optimizer step, the `step`-th, on the training records `rows` (cropped and masked
/// with the step's own seed, so a resumed run repeats it exactly). Returns the masked-LM loss,
/// the learning rate, the gradient norm before clipping, and the tokens seen.
fn train_step(
    corpus: &Corpus,
    rows: &[usize],
    config: &PretrainConfig,
    heads: Heads,
    optimizer: &mut AdamW,
    workers: Option<&rayon::ThreadPool>,
    step: u64,
) -> Result<(f32, f64, f64, usize), TrainError> {
    let mut rng = SplitMix64::stream(config.seed, step);
    let batch = build_batch(&corpus.train, rows, config.max_residues, &mut rng);
    let masked = mask_batch(&batch, &config.masking, &mut rng);
    let model = model_of(optimizer, config, heads)?;
    let (loss, grads) = match workers {
        Some(pool) => data_parallel_gradients(pool, &model, &masked)?,
        None => {
            let loss = masked_lm_loss(&model, &masked)?;
            (loss.to_scalar::<f32>()?, loss.backward()?)
        }
    };
    let lr = learning_rate(
        step,
        config.warmup_steps,
        config.steps,
        config.peak_lr,
        config.final_lr_fraction,
    );
    let grad_norm = optimizer.step(&grads, lr, config.clip_norm)?;
    let tokens = batch.residue_counts.iter().map(|r| r + 2).sum::<usize>();
    Ok((loss, lr, grad_norm, tokens))
}

/// The held-out perplexity of `model` (and the unigram baseline's) after `step` steps.
fn score_heldout(
    model: &EsmModel,
    corpus: &Corpus,
    config: &PretrainConfig,
    unigram: &UnigramModel,
    step: u64,
) -> Result<PerplexityReport, TrainError> {
    Ok(heldout_perplexity(
        model,
        &corpus.heldout_tokens,
        config.max_residues,
        config.tokens_per_batch,
        Some(unigram),
        &JobCtx::default(),
    )
    .map_err(|_| TrainError::Cancelled { step })??)
}

/// The mean masked-LM loss of `masked` and its gradient, computed as one row shard per thread
/// of `pool`: each shard's loss is weighted by its share of the targets, so the summed
/// gradients are the whole batch's (summed in shard order, so a run is reproducible).
fn data_parallel_gradients(
    pool: &rayon::ThreadPool,
    model: &EsmModel,
    masked: &MaskedBatch,
) -> Result<(f32, GradStore), TrainError> {
    use rayon::prelude::*;
    let total = masked.target_tokens.len().max(1) as f64;
    let shards: Vec<MaskedBatch> = masked
        .split_rows(pool.current_num_threads())
        .into_iter()
        .filter(|shard| !shard.target_tokens.is_empty())
        .collect();
    let results: Vec<Result<(f32, GradStore), TrainError>> = pool.install(|| {
        shards
            .par_iter()
            .with_max_len(1)
            .map(|shard| {
                let weight = shard.target_tokens.len() as f64 / total;
                let loss = masked_lm_loss(model, shard)?.affine(weight, 0.0)?;
                Ok((loss.to_scalar::<f32>()?, loss.backward()?))
            })
            .collect()
    });
    let mut results = results.into_iter();
    let (mut loss, mut grads) = results
        .next()
        .ok_or_else(|| TrainError::Corpus("a batch without targets".into()))??;
    for result in results {
        let (shard_loss, shard_grads) = result?;
        loss += shard_loss;
        // Adds the gradients of tensors both shards share (the weights), in shard order.
        grads.extend(shard_grads)?;
    }
    Ok((loss, grads))
}

/// Which sequences each step trains on: epochs of shuffled, length-bucketed batches, a pure
/// function of the seed and the step number (so a resumed run continues the same stream).
struct BatchSchedule<'a> {
    lengths: &'a [usize],
    max_residues: usize,
    tokens_per_batch: usize,
    seed: u64,
    epoch: u64,
    batches: Vec<Vec<usize>>,
    next: usize,
}

impl<'a> BatchSchedule<'a> {
    fn new(lengths: &'a [usize], config: &PretrainConfig) -> Self {
        let mut schedule = Self {
            lengths,
            max_residues: config.max_residues,
            tokens_per_batch: config.tokens_per_batch,
            seed: config.seed,
            epoch: 0,
            batches: Vec::new(),
            next: 0,
        };
        schedule.start_epoch(0);
        schedule
    }

    fn start_epoch(&mut self, epoch: u64) {
        let mut rng = SplitMix64::stream(self.seed ^ 0xE90C, epoch);
        self.batches = epoch_batches(
            self.lengths,
            self.max_residues,
            self.tokens_per_batch,
            &mut rng,
        );
        self.epoch = epoch;
        self.next = 0;
    }

    fn next_batch(&mut self) -> Vec<usize> {
        if self.next >= self.batches.len() {
            self.start_epoch(self.epoch + 1);
        }
        self.next += 1;
        self.batches[self.next - 1].clone()
    }

    fn skip(&mut self, steps: u64) {
        for _ in 0..steps {
            self.next_batch();
        }
    }
}

fn new_state(config: &PretrainConfig, corpus: &Corpus) -> RunState {
    RunState {
        step: 0,
        config: config.clone(),
        corpus_path: corpus.path.clone(),
        corpus_digest: corpus.digest.clone(),
        train_sequences: corpus.train.len(),
        train_residues: corpus.train_residues(),
        heldout_sequences: corpus.heldout.len(),
        heldout_moved_similar: corpus.moved_similar,
        unigram_perplexity: None,
        log: Vec::new(),
        elapsed_seconds: 0.0,
    }
}

/// Fresh weights: N(0, 0.02) matrices, unit LayerNorm weights, zero biases (BERT's initialiser).
fn init_vars(config: &PretrainConfig, heads: Heads) -> Result<BTreeMap<String, Var>, TrainError> {
    let checkpoint = Checkpoint::random(config.model.clone(), config.seed)?;
    let wanted: Vec<String> = crate::model::expected_shapes(&config.model, heads)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut vars = BTreeMap::new();
    for name in wanted {
        let tensor = checkpoint
            .tensors
            .get(&name)
            .ok_or_else(|| TrainError::Corpus(format!("initialiser lacks {name}")))?;
        vars.insert(name, Var::from_tensor(tensor)?);
    }
    Ok(vars)
}

fn load_vars(
    path: &Path,
    config: &EsmConfig,
    heads: Heads,
) -> Result<BTreeMap<String, Var>, TrainError> {
    let checkpoint = Checkpoint::read(path)?;
    if &checkpoint.config != config {
        return Err(TrainError::Resume {
            reason: "the saved model's configuration differs".into(),
            path: path.to_owned(),
        });
    }
    let mut vars = BTreeMap::new();
    for (name, _) in crate::model::expected_shapes(config, heads) {
        let tensor = checkpoint
            .tensors
            .get(&name)
            .ok_or_else(|| TrainError::Resume {
                reason: format!("tensor {name} is missing"),
                path: path.to_owned(),
            })?;
        vars.insert(
            name,
            Var::from_tensor(&tensor.to_dtype(candle_core::DType::F32)?)?,
        );
    }
    Ok(vars)
}

fn checkpoint_of(optimizer: &AdamW, config: &EsmConfig, path: PathBuf) -> Checkpoint {
    let tensors: HashMap<String, Tensor> = optimizer
        .vars()
        .iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
        .collect();
    Checkpoint {
        config: config.clone(),
        tensors,
        source: CheckpointSource {
            path,
            format: CheckpointFormat::Workbench,
            contact_regression_path: None,
            ignored_tensors: vec![],
        },
    }
}

/// Writes `checkpoints/step-N` through a `.partial` folder and a rename; keeps the two newest.
fn save_checkpoint(
    out_dir: &Path,
    optimizer: &AdamW,
    state: &RunState,
) -> Result<PathBuf, TrainError> {
    let root = out_dir.join("checkpoints");
    let final_dir = root.join(format!("step-{:08}", state.step));
    let partial = root.join(format!("step-{:08}.partial", state.step));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TrainError::Io { path, source }
    };
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    checkpoint_of(
        optimizer,
        &state.config.model,
        final_dir.join("model.safetensors"),
    )
    .save_workbench_safetensors(&partial.join("model.safetensors"))?;
    let moments = optimizer.state_tensors();
    let views: Vec<(&str, &Tensor)> = moments.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let metadata = HashMap::from([("step".to_owned(), state.step.to_string())]);
    let opt_path = partial.join("optimizer.safetensors");
    safetensors::tensor::serialize_to_file(views, Some(metadata), &opt_path).map_err(|e| {
        TrainError::Io {
            path: opt_path.clone(),
            source: std::io::Error::other(e.to_string()),
        }
    })?;
    write_json(&partial.join("state.json"), state)?;
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).map_err(io(&final_dir))?;
    }
    std::fs::rename(&partial, &final_dir).map_err(io(&final_dir))?;
    let mut complete = complete_checkpoints(out_dir)?;
    while complete.len() > 2 {
        let old = complete.remove(0);
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(final_dir)
}

/// Complete checkpoint folders, oldest first.
fn complete_checkpoints(out_dir: &Path) -> Result<Vec<PathBuf>, TrainError> {
    let root = out_dir.join("checkpoints");
    let entries = match std::fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(TrainError::Io { path: root, source }),
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("step-") && !n.ends_with(".partial"))
                && p.join("state.json").is_file()
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The newest complete checkpoint in `out_dir`, if any.
pub fn latest_checkpoint(out_dir: &Path) -> Result<Option<PathBuf>, TrainError> {
    Ok(complete_checkpoints(out_dir)?.pop())
}

/// Reads `state.json` of a checkpoint folder.
pub fn read_state(dir: &Path) -> Result<RunState, TrainError> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).map_err(|source| TrainError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| TrainError::Resume {
        reason: format!("unreadable state: {e}"),
        path,
    })
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| TrainError::Corpus(format!("cannot serialise: {e}")))?;
    write_atomic(path, text.as_bytes())
}
