//! Extraction reports progress and stops on cancel between batches, leaving complete files.

mod common;

use candle_core::Device;
use common::{TestResult, fixture};
use esm_workbench::analysis::JobCtx;
use esm_workbench::analysis::extract::{ExtractError, ExtractParams, extract_records};
use esm_workbench::data::FastaRecord;
use esm_workbench::model::LoadedModel;

fn records(n: usize) -> Vec<FastaRecord> {
    (0..n)
        .map(|i| FastaRecord {
            id: format!("seq{i}"),
            description: String::new(),
            sequence: "MKTAYIAKQRQISFVKSHFSRQ".repeat(1 + i % 3),
            line: 1 + 2 * i,
        })
        .collect()
}

#[test]
fn cancel_stops_between_batches_and_keeps_finished_files() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    let dir = tempfile::tempdir()?;
    // Cancel as soon as the first batch has reported progress.
    let ctx = common::cancel_after_first_batch();
    let params = ExtractParams {
        toks_per_batch: 100,
        ..ExtractParams::default()
    };
    let err = extract_records(&model.model, &records(12), dir.path(), &params, &ctx)
        .expect_err("cancelled");
    assert!(matches!(err, ExtractError::Cancelled(_)), "{err}");
    assert!(
        ctx.progress() > 0.0 && ctx.progress() < 1.0,
        "{}",
        ctx.progress()
    );
    let manifest = std::fs::read_to_string(dir.path().join("manifest.tsv"))?;
    let written: Vec<&str> = manifest.lines().skip(1).collect();
    assert!(!written.is_empty() && written.len() < 12, "{manifest}");
    for line in written {
        let file = line.split('\t').nth(1).ok_or("manifest column")?;
        let arrays = candle_core::Tensor::read_npz(dir.path().join(file))?;
        assert_eq!(arrays.len(), 1, "{file}: mean of the last layer only");
    }
    let partial = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .any(|e| e.path().to_string_lossy().ends_with(".partial"));
    assert!(!partial, "no half-written files remain");
    Ok(())
}

#[test]
fn full_run_reports_completion() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    let dir = tempfile::tempdir()?;
    let ctx = JobCtx::default();
    let summary = extract_records(
        &model.model,
        &records(5),
        dir.path(),
        &ExtractParams::default(),
        &ctx,
    )?;
    assert_eq!(summary.sequences, 5);
    assert!((ctx.progress() - 1.0).abs() < 1e-6);
    Ok(())
}
