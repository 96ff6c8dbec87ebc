//! `esm-workbench extract` end to end: FASTA in, NumPy files out, values equal to fair-esm's.

mod common;

use std::path::Path;
use std::process::Command;

use candle_core::{Device, IndexOp as _, Tensor};
use common::{TestResult, fixture, max_abs_diff as max_diff};

fn workbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
}

fn npz(path: &Path, name: &str) -> Result<Tensor, Box<dyn std::error::Error>> {
    Ok(Tensor::read_npz_by_name(path, &[name])?.remove(0))
}

#[test]
fn extract_writes_fair_esm_values() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fasta = dir.path().join("in.fasta");
    // The reference's "basic" and "rare_residues" sequences; ids with a slash and a duplicate.
    let reference = candle_core::safetensors::load(
        fixture("esm2_tiny_t2.reference.safetensors"),
        &Device::Cpu,
    )?;
    std::fs::write(
        &fasta,
        ">sp|P1|basic/1 first\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVG\nDGTQDNLSGAEKAVQVKVK\n>rare\nmxbzuoacdeklx*\n>rare\nMXBZUOACDEKLX\n",
    )?;
    let out = dir.path().join("out");
    let output = workbench()
        .args([
            "extract",
            fixture("esm2_tiny_t2.pt").to_str().ok_or("path")?,
            fasta.to_str().ok_or("path")?,
        ])
        .arg(&out)
        .args([
            "--repr-layers",
            "0",
            "-1",
            "--include",
            "mean",
            "per_tok",
            "bos",
            "contacts",
        ])
        .output()?;
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: id rare occurs at lines [4, 6]"),
        "{stderr}"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.tsv"))?;
    assert!(
        manifest.contains("sp|P1|basic/1\tsp|P1|basic_1.npz\t60\t60"),
        "{manifest}"
    );
    assert!(manifest.contains("rare\trare_2.npz\t13\t13"), "{manifest}");

    let file = out.join("sp|P1|basic_1.npz");
    let want_last = reference["basic.repr.2"].i((0, 1..61))?;
    let per_tok = npz(&file, "representations_2")?;
    assert!(max_diff(&per_tok, &want_last)? < 1e-4);
    let mean = npz(&file, "mean_representations_2")?;
    assert!(max_diff(&mean, &want_last.mean(0)?)? < 1e-4);
    let bos = npz(&file, "bos_representations_0")?;
    assert!(max_diff(&bos, &reference["basic.repr.0"].i((0, 0))?)? < 1e-4);
    let contacts = npz(&file, "contacts")?;
    assert!(max_diff(&contacts, &reference["basic.contacts"].i(0)?)? < 1e-4);
    let rare = npz(&out.join("rare.npz"), "mean_representations_2")?;
    assert!(
        max_diff(
            &rare,
            &reference["rare_residues.repr.2"].i((0, 1..14))?.mean(0)?
        )? < 1e-4
    );
    Ok(())
}

#[test]
fn extract_reports_bad_input_clearly() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fasta = dir.path().join("bad.fasta");
    std::fs::write(&fasta, ">ok\nMKT\n>bad\nMK1T\n")?;
    let output = workbench()
        .args([
            "extract",
            fixture("esm2_tiny_t2.pt").to_str().ok_or("path")?,
            fasta.to_str().ok_or("path")?,
        ])
        .arg(dir.path().join("out"))
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("record bad") && stderr.contains("line 4") && stderr.contains("bad.fasta"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn info_describes_the_checkpoint() -> TestResult {
    let output = workbench()
        .args(["info", fixture("esm1b_tiny_t2.pt").to_str().ok_or("path")?])
        .output()?;
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ESM-1b")
            && stdout.contains("max residues:    62")
            && stdout.contains("contact-regression"),
        "{stdout}"
    );
    Ok(())
}

