//! Shared helpers for the parity tests: fixtures and comparison with fair-esm's outputs.
#![allow(dead_code)]

#[cfg(feature = "gui")]
pub mod gui_harness;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use esm_workbench::analysis::JobCtx;
use esm_workbench::model::{Alphabet, ForwardRequest, LoadedModel, TokenBatch};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Says on the real stderr that a test skipped (`SKIPPED: <reason>`; libtest shows a passing
/// test's `eprintln!` output only when it fails, so a skip written that way passed silently).
/// `.ci/run` counts these lines. Under `ESM_WORKBENCH_STRICT=1` (set by `.ci/run` where
/// `../shared/data` and the test packages are present) a skip fails the test instead.
pub fn say_skipped(reason: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
    if std::env::var("ESM_WORKBENCH_STRICT").is_ok_and(|v| v == "1") {
        panic!("skipped under ESM_WORKBENCH_STRICT=1, where nothing may skip: {reason}");
    }
}

/// Largest allowed |ours - fair-esm| in fp32.
pub const TOLERANCE: f32 = 1e-4;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `../shared/data/<rel>` (or `$WB_SHARED_DATA/<rel>`), or `None` with a skip message.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os("WB_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let path = root.join(rel);
    if path.exists() {
        Some(path)
    } else {
        say_skipped(format!(
            "{} not found (set WB_SHARED_DATA to the shared data folder)",
            path.display()
        ));
        None
    }
}

/// Outputs recorded by `tests/reference/make_fixtures.py`.
pub struct Reference {
    pub tensors: HashMap<String, Tensor>,
    pub sequences: HashMap<String, Vec<String>>,
}

impl Reference {
    pub fn load(path: &Path) -> Result<Self, Box<dyn std::error::Error>> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
        let bytes = std::fs::read(path)?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)?;
        let sequences = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("sequences"))
            .ok_or("reference has no sequences metadata")?;
        Ok(Self {
            tensors,
            sequences: serde_json::from_str(sequences)?,
        })
    }

    /// The fixture reference of a model stem, e.g. `esm1b_tiny_t2`.
    pub fn fixture(stem: &str) -> Result<Self, Box<dyn std::error::Error>> {
        Self::load(&fixture(&format!("{stem}.reference.safetensors")))
    }

    /// fair-esm's token batch for `case`, unpadded per row and re-padded by us.
    pub fn tokens(&self, case: &str) -> Result<TokenBatch, Box<dyn std::error::Error>> {
        let tokens = self.tensors[&format!("{case}.tokens")]
            .to_dtype(DType::I64)?
            .to_vec2::<i64>()?;
        let rows: Vec<Vec<u32>> = tokens
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&t| t as u32)
                    .filter(|&t| t != Alphabet::PAD)
                    .collect()
            })
            .collect();
        Ok(TokenBatch::from_rows(&rows))
    }
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32, candle_core::Error> {
    assert_eq!(a.dims(), b.dims(), "shape mismatch");
    (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

/// Asserts `max |ours - theirs| < TOLERANCE + rel_tolerance * max(1, max |theirs|)` and returns
/// the difference relative to that scale.
pub fn assert_close(
    label: &str,
    ours: &Tensor,
    theirs: &Tensor,
    rel_tolerance: f32,
) -> Result<f32, Box<dyn std::error::Error>> {
    let d = max_abs_diff(ours, theirs)?;
    let scale = theirs
        .abs()?
        .flatten_all()?
        .max(0)?
        .to_scalar::<f32>()?
        .max(1.0);
    let allowed = TOLERANCE + rel_tolerance * scale;
    assert!(
        d < allowed,
        "{label}: max |diff| {d:e} > {allowed:e} (max |ref| {scale})"
    );
    Ok(d / scale)
}

/// Compares logits, all representations, attentions and contacts on every reference case;
/// returns the largest difference seen relative to each tensor's largest magnitude.
///
/// Allowed: `TOLERANCE + rel_tolerance * max|reference|`. The tiny fixtures use
/// `rel_tolerance = 0` (a plain 1e-4 bound); full-size weights, whose logits reach |100|, need the
/// magnitude term because fp32 sums in a different order differ by ~1e-6 relative.
pub fn check_model(
    model: &LoadedModel,
    reference: &Reference,
    label: &str,
    rel_tolerance: f32,
) -> Result<f32, Box<dyn std::error::Error>> {
    let n = model.model.config().num_layers;
    let request = ForwardRequest {
        repr_layers: (0..=n).collect(),
        logits: true,
        attentions: true,
        contacts: true,
        stop: None,
    };
    let mut worst = 0f32;
    for (case, seqs) in &reference.sequences {
        // Our tokenizer gives fair-esm's tokens.
        let ours = TokenBatch::encode(seqs.iter().map(|s| ("x", s.as_str())))?;
        let batch = reference.tokens(case)?;
        assert_eq!(
            ours, batch,
            "{label}/{case}: tokenization differs from fair-esm"
        );
        let out = model.model.forward(&batch, &request)?;
        let get = |k: &str| &reference.tensors[&format!("{case}.{k}")];
        let mut case_worst = 0f32;
        let mut compare = |what: &str, ours: &Tensor, theirs: &Tensor| -> TestResult {
            let relative = assert_close(
                &format!("{label}/{case}/{what}"),
                ours,
                theirs,
                rel_tolerance,
            )?;
            case_worst = case_worst.max(relative);
            Ok(())
        };
        compare(
            "logits",
            out.logits.as_ref().ok_or("no logits")?,
            get("logits"),
        )?;
        for layer in 0..=n {
            compare(
                &format!("repr.{layer}"),
                &out.representations[&layer],
                get(&format!("repr.{layer}")),
            )?;
        }
        compare(
            "attentions",
            out.attentions.as_ref().ok_or("no attentions")?,
            get("attentions"),
        )?;
        compare(
            "contacts",
            out.contacts.as_ref().ok_or("no contacts")?,
            get("contacts"),
        )?;
        eprintln!("{label}/{case}: max |diff| / max |ref| {case_worst:.2e}");
        worst = worst.max(case_worst);
    }
    Ok(worst)
}

/// A job context that cancels itself as soon as the first batch has reported progress (the
/// second `checkpoint` call: the first reports 0 before any work).
pub fn cancel_after_first_batch() -> JobCtx {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};
    let handle: Arc<OnceLock<JobCtx>> = Arc::new(OnceLock::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let h = handle.clone();
    let ctx = JobCtx::new(move || {
        if calls.fetch_add(1, Ordering::SeqCst) == 1
            && let Some(ctx) = h.get()
        {
            ctx.cancel();
        }
    });
    let _ = handle.set(ctx.clone());
    ctx
}

/// Writes an SS8 probe of `model`'s last layer with fixed, varied weights (not trained: its
/// predictions only need to be deterministic and of more than one class) to `out`.
pub fn write_fixed_ss8_probe(
    model: &LoadedModel,
    out: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    use esm_workbench::probes::{ProbeMetadata, Ss8Probe, save_ss8_probe};
    let config = model.model.config();
    let dim = config.embed_dim;
    let weights = ndarray::Array2::from_shape_fn((dim, 8), |(i, c)| {
        ((i * 7 + c * 3) % 11) as f32 * 0.05 - 0.25
    });
    let probe = Ss8Probe {
        mean: ndarray::Array1::zeros(dim),
        scale: ndarray::Array1::ones(dim),
        weights,
        intercept: ndarray::Array1::zeros(8),
    };
    let metadata = ProbeMetadata {
        kind: "ss8".into(),
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        layer: config.num_layers,
        classes: esm_workbench::data::SS8_CLASSES.iter().collect(),
        test_metrics: None,
        contact_precision: None,
    };
    save_ss8_probe(&probe, &metadata, out)?;
    Ok(())
}
