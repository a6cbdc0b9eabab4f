"""Bayesian optimisation with BoTorch over a discrete candidate set of architectures.

Features are taken of each candidate's canonical cell (``canonical=True``), so
isomorphic cells -- the same function -- share a feature vector: the GP models each
function once, and the spread between such replicates is noise it learns per group
(:func:`~gcnas.search.surrogate.replicate_noise`). Candidates are scored once per
distinct feature vector.

Acquisitions (``acquisition="auto"`` picks the first that applies):

* one objective: **qLogNEI** (with constraints). A cheap closed-form pre-screen
  (analytic log-EI from one batched posterior, times the probability of meeting the
  constraints) keeps the best ``prescreen`` feature vectors, on which qLogNEI is
  evaluated in one batch without autograd; ``q > 1`` picks greedily with pending points.
* several objectives of which only one must be evaluated, the others cheap (known for
  every candidate: latency tables, FLOPs, energy models): the **probability of being
  Pareto-optimal** (:mod:`gcnas.search.pareto_probability`) -- the costs are used
  exactly, not modelled.
* several objectives to evaluate: **qLogNEHVI** (with constraints), pre-screened by the
  exact 2-D hypervolume improvement of the optimistic point (random Chebyshev
  scalarisations for more objectives).

The first ``n_init`` proposals are random.

In a parallel run (:func:`~gcnas.search.run_search` with an executor) the cells still
being evaluated (``Observations.pending``) are BoTorch's ``X_pending`` of qLogNEI and
qLogNEHVI: the acquisition integrates over their unknown outcomes, so a proposal does not
duplicate what a busy worker is already finding out. The Pareto probability has no such
term; it keeps off the pending cells' feature groups instead.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Sequence

import numpy as np
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Observations, Searcher, register_searcher
from gcnas.search.features import FeatureMap, make_features
from gcnas.search.pareto import pareto_mask
from gcnas.search.pareto_probability import cost_dominance_max, level_of_observed, membership_probability
from gcnas.search.surrogate import (copula_warp, fit_gp, hvi_2d, log_ei, posterior_stats, replicate_gp,
                                    replicate_noise)
from gcnas.spaces.nb201 import Arch, NB201Space, Space

__all__ = ["BayesianOptimization", "ACQUISITIONS", "modelled_acquisition", "warp_objectives", "scaled_slack"]

ACQUISITIONS = ("auto", "qlognei", "qlognehvi", "pareto")
"""Accepted values of ``BayesianOptimization(acquisition=...)``."""


@register_searcher("bo")
class BayesianOptimization(Searcher):
    """GP-based BO over arch2vec, one-hot, graph-statistics or custom features.

    Args:
        features: ``"onehot"``, ``"arch2vec"`` (from ``store``), ``"stats"``, several
            joined with ``+`` (``"arch2vec+stats"``), an ``.npz`` cache, or a callable
            ``archs -> (n, d)`` (e.g. ``EmbeddingFeatures``).
        canonical: Take features of each candidate's canonical (isomorphism-class)
            cell, so replicates of one function share them.
        acquisition: ``"auto"``, ``"qlognei"`` (one objective), ``"qlognehvi"``
            (several, all modelled, even cheap ones) or ``"pareto"`` (several, the
            cheap ones known; see the module doc).
        n_init: Random proposals before the first model.
        prescreen: Feature vectors scored by qLogNEI / qLogNEHVI each step.
        mc_samples: Quasi-Monte-Carlo samples of qLogNEI / qLogNEHVI.
        pareto_samples: Joint posterior samples of the Pareto-probability acquisition.
        pool_size: Candidates (the most likely to beat the observed front) whose joint
            posterior the Pareto-probability acquisition samples.
        refit_every: Fit hyper-parameters when the number of observations is a multiple
            of this (otherwise reuse the last fit); 1 fits every step.
        warp: Warp objectives to normal scores by rank before modelling.
        replicate_prior: Shrinkage of each group's replicate noise towards the GP's
            noise, in observations (see :func:`~gcnas.search.surrogate.replicate_noise`).
        baseline_layers: qLogNEHVI's baseline is the observed points in this many
            non-dominated layers (the rest cannot reach the front).
        store: Run store holding the ``arch2vec`` embeddings (for ``features="arch2vec"``).
        space: Search space (its ``canonical``).
        candidates: Architectures the search may propose (default: the whole space).

    Example:
        >>> bo = BayesianOptimization(features="arch2vec+stats", store=store, n_init=10)
        >>> result = run_search(bo, [TableObjective("valid_acc", table=table)], budget=50, seed=0)
    """

    def __init__(self, features: str | FeatureMap = "onehot", *, canonical: bool = True, acquisition: str = "auto",
                 n_init: int = 10, prescreen: int = 256, mc_samples: int = 128, pareto_samples: int = 128,
                 pool_size: int = 1024, refit_every: int = 5, warp: bool = True, replicate_prior: float = 2.0,
                 baseline_layers: int = 3, store: Any = None,
                 space: Space | None = None, candidates: Sequence[Arch] | None = None) -> None:
        super().__init__(space=space, candidates=candidates)
        self.features = features
        self.canonical = canonical
        self.acquisition = acquisition
        self.n_init = n_init
        self.prescreen = prescreen
        self.mc_samples = mc_samples
        self.pareto_samples = pareto_samples
        self.pool_size = pool_size
        self.refit_every = refit_every
        self.warp = warp
        self.replicate_prior = replicate_prior
        self.baseline_layers = baseline_layers
        self.store = store
        for name, value, least in (("n_init", n_init, 1), ("prescreen", prescreen, 1),
                                   ("mc_samples", mc_samples, 1), ("pareto_samples", pareto_samples, 1),
                                   ("pool_size", pool_size, 1), ("refit_every", refit_every, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")
        if acquisition not in ACQUISITIONS:
            raise InvalidInputError(f"unknown acquisition {acquisition!r}; choose one of {', '.join(ACQUISITIONS)}")
        if not float(replicate_prior) >= 0:
            raise InvalidInputError(f"replicate_prior must be >= 0, got {replicate_prior!r}")

    def prepare(self, candidates: Sequence[Arch], known: np.ndarray | None = None) -> None:
        super().prepare(candidates, known)
        feature_map = make_features(self.features, store=self.store)
        space = self.space or NB201Space()
        seen = [space.canonical(a) for a in self.candidates_] if self.canonical else self.candidates_
        F = np.asarray(feature_map(seen), dtype=np.float64)
        if F.ndim != 2 or len(F) != len(self.candidates_) or not np.isfinite(F).all():
            raise InvalidInputError(f"features must give a finite (n, d) array, got shape {F.shape}")
        low, span = F.min(axis=0), np.ptp(F, axis=0)
        span[span == 0] = 1.0
        F = (F - low) / span
        unique, group = np.unique(F, axis=0, return_inverse=True)
        self.group_ = group.reshape(-1)
        self.G_ = torch.as_tensor(unique, dtype=torch.float64)
        self.X_ = self.G_[self.group_]
        self.state_: dict[str, Any] | None = None
        self.constraint_state_: dict[str, Any] | None = None
        self.fit_failed_ = False
        self.last_timing_: dict[str, Any] = {}

    # -- one step -------------------------------------------------------------------------

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        ok = np.flatnonzero(obs.ok)
        if len(obs) + len(obs.pending) < self.n_init or len(ok) < 2:
            return self.random(n, rng, free)
        rows = np.array([self._index.get(obs.archs[i].code, -1) for i in ok])
        known = rows >= 0
        ok, rows = ok[known], rows[known]
        if len(ok) < 2:
            return self.random(n, rng, free)
        expensive, cheap = self._split_objectives(obs.Y.shape[1])
        mode = self._mode(obs.Y.shape[1], expensive, cheap)
        pending = np.array([self._index[a.code] for a in obs.pending if a.code in self._index], dtype=np.int64)
        if mode == "pareto" and len(pending):
            # The Pareto probability has no notion of pending points: keep off the feature
            # groups being evaluated (their free members look the same to the model).
            away = free[~np.isin(self.group_[free], self.group_[pending])]
            free = away if len(away) else free
        refit = self.state_ is None or self.fit_failed_ or len(ok) % self.refit_every == 0
        self.fit_failed_ = False
        from linear_operator.utils.warnings import NumericalWarning  # after gcnas.search.pareto quieted its import

        torch.manual_seed(int(rng.integers(2**31)))
        with warnings.catch_warnings():
            # Near-duplicate cells make the kernel matrix almost singular; the jitter GPyTorch
            # adds then is the intended remedy, not news for the user.
            warnings.simplefilter("ignore", NumericalWarning)
            if mode == "pareto":
                chosen = self._ask_pareto(obs, ok, rows, n, rng, free, expensive[0], cheap, refit)
            else:
                chosen = self._ask_modelled(obs, ok, rows, n, rng, free, refit, self.X_[pending])
        return [self.candidates_[i] for i in chosen]

    def _split_objectives(self, m: int) -> tuple[list[int], list[int]]:
        known = getattr(self, "known_", None)
        if known is None or known.shape[1] != m:
            return list(range(m)), []
        cheap = [j for j in range(m) if np.isfinite(known[:, j]).all()]
        return [j for j in range(m) if j not in cheap], cheap

    def _mode(self, m: int, expensive: list[int], cheap: list[int]) -> str:
        if self.acquisition == "pareto":
            if len(expensive) != 1 or not cheap:
                raise InvalidInputError(
                    "acquisition='pareto' needs exactly one objective to evaluate and at least one cheap one "
                    f"(known for every candidate); got {len(expensive)} to evaluate and {len(cheap)} cheap")
            return "pareto"
        if self.acquisition == "qlognei" and m != 1:
            raise InvalidInputError(f"acquisition='qlognei' is for one objective, got {m}; use qlognehvi or pareto")
        if self.acquisition == "auto" and m > 1 and len(expensive) == 1 and cheap:
            return "pareto"
        return "modelled"

    def _fit(self, X: torch.Tensor, Y: torch.Tensor, state: dict[str, Any] | None, refit: bool):
        """:func:`fit_gp`; a failed fit is noted on this step's trials and the next step refits."""
        model, state = fit_gp(X, Y, state, refit=refit)
        if model.fit_error is not None:
            self.note("gp_fit_error", model.fit_error)
            self.fit_failed_ = True
        return model, state

    def _member(self, groups: Sequence[int], free: np.ndarray, rng: np.random.Generator) -> list[int]:
        """One unevaluated candidate of each chosen feature group (they look alike to the model)."""
        picks = []
        free_groups = self.group_[free]
        for g in groups:
            members = free[free_groups == g]
            picks.append(int(rng.choice(members)))
        return picks

    # -- all objectives modelled: qLogNEI / qLogNEHVI ---------------------------------------

    def _ask_modelled(self, obs: Observations, ok: np.ndarray, rows: np.ndarray, n: int,
                      rng: np.random.Generator, free: np.ndarray, refit: bool,
                      X_pending: torch.Tensor | None = None) -> list[int]:
        X = self.X_[rows]
        m = obs.Y.shape[1]
        Y = warp_objectives(obs.Y[ok], self.warp)
        S = scaled_slack(obs.slack[ok])
        train_Y = torch.as_tensor(np.column_stack([Y, S]), dtype=torch.float64)
        began = time.perf_counter()
        model, self.state_ = self._fit(X, train_Y, self.state_, refit)
        fitted = time.perf_counter()
        free_groups = np.unique(self.group_[free])
        mean, std = posterior_stats(model, self.G_[free_groups])
        feasible = obs.feasible[ok]
        screen = self._screen(mean, std, Y, feasible, m, train_Y.shape[1] - m)
        top = free_groups[screen[: self.prescreen]]
        screened = time.perf_counter()
        acq = self._acquisition(model, X, Y, feasible, m, train_Y.shape[1] - m)
        chosen = _greedy(acq, self.G_[top], min(n, len(top)), X_pending=X_pending)
        self.last_timing_ = {"fit_s": fitted - began, "refit": refit, "screen_s": screened - fitted,
                             "acquisition_s": time.perf_counter() - screened}
        return self._member(top[chosen], free, rng)

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
        return modelled_acquisition(model, X, Y, feasible, m, k, mc_samples=self.mc_samples,
                                    baseline_layers=self.baseline_layers)

    # -- one objective to evaluate, the others known: Pareto probability --------------------

    def _ask_pareto(self, obs: Observations, ok: np.ndarray, rows: np.ndarray, n: int, rng: np.random.Generator,
                    free: np.ndarray, target: int, cheap: list[int], refit: bool) -> list[int]:
        from scipy.stats import norm

        began = time.perf_counter()
        raw = obs.Y[ok, target]
        w = warp_objectives(raw[:, None], self.warp)[:, 0]
        X = self.X_[rows]
        model, self.state_ = self._fit(X, torch.as_tensor(w).unsqueeze(-1), self.state_, refit)
        noise = float(model.likelihood.noise.detach().reshape(-1)[0])
        free_groups, inverse = np.unique(self.group_[free], return_inverse=True)
        p_feasible = np.ones(len(free))
        slack = obs.slack[ok]
        if slack.shape[1]:
            scaled = scaled_slack(slack)
            constraint_model, self.constraint_state_ = self._fit(X, torch.as_tensor(scaled), self.constraint_state_,
                                                                 refit)
            mu_c, sd_c = posterior_stats(constraint_model, self.G_[free_groups])
            p_feasible = np.exp(norm.logcdf(-mu_c.numpy() / sd_c.numpy()).sum(axis=1))[inverse]
        replicates = replicate_noise(self.group_[rows], w, raw, noise, self.replicate_prior)
        function = replicate_gp(self.G_[replicates.groups], replicates, self.state_)
        fitted = time.perf_counter()

        mu_g, sd_g = posterior_stats(function, self.G_[free_groups])
        _, group_mean, tau2, deterministic = replicates.lookup(self.group_[free])
        mu = np.where(deterministic, group_mean, mu_g[:, 0].numpy()[inverse])
        sd = np.where(deterministic, 0.0, np.sqrt(sd_g[:, 0].numpy()[inverse] ** 2 + tau2))
        costs = self.known_[:, cheap]
        feasible = obs.feasible[ok]
        level = level_of_observed(costs[free], costs[rows[feasible]], w[feasible])
        with np.errstate(divide="ignore", invalid="ignore"):
            beat = np.where(sd > 0, norm.sf((level - mu) / np.where(sd > 0, sd, 1.0)), (mu > level).astype(float))
        beat = beat * p_feasible
        pool = np.argsort(-beat, kind="stable")[: self.pool_size]                          # into free
        screened = time.perf_counter()

        pool_groups, pool_inverse = np.unique(self.group_[free[pool]], return_inverse=True)
        with torch.no_grad():
            draws = function.posterior(self.G_[pool_groups]).rsample(torch.Size([self.pareto_samples]))
        f = draws[..., 0].numpy()[:, pool_inverse]
        f = np.where(deterministic[pool], group_mean[pool], f)
        tau = np.where(deterministic[pool], 0.0, np.sqrt(tau2[pool]))
        sampled = f + tau * np.random.default_rng(int(rng.integers(2**31))).standard_normal(f.shape)
        observed = rows[feasible]
        values = np.concatenate([sampled, np.repeat(w[feasible][None, :], len(f), axis=0)], axis=1)
        rival = cost_dominance_max(np.concatenate([costs[free[pool]], costs[observed]]), values, len(pool))
        probability = membership_probability(f, tau, rival) * p_feasible[pool]
        order = np.lexsort((-beat[pool], -probability))
        self.last_timing_ = {"fit_s": fitted - began, "refit": refit, "screen_s": screened - fitted,
                             "acquisition_s": time.perf_counter() - screened,
                             "pareto_probability": float(probability[order[0]])}
        return [int(free[pool[i]]) for i in order[:n]]


