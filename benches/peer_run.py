"""What the peer benchmarks (heads_screen.py, variant_scan.py) share: a command timed in its own
process under /usr/bin/time -v, and our model load measured by a one-residue store fill."""
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd, env):
    """(wall seconds, peak RSS bytes, the finished process); exits with its stderr if it fails."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    peak = next(int(l.split()[-1]) * 1024 for l in done.stderr.splitlines() if "Maximum resident" in l)
    return wall, peak, done


def our_load(binary, model, tmp, env):
    """(seconds, peak RSS bytes) of loading `model`: a store fill of one residue in `tmp`."""
    one = Path(tmp) / "one.fasta"
    one.write_text(">one\nM\n")
    wall, peak, _ = timed([str(binary), "store", "fill", "--model", str(model), "--fasta", str(one),
                           "--store", str(tmp), "--layers", "-1"], env)
    return wall, peak
