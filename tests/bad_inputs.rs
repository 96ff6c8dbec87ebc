//! Bad input at every door: each case runs the CLI on a wrong file, an empty one, a truncated
//! checkpoint, a value out of range or a path it cannot write, and checks that it fails with a
//! message of ours naming the input (file, record and line, or flag and range), and that no
//! internal text (candle, polars, serde, a panic) reaches the user.

use std::process::Command;

/// Text that must never reach a user.
const INTERNAL: [&str; 7] = [
    "tensor operation",
    "cat expects",
    "unwrap",
    "panicked",
    "RUST_BACKTRACE",
    "called `Option",
    "called `Result",
];

const STARTER: &str = "assets/starter/starter_esm1b_t4_128.safetensors";

/// The bad files, made once per test run in a temporary folder.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes);
        write(
            "random.pt",
            &(0..1024u32)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<_>>(),
        )?;
        write("empty.pt", b"")?;
        write("text.safetensors", b"hello, this is not a model\n")?;
        write(
            "bad_header.safetensors",
            b"\x10\x00\x00\x00\x00\x00\x00\x00{not json!!!!!!}",
        )?;
        write("empty.fasta", b"")?;
        write("no_records.fasta", b"; only a comment\n\n")?;
        write("empty_record.fasta", b">a\nMKTAYIAK\n>b\n\n>c\nMKV\n")?;
        write("bad_char.fasta", b">a\nMK1TAY\n")?;
        write(
            "ok.fasta",
            b">a some protein\nMKTAYIAKQRQISFVKSHFSRQ\n>b\nMSDNKLVEAAIRKAGSTLNV\n",
        )?;
        write("empty.tsv", b"")?;
        write("empty.pdb", b"")?;
        write("not_npy.npy", b"this is text, not an array\n")?;
        write("a_file", b"x")?;
        std::fs::create_dir(dir.path().join("empty_dir"))?;
        std::fs::create_dir(dir.path().join("two_models"))?;
        for name in ["a.safetensors", "b.safetensors"] {
            std::fs::copy(STARTER, dir.path().join("two_models").join(name))?;
        }
        Ok(Self { dir })
    }

    /// A path in the folder, as an argument.
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// One bad input: the arguments and the words the message must hold.
struct Case {
    args: Vec<String>,
    expect: Vec<&'static str>,
}

