//! The parsers on the real public data sets in `../shared/data` (see its README.md). Each test
//! skips with a message when the folder is absent; `WB_SHARED_DATA` points elsewhere.

use std::path::PathBuf;

use esm_workbench::data::{SS8_CLASSES, read_astral, read_ss8};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `../shared/data/<rel>` (or `$WB_SHARED_DATA/<rel>`), or `None` with a skip message.
fn shared(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os("WB_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let path = root.join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} not found (set WB_SHARED_DATA to the shared data folder)", path.display());
        None
    }
}

#[test]
fn cb513_netsurfp_csv() -> TestResult {
    let Some(path) = shared("ss8/CB513.csv") else { return Ok(()) };
    let records = read_ss8(&path)?;
    assert_eq!(records.len(), 511);
    assert_eq!(records.iter().map(|r| r.sequence.len()).sum::<usize>(), 144_011);
    // `disorder` marks 140,486 resolved residues (3,525 unresolved).
    assert_eq!(records.iter().flat_map(|r| &r.mask).filter(|&&m| m).count(), 140_486);
    assert_eq!(records[0].sequence.len(), 185);
    assert!(records[0].sequence.starts_with("RTDCYGNVNRIDTTG"));
    // Label counts over all residues: H 43,037, E 30,090, I 796.
    let count = |c: char| {
        let idx = SS8_CLASSES.iter().position(|&x| x == c).unwrap_or(99) as u8;
        records.iter().flat_map(|r| &r.labels).filter(|&&l| l == idx).count()
    };
    assert_eq!((count('H'), count('E'), count('I')), (43_037, 30_090, 796));
    Ok(())
}

#[test]
fn pisces_training_tsv() -> TestResult {
    let Some(path) = shared("ss8/pisces2018_train.tsv") else { return Ok(()) };
    let records = read_ss8(&path)?;
    assert_eq!(records.len(), 5_126);
    assert_eq!(records.iter().map(|r| r.sequence.len()).sum::<usize>(), 1_031_743);
    assert_eq!((records[0].id.as_str(), records[0].sequence.len()), ("16VP.A", 366));
    let last = records.last().ok_or("empty")?;
    assert_eq!((last.id.as_str(), last.sequence.len(), last.line), ("7AHL.B", 293, 5_127));
    Ok(())
}

#[test]
fn astral_scope_207_40() -> TestResult {
    let Some(path) = shared("scope/astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa") else { return Ok(()) };
    let domains = read_astral(&path)?;
    assert_eq!(domains.len(), 14_323);
    let distinct = |f: fn(&esm_workbench::data::ScopDomain) -> &str| {
        domains.iter().map(f).collect::<std::collections::HashSet<_>>().len()
    };
    assert_eq!(distinct(|d| d.superfamily()), 2_024);
    assert_eq!(distinct(|d| d.fold()), 1_232);
    let first = &domains[0];
    assert_eq!((first.id.as_str(), first.sccs.as_str(), first.tax_id), ("d1dlwa_", "a.1.1.1", Some(5885)));
    assert!(first.sequence.starts_with("SLFEQLGGQAAVQAV"));
    assert_eq!(domains.last().map(|d| d.id.as_str()), Some("d5syba_"));
    Ok(())
}
