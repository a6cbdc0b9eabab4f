"""Calibrated cost predictors: intervals with a stated confidence (cross-conformal, CV+).

A latency predictor ranks cells well and still misses single cells by 10-40%. Picking the
most accurate cells among those *predicted* to meet a bound then selects exactly the cells
whose latency is underestimated. :class:`ConformalPredictor` states how far off it may be,
calibrated on the user's own measurements: the measured rows are split into ``folds``
parts; one model per fold is fitted without that part and predicts it, so every measured
row gets an out-of-fold residual, and the point prediction of any other cell is the mean of
the fold models (no row is spent on calibration only). With a log target the residuals are
log ratios ``log(measured / predicted)``, so the interval scales with the value.

At confidence ``c``, the upper end of a cell is ``predicted * exp(r_(k))`` with ``r_(k)`` the
``k = ceil((n + 1) c)``-th smallest of the ``n`` residuals: the split-conformal quantile, which
holds with probability at least ``c`` for a cell drawn like the measured ones (up to the
difference between the fold models and their mean, checked in ``benchmarks/latency_bounds.py``).
The lower end uses ``r_(j)``, ``j = floor((n + 1)(1 - c))``. Each end holds on its own at
``c``. A measured cell is its measurement, with no width.

Example:
    >>> model = ConformalPredictor(model="gcn", model_params={"loss": "l1"}).fit(archs, latency_ms)
    >>> point, low, high = model.interval(other_archs, confidence=0.9)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.predictors.base import ArchLike, Predictor, keep_params, make_predictor, register_predictor
from gcnas.predictors.intervals import interval_ends
from gcnas.spaces import decision_index

__all__ = ["ConformalPredictor", "LATENCY_GCN"]

LATENCY_GCN: dict[str, Any] = {"prune": False, "isomorphs": 0, "rank_weight": 0.0, "loss": "l1"}
"""GCN settings of a latency model (``docs/hardware.md``): the unpruned graph (a dead edge still
costs time), no isomorphic twins, L1 on log latency (the relative-error loss)."""


@register_predictor("conformal")
class ConformalPredictor(Predictor):
    """A predictor with calibrated intervals: cross-conformal over ``folds`` fold models.

    Args:
        model: Registry name of the fold models (``gcn``, ``mlp``, ``gbt``, ``gp``).
        model_params: Their keyword arguments (``ensemble`` is set to 1: the fold models are
            the ensemble; ``seed`` is set per fold).
        folds: Parts the measured rows are split into (each fold model is fitted on the others).
        log_target: Fit ``log(y)`` and calibrate log ratios (positive targets: latency, energy).
        seed: Seed of the split and of the fold models.

    Example:
        >>> model = ConformalPredictor(model_params=LATENCY_GCN, seed=0).fit(archs, latency_ms)
        >>> point, low, high = model.interval(candidates, confidence=0.9)
    """

    name = "conformal"
    min_train = 10

    def __init__(self, model: str = "gcn", model_params: dict[str, Any] | None = None, folds: int = 5,
                 log_target: bool = True, seed: int = 0) -> None:
        keep_params(self, locals())

    # -- public API --------------------------------------------------------------------

    def _space(self) -> Any:
        """The fold models' space (``model_params["space"]``; None: ``"nb201"``)."""
        from gcnas.predictors.cells import resolve_space

        return resolve_space((self.model_params or {}).get("space"))

    def fit(self, archs: Sequence[ArchLike], y: Sequence[float]) -> ConformalPredictor:
        """Fit the fold models and calibrate on their out-of-fold residuals.

        Args:
            archs: Measured architectures (at least 10, and 2 per fold).
            y: ``(n,)`` measured values (positive with ``log_target``).

        Returns:
            ``self``.
        """
        if not isinstance(self.folds, int) or self.folds < 2:
            raise InvalidInputError(f"folds must be an integer >= 2, got {self.folds!r}")
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if self.log_target and np.any(y[np.isfinite(y)] <= 0):
            bad = float(y[np.isfinite(y) & (y <= 0)][0])
            raise InvalidInputError(f"a log-target predictor needs positive values (latency, energy), got {bad}; "
                                    "drop that row or fit with log_target=False")
        if len(y) < 2 * self.folds:
            raise InvalidInputError(f"{self.folds} folds need at least {2 * self.folds} measured rows, got {len(y)}")
        super().fit(archs, np.log(y) if self.log_target else y)
        return self

    def predict(self, archs: Sequence[ArchLike],
                return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The point prediction (mean of the fold models; for a log target, the exponential
        of their mean log) and, with ``return_std``, their spread in the target's units."""
        mean, std = super().predict(archs, return_std=True)
        if self.log_target:
            mean = np.exp(mean)
            std = mean * std
        return (mean, std) if return_std else mean

    def interval(self, archs: Sequence[ArchLike], confidence: float = 0.9
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point prediction and the two ends at ``confidence`` (each end holds on its own).

        Args:
            archs: Architectures.
            confidence: In ``[0, 1)``; 0 gives zero width.

        Returns:
            ``(point, low, high)``, each ``(n,)``.
        """
        point = self.predict(archs)
        folds = self.fold_predictions(archs)
        low, high = interval_ends(point, np.zeros(len(point), dtype=bool), self.calibration(), confidence,
                                  folds=folds.T)
        return point, low, high

    def fold_predictions(self, archs: Sequence[ArchLike]) -> np.ndarray:
        """``(folds, n)``: each fold model's prediction, in the target's units (for a log
        target the exponential of its log prediction): what CV+ widens with the residuals of
        the rows that model did not see."""
        self._check_fitted()
        archs = self._check_archs(archs, allow_empty=True)
        stacked = np.stack([m.predict(archs) for m in self.folds_]) * self.y_scale_ + self.y_mean_
        return np.exp(stacked) if self.log_target else stacked

    @property
    def scale(self) -> str:
        """``"log"`` (residuals are log ratios) or ``"linear"``."""
        return "log" if self.log_target else "linear"

    def calibration(self) -> dict[str, Any]:
        """What a lookup table keeps to widen values at any confidence: the out-of-fold
        ``residuals`` with the ``fold`` each came from, ``scores`` (them sorted) and ``scale``."""
        self._check_fitted()
        return {"scores": [float(s) for s in self.scores_], "residuals": [float(r) for r in self.residuals_],
                "fold": [int(f) for f in self.fold_of_], "scale": self.scale, "folds": self.folds}

    # -- hooks -------------------------------------------------------------------------

    def _fold_model(self, k: int) -> Predictor:
        params = dict(self.model_params or {})
        model = make_predictor(self.model, **params)
        names = model._param_names()
        if "ensemble" in names:
            params["ensemble"] = 1
        if "seed" in names:
            params["seed"] = int(self.seed) * 1009 + k
        return make_predictor(self.model, **params)

    def _fit(self, archs: list[Any], z: np.ndarray) -> None:
        rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)
        fold = np.arange(len(archs)) % self.folds
        rng.shuffle(fold)
        out_of_fold = np.zeros(len(archs))
        self.folds_ = []
        for k in range(self.folds):
            inside = np.flatnonzero(fold != k)
            model = self._fold_model(k).fit([archs[i] for i in inside], z[inside])
            held = np.flatnonzero(fold == k)
            out_of_fold[held] = model.predict([archs[i] for i in held])
            self.folds_.append(model)
        self.residuals_ = (z - out_of_fold) * self.y_scale_  # in the order of archs
        self.fold_of_ = fold.astype(np.int64)
        self.codes_ = np.array([decision_index(self._space(), a) for a in archs], dtype=np.int64)
        self.scores_ = np.sort(self.residuals_)

    def _predict(self, archs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        stacked = np.stack([m.predict(archs) for m in self.folds_])
        return stacked.mean(0), stacked.std(0)

    def _state(self) -> dict[str, Any]:
        return {"y_mean_": self.y_mean_, "y_scale_": self.y_scale_, "n_train_": self.n_train_,
                "scores_": np.asarray(self.scores_, dtype=np.float64),
                "residuals_": np.asarray(self.residuals_, dtype=np.float64),
                "codes_": np.asarray(self.codes_, dtype=np.int64),
                "fold_of_": np.asarray(self.fold_of_, dtype=np.int64),
                "fold_states_": [m._state() for m in self.folds_]}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.y_mean_, self.y_scale_ = float(state["y_mean_"]), float(state["y_scale_"])
        self.n_train_ = int(state["n_train_"])
        self.scores_ = np.asarray(state["scores_"], dtype=np.float64)
        self.residuals_ = np.asarray(state["residuals_"], dtype=np.float64)
        self.codes_ = np.asarray(state["codes_"], dtype=np.int64)
        self.fold_of_ = np.asarray(state["fold_of_"], dtype=np.int64)
        self.folds_ = []
        for k, fold_state in enumerate(state["fold_states_"]):
            model = self._fold_model(k)
            model._set_state(fold_state)
            self.folds_.append(model)
