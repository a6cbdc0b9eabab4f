"""Probability that a candidate is Pareto-optimal, when every objective but one is known.

In hardware-aware NAS the costs of a cell (latency from a table or a predictor, FLOPs,
energy) are free to look up, and only its accuracy has to be earned by training. The
searcher then does not model the costs: it knows them exactly, and asks for each
unevaluated candidate ``x`` the probability that its accuracy beats every architecture
that is at least as cheap in every cost -- the probability that ``x`` belongs to the
true Pareto front of the whole space, not just to the front of what was observed.

Evaluating the candidate with the largest probability maximises the expected number of
true Pareto architectures found with the next query, which is what a user who wants "the
best network for each latency budget" asks for; the hypervolume follows.

The probability is estimated from joint posterior samples of the accuracy function over
a pool of plausible candidates (so that cheaper, still-unevaluated rivals compete with
each candidate), with each candidate's own replicate noise integrated out in closed form
(Rao-Blackwellised):

``P(x on front) ~= mean_s Phi((f_s(x) - M_s(x)) / tau_x)``, where ``M_s(x)`` is the best
value in sample ``s`` among the observed and pooled architectures that dominate ``x`` in
cost, and ``tau_x`` the replicate noise of ``x``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm

__all__ = ["cost_dominance_max", "level_of_observed", "membership_probability"]


def _cost_dominates(costs_by: np.ndarray, costs_of: np.ndarray) -> np.ndarray:
    """``(t, u)`` whether row ``j`` of ``costs_by`` is at least as good as row ``i`` of
    ``costs_of`` in every cost (larger is better)."""
    return (costs_by[None, :, :] >= costs_of[:, None, :]).all(axis=2)


def level_of_observed(costs: np.ndarray, observed_costs: np.ndarray, observed_values: np.ndarray,
                      chunk: int = 2048) -> np.ndarray:
    """The best observed value among the observations at least as cheap as each candidate.

    Args:
        costs: ``(n, c)`` known costs of the candidates (larger is better).
        observed_costs: ``(k, c)`` costs of the observations.
        observed_values: ``(k,)`` their values.

    Returns:
        ``(n,)`` the level a candidate must beat to join the observed front (``-inf``
        where no observation is as cheap).
    """
    costs, observed_costs = np.atleast_2d(costs), np.atleast_2d(observed_costs)
    if len(observed_values) == 0:
        return np.full(len(costs), -np.inf)
    if costs.shape[1] == 1:
        order = np.argsort(-observed_costs[:, 0], kind="stable")
        sorted_costs, best = observed_costs[order, 0], np.maximum.accumulate(observed_values[order])
        # observations with cost >= the candidate's are the first `count` of the sorted list
        count = np.searchsorted(-sorted_costs, -costs[:, 0], side="right")
        return np.where(count > 0, best[np.maximum(count - 1, 0)], -np.inf)
    out = np.empty(len(costs))
    for start in range(0, len(costs), chunk):
        block = _cost_dominates(observed_costs, costs[start:start + chunk])
        out[start:start + chunk] = np.where(block, observed_values[None, :], -np.inf).max(axis=1)
    return out


def cost_dominance_max(costs: np.ndarray, values: np.ndarray, targets: int, chunk: int = 128) -> np.ndarray:
    """For each of the first ``targets`` rows, the best value among the *other* rows that
    are at least as cheap in every cost, per sample.

    Args:
        costs: ``(u, c)`` known costs (larger is better).
        values: ``(S, u)`` sampled values.
        targets: How many leading rows need the answer.

    Returns:
        ``(S, targets)`` the per-sample maxima (``-inf`` where no rival is as cheap).
    """
    S, u = values.shape
    if costs.shape[1] == 1:
        return _sorted_dominance_max(costs[:, 0], values)[:, :targets]
    V = torch.as_tensor(values, dtype=torch.float32)
    C = torch.as_tensor(costs)
    out = torch.empty(S, targets, dtype=torch.float32)
    neg = torch.tensor(-torch.inf, dtype=torch.float32)
    for start in range(0, targets, chunk):
        stop = min(start + chunk, targets)
        mask = (C[None, :, :] >= C[start:stop, None, :]).all(dim=2)                       # (t, u)
        mask[torch.arange(stop - start), torch.arange(start, stop)] = False
        out[:, start:stop] = torch.where(mask[None], V[:, None, :], neg).amax(dim=2)
    return out.numpy().astype(np.float64)


def _sorted_dominance_max(cost: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One cost: a prefix maximum in cost order, ties in cost handled exactly."""
    S, u = values.shape
    order = np.argsort(-cost, kind="stable")
    sorted_cost = cost[order]
    V = values[:, order]
    starts = np.flatnonzero(np.r_[True, sorted_cost[1:] != sorted_cost[:-1]])
    lengths = np.diff(np.r_[starts, u])
    run = np.repeat(np.arange(len(starts)), lengths)
    run_max = np.maximum.reduceat(V, starts, axis=1)                                      # (S, runs)
    before = np.concatenate([np.full((S, 1), -np.inf), np.maximum.accumulate(run_max, axis=1)[:, :-1]], axis=1)
    result = before[:, run]
    for r in np.flatnonzero(lengths > 1):                                                # tied costs: rare
        members = np.arange(starts[r], starts[r] + lengths[r])
        block = V[:, members]
        for k, column in enumerate(members):
            others = np.delete(block, k, axis=1).max(axis=1)
            result[:, column] = np.maximum(result[:, column], others)
    out = np.empty_like(result)
    out[:, order] = result
    return out


def membership_probability(function_samples: np.ndarray, noise_sd: np.ndarray, rivals_max: np.ndarray) -> np.ndarray:
    """``P(f + noise > M)`` averaged over samples, for each candidate.

    Args:
        function_samples: ``(S, t)`` joint samples of the candidates' function values.
        noise_sd: ``(t,)`` replicate noise of each (0: deterministic).
        rivals_max: ``(S, t)`` best rival value per sample (:func:`cost_dominance_max`).

    Returns:
        ``(t,)`` probabilities.
    """
    gap = function_samples - rivals_max
    with np.errstate(divide="ignore", invalid="ignore"):
        smooth = norm.cdf(gap / np.where(noise_sd > 0, noise_sd, 1.0))
    return np.where(noise_sd > 0, smooth, gap > 0).mean(axis=0)
