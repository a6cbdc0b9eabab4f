"""What comes from outside, read in its own format, and the run store.

Benchmark tables (CSV), NATS-Bench through the official ``nats_bench`` API, published
latency / energy tables, image datasets, and the per-run SQLite store.
"""

from gcnas.data.benchmark import ArchLike, BenchmarkTable
from gcnas.data.store import RunStore, Sample, Trial, atomic_write

__all__ = [
    "ArchLike",
    "BenchmarkTable",
    "RunStore",
    "Sample",
    "Trial",
    "atomic_write",
]
