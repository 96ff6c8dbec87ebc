#!/usr/bin/env python3
"""Writes each FASTA record with its residues shuffled (seeded): composition kept, order gone.

    python3 datasets/starter/shuffle_residues.py datasets/starter/heldout.fasta > shuffled.fasta

Scoring a model on the shuffled copy (`esm-workbench perplexity --fasta shuffled.fasta`) shows
how much of its perplexity comes from residue order rather than from composition alone.
"""
import random
import sys


def records(path):
    name, chunks = None, []
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(chunks)
                name, chunks = line, []
            elif line:
                chunks.append(line)
    if name is not None:
        yield name, "".join(chunks)


def main(path, seed=3):
    rng = random.Random(seed)
    for name, sequence in records(path):
        residues = list(sequence)
        rng.shuffle(residues)
        sys.stdout.write(f"{name}\n{''.join(residues)}\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
