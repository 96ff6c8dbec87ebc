//! Masked-LM pretraining end to end on the demo FASTA with a tiny ESM-1b: the held-out
//! perplexity falls, checkpoints are complete folders, and a run stopped midway and resumed
//! ends with the same weights as an uninterrupted one.

use std::path::{Path, PathBuf};

use esm_workbench::analysis::JobCtx;
use esm_workbench::model::{Architecture, Checkpoint, EsmConfig};
use esm_workbench::train::{PretrainConfig, TrainError, TrainEvent, latest_checkpoint, pretrain};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/uniprot_orthologs.fasta")
}

fn tiny(steps: u64) -> PretrainConfig {
    let model = EsmConfig {
        architecture: Architecture::Esm1b,
        num_layers: 2,
        embed_dim: 32,
        ffn_embed_dim: 64,
        attention_heads: 4,
        max_positions: Some(130),
        token_dropout: true,
        emb_layer_norm_before: true,
        layer_norm_eps: 1e-5,
    };
    let mut config = PretrainConfig::small(model, steps);
    config.max_residues = 126;
    config.tokens_per_batch = 2048;
    config.peak_lr = 3e-3;
    config.heldout_fraction = 0.1;
    config.heldout_max = 20;
    config
}

/// A whole run on the demo corpus, without events or cancelling.
fn run(config: PretrainConfig, out: &Path) -> Result<esm_workbench::train::RunState, TrainError> {
    pretrain(&corpus(), config, out, &JobCtx::default(), &mut |_| {})
}

/// A run that the user stops as soon as the first checkpoint is saved.
fn run_until_first_checkpoint(
    config: PretrainConfig,
    out: &Path,
) -> Result<esm_workbench::train::RunState, TrainError> {
    let ctx = JobCtx::default();
    let stopper = ctx.clone();
    pretrain(&corpus(), config, out, &ctx, &mut |event| {
        if matches!(event, TrainEvent::Saved(_)) {
            stopper.cancel();
        }
    })
}

fn max_weight_diff(a: &Path, b: &Path) -> Result<f32, Box<dyn std::error::Error>> {
    let (a, b) = (Checkpoint::read(a)?, Checkpoint::read(b)?);
    let mut worst = 0f32;
    for (name, ta) in &a.tensors {
        let tb = b.tensors.get(name).ok_or(format!("{name} missing"))?;
        worst = worst.max(
            (ta - tb)?
                .abs()?
                .flatten_all()?
                .max(0)?
                .to_scalar::<f32>()?,
        );
    }
    Ok(worst)
}

#[test]
fn perplexity_falls_below_the_unigram_baseline_start() -> TestResult {
    let out = tempfile::tempdir()?;
    let mut config = tiny(40);
    config.eval_every = 20;
    let mut first = None;
    let state = pretrain(
        &corpus(),
        config,
        out.path(),
        &JobCtx::default(),
        &mut |event| {
            if let TrainEvent::Logged(entry) = event
                && first.is_none()
            {
                first = Some(entry.train_loss);
            }
        },
    )?;
    let reports: Vec<_> = state.log.iter().filter_map(|e| e.heldout.clone()).collect();
    assert_eq!(reports.len(), 2);
    let last = &reports[1];
    // Untrained, the model spreads its bets over 33 tokens (perplexity ~33); 40 small steps
    // bring it near the amino-acid frequencies.
    assert!(
        last.perplexity < 24.0,
        "held-out perplexity {}",
        last.perplexity
    );
    assert!(state.log.last().map(|e| e.train_loss).unwrap_or(f64::MAX) < first.unwrap_or(0.0));
    assert!(
        last.unigram_perplexity
            .is_some_and(|u| u > 10.0 && u < 25.0)
    );
    assert!(out.path().join("model.safetensors").is_file());
    assert!(out.path().join("training.json").is_file());
    assert!(out.path().join("heldout.fasta").is_file());
    Ok(())
}

#[test]
fn a_stopped_run_resumes_to_the_same_weights() -> TestResult {
    let steps = 6;
    let straight = tempfile::tempdir()?;
    let mut config = tiny(steps);
    config.checkpoint_every = 2;
    run(config.clone(), straight.path())?;

    let resumed = tempfile::tempdir()?;
    let stopped = run_until_first_checkpoint(config.clone(), resumed.path());
    // Saved at step 2, cancelled, so the loop saves step 3 and stops.
    assert!(
        matches!(stopped, Err(TrainError::Cancelled { step: 3 })),
        "{stopped:?}"
    );
    let latest = latest_checkpoint(resumed.path())?.ok_or("no checkpoint")?;
    assert!(latest.ends_with("step-00000003"));
    for file in ["model.safetensors", "optimizer.safetensors", "state.json"] {
        assert!(latest.join(file).is_file(), "{file}");
    }
    // Resuming ignores the settings passed in (the saved ones apply).
    let mut other = config;
    other.peak_lr = 1.0;
    let state = run(other, resumed.path())?;
    assert_eq!(state.step, steps);
    let diff = max_weight_diff(
        &straight.path().join("model.safetensors"),
        &resumed.path().join("model.safetensors"),
    )?;
    assert!(diff < 1e-6, "resumed weights differ by {diff}");
    Ok(())
}

