"""What comes from outside, read in its own format, and the run store.

Benchmark tables (CSV, and the two packaged with gcnas), NATS-Bench through the official
``nats_bench`` API, published latency / energy tables, image datasets, and the per-run
SQLite store. :mod:`gcnas.data.table_specs` names a table column by one string
(``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN``, ``natsbench:PATH:DATASET:METRIC``...).
"""

from gcnas.data.benchmark import PACKAGED_TABLES, ArchLike, BenchmarkTable
from gcnas.data.hardware_tables import (BRPLatency, HELPLatency, HWNASBench, LatencyTable, write_brp_latency,
                                       write_help_latency, write_hwnasbench)
from gcnas.data.images import DATASETS, ImageDataset, ImageSplit, load_images
from gcnas.data.natsbench import NATSBench
from gcnas.data.natsbench_fixture import write_tss_archive
from gcnas.data.store import RunStore, Sample, Trial, atomic_write
from gcnas.data.table_specs import open_column, open_table

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
    "PACKAGED_TABLES",
    "RunStore",
    "Sample",
    "Trial",
    "atomic_write",
    "load_images",
    "open_column",
    "open_table",
    "write_brp_latency",
    "write_help_latency",
    "write_hwnasbench",
    "write_tss_archive",
]
