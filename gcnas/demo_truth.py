"""The demo judged by a truth table: how the rankings and picks compare with true accuracy.

:func:`judge_demo` runs after every stage of :func:`gcnas.demo.run_demo` has fitted and
picked; it reads the run store and the :class:`~gcnas.predictors.truth.Truth`, and returns
figures for the summary and the report. Nothing here feeds back into the pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcnas.data import RunStore
from gcnas.predictors.truth import Truth
from gcnas.predictors.cells import key_classes
from gcnas.spaces import costs_many, decision_index, get_space

__all__ = ["judge_demo", "front_2d"]


def front_2d(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of the 2-D Pareto front (lower cost, higher value), by increasing cost.

    A sort-based sweep: ``O(n log n)`` for the 15,625 cells. NaN values are skipped.
    """
    cost, value = np.asarray(cost, float), np.asarray(value, float)
    keep = np.flatnonzero(~np.isnan(cost) & ~np.isnan(value))
    order = keep[np.lexsort((-value[keep], cost[keep]))]
    front, best = [], -np.inf
    for i in order:
        if value[i] > best:
            front.append(int(i))
            best = value[i]
    return np.asarray(front, dtype=np.int64)


def _best_under(archs: list[Any], score: np.ndarray, latency: np.ndarray, bound: float) -> Any | None:
    feasible = np.flatnonzero((latency <= bound) & ~np.isnan(score))
    return archs[int(feasible[np.argmax(score[feasible])])] if len(feasible) else None


def judge_demo(store: RunStore, summary: dict[str, Any], truth: Truth) -> dict[str, Any]:
    """Rankings, picks and regret of a finished demo run against ``truth``.

    Args:
        store: The demo's run store (every stage finished).
        summary: The demo's summary (``chosen`` picks, ``gaea_derived``).
        truth: True accuracy of the cells (read only here).

    Returns:
        ``rankings`` (the judgement of the supernet scores, the lookup table's predictions and
        the parameter count), ``picks`` (predicted and true accuracy and latency of each
        pick), ``bound_ms`` (the latency bound: the lookup table's median), the true best cell
        under it, and the regret of gcnas's best pick, of the lookup table's top cell and of a
        random search given the same supernet evaluations.
    """
    space = get_space("nb201")
    everything = list(space.enumerate())  # in decision-index order: arrays over every cell
    classes = [members[0] for members in key_classes(space).values()]  # each class's first cell: its representative
    samples = store.samples("supernet")
    sampled = [s.arch for s in samples]
    sampled_scores = np.array([s.accuracy for s in samples])
    predicted_all = store.lut_values(everything, "accuracy")
    latency_all = store.lut_values(everything, "latency_ms")
    true_all = truth.values(everything)
    class_codes = [decision_index(space, a) for a in classes]

    rankings = {
        "supernet scores (sampled cells)": truth.judge(sampled, sampled_scores),
        "GCN lookup table (all classes)": truth.judge(classes, predicted_all[class_codes]),
        "parameter count (all classes)": truth.judge(classes, costs_many(space, classes)["params"]),
    }
    fused = store.samples("fused")
    if fused:  # the fused ranking of the sampled cells beside each of its ingredients
        fused_archs = [f.arch for f in fused]
        rankings["fused ranking (sampled cells)"] = truth.judge(fused_archs, np.array([f.accuracy for f in fused]))
        from gcnas.predictors.fused_run import fused_ingredients

        for name, values in fused_ingredients(fused).items():
            if name != "supernet":  # judged above as the supernet scores
                rankings[f"{name} (sampled cells)"] = truth.judge(fused_archs, values)

    bound = float(np.nanmedian(latency_all))
    true_best = _best_under(everything, true_all, latency_all, bound)
    chosen = [space.parse(a) for a in summary.get("chosen", [])]
    gaea = summary.get("gaea_derived")
    named = [(f"pick {i + 1}", a) for i, a in enumerate(chosen)] + ([("GAEA", space.parse(gaea))] if gaea else [])
    picks = [{"name": name, "arch": str(a), "predicted": float(predicted_all[decision_index(space, a)]),
              "latency_ms": float(latency_all[decision_index(space, a)]), truth.name: float(true_all[decision_index(space, a)])} for name, a in named]

    def regret(arch: Any | None) -> dict[str, Any] | None:
        if arch is None or true_best is None:
            return None
        return {"arch": str(arch), "latency_ms": float(latency_all[decision_index(space, arch)]),
                truth.name: float(true_all[decision_index(space, arch)]),
                "regret": float(true_all[decision_index(space, true_best)] - true_all[decision_index(space, arch)])}

    best_pick = _best_under(chosen, np.array([predicted_all[decision_index(space, a)] for a in chosen]),
                            np.array([latency_all[decision_index(space, a)] for a in chosen]), bound) if chosen else None
    lut_top = _best_under(everything, predicted_all, latency_all, bound)
    random_search = _best_under(sampled, sampled_scores, latency_all[[decision_index(space, a) for a in sampled]], bound)
    front = front_2d(latency_all, true_all)
    cloud = np.random.default_rng(0).choice(len(everything), size=min(2000, len(everything)), replace=False)
    return {
        "column": truth.column, "rankings": rankings, "picks": picks, "bound_ms": bound,
        "true_best": regret(true_best),
        "best_pick": regret(best_pick),
        "lut_top": regret(lut_top),
        "random_search": regret(random_search),
        "random_search_evaluations": len(sampled),
        "true_front": [[float(latency_all[i]), float(true_all[i])] for i in front],
        # a thin sample of every cell, for the background of the report's plot
        "true_cloud": [[float(latency_all[i]), float(true_all[i])] for i in cloud if not np.isnan(true_all[i])],
    }
