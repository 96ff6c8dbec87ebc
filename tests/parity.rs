//! Numerical parity with fair-esm 2.0.0 on tiny random-weight models in the official formats.
//! Fixtures come from `tests/reference/make_fixtures.py` (fair-esm's own classes and loader).

mod common;

use candle_core::{Device, IndexOp as _};
use common::{Reference, TestResult, check_model, fixture, max_abs_diff};
use esm_workbench::model::{
    Checkpoint, CheckpointFormat, ForwardRequest, Layers, LengthPolicy, LoadedModel, embed_sequence,
};

#[test]
fn esm1b_pt_matches_fair_esm() -> TestResult {
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &Device::Cpu)?;
    assert_eq!(model.source.format, CheckpointFormat::FairEsmPt);
    assert!(model.model.config().emb_layer_norm_before);
    assert!(model.source.contact_regression_path.is_some());
    assert!(
        model.source.ignored_tensors.is_empty(),
        "{:?}",
        model.source.ignored_tensors
    );
    check_model(
        &model,
        &Reference::fixture("esm1b_tiny_t2")?,
        "esm1b_tiny_t2",
        0.0,
    )
    .map(drop)
}

#[test]
fn esm2_pt_matches_fair_esm() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    assert_eq!(
        model.model.config().architecture,
        esm_workbench::model::Architecture::Esm2
    );
    check_model(
        &model,
        &Reference::fixture("esm2_tiny_t2")?,
        "esm2_tiny_t2",
        0.0,
    )
    .map(drop)
}

#[test]
fn huggingface_folders_match_fair_esm() -> TestResult {
    for stem in ["esm1b_tiny_t2", "esm2_tiny_t2"] {
        let model = LoadedModel::load(&fixture(&format!("{stem}_hf")), &Device::Cpu)?;
        assert_eq!(model.source.format, CheckpointFormat::HuggingFace);
        assert!(model.model.has_contact_head());
        check_model(&model, &Reference::fixture(stem)?, stem, 0.0)?;
    }
    Ok(())
}

#[test]
fn workbench_safetensors_round_trip_matches_fair_esm() -> TestResult {
    let dir = tempfile::tempdir()?;
    for stem in ["esm1b_tiny_t2", "esm2_tiny_t2"] {
        let out = dir.path().join(format!("{stem}.safetensors"));
        Checkpoint::read(&fixture(&format!("{stem}.pt")))?.save_workbench_safetensors(&out)?;
        let model = LoadedModel::load(&out, &Device::Cpu)?;
        assert_eq!(model.source.format, CheckpointFormat::Workbench);
        check_model(&model, &Reference::fixture(stem)?, stem, 0.0)?;
    }
    Ok(())
}

#[test]
fn padded_batch_rows_equal_single_sequences() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    let seqs = ["MKTAYIAKQRQISFVKSHFSRQ", "GSH", "MXBZUOACDEK"];
    let request = ForwardRequest {
        repr_layers: vec![1, 2],
        logits: false,
        attentions: false,
        contacts: true,
        stop: None,
    };
    let records: Vec<(&str, &str)> = seqs.iter().map(|s| ("s", *s)).collect();
    let batched = embed_sequence(&model.model, &records, LengthPolicy::Error, &request)?;
    for (i, seq) in seqs.iter().enumerate() {
        let single = embed_sequence(&model.model, &[("s", seq)], LengthPolicy::Error, &request)?;
        for layer in [1, 2] {
            let d = max_abs_diff(
                &batched[i].representations[&layer],
                &single[0].representations[&layer],
            )?;
            assert!(d < 1e-5, "row {i} layer {layer}: {d:e}");
        }
        let contacts = batched[i].contacts.as_ref().ok_or("contacts")?;
        let d = max_abs_diff(contacts, single[0].contacts.as_ref().ok_or("contacts")?)?;
        assert!(d < 1e-5, "row {i} contacts: {d:e}");
        assert_eq!(contacts.dims(), &[seq.len(), seq.len()]);
    }
    Ok(())
}

