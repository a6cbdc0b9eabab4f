"""What comes from outside, read in its own format, and the run store.

Benchmark tables (CSV, and the two packaged with gcnas), NATS-Bench through the official
``nats_bench`` API, published latency / energy tables, image datasets, and the per-run
SQLite store. :mod:`gcnas.data.table_specs` names a table column by one string
(``table:CSV:COLUMN``, ``nb201:cifar10:COLUMN``, ``natsbench:PATH:DATASET:METRIC``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcnas._lazy import lazy_exports

_EXPORTS = {
    'ArchLike': 'benchmark',
    'DATASETS': 'images',
    'DATASET_SHAPES': 'images',
    'dataset_shape': 'images',
    'BRPLatency': 'hardware_tables',
    'BenchmarkTable': 'benchmark',
    'HELPLatency': 'hardware_tables',
    'HWNASBench': 'hardware_tables',
    'ImageDataset': 'images',
    'ImageSplit': 'images',
    'LatencyTable': 'hardware_tables',
    'NATSBench': 'natsbench',
    'PACKAGED_TABLES': 'benchmark',
    'RunStore': 'store',
    'Sample': 'store',
    'Trial': 'store',
    'atomic_write': 'store',
    'load_images': 'images',
    'open_column': 'table_specs',
    'open_table': 'table_specs',
    'write_brp_latency': 'hardware_tables',
    'write_help_latency': 'hardware_tables',
    'write_hwnasbench': 'hardware_tables',
    'write_tss_archive': 'natsbench_fixture',
}
"""Public name -> the submodule that defines it (loaded on first use: gcnas._lazy)."""

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.data.benchmark import PACKAGED_TABLES, ArchLike, BenchmarkTable
    from gcnas.data.hardware_tables import (BRPLatency, HELPLatency, HWNASBench, LatencyTable, write_brp_latency,
                                           write_help_latency, write_hwnasbench)
    from gcnas.data.images import DATASET_SHAPES, DATASETS, ImageDataset, ImageSplit, dataset_shape, load_images
    from gcnas.data.natsbench import NATSBench
    from gcnas.data.natsbench_fixture import write_tss_archive
    from gcnas.data.store import RunStore, Sample, Trial, atomic_write
    from gcnas.data.table_specs import open_column, open_table
