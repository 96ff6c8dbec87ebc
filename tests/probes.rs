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
        regression: None,
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

/// One head's APC map of a `(t, t)` attention map (rows attend to columns), computed by hand:
/// BOS and EOS dropped, `x + xᵀ`, minus `rowsum ⊗ colsum / total`.
fn apc_by_hand(attention: &[f32], t: usize) -> Vec<f32> {
    let n = t - 2;
    let x = |i: usize, j: usize| attention[(i + 1) * t + j + 1] + attention[(j + 1) * t + i + 1];
    let rows: Vec<f32> = (0..n).map(|i| (0..n).map(|j| x(i, j)).sum()).collect();
    let total: f32 = rows.iter().sum();
    (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            x(i, j) - rows[i] * rows[j] / total
        })
        .collect()
}

/// The heads screen against a brute force on the demo structures: every head's long-range
/// precision at L (a full sort of its hand-made APC map), its confident-attention counts and
/// the background, with all layers' attention taken at once.
#[test]
fn the_heads_screen_equals_a_brute_force_over_all_layers_at_once() -> TestResult {
    use esm_workbench::analysis::heads_study::{HeadsStudyRequest, run_heads_study};
    use esm_workbench::data::SeparationRange;
    use esm_workbench::model::{ForwardRequest, TokenBatch};
    let demo =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/structures.json");
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    let config = model.model.config().clone();
    let request = HeadsStudyRequest {
        compare_untrained: true,
        ..HeadsStudyRequest::from_structures(&[demo])?
    };
    let study = run_heads_study(&model, &request, &JobCtx::default())?;
    assert_eq!(study.sweep.runs.len(), config.num_layers);
    assert_eq!(study.sweep.untrained.len(), config.num_layers);
    assert_eq!(study.sweep.provenance.data[0].name, "structures.json");
    assert_ne!(study.sweep.runs, study.sweep.untrained);

    let (heads, layers) = (config.attention_heads, config.num_layers);
    let mut long_sum = vec![(0.0f64, 0usize); layers * heads];
    let mut confident = vec![(0usize, 0usize); layers * heads];
    let mut background = (0usize, 0usize);
    for chain in &request.chains {
        // Chains over the model's limit are scored on their first `limit` residues.
        let n = chain.sequence.len().min(config.max_residues());
        let batch = TokenBatch::encode([(chain.id.as_str(), &chain.sequence[..n])])?;
        let request = ForwardRequest {
            attentions: true,
            ..ForwardRequest::default()
        };
        let all = model
            .model
            .forward(&batch, &request)?
            .attentions
            .ok_or("no attentions")?;
        let all = all.flatten_all()?.to_vec1::<f32>()?;
        let t = batch.max_len;
        let truth = chain.contact_map(8.0);
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (i + 6..n).map(move |j| (i, j)))
            .filter(|&(i, j)| truth.valid[i] && truth.valid[j])
            .collect();
        background.0 += pairs.len();
        background.1 += pairs.iter().filter(|&&(i, j)| truth.contact(i, j)).count();
        for k in 0..layers * heads {
            let map = &all[k * t * t..(k + 1) * t * t];
            let apc = apc_by_hand(map, t);
            let mut long: Vec<(f32, bool)> = pairs
                .iter()
                .filter(|&&(i, j)| SeparationRange::of(i, j) == Some(SeparationRange::Long))
                .map(|&(i, j)| (apc[i * n + j], truth.contact(i, j)))
                .collect();
            long.sort_by(|a, b| b.0.total_cmp(&a.0));
            if !long.is_empty() {
                let top = n.min(long.len());
                let hits = long[..top].iter().filter(|p| p.1).count();
                long_sum[k].0 += hits as f64 / top as f64;
                long_sum[k].1 += 1;
            }
            for &(i, j) in &pairs {
                for w in [map[(i + 1) * t + j + 1], map[(j + 1) * t + i + 1]] {
                    if w > 0.3 {
                        confident[k].0 += 1;
                        confident[k].1 += usize::from(truth.contact(i, j));
                    }
                }
            }
        }
    }
    assert_eq!(study.background, background);
    assert!(
        study.truncated_chains() > 0,
        "the demo set has chains over 62 residues"
    );
    for run in &study.sweep.runs {
        for score in &run.heads {
            let k = (run.layer - 1) * heads + score.head;
            let want = long_sum[k].0 / long_sum[k].1 as f64;
            let got = score.precision.long.at_l;
            assert!(
                (got - want).abs() < 1e-9,
                "layer {} head {}: long P@L {got} against {want}",
                run.layer,
                score.head
            );
            assert_eq!(
                (score.attention.confident, score.attention.on_contacts),
                confident[k],
                "layer {} head {}",
                run.layer,
                score.head
            );
        }
    }
    let (layer, best) = study.best_head().ok_or("no best head")?;
    let top = long_sum
        .iter()
        .map(|(s, n)| s / *n as f64)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        (best.precision.long.at_l - top).abs() < 1e-9,
        "best head at layer {layer}"
    );
    Ok(())
}