/// A regression fitted by `probe heads --train` becomes the contact head of a checkpoint
/// that has none (the bundled starter): `extract --include contacts` and `probe contacts` use
/// it, under a name that says so; a head of another shape is refused, naming both shapes.
#[test]
fn a_saved_all_heads_regression_is_the_contact_head_of_a_checkpoint_without_one() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let starter = root.join("assets/starter/starter_esm1b_t4_128.safetensors");
    let demo = root.join("datasets/demo/structures.json");
    let dir = tempfile::tempdir()?;
    let head = dir.path().join("starter_heads.safetensors");
    let fitted = workbench()
        .args(["probe", "heads", "--model"])
        .arg(&starter)
        .arg("--structures")
        .arg(&demo)
        .arg("--train")
        .arg(root.join("datasets/kit/pdb_domains.json"))
        .arg("--save-regression")
        .arg(&head)
        .arg("--store")
        .arg(dir.path().join("stores"))
        .output()?;
    let said = String::from_utf8_lossy(&fitted.stdout).into_owned()
        + &String::from_utf8_lossy(&fitted.stderr);
    assert!(fitted.status.success(), "{said}");
    assert!(said.contains("all-heads regression: long P@L"), "{said}");
    assert!(head.is_file());

    let fasta = dir.path().join("one.fasta");
    std::fs::write(&fasta, ">one\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n")?;
    let out = dir.path().join("out");
    let extracted = workbench()
        .arg("extract")
        .arg(&starter)
        .arg(&fasta)
        .arg(&out)
        .args(["--include", "contacts", "--contact-head"])
        .arg(&head)
        .output()?;
    assert!(
        extracted.status.success(),
        "{}",
        String::from_utf8_lossy(&extracted.stderr)
    );
    assert!(
        String::from_utf8_lossy(&extracted.stderr).contains("starter_esm1b_t4_128 + starter_heads")
    );
    let written: Vec<_> = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "npz"))
        .collect();
    assert_eq!(written.len(), 1);
    let contacts = npz(&written[0].path(), "contacts")?;
    assert_eq!(contacts.dims(), &[33, 33]);

    let wrong = workbench()
        .arg("extract")
        .arg(&starter)
        .arg(&fasta)
        .arg(dir.path().join("out2"))
        .args(["--include", "contacts", "--contact-head"])
        .arg(fixture("esm1b_tiny_t2-contact-regression.pt"))
        .output()?;
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success());
    assert!(message.contains("4 layers x 8 heads = 32"), "{message}");
    assert!(
        message.contains("esm1b_tiny_t2-contact-regression.pt"),
        "{message}"
    );
    Ok(())
}

/// `variants` on the bundled deep mutational scan (263 residues) with the tiny ESM-1b fixture,
/// whose limit is 62 residues: every position is read through a window, the tables carry every
/// variant and every position x amino acid, and the untrained copy is scored beside it.
#[test]
fn variants_scores_the_bundled_scan_through_windows_and_writes_its_tables() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir()?;
    let (out, matrix) = (dir.path().join("v.csv"), dir.path().join("m.parquet"));
    let run = workbench()
        .args(["variants", "--model"])
        .arg(fixture("esm1b_tiny_t2.pt"))
        .arg("--fasta")
        .arg(root.join("datasets/dms/BLAT_ECOLX.fasta"))
        .arg("--dms")
        .arg(root.join("datasets/dms/BLAT_ECOLX_Ranganathan2015.csv"))
        .args([
            "--score-col",
            "2500",
            "--strategy",
            "wt-marginals",
            "masked-marginals",
        ])
        .args(["--compare-untrained", "--out"])
        .arg(&out)
        .arg("--matrix")
        .arg(&matrix)
        .arg("--positions")
        .arg(dir.path().join("p.csv"))
        .output()?;
    let said =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains("263 residues, numbered from 24; 4996 variants"),
        "{said}"
    );
    assert!(
        said.contains("trained masked-marginals: Spearman"),
        "{said}"
    );
    assert!(said.contains("untrained wt-marginals: Spearman"), "{said}");
    let table = std::fs::read_to_string(&out)?;
    assert_eq!(table.lines().count(), 1 + 4996);
    assert!(table.starts_with(
        "mutant,substitutions,measured,wt-marginals,masked-marginals,untrained_wt-marginals,"
    ));
    use polars::prelude::SerReader as _;
    let frame = polars::prelude::ParquetReader::new(std::fs::File::open(&matrix)?).finish()?;
    assert_eq!(frame.height(), 263 * 20);
    assert!(dir.path().join("v.csv.provenance.json").is_file());
    let positions = std::fs::read_to_string(dir.path().join("p.csv"))?;
    assert!(
        positions.starts_with(
            "position,wild_type,wt-marginals_spearman,masked-marginals_spearman,n\n24,H,"
        ),
        "{positions:.200}"
    );
    Ok(())
}

