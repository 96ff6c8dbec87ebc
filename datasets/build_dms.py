#!/usr/bin/env python3
"""The bundled deep mutational scan: fair-esm's variant-prediction example (TEM-1 beta-lactamase,
BLAT_ECOLX, Stiffler et al. 2015), slimmed to the columns the workbench reads.

    python3 datasets/build_dms.py --shared ../shared/data

Writes datasets/dms/BLAT_ECOLX_Ranganathan2015.csv (columns `mutant` and `2500`, the fitness at
2,500 ug/ml ampicillin that fair-esm's example scores; rows in the source's order) and
datasets/dms/BLAT_ECOLX.fasta (the wild type from fair-esm's examples/variant-prediction/README.md;
its mutants are numbered from 24, so the offset is 24). Source: facebookresearch/esm @ 2b369911,
MIT licence.
"""
import argparse
import csv
from pathlib import Path

SEQUENCE = (
    "HPETLVKVKDAEDQLGARVGYIELDLNSGKILESFRPEERFPMMSTFKVLLCGAVLSRVDAGQEQLGRRIHYSQNDLVEYSPVTEKHLTDGMTVRELCSAAI"
    "TMSDNTAANLLLTTIGGPKELTAFLHNMGDHVTRLDRWEPELNEAIPNDERDTTMPAAMATTLRKLLTGELLTLASRQQLIDWMEADKVAGPLLRSALPAGW"
    "FIADKSGAGERGSRGIIAALGPDGKPSRIVVIYTTGSQATMDERNRQIAEIGASLIKHW"
)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, required=True, help="the shared data folder (holds dms/)")
    a = p.parse_args()
    out = Path(__file__).resolve().parent / "dms"
    out.mkdir(exist_ok=True)
    source = a.shared / "dms" / "BLAT_ECOLX_Ranganathan2015.csv"
    with source.open(encoding="utf-8-sig") as f:
        rows = [(r["mutant"], r["2500"]) for r in csv.DictReader(f)]
    with (out / "BLAT_ECOLX_Ranganathan2015.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["mutant", "2500"])
        w.writerows(rows)
    lines = [SEQUENCE[i:i + 60] for i in range(0, len(SEQUENCE), 60)]
    (out / "BLAT_ECOLX.fasta").write_text(
        ">BLAT_ECOLX TEM-1 beta-lactamase (mature chain, numbered from 24)\n" + "\n".join(lines) + "\n")
    print(f"{len(rows)} variants, {len(SEQUENCE)} residues -> {out}")


if __name__ == "__main__":
    main()
