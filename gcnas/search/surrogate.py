"""The GP surrogate of Bayesian optimisation, and the cheap scores used to pre-screen.

One BoTorch ``SingleTaskGP`` models every outcome (objectives, then constraints) as
independent GPs batched together. Objectives are warped to normal scores by rank (a
Gaussian copula: monotone, so optima and Pareto sets are unchanged, and a 10%-accuracy
outlier no longer flattens the model near the top); constraints are only rescaled so
that 0 stays the feasibility boundary. Hyper-parameters can be reused between steps
(``state``), and posteriors over many candidates are computed in chunks without autograd.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["copula_warp", "fit_gp", "posterior_stats", "hvi_2d", "log_ei"]


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

    Args:
        X: ``(n, d)`` double inputs (already scaled to the unit cube).
        Y: ``(n, m)`` double outcomes (already warped / scaled).
        state: Hyper-parameters of an earlier fit: reused as they are (``refit=False``)
            or as the starting point of the fit.
        refit: Fit the hyper-parameters (L-BFGS, at most ``maxiter`` iterations).
        maxiter: Iteration cap of the fit.

    Returns:
        ``(model, state)``: the GP in eval mode and its hyper-parameters.
    """
    from botorch.fit import fit_gpytorch_mll
    from botorch.exceptions import InputDataWarning
    from botorch.models import SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    with warnings.catch_warnings():
        # Y is standardised by the caller; BoTorch's check flags float-level deviations.
        warnings.simplefilter("ignore", InputDataWarning)
        model = SingleTaskGP(X, Y, outcome_transform=None)
    if state is not None:
        model.load_state_dict(state, strict=False)
    if refit or state is None:
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": maxiter}})
            except Exception:  # noqa: BLE001 - keep the previous hyper-parameters if the fit fails
                if state is not None:
                    model.load_state_dict(state, strict=False)
        state = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.startswith("train")}
    model.eval()
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
        noise = model.likelihood.noise.reshape(-1, 1, 1) if batched else model.likelihood.noise.reshape(1, 1, 1)
        K = model.covar_module(train_X).to_dense()
        K = (K if batched else K.unsqueeze(0)) + noise * torch.eye(K.shape[-1], dtype=K.dtype)
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


def log_ei(mean: torch.Tensor, std: torch.Tensor, best: float) -> torch.Tensor:
    """Analytic log expected improvement over ``best`` (numerically safe)."""
    from botorch.acquisition.analytic import _log_ei_helper

    return _log_ei_helper((mean - best) / std) + std.log()


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
