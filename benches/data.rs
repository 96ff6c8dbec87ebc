//! Data-layer benchmarks: parse the 14k-domain ASTRAL set and the 20k UniProt FASTA. Inputs missing on this machine are skipped with a message.
//! Under `cargo test` (no `--bench`) every case runs once on a small input.
//!
//! `cargo bench --no-default-features --bench data`

use std::path::PathBuf;

use criterion::Criterion;
use esm_workbench::data::{FastaReader, read_astral};

fn main() {
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let astral = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/scope/astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa");
    if astral.exists() {
        c.bench_function("parse_astral_14k", |b| {
            b.iter(|| read_astral(&astral).map(|d| d.len()))
        });
    } else {
        eprintln!("SKIPPED: parse_astral_14k: {} not found", astral.display());
    }
    let uniprot = PathBuf::from("/usr/share/doc/mmseqs2/example-data/DB.fasta.gz");
    if uniprot.exists() {
        c.bench_function("parse_uniprot_20k_gz", |b| {
            b.iter(|| FastaReader::open(&uniprot).map(|r| r.filter_map(Result::ok).count()))
        });
    } else {
        eprintln!("SKIPPED: parse_uniprot_20k_gz: apt-get install mmseqs2-examples");
    }
    c.final_summary();
}
