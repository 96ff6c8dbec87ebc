//! The parsers on the real public data sets in `../shared/data` (see its README.md). Each test
//! skips with a message when the folder is absent; `WB_SHARED_DATA` points elsewhere.

use std::path::PathBuf;

use esm_workbench::data::{SS8_CLASSES, read_astral, read_ss8};

mod common;

use common::shared;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn cb513_netsurfp_csv() -> TestResult {
    let Some(path) = shared("ss8/CB513.csv") else {
        return Ok(());
    };
    let records = read_ss8(&path)?;
    assert_eq!(records.len(), 511);
    assert_eq!(
        records.iter().map(|r| r.sequence.len()).sum::<usize>(),
        144_011
    );
    // `disorder` marks 140,486 resolved residues (3,525 unresolved).
    assert_eq!(
        records.iter().flat_map(|r| &r.mask).filter(|&&m| m).count(),
        140_486
    );
    assert_eq!(records[0].sequence.len(), 185);
    assert!(records[0].sequence.starts_with("RTDCYGNVNRIDTTG"));
    // Label counts over all residues: H 43,037, E 30,090, I 796.
    let count = |c: char| {
        let idx = SS8_CLASSES.iter().position(|&x| x == c).unwrap_or(99) as u8;
        records
            .iter()
            .flat_map(|r| &r.labels)
            .filter(|&&l| l == idx)
            .count()
    };
    assert_eq!((count('H'), count('E'), count('I')), (43_037, 30_090, 796));
    Ok(())
}

#[test]
fn pisces_training_tsv() -> TestResult {
    let Some(path) = shared("ss8/pisces2018_train.tsv") else {
        return Ok(());
    };
    let records = read_ss8(&path)?;
    assert_eq!(records.len(), 5_126);
    assert_eq!(
        records.iter().map(|r| r.sequence.len()).sum::<usize>(),
        1_031_743
    );
    assert_eq!(
        (records[0].id.as_str(), records[0].sequence.len()),
        ("16VP.A", 366)
    );
    let last = records.last().ok_or("empty")?;
    assert_eq!(
        (last.id.as_str(), last.sequence.len(), last.line),
        ("7AHL.B", 293, 5_127)
    );
    Ok(())
}

