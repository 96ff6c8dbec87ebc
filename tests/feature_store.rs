//! Feature stores and the SS8 study at the process level: a study killed with SIGKILL during its
//! embedding resumes and gives the same table as an uninterrupted run; a second study reuses the
//! stores (no forward pass); three `store fill --shard i/3` processes fill one store that a
//! study then reads; a full disk and a study that cannot fit are refused before any work and
//! leave no store behind; the GUI's study and `probe ss8` write identical tables.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use esm_workbench::model::{Architecture, Checkpoint, EsmConfig};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
}

/// A random ESM-1b-architecture model large enough that one forward batch takes a while
/// (3 layers, width 320: about 4M parameters), saved as workbench safetensors.
fn medium_model(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let config = EsmConfig {
        architecture: Architecture::Esm1b,
        num_layers: 3,
        embed_dim: 320,
        ffn_embed_dim: 1280,
        attention_heads: 20,
        ..EsmConfig::esm1b_650m()
    };
    let path = dir.join("medium.safetensors");
    Checkpoint::random(config, 7)?.save_workbench_safetensors(&path)?;
    Ok(path)
}

/// SS8 tables (id, sequence, dssp8 TSV) of demo proteins `skip..skip + n`, cut to 300
/// residues, labelled by a residue rule (helix formers H, beta formers E, G/P turns T, else C)
/// so a probe has something to learn.
fn ss8_table(
    dir: &Path,
    name: &str,
    skip: usize,
    n: usize,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let fasta = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/uniprot_orthologs.fasta");
    let records = esm_workbench::data::FastaReader::read_all(&fasta)?;
    let mut text = String::from("id\tsequence\tdssp8\n");
    for record in records.iter().skip(skip).take(n) {
        let sequence: String = record.sequence.chars().take(300).collect();
        let labels: String = sequence
            .chars()
            .map(|c| match c {
                'A' | 'E' | 'L' | 'M' | 'Q' | 'K' | 'R' => 'H',
                'V' | 'I' | 'Y' | 'F' | 'W' | 'T' => 'E',
                'G' | 'P' => 'T',
                _ => 'C',
            })
            .collect();
        text.push_str(&format!("{}\t{sequence}\t{labels}\n", record.id));
    }
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `probe ss8` on the two tables with `store` and `out`, layers 0 and last, 30 iterations.
fn ss8_command(model: &Path, train: &Path, test: &Path, store: &Path, out: &Path) -> Command {
    let mut command = bin();
    command
        .args(["probe", "ss8", "--model"])
        .arg(model)
        .arg("--train")
        .arg(train)
        .arg("--test")
        .arg(test)
        .args([
            "--layers",
            "0,-1",
            "--max-iterations",
            "30",
            "--toks-per-batch",
            "512",
            "--residue-cap",
            "4000",
        ])
        .arg("--store")
        .arg(store)
        .arg("--out")
        .arg(out);
    command
}

fn run_ok(command: &mut Command) -> Result<Output, Box<dyn std::error::Error>> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            command,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(output)
}

/// The number after "embedded " in a study's stderr.
fn residues_embedded(output: &Output) -> Option<usize> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rest = stderr.split("embedded ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Finished batches over every store under `root`.
fn done_batches(root: &Path) -> usize {
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| std::fs::read_dir(e.path().join("done")).map_or(0, |d| d.count()))
        .sum()
}

