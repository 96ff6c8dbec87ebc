//! Every result says which model and data made it: a study's sweep carries the model's name and
//! fingerprint and the sets it ran on; its probe can be saved only for that model; the CLI
//! writes `NAME.provenance.json` beside every result table.

mod common;

use std::process::Command;

use esm_workbench::analysis::best_probe::save_best_ss8_probe;
use esm_workbench::analysis::ss8_study::{Ss8StudyRequest, run_ss8_study};
use esm_workbench::jobs::JobCtx;
use esm_workbench::model::LoadedModel;
use esm_workbench::store::StoreOptions;

const STARTER: &str = "assets/starter/starter_esm1b_t4_128.safetensors";
const TRAIN: &str = "datasets/kit/ss8_train.tsv";
const TEST: &str = "datasets/kit/ts50.json";

#[test]
fn a_study_names_its_model_and_data_and_saves_its_probe_only_for_that_model()
-> Result<(), Box<dyn std::error::Error>> {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR"))?;
    let stores = tempfile::tempdir()?;
    let starter = LoadedModel::load(STARTER.as_ref(), &candle_core::Device::Cpu)?;
    let request = Ss8StudyRequest {
        store: StoreOptions {
            root: stores.path().to_owned(),
            ..StoreOptions::default()
        },
        ..Ss8StudyRequest::from_files(TRAIN.as_ref(), TEST.as_ref(), Some(3))?
    };
    let study = run_ss8_study(&starter, &request, &JobCtx::default())?;
    let provenance = &study.sweep.provenance;
    assert_eq!(provenance.model, starter.model_ref());
    let names: Vec<&str> = provenance.data.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["ss8_train.tsv", "ts50.json"]);
    assert_eq!(provenance.data[0].proteins, 3);
    assert_eq!(provenance.data[1].proteins, request.test.len());
    assert!(
        provenance.header().starts_with(&format!(
            "starter_esm1b_t4_128 ({}) on ss8_train.tsv (3 proteins",
            &starter.fingerprint[..12]
        )),
        "{}",
        provenance.header()
    );

    let dir = tempfile::tempdir()?;
    let other = LoadedModel::load(
        &common::fixture("esm1b_tiny_t2.pt"),
        &candle_core::Device::Cpu,
    )?;
    let refused = save_best_ss8_probe(
        &study,
        &other.model_ref(),
        &dir.path().join("p.safetensors"),
    )
    .expect_err("another model's probe is not saved");
    let text = refused.to_string();
    assert!(
        text.contains("made with starter_esm1b_t4_128") && text.contains("esm1b_tiny_t2"),
        "{text}"
    );
    assert!(!dir.path().join("p.safetensors").exists());
    let saved = save_best_ss8_probe(
        &study,
        &starter.model_ref(),
        &dir.path().join("p.safetensors"),
    )?;
    assert!(saved.starts_with("saved the layer-4 probe"), "{saved}");
    let (_, metadata) = esm_workbench::probes::load_ss8_probe(&dir.path().join("p.safetensors"))?;
    assert_eq!(metadata.model_fingerprint, starter.fingerprint);
    Ok(())
}

#[test]
fn the_cli_writes_the_provenance_beside_each_result_table() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("ss8.csv");
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
        .current_dir(root)
        .args([
            "probe", "ss8", "--model", STARTER, "--train", TRAIN, "--test", TEST,
        ])
        .args(["--max-train", "3", "--store"])
        .arg(dir.path().join("stores"))
        .arg("--out")
        .arg(&out)
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sidecar = dir.path().join("ss8.csv.provenance.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sidecar)?)?;
    let starter = LoadedModel::load(
        &std::path::Path::new(root).join(STARTER),
        &candle_core::Device::Cpu,
    )?;
    assert_eq!(json["model"]["name"], "starter_esm1b_t4_128");
    assert_eq!(json["model"]["fingerprint"], starter.fingerprint.as_str());
    assert_eq!(json["file"], "ss8.csv");
    assert_eq!(json["data"][0]["name"], "ss8_train.tsv");
    assert_eq!(json["data"][0]["proteins"], 3);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("ss8.csv.provenance.json"),
        "the CLI says where the provenance went"
    );
    Ok(())
}
