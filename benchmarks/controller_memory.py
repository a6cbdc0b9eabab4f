"""Does the memory buffer make the REINFORCE controller's hidden state encode the cell?

The claim tested (Adam & Lorraine, 2019, "Understanding Neural Architecture Search
Techniques"): the ENAS controller's hidden state ignores past decisions, and training it
with a memory buffer of previously sampled architectures (a supervised reconstruction
loss added to the policy gradient) makes hidden-state distance track graph similarity.

For each seed and buffer size, ``gcnas.search.ReinforceSearch`` searches the NAS-Bench-201
CIFAR-10 table (``valid_acc``, packaged with gcnas) for ``--budget`` trials. The trained
controller then samples ``--cells`` distinct cells (ancestral sampling, seeded), and over
every pair of them we take the Spearman correlation between the L2 distance of the LSTM
hidden states after all six decisions and the edit distance of the cells (the number of
edges whose op differs). The same is reported for ``--cells`` uniformly drawn cells (the
same cells for every controller of a seed) and for the untrained controller (its initial
weights, seeded like the search). The search itself is summarised by the best
``valid_acc`` found and the mean ``valid_acc`` of the last 20 proposals. One thread.

    python benchmarks/controller_memory.py --seeds 5 --budget 100 --buffers 0,16,64
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from gcnas.data import BenchmarkTable
from gcnas.search import ReinforceSearch, TableObjective, run_search
from gcnas.search.base import Observations
from gcnas.search.reinforce import Controller
from gcnas.spaces.nb201 import NB201Space

try:
    from _results import BenchmarkRun, add_output_arguments
except ImportError:  # imported as benchmarks.controller_memory
    from benchmarks._results import BenchmarkRun, add_output_arguments


def distance_correlation(controller: Controller, ops: np.ndarray) -> float:
    """Spearman correlation, over all pairs of ``ops`` rows, of hidden-state L2 distance and edit distance."""
    hidden = controller.hidden_states(ops)
    upper = np.triu_indices(len(ops), k=1)
    hidden_distance = np.linalg.norm(hidden[:, None, :] - hidden[None, :, :], axis=-1)[upper]
    edit_distance = (ops[:, None, :] != ops[None, :, :]).sum(axis=-1)[upper]
    return float(spearmanr(hidden_distance, edit_distance)[0])


def distinct_samples(controller: Controller, count: int, rng: np.random.Generator, tries: int = 50) -> np.ndarray:
    """Up to ``count`` distinct cells sampled from the controller, in order of first appearance."""
    seen: dict[tuple[int, ...], None] = {}
    for _ in range(tries):
        for row in controller.sample(count, rng):
            seen.setdefault(tuple(int(v) for v in row), None)
        if len(seen) >= count:
            break
    return np.array(list(seen)[:count], dtype=np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--buffers", default="0,16,64", help="memory-buffer sizes, comma separated (0: none)")
    parser.add_argument("--cells", type=int, default=200, help="cells whose pairwise distances are compared")
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--entropy-weight", type=float, default=0.0)
    parser.add_argument("--hidden-size", type=int, default=64)
    add_output_arguments(parser, "controller_memory")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = BenchmarkRun("controller_memory", args)
    table = BenchmarkTable.packaged("nb201:cifar10")
    valid = TableObjective("valid_acc", table=table)
    buffers = [int(b) for b in args.buffers.split(",")]
    space = NB201Space()
    rows: dict[int, list[dict[str, float]]] = {b: [] for b in buffers}
    untrained = []
    for seed in range(args.seeds):
        uniform = np.array([a.ops for a in space.sample_many(args.cells, np.random.default_rng([seed, 1]))])
        initial = Controller(hidden_size=args.hidden_size, seed=seed)
        untrained.append({"uniform": distance_correlation(initial, uniform),
                          "sampled": distance_correlation(initial, distinct_samples(
                              initial, args.cells, np.random.default_rng([seed, 2])))})
        for buffer in buffers:
            began = time.perf_counter()
            search = ReinforceSearch(learning_rate=args.learning_rate, entropy_weight=args.entropy_weight,
                                     memory_buffer=buffer, hidden_size=args.hidden_size, seed=seed)
            result = run_search(search, [valid], budget=args.budget, seed=seed)
            obs = Observations([t.arch for t in result.trials], result.values("valid_acc").reshape(-1, 1),
                               np.zeros((len(result), 0)))
            controller = search.trained_controller(obs)
            sampled = distinct_samples(controller, args.cells, np.random.default_rng([seed, 2]))
            row = {"sampled": distance_correlation(controller, sampled),
                   "uniform": distance_correlation(controller, uniform),
                   "distinct_sampled": len(sampled), "best_valid": float(result.best_so_far()[-1]),
                   "last20_valid": float(result.values("valid_acc")[-20:].mean()),
                   "seconds": time.perf_counter() - began}
            rows[buffer].append(row)
            print(f"seed {seed} buffer {buffer}: spearman sampled {row['sampled']:.3f} uniform {row['uniform']:.3f} "
                  f"({row['distinct_sampled']} distinct) best {row['best_valid']:.2f} last20 {row['last20_valid']:.2f} "
                  f"{row['seconds']:.1f}s", flush=True)
    figures: dict[str, float | int] = {"seeds": args.seeds, "budget": args.budget, "cells": args.cells}
    for key in ("sampled", "uniform"):
        values = [u[key] for u in untrained]
        figures[f"untrained.spearman_{key}.mean"] = float(np.mean(values))
    print(f"\n{'controller':<12} {'spearman sampled':>17} {'spearman uniform':>17} {'best valid':>11} {'last20':>8}")
    print(f"{'untrained':<12} {figures['untrained.spearman_sampled.mean']:>17.3f} "
          f"{figures['untrained.spearman_uniform.mean']:>17.3f}")
    for buffer in buffers:
        name = f"buffer{buffer}"
        for key in ("sampled", "uniform", "best_valid", "last20_valid"):
            label = f"spearman_{key}" if key in ("sampled", "uniform") else key
            figures[f"{name}.{label}.mean"] = float(np.mean([r[key] for r in rows[buffer]]))
        figures[f"{name}.distinct_sampled.mean"] = float(np.mean([r["distinct_sampled"] for r in rows[buffer]]))
        figures[f"{name}.spearman_sampled.min"] = float(min(r["sampled"] for r in rows[buffer]))
        figures[f"{name}.spearman_sampled.max"] = float(max(r["sampled"] for r in rows[buffer]))
        print(f"{name:<12} {figures[name + '.spearman_sampled.mean']:>17.3f} "
              f"{figures[name + '.spearman_uniform.mean']:>17.3f} "
              f"{figures[name + '.best_valid.mean']:>11.2f} {figures[name + '.last20_valid.mean']:>8.2f}")
    bench.write(figures, details={"untrained": untrained, "runs": {str(b): rows[b] for b in buffers}})


if __name__ == "__main__":
    main()
