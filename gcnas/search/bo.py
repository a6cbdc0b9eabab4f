"""Bayesian optimisation with BoTorch over a discrete candidate set of architectures.

Each step fits a GP (:mod:`gcnas.search.surrogate`) on the features of the evaluated
architectures, pre-screens every unevaluated candidate with a cheap closed-form score
from one batched posterior (analytic log-EI for one objective; the hypervolume
improvement of the optimistic ``mean + std`` point for several; times the probability
of meeting the constraints), and then scores the best ``prescreen`` of them with the
real acquisition — qLogNEI for one objective, qLogNEHVI for several, both with
constraints — evaluated in one batch without autograd. ``q > 1`` picks greedily,
conditioning on the pending points. The first ``n_init`` proposals are random.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Observations, Searcher, register_searcher
from gcnas.search.features import FeatureMap, make_features
from gcnas.search.pareto import pareto_mask
from gcnas.search.surrogate import copula_warp, fit_gp, hvi_2d, log_ei, posterior_stats
from gcnas.space import Arch, Space

__all__ = ["BayesianOptimization"]


@register_searcher("bo")
class BayesianOptimization(Searcher):
    """GP-based BO (qLogNEI / qLogNEHVI) over arch2vec, one-hot or custom features.

    Args:
        features: ``"onehot"``, ``"arch2vec"`` (from ``store``), an ``.npz`` cache, or a
            callable ``archs -> (n, d)`` (e.g. ``EmbeddingFeatures``).
        n_init: Random proposals before the first model.
        prescreen: Candidates scored by the full acquisition each step.
        mc_samples: Quasi-Monte-Carlo samples of the acquisition.
        refit_every: Fit hyper-parameters when the number of observations is a multiple
            of this (otherwise reuse the last fit); 1 fits every step.
        warp: Warp objectives to normal scores by rank before modelling.
        baseline_layers: With several objectives, qLogNEHVI's baseline is the observed points
            in this many non-dominated layers (the rest cannot reach the front).
        store: Run store holding the ``arch2vec`` embeddings (for ``features="arch2vec"``).
        space: Search space.
        candidates: Architectures the search may propose (default: the whole space).

    Example:
        >>> bo = BayesianOptimization(features="onehot", n_init=10)
        >>> result = run_search(bo, [TableObjective("valid_acc", table=table)], budget=50, seed=0)
    """

    def __init__(self, features: str | FeatureMap = "onehot", *, n_init: int = 10, prescreen: int = 256,
                 mc_samples: int = 128, refit_every: int = 5, warp: bool = True, baseline_layers: int = 3,
                 store: Any = None,
                 space: Space | None = None, candidates: Sequence[Arch] | None = None) -> None:
        super().__init__(space=space, candidates=candidates)
        self.features = features
        self.n_init = n_init
        self.prescreen = prescreen
        self.mc_samples = mc_samples
        self.refit_every = refit_every
        self.warp = warp
        self.baseline_layers = baseline_layers
        self.store = store
        for name, value, least in (("n_init", n_init, 1), ("prescreen", prescreen, 1),
                                   ("mc_samples", mc_samples, 1), ("refit_every", refit_every, 1)):
            if not isinstance(value, int) or value < least:
                raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")

    def prepare(self, candidates: Sequence[Arch]) -> None:
        super().prepare(candidates)
        feature_map = make_features(self.features, store=self.store)
        F = np.asarray(feature_map(self.candidates_), dtype=np.float64)
        if F.ndim != 2 or len(F) != len(self.candidates_) or not np.isfinite(F).all():
            raise InvalidInputError(f"features must give a finite (n, d) array, got shape {F.shape}")
        low, span = F.min(axis=0), np.ptp(F, axis=0)
        span[span == 0] = 1.0
        self.X_ = torch.as_tensor((F - low) / span, dtype=torch.float64)
        self.state_: dict[str, Any] | None = None
        self.last_timing_: dict[str, float] = {}

    # -- one step -------------------------------------------------------------------------

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        ok = np.flatnonzero(obs.ok)
        if len(obs) < self.n_init or len(ok) < 2:
            return self.random(n, rng, free)
        rows = np.array([self._index.get(obs.archs[i].code, -1) for i in ok])
        known = rows >= 0
        ok, rows = ok[known], rows[known]
        X = self.X_[rows]
        m = obs.Y.shape[1]
        Y = np.column_stack([copula_warp(col) if self.warp else _standard(col) for col in obs.Y[ok].T])
        S = obs.slack[ok]
        if S.shape[1]:
            S = S / np.where(S.std(axis=0) > 0, S.std(axis=0), 1.0)
        train_Y = torch.as_tensor(np.column_stack([Y, S]), dtype=torch.float64)
        refit = self.state_ is None or len(ok) % self.refit_every == 0
        began = time.perf_counter()
        model, state = fit_gp(X, train_Y, self.state_, refit=refit)
        self.state_ = state
        fitted = time.perf_counter()
        torch.manual_seed(int(rng.integers(2**31)))
        mean, std = posterior_stats(model, self.X_[free])
        feasible = obs.feasible[ok]
        screen = self._screen(mean, std, Y, feasible, m, train_Y.shape[1] - m)
        top = free[screen[: self.prescreen]]
        screened = time.perf_counter()
        acq = self._acquisition(model, X, Y, feasible, m, train_Y.shape[1] - m)
        chosen = _greedy(acq, self.X_[top], n)
        self.last_timing_ = {"fit_s": fitted - began, "refit": refit, "screen_s": screened - fitted,
                             "acquisition_s": time.perf_counter() - screened}
        return [self.candidates_[top[i]] for i in chosen]

    def _screen(self, mean: torch.Tensor, std: torch.Tensor, Y: np.ndarray, feasible: np.ndarray,
                m: int, k: int) -> np.ndarray:
        """Candidate order (best first) by the cheap closed-form score."""
        mu, sd = mean.numpy(), std.numpy()
        log_pf = np.zeros(len(mu))
        if k:
            from scipy.stats import norm

            log_pf = norm.logcdf(-mu[:, m:] / sd[:, m:]).sum(axis=1)
        if m == 1:
            best = float(Y[feasible, 0].max()) if feasible.any() else float(Y[:, 0].min())
            score = log_ei(mean[:, 0], std[:, 0], best).numpy() + log_pf
        else:
            front = Y[feasible][pareto_mask(Y[feasible])] if feasible.any() else np.zeros((0, m))
            ref = _reference(Y)
            optimistic = mu[:, :m] + sd[:, :m]
            if m == 2:
                score = np.log(hvi_2d(optimistic, front, ref) + 1e-12) + log_pf
            else:
                score = _chebyshev_score(optimistic, ref) + log_pf
        return np.argsort(-score, kind="stable")

    def _acquisition(self, model, X: torch.Tensor, Y: np.ndarray, feasible: np.ndarray, m: int, k: int):
        from botorch.sampling import SobolQMCNormalSampler

        sampler = SobolQMCNormalSampler(torch.Size([self.mc_samples]))
        constraints = [(lambda Z, j=j: Z[..., m + j]) for j in range(k)] or None
        if m == 1:
            from botorch.acquisition.logei import qLogNoisyExpectedImprovement
            from botorch.acquisition.objective import GenericMCObjective

            objective = GenericMCObjective(lambda Z, X=None: Z[..., 0]) if k else None
            return qLogNoisyExpectedImprovement(model, X_baseline=X, sampler=sampler, objective=objective,
                                                constraints=constraints, prune_baseline=True, cache_root=False)
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective

        near = _near_front(Y, feasible, self.baseline_layers)
        return qLogNoisyExpectedHypervolumeImprovement(
            model, ref_point=torch.as_tensor(_reference(Y)), X_baseline=X[near], sampler=sampler,
            objective=IdentityMCMultiOutputObjective(outcomes=list(range(m))), constraints=constraints,
            prune_baseline=True, cache_root=False)


def _greedy(acq, choices: torch.Tensor, q: int, batch: int = 512) -> list[int]:
    """Sequential greedy maximisation of ``acq`` over the rows of ``choices``."""
    chosen: list[int] = []
    for _ in range(q):
        with torch.no_grad():
            values = torch.cat([acq(choices[s:s + batch].unsqueeze(1)) for s in range(0, len(choices), batch)])
        if chosen:
            values[chosen] = -torch.inf
        best = int(torch.argmax(values))
        chosen.append(best)
        if len(chosen) < q:
            acq.set_X_pending(choices[chosen])
    return chosen


def _reference(Y: np.ndarray) -> np.ndarray:
    """The acquisition's reference point: just below the worst observed value."""
    low, high = Y.min(axis=0), Y.max(axis=0)
    return low - 0.1 * np.where(high > low, high - low, 1.0)