#[test]
fn truncation_matches_fair_esm_on_the_truncated_sequence() -> TestResult {
    // The tiny ESM-1b has 64 positions: 62 residues. fair-esm's extract truncates the same way.
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &Device::Cpu)?;
    let long: String = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ".repeat(3);
    let request = ForwardRequest {
        repr_layers: vec![2],
        ..Default::default()
    };
    let err = embed_sequence(
        &model.model,
        &[("long", &long)],
        LengthPolicy::Error,
        &request,
    )
    .expect_err("99 residues exceed 62");
    assert!(
        err.to_string().contains("long") && err.to_string().contains("99 residues"),
        "{err}"
    );
    let truncated = embed_sequence(
        &model.model,
        &[("long", &long)],
        LengthPolicy::Truncate,
        &request,
    )?;
    let direct = embed_sequence(
        &model.model,
        &[("long", &long[..62])],
        LengthPolicy::Error,
        &request,
    )?;
    assert_eq!(truncated[0].residues, 62);
    assert_eq!(truncated[0].input_residues, 99);
    assert!(
        max_abs_diff(
            &truncated[0].representations[&2],
            &direct[0].representations[&2]
        )? < 1e-6
    );
    Ok(())
}

#[test]
fn windows_cover_long_sequences_and_agree_with_single_windows() -> TestResult {
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &Device::Cpu)?;
    let long: String = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ".repeat(4); // 132 residues, limit 62
    let request = ForwardRequest {
        repr_layers: vec![2],
        ..Default::default()
    };
    let out = embed_sequence(
        &model.model,
        &[("long", &long)],
        LengthPolicy::Window { overlap: 20 },
        &request,
    )?;
    assert_eq!(out[0].residues, 132);
    assert_eq!(out[0].representations[&2].dims(), &[132, 32]);
    // Windows start at 0, 42, 70. The first residues come from the first window unchanged.
    let first = embed_sequence(
        &model.model,
        &[("w0", &long[..62])],
        LengthPolicy::Error,
        &request,
    )?;
    let head = out[0].representations[&2].i(..30)?;
    assert!(max_abs_diff(&head, &first[0].representations[&2].i(..30)?)? < 1e-6);
    // The tail comes from the last (end-aligned) window.
    let last = embed_sequence(
        &model.model,
        &[("w2", &long[70..])],
        LengthPolicy::Error,
        &request,
    )?;
    let tail = out[0].representations[&2].i(110..)?;
    assert!(max_abs_diff(&tail, &last[0].representations[&2].i(40..)?)? < 1e-6);
    let err = embed_sequence(
        &model.model,
        &[("long", &long)],
        LengthPolicy::Window { overlap: 20 },
        &ForwardRequest {
            contacts: true,
            ..Default::default()
        },
    )
    .expect_err("contacts need one pass");
    assert!(err.to_string().contains("truncation"), "{err}");
    Ok(())
}

#[test]
fn negative_layers_resolve_like_fair_esm() -> TestResult {
    let model = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &Device::Cpu)?;
    let n = model.model.config().num_layers;
    assert_eq!(Layers::Index(-1).resolve(n)?, vec![2]);
    assert_eq!(Layers::Index(-3).resolve(n)?, vec![0]);
    assert_eq!(Layers::Index(0).resolve(n)?, vec![0]);
    assert!(Layers::Index(3).resolve(n).is_err());
    assert!(Layers::Index(-4).resolve(n).is_err());
    Ok(())
}

