//! Data-layer benchmarks: parse the 14k-domain ASTRAL set and the 20k UniProt FASTA, and reopen
//! cached embeddings of 10k proteins. Inputs missing on this machine are skipped with a message.
//! Under `cargo test` (no `--bench`) every case runs once on a small input.
//!
//! `cargo bench --no-default-features --bench data`

use std::collections::BTreeMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use criterion::Criterion;
use esm_workbench::data::embedding_cache::{CachedEmbedding, EmbeddingCache};
use esm_workbench::data::{FastaReader, read_astral};

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let astral = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/scope/astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa");
    if astral.exists() {
        c.bench_function("parse_astral_14k", |b| {
            b.iter(|| read_astral(&astral).map(|d| d.len()))
        });
    } else {
        eprintln!("skipped parse_astral_14k: {} not found", astral.display());
    }
    let uniprot = PathBuf::from("/usr/share/doc/mmseqs2/example-data/DB.fasta.gz");
    if uniprot.exists() {
        c.bench_function("parse_uniprot_20k_gz", |b| {
            b.iter(|| FastaReader::open(&uniprot).map(|r| r.filter_map(Result::ok).count()))
        });
    } else {
        eprintln!("skipped parse_uniprot_20k_gz: apt-get install mmseqs2-examples");
    }
    // Cache reopen: 10k proteins x 1280-d means (ESM-1b's last layer), written outside the timing.
    let proteins = if bench_mode { 10_000 } else { 100 };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temp dir: {e}"),
    };
    let cache = EmbeddingCache::new(dir.path(), "benchfingerprint00", "truncate");
    // Distinct sequences: the index written in base 20 over the residue letters, then padding.
    let sequences: Vec<String> = (0..proteins)
        .map(|i| {
            let (mut k, mut s) = (i, String::from("M"));
            loop {
                s.push(b"ACDEFGHIKLMNPQRSTVWY"[k % 20] as char);
                k /= 20;
                if k == 0 {
                    break;
                }
            }
            s + &"AVLIG".repeat(1 + i % 60)
        })
        .collect();
    for seq in &sequences {
        let mean = match Tensor::zeros(1280, candle_core::DType::F32, &Device::Cpu) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let entry = CachedEmbedding {
            mean: BTreeMap::from([(33, mean)]),
            per_residue: BTreeMap::new(),
        };
        if let Err(e) = cache.put(seq, &entry) {
            panic!("cannot fill the cache: {e}");
        }
    }
    c.bench_function(&format!("cache_reopen_{proteins}_means"), |b| {
        b.iter(|| {
            sequences
                .iter()
                .filter(|s| cache.get(s, &[33], false).is_some())
                .count()
        })
    });
    c.final_summary();
}
