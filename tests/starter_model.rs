//! The bundled starter model loads, and its held-out perplexity on the shipped held-out set
//! stays where the model card says (assets/starter/metrics.json), below the unigram baseline.

use esm_workbench::analysis::JobCtx;
use esm_workbench::data::FastaReader;
use esm_workbench::model::starter::{starter_heldout_path, starter_model_path};
use esm_workbench::model::{Alphabet, LoadedModel};
use esm_workbench::train::heldout_perplexity;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn held_out_perplexity_matches_the_model_card() -> TestResult {
    let model_path = starter_model_path().ok_or("assets/starter model missing")?;
    let heldout = starter_heldout_path().ok_or("datasets/starter/heldout.fasta missing")?;
    let card_path = model_path.with_file_name("metrics.json");
    let card: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&card_path)?)?;
    let card_ppl = card["heldout"]["perplexity"]
        .as_f64()
        .ok_or("metrics.json: heldout.perplexity")?;
    let unigram = card["heldout"]["unigram_perplexity"]
        .as_f64()
        .ok_or("metrics.json: unigram")?;
    let max_residues = card["heldout"]["max_residues"]
        .as_u64()
        .ok_or("metrics.json: max_residues")? as usize;

    let loaded = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let sequences = FastaReader::read_all(&heldout)?
        .iter()
        .map(|r| Alphabet::encode(&r.id, &r.sequence))
        .collect::<Result<Vec<_>, _>>()?;
    let report = heldout_perplexity(
        &loaded.model,
        &sequences,
        max_residues,
        8192,
        None,
        &JobCtx::default(),
    )
    .map_err(|_| "cancelled")??;
    assert_eq!(
        Some(report.targets as u64),
        card["heldout"]["targets"].as_u64()
    );
    assert!(
        (report.perplexity - card_ppl).abs() < 1e-3 * card_ppl,
        "perplexity {} vs card {card_ppl}",
        report.perplexity
    );
    assert!(
        report.perplexity < unigram,
        "the model must beat amino-acid frequencies"
    );
    Ok(())
}

#[test]
fn baselines_from_the_scored_file_itself_are_refused() -> TestResult {
    let model_path = starter_model_path().ok_or("assets/starter model missing")?;
    let heldout = starter_heldout_path().ok_or("datasets/starter/heldout.fasta missing")?;
    // Every record of the corpus is also scored, so no training frequencies remain: an error,
    // not a baseline fitted on nothing (it used to print unigram 27.0, uniform over tokens).
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
        .arg("perplexity")
        .arg("--model")
        .arg(&model_path)
        .arg("--fasta")
        .arg(&heldout)
        .arg("--baselines-from")
        .arg(&heldout)
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("has no records besides those of"),
        "{stderr}"
    );
    assert!(stderr.contains("heldout.fasta"), "{stderr}");
    Ok(())
}

#[test]
fn per_sequence_scores_add_up_to_the_reported_perplexity() -> TestResult {
    let model_path = starter_model_path().ok_or("assets/starter model missing")?;
    let heldout = starter_heldout_path().ok_or("datasets/starter/heldout.fasta missing")?;
    let dir = tempfile::tempdir()?;
    let fasta = dir.path().join("six.fasta");
    let mut text = String::new();
    for record in FastaReader::read_all(&heldout)?.iter().take(6) {
        text.push_str(&format!(">{}\n{}\n", record.id, record.sequence));
    }
    std::fs::write(&fasta, text)?;
    let table = dir.path().join("scores.csv");
    let run = |extra: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
            .arg("perplexity")
            .arg("--model")
            .arg(&model_path)
            .arg("--fasta")
            .arg(&fasta)
            .args(extra)
            .output()
    };
    let output = run(&["--per-sequence".as_ref(), table.as_os_str()])?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let overall: f64 = stdout
        .split("perplexity ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or("no perplexity printed")?
        .parse()?;

    let csv = std::fs::read_to_string(&table)?;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,residues,masked,perplexity,unigram_perplexity,composition_perplexity")
    );
    let (mut nll, mut masked) = (0f64, 0f64);
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let fields: Vec<&str> = row.split(',').collect();
        let (targets, perplexity): (f64, f64) = (fields[2].parse()?, fields[3].parse()?);
        assert!(targets >= 1.0 && perplexity > 1.0, "{row}");
        assert_eq!(
            fields[4], "",
            "no baselines without --baselines-from: {row}"
        );
        nll += targets * perplexity.ln();
        masked += targets;
    }
    let combined = (nll / masked).exp();
    assert!((combined - overall).abs() < 1e-3, "{combined} vs {overall}");

    // A table format it cannot write is refused before any scoring, naming the file.
    let bad = dir.path().join("scores.txt");
    let output = run(&["--per-sequence".as_ref(), bad.as_os_str()])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("scores.txt"), "{stderr}");
    assert!(!bad.exists());
    Ok(())
}
