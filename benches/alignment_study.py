#!/usr/bin/env python3
"""The alignment study (issue 33) against the notebook a user would write with fair-esm, NumPy
and scikit-learn, same machine, one run, each in its own process under /usr/bin/time -v:

    /work/big/ref-venv/bin/python benches/alignment_study.py --model esm1b_t33_650M_random.pt \\
        [--families datasets/alignments/RRM_1.sto datasets/alignments/fn3.sto ...] \\
        [--layers all] [--pairs 20000] [--bin target/release/esm-workbench] [--threads 2]

1. ours: `probe alignment --layers ... --out` into a fresh store (load excluded by subtracting a
   one-residue store fill's time, as benches/heads_screen.py does);
2. the peer: fair-esm, one forward pass per sequence with every asked layer in `repr_layers`
   (features kept in RAM, as a notebook keeps them), then per layer and family: the same pair
   sampling rule (every aligned pair up to --pairs, as many unaligned pairs of different
   sequences and columns, seeded), cosine similarities, `sklearn.metrics.roc_auc_score`.
The mean AUCs per layer are printed side by side: the samples differ (two random generators),
so they agree to about 0.01, not exactly. Needs torch, fair-esm and scikit-learn.
"""
import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from peer_run import our_load, timed

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT / f"datasets/alignments/{n}.sto" for n in ("RRM_1", "fn3", "Pkinase")]


def read_stockholm(path):
    """(name, [(id, sequence, [column or None per residue])]) of a one-family Stockholm file."""
    rows, name = {}, path.stem
    for line in path.read_text().splitlines():
        if line.startswith("#=GF ID"):
            name = line.split()[-1]
        elif line.strip() and not line.startswith(("#", "//")):
            key, text = line.split()
            rows[key] = rows.get(key, "") + text
    seqs = []
    for key, text in rows.items():
        residues = [(c.upper(), k) for k, c in enumerate(text) if c not in ".-~"]
        seqs.append((key, "".join(c for c, _ in residues), [k for _, k in residues]))
    return name, seqs


def pairs(seqs, budget, rng):
    columns = {}
    for s, (_, _, cols) in enumerate(seqs):
        for p, c in enumerate(cols):
            columns.setdefault(c, []).append((s, p))
    aligned = [(a, b) for res in columns.values() for i, a in enumerate(res) for b in res[i + 1:]]
    if len(aligned) > budget:
        aligned = [aligned[k] for k in rng.choice(len(aligned), budget, replace=False)]
    flat = [(r, c) for c, res in columns.items() for r in res]
    unaligned = []
    while len(unaligned) < len(aligned):
        (a, ca), (b, cb) = flat[rng.integers(len(flat))], flat[rng.integers(len(flat))]
        if a[0] != b[0] and ca != cb:
            unaligned.append((a, b))
    return aligned, unaligned


def peer(model_path, families, layers_arg, budget, threads):
    import argparse as ap
    import numpy as np
    import torch
    import esm
    from sklearn.metrics import roc_auc_score

    torch.set_num_threads(threads)
    torch.serialization.add_safe_globals([ap.Namespace])
    start = time.perf_counter()
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(model_path))
    model.eval()
    load = time.perf_counter() - start
    n = model.num_layers
    layers = list(range(n + 1)) if layers_arg == "all" else [int(x) % (n + 1) for x in layers_arg.split(",")]
    convert = alphabet.get_batch_converter()
    start = time.perf_counter()
    feats = []  # per family: {layer: [array (L, dim) per sequence]}
    with torch.no_grad():
        for _, seqs in families:
            per = {l: [] for l in layers}
            for key, seq, _ in seqs:
                _, _, tokens = convert([(key, seq[:1022])])
                out = model(tokens, repr_layers=layers)["representations"]
                for l in layers:
                    per[l].append(out[l][0, 1:len(seq[:1022]) + 1].numpy())
            feats.append(per)
    forward = time.perf_counter() - start
    rng = np.random.default_rng(0)
    sampled = [pairs([(k, s[:1022], c[:1022]) for k, s, c in seqs], budget, rng) for _, seqs in families]
    means = {}
    for l in layers:
        aucs = []
        for per, (aligned, unaligned) in zip(feats, sampled):
            unit = [x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12) for x in per[l]]
            cos = lambda ps: [float(unit[a[0]][a[1]] @ unit[b[0]][b[1]]) for a, b in ps]
            pos, neg = cos(aligned), cos(unaligned)
            aucs.append(roc_auc_score([1] * len(pos) + [0] * len(neg), pos + neg))
        means[l] = float(np.mean(aucs))
    seconds = time.perf_counter() - start
    print(json.dumps({"load_seconds": load, "forward_seconds": forward, "seconds": seconds,
                      "mean_auc": means,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--bin", type=Path, default=Path("target/release/esm-workbench"))
    p.add_argument("--families", type=Path, nargs="+", default=DEFAULT)
    p.add_argument("--layers", default="all", help="all, or a comma-separated list")
    p.add_argument("--pairs", type=int, default=20000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    families = [read_stockholm(f) for f in a.families]
    if a.peer_worker:
        peer(a.model, families, a.layers, a.pairs, a.threads)
        return
    env = {**os.environ, "RAYON_NUM_THREADS": str(a.threads), "OMP_NUM_THREADS": str(a.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        load, _ = our_load(a.bin, a.model, tmp, env)
        out = Path(tmp) / "auc.csv"
        layers = ["all"] if a.layers == "all" else a.layers.split(",")
        wall, peak, _ = timed([str(a.bin), "probe", "alignment", "--model", str(a.model), "--alignments",
                               *map(str, a.families), "--layers", *layers, "--pairs", str(a.pairs),
                               "--store", str(Path(tmp) / "stores"), "--out", str(out)], env)
        with out.open() as f:
            ours = {int(r["layer"]): float(r["auc"]) for r in csv.DictReader(f)
                    if r["family"] == "mean" and r["model"] == "trained"}
    pwall, ppeak, pdone = timed([sys.executable, __file__, "--peer-worker", "--model", str(a.model),
                                 "--families", *map(str, a.families), "--layers", a.layers,
                                 "--pairs", str(a.pairs), "--threads", str(a.threads)], env)
    peer_run = json.loads([l for l in pdone.stdout.splitlines() if l.startswith("{")][-1])
    residues = sum(len(s) for _, seqs in families for _, s, _ in seqs)
    print(f"{len(families)} families, {sum(len(s) for _, s in families)} sequences, {residues} residues, "
          f"{len(ours)} layers, {a.pairs} pairs per family")
    worst = max(abs(ours[l] - peer_run["mean_auc"][str(l)]) for l in ours)
    print(f"mean AUC, last layer: ours {ours[max(ours)]:.4f}, peer {peer_run['mean_auc'][str(max(ours))]:.4f}; "
          f"largest difference over layers {worst:.4f}")
    print("| run | study s (load excluded) | whole process s | peak RSS | vs peer |")
    print("|---|---:|---:|---:|---:|")
    mine = wall - load
    print(f"| ours, probe alignment | {mine:.1f} | {wall:.1f} | {peak / 1e9:.2f} GB | {mine / peer_run['seconds']:.2f}x |")
    print(f"| fair-esm + scikit-learn | {peer_run['seconds']:.1f} | {pwall:.1f} | {ppeak / 1e9:.2f} GB | 1.00x |")
    print(f"(our load {load:.1f} s by a one-residue store fill; peer load {peer_run['load_seconds']:.1f} s, "
          f"its forward passes {peer_run['forward_seconds']:.1f} s)")


if __name__ == "__main__":
    main()
