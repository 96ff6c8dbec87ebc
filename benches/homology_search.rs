//! The Rust half of `benches/compare_homology.py`: scores remote homology on the vectors and
//! sccs labels that script wrote (`vectors.npy`, `sccs.txt`), times it and prints JSON.
//!
//!     COMPARE_HOMOLOGY_DIR=/tmp/compare_homology cargo bench --bench homology_search
//!
//! Without the variable it prints how to run it and exits.

use std::path::PathBuf;
use std::time::Instant;

use esm_workbench::export::read_npy_matrix;
use esm_workbench::probes::{homology_scores, scop_labels};

fn main() {
    let Some(dir) = std::env::var_os("COMPARE_HOMOLOGY_DIR").map(PathBuf::from) else {
        eprintln!(
            "homology_search: run through benches/compare_homology.py (sets COMPARE_HOMOLOGY_DIR)"
        );
        return;
    };
    let matrix = read_npy_matrix(&dir.join("vectors.npy")).unwrap_or_else(|e| panic!("{e}"));
    let sccs = std::fs::read_to_string(dir.join("sccs.txt")).unwrap_or_else(|e| panic!("{e}"));
    let labels: Vec<_> = sccs.lines().map(scop_labels).collect();
    let vectors: Vec<Vec<f32>> = matrix.rows().into_iter().map(|r| r.to_vec()).collect();
    let start = Instant::now();
    let [fold, superfamily] =
        homology_scores(&vectors, &labels, |_| true).unwrap_or_else(|e| panic!("{e}"));
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds, "domains": vectors.len(),
            "fold": {"hit10": fold.hit10, "auc": fold.auc, "queries": fold.queries},
            "superfamily": {"hit10": superfamily.hit10, "auc": superfamily.auc, "queries": superfamily.queries},
        })
    );
}
