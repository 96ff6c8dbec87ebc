#!/usr/bin/env python3
"""How much the starter model's held-out split overlaps its training split, and what a
neighbour-context baseline scores on it (plain Python, no dependencies).

    python3 datasets/starter/heldout_overlap.py \
        /usr/share/doc/mmseqs2/example-data/DB.fasta.gz datasets/starter/heldout.fasta

The training split is the corpus minus the held-out ids (as `pretrain` splits it). Printed:
- the share of each held-out sequence's 8-mers found anywhere in the training split (a random
  8-mer of the 20 amino acids is found by chance with probability ~3e-4), as quantiles;
- perplexities over every residue of the first 510 of each held-out sequence (not the masked
  15% that `perplexity` scores, so they differ slightly from its numbers): unigram, the
  protein's own composition (leave-one-out, 100 pseudo-counts of the unigram), and the two
  neighbours (x[i-1], x[i+1] -> x[i], 20 pseudo-counts of the unigram), the two combined, and
  a memoriser (the residues found between the same 4 + 4 neighbours in the training split).
"""
import collections
import gzip
import math
import sys

AA = "ACDEFGHIKLMNPQRSTVWY"
K = 8
M = 4


def read_fasta(path):
    opener = gzip.open if path.endswith(".gz") else open
    name, chunks = None, []
    with opener(path, "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(chunks)
                name, chunks = line[1:].split()[0], []
            else:
                chunks.append(line.strip())
    if name is not None:
        yield name, "".join(chunks)


def main(corpus, heldout_path):
    heldout = dict(read_fasta(heldout_path))
    train = [s for n, s in read_fasta(corpus) if n not in heldout]
    print(f"{len(train)} training and {len(heldout)} held-out sequences")

    kmers = {s[i : i + K] for s in train for i in range(len(s) - K + 1)}
    shares = sorted(
        sum(s[i : i + K] in kmers for i in range(len(s) - K + 1)) / max(1, len(s) - K + 1)
        for s in heldout.values()
    )
    n = len(shares)
    quantiles = ", ".join(f"{q:.0%} {shares[int(q * n)]:.3f}" for q in (0.1, 0.25, 0.5, 0.75, 0.9))
    print(f"share of a held-out sequence's {K}-mers seen in training: mean {sum(shares) / n:.3f}; quantiles {quantiles}")
    print(f"held-out sequences with more than half of their {K}-mers in training: {sum(x > 0.5 for x in shares) / n:.1%}")

    unigram, pairs, contexts = collections.Counter(), collections.Counter(), collections.Counter()
    for s in train:
        t = "^" + s + "$"
        for i in range(1, len(t) - 1):
            if t[i] in AA:
                unigram[t[i]] += 1
                pairs[(t[i - 1], t[i], t[i + 1])] += 1
                contexts[(t[i - 1], t[i + 1])] += 1
    total = sum(unigram.values())
    p = {a: unigram[a] / total for a in AA}

    def perplexity(prob):
        nll, count = 0.0, 0
        for s in heldout.values():
            s = s[:510]
            composition = collections.Counter(c for c in s if c in AA)
            length = sum(composition.values())
            t = "^" + s + "$"
            for i in range(1, len(t) - 1):
                if t[i] in AA:
                    nll -= math.log(prob(t, i, composition, length))
                    count += 1
        return math.exp(nll / count)

    print(f"unigram {perplexity(lambda t, i, c, n: p[t[i]]):.3f}")
    own = perplexity(lambda t, i, c, n: (c[t[i]] - 1 + 100 * p[t[i]]) / (n - 1 + 100))
    print(f"own composition (leave-one-out) {own:.3f}")
    neighbours = perplexity(
        lambda t, i, c, n: (pairs[(t[i - 1], t[i], t[i + 1])] + 20 * p[t[i]])
        / (contexts[(t[i - 1], t[i + 1])] + 20)
    )
    print(f"neighbours x[i-1], x[i+1] {neighbours:.3f}")

    def shallow(t, i, c, n):
        """Own composition and the two neighbours combined (product of the two, over p)."""
        def score(a):
            own_a = (c[a] - (a == t[i]) + 100 * p[a]) / (n - 1 + 100)
            nb_a = (pairs[(t[i - 1], a, t[i + 1])] + 20 * p[a]) / (contexts[(t[i - 1], t[i + 1])] + 20)
            return own_a * nb_a / p[a]
        return score(t[i]) / sum(score(a) for a in AA)

    print(f"own composition and neighbours combined {perplexity(shallow):.3f}")

    # A memoriser: the residue between the same 4 + 4 neighbours anywhere in training (backing
    # off to the combined baseline with 0.5 pseudo-counts). It approximates a model that has
    # learned its training corpus by heart.
    centres = collections.defaultdict(collections.Counter)
    for s in train:
        for i in range(M, len(s) - M):
            centres[s[i - M : i] + s[i + 1 : i + M + 1]][s[i]] += 1

    def memoriser(t, i, c, n):
        fallback = shallow(t, i, c, n)
        seen = centres.get(t[i - M : i] + t[i + 1 : i + M + 1])
        if not seen:
            return fallback
        return (seen[t[i]] + 0.5 * fallback) / (sum(seen.values()) + 0.5)

    print(f"memoriser ({M} + {M} neighbours looked up in training) {perplexity(memoriser):.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
