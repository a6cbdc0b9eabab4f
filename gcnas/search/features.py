"""Feature maps: the vectors a surrogate model sees for each architecture.

``"onehot"`` is the (30,) op one-hot of each cell; ``"arch2vec"`` is the latent mean of
the pretrained graph autoencoder (from an ``Arch2Vec`` encoder, the run store's
``embeddings("arch2vec")``, or an ``.npz`` cache with ``codes`` and ``z``); ``"stats"``
are the training-free live-graph statistics of :func:`gcnas.encoders.graph_statistics`;
``"a+b"`` joins maps side by side (``"arch2vec+stats"``); any callable
``archs -> (n, d) array`` works too.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.space import Arch

__all__ = ["FeatureMap", "onehot_features", "stats_features", "EmbeddingFeatures", "ConcatFeatures", "make_features"]

FeatureMap = Callable[[Sequence[Arch]], np.ndarray]


def onehot_features(archs: Sequence[Arch]) -> np.ndarray:
    """``(n, 30)`` float64 op one-hot of each cell (the ablation baseline)."""
    if not len(archs):
        return np.zeros((0, 30))
    return np.stack([a.one_hot() for a in archs]).astype(np.float64)


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
        >>> feats([Arch.from_code(0)]).shape
        (1, 26)
    """

    def __init__(self, maps: Sequence[FeatureMap], name: str = "features") -> None:
        if not maps:
            raise InvalidInputError("ConcatFeatures needs at least one feature map")
        self.maps = list(maps)
        self.name = name

    def __call__(self, archs: Sequence[Arch]) -> np.ndarray:
        return np.column_stack([np.asarray(f(archs), dtype=np.float64).reshape(len(archs), -1) for f in self.maps])


class EmbeddingFeatures:
    """A lookup of precomputed embeddings by architecture code.

    Args:
        codes: ``(k,)`` architecture codes.
        vectors: ``(k, d)`` one embedding each.
        name: Label used in messages.

    Example:
        >>> feats = EmbeddingFeatures.from_store(store)        # arch2vec of the run
        >>> feats([Arch.from_code(0)]).shape
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
            missing = Arch.from_code(int(codes[rows < 0][0]))
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


def make_features(features: str | FeatureMap, *, store: Any = None) -> FeatureMap:
    """Resolve a feature spec: ``"onehot"``, ``"stats"``, ``"arch2vec"`` (needs ``store``),
    a path to an ``.npz`` cache, ``"a+b"`` for several side by side, or a callable
    (returned as is).

    Example:
        >>> make_features("arch2vec+stats", store=store)([Arch.from_code(7)]).shape
        (1, 26)
    """
    if callable(features):
        return features
    if isinstance(features, str) and "+" in features:
        parts = [part.strip() for part in features.split("+")]
        if not all(parts) or len(set(parts)) != len(parts):
            raise InvalidInputError(f"features {features!r} must join distinct names with '+', e.g. arch2vec+stats")
        return ConcatFeatures([make_features(part, store=store) for part in parts], name=features)
    if features == "onehot":
        return onehot_features
    if features == "stats":
        return stats_features
    if features == "arch2vec":
        if store is None:
            raise InvalidInputError("features='arch2vec' needs a run store holding the embeddings, "
                                    "or pass EmbeddingFeatures(...) directly")
        return EmbeddingFeatures.from_store(store)
    if isinstance(features, (str, os.PathLike)) and str(features).endswith(".npz"):
        return EmbeddingFeatures.from_npz(features)
    raise InvalidInputError(f"unknown features {features!r}; choose onehot, stats, arch2vec, a .npz cache, "
                            "several joined with '+' (arch2vec+stats), or a callable")