/// Variants that do not fit the sequence, a missing column and a model without an LM head are
/// refused in our words, naming the variant, the flag or the model.
#[test]
fn variants_refuses_what_does_not_fit_in_our_words() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let said = |args: &[&str]| -> Result<String, Box<dyn std::error::Error>> {
        let run = workbench()
            .args(["variants", "--model"])
            .arg(fixture("esm1b_tiny_t2.pt"))
            .args(args)
            .output()?;
        assert!(!run.status.success());
        Ok(String::from_utf8_lossy(&run.stderr).into_owned())
    };
    let wrong = said(&["--sequence", "MKTAYIAK", "--mutations", "M1A,W3A"])?;
    assert!(
        wrong.contains("W3A") && wrong.contains("--offset"),
        "{wrong}"
    );
    let given = said(&[
        "--sequence",
        "MKTAYIAK",
        "--mutations",
        "M1A",
        "--offset",
        "0",
    ])?;
    assert!(
        given.contains("with offset 0") && given.contains("M1A"),
        "{given}"
    );
    let dms = root.join("datasets/dms/BLAT_ECOLX_Ranganathan2015.csv");
    let column = said(&[
        "--sequence",
        "MKTAYIAK",
        "--dms",
        dms.to_str().ok_or("path")?,
    ])?;
    assert!(
        column.contains("no column \"DMS_score\" (--score-col); the columns are mutant, 2500"),
        "{column}"
    );
    let ppl = said(&["--sequence", "MKTAYIAK", "--strategy", "pseudo-ppl"])?;
    assert!(ppl.contains("pseudo-ppl scores listed variants"), "{ppl}");
    Ok(())
}

