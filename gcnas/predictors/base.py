"""The plumbing every predictor shares: input checks, target scaling, the registry,
``save`` / :func:`load_predictor`.

A predictor maps architectures to one number each and is a scikit-learn regressor
(``RegressorMixin``, ``BaseEstimator``): keyword arguments are stored unchanged in
``__init__``, :meth:`Predictor.fit` returns ``self``, fitted state ends in ``_``, so
``clone``, ``cross_val_score``, ``GridSearchCV``, ``Pipeline`` and ``is_regressor`` take
it; ``X`` is a list (or a numpy object array) of architectures. A subclass implements two hooks,
``_fit(archs, z)`` on standardised targets and ``_predict(archs) -> (mean, std)`` in
the same standardised units; the base class validates, scales and unscales.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from gcnas.exceptions import CorruptFileError, GcnasError, InvalidInputError, NotFittedError
from gcnas.registry import Registry

ArchLike = Any
"""What fit / predict / score accept per cell: a cell of the predictor's space, or what the
space's ``parse`` reads (its string; NAS-Bench-201 also reads its intrinsic integer code)."""

__all__ = ["Predictor", "ArchLike", "keep_params", "register_predictor", "make_predictor", "predictor_names", "load_predictor"]


BUILTIN_PREDICTORS = ("gcn", "mlp", "gbt", "gp", "conformal")
"""The modules of :mod:`gcnas.predictors` whose classes register themselves (imported on the first lookup)."""


def _load_builtin() -> None:
    for module in BUILTIN_PREDICTORS:
        importlib.import_module(f"gcnas.predictors.{module}")


_REGISTRY: Registry[Predictor] = Registry("predictor", load=_load_builtin)


def register_predictor(name: str) -> Callable[[type[Predictor]], type[Predictor]]:
    """Class decorator adding a predictor to the name registry (duplicates rejected).

    Args:
        name: The ``--model`` name.

    Returns:
        The decorator.
    """
    return _REGISTRY.register(name)


