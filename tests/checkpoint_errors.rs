//! Bad checkpoints give clear errors naming the file and the tensor; nothing panics.

mod common;

use std::path::Path;

use candle_core::{Device, Tensor};
use common::{TestResult, fixture};
use esm_workbench::model::{Checkpoint, ForwardRequest, LoadedModel, ModelError, TokenBatch};

fn load_err(path: &Path) -> ModelError {
    match LoadedModel::load(path, &Device::Cpu) {
        Ok(_) => panic!("{} should not load", path.display()),
        Err(e) => e,
    }
}

#[test]
fn truncated_file_names_the_file() {
    let path = fixture("truncated.pt");
    let msg = load_err(&path).to_string();
    assert!(
        msg.contains("truncated.pt") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn random_bytes_and_empty_files_are_not_checkpoints() -> TestResult {
    let dir = tempfile::tempdir()?;
    let junk = dir.path().join("junk.pt");
    std::fs::write(&junk, b"this is not a model at all, just text")?;
    assert!(matches!(load_err(&junk), ModelError::NotACheckpoint { .. }));
    let empty = dir.path().join("empty.safetensors");
    std::fs::write(&empty, b"")?;
    let msg = load_err(&empty).to_string();
    assert!(msg.contains("empty.safetensors"), "{msg}");
    let missing = dir.path().join("missing.pt");
    assert!(matches!(load_err(&missing), ModelError::Io { .. }));
    Ok(())
}

#[test]
fn a_torch_file_without_args_or_cfg_is_rejected() {
    // The contact-regression file is a real torch zip with {"model": {...}} but no hyperparameters.
    let msg = load_err(&fixture("esm1b_tiny_t2-contact-regression.pt")).to_string();
    assert!(msg.contains("no `args` or `cfg`"), "{msg}");
}

#[test]
fn wrong_shape_names_the_tensor_and_file() -> TestResult {
    let mut checkpoint = Checkpoint::read(&fixture("esm1b_tiny_t2.pt"))?;
    checkpoint.tensors.insert(
        "layers.1.fc1.weight".into(),
        Tensor::zeros((3, 3), candle_core::DType::F32, &Device::Cpu)?,
    );
    let err = LoadedModel::from_checkpoint(checkpoint, &Device::Cpu).expect_err("bad shape");
    let msg = err.to_string();
    assert!(
        msg.contains("layers.1.fc1.weight")
            && msg.contains("[3, 3]")
            && msg.contains("esm1b_tiny_t2.pt"),
        "{msg}"
    );
    Ok(())
}

#[test]
fn missing_tensor_is_reported() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut checkpoint = Checkpoint::read(&fixture("esm2_tiny_t2.pt"))?;
    checkpoint.tensors.remove("layers.0.self_attn.v_proj.bias");
    let out = dir.path().join("broken.safetensors");
    checkpoint.save_workbench_safetensors(&out)?;
    let msg = load_err(&out).to_string();
    assert!(
        msg.contains("layers.0.self_attn.v_proj.bias is missing")
            && msg.contains("broken.safetensors"),
        "{msg}"
    );
    Ok(())
}

#[test]
fn without_contact_regression_contacts_are_unavailable_not_wrong() -> TestResult {
    let dir = tempfile::tempdir()?;
    let lonely = dir.path().join("esm1b_tiny_t2.pt");
    std::fs::copy(fixture("esm1b_tiny_t2.pt"), &lonely)?;
    let model = LoadedModel::load(&lonely, &Device::Cpu)?;
    assert!(!model.model.has_contact_head());
    let batch = TokenBatch::encode([("s", "MKTAYIAK")])?;
    let err = model
        .model
        .forward(
            &batch,
            &ForwardRequest {
                contacts: true,
                ..Default::default()
            },
        )
        .expect_err("no contact head");
    assert!(err.to_string().contains("contact-regression.pt"), "{err}");
    // Everything else still works.
    let out = model.model.forward(
        &batch,
        &ForwardRequest {
            repr_layers: vec![2],
            logits: true,
            ..Default::default()
        },
    )?;
    assert!(out.logits.is_some());
    Ok(())
}

#[test]
fn hf_config_with_foreign_vocabulary_is_rejected() -> TestResult {
    let dir = tempfile::tempdir()?;
    let src = fixture("esm2_tiny_t2_hf");
    std::fs::copy(
        src.join("model.safetensors"),
        dir.path().join("model.safetensors"),
    )?;
    let config = std::fs::read_to_string(src.join("config.json"))?
        .replace("\"vocab_size\": 33", "\"vocab_size\": 30522");
    std::fs::write(dir.path().join("config.json"), config)?;
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains("vocab_size") && msg.contains("config.json"),
        "{msg}"
    );
    Ok(())
}
