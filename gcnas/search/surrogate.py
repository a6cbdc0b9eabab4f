"""The GP surrogate of Bayesian optimisation, and the cheap scores used to pre-screen.

One BoTorch ``SingleTaskGP`` models every outcome (objectives, then constraints) as
independent GPs batched together. Objectives are warped to normal scores by rank (a
Gaussian copula: monotone, so optima and Pareto sets are unchanged, and a 10%-accuracy
outlier no longer flattens the model near the top); constraints are only rescaled so
that 0 stays the feasibility boundary. Hyper-parameters can be reused between steps
(``state``), and posteriors over many candidates are computed in chunks without autograd.

Architectures with the same features (isomorphic cells, once features are taken of the
canonical cell) are *replicates* of one function: :func:`replicate_noise` estimates the
spread between them per group (shrunk towards the GP's noise; exactly equal values mean
a deterministic outcome, such as the chance accuracy of a cell whose output is zero),
and :func:`replicate_gp` models the function once per group with that noise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.special import ndtri
from scipy.stats import rankdata

from gcnas.exceptions import FitFailedWarning

__all__ = ["copula_warp", "fit_gp", "posterior_stats", "hvi_2d", "log_ei", "Replicates", "replicate_noise", "replicate_gp"]


def copula_warp(y: np.ndarray) -> np.ndarray:
    """Normal scores of ``y`` by rank (ties share a rank): ``Phi^-1((rank - 0.5) / n)``.

    Args:
        y: ``(n,)`` values.

    Returns:
        ``(n,)`` warped values, same order.
    """
    n = len(y)
    return ndtri((rankdata(y) - 0.5) / n)


def fit_gp(X: torch.Tensor, Y: torch.Tensor, state: dict[str, Any] | None = None, *, refit: bool = True,
           maxiter: int = 75):
    """A batched independent GP over ``(n, d)`` inputs in [0, 1] and ``(n, m)`` outcomes.

    A failed hyper-parameter fit is not an error (the search goes on), but it is never
    silent: the model keeps the previous fit's hyper-parameters (``state``) or, without
    one, its initial ones; a :class:`~gcnas.exceptions.FitFailedWarning` says so, and
    ``model.fit_error`` holds the reason, for the caller to record.

    Args:
        X: ``(n, d)`` double inputs (already scaled to the unit cube).
        Y: ``(n, m)`` double outcomes (already warped / scaled).
        state: Hyper-parameters of an earlier fit: reused as they are (``refit=False``)
            or as the starting point of the fit.
        refit: Fit the hyper-parameters (L-BFGS, at most ``maxiter`` iterations).
        maxiter: Iteration cap of the fit.

    Returns:
        ``(model, state)``: the GP in eval mode and its hyper-parameters. ``model.fit_error``
        is None, or the failure of the fit (``"ModelFittingError: ..."``).
    """
    from botorch.exceptions import InputDataWarning
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    with warnings.catch_warnings():
        # Y is standardised by the caller; BoTorch's check flags float-level deviations.
        warnings.simplefilter("ignore", InputDataWarning)
        model = SingleTaskGP(X, Y, outcome_transform=None)
    if state is not None:
        model.load_state_dict(state, strict=False)
    fit_error = None
    if refit or state is None:
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with warnings.catch_warnings():
            # BoTorch's optimisation warnings (the iteration cap above all) are expected here.
            warnings.simplefilter("ignore")
            try:
                fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": maxiter}})
            except Exception as error:  # noqa: BLE001 - warned about and recorded below, the search goes on
                fit_error = f"{type(error).__name__}: {error}"
        if fit_error is not None:
            if state is not None:
                model.load_state_dict(state, strict=False)
            kept = "the previous fit's hyper-parameters" if state is not None else "untrained (initial) hyper-parameters"
            warnings.warn(f"the GP hyper-parameter fit on {len(X)} points failed ({fit_error}); "
                          f"this step's model uses {kept}", FitFailedWarning, stacklevel=2)
        state = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.startswith("train")}
    model.eval()
    model.fit_error = fit_error
    return model, state


def posterior_stats(model, X: torch.Tensor, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and standard deviation at ``(N, d)`` points, ``(N, m)`` each.

    Only the marginal variances are computed (one Cholesky of the training covariance,
    one matrix product per chunk), never the ``N x N`` test covariance.
    """
    train_X = model.train_inputs[0]                       # (m, n, d) or (n, d)
    train_Y = model.train_targets                         # (m, n) or (n,)
    batched = train_Y.dim() == 2
    if not batched:
        train_Y = train_Y.unsqueeze(0)
    with torch.no_grad():
        K = model.covar_module(train_X).to_dense()
        K = K if batched else K.unsqueeze(0)
        K = K + _noise_matrix(model.likelihood.noise, K.shape[0], K.shape[-1], K.dtype)
        L = torch.linalg.cholesky(K + 1e-8 * torch.eye(K.shape[-1], dtype=K.dtype))
        mean0 = model.mean_module(train_X).reshape(train_Y.shape)
        alpha = torch.cholesky_solve((train_Y - mean0).unsqueeze(-1), L)        # (m, n, 1)
        eye = torch.eye(L.shape[-1], dtype=L.dtype).expand_as(L)
        L_inv_T = torch.linalg.solve_triangular(L, eye, upper=False).transpose(-1, -2)   # (m, n, n)
        means, stds = [], []
        for start in range(0, len(X), chunk):
            x = X[start:start + chunk]
            xb = x.expand(train_Y.shape[0], *x.shape) if batched else x
            Ks = model.covar_module(xb, train_X).to_dense()
            Ks = Ks if batched else Ks.unsqueeze(0)                               # (m, N, n)
            prior = model.covar_module(xb, diag=True)
            prior = prior if batched else prior.unsqueeze(0)                      # (m, N)
            mu = model.mean_module(xb).reshape(prior.shape) + (Ks @ alpha).squeeze(-1)
            V = Ks @ L_inv_T                                                       # (m, N, n)
            var = (prior - (V * V).sum(-1)).clamp_min(1e-12)
            means.append(mu.T)
            stds.append(var.sqrt().T)
    return torch.cat(means), torch.cat(stds)


