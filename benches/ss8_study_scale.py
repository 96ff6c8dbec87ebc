#!/usr/bin/env python3
"""The SS8 probe study at ESM-1b size: ESM Workbench against the pipeline a user would write
instead (fair-esm's forward for all layers + scikit-learn per layer), same machine, one run.

    /work/refenv/bin/python benches/ss8_study_scale.py \\
        --model /work/big/mf/esm1b_t33_650M_random.pt --data ../shared/data \\
        --bin target/release/esm-workbench --work /work/big/study

The model is a 652M random ESM-1b in fair-esm's format (tests/reference/make_fixtures.py
--full-esm1b DIR). Training: the first 200 chains of the PISCES SS8 set; test: the first 100
CB513 proteins (resolved residues only). Runs, one after another:
  1. ours, all 34 layers, fresh store      (`probe ss8 --layers all`)
  2. ours, the same study again             (store reused: no forward pass)
  3. ours, the last layer only, fresh store (`probe ss8 --layers -1`)
  4. peer: fair-esm forward of each protein (all layers returned, kept in RAM per layer for the
     labelled residues) + StandardScaler + LogisticRegression(lbfgs, C=1, max_iter=100) per
     layer, Q8 on the test residues.
Each run's wall time and peak RSS come from /usr/bin/time -v (peer: getrusage); forward
throughput is residues embedded over the embedding seconds each side reports. Needs numpy,
torch, fair-esm and scikit-learn. Writes results.json and prints a Markdown table.
"""
import argparse
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path


def prepare(data, work, train_chains, test_proteins):
    """Subsets in the layouts the workbench reads: the PISCES TSV cut to its first chains and
    the CB513 CSV cut to its first proteins."""
    work.mkdir(parents=True, exist_ok=True)
    train = work / f"pisces_first{train_chains}.tsv"
    with open(data / "ss8/pisces2018_train.tsv") as f:
        lines = f.readlines()
    train.write_text("".join(lines[: train_chains + 1]))
    test = work / f"cb513_first{test_proteins}.csv"
    with open(data / "ss8/CB513.csv") as f:
        lines = f.readlines()
    test.write_text("".join(lines[: test_proteins + 1]))
    return train, test


