#!/usr/bin/env python3
"""The forward pass as a study runs it, against fair-esm, same machine, one run: residues per
second embedding a FASTA with every layer kept.

    /work/refenv/bin/python benches/forward_in_study.py --model esm1b_t33_650M_random.pt \\
        --fasta proteins.fasta [--bin target/release/esm-workbench] [--threads 2]

Runs, one after another, each in its own process:
  1. ours: `store fill --layers all` into a fresh store (what every study's embedding phase
     does: batched forward, every layer written to disk);
  2. ours: the same with `--layers -1` (the last layer only);
  3. fair-esm: `model(tokens, repr_layers=all)` one protein at a time (fair-esm's extract
     batches by 4,096 tokens; one at a time is at least as fast on CPU), representations
     copied to NumPy, nothing written.
Our times have the model load subtracted (measured by a fill of a one-residue FASTA);
fair-esm's exclude its load. Sequences over 1,022 residues are cut there on both sides' count
only for fair-esm (ours embeds them in windows), so use a FASTA without them for a fair ratio.
Needs torch and fair-esm.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def read_fasta(path):
    records, name, seq = [], None, []
    for line in Path(path).read_text().splitlines():
        if line.startswith(">"):
            if name is not None:
                records.append((name, "".join(seq)))
            name, seq = line[1:].split()[0], []
        elif line.strip():
            seq.append(line.strip())
    if name is not None:
        records.append((name, "".join(seq)))
    return records


def peer(model_path, fasta, threads):
    import argparse as ap
    import torch
    import esm

    torch.set_num_threads(threads)
    torch.serialization.add_safe_globals([ap.Namespace])
    model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(model_path))
    model.eval()
    convert = alphabet.get_batch_converter()
    layers = list(range(model.num_layers + 1))
    records = [(n, s[:1022]) for n, s in read_fasta(fasta)]
    residues = sum(len(s) for _, s in records)
    start = time.perf_counter()
    with torch.no_grad():
        for record in records:
            _, _, tokens = convert([record])
            out = model(tokens, repr_layers=layers)
            for layer in layers:
                out["representations"][layer][0, 1 : len(record[1]) + 1].numpy().copy()
    seconds = time.perf_counter() - start
    print(json.dumps({"residues": residues, "seconds": seconds,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def ours(binary, model, fasta, layers, env):
    with tempfile.TemporaryDirectory(dir="/work/big" if Path("/work/big").is_dir() else None) as store:
        cmd = ["/usr/bin/time", "-v", str(binary), "store", "fill", "--model", str(model),
               "--fasta", str(fasta), "--store", store, "--layers", *layers]
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
    peak = next(int(l.split()[-1]) * 1024 for l in done.stderr.splitlines()
                if "Maximum resident" in l)
    return wall, peak


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--fasta", type=Path, required=True)
    p.add_argument("--bin", type=Path, default=Path("target/release/esm-workbench"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.peer_worker:
        peer(a.model, a.fasta, a.threads)
        return
    env = {**os.environ, "RAYON_NUM_THREADS": str(a.threads), "OMP_NUM_THREADS": str(a.threads)}
    residues = sum(len(s) for _, s in read_fasta(a.fasta))
    with tempfile.NamedTemporaryFile("w", suffix=".fasta") as one:
        one.write(">one\nM\n")
        one.flush()
        load, _ = ours(a.bin, a.model, one.name, ["-1"], env)
    rows = []
    for name, layers in [("ours, store fill, all layers", ["all"]), ("ours, store fill, last layer", ["-1"])]:
        wall, peak = ours(a.bin, a.model, a.fasta, layers, env)
        rows.append((name, wall - load, peak))
    out = subprocess.run([sys.executable, __file__, "--peer-worker", "--model", str(a.model),
                          "--fasta", str(a.fasta), "--threads", str(a.threads)],
                         env=env, capture_output=True, text=True, check=True).stdout
    peer_run = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    rows.append(("fair-esm, one protein at a time, all layers", peer_run["seconds"], peer_run["peak_rss_bytes"]))
    print(f"{residues} residues; load time subtracted from ours: {load:.1f} s")
    print("| run | forward s | residues/s | peak RSS | vs fair-esm |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds:.1f} | {residues / seconds:.1f} | {peak / 1e9:.2f} GB | "
              f"{peer_run['seconds'] / seconds:.2f}x |")


if __name__ == "__main__":
    main()
