"""What comes from outside, read in its own format, and the run store.

Benchmark tables (CSV), NATS-Bench through the official ``nats_bench`` API, published
latency / energy tables, image datasets, and the per-run SQLite store.
"""

from gcnas.data.benchmark import ArchLike, BenchmarkTable
from gcnas.data.hardware_tables import (BRPLatency, HELPLatency, HWNASBench, LatencyTable, write_brp_latency,
                                       write_help_latency, write_hwnasbench)
from gcnas.data.images import DATASETS, ImageDataset, ImageSplit, load_images
from gcnas.data.natsbench import NATSBench
from gcnas.data.natsbench_fixture import write_tss_archive
from gcnas.data.store import RunStore, Sample, Trial, atomic_write

__all__ = [
    "ArchLike",
    "DATASETS",
    "BRPLatency",
    "BenchmarkTable",
    "HELPLatency",
    "HWNASBench",
    "ImageDataset",
    "ImageSplit",
    "LatencyTable",
    "NATSBench",
    "RunStore",
    "Sample",
    "Trial",
    "atomic_write",
    "load_images",
    "write_brp_latency",
    "write_help_latency",
    "write_hwnasbench",
    "write_tss_archive",
]
