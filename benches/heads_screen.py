#!/usr/bin/env python3
"""The heads screen (issue 30) against the notebook a user would write, same machine, one run:
every layer's and head's APC-corrected attention map scored as a contact predictor
(precision at L, L/2, L/5 in three ranges) and its confident attention (> 0.3) on contacts,
over a TS50-style JSON set.

    /work/big/ref-venv/bin/python benches/heads_screen.py --model esm1b_t33_650M_random.pt \\
        --structures datasets/kit/ts50.json [--bin target/release/esm-workbench] [--threads 2]

Runs, one after another, each in its own process under /usr/bin/time -v:
  1. ours: `probe heads --structures ... --out heads.csv` (load, screen, table);
  2. the peer: fair-esm `model(tokens, need_head_weights=True)` one chain at a time, then
     fair-esm's own `symmetrize` + `apc` on every head, NumPy top-L precision by range
     (argpartition) and confident-attention counts; Cβ imputed from N, CA, C as ours does.
Both report their model load separately; the table shows the screen without it and the whole
process. The best head (layer and head 1-based) and its long-range P@L of both are printed: they must
agree.

With --train STRUCTURES, both also fit the all-heads regression (fair-esm's contact head refitted,
Rao et al. 2020) on those chains and score it on --structures: ours `probe heads --train ...
--store TMP` (rows gathered into a pair store, FISTA L1 fit, C = 0.15), then the same command again
(a refit: rows read back from the pair store, no forward pass); the peer gathers the same kind of
rows with fair-esm (every contact |i - j| >= 6 and 10 weighted non-contacts per contact of each
chain, every head's APC value) and fits scikit-learn's LogisticRegression(penalty="l1", C=0.15,
solver="liblinear") with the weights. Pairs are sampled independently, so the precisions compare,
they do not match digit for digit.
Needs torch and fair-esm (and scikit-learn with --train).
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

import numpy as np

from peer_run import our_load, timed


def cb_and_valid(coords):
    """Virtual Cβ from N, CA, C (the workbench's impute_cb) and which residues have one."""
    xyz = np.array([[a if a is not None else [np.nan] * 3 for a in r[:3]] for r in coords], dtype=np.float32)
    n, ca, c = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    b, cc = ca - n, c - ca
    a = np.cross(b, cc)
    cb = -0.5827343 * a + 0.5680283 * b - 0.5406747 * cc + ca
    return cb, np.isfinite(cb).all(axis=1)


def chain_pairs(entry):
    cb, valid = cb_and_valid(entry["coords"])
    dist = np.linalg.norm(cb[:, None] - cb[None, :], axis=-1)
    contact = dist < 8.0
    i, j = np.triu_indices(len(cb), k=6)
    keep = valid[i] & valid[j]
    i, j = i[keep], j[keep]
    sep = j - i
    ranges = [(sep <= 11), (sep >= 12) & (sep <= 23), (sep >= 24)]
    return i, j, contact[i, j], ranges


def precision(scores, i, j, truth, ranges, length):
    out = []
    for r in ranges:
        s, t = scores[i[r], j[r]], truth[r]
        if len(s) == 0:
            out.extend([np.nan] * 3)
            continue
        keep = min(length, len(s))
        top = np.argpartition(-s, keep - 1)[:keep]
        top = top[np.argsort(-s[top], kind="stable")]
        for k in (length, length // 2, length // 5):
            k = min(max(k, 1), len(s))
            out.append(t[top[:k]].mean())
    return out


def apc_maps(model, convert, entry, seq):
    """(layers * heads, L, L) symmetrised, APC-corrected maps and the raw attention."""
    import torch
    from esm.modules import apc, symmetrize
    _, _, tokens = convert([(entry["name"], seq)])
    att = model(tokens, need_head_weights=True)["attentions"]  # (1, layers, heads, t, t)
    n = att.shape[1] * att.shape[2]
    raw = att[0, :, :, 1:-1, 1:-1].reshape(n, len(seq), len(seq)).numpy()
    maps = apc(symmetrize(att[..., :-1, :-1][..., 1:, 1:].reshape(1, n, len(seq), len(seq))))[0].numpy()
    return maps, raw


def fit_regression(model, convert, train, limit, seed=0):
    """Gathers weighted contact / non-contact rows of every head's APC value and fits
    scikit-learn's L1 logistic regression (C = 0.15): (weights, bias, pairs, seconds)."""
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(seed)
    rows, labels, weights = [], [], []
    start = time.perf_counter()
    for entry in json.loads(Path(train).read_text()):
        seq = entry["seq"][:limit]
        i, j, truth, _ = chain_pairs({"coords": entry["coords"][: len(seq)]})
        pos, neg = np.flatnonzero(truth), np.flatnonzero(~truth)
        if len(pos) == 0 and len(neg) == 0:
            continue
        take = min(len(neg), 10 * max(len(pos), 1))
        picked = rng.choice(neg, size=take, replace=False) if take else neg[:0]
        keep = np.concatenate([pos, picked])
        maps, _ = apc_maps(model, convert, entry, seq)
        rows.append(maps[:, i[keep], j[keep]].T)
        labels.append(truth[keep])
        weights.append(np.concatenate([np.ones(len(pos)), np.full(take, len(neg) / max(take, 1))]))
    x, y, w = np.concatenate(rows), np.concatenate(labels), np.concatenate(weights)
    fit = LogisticRegression(penalty="l1", C=0.15, solver="liblinear").fit(x, y, sample_weight=w)
    return fit.coef_[0], float(fit.intercept_[0]), len(y), time.perf_counter() - start


def peer(model_path, structures, threads, limit, train=None):
    import argparse as ap
    import torch
    import esm

    torch.set_num_threads(threads)
    torch.serialization.add_safe_globals([ap.Namespace])
    start = time.perf_counter()
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(model_path))
    model.eval()
    load = time.perf_counter() - start
    convert = alphabet.get_batch_converter()
    chains = json.loads(Path(structures).read_text())
    layers, heads = model.num_layers, model.layers[0].self_attn.num_heads
    regression = None
    if train is not None:
        with torch.no_grad():
            regression = fit_regression(model, convert, train, limit)
    by_regression = []
    sums = np.zeros((layers * heads, 9))
    counts = np.zeros((layers * heads, 9))
    confident = np.zeros((layers * heads, 2))
    start = time.perf_counter()
    with torch.no_grad():
        for entry in chains:
            seq = entry["seq"][:limit]
            i, j, truth, ranges = chain_pairs({"coords": entry["coords"][: len(seq)]})
            maps, raw = apc_maps(model, convert, entry, seq)
            if regression is not None:
                logits = np.tensordot(regression[0], maps, axes=1) + regression[1]
                by_regression.append(precision(logits, i, j, truth, ranges, len(seq)))
            for k in range(layers * heads):
                p = np.array(precision(maps[k], i, j, truth, ranges, len(seq)))
                ok = np.isfinite(p)
                sums[k, ok] += p[ok]
                counts[k, ok] += 1
                w = np.concatenate([raw[k][i, j], raw[k][j, i]])
                on = np.concatenate([truth, truth])
                confident[k] += [(w > 0.3).sum(), ((w > 0.3) & on).sum()]
    seconds = time.perf_counter() - start
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    best = int(np.nanargmax(mean[:, 6]))
    fitted = None
    if regression is not None:
        scores = np.array(by_regression)
        fitted = {"seconds": regression[3], "pairs": regression[2],
                  "heads_used": int((regression[0] != 0).sum()),
                  "long_p_at_l": float(np.nanmean(scores[:, 6]))}
    print(json.dumps({"load_seconds": load, "seconds": seconds, "regression": fitted,
                      "best": [best // heads + 1, best % heads + 1, float(mean[best, 6])],
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--structures", type=Path, required=True)
    p.add_argument("--bin", type=Path, default=Path("target/release/esm-workbench"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=1022, help="residues the model takes (62 for the tiny fixtures)")
    p.add_argument("--train", type=Path, help="also fit the all-heads regression on these structures")
    p.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.peer_worker:
        peer(a.model, a.structures, a.threads, a.limit, a.train)
        return
    env = {**os.environ, "RAYON_NUM_THREADS": str(a.threads), "OMP_NUM_THREADS": str(a.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        load, load_peak = our_load(a.bin, a.model, tmp, env)
        table = Path(tmp) / "heads.csv"
        train = ["--train", str(a.train), "--store", str(Path(tmp) / "stores")] if a.train else []
        screen = [str(a.bin), "probe", "heads", "--model", str(a.model), "--structures",
                  str(a.structures), "--out", str(table), *train]
        wall, peak, ours_done = timed(screen, env)
        rows = list(csv.DictReader(table.open()))
        best = next(r for r in rows if r["best"] == "true")
        refit = timed(screen, env) if a.train else None
    peer_cmd = [sys.executable, __file__, "--peer-worker", "--model", str(a.model), "--structures",
                str(a.structures), "--threads", str(a.threads), "--limit", str(a.limit)]
    pwall, ppeak, done = timed(peer_cmd + (["--train", str(a.train)] if a.train else []), env)
    peer_run = json.loads([l for l in done.stdout.splitlines() if l.startswith("{")][-1])
    print(f"ours best head: layer {best['layer']} head {best['head']} long P@L {float(best['long_p_at_l']):.6f}")
    print(f"peer best head: layer {peer_run['best'][0]} head {peer_run['best'][1]} long P@L {peer_run['best'][2]:.6f}")
    # With --train the peer's screen time includes its regression (gathered before the screen).
    peer_seconds = peer_run["seconds"] + (peer_run["regression"]["seconds"] if a.train else 0.0)
    print("| run | screen s (load excluded) | whole process s | peak RSS | screen vs peer |")
    print("|---|---:|---:|---:|---:|")
    ours_screen = wall - load
    print(f"| ours, probe heads | {ours_screen:.1f} | {wall:.1f} | {peak / 1e9:.2f} GB | {ours_screen / peer_seconds:.2f}x |")
    print(f"| fair-esm need_head_weights + NumPy | {peer_seconds:.1f} | {pwall:.1f} | {ppeak / 1e9:.2f} GB | 1.00x |")
    print(f"(our load measured by a one-residue store fill: {load:.1f} s, {load_peak / 1e9:.2f} GB; peer load {peer_run['load_seconds']:.1f} s)")
    if a.train:
        line = lambda out: next(l for l in out.splitlines() if l.startswith("all-heads regression:"))
        print("with --train, the screen columns above include gathering and fitting the regression")
        print(f"ours:  {line(ours_done.stdout)}")
        print(f"ours, refit from the pair store: {refit[0] - load:.1f} s (load excluded), peak RSS {refit[1] / 1e9:.2f} GB")
        print(f"       {line(refit[2].stdout)}")
        r = peer_run["regression"]
        print(f"peer:  scikit-learn L1 (liblinear) on {r['pairs']} pairs: gather + fit {r['seconds']:.1f} s, "
              f"{r['heads_used']} heads used, long P@L {r['long_p_at_l']:.3f} on the test chains")


if __name__ == "__main__":
    main()