#[test]
fn a_killed_study_resumes_to_the_same_table_and_a_second_study_embeds_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let model = medium_model(dir.path())?;
    let train = ss8_table(dir.path(), "train.tsv", 0, 48)?;
    let test = ss8_table(dir.path(), "test.tsv", 48, 12)?;
    let (whole_store, resumed_store) = (dir.path().join("whole"), dir.path().join("resumed"));
    let (whole_csv, resumed_csv) = (dir.path().join("whole.csv"), dir.path().join("resumed.csv"));

    let started_whole = Instant::now();
    let first = run_ok(&mut ss8_command(
        &model,
        &train,
        &test,
        &whole_store,
        &whole_csv,
    ))?;
    let total = residues_embedded(&first).ok_or("no 'embedded N' line")?;
    assert!(total > 10_000, "{total}");
    eprintln!(
        "uninterrupted study: {total} residues in {:.1} s",
        started_whole.elapsed().as_secs_f64()
    );

    // Kill -9 once some batches are on disk and before the study ends.
    let mut child = ss8_command(&model, &train, &test, &resumed_store, &resumed_csv)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    while done_batches(&resumed_store) < 2 {
        assert!(
            child.try_wait()?.is_none(),
            "the study ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no batch finished in 5 min"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill()?;
    child.wait()?;
    assert!(
        !resumed_csv.exists(),
        "the killed run must not have finished"
    );
    let kept = done_batches(&resumed_store);
    assert!(kept >= 2);

    let resumed = run_ok(&mut ss8_command(
        &model,
        &train,
        &test,
        &resumed_store,
        &resumed_csv,
    ))?;
    let embedded = residues_embedded(&resumed).ok_or("no 'embedded N' line")?;
    assert!(
        embedded < total,
        "resumed run embedded {embedded} of {total}"
    );
    assert_eq!(
        std::fs::read_to_string(&whole_csv)?,
        std::fs::read_to_string(&resumed_csv)?
    );

    // Same model and data again: every feature comes from the stores.
    let again_csv = dir.path().join("again.csv");
    let again = run_ok(&mut ss8_command(
        &model,
        &train,
        &test,
        &whole_store,
        &again_csv,
    ))?;
    assert_eq!(residues_embedded(&again), Some(0));
    assert_eq!(
        std::fs::read_to_string(&whole_csv)?,
        std::fs::read_to_string(&again_csv)?
    );
    Ok(())
}

#[test]
fn three_shard_processes_fill_one_store_that_a_study_then_reads() -> TestResult {
    let dir = tempfile::tempdir()?;
    let model = common::fixture("esm1b_tiny_t2.pt");
    let train = ss8_table(dir.path(), "train.tsv", 0, 60)?;
    let test = ss8_table(dir.path(), "test.tsv", 60, 10)?;
    let store = dir.path().join("stores");
    let fill = |shard: &str| {
        let mut command = bin();
        command
            .args(["store", "fill", "--model"])
            .arg(&model)
            .arg("--ss8")
            .arg(&train)
            .args([
                "--layers",
                "0,-1",
                "--toks-per-batch",
                "256",
                "--shard",
                shard,
            ])
            .arg("--store")
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    let children = ["0/3", "1/3", "2/3"]
        .iter()
        .map(|s| fill(s).spawn())
        .collect::<Result<Vec<_>, _>>()?;
    for child in children {
        let output = child.wait_with_output()?;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stores = esm_workbench::store::list_stores(&store);
    assert_eq!(
        stores.len(),
        1,
        "the shards must share one store: {stores:?}"
    );
    assert!(
        stores[0].is_complete() && stores[0].batches >= 3,
        "{:?}",
        stores[0]
    );

    let mut study = ss8_command(
        &model,
        &train,
        &test,
        &store,
        &dir.path().join("sharded.csv"),
    );
    let sharded = run_ok(&mut study)?;
    let single = run_ok(&mut ss8_command(
        &model,
        &train,
        &test,
        &dir.path().join("single"),
        &dir.path().join("single.csv"),
    ))?;
    let test_residues: usize = esm_workbench::data::read_ss8(&test)?
        .iter()
        .map(|r| r.sequence.len())
        .sum();
    // Only the test set was embedded: the training store came from the shards.
    assert_eq!(residues_embedded(&sharded), Some(test_residues));
    assert!(residues_embedded(&single) > Some(test_residues));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sharded.csv"))?,
        std::fs::read_to_string(dir.path().join("single.csv"))?
    );
    Ok(())
}

/// Runs `script` with `$1` a fresh 64 KiB tmpfs (a private mount namespace), or says why not.
fn on_tiny_disk(script: &str, args: &[&Path]) -> Option<Output> {
    let mount = tempfile::tempdir().ok()?;
    let mut command = Command::new("unshare");
    command.args(["-rm", "sh", "-c"]).arg(format!(
        "mount -t tmpfs -o size=64k tmpfs \"$1\" || exit 99; {script}"
    ));
    command.arg("sh").arg(mount.path()).args(args);
    match command.output() {
        Ok(out) if out.status.code() != Some(99) => Some(out),
        Ok(out) => {
            common::say_skipped(format!(
                "cannot mount a small tmpfs here ({}); the full-disk check did not run",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            None
        }
        Err(e) => {
            common::say_skipped(format!(
                "`unshare` is not available ({e}); the full-disk check did not run"
            ));
            None
        }
    }
}

#[test]
fn a_full_disk_is_refused_before_any_work_and_leaves_no_store() -> TestResult {
    let dir = tempfile::tempdir()?;
    let model = common::fixture("esm1b_tiny_t2.pt");
    let train = ss8_table(dir.path(), "train.tsv", 0, 30)?;
    let test = ss8_table(dir.path(), "test.tsv", 30, 10)?;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_esm-workbench"));
    // $1 the tiny disk, $2 the binary, $3 the model, $4 train, $5 test.
    let script = r#"
        "$2" store fill --model "$3" --ss8 "$4" --store "$1/stores"; echo "fill-exit=$?"
        "$2" probe ss8 --model "$3" --train "$4" --test "$5" --layers all --store "$1/stores"; echo "study-exit=$?"
        echo "left:"; ls -A "$1/stores" 2>/dev/null
    "#;
    let Some(output) = on_tiny_disk(script, &[&bin, &model, &train, &test]) else {
        return Ok(());
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("fill-exit=1"), "{stdout}\n{stderr}");
    assert!(stdout.contains("study-exit=1"), "{stdout}\n{stderr}");
    // store fill: the store's own check; probe ss8: the study's estimate.
    assert!(
        stderr.contains("not enough free disk for the feature store"),
        "{stderr}"
    );
    assert!(
        stderr.contains("feature stores need") && stderr.contains("f16"),
        "{stderr}"
    );
    let left = stdout.split("left:").nth(1).unwrap_or_default();
    assert!(left.trim().is_empty(), "files left behind: {left}");
    Ok(())
}

#[cfg(feature = "gui")]
#[test]
fn the_gui_study_and_probe_ss8_write_identical_tables() -> TestResult {
    use esm_workbench::analysis::JobCtx;
    use esm_workbench::gui::ss8_view::{Ss8Settings, compute_ss8};
    use esm_workbench::model::{Layers, LoadedModel};

    let dir = tempfile::tempdir()?;
    let model_path = common::fixture("esm1b_tiny_t2.pt");
    let train = ss8_table(dir.path(), "train.tsv", 0, 30)?;
    let test = ss8_table(dir.path(), "test.tsv", 30, 10)?;
    let cli_csv = dir.path().join("cli.csv");
    run_ok(
        bin()
            .args(["probe", "ss8", "--model"])
            .arg(&model_path)
            .arg("--train")
            .arg(&train)
            .arg("--test")
            .arg(&test)
            .args(["--layers", "all", "--compare-untrained"])
            .arg("--store")
            .arg(dir.path().join("cli_store"))
            .arg("--out")
            .arg(&cli_csv),
    )?;
    let settings = Ss8Settings {
        train: train.display().to_string(),
        test: test.display().to_string(),
        max_train: 1000,
        layers: Layers::All,
        compare_untrained: true,
        store: esm_workbench::store::StoreOptions {
            root: dir.path().join("gui_store"),
            ..Default::default()
        },
        ..Ss8Settings::default()
    };
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let study = compute_ss8(&model, &settings, &JobCtx::default())?;
    let gui_csv = dir.path().join("gui.csv");
    let mut table = esm_workbench::analysis::ss8_study_table::ss8_study_table(&study)?;
    esm_workbench::export::write_table(&gui_csv, &mut table)?;
    assert_eq!(
        std::fs::read_to_string(&cli_csv)?,
        std::fs::read_to_string(&gui_csv)?
    );
    assert!(
        table.height() >= 2 * 3 * 8,
        "trained + untrained, 3 layers, 8 classes"
    );
    Ok(())
}

/// The contact study at the process level: `probe contacts` and the GUI's compute write the
/// same table; a second run reuses the stores; the training used sampled pairs, not every pair.
#[cfg(feature = "gui")]
#[test]
fn the_gui_contact_study_and_probe_contacts_write_identical_tables() -> TestResult {
    use esm_workbench::analysis::JobCtx;
    use esm_workbench::gui::contacts_view::{ContactSettings, compute_contacts};
    use esm_workbench::model::{Layers, LoadedModel};

    let dir = tempfile::tempdir()?;
    let model_path = common::fixture("esm1b_tiny_t2.pt");
    let structures = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/structures.json");
    let cli_csv = dir.path().join("cli.csv");
    let cli = || {
        let mut command = bin();
        command
            .args(["probe", "contacts", "--model"])
            .arg(&model_path)
            .arg("--structures")
            .arg(&structures)
            .arg("--train")
            .arg(&structures)
            .args(["--layers", "all", "--compare-untrained", "--epochs", "5"])
            .arg("--store")
            .arg(dir.path().join("cli_store"))
            .arg("--out")
            .arg(&cli_csv);
        command
    };
    let first = run_ok(&mut cli())?;
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(stderr.contains("estimate: "), "{stderr}");
    let counts = stderr
        .split("contacts and ")
        .nth(1)
        .ok_or(format!("no pair counts in: {stderr}"))?;
    let numbers: Vec<usize> = counts
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    assert!(
        numbers.len() == 2 && numbers[0] < numbers[1],
        "non-contacts are sampled: {counts}"
    );
    let second = run_ok(&mut cli())?;
    assert_eq!(residues_embedded(&second), Some(0), "the stores are reused");
    let settings = ContactSettings {
        train: structures.display().to_string(),
        test: structures.display().to_string(),
        layers: Layers::All,
        epochs: 5,
        compare_untrained: true,
        store: esm_workbench::store::StoreOptions {
            root: dir.path().join("gui_store"),
            ..Default::default()
        },
        ..ContactSettings::default()
    };
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let result = compute_contacts(&model, &settings, &JobCtx::default())?;
    let gui_csv = dir.path().join("gui.csv");
    let mut table = esm_workbench::analysis::contact_study_table::contact_study_table(&result)?;
    esm_workbench::export::write_table(&gui_csv, &mut table)?;
    assert_eq!(
        std::fs::read_to_string(&cli_csv)?,
        std::fs::read_to_string(&gui_csv)?
    );
    assert_eq!(
        table.height(),
        2 * 3 + 1,
        "trained + untrained, 3 layers, the contact head"
    );
    // The map on screen is read back from the store: the best probe's prediction, L x L.
    let predicted = result.predict_chain(0)?;
    let len = result.test[0].sequence.len();
    assert_eq!(predicted.len(), len * len);
    Ok(())
}

/// The homology study: `probe homology` and the GUI's compute write the same table; its store
/// holds per-domain means only (no per-residue layer files); a second run embeds nothing.
#[cfg(feature = "gui")]
#[test]
fn the_gui_homology_study_and_probe_homology_write_identical_tables() -> TestResult {
    use esm_workbench::analysis::JobCtx;
    use esm_workbench::gui::homology_view::{HomologySettings, compute_homology};
    use esm_workbench::model::{Layers, LoadedModel};

    let dir = tempfile::tempdir()?;
    let model_path = common::fixture("esm1b_tiny_t2.pt");
    // 3 superfamilies of 2 families with 3 domains each, demo sequences.
    let fasta = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/uniprot_orthologs.fasta");
    let records = esm_workbench::data::FastaReader::read_all(&fasta)?;
    let mut text = String::new();
    for (k, record) in records.iter().take(18).enumerate() {
        let (superfamily, family) = (1 + k / 6, 1 + (k / 3) % 2);
        let sequence: String = record.sequence.chars().take(120).collect();
        text.push_str(&format!(
            ">d{k:03}xa_ a.{superfamily}.1.{family} (A:) domain {k} {{Homo sapiens [TaxId: 9606]}}\n{sequence}\n"
        ));
    }
    let astral = dir.path().join("astral.fa");
    std::fs::write(&astral, text)?;
    let cli_csv = dir.path().join("cli.csv");
    let cli = || {
        let mut command = bin();
        command
            .args(["probe", "homology", "--model"])
            .arg(&model_path)
            .arg("--astral")
            .arg(&astral)
            .args(["--layers", "all", "--compare-untrained"])
            .arg("--store")
            .arg(dir.path().join("cli_store"))
            .arg("--out")
            .arg(&cli_csv);
        command
    };
    run_ok(&mut cli())?;
    let second = run_ok(&mut cli())?;
    assert_eq!(residues_embedded(&second), Some(0), "the stores are reused");
    let stores = esm_workbench::store::list_stores(&dir.path().join("cli_store"));
    assert_eq!(stores.len(), 2, "trained and untrained");
    for store in &stores {
        let files: Vec<String> = std::fs::read_dir(&store.dir)?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            files.iter().any(|f| f.starts_with("mean_"))
                && !files.iter().any(|f| f.starts_with("layer_")),
            "means only: {files:?}"
        );
    }
    let settings = HomologySettings {
        astral: astral.display().to_string(),
        max_domains: 1000,
        compare_untrained: true,
        layers: Layers::All,
        store: esm_workbench::store::StoreOptions {
            root: dir.path().join("gui_store"),
            ..Default::default()
        },
    };
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let study = compute_homology(&model, &settings, &JobCtx::default())?;
    let gui_csv = dir.path().join("gui.csv");
    let mut table = esm_workbench::analysis::homology_study_table::homology_study_table(&study)?;
    esm_workbench::export::write_table(&gui_csv, &mut table)?;
    assert_eq!(
        std::fs::read_to_string(&cli_csv)?,
        std::fs::read_to_string(&gui_csv)?
    );
    assert_eq!(table.height(), 2 * 3, "trained + untrained, 3 layers");
    Ok(())
}

/// The amino-acid groups study at the process level: `probe aa-groups` and the GUI's panel
/// (the Embedding map's "Amino-acid groups by layer") write the same table; a second CLI run
/// reuses the store.
#[cfg(feature = "gui")]
#[test]
fn the_gui_aa_groups_study_and_probe_aa_groups_write_identical_tables() -> TestResult {
    use esm_workbench::analysis::JobCtx;
    use esm_workbench::gui::aa_groups_panel::{
        AaGroupsSettings, aa_groups_request, compute_aa_groups,
    };
    use esm_workbench::model::{Layers, LoadedModel};

    let dir = tempfile::tempdir()?;
    let model_path = common::fixture("esm1b_tiny_t2.pt");
    let fasta = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo/uniprot_orthologs.fasta");
    let cli_csv = dir.path().join("cli.csv");
    let cli = || {
        let mut command = bin();
        command
            .args(["probe", "aa-groups", "--model"])
            .arg(&model_path)
            .arg("--fasta")
            .arg(&fasta)
            .args(["--layers", "all", "--compare-untrained"])
            .arg("--store")
            .arg(dir.path().join("cli_store"))
            .arg("--out")
            .arg(&cli_csv);
        command
    };
    let first = run_ok(&mut cli())?;
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        stdout.contains("embedding table") && stdout.contains("best layer"),
        "{stdout}"
    );
    let second = run_ok(&mut cli())?;
    assert_eq!(residues_embedded(&second), Some(0), "the store is reused");

    let set = esm_workbench::data::open_data_files(std::slice::from_ref(&fasta))?;
    let settings = AaGroupsSettings {
        layers: Layers::All,
        compare_untrained: true,
    };
    let store = esm_workbench::store::StoreOptions {
        root: dir.path().join("gui_store"),
        ..Default::default()
    };
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let study = compute_aa_groups(
        &model,
        &aa_groups_request(&set, &settings, &store),
        &JobCtx::default(),
    )?;
    let gui_csv = dir.path().join("gui.csv");
    let mut table = esm_workbench::analysis::aa_groups_study_table::aa_groups_study_table(&study)?;
    esm_workbench::export::write_table(&gui_csv, &mut table)?;
    assert_eq!(
        std::fs::read_to_string(&cli_csv)?,
        std::fs::read_to_string(&gui_csv)?
    );
    assert_eq!(
        table.height(),
        2 + 2 * 3,
        "two embedding tables, then trained + untrained at layers 0-2"
    );
    Ok(())
}
