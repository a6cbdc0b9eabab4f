"""Loading an image folder: first load (decoding every JPEG) vs later loads (the decode cache).

Reads the folder (default: the whole CIFAR-10 as JPEGs, ``cifar10-jpg``: 50,000 train and
10,000 test images) into a fresh cache folder: the first ``read_image_folder`` decodes every
image and writes the cache, the next ones read the cache (median of ``--repeats``). Also
times ``load_images("imagefolder")`` on the cached folder: what a supernet run pays at start
(cache read, the NAS-Bench-201 train / valid cut and normalisation statistics). Goal: a
cached load under 2 s; the first load is the named baseline.

    python benchmarks/data_image_cache.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _predictors_common import shared
from _results import BenchmarkRun, add_output_arguments
from gcnas.data import load_images
from gcnas.data.image_folder import read_image_folder


def timed(function) -> tuple[float, object]:
    began = time.perf_counter()
    value = function()
    return time.perf_counter() - began, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=None, help="image folder (default: shared cifar10-jpg)")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="cached loads timed (median)")
    add_output_arguments(parser, "data_image_cache")
    args = parser.parse_args()
    bench = BenchmarkRun("data_image_cache", args)
    root = Path(args.data_root) if args.data_root else shared("images/cifar10-jpg")
    with tempfile.TemporaryDirectory() as cache:
        first, images = timed(lambda: read_image_folder(root, image_size=args.image_size, cache_dir=cache,
                                                        progress=False))
        if images.from_cache:
            raise SystemExit(f"the fresh cache folder {cache} already held this image folder")
        cache_mib = images.cache_file.stat().st_size / 2**20
        reads, loads = [], []
        for _ in range(args.repeats):
            seconds, again = timed(lambda: read_image_folder(root, image_size=args.image_size, cache_dir=cache,
                                                             progress=False))
            if not again.from_cache:
                raise SystemExit("the second read decoded the images again: the cache was not used")
            reads.append(seconds)
            seconds, data = timed(lambda: load_images("imagefolder", root=root, image_size=args.image_size,
                                                      cache_dir=cache, progress=False))
            loads.append(seconds)
    figures = {"train_images": len(images.y_train), "test_images": len(images.y_test), "first_read_s": first,
               "cached_read_s": statistics.median(reads), "cached_load_images_s": statistics.median(loads),
               "cache_mib": cache_mib, "speedup": first / statistics.median(loads)}
    print(f"{root}: {figures['train_images']:,} train + {figures['test_images']:,} test images, "
          f"{args.image_size}x{args.image_size}, cache {cache_mib:.0f} MiB")
    print(f"first read_image_folder (decoding):   {first:8.2f} s")
    print(f"cached read_image_folder (median):    {figures['cached_read_s']:8.2f} s")
    print(f"cached load_images (median):          {figures['cached_load_images_s']:8.2f} s  ({data})")
    bench.write(figures, details={"reads_s": reads, "loads_s": loads})


if __name__ == "__main__":
    main()
