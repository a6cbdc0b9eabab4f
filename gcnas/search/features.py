"""Feature maps: the vectors a surrogate model sees for each architecture.

``"onehot"`` is the one-hot of the space's decisions (:func:`gcnas.spaces.one_hot`; the (30,)
op one-hot of a NAS-Bench-201 cell); ``"graph"`` counts each graph's node types, edges and
depth (:func:`graph_features`, any space); ``"costs"`` are the logs of the params and FLOPs the
space counts on the cell's network (no training, no table:
:class:`gcnas.predictors.cells.CostFeatures`). These three work on every space; the others are
NAS-Bench-201's (they look cells up by its code) and refuse another space. ``"arch2vec"`` is the latent mean of
the pretrained graph autoencoder (from an ``Arch2Vec`` encoder, the run store's
``embeddings("arch2vec")``, or an ``.npz`` cache with ``codes`` and ``z``); on another space it is
each cell graph's mean node latent under the run's encoder, computed on demand
(:class:`EncoderFeatures`); ``"stats"``
are the training-free live-graph statistics of :func:`gcnas.encoders.graph_statistics`;
``"zc"`` are per-cell proxies (params, FLOPs, synflow by default; ``"zc:params,naswot"`` names
them) read from the run store's ``features`` cache (:class:`ProxyFeatures`);
``"a+b"`` joins maps side by side (``"arch2vec+stats+zc"``); any callable
``archs -> (n, d) array`` works too.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import DEFAULT_SPACE, resolve_space
from gcnas.spaces import SearchSpace, one_hot
from gcnas.spaces.protocol import SpaceGraph

Arch = Any
"""A cell of the features' space."""

__all__ = ["FeatureMap", "onehot_features", "stats_features", "graph_features", "SpaceFeatures", "EmbeddingFeatures",
           "EncoderFeatures", "ConcatFeatures", "ProxyFeatures", "make_features", "ANY_SPACE_FEATURES"]

FeatureMap = Callable[[Sequence[Arch]], np.ndarray]

ANY_SPACE_FEATURES = ("onehot", "graph", "costs")
"""The named feature maps that work on every space (the rest are NAS-Bench-201's)."""


def onehot_features(archs: Sequence[Arch], space: SearchSpace[Any] | str | None = None) -> np.ndarray:
    """``(n, sum of decision sizes)`` float64 one-hot of each cell's decisions (the ablation baseline).

    Args:
        archs: Cells of ``space``.
        space: Their space (default NAS-Bench-201: ``(n, 30)``, one block of 5 ops per edge).

    Example:
        >>> onehot_features([get_space("darts").sample(0)], "darts").shape
        (1, 152)
    """
    space = resolve_space(space)
    return one_hot(space, list(archs)).astype(np.float64)


def graph_features(archs: Sequence[Arch], space: SearchSpace[Any] | str | None = None) -> np.ndarray:
    """Statistics of each of a cell's graphs (``space.to_graph``): for each graph, the count of
    every node type (``space.node_types``), the number of edges and the depth (edges on the
    longest path from the first node to the last).

    Args:
        archs: ``n`` cells of ``space``.
        space: Their space (default NAS-Bench-201).

    Returns:
        ``(n, len(graph_names) * (len(node_types) + 2))`` float64.

    Example:
        >>> graph_features([get_space("darts").sample(0)], "darts").shape      # 2 cells x (11 types + 2)
        (1, 26)
    """
    space = resolve_space(space)
    width = len(space.graph_names) * (len(space.node_types) + 2)
    rows = [np.concatenate([_graph_row(g, len(space.node_types)) for g in _graphs(space, a)]) for a in archs]
    return np.stack(rows) if rows else np.zeros((0, width))


def _graphs(space: SearchSpace[Any], arch: Arch) -> tuple[SpaceGraph, ...]:
    graphs = space.to_graph(arch)
    return graphs if isinstance(graphs, tuple) and not hasattr(graphs, "adjacency") else (graphs,)


