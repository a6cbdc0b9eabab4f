"""Baseline: a Gaussian process (BoTorch ``SingleTaskGP``, GPyTorch) on the one-hot of the space's decisions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gcnas._thirdparty import quiet_jit_deprecation
from gcnas.predictors.base import Predictor, register_predictor
from gcnas.predictors.mlp import one_hot_matrix

with quiet_jit_deprecation():  # linear_operator (under BoTorch) scripts functions on import: see gcnas._thirdparty
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

__all__ = ["GPPredictor"]


@register_predictor("gp")
class GPPredictor(Predictor):
    """Exact GP regression with a Matern-5/2 ARD kernel, hyperparameters by marginal likelihood.

    The predictive std is the posterior std of the latent function (the spread a
    Bayesian search uses). Exact inference is cubic in the training set: keep it to a
    few thousand architectures.

    Args:
        seed: Seed of the hyperparameter optimisation restarts.
        space: The cells' search space (a :class:`~gcnas.spaces.SearchSpace` or its name;
            None: ``"nb201"``); the inputs are :func:`~gcnas.predictors.mlp.one_hot_matrix`.

    Example:
        >>> mean, std = GPPredictor().fit(archs, acc).predict(archs[:3], return_std=True)
    """

    min_train = 3

    def __init__(self, seed: int = 0, space: Any = None) -> None:
        self.seed = seed
        self.space = space

    def _model(self, x: torch.Tensor, z: torch.Tensor) -> Any:
        return SingleTaskGP(x, z.unsqueeze(-1))

    def _fit(self, archs: list[Any], z: np.ndarray) -> None:
        torch.manual_seed(self.seed)
        x = torch.from_numpy(one_hot_matrix(archs, self._space())).double()
        target = torch.from_numpy(z).double()
        model = self._model(x, target)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        self.train_x_ = x
        self.train_z_ = target
        self.model_state_ = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def _predict(self, archs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        model = self._model(self.train_x_, self.train_z_)
        model.load_state_dict(self.model_state_)
        model.eval()
        x = torch.from_numpy(one_hot_matrix(archs, self._space())).double()
        means, stds = [], []
        with torch.no_grad():
            for chunk in torch.split(x, 4096):
                posterior = model.posterior(chunk)
                means.append(posterior.mean.squeeze(-1))
                stds.append(posterior.variance.clamp_min(0).sqrt().squeeze(-1))
        return torch.cat(means).numpy(), torch.cat(stds).numpy()