fn case(args: &[&str], expect: &[&'static str]) -> Case {
    Case {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        expect: expect.to_vec(),
    }
}

/// The model-file, FASTA and extract cases.
fn file_cases(f: &Files, out: &str) -> Vec<Case> {
    let p = |name| f.path(name);
    vec![
        case(&["info", &p("missing.pt")], &["not found", "missing.pt"]),
        case(
            &["info", &p("random.pt")],
            &["not a model checkpoint", "random.pt"],
        ),
        case(
            &["info", &p("empty.pt")],
            &["not a model checkpoint", "empty.pt"],
        ),
        case(&["info", "tests/fixtures/truncated.pt"], &["truncated.pt"]),
        case(
            &["info", &p("empty_dir")],
            &["folder without a model", "empty_dir"],
        ),
        case(
            &["info", &p("two_models")],
            &["2 .safetensors files", "two_models"],
        ),
        case(
            &["info", &p("text.safetensors")],
            &["not a model checkpoint", "text.safetensors"],
        ),
        case(
            &["info", &p("bad_header.safetensors")],
            &["bad_header.safetensors"],
        ),
        case(
            &["extract", STARTER, &p("empty.fasta"), out],
            &["no FASTA records", "empty.fasta"],
        ),
        case(
            &["extract", STARTER, &p("no_records.fasta"), out],
            &["no FASTA records"],
        ),
        case(
            &["extract", STARTER, &p("empty_record.fasta"), out],
            &[
                "record has no residues",
                "record b",
                "line 3",
                "empty_record.fasta",
            ],
        ),
        case(
            &["extract", STARTER, &p("bad_char.fasta"), out],
            &["invalid character", "line 2", "bad_char.fasta"],
        ),
        case(
            &["extract", STARTER, &p("missing.fasta"), out],
            &["not found", "missing.fasta"],
        ),
        case(
            &[
                "extract",
                STARTER,
                &p("ok.fasta"),
                out,
                "--repr-layers",
                "99",
            ],
            &["representation layer 99", "out of range"],
        ),
        case(
            &[
                "extract",
                STARTER,
                &p("ok.fasta"),
                out,
                "--repr-layers",
                "-99",
            ],
            &["representation layer -99"],
        ),
        case(
            &[
                "extract",
                STARTER,
                &p("ok.fasta"),
                out,
                "--toks-per-batch",
                "0",
            ],
            &["tokens per batch (--toks-per-batch)", "got 0"],
        ),
        case(
            &["extract", STARTER, &p("ok.fasta"), "/dev/full/out"],
            &["/dev/full"],
        ),
        case(
            &["convert", STARTER, "/dev/full"],
            &["disk is full", "/dev/full"],
        ),
        case(
            &["convert", &p("missing.pt"), &p("x.safetensors")],
            &["not found", "missing.pt"],
        ),
        case(
            &["convert", STARTER, &p("empty_dir")],
            &["exists; not overwriting", "empty_dir"],
        ),
    ]
}

/// The study cases: every parameter at the door, and the study's own files.
fn study_cases(f: &Files, store: &str) -> Vec<Case> {
    let p = |name| f.path(name);
    let contacts = |extra: &[&str]| {
        let mut args = vec![
            "probe",
            "contacts",
            "--model",
            STARTER,
            "--store",
            store,
            "--structures",
            "datasets/kit/ts50.json",
            "--train",
            "datasets/kit/pdb_domains.json",
        ];
        args.extend_from_slice(extra);
        args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>()
    };
    let with = |args: Vec<String>, expect: &[&'static str]| Case {
        args,
        expect: expect.to_vec(),
    };
    vec![
        with(
            contacts(&["--save", &p("a_file")]),
            &["a_file", "exists; not overwriting"],
        ),
        with(
            contacts(&["--rank", "0"]),
            &["probe rank (--rank)", "from 1 to 4096", "got 0"],
        ),
        with(
            contacts(&["--rank", "100000"]),
            &["probe rank (--rank)", "got 100000"],
        ),
        with(
            contacts(&["--epochs", "0"]),
            &["epochs (--epochs)", "got 0"],
        ),
        with(
            contacts(&["--lr", "0"]),
            &["learning rate (--lr)", "above 0"],
        ),
        with(
            contacts(&["--lr", "NaN"]),
            &["learning rate (--lr)", "got NaN"],
        ),
        with(contacts(&["--lr=-1"]), &["learning rate (--lr)", "got -1"]),
        with(
            contacts(&["--residue-cap", "0"]),
            &["training-residue cap (--residue-cap)"],
        ),
        with(contacts(&["--layers", "99"]), &["representation layer 99"]),
        with(
            contacts(&["--layers", "banana"]),
            &["'banana' is not a layer choice"],
        ),
        with(
            contacts(&["--toks-per-batch", "0"]),
            &["tokens per batch (--toks-per-batch)"],
        ),
        case(
            &[
                "probe",
                "contacts",
                "--model",
                STARTER,
                "--structures",
                &p("missing.pdb"),
            ],
            &["not found", "missing.pdb"],
        ),
        case(
            &[
                "probe",
                "contacts",
                "--model",
                STARTER,
                "--structures",
                &p("empty.pdb"),
            ],
            &["empty.pdb"],
        ),
        case(
            &[
                "probe",
                "contacts",
                "--model",
                STARTER,
                "--structures",
                "datasets/kit/ts50.json",
                "--train",
                "datasets/kit/pdb_domains.json",
                "--store",
                &p("a_file"),
            ],
            &["feature-store folder (--store)", "a_file"],
        ),
        case(
            &[
                "probe", "ss8", "--model", STARTER, "--store", store, "--l2=-1",
            ],
            &["L2 penalty (--l2)", "got -1"],
        ),
        case(
            &[
                "probe",
                "ss8",
                "--model",
                STARTER,
                "--store",
                store,
                "--max-iterations",
                "0",
            ],
            &["iterations (--max-iterations)", "got 0"],
        ),
        case(
            &[
                "probe",
                "ss8",
                "--model",
                STARTER,
                "--store",
                store,
                "--residue-cap",
                "0",
            ],
            &["training-residue cap (--residue-cap)"],
        ),
        case(
            &[
                "probe", "ss8", "--model", STARTER, "--store", store, "--layers", "7",
            ],
            &["representation layer 7", "4-layer model"],
        ),
        case(
            &[
                "probe",
                "ss8",
                "--model",
                STARTER,
                "--train",
                &p("missing.tsv"),
            ],
            &["not found", "missing.tsv"],
        ),
        case(
            &[
                "probe",
                "ss8",
                "--model",
                STARTER,
                "--train",
                &p("empty.tsv"),
            ],
            &["empty.tsv"],
        ),
        case(
            &["probe", "ss8", "--model", &p("random.pt")],
            &["not a model checkpoint"],
        ),
        case(
            &[
                "probe",
                "homology",
                "--model",
                STARTER,
                "--astral",
                &p("empty.fasta"),
            ],
            &["empty.fasta"],
        ),
        case(
            &[
                "probe",
                "homology",
                "--model",
                STARTER,
                "--astral",
                &p("missing.fa"),
            ],
            &["not found", "missing.fa"],
        ),
        case(
            &[
                "probe",
                "aa-groups",
                "--model",
                STARTER,
                "--fasta",
                &p("empty.fasta"),
            ],
            &["no FASTA records", "empty.fasta"],
        ),
    ]
}

/// The map, perplexity and store cases.
fn map_cases(f: &Files, store: &str) -> Vec<Case> {
    let p = |name| f.path(name);
    let ok = p("ok.fasta");
    let out = p("map.csv");
    let tsne = |extra: &[&str]| {
        let mut args = vec![
            "project", "tsne", "--model", STARTER, "--fasta", &ok, "--store", store, "--out", &out,
        ];
        args.extend_from_slice(extra);
        Case {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            expect: Vec::new(),
        }
    };
    let expect = |mut c: Case, words: &[&'static str]| {
        c.expect = words.to_vec();
        c
    };
    vec![
        expect(
            tsne(&["--perplexity", "0"]),
            &["perplexity (--perplexity)", "got 0"],
        ),
        expect(
            tsne(&["--iterations", "0"]),
            &["iterations (--iterations)", "got 0"],
        ),
        expect(tsne(&["--theta", "2"]), &["theta (--theta)", "got 2"]),
        expect(
            tsne(&["--exaggeration", "0"]),
            &["early exaggeration (--exaggeration)"],
        ),
        expect(
            tsne(&["--max-points", "1"]),
            &["points (--max-points)", "got 1"],
        ),
        expect(tsne(&["--layer", "12"]), &["representation layer 12"]),
        expect(
            tsne(&["--figure", &p("map.png"), "--dpi", "0"]),
            &["figure resolution (--dpi)", "at least 48", "got 0"],
        ),
        case(
            &[
                "project",
                "pca",
                "--model",
                STARTER,
                "--fasta",
                &ok,
                "--store",
                store,
                "--out",
                &out,
                "--components",
                "1",
            ],
            &["components (--components)", "got 1"],
        ),
        case(
            &[
                "project",
                "tsne",
                "--points",
                &p("missing.npy"),
                "--out",
                &out,
            ],
            &["not found", "missing.npy"],
        ),
        case(
            &[
                "project",
                "tsne",
                "--points",
                &p("not_npy.npy"),
                "--out",
                &out,
            ],
            &["not_npy.npy"],
        ),
        case(
            &[
                "project",
                "pca",
                "--model",
                STARTER,
                "--fasta",
                &p("empty.fasta"),
                "--out",
                &out,
            ],
            &["no FASTA records", "empty.fasta"],
        ),
        case(
            &[
                "project",
                "pca",
                "--model",
                STARTER,
                "--fasta",
                &ok,
                "--store",
                store,
                "--out",
                &p("map.txt"),
            ],
            &["map.txt", ".csv or .parquet"],
        ),
        case(
            &[
                "perplexity",
                "--model",
                STARTER,
                "--fasta",
                &p("empty.fasta"),
            ],
            &["no FASTA records"],
        ),
        case(
            &[
                "store",
                "fill",
                "--model",
                STARTER,
                "--fasta",
                &p("empty.fasta"),
                "--store",
                store,
            ],
            &["no FASTA records", "empty.fasta"],
        ),
        case(
            &[
                "store", "fill", "--model", STARTER, "--fasta", &ok, "--store", store, "--shard",
                "3/2",
            ],
            &["--shard", "3/2"],
        ),
    ]
}

/// Runs `case`; returns what was wrong with its answer, if anything.
fn check(case: &Case) -> Option<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
        .args(&case.args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => return Some(format!("could not run: {e}")),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    let mut wrong = Vec::new();
    if output.status.success() {
        wrong.push("exited 0".to_owned());
    }
    for word in &case.expect {
        if !text.contains(word) {
            wrong.push(format!("no {word:?}"));
        }
    }
    for internal in INTERNAL {
        if text.contains(internal) {
            wrong.push(format!("internal text {internal:?}"));
        }
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "{}\n  {}\n  said: {}",
            case.args.join(" "),
            wrong.join("; "),
            text.trim()
        )
    })
}