def _graph_row(graph: SpaceGraph, n_types: int) -> np.ndarray:
    adjacency = np.asarray(graph.adjacency) > 0
    counts = np.bincount(np.asarray(graph.features).argmax(axis=-1), minlength=n_types).astype(np.float64)
    longest = np.full(len(adjacency), -np.inf)   # nodes are in topological order
    longest[0] = 0.0
    for node in range(1, len(adjacency)):
        sources = longest[adjacency[:, node]]
        longest[node] = sources.max() + 1 if len(sources) else -np.inf
    depth = longest[-1] if np.isfinite(longest[-1]) else 0.0
    return np.concatenate([counts, [float(adjacency.sum()), depth]])


class SpaceFeatures:
    """A feature map of any space by name (``"onehot"``, ``"graph"``, ``"costs"``): ``archs -> (n, d)``.

    ``costs`` counts each cell's network once (about 50 ms a DARTS cell) and keeps the values
    by ``space.key``, so a pool refreshed each step pays only for its new cells.

    Args:
        name: One of :data:`ANY_SPACE_FEATURES`.
        space: The cells' space.

    Example:
        >>> SpaceFeatures("onehot", get_space("darts"))([get_space("darts").sample(0)]).shape
        (1, 152)
    """

    def __init__(self, name: str, space: SearchSpace[Any] | str | None = None) -> None:
        if name not in ANY_SPACE_FEATURES:
            raise InvalidInputError(f"SpaceFeatures takes {' or '.join(ANY_SPACE_FEATURES)}, got {name!r}")
        self.name = name
        self.space = resolve_space(space)

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        if self.name == "costs":
            return self._costs(archs)
        make = onehot_features if self.name == "onehot" else graph_features
        return make(archs, self.space)

    def _costs(self, archs: Sequence[Arch]) -> np.ndarray:
        from gcnas.predictors.cells import CostFeatures

        known = self.__dict__.setdefault("_known", {})
        keys = [self.space.key(a) for a in archs]
        todo = {k: a for k, a in zip(keys, archs) if k not in known}
        if todo:
            counted = CostFeatures(self.space)(list(todo.values()))
            known.update(zip(todo, counted))
        return np.array([known[k] for k in keys], dtype=np.float64).reshape(len(archs), 2)


def stats_features(archs: Sequence[Arch]) -> np.ndarray:
    """``(n, 10)`` live-graph statistics of each cell (:func:`gcnas.encoders.graph_statistics`)."""
    from gcnas.encoders import graph_statistics

    return graph_statistics(list(archs))


class ConcatFeatures:
    """Several feature maps side by side: ``(n, d1 + d2 + ...)``.

    Args:
        maps: The feature maps, in column order.
        name: Label used in messages.

    Example:
        >>> feats = ConcatFeatures([EmbeddingFeatures.from_store(store), stats_features])
        >>> feats([get_space("nb201").sample(0)]).shape
        (1, 26)
    """

    def __init__(self, maps: Sequence[FeatureMap], name: str = "features") -> None:
        if not maps:
            raise InvalidInputError("ConcatFeatures needs at least one feature map")
        self.maps = list(maps)
        self.name = name

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        return np.column_stack([np.asarray(f(archs), dtype=np.float64).reshape(len(archs), -1) for f in self.maps])


