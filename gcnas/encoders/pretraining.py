"""Pretrain arch2vec for a run: checkpoint, resumable training, embeddings in the store."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from gcnas.data.store import RunStore
from gcnas.encoders.arch2vec import Arch2Vec
from gcnas.exceptions import InvalidInputError
from gcnas.spaces import SearchSpace

__all__ = ["pretrain", "load_pretrained", "CHECKPOINT", "ENCODER_NAME", "STAGE"]

CHECKPOINT = "arch2vec.pt"
"""File name of the pretrained encoder inside the run directory."""
PARTIAL = "arch2vec.partial.pt"
ENCODER_NAME = "arch2vec"
"""Encoder name of the embeddings in the run store."""
STAGE = "encoder_pretrain"


def pretrain(store: RunStore, *, space: SearchSpace[Any] | str | None = None, epochs: int = 12,
             latent_dim: int = 16, seed: int = 0, force: bool = False, progress: bool = True,
             **params: Any) -> Arch2Vec:
    """Pretrain arch2vec on the run's space and store the embeddings of the cells it knows.

    Writes ``run_dir/arch2vec.pt`` and ``store.write_embeddings("arch2vec", archs, Z)``
    for every cell of a space that can be listed (all 15,625 of NAS-Bench-201), or for
    the ``sample_size`` cells drawn to train on otherwise (DARTS, IMC), and records the stage
    ``encoder_pretrain``. Training saves
    its state after every epoch (``run_dir/arch2vec.partial.pt``), so an interrupted
    call resumes where it stopped when called again with the same settings. When the
    run already has an encoder pretrained with the same settings, it is loaded (and
    the embeddings rewritten if missing) instead of trained again.

    Args:
        store: The run store.
        space: The search space (an instance or its name); ``None``: the run's space
            (``store.space`` where the store records one), else :class:`Arch2Vec`'s default.
        epochs: Training epochs.
        latent_dim: Embedding size.
        seed: Seed of the split, the initialisation and the training noise.
        force: Retrain even when the run has an encoder (with any settings).
        progress: Show a progress bar.
        **params: Further :class:`Arch2Vec` arguments (``hidden_dim``, ``beta``, ...).

    Returns:
        The pretrained encoder.

    Example:
        >>> with RunStore("runs/demo") as store:
        ...     encoder = pretrain(store, epochs=12, latent_dim=16, seed=0)
        ...     archs, Z = store.embeddings("arch2vec")        # 15,625 x 16
    """
    space = space if space is not None else getattr(store, "space", None)
    if space is not None:
        params["space"] = space
    encoder = Arch2Vec(latent_dim=latent_dim, seed=seed, epochs=epochs, **params)
    path, partial = store.run_dir / CHECKPOINT, store.run_dir / PARTIAL
    if force:
        for stale in (path, partial):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
    if path.exists():
        existing = Arch2Vec.load(path)
        if existing.get_params() != encoder.get_params():
            differ = {k: v for k, v in existing.get_params().items() if encoder.get_params()[k] != v}
            raise InvalidInputError(
                f"{str(path)!r} was pretrained with other settings ({differ}); pass force=True "
                "(`gcnas encoder pretrain --force`) to retrain, or use another --run DIR")
        if len(store.embeddings(ENCODER_NAME)[0]) != len(_embedded_cells(existing)):
            _store_embeddings(store, existing)
        return existing
    began = time.perf_counter()
    encoder.fit(None, progress=progress, checkpoint=partial)
    encoder.save(path)
    _store_embeddings(store, encoder)
    last = encoder.history_[-1]
    info = {**encoder.get_params(), "checkpoint": str(path),
            "train_seconds": sum(h["seconds"] for h in encoder.history_),
            **{k: v for k, v in last.items() if k.startswith("holdout_") or k == "loss"}}
    store.finish_stage(STAGE, info, time.perf_counter() - began)
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    return encoder


def load_pretrained(store: RunStore, *, latent_dim: int | None = None) -> Arch2Vec:
    """The encoder pretrained for this run (``run_dir/arch2vec.pt``).

    Args:
        store: The run store.
        latent_dim: Expected embedding size (raises when the checkpoint differs).

    Returns:
        The fitted encoder; raises ``DataNotFoundError`` when the run has none.
    """
    return Arch2Vec.load(store.run_dir / CHECKPOINT, latent_dim=latent_dim)


def _embedded_cells(encoder: Arch2Vec) -> list[Any]:
    """Every cell of a space that can be listed; else the cells the encoder was fitted on."""
    space = encoder.space_
    if space.size() is not None:
        return list(space.enumerate())
    return encoder.train_archs() + encoder.holdout_archs()


def _store_embeddings(store: RunStore, encoder: Arch2Vec) -> None:
    archs = _embedded_cells(encoder)
    store.write_embeddings(ENCODER_NAME, archs, encoder.encode(archs))
