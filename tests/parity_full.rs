//! Full-size parity: a 652M-parameter random ESM-1b in fair-esm's format (with
//! `emb_layer_norm_before`, as the released ESM-1b) against fair-esm's own outputs. Build it
//! outside the repo (2.4 GiB, ~15 GB RAM in torch):
//!
//!     .venv/bin/python tests/reference/make_fixtures.py --full-esm1b /tmp/esm1b
//!     WB_ESM1B_DIR=/tmp/esm1b cargo test --release --test parity_full -- --ignored

mod common;

use std::path::PathBuf;

use candle_core::Device;
use common::{Reference, TestResult, check_model};
use esm_workbench::model::LoadedModel;

#[test]
#[ignore = "needs WB_ESM1B_DIR with a full-size checkpoint (see the module docs)"]
fn full_size_esm1b_matches_fair_esm() -> TestResult {
    let Some(dir) = std::env::var_os("WB_ESM1B_DIR").map(PathBuf::from) else {
        common::say_skipped("set WB_ESM1B_DIR (see tests/parity_full.rs)");
        return Ok(());
    };
    let stem = "esm1b_t33_650M_UR50S_random";
    let model = LoadedModel::load(&dir.join(format!("{stem}.pt")), &Device::Cpu)?;
    // 652,356,534 + the 2,560 parameters of emb_layer_norm_before (older fixtures lack it).
    assert!(
        model.model.config().emb_layer_norm_before,
        "rebuild the fixture: make_fixtures.py now writes emb_layer_norm_before"
    );
    assert_eq!(model.parameter_count, 652_359_094);
    let reference = Reference::load(&dir.join(format!("{stem}.reference.safetensors")))?;
    let worst = check_model(&model, &reference, stem, 2e-6)?;
    eprintln!("full ESM-1b: max |diff| / max |ref| over all outputs {worst:.2e}");
    Ok(())
}
