"""arch2vec on a search space: pretraining time, reconstruction, the round trip BO decodes, prior, smoothness.

Pretrains (or loads) arch2vec on the space (``--space nb201``: all 15,625 cells;
``--space darts`` or ``imc``: ``--sample-size`` cells drawn uniformly) and prints, each beside its anchor:

- pretraining wall time (goal: under 3 minutes on 2 CPU cores for NAS-Bench-201);
- reconstruction of the held-out cells from their node latents: op accuracy, adjacency
  accuracy, exact share (goal: at least 99.5% exact);
- the round trip latent BO relies on, on the held-out cells (never trained on): cell ->
  graph-level embedding -> :meth:`Arch2Vec.decode` -> the same ``space.key``, by the
  decision decoder alone and with decode's local search (goal: at least 99.5%);
- validity and uniqueness of cells decoded from the prior N(0, I), beside the
  uniqueness of as many cells drawn uniformly from the space;
- NAS-Bench-201 only, the paper's claim: the mean |accuracy difference| between a cell and
  its k nearest neighbours in arch2vec space, vs in one-hot space, vs random pairs, on the
  real 200-epoch CIFAR-10 table.

Writes benchmarks/results/encoders_arch2vec.json (``--out``; ``--json`` is the old name;
``--label darts`` / ``--label imc`` for the runs on those spaces).

Example:
    python benchmarks/encoders_arch2vec.py --save /tmp/arch2vec.pt
    python benchmarks/encoders_arch2vec.py --load /tmp/arch2vec.pt     # skip training
    python benchmarks/encoders_arch2vec.py --space darts --label darts
    python benchmarks/encoders_arch2vec.py --space imc --label imc --sample-size 6000 --holdout 0.05 --epochs 8 \
        --train-check 200 --prior-samples 200
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from _results import BenchmarkRun, add_output_arguments
from gcnas.cli._common import format_table
from gcnas.data import BenchmarkTable
from gcnas.encoders import Arch2Vec, graph_tensors
from gcnas.spaces import one_hot

DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201" / "nb201_cifar10_200ep.csv"


def neighbour_gap(vectors: np.ndarray, values: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Per cell, the mean |value difference| to its k nearest neighbours (ties broken at random)."""
    order = np.random.default_rng(seed).permutation(len(vectors))  # random tie-breaking
    index = NearestNeighbors(n_neighbors=k + 1).fit(vectors[order])
    _, found = index.kneighbors(vectors[order])
    neighbours = order[found[:, 1:]]  # drop the cell itself (distance 0, listed first)
    gaps = np.abs(values[neighbours] - values[order][:, None]).mean(1)
    result = np.empty_like(gaps)
    result[order] = gaps
    return result


def smoothness(encoder: Arch2Vec, table: BenchmarkTable, metric: str, k: int, seed: int) -> list[dict]:
    archs = table.archs
    values = table.values(archs, metric)
    rng = np.random.default_rng(seed)
    spaces = {"arch2vec": encoder.encode(archs), "one-hot": one_hot(encoder.space_, archs)}
    gaps = {name: neighbour_gap(v, values, k, seed) for name, v in spaces.items()}
    partners = rng.integers(0, len(archs), size=(len(archs), k))
    gaps["random pairs"] = np.abs(values[partners] - values[:, None]).mean(1)
    good = values >= np.percentile(values, 10)
    return [{"neighbours": name, "k": k, f"mean |d {metric}|": float(g.mean()),
             "median": float(np.median(g)), "mean (top 90% cells)": float(g[good].mean()),
             "vs random": float(g.mean() / gaps["random pairs"].mean())} for name, g in gaps.items()]


def node_types_valid(encoder: Arch2Vec, node_z: np.ndarray, archs: list) -> np.ndarray:
    """Whether the node decoder's own argmax types are those of the cells decoded (wiring aside)."""
    n = len(node_z)
    with torch.no_grad():
        types = encoder.model_.decode_nodes(torch.from_numpy(node_z).flatten(0, 1))[0].argmax(-1)
    target = graph_tensors(archs, space=encoder.space_)[2]
    return ((types == target) | (target < 0)).reshape(n, -1).all(1).numpy()


