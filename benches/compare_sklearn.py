#!/usr/bin/env python3
"""Logistic regression and t-SNE: scikit-learn / openTSNE vs. ESM Workbench on the same inputs,
same machine, one run.

    /work/refenv/bin/python benches/compare_sklearn.py [--dir /tmp/compare_sklearn]

Needs numpy, scikit-learn and openTSNE (pip install scikit-learn openTSNE). The benchmark set
is scikit-learn's make_classification (seed 0): 60,000 x 1,280 features, 64 informative, 8
classes of 2 clusters each; the first 50,000 rows train the logistic regression (standardised,
L2, lbfgs, 100 iterations) and the last 10,000 test it; t-SNE maps the first 5,000 rows
(perplexity 30, 750 iterations: 250 with early exaggeration 12, then 500). The Rust side
(`cargo bench --bench compare_sklearn`, release profile) reads the same .npy files. All t-SNE
maps are scored with one KL divergence (the same affinities: perplexity 30 on the 50 leading
principal components, exact Z), besides each tool's own report.
"""
import argparse
import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def objective(coef, intercept, x, y):
    """scikit-learn's lbfgs objective with C = 1, scaled by 1/n (as its solver minimises it):
    mean cross-entropy + ||W||^2 / (2 n), in float64."""
    import numpy as np
    logits = x.astype(np.float64) @ coef.T.astype(np.float64) + intercept
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    n = len(y)
    return float(-log_p[np.arange(n), y].mean() + (coef.astype(np.float64) ** 2).sum() / (2 * n))


def sklearn_logistic(out, n_train):
    """make_classification(seed 0) with n_train + 10,000 rows x 1,280 features, 8 classes:
    writes the .npy files the Rust side reads, fits scikit-learn, returns its figures."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    x, y = make_classification(n_samples=n_train + 10_000, n_features=1280, n_informative=64,
                               n_redundant=0, n_classes=8, n_clusters_per_class=2,
                               random_state=0)
    x = x.astype(np.float32)
    tag = f"lr_{n_train}"
    np.save(out / f"{tag}_train_x.npy", x[:n_train])
    np.save(out / f"{tag}_train_y.npy", y[:n_train].astype(np.int64))
    np.save(out / f"{tag}_test_x.npy", x[n_train:])
    np.save(out / f"{tag}_test_y.npy", y[n_train:].astype(np.int64))
    start = time.perf_counter()
    scaler = StandardScaler().fit(x[:n_train])
    z = scaler.transform(x[:n_train])
    lr = LogisticRegression(C=1.0, max_iter=100).fit(z, y[:n_train])
    seconds = time.perf_counter() - start
    accuracy = float((lr.predict(scaler.transform(x[n_train:])) == y[n_train:]).mean())
    return {"train_rows": n_train, "fit_seconds": seconds, "test_accuracy": accuracy,
            "iterations": int(lr.n_iter_[0]),
            "objective": objective(lr.coef_, lr.intercept_, z, y[:n_train])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default="/tmp/compare_sklearn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lr-sizes", type=int, nargs="+", default=[50_000, 200_000],
                        help="training rows of the logistic-regression runs (10,000 more are the test set)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.manifold import TSNE as SkTSNE
    from sklearn.preprocessing import StandardScaler
    import openTSNE

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("map_*.npy"):
        old.unlink()
    results = {"logistic_regression": []}
    for n_train in args.lr_sizes:
        results["logistic_regression"].append(sklearn_logistic(out, n_train))
    # t-SNE maps the first 5,000 rows of the first logistic-regression set (with the default
    # 50,000: the first 5,000 rows of make_classification(60,000, seed 0), as before).
    x = np.load(out / f"lr_{args.lr_sizes[0]}_train_x.npy")
    np.save(out / "tsne_x.npy", x[:5000])

    start = time.perf_counter()
    sk = SkTSNE(perplexity=30, max_iter=750, init="pca", n_jobs=args.threads, random_state=0)
    sk_map = sk.fit_transform(x[:5000])
    results["sklearn_tsne"] = {"seconds": time.perf_counter() - start,
                               "kl_reported": float(sk.kl_divergence_)}
    np.save(out / "map_sklearn.npy", sk_map.astype(np.float32))

    start = time.perf_counter()
    ot = openTSNE.TSNE(perplexity=30, n_jobs=args.threads, random_state=0).fit(x[:5000])
    results["opentsne_tsne"] = {"seconds": time.perf_counter() - start,
                                "kl_reported": float(ot.kl_divergence)}
    np.save(out / "map_opentsne.npy", np.asarray(ot, dtype=np.float32))

    env = dict(os.environ, COMPARE_SKLEARN_DIR=str(out))
    ours = subprocess.run(["cargo", "bench", "--bench", "compare_sklearn"], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True).stdout
    rust = json.loads(ours.strip().splitlines()[-1])
    results["esm_workbench"] = rust
    print(json.dumps(results, indent=2))

    kl = rust["kl_same_affinities"]
    ours_by_rows = {r["train_rows"]: r for r in rust.get("logistic_regression", [])}
    for sk in results["logistic_regression"]:
        n = sk["train_rows"]
        ours = ours_by_rows.get(n, {})
        print(f"\nlogistic regression, {n:,} x 1,280, 8 classes, C=1, at most 100 iterations")
        for name, r in (("scikit-learn lbfgs", sk), ("esm-workbench", ours)):
            print(f"  {name:20s} {r.get('fit_seconds', float('nan')):7.2f} s   "
                  f"{r.get('iterations', 0):4d} iterations   objective {r.get('objective', float('nan')):.8f}   "
                  f"accuracy {r.get('test_accuracy', float('nan')):.4f}")
        if ours:
            print(f"  time ratio ours / scikit-learn {ours['fit_seconds'] / sk['fit_seconds']:.2f}; "
                  f"objective ratio - 1 {ours['objective'] / sk['objective'] - 1:+.2e}")
    print("\nt-SNE, 5,000 x 1,280, perplexity 30, 750 iterations   (KL: own report / same affinities)")
    for name, key in (("scikit-learn BH", "sklearn"), ("openTSNE FFT", "opentsne")):
        r = results[f"{key}_tsne"]
        print(f"  {name:18s} {r['seconds']:7.2f} s   KL {r['kl_reported']:.3f} / {kl[key]:.3f}")
    print(f"  {'esm-workbench BH':18s} {rust['tsne']['seconds']:7.2f} s   "
          f"KL {rust['tsne']['kl_reported']:.3f} / {kl['esm_workbench']:.3f}")


if __name__ == "__main__":
    main()
