//! The Rust half of `benches/compare_sklearn.py`: fits the SS8 probe's logistic regression
//! and runs t-SNE on the `.npy` files that script wrote, in one process, and prints JSON.
//!
//!     COMPARE_SKLEARN_DIR=/tmp/cmp cargo bench --bench compare_sklearn
//!
//! Reads `lr_<rows>_{train,test}_{x,y}.npy` (one logistic-regression set per size), `tsne_x.npy` and
//! any `map_*.npy` (other tools' t-SNE maps), writes `map_esm_workbench.npy`. Every map's KL
//! divergence is computed under the same affinities (perplexity 30 on the 50 leading principal
//! components), so the numbers compare like with like. Without the variable it prints how to
//! run it and exits.

use std::path::{Path, PathBuf};
use std::time::Instant;

use esm_workbench::analysis::JobCtx;
use esm_workbench::export::{read_npy, read_npy_matrix, write_npy_f32};
use esm_workbench::probes::logistic::LogisticParams;
use esm_workbench::projection::{TsneParams, fit_pca, kl_divergence, perplexity_affinities, tsne};
use ndarray::Array2;

fn matrix(path: &Path) -> Array2<f32> {
    read_npy_matrix(path).unwrap_or_else(|e| panic!("{e}"))
}

fn labels(path: &Path) -> Vec<usize> {
    let array = read_npy(path).unwrap_or_else(|e| panic!("{e}"));
    array.data.iter().map(|&v| v as usize).collect()
}

/// Fits every `lr_<rows>_train_*.npy` set the script wrote, as scikit-learn does (C = 1, at
/// most 100 L-BFGS iterations, tolerance 1e-4), and reports time, iterations, the objective
/// (same definition as the script's) and test accuracy.
fn logistic_runs(dir: &Path) -> Vec<serde_json::Value> {
    use linfa::prelude::Fit as _;
    let mut sets: Vec<usize> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_prefix("lr_")?
                        .strip_suffix("_train_x.npy")?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    sets.sort_unstable();
    let mut runs = Vec::new();
    for rows in sets {
        let tag = dir.join(format!("lr_{rows}"));
        let path = |suffix: &str| PathBuf::from(format!("{}_{suffix}.npy", tag.display()));
        let (x, y) = (matrix(&path("train_x")), labels(&path("train_y")));
        let (tx, ty) = (matrix(&path("test_x")), labels(&path("test_y")));
        let start = Instant::now();
        let dataset = linfa::DatasetBase::new(x.view(), ndarray::ArrayView1::from(&y[..]));
        let model = LogisticParams::new(8)
            .l2(1.0)
            .max_iterations(100)
            .fit(&dataset)
            .unwrap_or_else(|e| panic!("fit: {e}"));
        let seconds = start.elapsed().as_secs_f64();
        let probabilities = model.predict_probabilities(tx.view());
        let correct = probabilities
            .rows()
            .into_iter()
            .zip(&ty)
            .filter(|(p, t)| {
                let best = p
                    .iter()
                    .enumerate()
                    .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
                best.0 == **t
            })
            .count();
        runs.push(serde_json::json!({
            "train_rows": rows, "features": x.ncols(), "fit_seconds": seconds,
            "iterations": model.iterations, "evaluations": model.evaluations,
            "stop_reason": format!("{:?}", model.stop_reason),
            "objective": model.objective_on(x.view(), &y, 1.0),
            "solver_objective": model.objective,
            "test_accuracy": correct as f64 / ty.len() as f64,
        }));
    }
    runs
}

fn main() {
    let Some(dir) = std::env::var_os("COMPARE_SKLEARN_DIR").map(PathBuf::from) else {
        eprintln!(
            "compare_sklearn: run through benches/compare_sklearn.py (sets COMPARE_SKLEARN_DIR)"
        );
        return;
    };
    let mut report = serde_json::Map::new();

    report.insert("logistic_regression".into(), logistic_runs(&dir).into());

    let points = matrix(&dir.join("tsne_x.npy"));
    let start = Instant::now();
    let result = tsne(points.view(), &TsneParams::default(), &JobCtx::default())
        .unwrap_or_else(|e| panic!("t-SNE: {e}"));
    let seconds = start.elapsed().as_secs_f64();
    let flat: Vec<f32> = result.embedding.iter().copied().collect();
    write_npy_f32(
        &dir.join("map_esm_workbench.npy"),
        &[points.nrows(), 2],
        &flat,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    report.insert(
        "tsne".into(),
        serde_json::json!({"seconds": seconds, "kl_reported": result.kl_divergence}),
    );

    let reduced = fit_pca(points.view(), 50, 42)
        .and_then(|pca| pca.transform(points.view()))
        .unwrap_or_else(|e| panic!("PCA: {e}"));
    let p = perplexity_affinities(reduced.view(), 30.0, &JobCtx::default())
        .unwrap_or_else(|e| panic!("affinities: {e}"));
    let mut kls = serde_json::Map::new();
    let mut maps: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    maps.sort();
    for path in maps {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(tool) = name
            .strip_prefix("map_")
            .and_then(|n| n.strip_suffix(".npy"))
        {
            let kl = kl_divergence(&p, matrix(&path).view()).unwrap_or_else(|e| panic!("{e}"));
            kls.insert(tool.to_owned(), kl.into());
        }
    }
    report.insert("kl_same_affinities".into(), kls.into());
    println!("{}", serde_json::Value::Object(report));
}