def modelled_acquisition(model, X: torch.Tensor, Y: np.ndarray, feasible: np.ndarray, m: int, k: int, *,
                         mc_samples: int = 128, baseline_layers: int = 3):
    """qLogNEI (``m == 1``) or qLogNEHVI (``m > 1``) with ``k`` outcome constraints.

    Args:
        model: GP over ``m`` objectives then ``k`` constraint slacks (``<= 0`` feasible).
        X: ``(n, d)`` observed inputs (the noisy baseline).
        Y: ``(n, m)`` observed (warped) objectives, larger is better.
        feasible: ``(n,)`` observations meeting every constraint.
        m: Number of objectives.
        k: Number of constraints.
        mc_samples: Quasi-Monte-Carlo samples.
        baseline_layers: qLogNEHVI's baseline: this many non-dominated layers.

    Returns:
        The BoTorch acquisition function.
    """
    from botorch.sampling import SobolQMCNormalSampler

    sampler = SobolQMCNormalSampler(torch.Size([mc_samples]))
    constraints = [(lambda Z, j=j: Z[..., m + j]) for j in range(k)] or None
    if m == 1:
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.acquisition.objective import GenericMCObjective

        objective = GenericMCObjective(lambda Z, X=None: Z[..., 0]) if k else None
        return qLogNoisyExpectedImprovement(model, X_baseline=X, sampler=sampler, objective=objective,
                                            constraints=constraints, prune_baseline=True, cache_root=False)
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective

    near = _near_front(Y, feasible, baseline_layers)
    return qLogNoisyExpectedHypervolumeImprovement(
        model, ref_point=torch.as_tensor(_reference(Y)), X_baseline=X[near], sampler=sampler,
        objective=IdentityMCMultiOutputObjective(outcomes=list(range(m))), constraints=constraints,
        prune_baseline=True, cache_root=False)