class EncoderFeatures:
    """Arch2vec features of any space, computed on demand: each cell graph's mean node latent
    under a fitted encoder (:meth:`~gcnas.encoders.Arch2Vec.graph_means`), kept per cell.

    On a space too large to embed in advance (DARTS, IMC) this is what ``"arch2vec"`` means. It
    is the low-dimensional view of the embedding (DARTS: 32 numbers, not the 352 that decode
    exactly): a GP over it searched the DARTS space as well as over graph statistics and
    counted costs, and a GP over the 352 did worse (docs/search.md).

    Args:
        encoder: A fitted :class:`~gcnas.encoders.Arch2Vec`.

    Example:
        >>> feats = EncoderFeatures.from_store(store)          # the run's pretrained encoder
        >>> feats([get_space("darts").sample(0)]).shape
        (1, 32)
    """

    def __init__(self, encoder: Any) -> None:
        if not callable(getattr(encoder, "graph_means", None)):
            raise InvalidInputError(f"EncoderFeatures needs a fitted Arch2Vec, got {encoder!r}")
        self.encoder = encoder
        self.name = "arch2vec"
        self._memo: dict[str, np.ndarray] = {}

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        space = self.encoder.space_
        keys = [space.format(a) for a in archs]
        missing = {k: a for k, a in zip(keys, archs) if k not in self._memo}
        if missing:
            vectors = np.asarray(self.encoder.graph_means(list(missing.values())), dtype=np.float64)
            self._memo.update(zip(missing, vectors))
        width = len(space.graph_names) * int(self.encoder.latent_dim)
        return np.stack([self._memo[k] for k in keys]) if keys else np.zeros((0, width))

    @classmethod
    def from_store(cls, store: Any) -> EncoderFeatures:
        """The encoder ``gcnas encoder pretrain`` saved for the run."""
        from gcnas.encoders import load_pretrained

        try:
            return cls(load_pretrained(store))
        except FileNotFoundError:  # DataNotFoundError is one
            raise InvalidInputError(f"run {store.run_dir} has no arch2vec encoder; run `gcnas encoder pretrain` "
                                    "first (or use --features graph+costs)") from None


class EmbeddingFeatures:
    """A lookup of precomputed embeddings by architecture code.

    Args:
        codes: ``(k,)`` architecture codes.
        vectors: ``(k, d)`` one embedding each.
        name: Label used in messages.

    Example:
        >>> feats = EmbeddingFeatures.from_store(store)        # arch2vec of the run
        >>> feats([get_space("nb201").sample(0)]).shape
        (1, 16)
    """

    def __init__(self, codes: Sequence[int], vectors: np.ndarray, name: str = "arch2vec") -> None:
        vectors = np.asarray(vectors, dtype=np.float64)
        codes = np.asarray(codes, dtype=np.int64)
        if vectors.ndim != 2 or len(vectors) != len(codes) or len(codes) == 0:
            raise InvalidInputError(f"{name} embeddings must be (k, d) for k codes, got {vectors.shape} "
                                    f"for {len(codes)} codes")
        self.name = name
        self.dim = vectors.shape[1]
        self._row = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        self._row[codes] = np.arange(len(codes))
        self._vectors = vectors

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        codes = np.fromiter((a.code for a in archs), dtype=np.int64, count=len(archs))
        rows = np.where(codes < len(self._row), self._row[np.minimum(codes, len(self._row) - 1)], -1)
        if (rows < 0).any():
            missing = archs[int(np.flatnonzero(rows < 0)[0])]
            raise InvalidInputError(f"no {self.name} embedding for {missing} ({int((rows < 0).sum())} missing); "
                                    "pretrain the encoder over the whole space (`gcnas encoder pretrain`)")
        return self._vectors[rows]

    @classmethod
    def from_store(cls, store: Any, encoder: str = "arch2vec") -> EmbeddingFeatures:
        """The embeddings a run stored with ``store.write_embeddings(encoder, ...)``."""
        archs, vectors = store.embeddings(encoder)
        if not archs:
            raise InvalidInputError(f"run {store.run_dir} has no {encoder} embeddings; "
                                    "run `gcnas encoder pretrain` first (or use --features onehot)")
        return cls([a.code for a in archs], vectors, encoder)

    @classmethod
    def from_encoder(cls, encoder: Any, archs: Sequence[Arch]) -> EmbeddingFeatures:
        """Encode ``archs`` once with a fitted ``Arch2Vec`` (its deterministic posterior mean)."""
        return cls([a.code for a in archs], encoder.encode(list(archs)), "arch2vec")

    @classmethod
    def from_npz(cls, path: str | os.PathLike) -> EmbeddingFeatures:
        """An ``.npz`` cache holding ``codes`` (integers) and ``z`` (numbers).

        Read without pickle: a file holding Python objects is refused, never loaded.
        """
        path = Path(path)
        if not path.exists():
            raise InvalidInputError(f"embedding cache {str(path)!r} not found")
        save = f"save plain arrays instead: np.savez({path.name!r}, codes=codes, z=z)"
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise InvalidInputError(f"embedding cache {str(path)!r} is one array, not an .npz archive; {save}")
            with data:
                if "codes" not in data or "z" not in data:
                    raise InvalidInputError(f"{str(path)!r} must hold arrays 'codes' and 'z'")
                codes, z = data["codes"], data["z"]
        except ValueError as error:  # an object array: reading it would unpickle (and so run) code
            if isinstance(error, InvalidInputError):
                raise
            raise InvalidInputError(f"embedding cache {str(path)!r} holds pickled Python objects ({error}), which "
                                    f"gcnas does not load (unpickling can run code); {save}") from None
        except (OSError, EOFError, zipfile.BadZipFile) as error:
            unreadable = f"embedding cache {str(path)!r} is not a readable .npz file ({error}); {save}"
            raise InvalidInputError(unreadable) from None
        if not np.issubdtype(codes.dtype, np.integer) or not np.issubdtype(z.dtype, np.number):
            raise InvalidInputError(f"embedding cache {str(path)!r} must hold integer 'codes' and numeric 'z', got "
                                    f"{codes.dtype} and {z.dtype}; {save}")
        return cls(codes, z, path.stem)