def timed(command):
    """Runs `command` under /usr/bin/time -v: (wall s, peak RSS bytes, stderr)."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return wall, rss_kb * 1024, proc.stderr


def ours(args, train, test, layers, store, tag):
    out = args.work / f"ours_{tag}.csv"
    command = [str(args.bin), "probe", "ss8", "--model", str(args.model), "--train", str(train),
               "--test", str(test), "--layers", layers, "--store", str(store), "--out", str(out)]
    wall, rss, stderr = timed(command)
    finished = re.search(r"finished in ([\d.]+) s \(embedding ([\d.]+) s, fitting and scoring "
                         r"([\d.]+) s\); embedded (\d+) residues", stderr)
    embed_s, fit_s, residues = float(finished.group(2)), float(finished.group(3)), int(finished.group(4))
    q8 = {}
    with open(out) as f:
        for row in csv.DictReader(f):
            if row["model"] == "trained":
                q8[int(row["layer"])] = float(row["test_q8"])
    estimate = next((l for l in stderr.splitlines() if l.startswith("estimate:")), "")
    return {"run": tag, "wall_s": wall, "peak_rss_gb": rss / 1e9, "embed_s": embed_s,
            "fit_s": fit_s, "residues_embedded": residues,
            "residues_per_s": residues / embed_s if embed_s > 0 else None,
            "q8": q8, "estimate": estimate}


PEER = r'''
import json, resource, sys, time
import numpy as np, torch, esm
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
model_path, train_path, test_path, out = sys.argv[1:5]
CLASSES = "GHIBESTC"
def read_train(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
    return [(r[0], r[1], [CLASSES.index(c) if c in CLASSES else 7 for c in r[2]], [True] * len(r[1])) for r in rows]
def read_test(path):
    import csv
    rows = list(csv.reader(open(path)))[1:]
    out = []
    for i, r in enumerate(rows):
        seq = "".join(r[0].split()); labels = [CLASSES.index(c) if c in CLASSES else 7 for c in r[2].split()]
        out.append((f"row {i + 1}", seq, labels, [float(m) == 1.0 for m in r[3].split()]))
    return out
from argparse import Namespace
torch.serialization.add_safe_globals([Namespace])  # fair-esm pickles its args; torch>=2.6
t0 = time.perf_counter()
model, alphabet = esm.pretrained.load_model_and_alphabet_local(model_path)
model.eval()
load_s = time.perf_counter() - t0
layers = list(range(model.num_layers + 1))
convert = alphabet.get_batch_converter()
def embed(records):
    feats = {l: [] for l in layers}; labels = []; residues = 0
    for name, seq, lab, mask in records:
        _, _, toks = convert([(name, seq)])
        with torch.no_grad():
            reps = model(toks, repr_layers=layers)["representations"]
        keep = np.array(mask[: len(seq)])
        for l in layers:
            feats[l].append(reps[l][0, 1 : len(seq) + 1].numpy()[keep])
        labels.extend(np.array(lab)[keep].tolist()); residues += len(seq)
    return feats, np.array(labels), residues
t0 = time.perf_counter()
train_f, train_y, n_train = embed(read_train(train_path))
test_f, test_y, n_test = embed(read_test(test_path))
forward_s = time.perf_counter() - t0
t0 = time.perf_counter()
q8 = {}
for l in layers:
    x = np.concatenate(train_f.pop(l)); xt = np.concatenate(test_f.pop(l))
    scaler = StandardScaler().fit(x)
    lr = LogisticRegression(C=1.0, max_iter=100).fit(scaler.transform(x), train_y)
    q8[l] = float((lr.predict(scaler.transform(xt)) == test_y).mean())
fit_s = time.perf_counter() - t0
json.dump({"load_s": load_s, "forward_s": forward_s, "fit_s": fit_s, "residues": n_train + n_test,
           "q8": q8, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9},
          open(out, "w"))
'''


def peer(args, train, test):
    script = args.work / "peer.py"
    script.write_text(PEER)
    out = args.work / "peer.json"
    start = time.perf_counter()
    subprocess.run([sys.executable, str(script), str(args.model), str(train), str(test), str(out)],
                   check=True)
    result = json.loads(out.read_text())
    result.update({"run": "peer", "wall_s": time.perf_counter() - start,
                   "residues_per_s": result["residues"] / result["forward_s"],
                   "q8": {int(k): v for k, v in result["q8"].items()}})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--bin", type=Path, default=Path("target/release/esm-workbench"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/ss8_study_scale"))
    parser.add_argument("--train-chains", type=int, default=200)
    parser.add_argument("--test-proteins", type=int, default=100)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    train, test = prepare(args.data, args.work, args.train_chains, args.test_proteins)
    for old in ("store_all", "store_last"):
        subprocess.run(["rm", "-rf", str(args.work / old)], check=True)
    runs = [ours(args, train, test, "all", args.work / "store_all", "all_layers"),
            ours(args, train, test, "all", args.work / "store_all", "all_layers_store_reused"),
            ours(args, train, test, "-1", args.work / "store_last", "last_layer")]
    if not args.skip_peer:
        runs.append(peer(args, train, test))
    (args.work / "results.json").write_text(json.dumps(runs, indent=1))
    print("| run | wall | forward residues/s | peak RSS | best test Q8 (layer) |")
    print("|---|---|---|---|---|")
    for r in runs:
        best = max(r["q8"].items(), key=lambda kv: kv[1])
        rate = f"{r['residues_per_s']:.1f}" if r.get("residues_per_s") else "-"
        print(f"| {r['run']} | {r['wall_s'] / 60:.1f} min | {rate} | {r['peak_rss_gb']:.2f} GB | "
              f"{best[1]:.4f} ({best[0]}) |")
    if not args.skip_peer:
        diff = max(abs(runs[0]["q8"][l] - runs[-1]["q8"][l]) for l in runs[0]["q8"])
        print(f"largest per-layer Q8 difference, ours vs peer: {diff:.4f}")


if __name__ == "__main__":
    main()