def prior_stats(encoder: Arch2Vec, num: int, seed: int) -> list[dict]:
    """Cells decoded from N(0, I): node latents (node decoder) and embeddings (decision decoder, no search)."""
    rng = np.random.default_rng(seed)
    space = encoder.space_
    shape = (num, len(space.graph_names), space.max_nodes, encoder.latent_dim)
    node_z = rng.standard_normal(shape).astype(np.float32)
    graph_z = node_z[:, :, :encoder.model_.readout_bins, :].reshape(num, -1)  # as many N(0, 1) draws as it has
    archs, valid = encoder.decode(node_z, return_valid=True)
    keys = lambda cells: {space.key(a) for a in cells}  # noqa: E731
    rows = [{"decoded from": "node latents ~ N(0, I)", "samples": num,
             "types valid": float(node_types_valid(encoder, node_z, archs).mean()),
             "valid (types+wiring)": float(valid.mean()),
             "unique (of valid)": len(keys(a for a, v in zip(archs, valid) if v)) / max(1, int(valid.sum())),
             "unique (after repair)": len(keys(archs)) / num}]
    # Decisions are valid by construction: every embedding decodes to a cell of the space.
    graph_archs = encoder.decode(graph_z, refine=False)
    rows.append({"decoded from": "graph vector ~ N(0, I)", "samples": num, "types valid": 1.0,
                 "valid (types+wiring)": 1.0, "unique (of valid)": len(keys(graph_archs)) / num,
                 "unique (after repair)": len(keys(graph_archs)) / num})
    uniform = [space.sample(rng) for _ in range(num)]
    rows.append({"decoded from": "baseline: uniform draws from the space", "samples": num, "types valid": 1.0,
                 "valid (types+wiring)": 1.0, "unique (of valid)": len(keys(uniform)) / num,
                 "unique (after repair)": len(keys(uniform)) / num})
    return rows


def round_trip(encoder: Arch2Vec, archs: list, name: str) -> dict:
    """cell -> embedding -> decode -> the same space.key, by the decision decoder alone and with the search."""
    space = encoder.space_
    keys = [space.key(a) for a in archs]
    z = encoder.encode(archs)
    row: dict = {"cells": name, "count": len(archs)}
    for label, refine in (("decoder alone", False), ("decoder + local search", True)):
        began = time.perf_counter()
        decoded = encoder.decode(z, refine=refine)
        seconds = time.perf_counter() - began
        row[f"exact: {label}"] = float(np.mean([space.key(a) == k for a, k in zip(decoded, keys)]))
        row[f"ms per cell: {label}"] = 1000 * seconds / max(1, len(archs))
    distinct = len({tuple(v) for v in np.round(z, 5)})
    row["distinct embeddings"] = distinct / max(1, len(archs))
    row["goal exact"] = 0.995
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="nb201", help="search space (default nb201; darts, imc)")
    parser.add_argument("--sample-size", type=int, default=20_000,
                        help="cells drawn to train on (and hold out from) when the space cannot be listed")
    parser.add_argument("--epochs", type=int, default=12, help="training epochs (default 12, as Arch2Vec)")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--graph-weight", type=float, default=0.1,
                        help="weight of decoding node types from the graph vector while training (Arch2Vec's)")
    parser.add_argument("--decision-weight", type=float, default=0.0,
                        help="weight of naming the decisions from the embedding while training (Arch2Vec's)")
    parser.add_argument("--readout-bins", type=int, default=None,
                        help="stretches of a graph's nodes in its embedding (default: Arch2Vec's, from the space)")
    parser.add_argument("--holdout", type=float, default=0.1, help="share of the cells held out (default 0.1)")
    parser.add_argument("--train-check", type=int, default=0,
                        help="training cells (a seeded subset) whose reconstruction is reported (0: all)")
    parser.add_argument("--roundtrip-cells", type=int, default=0,
                        help="held-out cells (the first ones) in the round trip (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--load", type=Path, help="use this saved encoder instead of pretraining")
    parser.add_argument("--save", type=Path, help="save the pretrained encoder here")
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE, help="benchmark table for smoothness")
    parser.add_argument("--metric", default="test_acc")
    parser.add_argument("--neighbours", type=int, default=10)
    parser.add_argument("--prior-samples", type=int, default=10_000)
    add_output_arguments(parser, "encoders_arch2vec")
    parser.add_argument("--json", dest="out", type=Path, help=argparse.SUPPRESS)  # the old name of --out
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench = BenchmarkRun("encoders_arch2vec", args)
    report: dict = {}

    if args.load:
        encoder = Arch2Vec.load(args.load, space=args.space)
    else:
        began, cpu_began = time.perf_counter(), time.process_time()
        encoder = Arch2Vec(latent_dim=args.latent_dim, space=args.space, epochs=args.epochs, seed=args.seed,
                           sample_size=args.sample_size, graph_weight=args.graph_weight,
                           decision_weight=args.decision_weight, readout_bins=args.readout_bins,
                           holdout=args.holdout).fit(progress=False)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began  # CPU time: what contention hides
        cells = len(encoder.train_cells_) + len(encoder.holdout_cells_)
        report["time"] = [{"what": f"pretrain {args.space}: {cells:,} cells ({len(encoder.train_cells_):,} train), "
                                   f"{args.epochs} epochs + decision decoder, {args.threads} thread(s)",
                           "seconds": wall, "cpu seconds": cpu, "decoder seconds": encoder.history_[-1]["decoder_seconds"],
                           "goal seconds": 180.0, "ratio to goal": wall / 180.0}]
        print(format_table(report["time"]), end="\n\n")
        if args.save:
            encoder.save(args.save)
    held, train = encoder.holdout_archs(), encoder.train_archs()
    if 0 < args.train_check < len(train):  # decoding cells the decoder misses costs a search each: a subset
        keep = np.sort(np.random.default_rng(args.seed).choice(len(train), args.train_check, replace=False))
        train = [train[i] for i in keep]
    report["reconstruction"] = [{"cells": name, "count": len(archs), **encoder.reconstruction(archs),
                                 "goal exact": 0.995} for name, archs in (("held out", held), ("train", train))]
    print(format_table(report["reconstruction"]), end="\n\n")
    report["round_trip"] = [round_trip(encoder, held[:args.roundtrip_cells or len(held)], "held out")]
    print(format_table(report["round_trip"]), end="\n\n")
    report["prior"] = prior_stats(encoder, args.prior_samples, args.seed)
    print(format_table(report["prior"]), end="\n\n")
    if encoder.space_.name != "nb201":
        print("smoothness skipped: the accuracy table is NAS-Bench-201's")
    elif args.table.exists():
        report["smoothness"] = smoothness(encoder, BenchmarkTable(args.table), args.metric, args.neighbours,
                                          args.seed)
        print(format_table(report["smoothness"]))
    else:
        print(f"smoothness skipped: {args.table} not found (pass --table)")
    bench.write(figures(report), details=report)