def _noise_matrix(noise: torch.Tensor, m: int, n: int, dtype: torch.dtype) -> torch.Tensor:
    """``(m, n, n)`` diagonal observation noise: one level per outcome, or one per point
    (a fixed-noise GP, whose likelihood holds ``n`` values per outcome)."""
    noise = noise.to(dtype)
    if noise.numel() in (m * n, n) and n > 1:
        return torch.diag_embed(noise.reshape(-1, n).expand(m, n))
    return noise.reshape(-1, 1, 1).expand(m, 1, 1) * torch.eye(n, dtype=dtype)


_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_PI_2 = math.sqrt(math.pi / 2.0)


def log_ei(mean: torch.Tensor, std: torch.Tensor, best: float) -> torch.Tensor:
    """Analytic log expected improvement over ``best``, accurate far below it too.

    ``EI = std * h(z)`` with ``z = (mean - best) / std`` and ``h(z) = phi(z) + z Phi(z)``.
    For ``z >= -1`` ``h`` is computed as written; below, where that cancels, as
    ``phi(z) (1 - |z| Phi(z) / phi(z))`` with the Mills ratio
    ``Phi(z) / phi(z) = sqrt(pi / 2) erfcx(-z / sqrt(2))``, and beyond ``-1/sqrt(eps)``
    (where even that cancels) as its leading term ``phi(z) / z^2`` (the LogEI of
    Ament et al., 2023, as BoTorch computes it).

    Args:
        mean: ``(N,)`` posterior means.
        std: ``(N,)`` posterior standard deviations (> 0).
        best: The value to improve on.

    Returns:
        ``(N,)`` log expected improvement.
    """
    z = (mean - best) / std
    upper = z.clamp_min(-1.0)
    log_upper = torch.log(torch.exp(-0.5 * upper.square()) / _SQRT_2PI + upper * torch.special.ndtr(upper))
    tiny = -1e6 if z.dtype == torch.float64 else -1e3
    lower = z.clamp(tiny, -1.0)
    mills = _SQRT_PI_2 * torch.special.erfcx(-lower / _SQRT_2)
    log_phi = -0.5 * z.square() - math.log(_SQRT_2PI)
    log_lower = log_phi + torch.where(z < tiny, -2.0 * torch.log(-z), torch.log1p(lower * mills))
    return torch.where(z >= -1.0, log_upper, log_lower) + std.log()


