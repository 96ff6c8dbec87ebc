//! Embedding runs with the content-addressed cache.

mod common;

use candle_core::Device;
use common::{TestResult, fixture, max_abs_diff};
use esm_workbench::analysis::JobCtx;
use esm_workbench::analysis::embed_run::{
    EmbedError, EmbedRequest, embed_dataset, policy_variant, stack_means,
};
use esm_workbench::data::EmbeddingCache;
use esm_workbench::model::{Checkpoint, LengthPolicy, LoadedModel};

fn records(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("p{i}"),
                "MKTAYIAKQRQISFVKSHFSRQ"[..10 + i].to_owned(),
            )
        })
        .collect()
}

fn request() -> EmbedRequest {
    EmbedRequest {
        layers: vec![1, 2],
        per_residue: true,
        length_policy: LengthPolicy::Truncate,
        toks_per_batch: 40,
    }
}

#[test]
fn second_run_comes_from_the_cache_with_identical_numbers() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    let dir = tempfile::tempdir()?;
    let cache = EmbeddingCache::new(
        dir.path(),
        &model.fingerprint,
        &policy_variant(LengthPolicy::Truncate),
    );
    let recs = records(8);
    let first = embed_dataset(&model, &recs, &request(), Some(&cache), &JobCtx::default())?;
    assert_eq!(first.cache_hits, 0);
    let second = embed_dataset(&model, &recs, &request(), Some(&cache), &JobCtx::default())?;
    assert_eq!(second.cache_hits, 8);
    let uncached = embed_dataset(&model, &recs, &request(), None, &JobCtx::default())?;
    for layer in [1, 2] {
        let a = stack_means(&second.embeddings, layer)?;
        assert_eq!(a.dims(), &[8, 32]);
        assert!(max_abs_diff(&a, &stack_means(&uncached.embeddings, layer)?)? < 1e-6);
    }
    assert_eq!(second.embeddings[3].per_residue[&2].dims(), &[13, 32]);
    // A request for a layer never stored misses.
    let layer0 = EmbedRequest {
        layers: vec![0],
        ..request()
    };
    assert_eq!(
        embed_dataset(&model, &recs, &layer0, Some(&cache), &JobCtx::default())?.cache_hits,
        0
    );
    Ok(())
}

#[test]
fn cancelled_run_keeps_finished_batches() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    let dir = tempfile::tempdir()?;
    let cache = EmbeddingCache::new(dir.path(), &model.fingerprint, "truncate");
    let ctx = common::cancel_after_first_batch();
    let recs = records(8);
    let err = embed_dataset(&model, &recs, &request(), Some(&cache), &ctx).expect_err("cancelled");
    assert!(matches!(err, EmbedError::Cancelled(_)));
    let resumed = embed_dataset(&model, &recs, &request(), Some(&cache), &JobCtx::default())?;
    assert!(
        resumed.cache_hits > 0 && resumed.cache_hits < 8,
        "{}",
        resumed.cache_hits
    );
    Ok(())
}

#[test]
fn fingerprint_follows_the_weights_not_the_file_format() -> TestResult {
    let pt = Checkpoint::read(&fixture("esm2_tiny_t2.pt"))?.fingerprint()?;
    let hf = Checkpoint::read(&fixture("esm2_tiny_t2_hf"))?.fingerprint()?;
    assert_eq!(pt, hf);
    let other = Checkpoint::read(&fixture("esm1b_tiny_t2.pt"))?.fingerprint()?;
    assert_ne!(pt, other);
    Ok(())
}
