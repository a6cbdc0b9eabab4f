"""Pareto fronts and hypervolume, in the maximisation convention.

Every objective is maximised here: callers flip the sign of a cost (latency, energy)
before asking. A point dominates another when it is at least as good in every objective
and better in one. The work is BoTorch's: ``is_non_dominated`` for the front (its
loop-based path is O(n * front) on large sets) and ``DominatedPartitioning`` for the
hypervolume (a sort for two objectives, an exact box decomposition for more).
"""

from __future__ import annotations

import functools

import numpy as np

from gcnas._thirdparty import quiet_jit_deprecation
from gcnas.exceptions import InvalidInputError

__all__ = ["pareto_mask", "hypervolume", "hypervolume_curve", "nadir_reference"]


@functools.cache
def _botorch():
    """BoTorch's front and box decomposition, imported on first use (torch takes seconds to import,
    and listing one objective's trials needs neither)."""
    import torch

    with quiet_jit_deprecation():  # linear_operator (under BoTorch) scripts functions on import: see gcnas._thirdparty
        from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning
        from botorch.utils.multi_objective.pareto import is_non_dominated
    return torch, is_non_dominated, DominatedPartitioning


def _matrix(Y: np.ndarray, what: str = "Y") -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2:
        raise InvalidInputError(f"{what} must be an (n, m) array of objective values, got shape {Y.shape}")
    return Y


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Which rows are not dominated by any other row (NaN rows never are).

    Args:
        Y: ``(n, m)`` objective values, larger is better.

    Returns:
        ``(n,)`` bool mask of the Pareto-optimal rows (duplicates of a Pareto point all kept).

    Example:
        >>> pareto_mask(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])).tolist()
        [True, True, False]
    """
    Y = _matrix(Y)
    mask = np.zeros(len(Y), dtype=bool)
    idx = np.flatnonzero(np.isfinite(Y).all(axis=1))
    if len(idx):
        # A dominating row has the larger sum: visited first, it rules out many rows at once
        # (BoTorch's loop over a large set then runs in about half the time).
        order = idx[np.argsort(-Y[idx].sum(axis=1), kind="stable")]
        torch, is_non_dominated, _ = _botorch()
        mask[order] = is_non_dominated(torch.from_numpy(Y[order]), deduplicate=False).numpy()
    return mask


def hypervolume(Y: np.ndarray, ref_point: np.ndarray) -> float:
    """The volume dominated by ``Y`` and bounded below by ``ref_point``.

    Points that do not strictly dominate the reference point add nothing, so the
    result is 0.0 when none does.

    Args:
        Y: ``(n, m)`` objective values, larger is better (NaN rows ignored).
        ref_point: ``(m,)`` reference point.

    Returns:
        The hypervolume.

    Example:
        >>> hypervolume(np.array([[2.0, 1.0], [1.0, 2.0]]), np.zeros(2))
        3.0
    """
    Y = _matrix(Y)
    ref = np.asarray(ref_point, dtype=np.float64).reshape(-1)
    if len(ref) != Y.shape[1]:
        raise InvalidInputError(f"reference point has {len(ref)} values for {Y.shape[1]} objectives")
    if not np.isfinite(ref).all():
        raise InvalidInputError(f"reference point must be finite, got {ref.tolist()}")
    Y = Y[np.isfinite(Y).all(axis=1)]
    Y = Y[(Y > ref).all(axis=1)]
    if len(Y) == 0:
        return 0.0
    if Y.shape[1] == 1:
        return float(Y.max() - ref[0])
    Y = Y[pareto_mask(Y)]
    torch, _, DominatedPartitioning = _botorch()
    partitioning = DominatedPartitioning(ref_point=torch.from_numpy(ref), Y=torch.from_numpy(Y))
    return float(partitioning.compute_hypervolume())


def hypervolume_curve(Y: np.ndarray, ref_point: np.ndarray, feasible: np.ndarray | None = None) -> np.ndarray:
    """Hypervolume of the first ``t`` rows, for every ``t`` (the per-step curve).

    Args:
        Y: ``(n, m)`` objective values in evaluation order, larger is better.
        ref_point: ``(m,)`` reference point.
        feasible: Optional ``(n,)`` mask; infeasible rows add nothing.

    Returns:
        ``(n,)`` hypervolume after each evaluation.
    """
    Y = _matrix(Y)
    keep = np.ones(len(Y), dtype=bool) if feasible is None else np.asarray(feasible, dtype=bool)
    curve = np.zeros(len(Y))
    front = np.zeros((0, Y.shape[1]))
    value = 0.0
    for t in range(len(Y)):
        row = Y[t]
        if keep[t] and np.isfinite(row).all() and not _dominated_or_equal(row, front):
            front = np.vstack([front, row])
            front = front[pareto_mask(front)]
            value = hypervolume(front, ref_point)
        curve[t] = value
    return curve


def _dominated_or_equal(row: np.ndarray, front: np.ndarray) -> bool:
    return bool(len(front)) and bool((front >= row).all(axis=1).any())


def nadir_reference(front: np.ndarray) -> np.ndarray:
    """The nadir of a Pareto front (its worst value in every objective).

    Args:
        front: ``(k, m)`` Pareto-optimal values, larger is better.

    Returns:
        ``(m,)`` the component-wise minimum: a tight reference point.
    """
    front = _matrix(front, "front")
    if len(front) == 0:
        raise InvalidInputError("the front is empty; evaluate at least one architecture")
    return front.min(axis=0)