#[test]
fn astral_scope_207_40() -> TestResult {
    let Some(path) = shared("scope/astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa") else {
        return Ok(());
    };
    let domains = read_astral(&path)?;
    assert_eq!(domains.len(), 14_323);
    let distinct = |f: fn(&esm_workbench::data::ScopDomain) -> &str| {
        domains
            .iter()
            .map(f)
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    assert_eq!(distinct(|d| d.superfamily()), 2_024);
    assert_eq!(distinct(|d| d.fold()), 1_232);
    let first = &domains[0];
    assert_eq!(
        (first.id.as_str(), first.sccs.as_str(), first.tax_id),
        ("d1dlwa_", "a.1.1.1", Some(5885))
    );
    assert!(first.sequence.starts_with("SLFEQLGGQAAVQAV"));
    assert_eq!(domains.last().map(|d| d.id.as_str()), Some("d5syba_"));
    Ok(())
}

#[test]
fn pdb_files_parse_with_sequences_and_coordinates() -> TestResult {
    let Some(dir) = shared("structures/pdb") else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 41);
    let mut imputation_errors = Vec::new();
    for file in &files {
        let chains = esm_workbench::data::read_structure(file)?;
        assert!(!chains.is_empty(), "{}", file.display());
        for chain in &chains {
            assert_eq!(chain.sequence.len(), chain.atoms.len());
            assert!(chain.atoms.iter().all(|a| a.ca.is_some()));
            // The virtual Cβ lands where real Cβ atoms are.
            for (a, aa) in chain.atoms.iter().zip(chain.sequence.chars()) {
                if let (Some(n), Some(ca), Some(c), Some(cb), false) =
                    (a.n, a.ca, a.c, a.cb, aa == 'G')
                {
                    let v = esm_workbench::data::structure::impute_cb(n, ca, c);
                    imputation_errors.push(
                        ((v[0] - cb[0]).powi(2) + (v[1] - cb[1]).powi(2) + (v[2] - cb[2]).powi(2))
                            .sqrt(),
                    );
                }
            }
        }
    }
    imputation_errors.sort_by(f32::total_cmp);
    let median = imputation_errors[imputation_errors.len() / 2];
    eprintln!(
        "virtual vs deposited Cβ over {} residues: median {median:.3} Å",
        imputation_errors.len()
    );
    assert!(median < 0.2, "median |imputed - deposited Cβ| = {median} Å");

    let one = esm_workbench::data::read_structure(&dir.join("1CTF_A.pdb"))?;
    assert_eq!(
        (
            one.len(),
            one[0].chain.as_str(),
            one[0].sequence.len(),
            one[0].residue_numbers[0]
        ),
        (1, "A", 68, 53)
    );
    assert!(one[0].sequence.starts_with('E'));
    let map = one[0].contact_map(8.0);
    assert!((0..68).all(|i| (0..68).all(|j| map.contact(i, j) == map.contact(j, i))));
    let long_range = (0..68)
        .flat_map(|i| (0..68).map(move |j| (i, j)))
        .filter(|&(i, j)| {
            map.contact(i, j)
                && esm_workbench::data::SeparationRange::of(i, j)
                    == Some(esm_workbench::data::SeparationRange::Long)
        })
        .count();
    assert!(long_range > 0, "a folded domain has long-range contacts");

    // 5YH2: four chains; altloc duplicates are not counted twice.
    let chains = esm_workbench::data::read_structure(&dir.join("5YH2.pdb"))?;
    let mut lens: Vec<(String, usize)> = chains
        .iter()
        .map(|c| (c.chain.clone(), c.sequence.len()))
        .collect();
    lens.sort();
    assert_eq!(
        lens,
        vec![
            ("A".into(), 428),
            ("B".into(), 428),
            ("C".into(), 395),
            ("D".into(), 394)
        ]
    );
    Ok(())
}

#[test]
fn mmcif_and_backbone_json_parse() -> TestResult {
    if let Some(cif) = shared("structures/4uv3.cif") {
        let chains = esm_workbench::data::read_structure(&cif)?;
        assert_eq!(chains.len(), 18);
        assert_eq!(
            chains.iter().map(|c| c.sequence.len()).sum::<usize>(),
            4_451
        );
        assert!(chains[0].sequence.starts_with('L'));
    }
    if let Some(json) = shared("structures/ts50.json") {
        let chains = esm_workbench::data::read_backbone_json(&json)?;
        assert_eq!(chains.len(), 50);
        assert_eq!(
            chains.iter().map(|c| c.sequence.len()).sum::<usize>(),
            6_861
        );
        assert_eq!(chains[0].id, "1eteA");
        // Backbone only: every residue gets a virtual Cβ.
        assert!(
            chains
                .iter()
                .all(|c| c.cb_positions().iter().all(Option::is_some))
        );
    }
    Ok(())
}

#[test]
fn broken_structure_files_are_clear_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let bad = dir.path().join("broken.cif");
    std::fs::write(
        &bad,
        "data_x\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1\n",
    )?;
    match esm_workbench::data::read_structure(&bad) {
        Ok(chains) => assert!(chains.is_empty()),
        Err(e) => assert!(e.to_string().contains("broken.cif"), "{e}"),
    }
    let json = dir.path().join("bad.json");
    std::fs::write(
        &json,
        r#"[{"name": "x", "seq": "MK", "coords": [[[0,0,0]]]}]"#,
    )?;
    let msg = esm_workbench::data::read_backbone_json(&json)
        .expect_err("length mismatch")
        .to_string();
    assert!(
        msg.contains("record x") && msg.contains("2 residues but 1") && msg.contains("bad.json"),
        "{msg}"
    );
    Ok(())
}