#[test]
fn huggingface_esm_model_without_lm_head_gives_representations() -> TestResult {
    // transformers' EsmModel (no LM head): the same file without `lm_head.*`.
    let dir = tempfile::tempdir()?;
    let src = fixture("esm2_tiny_t2_hf");
    let tensors: std::collections::HashMap<String, candle_core::Tensor> =
        candle_core::safetensors::load(src.join("model.safetensors"), &Device::Cpu)?
            .into_iter()
            .filter(|(name, _)| !name.starts_with("lm_head"))
            .map(|(name, t)| (name.trim_start_matches("esm.").to_owned(), t))
            .collect();
    candle_core::safetensors::save(&tensors, dir.path().join("model.safetensors"))?;
    std::fs::copy(src.join("config.json"), dir.path().join("config.json"))?;
    let model = LoadedModel::load(dir.path(), &Device::Cpu)?;
    assert!(!model.model.has_lm_head() && model.model.has_contact_head());
    let reference = Reference::fixture("esm2_tiny_t2")?;
    let batch = reference.tokens("basic")?;
    let out = model.model.forward(
        &batch,
        &ForwardRequest {
            repr_layers: vec![2],
            contacts: true,
            ..Default::default()
        },
    )?;
    assert!(max_abs_diff(&out.representations[&2], &reference.tensors["basic.repr.2"])? < 1e-4);
    let err = model
        .model
        .forward(
            &batch,
            &ForwardRequest {
                logits: true,
                ..Default::default()
            },
        )
        .expect_err("no LM head");
    assert!(err.to_string().contains("no LM head"), "{err}");
    Ok(())
}

/// The heads study's input: every head's symmetrised, APC-corrected map, as fair-esm's
/// ContactPredictionHead builds its regression's features (`tests/reference/make_fixtures.py
/// --only-heads`), on one sequence and on a padded batch, through the one-layer-at-a-time
/// attention visitor.
#[test]
fn per_head_apc_maps_match_fair_esm() -> TestResult {
    use esm_workbench::model::{ContactHead, apc_maps};
    for stem in ["esm1b_tiny_t2", "esm2_tiny_t2"] {
        let model = LoadedModel::load(&fixture(&format!("{stem}.pt")), &Device::Cpu)?;
        let reference = Reference::load(&fixture(&format!("{stem}.heads.safetensors")))?;
        for case in ["basic", "batch"] {
            let batch = reference.tokens(case)?;
            let eos_pairs = ContactHead::eos_pair_mask(
                &batch.tokens,
                batch.batch_size,
                batch.max_len,
                &Device::Cpu,
            )?;
            let mut layers = Vec::new();
            let mut visit = |_: usize, probs: &candle_core::Tensor| {
                layers.push(apc_maps(probs, &eos_pairs)?);
                Ok(())
            };
            model
                .model
                .forward_with_attention(&batch, &ForwardRequest::default(), &mut visit)?;
            assert_eq!(layers.len(), model.model.config().num_layers);
            let ours = candle_core::Tensor::cat(&layers, 1)?;
            let theirs = &reference.tensors[&format!("{case}.apc")];
            let d = max_abs_diff(&ours, theirs)?;
            assert!(d < 1e-4, "{stem} {case}: per-head APC maps differ by {d:e}");
        }
    }
    Ok(())
}

