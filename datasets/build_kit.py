#!/usr/bin/env python3
"""Builds datasets/kit/, the workbench's bundled evaluation kit, from MIT-licensed public sets.

    apt-get install mmseqs2
    python3 datasets/build_kit.py --shared ../shared/data [--train-chains 1000]

Inputs (the project's copy of public data; see datasets/README.md for sources and licences):
  ss8/pisces2018_train.tsv   PISCES 2018 SS8 chains (jupyter-guide/ten-rules-jupyter, MIT)
  structures/ts50.json       TS50 backbones (drorlab/gvp-pytorch, MIT)
  structures/pdb/*.pdb       single-chain PDB domains (Kortemme-Lab/covariation and
                             facebookresearch/esm examples, MIT)

Outputs (deterministic for the same inputs and mmseqs2 version):
  kit/ts50.json              TS50, verbatim: the test set of the SS8 and contact probes. It has
                             no SS8 labels: the workbench labels it with its own DSSP at load.
  kit/pdb_domains.json       the PDB domains' backbones (N, CA, C, O per residue, TS50 layout):
                             training chains of the contact probe.
  kit/ss8_train.tsv          TRAIN_CHAINS PISCES chains (id, sequence, dssp8, fold_class):
                             training chains of the SS8 probe.
  kit/removed.tsv            every training chain dropped for similarity to a TS50 chain, with
                             the hit that dropped it.

Disjointness: every candidate training chain (PISCES and PDB domains) is searched against TS50
with mmseqs2 (`easy-search -s 7.5 -e 10`); a chain is dropped when any hit has >= 25 % identity
over >= 50 % of either sequence, or when it equals a TS50 sequence. The PISCES chains were
already filtered against CB513, TS115 and CASP12 by the same rule.
"""
import argparse
import json
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

TRAIN_CHAINS = 1000
MAX_TRAIN_LENGTH = 1000
MIN_IDENTITY, MIN_COVERAGE = 0.25, 0.5
SEED = 2021

THREE_TO_ONE = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E",
    "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F",
    "PRO": "P", "SER": "S", "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "MSE": "M",
}
BACKBONE = ("N", "CA", "C", "O")


def read_pdb_chains(path):
    """{chain: (sequence, [[N, CA, C, O] xyz or None])} of the first model's amino acids."""
    residues = {}
    order = []
    for line in path.read_text().splitlines():
        if line.startswith("ENDMDL"):
            break
        if not line.startswith(("ATOM", "HETATM")):
            continue
        name, alt, resname = line[12:16].strip(), line[16], line[17:20].strip()
        if resname not in THREE_TO_ONE or alt not in " A":
            continue
        key = (line[21], line[22:27])
        if key not in residues:
            residues[key] = (THREE_TO_ONE[resname], {})
            order.append(key)
        if name in BACKBONE:
            xyz = [float(line[30:38]), float(line[38:46]), float(line[46:54])]
            residues[key][1].setdefault(name, xyz)
    chains = {}
    for chain, resnum in order:
        aa, atoms = residues[(chain, resnum)]
        seq, coords = chains.setdefault(chain, ([], []))
        seq.append(aa)
        coords.append([atoms.get(a) for a in BACKBONE])
    return {c: ("".join(s), xyz) for c, (s, xyz) in chains.items()}


def pdb_domains(folder):
    """Backbone entries of every chain in `folder`, identical sequences kept once."""
    entries, seen = [], set()
    for path in sorted(folder.glob("*.pdb")):
        for chain, (seq, coords) in sorted(read_pdb_chains(path).items()):
            if seq in seen:
                continue
            seen.add(seq)
            entries.append({"name": f"{path.stem.split('_')[0]}_{chain}", "seq": seq,
                            "coords": coords})
    return entries


def read_pisces(path):
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:] if line.strip()]
    return header, rows


def write_fasta(path, named_sequences):
    with path.open("w") as f:
        for name, seq in named_sequences:
            f.write(f">{name}\n{seq}\n")


def similar_to_test(candidates, test, workdir):
    """{candidate name: (test name, identity, coverage)} of candidates too close to `test`."""
    query, target = workdir / "query.fasta", workdir / "target.fasta"
    write_fasta(query, candidates)
    write_fasta(target, test)
    hits = workdir / "hits.m8"
    subprocess.run(
        ["mmseqs", "easy-search", str(query), str(target), str(hits), str(workdir / "tmp"),
         "-s", "7.5", "-e", "10", "--threads", "2", "-v", "1",
         "--format-output", "query,target,fident,qcov,tcov"],
        check=True)
    close = {}
    for line in hits.read_text().splitlines():
        q, t, fident, qcov, tcov = line.split("\t")
        coverage = max(float(qcov), float(tcov))
        if float(fident) >= MIN_IDENTITY and coverage >= MIN_COVERAGE:
            close.setdefault(q, (t, float(fident), coverage))
    test_sequences = {seq: name for name, seq in test}
    for name, seq in candidates:
        if seq in test_sequences:
            close[name] = (test_sequences[seq], 1.0, 1.0)
    return close


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="folder with ss8/, structures/")
    parser.add_argument("--train-chains", type=int, default=TRAIN_CHAINS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "kit")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    ts50 = json.loads((args.shared / "structures/ts50.json").read_text())
    test = [(e["name"], e["seq"]) for e in ts50]
    domains = pdb_domains(args.shared / "structures/pdb")
    header, pisces = read_pisces(args.shared / "ss8/pisces2018_train.tsv")
    pisces = [r for r in pisces if len(r["sequence"]) <= MAX_TRAIN_LENGTH]

    candidates = [(d["name"], d["seq"]) for d in domains] + [(r["id"], r["sequence"]) for r in pisces]
    with tempfile.TemporaryDirectory() as tmp:
        close = similar_to_test(candidates, test, Path(tmp))

    domains_before = len(domains)
    domains = [d for d in domains if d["name"] not in close]
    pool = [r for r in pisces if r["id"] not in close]
    chosen = sorted(random.Random(SEED).sample(pool, min(args.train_chains, len(pool))),
                    key=lambda r: r["id"])

    shutil.copyfile(args.shared / "structures/ts50.json", args.out / "ts50.json")
    (args.out / "pdb_domains.json").write_text(json.dumps(domains, separators=(",", ":")) + "\n")
    columns = ["id", "sequence", "dssp8", "fold_class"]
    with (args.out / "ss8_train.tsv").open("w") as f:
        f.write("\t".join(columns) + "\n")
        for r in chosen:
            f.write("\t".join(r[c] for c in columns) + "\n")
    with (args.out / "removed.tsv").open("w") as f:
        f.write("chain\tclosest_ts50_chain\tidentity\tcoverage\n")
        for name, (t, ident, cov) in sorted(close.items()):
            f.write(f"{name}\t{t}\t{ident:.3f}\t{cov:.3f}\n")

    residues = sum(len(r["sequence"]) for r in chosen)
    print(f"TS50: {len(test)} chains, {sum(len(s) for _, s in test)} residues")
    print(f"PDB domains: {len(domains)} of {domains_before} chains kept")
    print(f"PISCES: {len(pool)} of {len(pisces)} chains (<= {MAX_TRAIN_LENGTH} residues) far from "
          f"TS50; kept {len(chosen)} chains, {residues} residues")
    print(f"dropped for similarity to TS50: {len(close)} chains (see kit/removed.tsv)")


if __name__ == "__main__":
    main()
