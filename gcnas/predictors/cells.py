"""How a predictor reads the cells of any search space, and the graph-level features beside them.

Two keyword arguments, shared by the GCN, MLP and GBT predictors:

- ``space``: which search space the cells come from: a :class:`~gcnas.spaces.SearchSpace`,
  or the name of a registered one (``"nb201"``, ``"darts"``, a space of your own registered
  with :func:`gcnas.spaces.register_space`). ``None`` means ``get_space("nb201")``, the
  default of every predictor. Cells are read through the protocol only: the space's values,
  their strings (``space.parse``), graphs from ``space.to_graph``, one-hot from
  :func:`gcnas.spaces.one_hot`.
- ``features``: a callable ``cells -> (n, d)`` array of per-cell numbers (params, FLOPs,
  zero-cost scores ...), the convention of :data:`gcnas.search.features.FeatureMap`. The
  predictor standardises each column with the mean and spread of its training cells and
  feeds them as a graph-level input (the GCN's head, the MLP's input, the GBT's columns).
  :class:`CostFeatures` counts params / FLOPs for any space, :class:`TableFeatures` looks
  published columns up by cell.

A fitted predictor saves its space by name (:func:`gcnas.spaces.space_name`); a callable
``features`` is code, which a predictor file does not store, so :meth:`SpaceInputs.save`
refuses it with a clear message.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import DEFAULT_SPACE, SearchSpace, resolve_space, space_name

__all__ = ["DEFAULT_SPACE", "resolve_space", "check_cells", "feature_matrix", "key_classes", "CostFeatures",
           "TableFeatures", "SpaceInputs"]

"""The space a predictor reads when its ``space`` is None (by name, through the registry)."""


def space_file_name(space: SearchSpace[Any] | str | None) -> str | None:
    """What a predictor file records for ``space``: None (the default) or the space's registered name.

    Raises:
        InvalidInputError: A space that is not registered, so that loading could not rebuild it.
    """
    if space is None:
        return None
    try:
        return space_name(resolve_space(space))
    except InvalidInputError:
        raise InvalidInputError(f"cannot save a predictor of the space {space!r}: a predictor file records the space "
                                "by name; register it with gcnas.spaces.register_space(name, factory), or keep the "
                                "fitted predictor in memory") from None


def check_cells(space: SearchSpace[Any], archs: Sequence[Any], allow_empty: bool = False) -> list[Any]:
    """The cells of ``fit`` / ``predict`` / ``score`` as values of ``space``.

    Args:
        space: A resolved space (:func:`resolve_space`).
        archs: The cells: the space's values, or what ``space.parse`` reads (their strings;
            NAS-Bench-201 also reads its intrinsic integer codes).
        allow_empty: Accept an empty sequence.

    Returns:
        A list of the space's values.

    Raises:
        InvalidInputError: One cell (not a sequence), a value that is not a cell of the
            space, a string it cannot parse, or no cell when ``allow_empty`` is False.
    """
    if isinstance(archs, str) or not isinstance(archs, (Sequence, np.ndarray)) or _is_cell(space, archs):
        raise InvalidInputError(f"expected a sequence of architectures, got one: {archs!r}; wrap it in a list")
    checked = []
    for arch in archs:
        if _is_cell(space, arch):
            checked.append(arch)
            continue
        if isinstance(arch, (str, int, np.integer)) and not isinstance(arch, (bool, np.bool_)):
            try:
                checked.append(space.parse(arch))
                continue
            except (TypeError, ValueError, AttributeError) as error:
                raise InvalidInputError(f"{arch!r} is not an architecture: {error}") from None
        raise InvalidInputError(f"expected {space.name} architectures or their strings, got "
                                f"{type(arch).__name__} {arch!r}")
    if not checked and not allow_empty:
        raise InvalidInputError("no architectures given")
    return checked


def _is_cell(space: SearchSpace[Any], value: Any) -> bool:
    if isinstance(value, (str, int, np.integer, list, np.ndarray)):
        return False
    try:
        space.format(value)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError):
        return False
    return True


def key_classes(space: SearchSpace[Any]) -> dict[str, list[Any]]:
    """Every listed cell of a listable space grouped by :meth:`~gcnas.spaces.SearchSpace.key`.

    Args:
        space: A space whose ``size()`` is not None.

    Returns:
        ``{key: [cells in enumerate order]}`` (NAS-Bench-201: 6,466 classes of the 15,625
        cells); cached per space.

    Raises:
        InvalidInputError: The space cannot be listed.
    """
    if space.size() is None:
        raise InvalidInputError(f"the space {space.name!r} cannot be listed, so its cells have no classes to draw from")
    try:
        return _key_classes(space)
    except TypeError:  # an unhashable space: no cache
        return _key_classes.__wrapped__(space)


@functools.lru_cache(maxsize=4)
def _key_classes(space: SearchSpace[Any]) -> dict[str, list[Any]]:
    classes: dict[str, list[Any]] = {}
    for arch in space.enumerate():
        classes.setdefault(space.key(arch), []).append(arch)
    return classes


def feature_matrix(features: Callable[[list[Any]], Any], archs: list[Any], width: int | None = None) -> np.ndarray:
    """What ``features(archs)`` returns, checked: ``(n, d)`` finite float64.

    Args:
        features: The predictor's ``features`` callable.
        archs: The ``n`` cells.
        width: The ``d`` the predictor was fitted with (None at fit).

    Returns:
        ``(n, d)`` float64 (a ``(n,)`` result is one column).

    Raises:
        InvalidInputError: Not callable, a result of another shape, a column count other
            than at fit, or a NaN / infinite value (the first one named).
    """
    if not callable(features):
        raise InvalidInputError(f"features must be a callable cells -> (n, d) array (or None), "
                                f"got {type(features).__name__} {features!r}")
    try:
        values = np.asarray(features(archs), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"features({len(archs)} cells) did not return numbers: {error}") from None
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != len(archs):
        raise InvalidInputError(f"features must return one row per cell, shape ({len(archs)}, d); "
                                f"got shape {values.shape} for {len(archs)} cells")
    if width is not None and values.shape[1] != width:
        raise InvalidInputError(f"features returned {values.shape[1]} columns, but the predictor was fitted with "
                                f"{width}; give it the same features it was fitted with")
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidInputError(f"features hold {int(bad.sum())} NaN or infinite value(s), e.g. "
                                f"{values[row, column]} in column {column} of cell {archs[row]}; "
                                "fill or drop them before fitting or predicting")
    return values


class CostFeatures:
    """Counted costs of each cell (no label, no training): a ``features`` callable for any space.

    Args:
        space: The cells' space (:func:`resolve_space`); the costs are ``space.costs``.
        names: Cost names (``params``, ``flops``; a space may know more).
        log: Give the natural log of each cost (costs are positive and spread over scales).

    Example:
        >>> from gcnas.spaces import get_space
        >>> CostFeatures("darts")([get_space("darts").sample(0)]).shape
        (1, 2)
    """

    def __init__(self, space: SearchSpace[Any] | str | None = None, names: Sequence[str] = ("params", "flops"),
                 log: bool = True) -> None:
        self.space = space
        self.names = tuple(names)
        self.log = log
        if not self.names:
            raise InvalidInputError("CostFeatures needs at least one cost name")

    def __repr__(self) -> str:
        return f"CostFeatures({self.space!r}, names={self.names!r}, log={self.log})"

    def __call__(self, archs: Sequence[Any]) -> np.ndarray:
        space = resolve_space(self.space)
        rows = [space.costs(a) for a in archs]
        unknown = [n for n in self.names if rows and n not in rows[0]]
        if unknown:
            raise InvalidInputError(f"{space.name} costs are {', '.join(rows[0])}; got {unknown}")
        values = np.array([[row[n] for n in self.names] for row in rows], dtype=np.float64)
        values = values.reshape(len(rows), len(self.names))
        return np.log(values) if self.log else values


class TableFeatures:
    """Known per-cell numbers (a benchmark's published columns) looked up by cell: a ``features`` callable.

    Cells are matched by ``space.format`` (one row per cell, as a benchmark lists them), and a
    cell the table does not list by its notation finds the first row of its ``space.key``
    (a cell written in another equivalent order: DARTS' pair order).

    Args:
        space: The cells' space (:func:`resolve_space`).
        archs: The ``k`` cells the table covers.
        columns: ``{name: (k,) values}``, in column order.

    Example:
        >>> zc = TableFeatures("darts", genotypes, {"synflow": synflow, "nwot": nwot})  # doctest: +SKIP
        >>> zc(genotypes[:3]).shape
        (3, 2)
    """

    def __init__(self, space: SearchSpace[Any] | str | None, archs: Sequence[Any],
                 columns: Mapping[str, Sequence[float]]) -> None:
        self.space = space
        self.names = tuple(columns)
        if not self.names:
            raise InvalidInputError("TableFeatures needs at least one column")
        resolved = resolve_space(space)
        archs = check_cells(resolved, archs)
        values = np.column_stack([np.asarray(columns[n], dtype=np.float64).reshape(-1) for n in self.names]) \
            if all(np.asarray(columns[n]).size == len(archs) for n in self.names) else None
        if values is None:
            sizes = {n: int(np.asarray(columns[n]).size) for n in self.names}
            raise InvalidInputError(f"TableFeatures needs one value per cell in every column ({len(archs)} cells), "
                                    f"got {sizes}")
        self._rows = {resolved.format(a): i for i, a in enumerate(archs)}
        self._keys: dict[str, int] = {}
        for i, a in enumerate(archs):
            self._keys.setdefault(resolved.key(a), i)
        self._values = values

    def _row(self, space: SearchSpace[Any], arch: Any) -> int:
        row = self._rows.get(space.format(arch))
        return self._keys.get(space.key(arch), -1) if row is None else row

    def __repr__(self) -> str:
        return f"TableFeatures({self.space!r}, {len(self._rows)} cells, columns={self.names!r})"

    def __call__(self, archs: Sequence[Any]) -> np.ndarray:
        space = resolve_space(self.space)
        rows = [self._row(space, a) for a in archs]
        missing = [a for a, r in zip(archs, rows) if r < 0]
        if missing:
            raise InvalidInputError(f"the table holds no row for {len(missing)} of {len(archs)} cells, e.g. "
                                    f"{missing[0]}; give features for every cell you fit or predict")
        return self._values[np.asarray(rows, dtype=np.int64)].reshape(len(archs), len(self.names))


class SpaceInputs:
    """Mixin of the predictors that take ``space`` and ``features`` (GCN, MLP, GBT).

    The host class stores ``space`` and ``features`` unchanged (scikit-learn contract) and
    calls :meth:`_fit_graph_features` once in ``_fit`` (it sets ``features_mean_`` and
    ``features_scale_``) and :meth:`_graph_features` when predicting.
    """

    space: SearchSpace[Any] | str | None
    features: Callable[[list[Any]], Any] | None

    def _feature_maps(self) -> list[Callable[[list[Any]], Any]]:
        """The callables whose columns make the graph-level input (hook: the GCN adds its cost feature)."""
        features = getattr(self, "features", None)
        return [] if features is None else [features]

    def _raw_features(self, archs: list[Any], width: int | None) -> np.ndarray | None:
        maps = self._feature_maps()
        if not maps:
            return None
        values = np.concatenate([feature_matrix(f, archs) for f in maps], axis=1)
        if width is not None and values.shape[1] != width:
            raise InvalidInputError(f"features returned {values.shape[1]} columns, but the predictor was fitted with "
                                    f"{width}; give it the same features it was fitted with")
        return values

    def _fit_graph_features(self, archs: list[Any]) -> np.ndarray | None:
        """Standardised ``(n, d)`` float32 features of the training cells (sets the scaling), or None."""
        for stale in ("features_mean_", "features_scale_"):
            vars(self).pop(stale, None)
        values = self._raw_features(archs, None)
        if values is None:
            return None
        self.features_mean_ = values.mean(0)
        scale = values.std(0)
        self.features_scale_ = np.where(scale > 0, scale, 1.0)
        return ((values - self.features_mean_) / self.features_scale_).astype(np.float32)

    def _graph_features(self, archs: list[Any]) -> np.ndarray | None:
        """The same for cells to predict, with the training scaling; None when fitted without features."""
        mean = getattr(self, "features_mean_", None)
        if mean is None:
            if self._feature_maps():
                raise InvalidInputError("this predictor was fitted without features; refit it with them")
            return None
        values = self._raw_features(archs, len(mean))
        if values is None:
            raise InvalidInputError(f"this predictor was fitted with {len(mean)} feature column(s) and now has no "
                                    "features; give it the features it was fitted with")
        return ((values - mean) / self.features_scale_).astype(np.float32)

    @property
    def _feature_width(self) -> int:
        mean = getattr(self, "features_mean_", None)
        return 0 if mean is None else len(mean)

    def _set_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        for key in ("features_mean_", "features_scale_"):
            if key in state and state[key] is not None:
                state[key] = np.asarray(state[key], dtype=np.float64)
        super()._set_state(state)  # type: ignore[misc]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted predictor (see :meth:`Predictor.save`), its space recorded by name.

        Raises:
            InvalidInputError: ``features`` is set (a callable is code, which a predictor file
                does not store), or the space has no name a loader could rebuild it from.
        """
        from gcnas.predictors.persist import write_predictor_file

        host: Any = self  # a Predictor (the mixin's host class)
        host._check_fitted()
        if getattr(self, "features", None) is not None:
            raise InvalidInputError(f"cannot save this {host.name} predictor: features={self.features!r} is code, "
                                    "which a predictor file does not store (it runs no code when loaded); keep the "
                                    "fitted predictor in memory, or save one fitted without features")
        params = host.get_params()
        params["space"] = space_file_name(params.get("space"))
        return write_predictor_file(path, host.name, params, host._state())
