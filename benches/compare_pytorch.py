#!/usr/bin/env python3
"""Forward time and peak memory of ESM-1b-size weights: fair-esm/PyTorch vs. the candle port,
measured in one run on the same machine, one process per (implementation, length).

    .venv/bin/python benches/compare_pytorch.py [--lengths 128 256 512 1022] [--threads 2]

Both sides build a random-weight ESM-1b (33 layers, 1280 dim, 652M parameters) in memory, run
one warm-up forward pass and then `--repeats` timed passes returning the last layer and logits
(fair-esm's `model(tokens, repr_layers=[33])`), and report the median and the process's peak RSS.
The candle side also measures its GEMM throughput on an FFN-shaped product as the machine's peak.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def torch_worker(length, repeats, threads):
    import torch
    import esm

    torch.set_num_threads(threads)
    args = argparse.Namespace(arch="roberta_large", layers=33, embed_dim=1280, ffn_embed_dim=5120,
                              attention_heads=20, max_positions=1024, token_dropout=True,
                              emb_layer_norm_before=False)
    alphabet = esm.Alphabet.from_architecture("ESM-1b")
    model = esm.ProteinBertModel(args, alphabet).eval()
    seq = ("MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ" * 40)[:length]
    _, _, tokens = alphabet.get_batch_converter()([("bench", seq)])
    times = []
    with torch.no_grad():
        model(tokens, repr_layers=[33])  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            model(tokens, repr_layers=[33])
            times.append(time.perf_counter() - start)
    times.sort()
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "len": length,
                      "median_s": times[len(times) // 2], "min_s": times[0],
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def flops(tokens, e=1280, f=5120, layers=33, vocab=33):
    return tokens * (layers * (8 * e * e + 4 * e * f + 4 * tokens * e) + 2 * e * e + 2 * e * vocab)


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", type=int, nargs="+", default=[128, 256, 512, 1022])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_worker:
        torch_worker(a.torch_worker, a.repeats, a.threads)
        return
    env = {**os.environ, "RAYON_NUM_THREADS": str(a.threads), "OMP_NUM_THREADS": str(a.threads)}
    cargo = ["cargo", "bench", "-q", "--no-default-features", "--bench", "forward_rss", "--"]
    gemm = run_json(cargo + ["--gemm"], env)
    print(f"machine: candle GEMM {gemm['gflops']:.0f} GFLOP/s ({gemm['shape']}, {a.threads} threads)")
    print(f"{'len':>5} | {'PyTorch s':>9} {'RSS GB':>6} | {'candle s':>8} {'RSS GB':>6} {'GFLOP/s':>7} {'% GEMM':>6} | speed-up")
    for length in a.lengths:
        t = run_json([sys.executable, __file__, "--torch-worker", str(length), "--repeats", str(a.repeats),
                      "--threads", str(a.threads)], env)
        c = run_json(cargo + ["--len", str(length), "--repeats", str(a.repeats)], env)
        gf = flops(length + 2) / c["median_s"] / 1e9
        print(f"{length:>5} | {t['median_s']:>9.3f} {t['peak_rss_bytes'] / 1e9:>6.2f} | {c['median_s']:>8.3f} "
              f"{c['peak_rss_bytes'] / 1e9:>6.2f} {gf:>7.0f} {100 * gf / gemm['gflops']:>5.0f}% | "
              f"{t['median_s'] / c['median_s']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
