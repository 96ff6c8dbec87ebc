//! The demo set in datasets/demo (built by datasets/build_demo.py) reads with the workbench's
//! own parsers and is internally consistent.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use esm_workbench::data::{FastaReader, SeparationRange, read_backbone_json, read_ss8};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo").join(name)
}

#[test]
fn ortholog_set_matches_its_metadata() -> TestResult {
    let records = FastaReader::read_all(&demo("uniprot_orthologs.fasta"))?;
    assert_eq!(records.len(), 288);
    let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 288, "ids are unique");
    let tsv = std::fs::read_to_string(demo("uniprot_orthologs.tsv"))?;
    let rows: Vec<Vec<&str>> = tsv.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 288);
    for (rec, row) in records.iter().zip(&rows) {
        assert_eq!(rec.id, row[0]);
        assert_eq!(rec.sequence.len().to_string(), row[5]);
    }
    let genes: HashSet<&str> = rows.iter().map(|r| r[2]).collect();
    assert_eq!(genes.len(), 12);
    Ok(())
}

#[test]
fn structures_have_labels_and_contacts() -> TestResult {
    let chains = read_backbone_json(&demo("structures.json"))?;
    let labels = read_ss8(&demo("structures_ss8.txt"))?;
    assert_eq!(chains.len(), 5);
    for (chain, label) in chains.iter().zip(&labels) {
        assert_eq!(chain.id, label.id);
        assert_eq!(chain.sequence, label.sequence);
    }
    let ubiquitin = &chains[0];
    assert_eq!((ubiquitin.id.as_str(), ubiquitin.sequence.len()), ("1ubi_A", 76));
    let map = ubiquitin.contact_map(8.0);
    let long = (0..76)
        .flat_map(|i| (i..76).map(move |j| (i, j)))
        .filter(|&(i, j)| map.contact(i, j) && SeparationRange::of(i, j) == Some(SeparationRange::Long))
        .count();
    assert!(long > 20, "ubiquitin's β-sheet pairs distant strands: {long} long-range contacts");
    Ok(())
}
