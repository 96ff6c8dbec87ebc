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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default="/tmp/compare_sklearn")
    parser.add_argument("--threads", type=int, default=2)
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
    x, y = make_classification(n_samples=60_000, n_features=1280, n_informative=64,
                               n_redundant=0, n_classes=8, n_clusters_per_class=2,
                               random_state=0)
    x = x.astype(np.float32)
    np.save(out / "lr_train_x.npy", x[:50_000])
    np.save(out / "lr_train_y.npy", y[:50_000].astype(np.int64))
    np.save(out / "lr_test_x.npy", x[50_000:])
    np.save(out / "lr_test_y.npy", y[50_000:].astype(np.int64))
    np.save(out / "tsne_x.npy", x[:5000])

    results = {}
    start = time.perf_counter()
    scaler = StandardScaler().fit(x[:50_000])
    lr = LogisticRegression(C=1.0, max_iter=100).fit(scaler.transform(x[:50_000]), y[:50_000])
    seconds = time.perf_counter() - start
    accuracy = float((lr.predict(scaler.transform(x[50_000:])) == y[50_000:]).mean())
    results["sklearn_logistic_regression"] = {"fit_seconds": seconds, "test_accuracy": accuracy}

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
    print("\nlogistic regression, 50,000 x 1,280, 8 classes")
    print(f"  scikit-learn lbfgs   {results['sklearn_logistic_regression']['fit_seconds']:7.2f} s   "
          f"accuracy {results['sklearn_logistic_regression']['test_accuracy']:.3f}")
    lr_ours = rust.get("logistic_regression", {})
    print(f"  esm-workbench        {lr_ours.get('fit_seconds', float('nan')):7.2f} s   "
          f"accuracy {lr_ours.get('test_accuracy', float('nan')):.3f}")
    print("\nt-SNE, 5,000 x 1,280, perplexity 30, 750 iterations   (KL: own report / same affinities)")
    for name, key in (("scikit-learn BH", "sklearn"), ("openTSNE FFT", "opentsne")):
        r = results[f"{key}_tsne"]
        print(f"  {name:18s} {r['seconds']:7.2f} s   KL {r['kl_reported']:.3f} / {kl[key]:.3f}")
    print(f"  {'esm-workbench BH':18s} {rust['tsne']['seconds']:7.2f} s   "
          f"KL {rust['tsne']['kl_reported']:.3f} / {kl['esm_workbench']:.3f}")


if __name__ == "__main__":
    main()