def keep_params(estimator: Predictor, arguments: dict[str, Any]) -> None:
    """Store constructor arguments unchanged, as attributes (call with ``locals()``)."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def predictor_names() -> list[str]:
    """The registered model names (``gcn``, ``mlp``, ``gbt``, ``gp``)."""
    return _REGISTRY.names()


def make_predictor(name: str, **kwargs: Any) -> Predictor:
    """Build a predictor by name.

    Args:
        name: One of :func:`predictor_names`.
        **kwargs: Passed to the class.

    Returns:
        An unfitted predictor.

    Example:
        >>> make_predictor("gcn", ensemble=3, seed=1)
        GCNPredictor(ensemble=3, seed=1)
    """
    return _REGISTRY.make(name, **kwargs)


class Predictor(RegressorMixin, BaseEstimator):
    """Base class: validation, standardised targets, persistence; a scikit-learn regressor.

    Subclasses set ``min_train`` and implement ``_fit`` and ``_predict``. :meth:`score` is
    Kendall tau (what ``cross_val_score`` and ``GridSearchCV`` maximise by default), not R².
    """

    name = "predictor"
    min_train = 3

    # -- scikit-learn plumbing ---------------------------------------------------------

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor keyword arguments, as given.

        Args:
            deep: Accepted for scikit-learn (``clone``, grid search); predictors hold no
                nested estimators, so it changes nothing.

        Returns:
            ``{name: value}`` for every ``__init__`` argument.
        """
        return {n: getattr(self, n) for n in self._param_names()}

    def set_params(self, **params: Any) -> Predictor:
        """Set constructor arguments (scikit-learn's ``set_params``); fitted state is kept
        until the next :meth:`fit`.

        Returns:
            ``self``.

        Raises:
            InvalidInputError: A name that is not an ``__init__`` argument.
        """
        valid = self._param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise InvalidInputError(f"{type(self).__name__} has no parameter(s) {unknown}; "
                                    f"valid: {', '.join(valid)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags: a regressor whose ``X`` is a list of architectures, not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True  # arch strings are valid input
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "y_mean_")

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k) != v)
        return f"{type(self).__name__}({changed})"

    # -- public API --------------------------------------------------------------------

    def fit(self, archs: Sequence[ArchLike], y: Sequence[float]) -> Predictor:
        """Fit to one target value per architecture.

        Args:
            archs: Training architectures (at least ``min_train``): cells of the predictor's
                space or their strings.
            y: ``(n,)`` targets (accuracy, latency, ...); no NaN.

        Returns:
            ``self``.
        """
        archs = self._check_archs(archs)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(y) != len(archs):
            raise InvalidInputError(f"fit needs one target per architecture: got {len(archs)} archs, {len(y)} targets")
        if len(archs) < self.min_train:
            raise InvalidInputError(f"{type(self).__name__} needs at least {self.min_train} training "
                                    f"architectures, got {len(archs)}; score more samples")
        bad = ~np.isfinite(y)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(f"{int(bad.sum())} training target(s) are NaN or infinite, e.g. "
                                    f"{y[first]} for {archs[first]}; drop or fix them before fitting")
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        self.n_train_ = len(archs)
        self._fit(archs, (y - self.y_mean_) / self.y_scale_)
        return self

    def predict(self, archs: Sequence[ArchLike],
                return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predict the target of each architecture.

        Args:
            archs: Architectures (cells of the predictor's space or their strings).
            return_std: Also return the predictive spread (ensemble or posterior std).

        Returns:
            ``(n,)`` float64 means, or ``(mean, std)`` when ``return_std``.
        """
        self._check_fitted()
        archs = self._check_archs(archs, allow_empty=True)
        if not archs:
            empty = np.zeros(0)
            return (empty, empty.copy()) if return_std else empty
        mean, std = self._predict(archs)
        mean = np.asarray(mean, dtype=np.float64) * self.y_scale_ + self.y_mean_
        std = np.asarray(std, dtype=np.float64) * self.y_scale_
        return (mean, std) if return_std else mean

    def score(self, archs: Sequence[ArchLike], y: Sequence[float]) -> float:
        """Kendall tau between ``y`` and the predictions: what a NAS predictor is for is the
        order of the cells (scikit-learn's ``score``, greater is better).

        Args:
            archs: Architectures.
            y: Their true values.

        Returns:
            Kendall tau-b in [-1, 1].
        """
        from gcnas.predictors.metrics import kendall_tau

        archs = self._check_archs(archs)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(y) != len(archs):
            raise InvalidInputError(f"score needs one value per architecture: got {len(archs)} archs, {len(y)} values")
        return float(kendall_tau(y, self.predict(archs)))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted predictor to ``path``, atomically: a torch file of tensors and plain
        values (JSON settings), which :func:`load_predictor` reads without running code
        (:mod:`gcnas.predictors.persist`).

        Args:
            path: e.g. ``run_dir/predictor.pt``.

        Returns:
            ``path``.
        """
        from gcnas.predictors.cells import space_file_name
        from gcnas.predictors.persist import write_predictor_file

        self._check_fitted()
        params = self.get_params()
        if "space" in params:  # a space is recorded by its registered name
            params["space"] = space_file_name(params["space"])
        return write_predictor_file(path, self.name, params, self._state())

    # -- hooks -------------------------------------------------------------------------

    def _space(self) -> Any:
        """The search space of the cells (hook; default: the ``space`` argument, else ``"nb201"``)."""
        from gcnas.predictors.cells import resolve_space

        return resolve_space(getattr(self, "space", None))

    def _check_archs(self, archs: Sequence[ArchLike], allow_empty: bool = False) -> list[Any]:
        """Validate and convert the cells of ``fit`` / ``predict`` / ``score`` (read through :meth:`_space`)."""
        from gcnas.predictors.cells import check_cells

        return check_cells(self._space(), archs, allow_empty)

    def _fit(self, archs: list[Any], z: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, archs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:
        """Fitted state to save (default: every attribute ending in ``_``): tensors, numpy
        arrays, numbers, strings, lists and dicts with string keys only (see
        :func:`gcnas.predictors.persist.to_plain`)."""
        return {k: v for k, v in vars(self).items() if k.endswith("_")}

    def _set_state(self, state: dict[str, Any]) -> None:
        vars(self).update(state)

    def _check_fitted(self) -> None:
        if not hasattr(self, "y_mean_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(archs, y) first")


def load_predictor(path: str | os.PathLike, *, trust_pickle: bool = False) -> Predictor:
    """Read a predictor written by :meth:`Predictor.save`, without running code from the file.

    Args:
        path: e.g. ``run_dir/predictor.pt``.
        trust_pickle: Also read a full pickle: a predictor saved by gcnas 0.1 that holds
            more than tensors (the GBT's scikit-learn trees). Unpickling runs whatever code
            the file names, so only for a file from a source you trust; save it again to
            have it in the safe format.

    Returns:
        The fitted predictor.

    Raises:
        DataNotFoundError: No file at ``path``.
        InvalidInputError: A full pickle, and ``trust_pickle`` is False.
        CorruptFileError: Not a readable predictor file.

    Example:
        >>> model = load_predictor("runs/demo/predictor.pt")
        >>> load_predictor("old_gbt.pt", trust_pickle=True).save("old_gbt.pt")   # convert, once
    """
    from gcnas.predictors.persist import read_predictor_file

    blob = read_predictor_file(path, trust_pickle=trust_pickle)
    try:
        predictor = make_predictor(blob["name"], **blob["params"])
        predictor._set_state(blob["state"])
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        if isinstance(error, GcnasError):
            raise
        raise CorruptFileError(f"{str(path)!r} does not hold a valid {blob['name']} predictor ({error}); "
                               "refit it with `gcnas predictor fit`") from None
    return predictor
