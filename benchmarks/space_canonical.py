"""Isomorphism classes of the NAS-Bench-201 cell space, beside the number the benchmark's paper gives.

Enumerates the 15,625 cells, maps each to its canonical form (``Arch.canonical()``, following
NAS-Bench-201's ``to_unique_str(consider_zero=True)``) and counts the distinct forms. The
anchor is the NAS-Bench-201 paper (Dong & Yang, ICLR 2020): 6,466 unique architectures.

    python benchmarks/space_canonical.py
"""

from __future__ import annotations

import argparse
import time

from _results import BenchmarkRun, add_output_arguments
from gcnas.spaces.nb201 import NB201Space

PAPER_CLASSES = 6466  # NAS-Bench-201 (Dong & Yang, ICLR 2020): unique cells of the 15,625, isomorphism removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_output_arguments(parser, "space_canonical")
    args = parser.parse_args()
    bench = BenchmarkRun("space_canonical", args)
    space = NB201Space()
    began = time.perf_counter()
    archs = space.all_archs()
    classes = {a.canonical() for a in archs}
    seconds = time.perf_counter() - began
    print(f"{len(archs)} cells, {len(classes)} canonical classes (NAS-Bench-201 paper: {PAPER_CLASSES}); "
          f"{seconds:.2f} s")
    bench.write({"cells": len(archs), "canonical_classes": len(classes), "paper_classes": PAPER_CLASSES,
               "seconds": seconds})


if __name__ == "__main__":
    main()