/// `--ensemble` averages the members' scores: the fixture with itself scores as the fixture
/// alone, under a model named for both.
#[test]
fn variants_ensemble_averages_its_members() -> TestResult {
    let run = |extra: &[&str]| -> Result<String, Box<dyn std::error::Error>> {
        let out = workbench()
            .args(["variants", "--model"])
            .arg(fixture("esm1b_tiny_t2.pt"))
            .args([
                "--sequence",
                "MKTAYIAKQRQISFVKSHFSRQ",
                "--mutations",
                "M1A,K2R,T3W:A4G",
            ])
            .args(["--strategy", "wt-marginals"])
            .args(extra)
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let dir = tempfile::tempdir()?;
    let (one, two) = (dir.path().join("one.csv"), dir.path().join("two.csv"));
    let alone = run(&["--out", one.to_str().ok_or("path")?])?;
    let fixture_path = fixture("esm1b_tiny_t2.pt");
    let both = run(&[
        "--out",
        two.to_str().ok_or("path")?,
        "--ensemble",
        fixture_path.to_str().ok_or("path")?,
    ])?;
    assert!(
        both.contains("ensemble of 2: esm1b_tiny_t2, esm1b_tiny_t2"),
        "{both}"
    );
    assert!(!alone.contains("ensemble"), "{alone}");
    assert_eq!(std::fs::read_to_string(one)?, std::fs::read_to_string(two)?);
    Ok(())
}

/// `--ss8-probe` writes the wild type's predicted SS8 class beside each position of the matrix
/// and the positions table; a probe trained on another model is refused before anything runs,
/// naming both models.
#[test]
fn variants_writes_the_ss8_track_of_a_probe_of_its_model_only() -> TestResult {
    use esm_workbench::model::LoadedModel;
    let dir = tempfile::tempdir()?;
    let (probe, other) = (
        dir.path().join("ss8.safetensors"),
        dir.path().join("other.safetensors"),
    );
    let model = LoadedModel::load(&fixture("esm1b_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    common::write_fixed_ss8_probe(&model, &probe)?;
    let esm2 = LoadedModel::load(&fixture("esm2_tiny_t2.pt"), &candle_core::Device::Cpu)?;
    common::write_fixed_ss8_probe(&esm2, &other)?;
    let sequence = "MKTAYIAKQRQISFVKSHFSRQ";
    let run = |probe: &Path, matrix: &Path| {
        workbench()
            .args(["variants", "--model"])
            .arg(fixture("esm1b_tiny_t2.pt"))
            .args([
                "--sequence",
                sequence,
                "--strategy",
                "wt-marginals",
                "--ss8-probe",
            ])
            .arg(probe)
            .arg("--matrix")
            .arg(matrix)
            .output()
    };
    let matrix = dir.path().join("m.csv");
    let out = run(&probe, &matrix)?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = std::fs::read_to_string(&matrix)?;
    assert!(
        table.starts_with("position,wild_type,mutant,ss8,ss8_probability,wt-marginals\n"),
        "{table:.200}"
    );
    assert_eq!(table.lines().count(), 1 + sequence.len() * 20);
    let classes: std::collections::BTreeSet<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(3))
        .collect();
    assert!(
        classes
            .iter()
            .all(|c| c.len() == 1 && "GHIBESTC".contains(*c)),
        "{classes:?}"
    );
    let refused = run(&other, &dir.path().join("n.csv"))?;
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        said.contains("the probe was trained on esm2_tiny_t2")
            && said.contains("not on esm1b_tiny_t2"),
        "{said}"
    );
    assert!(!dir.path().join("n.csv").exists(), "nothing written");
    Ok(())
}

/// `probe alignment` on a bundled Pfam family with the tiny fixture: every layer scored,
/// trained and untrained, the AUC table with one row per family and layer plus the mean, the
/// histograms with 40 bins per family and layer; a family of one sequence is refused naming it.
#[test]
fn probe_alignment_scores_a_bundled_family_and_refuses_a_lone_sequence() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir()?;
    let (out, hist) = (dir.path().join("auc.csv"), dir.path().join("h.parquet"));
    let run = workbench()
        .args(["probe", "alignment", "--model"])
        .arg(fixture("esm1b_tiny_t2.pt"))
        .arg("--alignments")
        .arg(root.join("datasets/alignments/RRM_1.sto"))
        .args([
            "--max-sequences",
            "12",
            "--pairs",
            "500",
            "--layers",
            "all",
            "--compare-untrained",
        ])
        .arg("--store")
        .arg(dir.path().join("stores"))
        .arg("--out")
        .arg(&out)
        .arg("--histograms")
        .arg(&hist)
        .output()?;
    let said =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("best layer"), "{said}");
    let table = std::fs::read_to_string(&out)?;
    assert!(
        table.starts_with(
            "model,layer,best,family,sequences,aligned_pairs,aligned_pairs_total,auc,"
        ),
        "{table}"
    );
    // 3 layers x (RRM_1 + mean) x (trained, untrained).
    assert_eq!(table.lines().count(), 1 + 3 * 2 * 2, "{table}");
    let row = table.lines().nth(1).ok_or("a row")?;
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(
        (cells[3], cells[4], cells[5]),
        ("RRM_1", "12", "500"),
        "{row}"
    );
    let auc: f64 = cells[7].parse()?;
    assert!((0.0..=1.0).contains(&auc), "{row}");
    use polars::prelude::SerReader as _;
    let frame = polars::prelude::ParquetReader::new(std::fs::File::open(&hist)?).finish()?;
    assert_eq!(frame.height(), 40 * 3 * 2);
    let lone = dir.path().join("lone.sto");
    std::fs::write(
        &lone,
        "# STOCKHOLM 1.0\n#=GF ID lonely\nonly/1-5 ACDEF\n//\n",
    )?;
    let refused = workbench()
        .args(["probe", "alignment", "--model"])
        .arg(fixture("esm1b_tiny_t2.pt"))
        .arg("--alignments")
        .arg(&lone)
        .output()?;
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        said.contains("family lonely (lone.sto) has 1 aligned sequence(s)"),
        "{said}"
    );
    Ok(())
}