LOGGED = ("params", "flops")
"""Proxies counted on a linear scale (millions), taken as logs; synflow, NASWOT and jacov are
stored as logs already (``log1p`` of the synaptic flow, ``log |det K|``, a sum of logs)."""


class ProxyFeatures:
    """Per-cell proxies as surrogate features: one column per name, ``(n, len(names))``.

    Each cell takes the value of its canonical cell (:meth:`Arch.canonical`: isomorphic
    cells compute one function and the cache holds one value per class), read from the
    run store's ``features`` table (:func:`gcnas.predictors.cell_features` fills it, keyed by
    the :class:`~gcnas.predictors.ProxySettings` that made each value). Params and FLOPs
    are counted when missing (instant, written to a writable store); synflow, NASWOT and
    jacov must be there already for every cell asked for: a cell without one is an error
    naming the call that computes them. Values are logs (``log`` of params and FLOPs; the
    proxies are stored as logs); an undefined score (``-inf``, no live path) becomes the
    lowest defined value of its feature in the cache. Columns are not rescaled: BO scales
    each column to [0, 1] itself. The store is read on the first call (keep it open till then),
    each feature once.

    Args:
        names: Features, any of :data:`gcnas.predictors.CELL_FEATURES`, in column order
            (default params, flops, synflow: the ones that need no images).
        store: Run store holding (or receiving) the cached values; ``None`` allows only
            params and FLOPs.
        settings: The proxies' network (default ``ProxySettings()``: NAS-Bench-201's C=16,
            N=5, 10 classes, seed 0).
        image_size: Input side the data-free features were computed for (default 32).
        images: The batch NASWOT and jacov were scored on, if known (it is part of their
            cache key); without it the one batch the store holds for those settings is used.

    Example:
        >>> feats = ProxyFeatures(store=RunStore("runs/nb201-zc", mode="ro"))
        >>> nb201 = get_space("nb201")
        >>> feats([nb201.sample(7), nb201.sample(8)]).shape
        (2, 3)
    """

    def __init__(self, names: Sequence[str] = ("params", "flops", "synflow"), *, store: Any = None,
                 settings: Any = None, image_size: int = 32, images: Any = None) -> None:
        from gcnas.predictors.features import ProxySettings, parse_feature_names

        self.names = parse_feature_names(names)
        if not self.names:
            raise InvalidInputError("ProxyFeatures needs at least one feature name, e.g. zc:params,flops,synflow")
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
            raise InvalidInputError(f"image_size must be a positive integer, got {image_size!r}")
        self.store = store
        self.settings = settings or ProxySettings()
        self.image_size = image_size
        self.images = images
        self.name = "zc:" + ",".join(self.names)
        self._known: dict[str, dict[int, float]] = {}

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        canonical = [a.canonical() for a in archs]
        columns = [self._column(name, canonical) for name in self.names]
        return np.column_stack(columns) if columns else np.zeros((len(archs), 0))

    def _column(self, name: str, archs: Sequence[Arch]) -> np.ndarray:
        known = self._values(name)
        by_code = {a.code: a for a in archs}
        todo = sorted(by_code.keys() - known.keys())
        if todo and name in LOGGED:
            from gcnas.predictors.features import cell_features

            writable = self.store is not None and not getattr(self.store, "read_only", False)
            new = [by_code[c] for c in todo]
            counted = cell_features(new, store=self.store if writable else None, names=[name],
                                    settings=self.settings, image_size=self.image_size, progress=False)[name]
            known.update(zip(todo, counted.tolist()))
        elif todo:
            raise InvalidInputError(self._missing(name, [by_code[c] for c in todo], len(by_code)))
        values = np.array([known[a.code] for a in archs], dtype=np.float64)
        defined = np.array([v for v in known.values() if np.isfinite(v)])
        floor = defined.min() if len(defined) else 0.0
        values = np.where(np.isfinite(values), values, floor)
        return np.log(values) if name in LOGGED else values

    def _values(self, name: str) -> dict[int, float]:
        """``code -> value`` of the cache (read once), ``{}`` without a store."""
        if name not in self._known:
            self._known[name] = ({a.code: v for a, v in self.store.features(name, self._key(name)).items()}
                                 if self.store is not None else {})  # (the store keys rows by architecture)
        return self._known[name]

    def _key(self, name: str) -> str:
        from gcnas.predictors.features import DATA_FREE

        if name in DATA_FREE or self.images is not None:
            return self.settings.key(name, self.images, self.image_size)
        # NASWOT and jacov are keyed by their batch too: take the one batch stored for these settings
        prefix = self.settings.key(name, None, self.image_size).rsplit("-batch", 1)[0] + "-batch"
        stored = [s for n, s, _ in self.store.feature_kinds() if n == name and s.startswith(prefix)]
        if len(stored) > 1:
            raise InvalidInputError(f"run {self.store.run_dir} holds {name} for {len(stored)} image batches "
                                    f"({', '.join(stored)}); pass ProxyFeatures(images=BATCH) to choose one")
        return stored[0] if stored else prefix + "*"

    def _missing(self, name: str, todo: Sequence[Arch], asked: int) -> str:
        images = "" if name == "synflow" else ", images=BATCH"
        compute = (f"python -c \"from gcnas.data import RunStore; from gcnas.spaces import get_space; "
                   f"from gcnas.predictors import cell_features; s = get_space('nb201'); cell_features([a for a in "
                   f"s.enumerate() if s.canonical(a) == a], store=RunStore('RUN'), names=['{name}']{images})\"")
        fix = (f"compute it once for the whole space ({compute}; resumable, synflow ~0.1 s a cell, NASWOT and jacov "
               f"~1 s; `gcnas predictor fuse --proxies {name}` caches it for the sampled cells only), or leave "
               f"{name} out of the features (zc = params,flops,synflow)")
        if self.store is None:
            return f"features {self.name!r} need a run store holding {name}: pass store=, or {fix}"
        other = [f"{setting} ({count} cells)" for feature, setting, count in self.store.feature_kinds()
                 if feature == name and setting != self._key(name)]
        holds = f" (it holds {name} under other settings: {', '.join(other)})" if other else ""
        return (f"run {self.store.run_dir} has no cached {name} under settings {self._key(name)} for {len(todo)} of "
                f"the {asked} canonical cells asked for, e.g. {todo[0]}{holds}; {fix}")


