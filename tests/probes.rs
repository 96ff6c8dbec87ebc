//! Probes on the real data in `../shared/data` (skipped with a message when absent): the SS8
//! probe on one-hot residues (identity, no context) barely beats the majority class, and on a
//! tiny random-weight ESM-1b it still beats the majority class on CB513.

mod common;

use common::{fixture, shared};
use esm_workbench::analysis::JobCtx;
use esm_workbench::analysis::ss8_probe_run::run_ss8_probe;
use esm_workbench::data::read_ss8;
use esm_workbench::model::{Alphabet, LoadedModel};
use esm_workbench::probes::{Ss8Probe, Ss8ProbeParams, residue_dataset};
use ndarray::Array2;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One-hot of each residue's token: no context at all.
fn one_hot(sequence: &str) -> Array2<f32> {
    let mut a = Array2::zeros((sequence.len(), Alphabet::SIZE));
    for (i, c) in sequence.chars().enumerate() {
        a[[
            i,
            Alphabet::residue_index(c).unwrap_or(Alphabet::UNK) as usize,
        ]] = 1.0;
    }
    a
}

#[test]
fn one_hot_residues_give_the_single_residue_baseline() -> TestResult {
    let (Some(train), Some(test)) = (shared("ss8/pisces2018_train.tsv"), shared("ss8/CB513.csv"))
    else {
        return Ok(());
    };
    let train: Vec<_> = read_ss8(&train)?.into_iter().take(200).collect();
    let test = read_ss8(&test)?;
    let features = |records: &[esm_workbench::data::Ss8Record]| {
        let reps: Vec<_> = records.iter().map(|r| one_hot(&r.sequence)).collect();
        residue_dataset(records, &reps)
    };
    let (x, y) = features(&train);
    let probe = Ss8Probe::fit(&x, &y, &Ss8ProbeParams::default(), None)?;
    let (tx, ty) = features(&test);
    let metrics = probe.evaluate(&tx, &ty);
    // Amino-acid identity alone (no context) carries little: measured Q8 0.332 against the
    // majority class's 0.306 (C), Q3 0.415 against 0.424. Far below what context gives.
    assert!(
        metrics.q8 > metrics.ss8.majority_baseline() + 0.01,
        "Q8 {} vs majority {}",
        metrics.q8,
        metrics.ss8.majority_baseline()
    );
    assert!(
        metrics.q8 < 0.37 && (metrics.q3 - metrics.ss3.majority_baseline()).abs() < 0.04,
        "Q8 {} Q3 {}",
        metrics.q8,
        metrics.q3
    );
    Ok(())
}

#[test]
fn a_tiny_random_model_beats_the_majority_class_on_cb513() -> TestResult {
    let Some(cb513) = shared("ss8/CB513.csv") else {
        return Ok(());
    };
    let records = read_ss8(&cb513)?;
    let (train, test) = (&records[..150], &records[150..300]);
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    let runs = run_ss8_probe(
        &model,
        train,
        test,
        &[0, 2],
        &Ss8ProbeParams::default(),
        &JobCtx::default(),
    )?;
    assert_eq!(runs.len(), 2);
    for run in &runs {
        let majority = run.test.ss8.majority_baseline();
        assert!(
            run.test.q8 > majority + 0.01,
            "layer {}: Q8 {} vs majority {majority}",
            run.layer,
            run.test.q8
        );
        assert_eq!(run.test.ss8.count, run.test.ss3.count);
    }
    Ok(())
}

/// The contact head is scored on the demo structures, each chain cut to the model's limit; a
/// model without a contact head (the starter model) is a clear error.
#[test]
fn contact_head_evaluation_on_the_demo_structures() -> TestResult {
    use esm_workbench::analysis::contact_head_run::evaluate_contact_head;
    use esm_workbench::data::read_backbone_json;
    let demo =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/structures.json");
    let chains = read_backbone_json(&demo)?;
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    let limit = model.model.config().max_residues();
    let evaluation = evaluate_contact_head(&model, &chains, &JobCtx::default())?;
    assert_eq!(evaluation.chains.len(), chains.len());
    for ((id, scored, p), chain) in evaluation.chains.iter().zip(&chains) {
        assert_eq!(id, &chain.id);
        assert_eq!(*scored, chain.sequence.len().min(limit));
        for r in [p.short, p.medium, p.long] {
            assert!(
                (0.0..=1.0).contains(&r.at_l5) && (0.0..=1.0).contains(&r.at_l),
                "{id}: {r:?}"
            );
        }
    }
    let mean_long_l5 = evaluation
        .chains
        .iter()
        .map(|c| c.2.long.at_l5)
        .sum::<f64>()
        / chains.len() as f64;
    assert!((evaluation.mean.long.at_l5 - mean_long_l5).abs() < 1e-12);

    let starter =
        esm_workbench::model::starter::starter_model_path().ok_or("starter model missing")?;
    let no_head = LoadedModel::load(&starter, &candle_core::Device::Cpu)?;
    let err = evaluate_contact_head(&no_head, &chains, &JobCtx::default())
        .err()
        .ok_or("must refuse")?;
    assert!(err.to_string().to_lowercase().contains("contact"), "{err}");
    Ok(())
}

