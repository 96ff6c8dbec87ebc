#!/usr/bin/env python3
"""The bundled protein families: the Pfam seed alignments that Debian's `hmmer-examples` ships
(HMMER's tutorial and test suite), in Stockholm, for the Alignment view and `probe alignment`.

    apt-get install hmmer-examples          # or: apt-get download hmmer-examples
    python3 datasets/build_alignments.py [--deb hmmer-examples_3.3.2+dfsg-1_all.deb]

Takes every alignment under /usr/share/doc/hmmer/examples (or inside --deb) whose `#=GF AC` is
a Pfam accession (PF.....), decompressed, one family a file, as datasets/alignments/<ID>.sto,
byte for byte; and writes datasets/alignments/families.tsv (id, accession, description,
sequences, columns, source path, sha256). Pfam's seed alignments are CC0.
"""
import argparse
import gzip
import hashlib
import subprocess
import tempfile
from pathlib import Path

EXAMPLES = Path("usr/share/doc/hmmer/examples")


def families(root):
    for path in sorted(root.rglob("*.sto*")):
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        text = raw.decode()
        tags = {}
        for line in text.splitlines():
            if line.startswith("#=GF "):
                tag, _, value = line[5:].partition(" ")
                tags.setdefault(tag, value.strip())
        if tags.get("AC", "").startswith("PF") and text.count("\n//") == 1:
            yield path.relative_to(root), raw, text, tags


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deb", type=Path, help="the hmmer-examples .deb (default: the installed package)")
    a = p.parse_args()
    out = Path(__file__).resolve().parent / "alignments"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if a.deb:
            subprocess.run(["dpkg-deb", "-x", str(a.deb), tmp], check=True)
            root = Path(tmp) / EXAMPLES
        else:
            root = Path("/") / EXAMPLES
        rows = []
        for rel, raw, text, tags in families(root):
            names = {line.split()[0] for line in text.splitlines()
                     if line.strip() and not line.startswith(("#", "//"))}
            first = next(line for line in text.splitlines()
                         if line.strip() and not line.startswith(("#", "//")))
            (out / f"{tags['ID']}.sto").write_bytes(raw)
            columns = sum(len(line.split()[1]) for line in text.splitlines()
                          if line.startswith(first.split()[0] + " "))
            rows.append([tags["ID"], tags["AC"], tags.get("DE", ""), str(len(names)), str(columns),
                         str(EXAMPLES / rel), hashlib.sha256(raw).hexdigest()])
    with (out / "families.tsv").open("w") as f:
        f.write("id\taccession\tdescription\tsequences\tcolumns\tsource\tsha256\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"{len(rows)} families -> {out}")


if __name__ == "__main__":
    main()
