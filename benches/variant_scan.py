#!/usr/bin/env python3
"""The variant study (issue 31) against fair-esm's variant-prediction example run on the CPU, same
machine, one run: a full masked-marginal scan of one protein (one masked pass per position) and
the scores of a deep mutational scan's variants from it, plus the wild-type-marginal scores.

    /work/big/ref-venv/bin/python benches/variant_scan.py --model esm1b_t33_650M_random.pt \\
        [--length 300] [--variants 1000] [--bin target/release/esm-workbench] [--threads 2]

The protein is the bundled BLAT_ECOLX wild type (datasets/dms, 263 residues), cut or repeated to
--length residues; the variants are the first --variants rows of the bundled scan that fall
inside it. Each run is its own process under /usr/bin/time -v:
  1. ours: `variants --strategy wt-marginals masked-marginals --dms ... --out` (load excluded
     by subtracting a one-residue store fill's time, as benches/heads_screen.py does);
  2. the peer: fair-esm with predict.py's arithmetic (a wild-type pass; then, for every token
     position, a copy with that token masked, one copy per forward pass as predict.py runs them;
     log-softmax; the variants' mt - wt sums).
The Spearman correlations of both against the assay are printed: they must agree to 3 digits.
Needs torch and fair-esm.
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


def protein(length):
    lines = (ROOT / "datasets/dms/BLAT_ECOLX.fasta").read_text().splitlines()[1:]
    seq = "".join(lines)
    return (seq * (length // len(seq) + 1))[:length]


def variants(seq, count, offset=24):
    rows = []
    with (ROOT / "datasets/dms/BLAT_ECOLX_Ranganathan2015.csv").open() as f:
        for r in csv.DictReader(f):
            idx = int(r["mutant"][1:-1]) - offset
            if 0 <= idx < len(seq) and seq[idx] == r["mutant"][0]:
                rows.append((r["mutant"], float(r["2500"])))
            if len(rows) == count:
                break
    return rows


def peer(model_path, seq, rows, threads, offset=24):
    import argparse as ap
    import torch
    import esm
    from scipy.stats import spearmanr

    torch.set_num_threads(threads)
    torch.serialization.add_safe_globals([ap.Namespace])
    start = time.perf_counter()
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(model_path))
    model.eval()
    load = time.perf_counter() - start
    _, _, tokens = alphabet.get_batch_converter()([("wt", seq)])
    start = time.perf_counter()
    with torch.no_grad():
        wt = torch.log_softmax(model(tokens)["logits"], dim=-1)
        masked = []
        for i in range(tokens.size(1)):
            copy = tokens.clone()
            copy[0, i] = alphabet.mask_idx
            masked.append(torch.log_softmax(model(copy)["logits"], dim=-1)[:, i])
        masked = torch.cat(masked, dim=0).unsqueeze(0)
    seconds = time.perf_counter() - start

    def score(probs, mutant):
        w, idx, m = mutant[0], int(mutant[1:-1]) - offset, mutant[-1]
        return (probs[0, 1 + idx, alphabet.get_idx(m)] - probs[0, 1 + idx, alphabet.get_idx(w)]).item()

    measured = [v for _, v in rows]
    rho = {name: float(spearmanr([score(p, m) for m, _ in rows], measured).correlation)
           for name, p in (("wt-marginals", wt), ("masked-marginals", masked))}
    print(json.dumps({"load_seconds": load, "seconds": seconds, "spearman": rho,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--bin", type=Path, default=Path("target/release/esm-workbench"))
    p.add_argument("--length", type=int, default=300)
    p.add_argument("--variants", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--peer-worker", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    seq = protein(a.length)
    rows = variants(seq, a.variants)
    if a.peer_worker:
        peer(a.model, seq, rows, a.threads)
        return
    env = {**os.environ, "RAYON_NUM_THREADS": str(a.threads), "OMP_NUM_THREADS": str(a.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        load, _ = our_load(a.bin, a.model, tmp, env)
        fasta, dms, out = Path(tmp) / "wt.fasta", Path(tmp) / "dms.csv", Path(tmp) / "scores.csv"
        fasta.write_text(f">wt\n{seq}\n")
        dms.write_text("mutant,DMS_score\n" + "".join(f"{m},{v}\n" for m, v in rows))
        wall, peak, done = timed([str(a.bin), "variants", "--model", str(a.model), "--fasta", str(fasta),
                                  "--dms", str(dms), "--offset", "24", "--strategy", "wt-marginals",
                                  "masked-marginals", "--out", str(out)], env)
        ours_rho = {l.split()[1].rstrip(":"): float(l.split()[3]) for l in done.stdout.splitlines()
                    if l.startswith("trained ")}
    pwall, ppeak, pdone = timed([sys.executable, __file__, "--peer-worker", "-", "--model", str(a.model),
                                 "--length", str(a.length), "--variants", str(a.variants),
                                 "--threads", str(a.threads)], env)
    peer_run = json.loads([l for l in pdone.stdout.splitlines() if l.startswith("{")][-1])
    print(f"{a.length} residues ({a.length} masked passes + 1), {len(rows)} variants")
    for name in ("wt-marginals", "masked-marginals"):
        print(f"Spearman {name}: ours {ours_rho.get(name, float('nan')):.4f}, peer {peer_run['spearman'][name]:.4f}")
    print("| run | scan s (load excluded) | whole process s | peak RSS | vs peer |")
    print("|---|---:|---:|---:|---:|")
    ours = wall - load
    print(f"| ours, variants | {ours:.1f} | {wall:.1f} | {peak / 1e9:.2f} GB | {ours / peer_run['seconds']:.2f}x |")
    print(f"| fair-esm, predict.py arithmetic | {peer_run['seconds']:.1f} | {pwall:.1f} | {ppeak / 1e9:.2f} GB | 1.00x |")
    print(f"(our load {load:.1f} s by a one-residue store fill; peer load {peer_run['load_seconds']:.1f} s)")


if __name__ == "__main__":
    main()