/// mkdssp's classic output: (chain, residue number) -> DSSP letter (blank and P as C).
/// mkdssp 4 insists on a HEADER line, which the domain files lack: it gets a copy with one.
fn run_mkdssp(pdb: &std::path::Path) -> Option<std::collections::HashMap<(String, isize), char>> {
    let out = tempfile::NamedTempFile::new().ok()?;
    let input = tempfile::Builder::new().suffix(".pdb").tempfile().ok()?;
    let text = std::fs::read_to_string(pdb).ok()?;
    let header = if text.starts_with("HEADER") {
        String::new()
    } else {
        format!(
            "{:<80}\n{:<80}\n",
            "HEADER    PROTEIN                                 01-JAN-00   XXXX",
            "CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1"
        )
    };
    std::fs::write(input.path(), header + &text).ok()?;
    let status = std::process::Command::new("mkdssp")
        .args(["--output-format", "dssp"])
        .arg(input.path())
        .arg(out.path())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let text = std::fs::read_to_string(out.path()).ok()?;
    let mut lines = text.lines().skip_while(|l| !l.starts_with("  #  RESIDUE"));
    lines.next();
    let mut map = std::collections::HashMap::new();
    for line in lines {
        let b = line.as_bytes();
        if b.len() < 17 || b[13] == b'!' {
            continue;
        }
        let number: isize = line[5..10].trim().parse().ok()?;
        let ss = match b[16] {
            b' ' | b'P' => 'C',
            c => c as char,
        };
        map.insert((line[11..12].to_owned(), number), ss);
    }
    Some(map)
}

#[test]
fn rust_dssp_agrees_with_mkdssp_on_shared_pdb_files() -> TestResult {
    let Some(dir) = shared("structures/pdb") else {
        return Ok(());
    };
    if std::process::Command::new("mkdssp")
        .arg("--version")
        .output()
        .is_err()
    {
        common::say_skipped("mkdssp not installed (apt-get install dssp)");
        return Ok(());
    }
    let (mut same, mut total, mut files) = (0usize, 0usize, 0usize);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for pdb in entries {
        let Some(reference) = run_mkdssp(&pdb) else {
            continue;
        };
        files += 1;
        for chain in esm_workbench::data::read_structure(&pdb)? {
            let ours = esm_workbench::data::dssp::dssp8(&chain);
            let (mut s, mut t, mut a, mut b) = (0, 0, String::new(), String::new());
            for (k, &label) in ours.iter().enumerate() {
                if let Some(&want) = reference.get(&(chain.chain.clone(), chain.residue_numbers[k]))
                {
                    s += usize::from(SS8_CLASSES[label as usize] == want);
                    t += 1;
                    a.push(SS8_CLASSES[label as usize]);
                    b.push(want);
                }
            }
            if std::env::var_os("WB_DSSP_DEBUG").is_some() && s < t {
                eprintln!(
                    "{} {}: {s}/{t}\n ours {a}\n mkd  {b}",
                    pdb.display(),
                    chain.chain
                );
            }
            same += s;
            total += t;
        }
    }
    let agreement = same as f64 / total.max(1) as f64;
    eprintln!("Rust DSSP vs mkdssp: {files} files, {total} residues, Q8 agreement {agreement:.4}");
    assert!(
        files >= 30 && agreement > 0.995,
        "{files} files, agreement {agreement}"
    );
    Ok(())
}

#[test]
fn astral_as_a_frame() -> TestResult {
    let Some(path) = shared("scope/astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa") else {
        return Ok(());
    };
    let frame = esm_workbench::data::frame::astral_frame(&read_astral(&path)?)?;
    assert_eq!(frame.height(), 14_323);
    assert_eq!(frame.column("superfamily")?.n_unique()?, 2_024);
    assert_eq!(frame.column("fold")?.n_unique()?, 1_232);
    Ok(())
}