#[test]
fn every_bad_input_gets_a_message_of_ours_naming_it() -> Result<(), Box<dyn std::error::Error>> {
    let files = Files::new()?;
    let out = files.path("extract_out");
    let store = files.path("stores");
    let cases: Vec<Case> = [
        file_cases(&files, &out),
        study_cases(&files, &store),
        map_cases(&files, &store),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let is_device = || {
        use std::os::unix::fs::FileTypeExt as _;
        std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device())
    };
    assert!(
        is_device(),
        "/dev/full is not the full device on this machine"
    );
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    println!("{} bad inputs checked", cases.len());
    assert!(
        is_device(),
        "a writer replaced /dev/full instead of writing into it"
    );
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were answered badly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    Ok(())
}

#[test]
fn the_bundled_model_folder_opens_as_a_model() {
    let output = Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
        .args(["info", "assets/starter"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("starter_esm1b_t4_128") && text.contains("layers:          4"),
        "{text}"
    );
}

/// The GUI's study requests refuse the same bad inputs with the same words: the estimate line
/// shows the very message the CLI prints (both build their requests with the same functions).
#[cfg(feature = "gui")]
#[test]
fn the_gui_refuses_the_same_inputs_with_the_cli_s_words() -> Result<(), Box<dyn std::error::Error>>
{
    use esm_workbench::gui::contacts_view::{ContactSettings, contacts_estimate_text};
    use esm_workbench::gui::homology_view::{HomologySettings, homology_estimate_text};
    use esm_workbench::gui::ss8_view::{Ss8Settings, ss8_estimate_text};
    use esm_workbench::model::LoadedModel;

    let files = Files::new()?;
    let store = files.path("stores");
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR"))?;
    let model = LoadedModel::load(STARTER.as_ref(), &candle_core::Device::Cpu)?;
    let (train, test) = ("datasets/kit/ss8_train.tsv", "datasets/kit/ts50.json");
    let ss8 = |train: &str| Ss8Settings {
        train: train.into(),
        test: test.into(),
        ..Ss8Settings::default()
    };
    let contacts = ContactSettings {
        train: "datasets/kit/pdb_domains.json".into(),
        test: test.into(),
        ..ContactSettings::default()
    };
    let cli = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["probe", args[0], "--model", STARTER, "--store", &store];
        all.extend_from_slice(&args[1..]);
        all.iter().map(|a| (*a).to_owned()).collect()
    };
    let ss8_cli = |extra: &[&str]| {
        let mut args = vec!["ss8", "--train", train, "--test", test];
        args.extend_from_slice(extra);
        cli(&args)
    };
    let contacts_cli = |extra: &[&str]| {
        let mut args = vec![
            "contacts",
            "--train",
            "datasets/kit/pdb_domains.json",
            "--structures",
            test,
        ];
        args.extend_from_slice(extra);
        cli(&args)
    };
    let (missing, empty) = (files.path("missing.tsv"), files.path("empty.tsv"));
    let (missing_fa, empty_fa) = (files.path("missing.fa"), files.path("empty.fasta"));
    let cases: Vec<(Result<String, String>, Vec<String>)> = vec![
        (
            ss8_estimate_text(&model, &ss8(&missing)),
            cli(&["ss8", "--train", &missing, "--test", test]),
        ),
        (
            ss8_estimate_text(&model, &ss8(&empty)),
            cli(&["ss8", "--train", &empty, "--test", test]),
        ),
        (
            ss8_estimate_text(
                &model,
                &Ss8Settings {
                    residue_cap: 0,
                    ..ss8(train)
                },
            ),
            ss8_cli(&["--residue-cap", "0"]),
        ),
        (
            contacts_estimate_text(
                &model,
                &ContactSettings {
                    rank: 0,
                    ..contacts.clone()
                },
            ),
            contacts_cli(&["--rank", "0"]),
        ),
        (
            contacts_estimate_text(
                &model,
                &ContactSettings {
                    epochs: 0,
                    ..contacts.clone()
                },
            ),
            contacts_cli(&["--epochs", "0"]),
        ),
        (
            contacts_estimate_text(
                &model,
                &ContactSettings {
                    residue_cap: 0,
                    ..contacts.clone()
                },
            ),
            contacts_cli(&["--residue-cap", "0"]),
        ),
        (
            homology_estimate_text(
                &model,
                &HomologySettings {
                    astral: missing_fa.clone(),
                    ..HomologySettings::default()
                },
            ),
            cli(&["homology", "--astral", &missing_fa]),
        ),
        (
            homology_estimate_text(
                &model,
                &HomologySettings {
                    astral: empty_fa.clone(),
                    ..HomologySettings::default()
                },
            ),
            cli(&["homology", "--astral", &empty_fa]),
        ),
    ];
    let mut failures = Vec::new();
    for (gui, args) in &cases {
        let output = Command::new(env!("CARGO_BIN_EXE_esm-workbench"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()?;
        let said = String::from_utf8_lossy(&output.stderr);
        match gui {
            Ok(text) => failures.push(format!("the GUI accepted {args:?}: {text}")),
            Err(message) if output.status.success() || !said.contains(message.as_str()) => failures
                .push(format!(
                    "{}\n  GUI: {message}\n  CLI: {}",
                    args.join(" "),
                    said.trim()
                )),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    Ok(())
}
