//! The demo set in datasets/demo (built by datasets/build_demo.py) reads with the workbench's
//! own parsers and is internally consistent.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use esm_workbench::data::{FastaReader, SeparationRange, read_backbone_json, read_ss8};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/demo")
        .join(name)
}

#[test]
fn ortholog_set_matches_its_metadata() -> TestResult {
    let records = FastaReader::read_all(&demo("uniprot_orthologs.fasta"))?;
    assert_eq!(records.len(), 288);
    let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 288, "ids are unique");
    let tsv = std::fs::read_to_string(demo("uniprot_orthologs.tsv"))?;
    let rows: Vec<Vec<&str>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
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
    assert_eq!(
        (ubiquitin.id.as_str(), ubiquitin.sequence.len()),
        ("1ubi_A", 76)
    );
    let map = ubiquitin.contact_map(8.0);
    let long = (0..76)
        .flat_map(|i| (i..76).map(move |j| (i, j)))
        .filter(|&(i, j)| {
            map.contact(i, j) && SeparationRange::of(i, j) == Some(SeparationRange::Long)
        })
        .count();
    assert!(
        long > 20,
        "ubiquitin's β-sheet pairs distant strands: {long} long-range contacts"
    );
    Ok(())
}

#[test]
fn rust_dssp_agrees_with_mkdssp_on_the_demo_structures() -> TestResult {
    // The demo labels were computed by mkdssp 4.2.2; compare our Rust DSSP on the same backbones.
    let chains = read_backbone_json(&demo("structures.json"))?;
    let labels = read_ss8(&demo("structures_ss8.txt"))?;
    let (mut same, mut total, mut same3) = (0usize, 0usize, 0usize);
    for (chain, want) in chains.iter().zip(&labels) {
        let got = esm_workbench::data::dssp::dssp8(chain);
        for (g, w) in got.iter().zip(&want.labels) {
            same += usize::from(g == w);
            same3 +=
                usize::from(esm_workbench::data::ss3_of(*g) == esm_workbench::data::ss3_of(*w));
            total += 1;
        }
    }
    let (q8, q3) = (same as f64 / total as f64, same3 as f64 / total as f64);
    eprintln!("Rust DSSP vs mkdssp on {total} residues: Q8 agreement {q8:.3}, Q3 {q3:.3}");
    assert!(q8 > 0.9 && q3 > 0.95, "Q8 {q8:.3}, Q3 {q3:.3}");
    Ok(())
}

#[test]
fn demo_metadata_joins_onto_the_sequences() -> TestResult {
    use esm_workbench::data::frame::{fasta_frame, join_metadata, read_table};
    let records = FastaReader::read_all(&demo("uniprot_orthologs.fasta"))?;
    let frame = fasta_frame(&records)?;
    let meta_path = demo("uniprot_orthologs.tsv");
    let (joined, report) = join_metadata(&frame, &read_table(&meta_path)?, "id", &meta_path)?;
    assert_eq!((report.matched, report.unmatched), (288, 0));
    assert!(
        report.added_columns.contains(&"gene".to_owned())
            && report.added_columns.contains(&"length_meta".to_owned())
    );
    assert_eq!(joined.column("gene")?.n_unique()?, 12);
    Ok(())
}

#[test]
fn the_demo_protein_set_opens_with_its_metadata() -> TestResult {
    let (fasta, tsv) = esm_workbench::data::ProteinSet::demo_paths().ok_or("demo set not found")?;
    let set = esm_workbench::data::ProteinSet::load(&fasta, Some(&tsv))?;
    assert_eq!(
        (set.name.as_str(), set.records.len(), set.frame.height()),
        ("uniprot_orthologs", 288, 288)
    );
    assert!(set.duplicate_ids.is_empty());
    let rows = esm_workbench::data::frame::string_rows(&set.frame, &["id", "gene", "species"])?;
    assert_eq!(rows[0][1], "thrs");
    Ok(())
}