/// The all-heads regression computes fair-esm's contact probabilities from the same weights:
/// the fixtures' own contact-regression weights, applied layer by layer to our APC maps,
/// against fair-esm's `contacts` (one sequence and a padded batch).
#[test]
fn the_all_heads_regression_equals_fair_esms_contact_head_with_its_weights() -> TestResult {
    use esm_workbench::model::{Alphabet, ContactHead, apc_maps};
    use esm_workbench::probes::AttentionRegression;
    for stem in ["esm1b_tiny_t2", "esm2_tiny_t2"] {
        let model = LoadedModel::load(&fixture(&format!("{stem}.pt")), &Device::Cpu)?;
        let config = model.model.config().clone();
        let regression = AttentionRegression::of_model(&model.model)?.ok_or("no contact head")?;
        let reference = Reference::load(&fixture(&format!("{stem}.heads.safetensors")))?;
        for case in ["basic", "batch"] {
            let batch = reference.tokens(case)?;
            let (b, t) = (batch.batch_size, batch.max_len);
            let side = t - 2;
            let eos_pairs = ContactHead::eos_pair_mask(&batch.tokens, b, t, &Device::Cpu)?;
            let mut logits = vec![vec![0f32; side * side]; b];
            let mut visit = |block: usize, probs: &candle_core::Tensor| {
                let apc = apc_maps(probs, &eos_pairs)?
                    .flatten_all()?
                    .to_vec1::<f32>()?;
                let heads = config.attention_heads;
                for (row, logits) in logits.iter_mut().enumerate() {
                    let at = |h: usize, i: usize, j: usize| {
                        apc[(row * heads + h) * side * side + i * side + j]
                    };
                    regression.add_layer(block, at, logits, side);
                }
                Ok(())
            };
            model
                .model
                .forward_with_attention(&batch, &ForwardRequest::default(), &mut visit)?;
            let theirs = reference.tensors[&format!("{case}.contacts")].to_vec3::<f32>()?;
            for (row, logits) in logits.iter().enumerate() {
                let len = batch.tokens[row * t..(row + 1) * t]
                    .iter()
                    .filter(|&&tok| tok != Alphabet::PAD)
                    .count()
                    - 2;
                let ours = regression.probabilities(logits);
                for i in 0..len {
                    for j in 0..len {
                        let d = (ours[i * side + j] - theirs[row][i][j]).abs();
                        assert!(
                            d < 1e-4,
                            "{stem} {case} row {row} ({i}, {j}): differs by {d:e}"
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// The variant study's three strategies equal fair-esm's variant-prediction arithmetic
/// (predict.py: wt-marginals, masked-marginals, pseudo-ppl) on both fixture architectures,
/// multi-mutants and the numbering offset included, within 1e-4; the 20 x L log-probability
/// tables too. The masked copies run batched (several per forward pass) and one at a time.
#[test]
fn variant_scores_match_fair_esms_predict_py() -> TestResult {
    use esm_workbench::analysis::JobCtx;
    use esm_workbench::analysis::variant_inputs::VariantInputs;
    use esm_workbench::analysis::variant_scan::{ScoringStrategy, position_log_probs};
    use esm_workbench::analysis::variant_study::{VariantStudyRequest, run_variant_study};
    let text = std::fs::read_to_string(fixture("variants.reference.json"))?;
    let reference: serde_json::Value = serde_json::from_str(&text)?;
    let case = &reference["case"];
    let sequence = case["sequence"].as_str().ok_or("sequence")?;
    let mutations: Vec<String> = case["variants"]
        .as_array()
        .ok_or("variants")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    };
    for name in ["esm1b_tiny_t2", "esm2_tiny_t2"] {
        let model = LoadedModel::load(&fixture(&format!("{name}.pt")), &Device::Cpu)?;
        let want = &reference[name];
        let inputs = VariantInputs {
            sequence: Some(sequence.to_owned()),
            mutations: mutations.clone(),
            ..VariantInputs::default()
        };
        let strategies = vec![
            ScoringStrategy::WtMarginals,
            ScoringStrategy::MaskedMarginals,
            ScoringStrategy::PseudoPpl,
        ];
        let request = VariantStudyRequest::from_inputs(&inputs, strategies)?;
        assert_eq!(
            request.offset,
            case["offset"].as_i64().ok_or("offset")?,
            "found"
        );
        let study = run_variant_study(&model, &request, &JobCtx::default())?;
        let run = study.run().ok_or("a run")?;
        for scores in &run.strategies {
            let expected = numbers(&want[scores.strategy.name()]);
            assert_eq!(expected.len(), scores.variant_scores.len());
            for (k, (got, exp)) in scores.variant_scores.iter().zip(&expected).enumerate() {
                assert!(
                    (got - exp).abs() < 1e-4,
                    "{name} {} {}: {got} vs fair-esm {exp}",
                    scores.strategy.name(),
                    mutations[k]
                );
            }
        }
        for (strategy, key, toks) in [
            (ScoringStrategy::WtMarginals, "wt_log_probs", 1024),
            (ScoringStrategy::MaskedMarginals, "masked_log_probs", 1024),
            (ScoringStrategy::MaskedMarginals, "masked_log_probs", 1),
        ] {
            let got =
                position_log_probs(&model, ("wt", sequence), strategy, toks, &JobCtx::default())?;
            let rows = want[key].as_array().ok_or("table")?;
            for (i, row) in rows.iter().enumerate() {
                for (k, exp) in numbers(row).iter().enumerate() {
                    let diff = (got[i][k] as f64 - exp).abs();
                    assert!(diff < 1e-4, "{name} {key} position {i} aa {k}: {diff}");
                }
            }
        }
    }
    Ok(())
}