def hvi_2d(points: np.ndarray, front: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Hypervolume improvement of each of ``(N, 2)`` points over a 2-D front, vectorised.

    Args:
        points: ``(N, 2)`` candidate values, larger is better.
        front: ``(k, 2)`` current front (any points; dominated ones add nothing).
        ref: ``(2,)`` reference point.

    Returns:
        ``(N,)`` the area each point alone would add.
    """
    p = np.maximum(points, ref)
    box = (p[:, 0] - ref[0]) * (p[:, 1] - ref[1])
    if len(front) == 0:
        return box
    order = np.argsort(-front[:, 0])
    fx, fy = front[order, 0], np.maximum.accumulate(front[order, 1])
    x = np.clip(np.minimum(fx[None, :], p[:, :1]) - ref[0], 0, None)
    y = np.maximum(np.minimum(fy[None, :], p[:, 1:]), ref[1])
    prev = np.concatenate([np.full((len(p), 1), ref[1]), y[:, :-1]], axis=1)
    covered = (x * np.clip(y - prev, 0, None)).sum(axis=1)
    return np.clip(box - covered, 0, None)


@dataclass
class Replicates:
    """Observations grouped by feature row (see :func:`replicate_noise`).

    Attributes:
        groups: ``(g,)`` group ids that have observations.
        counts: ``(g,)`` observations per group.
        means: ``(g,)`` mean (warped) value per group.
        noise: ``(g,)`` variance of one replicate around the group's function value.
        deterministic: ``(g,)`` groups whose replicates all gave the very same value.
        default_noise: Replicate variance assumed for groups not yet observed.
    """

    groups: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    noise: np.ndarray
    deterministic: np.ndarray
    default_noise: float

    def lookup(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(observed, mean, noise, deterministic)`` for each of ``groups``."""
        index = np.searchsorted(self.groups, groups)
        index = np.minimum(index, max(len(self.groups) - 1, 0))
        seen = (self.groups[index] == groups) if len(self.groups) else np.zeros(len(groups), dtype=bool)
        mean = np.where(seen, self.means[index] if len(self.groups) else 0.0, np.nan)
        noise = np.where(seen, self.noise[index] if len(self.groups) else 0.0, self.default_noise)
        det = seen & (self.deterministic[index] if len(self.groups) else False)
        return seen, mean, noise, det


def replicate_noise(groups: np.ndarray, warped: np.ndarray, raw: np.ndarray, noise: float,
                    prior: float = 2.0) -> Replicates:
    """Per-group replicate statistics of observations.

    The replicate variance of a group with ``k >= 2`` observations is the pooled
    estimate ``(SS + prior * noise) / (k - 1 + prior)`` (a conjugate prior worth
    ``prior`` observations at the GP's homoscedastic ``noise``); one observation gets
    ``noise``. When every replicate of a group has the same raw value, the outcome is
    deterministic and the variance is 0.

    Args:
        groups: ``(n,)`` group id of each observation.
        warped: ``(n,)`` the values the GP models.
        raw: ``(n,)`` the values as measured (exact ties are detected on these).
        noise: The GP's noise variance (in warped units).
        prior: Strength of the shrinkage towards ``noise``.

    Returns:
        The :class:`Replicates`.
    """
    ids, inverse = np.unique(np.asarray(groups), return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse)
    means = np.bincount(inverse, warped) / counts
    ss = np.bincount(inverse, (warped - means[inverse]) ** 2)
    low = np.full(len(ids), np.inf)
    high = np.full(len(ids), -np.inf)
    np.minimum.at(low, inverse, raw)
    np.maximum.at(high, inverse, raw)
    deterministic = (counts >= 2) & (high - low <= 1e-12 * np.maximum(1.0, np.abs(high)))
    pooled = np.where(counts >= 2, (ss + prior * noise) / np.maximum(counts - 1 + prior, 1e-12), noise)
    pooled[deterministic] = 0.0
    return Replicates(ids, counts, means, pooled, deterministic, float(noise))


def replicate_gp(X: torch.Tensor, replicates: Replicates, state: dict[str, Any], min_noise: float = 1e-6):
    """A fixed-noise GP of the function, one point per observed group.

    Args:
        X: ``(g, d)`` features of the groups of ``replicates`` (same order).
        replicates: From :func:`replicate_noise`.
        state: Hyper-parameters of a homoscedastic :func:`fit_gp` on the same outcome;
            the kernel and mean are reused as they are (only the noise model differs).
        min_noise: Floor of the variance of a group mean (keeps the Cholesky stable).

    Returns:
        A BoTorch ``SingleTaskGP`` in eval mode.
    """
    from botorch.models import SingleTaskGP

    from botorch.exceptions import InputDataWarning

    variance = np.maximum(replicates.noise / replicates.counts, min_noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputDataWarning)
        model = SingleTaskGP(X, torch.as_tensor(replicates.means, dtype=X.dtype).unsqueeze(-1),
                             train_Yvar=torch.as_tensor(variance, dtype=X.dtype).unsqueeze(-1),
                             outcome_transform=None)
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("likelihood")}, strict=False)
    return model.eval()