def make_features(features: str | FeatureMap, *, store: Any = None,
                  space: SearchSpace[Any] | str | None = None) -> FeatureMap:
    """Resolve a feature spec: ``"onehot"``, ``"graph"``, ``"stats"``, ``"arch2vec"`` (needs ``store``),
    ``"zc"`` (params, FLOPs, synflow of :class:`ProxyFeatures`, from ``store``) or
    ``"zc:NAME,NAME"`` (any cached cell features), a path to an ``.npz`` cache, ``"a+b"``
    for several side by side, or a callable (returned as is).

    Args:
        features: The spec.
        store: Run store (for ``arch2vec`` and ``zc``).
        space: The cells' space (default NAS-Bench-201); another space takes ``onehot``,
            ``graph``, their joins, or a callable.

    Returns:
        The feature map, ``archs -> (n, d)``.

    Example:
        >>> make_features("onehot+graph", space="darts")([get_space("darts").sample(0)]).shape
        (1, 178)
        >>> nb201 = get_space("nb201")
        >>> make_features("arch2vec+stats", store=store)([nb201.sample(7)]).shape
        (1, 26)
        >>> make_features("arch2vec+stats+zc", store=store)([nb201.sample(7)]).shape
        (1, 29)
    """
    if callable(features):
        return features
    if isinstance(features, str) and "+" in features:
        parts = [part.strip() for part in features.split("+")]
        if not all(parts) or len(set(parts)) != len(parts):
            raise InvalidInputError(f"features {features!r} must join distinct names with '+', e.g. arch2vec+stats")
        return ConcatFeatures([make_features(part, store=store, space=space) for part in parts], name=features)
    resolved = resolve_space(space)
    if resolved.name != DEFAULT_SPACE:
        if features in ANY_SPACE_FEATURES:
            return SpaceFeatures(features, resolved)
        if features == "arch2vec":
            if store is None:
                raise InvalidInputError("features='arch2vec' needs the run store whose encoder computes them")
            encoded = EncoderFeatures.from_store(store)
            if encoded.encoder.space_.name != resolved.name:
                raise InvalidInputError(f"the run's arch2vec encoder was trained on space "
                                        f"{encoded.encoder.space_.name!r}, not {resolved.name!r}")
            return encoded
        raise InvalidInputError(f"features {features!r} are NAS-Bench-201's (they look cells up by its code) and "
                                f"do not apply to space {resolved.name!r}; use {', '.join(ANY_SPACE_FEATURES)}, "
                                "onehot+graph, or a callable archs -> (n, d) array")
    if features == "onehot":
        return onehot_features
    if features in ("graph", "costs"):
        return SpaceFeatures(features, resolved)
    if features == "stats":
        return stats_features
    if features == "arch2vec":
        if store is None:
            raise InvalidInputError("features='arch2vec' needs a run store holding the embeddings, "
                                    "or pass EmbeddingFeatures(...) directly")
        return EmbeddingFeatures.from_store(store)
    if features == "zc" or (isinstance(features, str) and features.startswith("zc:")):
        names = features[len("zc:"):] if features != "zc" else ("params", "flops", "synflow")
        return ProxyFeatures(names, store=store)
    if isinstance(features, (str, os.PathLike)) and str(features).endswith(".npz"):
        return EmbeddingFeatures.from_npz(features)
    raise InvalidInputError(f"unknown features {features!r}; choose onehot, graph, costs, stats, arch2vec, zc "
                            "(or zc:NAME,NAME: params, flops, synflow, naswot, jacov), a .npz cache, several joined with '+' "
                            "(arch2vec+stats+zc), or a callable")