/// The all-heads regression trained by click: fitted on the kit's PDB domains, scored on the
/// demo structures beside the checkpoint's own contact head, sparse, for the trained model and
/// the untrained copy; saved as a contact head and read back.
#[test]
fn the_all_heads_regression_is_fitted_scored_and_saved() -> TestResult {
    use esm_workbench::analysis::heads_study::{HeadsStudyRequest, run_heads_study};
    use esm_workbench::data::read_backbone_json;
    use esm_workbench::probes::AttentionRegression;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    let stores = tempfile::tempdir()?;
    let request = HeadsStudyRequest {
        train: read_backbone_json(&root.join("datasets/kit/pdb_domains.json"))?,
        train_name: "pdb_domains.json".into(),
        compare_untrained: true,
        store: esm_workbench::store::StoreOptions {
            root: stores.path().to_owned(),
            ..Default::default()
        },
        ..HeadsStudyRequest::from_structures(&[root.join("datasets/demo/structures.json")])?
    };
    let study = run_heads_study(&model, &request, &JobCtx::default())?;
    let (fitted, precision) = study.regression.clone().ok_or("no regression")?;
    assert_eq!(
        fitted.pairs_gathered, fitted.pairs.0,
        "first fit gathers every row"
    );
    assert!(fitted.store.join("pairs.npy").is_file());
    // A refit (another C) reads the rows back from the pair store: no forward pass, and the
    // same rows give the same fit at the same C.
    let trained_only = HeadsStudyRequest {
        compare_untrained: false,
        ..request.clone()
    };
    let again = run_heads_study(&model, &trained_only, &JobCtx::default())?;
    let (refit, _) = again.regression.clone().ok_or("no regression")?;
    assert_eq!(refit.pairs_gathered, 0);
    assert_eq!(refit.regression, fitted.regression);
    let looser = HeadsStudyRequest {
        regression: esm_workbench::probes::SparseLogisticParams {
            c: 0.5,
            max_iterations: 200,
            ..request.regression.clone()
        },
        ..trained_only
    };
    let (loose, _) = run_heads_study(&model, &looser, &JobCtx::default())?
        .regression
        .ok_or("no regression")?;
    assert_eq!(loose.pairs_gathered, 0);
    assert!(loose.regression.heads_used() >= fitted.regression.heads_used());
    let config = model.model.config();
    assert_eq!(
        fitted.regression.weights.len(),
        config.num_layers * config.attention_heads
    );
    assert_eq!(fitted.chains, request.train.len());
    assert!(
        fitted.pairs.1 > 0 && fitted.pairs.0 > fitted.pairs.1,
        "{:?}",
        fitted.pairs
    );
    assert!(fitted.regression.heads_used() <= fitted.regression.weights.len());
    assert!((0.0..=1.0).contains(&precision.long.at_l), "{precision:?}");
    assert!(study.untrained_regression.is_some());
    let head = study.contact_head.ok_or("the fixture has a contact head")?;
    assert!((0.0..=1.0).contains(&head.long.at_l));

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("regression.safetensors");
    let metadata = esm_workbench::probes::ProbeMetadata {
        kind: String::new(),
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        layer: 0,
        classes: String::new(),
        test_metrics: None,
        contact_precision: Some(precision),
    };
    fitted.regression.save(&metadata, &path)?;
    let (back, meta) =
        AttentionRegression::load(&path, (config.num_layers, config.attention_heads))?;
    assert_eq!(back, fitted.regression);
    assert_eq!(meta.model_fingerprint, model.fingerprint);
    let wrong = AttentionRegression::load(&path, (3, 7))
        .err()
        .ok_or("must refuse")?;
    assert!(wrong.to_string().contains("3 layers x 7 heads"), "{wrong}");
    Ok(())
}

/// A contact-head file scored in the contact study beside the checkpoint's own head: the
/// fixture's own head saved as a file scores exactly as the head does, under the model named
/// with the file; a head of another shape is refused before anything runs, naming the file.
#[test]
fn the_contact_study_scores_a_saved_regression_beside_the_models_head() -> TestResult {
    use esm_workbench::analysis::contact_study::{
        ContactStudyRequest, estimate_contact_study, run_contact_study,
    };
    use esm_workbench::probes::{AttentionRegression, ProbeMetadata};
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    let structures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/structures.json");
    let dir = tempfile::tempdir()?;
    let own = AttentionRegression::of_model(&model.model)?.ok_or("fixture head")?;
    let file = dir.path().join("own_head.safetensors");
    let metadata = ProbeMetadata {
        kind: String::new(),
        model_fingerprint: model.fingerprint.clone(),
        model_name: model.name.clone(),
        layer: 0,
        classes: String::new(),
        test_metrics: None,
        contact_precision: None,
    };
    own.save(&metadata, &file)?;
    let request = ContactStudyRequest {
        regression: Some(file.clone()),
        ..ContactStudyRequest::from_structures(&[], &[structures.clone()])?
    };
    let study = run_contact_study(&model, &request, &JobCtx::default())?;
    let head = study.head.ok_or("the model's own head is scored")?;
    let scored = study.regression.ok_or("the regression is scored")?;
    assert_eq!(scored.evaluation, head);
    assert_eq!(scored.model.name, format!("{} + own_head", model.name));
    assert_eq!(scored.path, file);
    let wrong = dir.path().join("wrong.safetensors");
    AttentionRegression::new(1, 1, vec![0.5], 0.0)
        .ok_or("shape")?
        .save(&metadata, &wrong)?;
    let request = ContactStudyRequest {
        regression: Some(wrong),
        ..request
    };
    let refused = estimate_contact_study(&model, &request)
        .err()
        .ok_or("refused")?;
    let text = refused.to_string();
    assert!(
        text.contains("--regression")
            && text.contains("wrong.safetensors")
            && text.contains("1 weights"),
        "{text}"
    );
    assert!(run_contact_study(&model, &request, &JobCtx::default()).is_err());
    Ok(())
}