def _near_front(Y: np.ndarray, feasible: np.ndarray, layers: int) -> np.ndarray:
    """Rows in the first ``layers`` non-dominated layers (feasible rows first): the baseline
    that can still be on the front once the observation noise is accounted for."""
    pool = np.flatnonzero(feasible) if feasible.any() else np.arange(len(Y))
    keep, left = [], pool
    for _ in range(layers):
        if not len(left):
            break
        front = pareto_mask(Y[left])
        keep.extend(left[front].tolist())
        left = left[~front]
    return np.array(sorted(keep))


def _chebyshev_score(U: np.ndarray, ref: np.ndarray, num_weights: int = 32) -> np.ndarray:
    """Best percentile of each row over random Chebyshev scalarisations (for 3+ objectives)."""
    rng = np.random.default_rng(0)
    W = rng.dirichlet(np.ones(U.shape[1]), size=num_weights)
    span = np.where(np.ptp(U, axis=0) > 0, np.ptp(U, axis=0), 1.0)
    scaled = (U - ref) / span
    values = (scaled[None, :, :] * W[:, None, :]).min(axis=2)
    ranks = values.argsort(axis=1).argsort(axis=1) / max(len(U) - 1, 1)
    return np.log(ranks.max(axis=0) + 1e-9)


def _standard(y: np.ndarray) -> np.ndarray:
    return (y - y.mean()) / (y.std() or 1.0)
