#!/usr/bin/env python3
"""Remote-homology scoring on the full SCOPe 2.07 ASTRAL 40% set (14,323 domains), one layer of
1,280 dimensions: NumPy (the blocked cosine search and per-query Hit-10 / AUC a user would
write) against ESM Workbench's `probes::homology_scores`, same vectors, same machine, one run.

    /work/refenv/bin/python benches/compare_homology.py [--astral FILE] [--threads 2]

The vectors are random (seed 0) plus a per-fold direction, so the scores are neither chance nor
perfect; the timing does not depend on them. The ASTRAL file comes from `--astral`, else
`$WB_SHARED_DATA/scope/...` or `../shared/data/scope/...`. The Rust side is
`cargo bench --bench homology_search` (release), reading the files written here.
"""
import argparse
import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASTRAL = "scope/astral-scopedom-seqres-gd-sel-gs-bib-40-2.07.fa"


def read_sccs(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith(">"):
                out.append(line.split()[1])
    return out


def numpy_scores(unit, sccs, block=1024):
    """Hit-10 and mean AUC at the fold and superfamily levels (the workbench's protocol)."""
    import numpy as np
    levels = [np.unique([".".join(s.split(".")[:d]) for s in sccs], return_inverse=True)[1]
              for d in (2, 3, 4)]
    fold, sf, fam = levels
    n = len(sccs)
    tallies = {"fold": [0, 0.0, 0], "superfamily": [0, 0.0, 0]}
    for start in range(0, n, block):
        sims = unit[start:start + block] @ unit.T
        for i, row in enumerate(sims):
            q = start + i
            negative = fold != fold[q]
            neg = np.sort(row[negative])
            if len(neg) == 0:
                continue
            same_fold = fold == fold[q]
            same_fold[q] = False
            for name, positive in (("fold", same_fold & (sf != sf[q])),
                                   ("superfamily", (sf == sf[q]) & (fam != fam[q]))):
                pos = row[positive]
                if len(pos) == 0:
                    continue
                below = np.searchsorted(neg, pos, side="left")
                tied = np.searchsorted(neg, pos, side="right") - below
                auc = (below + 0.5 * tied).sum() / (len(pos) * len(neg))
                candidates = np.concatenate([pos, neg])
                top = np.argpartition(-candidates, 10)[:10] if len(candidates) > 10 else np.arange(len(candidates))
                t = tallies[name]
                t[0] += int((top < len(pos)).any())
                t[1] += auc
                t[2] += 1
    return {k: {"hit10": v[0] / max(v[2], 1), "auc": v[1] / max(v[2], 1), "queries": v[2]}
            for k, v in tallies.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--astral", default=None)
    parser.add_argument("--dir", default="/tmp/compare_homology")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    shared = Path(os.environ.get("WB_SHARED_DATA", ROOT.parent / "shared" / "data"))
    astral = Path(args.astral) if args.astral else shared / ASTRAL
    if not astral.exists():
        print(f"skipped: {astral} not found (give --astral or set WB_SHARED_DATA)")
        return
    sccs = read_sccs(astral)
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    folds = sorted({".".join(s.split(".")[:2]) for s in sccs})
    direction = {f: rng.standard_normal(1280).astype(np.float32) for f in folds}
    x = rng.standard_normal((len(sccs), 1280)).astype(np.float32)
    x += 0.15 * np.stack([direction[".".join(s.split(".")[:2])] for s in sccs])
    np.save(out / "vectors.npy", x)
    (out / "sccs.txt").write_text("\n".join(sccs) + "\n")

    start = time.perf_counter()
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    ours_np = numpy_scores(unit, sccs)
    numpy_seconds = time.perf_counter() - start

    env = dict(os.environ, COMPARE_HOMOLOGY_DIR=str(out))
    run = subprocess.run(["cargo", "bench", "--bench", "homology_search"], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    rust = json.loads(run.strip().splitlines()[-1])
    print(json.dumps({"numpy": {"seconds": numpy_seconds, **ours_np}, "esm_workbench": rust}, indent=2))
    print(f"\nremote homology, {len(sccs):,} ASTRAL domains x 1,280 dims, {args.threads} threads")
    print(f"  NumPy blocked search    {numpy_seconds:7.2f} s   fold Hit-10 {ours_np['fold']['hit10']:.4f} "
          f"AUC {ours_np['fold']['auc']:.4f}   superfamily Hit-10 {ours_np['superfamily']['hit10']:.4f} "
          f"AUC {ours_np['superfamily']['auc']:.4f}")
    print(f"  esm-workbench           {rust['seconds']:7.2f} s   fold Hit-10 {rust['fold']['hit10']:.4f} "
          f"AUC {rust['fold']['auc']:.4f}   superfamily Hit-10 {rust['superfamily']['hit10']:.4f} "
          f"AUC {rust['superfamily']['auc']:.4f}")


if __name__ == "__main__":
    main()