def warp_objectives(Y: np.ndarray, warp: bool = True) -> np.ndarray:
    """Each column warped to normal scores by rank (or standardised when ``warp`` is False)."""
    return np.column_stack([copula_warp(col) if warp else _standard(col) for col in Y.T])


def scaled_slack(S: np.ndarray) -> np.ndarray:
    """Constraint slacks divided by their spread, so 0 stays the feasibility boundary."""
    return S / np.where(S.std(axis=0) > 0, S.std(axis=0), 1.0) if S.shape[1] else S


def _greedy(acq, choices: torch.Tensor, q: int, batch: int = 512, X_pending: torch.Tensor | None = None) -> list[int]:
    """Sequential greedy maximisation of ``acq`` over the rows of ``choices``.

    Args:
        acq: A BoTorch MC acquisition function.
        choices: ``(c, d)`` candidate inputs.
        q: How many to choose.
        batch: Rows scored per call.
        X_pending: ``(p, d)`` inputs being evaluated elsewhere (a parallel run's cells in
            flight); the acquisition integrates over their outcomes (``set_X_pending``).

    Returns:
        ``q`` distinct row indices into ``choices``.
    """
    pending = X_pending if X_pending is not None and len(X_pending) else None
    if pending is not None:
        acq.set_X_pending(pending)
    chosen: list[int] = []
    for _ in range(q):
        with torch.no_grad():
            values = torch.cat([acq(choices[s:s + batch].unsqueeze(1)) for s in range(0, len(choices), batch)])
        if chosen:
            values[chosen] = -torch.inf
        best = int(torch.argmax(values))
        chosen.append(best)
        if len(chosen) < q:
            picked = choices[chosen]
            acq.set_X_pending(picked if pending is None else torch.cat([pending, picked]))
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