#[test]
fn the_bilinear_contact_probe_beats_the_contact_base_rate_on_ts50() -> TestResult {
    use esm_workbench::analysis::contact_study::{ContactStudyRequest, run_contact_study};
    use esm_workbench::data::{read_backbone_json, read_structure};
    use esm_workbench::probes::ContactProbeParams;
    let (Some(pdb), Some(ts50)) = (shared("structures/pdb"), shared("structures/ts50.json")) else {
        return Ok(());
    };
    let mut train = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&pdb)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdb"))
    {
        train.extend(read_structure(path)?);
    }
    let test = read_backbone_json(&ts50)?;
    let model_path =
        esm_workbench::model::starter::starter_model_path().ok_or("no starter model")?;
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let stores = tempfile::tempdir()?;
    let request = ContactStudyRequest {
        train,
        test: test.clone(),
        train_name: "pdb".into(),
        test_name: "ts50".into(),
        layers: esm_workbench::model::Layers::Index(4),
        params: ContactProbeParams::default(),
        residue_cap: 200_000,
        compare_untrained: false,
        contact_head: false,
        store: esm_workbench::store::StoreOptions {
            root: stores.path().to_owned(),
            ..Default::default()
        },
    };
    let runs = run_contact_study(&model, &request, &JobCtx::default())?
        .sweep
        .runs;
    // Fraction of long-range (|i - j| >= 24) pairs in contact: what random scores would reach.
    let (mut contacts, mut pairs) = (0usize, 0usize);
    for chain in &test {
        let map = chain.contact_map(8.0);
        for i in 0..map.len {
            for j in i + 24..map.len {
                if map.valid[i] && map.valid[j] {
                    pairs += 1;
                    contacts += usize::from(map.contact(i, j));
                }
            }
        }
    }
    let base_rate = contacts as f64 / pairs as f64;
    let long = runs[0].mean.long;
    assert!(
        long.at_l > 1.5 * base_rate,
        "long-range P@L {} vs base rate {base_rate:.4}",
        long.at_l
    );
    let losses = &runs[0].probe.epoch_losses;
    assert!(
        losses[losses.len() - 1] < losses[0],
        "training loss falls: {losses:?}"
    );
    Ok(())
}

/// A saved probe predicts on new sequences of its own model and refuses another model.
#[test]
fn a_saved_ss8_probe_applies_to_new_sequences_of_its_model_only() -> TestResult {
    use esm_workbench::analysis::probe_apply::{ApplyProbeError, predict_ss8};
    use esm_workbench::probes::{ProbeMetadata, load_ss8_probe, save_ss8_probe};
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo");
    let labelled = read_ss8(&demo.join("structures_ss8.txt"))?;
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    let runs = run_ss8_probe(
        &model,
        &labelled,
        &labelled,
        &[2],
        &Ss8ProbeParams::default(),
        &JobCtx::default(),
    )?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("probe.safetensors");
    let metadata = ProbeMetadata {
        kind: "ss8".into(),
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        layer: 2,
        classes: "GHIBESTC".into(),
        test_metrics: None,
        contact_precision: None,
    };
    save_ss8_probe(&runs[0].probe, &metadata, &path)?;
    let (probe, metadata) = load_ss8_probe(&path)?;
    let records = vec![("new".to_string(), "MKTAYIAKQRQISFVKSHFSRQ".to_string())];
    let predictions = predict_ss8(&model, &probe, &metadata, &records, &JobCtx::default())?;
    assert_eq!(predictions[0].probabilities.dim(), (22, 8));
    for row in predictions[0].probabilities.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-4);
    }
    let best = predictions[0].best();
    assert!(best.iter().all(|&(c, p)| c < 8 && p >= 0.125));

    let other = LoadedModel::from_checkpoint(
        esm_workbench::model::Checkpoint::random(model.model.config().clone(), 9)?,
        &candle_core::Device::Cpu,
    )?;
    let err = predict_ss8(&other, &probe, &metadata, &records, &JobCtx::default())
        .expect_err("another model");
    assert!(matches!(err, ApplyProbeError::WrongModel { .. }), "{err}");
    assert!(err.to_string().contains("retrain the probe"));
    Ok(())
}
