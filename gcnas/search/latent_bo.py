"""Bayesian optimisation in an encoder's continuous latent space, for spaces too large to list.

:class:`~gcnas.search.BayesianOptimization` scores every unevaluated architecture of an
enumerable space. When the space cannot be enumerated (the DARTS cell space has ~10^18
cells), :class:`LatentSpaceBO` works in the encoder's latent space instead: each step it
fits the GP on the latent vectors of the evaluated architectures, maximises the same
acquisition (qLogNEI, or qLogNEHVI for several objectives) over a box that holds the
space's latents with BoTorch's ``optimize_acqf``, and decodes the optimum to a cell
(:meth:`Arch2Vec.decode`: the decision decoder names every decision of the space, valid by
construction, and a short local search moves to the cell whose embedding is nearest the
point; an embedding of a cell decodes back to that cell). When that cell has been
evaluated already, the next-best latent points of the raw-sample ranking are decoded in
turn, and a random unevaluated cell is the last resort, so no evaluation is repeated.
Cells are told apart by ``space.key``; nothing here depends on one space.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import torch

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Observations, Searcher, register_searcher
from gcnas.search.bo import modelled_acquisition, scaled_slack, warp_objectives
from gcnas.search.surrogate import fit_gp
from gcnas.spaces import SearchSpace, resolve_space

__all__ = ["LatentSpaceBO"]


@register_searcher("latent-bo")
class LatentSpaceBO(Searcher):
    """BO over latent vectors, decoding proposals to valid cells (no enumeration).

    Args:
        encoder: A fitted encoder with ``encode(archs) -> (n, d)`` and
            ``decode(z) -> list`` of cells (a pretrained :class:`~gcnas.encoders.Arch2Vec`).
        n_init: Random architectures before the first model.
        raw_samples: Sobol points of the latent box scored to start the optimiser (and
            the ranking decoded when the optimum decodes to an evaluated cell).
        num_restarts: Starting points of the gradient-based acquisition optimiser.
        mc_samples: Quasi-Monte-Carlo samples of the acquisition.
        refit_every: Fit hyper-parameters when the number of observations is a multiple
            of this.
        warp: Warp objectives to normal scores by rank before modelling.
        reference_size: Random architectures whose latents set the search box.
        margin: Share of each latent dimension's range added on both sides of the box.
        space: The search space (its ``sample`` and ``key``); default the encoder's
            (``encoder.space_``, set on a fitted :class:`~gcnas.encoders.Arch2Vec`).

    Example:
        >>> bo = LatentSpaceBO(load_pretrained(store), n_init=10)
        >>> result = run_search(bo, [acc], budget=50, seed=0)
    """

    enumerates = False

    def __init__(self, encoder: Any, *, n_init: int = 10, raw_samples: int = 512, num_restarts: int = 4,
                 mc_samples: int = 64, refit_every: int = 5, warp: bool = True, reference_size: int = 1024,
                 margin: float = 0.1, space: SearchSpace[Any] | str | None = None) -> None:
        super().__init__(space=space)
        if not (callable(getattr(encoder, "encode", None)) and callable(getattr(encoder, "decode", None))):
            raise InvalidInputError(f"LatentSpaceBO needs a fitted encoder with encode() and decode() "
                                    f"(e.g. Arch2Vec), got {encoder!r}")
        for name, value, least in (("n_init", n_init, 1), ("raw_samples", raw_samples, 1),
                                   ("num_restarts", num_restarts, 1), ("mc_samples", mc_samples, 1),
                                   ("refit_every", refit_every, 1), ("reference_size", reference_size, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")
        if not 0 <= margin <= 10:
            raise InvalidInputError(f"margin must be in [0, 10], got {margin!r}")
        self.encoder = encoder
        self.n_init = n_init
        self.raw_samples = raw_samples
        self.num_restarts = num_restarts
        self.mc_samples = mc_samples
        self.refit_every = refit_every
        self.warp = warp
        self.reference_size = reference_size
        self.margin = margin

    def prepare(self, candidates: Sequence[Any] | None = None, known: np.ndarray | None = None) -> None:
        super().prepare([], None)
        space = self.space if self.space is not None else getattr(self.encoder, "space_", None)
        if space is None:
            raise InvalidInputError("LatentSpaceBO needs to know the search space: pass space=, or an encoder "
                                    "that carries it (a fitted Arch2Vec has space_)")
        self.space_ = resolve_space(space)
        rng = np.random.default_rng(0)
        reference = [self.space_.sample(rng) for _ in range(self.reference_size)]
        Z = np.asarray(self.encoder.encode(reference), dtype=np.float64)
        low, high = Z.min(axis=0), Z.max(axis=0)
        pad = self.margin * np.where(high > low, high - low, 1.0)
        self.low_, self.span_ = low - pad, (high - low) + 2 * pad
        self.latents_: dict[str, np.ndarray] = {}  # by space.format: the exact cell, not its class
        self.state_: dict[str, Any] | None = None
        self.fit_failed_ = False
        self.last_timing_: dict[str, Any] = {}

    def ask(self, obs: Observations, n: int, rng: np.random.Generator) -> list[Any]:
        self.notes_ = {}
        if not hasattr(self, "space_"):
            self.prepare()
        ok = np.flatnonzero(obs.ok)
        taken = {self.space_.key(a) for a in [*obs.archs, *obs.pending]}
        if len(obs) + len(obs.pending) < self.n_init or len(ok) < 2:
            return self._fresh(taken, n, rng)
        began = time.perf_counter()
        X = torch.as_tensor(self._unit(self._latents([obs.archs[i] for i in ok])))
        m = obs.Y.shape[1]
        Y = warp_objectives(obs.Y[ok], self.warp)
        S = scaled_slack(obs.slack[ok])
        train_Y = torch.as_tensor(np.column_stack([Y, S]), dtype=torch.float64)
        refit = self.state_ is None or self.fit_failed_ or len(ok) % self.refit_every == 0
        model, self.state_ = fit_gp(X, train_Y, self.state_, refit=refit)
        self.fit_failed_ = model.fit_error is not None
        if self.fit_failed_:  # the search goes on; the failure is recorded on this step's trials
            self.note("gp_fit_error", model.fit_error)
        fitted = time.perf_counter()
        torch.manual_seed(int(rng.integers(2**31)))
        acq = modelled_acquisition(model, X, Y, obs.feasible[ok], m, train_Y.shape[1] - m,
                                   mc_samples=self.mc_samples)
        chosen = []
        if obs.pending:  # cells a parallel run is evaluating: the acquisition integrates over them
            acq.set_X_pending(torch.as_tensor(self._unit(self._latents(obs.pending))))
        for _ in range(n):
            arch = self._propose(acq, taken, rng)
            taken.add(self.space_.key(arch))
            chosen.append(arch)
            if len(chosen) < n:
                acq.set_X_pending(torch.as_tensor(self._unit(self._latents([*obs.pending, *chosen]))))
        self.last_timing_ = {"fit_s": fitted - began, "refit": refit,
                             "acquisition_s": time.perf_counter() - fitted}
        return chosen

    def _propose(self, acq, taken: set[str], rng: np.random.Generator) -> Any:
        from botorch.optim import optimize_acqf
        from torch.quasirandom import SobolEngine

        d = len(self.low_)
        bounds = torch.stack([torch.zeros(d), torch.ones(d)]).to(torch.float64)
        best, _ = optimize_acqf(acq, bounds=bounds, q=1, num_restarts=self.num_restarts,
                                raw_samples=self.raw_samples, options={"maxiter": 50, "seed": int(rng.integers(2**31))})
        raw = SobolEngine(d, scramble=True, seed=int(rng.integers(2**31))).draw(self.raw_samples).to(torch.float64)
        with torch.no_grad():
            scores = acq(raw.unsqueeze(1))
        ranked = torch.cat([best.detach(), raw[torch.argsort(scores, descending=True)]])
        # The optimum alone first (decoding runs a local search per point), then the ranking in chunks.
        for start, stop in [(0, 1), *((b, b + 16) for b in range(1, len(ranked), 16))]:
            for arch in self.encoder.decode(self._latent(ranked[start:stop].numpy())):
                if self.space_.key(arch) not in taken:
                    return arch
        return self._fresh(taken, 1, rng)[0]

    def _fresh(self, taken: set[str], n: int, rng: np.random.Generator) -> list[Any]:
        """``n`` random architectures not evaluated yet (told apart by ``space.key``)."""
        out: list[Any] = []
        taken = set(taken)
        for _ in range(100 * n):
            arch = self.space_.sample(rng)
            key = self.space_.key(arch)
            if key not in taken:
                out.append(arch)
                taken.add(key)
                if len(out) == n:
                    break
        return out

    def _latents(self, archs: Sequence[Any]) -> np.ndarray:
        texts = [self.space_.format(a) for a in archs]
        missing = {t: a for t, a in zip(texts, archs) if t not in self.latents_}
        if missing:
            vectors = np.asarray(self.encoder.encode(list(missing.values())), dtype=np.float64)
            self.latents_.update(zip(missing, vectors))
        return np.stack([self.latents_[t] for t in texts])

    def _unit(self, Z: np.ndarray) -> np.ndarray:
        return np.clip((Z - self.low_) / self.span_, 0.0, 1.0)

    def _latent(self, U: np.ndarray) -> np.ndarray:
        return self.low_ + U * self.span_
