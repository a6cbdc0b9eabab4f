"""Read speed and memory of NATSBench against the bare official API, on a written fixture.

Writes a fast-mode archive (``write_tss_archive``) with ``--num`` architectures, then
reads every figure of every dataset at both training lengths twice:

* baseline: the official ``nats_bench`` API used directly (``get_more_info`` per
  dataset and ``get_cost_info``), which keeps every loaded results file in memory;
* gcnas: ``NATSBench.record`` (the same API calls, but only the small figures are kept).

Prints milliseconds per architecture (plain run) and peak Python heap (a second run
under tracemalloc) of each, and their
ratio. Seeded; single-threaded.

    python benchmarks/data_natsbench.py --num 40
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import torch

from _results import BenchmarkRun, add_output_arguments
from gcnas.data import NATSBench, write_tss_archive
from gcnas.data.natsbench import ARCHIVE_NAME, DATASETS, HPS
from gcnas.spaces.nb201 import NB201Space


def bare_api(root: Path, archs) -> None:
    import nats_bench

    api = nats_bench.create(str(root), "tss", fast_mode=True, verbose=False)
    for arch in archs:
        index = api.query_index_by_arch(str(arch))
        for hp in HPS:
            for dataset in DATASETS:
                api.get_more_info(index, dataset, hp=hp, is_random=False)
                api.get_cost_info(index, dataset, hp=hp)


def gcnas_reader(root: Path, archs) -> None:
    bench = NATSBench(root)
    for arch in archs:
        for hp in HPS:
            for dataset in DATASETS:
                bench.record(arch, dataset=dataset, hp=hp)


def measure(function, root: Path, archs) -> tuple[float, float]:
    """Seconds per arch (plain run), then peak heap in MiB (a second run under tracemalloc)."""
    start = time.perf_counter()
    function(root, archs)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    function(root, archs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds / len(archs), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=40, help="architectures in the fixture (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    add_output_arguments(parser, "data_natsbench")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("data_natsbench", args)
    archs = NB201Space().sample_many(args.num, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        root = write_tss_archive(Path(tmp) / ARCHIVE_NAME, archs, seed=args.seed)
        write = (time.perf_counter() - start) / args.num
        size = sum(p.stat().st_size for p in root.glob("0*.pickle.pbz2")) / args.num / 1024
        base_s, base_mb = measure(bare_api, root, archs)
        ours_s, ours_mb = measure(gcnas_reader, root, archs)
    print(f"fixture: {args.num} archs, {write * 1000:.0f} ms and {size:.0f} KiB per results file written")
    print(f"{'reader':<22}{'ms / arch':>12}{'peak heap MiB':>16}")
    print(f"{'official API (base)':<22}{base_s * 1000:>12.1f}{base_mb:>16.1f}")
    print(f"{'NATSBench':<22}{ours_s * 1000:>12.1f}{ours_mb:>16.1f}")
    print(f"{'ratio gcnas / base':<22}{ours_s / base_s:>12.2f}{ours_mb / base_mb:>16.3f}")
    print(f"projected for 15,625 archs: {ours_s * 15625 / 60:.1f} min (NATSBench), "
          f"{base_mb / args.num * 15625 / 1024:.1f} GiB heap (official API, all kept)")
    bench.write({"archs": args.num, "fixture_write_ms": write * 1000, "fixture_kib_per_file": size,
               "official_ms_per_arch": base_s * 1000, "official_peak_heap_mib": base_mb,
               "gcnas_ms_per_arch": ours_s * 1000, "gcnas_peak_heap_mib": ours_mb,
               "time_ratio": ours_s / base_s, "heap_ratio": ours_mb / base_mb,
               "projected_minutes_all": ours_s * 15625 / 60,
               "projected_official_heap_gib_all": base_mb / args.num * 15625 / 1024})


if __name__ == "__main__":
    main()