#[test]
fn resuming_on_a_different_corpus_is_refused() -> TestResult {
    let out = tempfile::tempdir()?;
    run(tiny(2), out.path())?;
    let other = out.path().join("other.fasta");
    std::fs::write(
        &other,
        ">a\nMKTAYIAKQRQISFVKSHFSRQ\n>b\nMKVLAAGIVGLLLAAQ\n>c\nMSTNPKPQRKTKRNTNRRPQDVKFPGG\n",
    )?;
    let err = pretrain(&other, tiny(4), out.path(), &JobCtx::default(), &mut |_| {})
        .err()
        .ok_or("must refuse")?;
    assert!(matches!(err, TrainError::Resume { .. }), "{err}");
    assert!(err.to_string().contains("corpus differs"), "{err}");
    Ok(())
}

#[test]
fn a_run_started_from_saved_weights_continues_from_them() -> TestResult {
    let first = tempfile::tempdir()?;
    let mut config = tiny(30);
    config.eval_every = 30;
    let trained = run(config.clone(), first.path())?;
    let trained_ppl = trained
        .log
        .last()
        .and_then(|e| e.heldout.clone())
        .ok_or("no held-out report")?
        .perplexity;

    // Continue with a tiny learning rate: the first evaluation sits at the saved model's level,
    // far below where random weights start.
    let second = tempfile::tempdir()?;
    let mut warm = tiny(2);
    warm.eval_every = 1;
    warm.peak_lr = 1e-7;
    warm.init_from = Some(first.path().join("model.safetensors"));
    let continued = run(warm.clone(), second.path())?;
    let first_ppl = continued.log[0]
        .heldout
        .clone()
        .ok_or("no report")?
        .perplexity;
    assert!(
        (first_ppl - trained_ppl).abs() < 0.05 * trained_ppl,
        "{first_ppl} vs {trained_ppl}"
    );
    assert_eq!(
        continued.config.init_from, warm.init_from,
        "provenance is saved"
    );

    // A different architecture is refused with the file named.
    let mut wrong = tiny(2);
    wrong.model.embed_dim = 64;
    wrong.model.ffn_embed_dim = 128;
    wrong.init_from = warm.init_from.clone();
    let third = tempfile::tempdir()?;
    let err = run(wrong, third.path()).expect_err("architecture differs");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    Ok(())
}

#[test]
fn a_run_without_a_held_out_split_trains_and_reports_no_perplexity() -> TestResult {
    let out = tempfile::tempdir()?;
    let mut config = tiny(3);
    config.heldout_fraction = 0.0;
    config.eval_every = 1;
    let state = run(config, out.path())?;
    assert_eq!(state.heldout_sequences, 0);
    assert_eq!(state.step, 3);
    // No "perplexity 1.0 on 0 residues": the log has no held-out reports at all.
    assert!(
        state.log.iter().all(|e| e.heldout.is_none()),
        "{:?}",
        state.log
    );
    assert!(out.path().join("model.safetensors").is_file());
    Ok(())
}

#[test]
fn a_homology_aware_split_keeps_close_relatives_of_training_out_of_the_held_out_set() -> TestResult
{
    // The demo corpus is orthologs from several species: a random split holds out proteins whose
    // orthologs train the model.
    let (random_dir, strict_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let mut config = tiny(1);
    config.heldout_fraction = 0.3;
    config.heldout_max = 1000;
    let random = run(config.clone(), random_dir.path())?;
    config.heldout_max_shared_kmers = Some(0.1);
    let strict = run(config, strict_dir.path())?;
    assert_eq!(random.heldout_moved_similar, 0);
    assert!(strict.heldout_moved_similar > 0, "nothing moved");
    assert_eq!(
        strict.heldout_sequences + strict.heldout_moved_similar,
        random.heldout_sequences
    );
    assert_eq!(
        strict.train_sequences,
        random.train_sequences + strict.heldout_moved_similar
    );
    let written = std::fs::read_to_string(strict_dir.path().join("heldout.fasta"))?;
    assert_eq!(written.matches('>').count(), strict.heldout_sequences);
    Ok(())
}

#[test]
fn data_parallel_workers_train_the_same_model_as_one() -> TestResult {
    // The same batches and masks, each split into row shards whose gradients are summed: the
    // weights agree with a single worker's up to floating-point summation order, and a stopped
    // run with workers resumes to the same weights.
    let (one, three, resumed) = (
        tempfile::tempdir()?,
        tempfile::tempdir()?,
        tempfile::tempdir()?,
    );
    let mut config = tiny(6);
    config.checkpoint_every = 3;
    let single = run(config.clone(), one.path())?;
    config.workers = 3;
    let parallel = run(config.clone(), three.path())?;
    assert_eq!(parallel.config.workers, 3, "saved with the run");
    let diff = max_weight_diff(
        &one.path().join("model.safetensors"),
        &three.path().join("model.safetensors"),
    )?;
    assert!(diff < 1e-4, "3 workers differ from 1 by {diff}");
    let losses = |s: &esm_workbench::train::RunState| -> Vec<f64> {
        s.log.iter().map(|e| e.train_loss).collect()
    };
    for (a, b) in losses(&single).iter().zip(losses(&parallel)) {
        assert!((a - b).abs() < 1e-4, "training loss {a} vs {b}");
    }

    let stopped = run_until_first_checkpoint(config.clone(), resumed.path());
    assert!(
        matches!(stopped, Err(TrainError::Cancelled { .. })),
        "{stopped:?}"
    );
    run(config, resumed.path())?;
    let diff = max_weight_diff(
        &three.path().join("model.safetensors"),
        &resumed.path().join("model.safetensors"),
    )?;
    assert!(
        diff < 1e-6,
        "resumed with workers: weights differ by {diff}"
    );
    Ok(())
}