def figures(report: dict) -> dict:
    """The flat headline figures of the report (``None`` where a part was skipped)."""
    out: dict = {"fit_seconds": report["time"][0]["seconds"] if "time" in report else None,
                 "fit_cpu_seconds": report["time"][0]["cpu seconds"] if "time" in report else None,
                 "decoder_seconds": report["time"][0]["decoder seconds"] if "time" in report else None}
    for row in report["reconstruction"]:
        part = "heldout" if row["cells"] == "held out" else "train"
        out.update({f"{part}.{k}": row[k] for k in ("count", "op_acc", "adj_acc", "exact", "graph_exact",
                                                     "graph_head_exact")})
    for row in report["round_trip"]:
        out.update({"roundtrip.count": row["count"], "roundtrip.exact_decoder": row["exact: decoder alone"],
                    "roundtrip.exact_search": row["exact: decoder + local search"],
                    "roundtrip.ms_decoder": row["ms per cell: decoder alone"],
                    "roundtrip.ms_search": row["ms per cell: decoder + local search"],
                    "roundtrip.distinct_embeddings": row["distinct embeddings"]})
    for row, part in zip(report["prior"], ("prior_nodes", "prior_graph", "uniform")):
        out.update({f"{part}.types_valid": row["types valid"], f"{part}.valid": row["valid (types+wiring)"],
                    f"{part}.unique_of_valid": row["unique (of valid)"],
                    f"{part}.unique_after_repair": row["unique (after repair)"], f"{part}.samples": row["samples"]})
    for row in report.get("smoothness", []):
        part = {"arch2vec": "arch2vec", "one-hot": "onehot", "random pairs": "random"}[row["neighbours"]]
        mean_key = next(k for k in row if k.startswith("mean |d "))
        out.update({f"smooth.{part}.mean": row[mean_key], f"smooth.{part}.median": row["median"],
                    f"smooth.{part}.mean_top90": row["mean (top 90% cells)"],
                    f"smooth.{part}.vs_random": row["vs random"], "smooth.k": row["k"]})
    return out


if __name__ == "__main__":
    main()
