"""The fused accuracy predictor of a run: supernet scores, zero-cost proxies and anchors in one.

:func:`fit_fused_predictor` is the stage that ``gcnas demo`` and ``gcnas predictor fuse`` run
after the supernet has scored its sampled cells:

1. the cheap features of the sampled cells (:func:`~gcnas.predictors.features.cell_features`,
   cached in the run store);
2. the anchors (:func:`train_anchors`): ``L`` cells trained from scratch with a short schedule on
   the run's own images, chosen at evenly spread quantiles of the label-free zero-cost ranking
   (parameter-free cells excluded), labelled with their accuracy on the valid split; each kept
   under ``RUN/anchors/`` so an interrupted stage resumes;
3. the fused ranking of the sampled cells (:class:`~gcnas.predictors.fused.FusedRanking`: the
   supernet score and the proxies as quantiles, weighted on the anchors), on the anchors'
   accuracy scale, with the collapse guard: a cell without a live convolution scores the
   lowest fused value;
4. a GCN fitted to those fused values, which fills the lookup table for every cell of the
   space (``RUN/predictor.pt``, what ``gcnas lut build`` reads).

Truth tables are never read here.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Sequence

import numpy as np

from gcnas.data.store import RunStore, Sample
from gcnas.exceptions import InvalidInputError
from gcnas.predictors.features import ProxySettings, cell_features, parse_feature_names
from gcnas.predictors.fused import FusedRanking, anchor_cells, is_parameter_free
from gcnas.spaces import decision_index, get_space

__all__ = ["AnchorSchedule", "train_anchors", "fit_fused_predictor", "fused_ingredients", "FUSED_SOURCE",
           "DEFAULT_FUSION_PROXIES"]


def _code(arch: Any) -> int:
    """The cell's id in the run store (:func:`gcnas.spaces.decision_index` of NAS-Bench-201)."""
    return decision_index(get_space("nb201"), arch)

FUSED_SOURCE = "fused"
"""The samples source under which the fused values of the scored cells are kept."""
DEFAULT_FUSION_PROXIES: tuple[str, ...] = ("params", "synflow", "naswot", "jacov")
"""Signals fused beside the supernet (FLOPs is left out: it ranks like params, and would count twice)."""


class AnchorSchedule(dict):
    """The short from-scratch schedule of the anchors (a dict of :func:`~gcnas.supernet.train_model` kwargs).

    Args:
        epochs: Epochs.
        steps_per_epoch: Steps per epoch (``None``: the whole train split).
        channels: Channels of the first stage.
        cells: Cells per stage.
        batch_size: Images per step.
        lr: Initial learning rate (cosine to 0).
    """

    def __init__(self, *, epochs: int = 3, steps_per_epoch: int | None = 150, channels: int = 8, cells: int = 1,
                 batch_size: int = 64, lr: float = 0.1) -> None:
        super().__init__(epochs=epochs, steps_per_epoch=steps_per_epoch, channels=channels, cells=cells,
                         batch_size=batch_size, lr=lr)


def train_anchors(store: RunStore, archs: Sequence[Any], data, *, schedule: AnchorSchedule | None = None,
                  seed: int = 0, device: str = "cpu", data_root: str | None = None,
                  log: Callable[[str], None] | None = None) -> dict[int, float]:
    """Train each cell of ``archs`` from scratch (kept under ``RUN/anchors``) and return its valid accuracy.

    Args:
        store: The run store (its folder holds the anchors' models).
        archs: The anchor cells, in training order.
        data: The run's :class:`~gcnas.data.images.ImageDataset`.
        schedule: The short schedule (default :class:`AnchorSchedule()`).
        seed: Seed of every anchor's initialisation and data order.
        device: Where they train.
        data_root: Recorded with each model (the image folder).
        log: Where a line per anchor goes (``None``: stderr).

    Returns:
        ``{code: valid accuracy (%)}``, in the order of ``archs``.
    """
    from gcnas.supernet import train_model

    schedule = schedule or AnchorSchedule()
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    out: dict[int, float] = {}
    for i, arch in enumerate(archs, start=1):
        began = time.perf_counter()
        model = train_model(store.run_dir / "anchors", arch, dataset=data.name, data=data, data_root=data_root,
                            seed=seed, device=device, **schedule)
        out[_code(arch)] = float(model.result["valid_accuracy"])
        how = "trained" if model.epochs_run else "kept"
        log(f"  anchor {i}/{len(archs)} {how}: {arch} valid {out[_code(arch)]:.2f}% "
            f"({time.perf_counter() - began:.1f} s)")
    return out


def fit_fused_predictor(store: RunStore, data, *, source: str = "supernet", anchors: int = 20,
                        proxies: Sequence[str] | str = DEFAULT_FUSION_PROXIES, proxy_settings: ProxySettings | None = None,
                        schedule: AnchorSchedule | None = None, gcn: dict[str, Any] | None = None, seed: int = 0,
                        device: str = "cpu", data_root: str | None = None, progress: bool = True,
                        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fuse the run's supernet scores with the proxies and anchors, and fit the GCN to the result.

    Args:
        store: The run store holding the scored sub-networks (``samples`` of ``source``).
        data: The run's images (the proxies' batch comes from its train split, the anchors
            train on it and are judged on its valid split).
        source: Samples to fuse (default the supernet's scores).
        anchors: Cells trained from scratch (0: the plain rank average, no training).
        proxies: Cheap features fused beside the supernet score.
        proxy_settings: Network the proxies run on (default NAS-Bench-201's, C=16 N=5).
        schedule: The anchors' schedule.
        gcn: Keyword arguments of the :class:`~gcnas.predictors.GCNPredictor` fitted to the fused values.
        seed: Seed of the proxies' batch, the anchors and the GCN.
        device: Where anchors train.
        data_root: The image folder (recorded with each anchor).
        progress: Progress bars.
        log: Where stage lines go (``None``: stderr).

    Returns:
        A summary: the weights of each signal, the anchors and their accuracies, the shrinkage,
        the anchors' in-sample Kendall tau, the GCN's held-out Kendall tau against the fused
        values, and what the accuracy column is.

    Raises:
        InvalidInputError: No samples of ``source`` in the run (score the supernet first), or
            more anchors than sampled cells.
    """
    from gcnas.predictors import GCNPredictor, kendall_tau

    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    proxies = parse_feature_names(proxies)
    samples = store.samples(source)
    if len(samples) < 3:
        raise InvalidInputError(f"the run has {len(samples)} samples of {source!r}; the fused predictor needs the "
                                "supernet's scores first (gcnas supernet sample --num K)")
    archs = [s.arch for s in samples]
    scores = np.array([s.accuracy for s in samples], dtype=np.float64)
    settings = proxy_settings or ProxySettings(num_classes=data.num_classes)
    images, _ = next(data.train.batches(settings.batch_size, shuffle=True, seed=seed, augment=False))
    feats = cell_features(archs, store=store, images=images, names=proxies, settings=settings,
                          image_size=data.image_size, progress=progress)
    guard = is_parameter_free(archs)
    label_free = FusedRanking().fit(feats).predict() if feats else scores
    allowed = int((~guard).sum())
    if anchors > allowed:
        raise InvalidInputError(f"--anchors {anchors} is more than the {allowed} sampled cells with a convolution; "
                                f"use at most {allowed}, or score more cells")
    order = anchor_cells(label_free, anchors, exclude=guard) if anchors > 0 else []
    measured = train_anchors(store, [archs[p] for p in order], data, schedule=schedule, seed=seed, device=device,
                             data_root=data_root, log=log) if order else {}
    fused = FusedRanking().fit({source: scores, **feats}, {p: measured[_code(archs[p])] for p in order})
    on_anchor_scale = fused.calibration_ is not None
    value = fused.predict_accuracy() if on_anchor_scale else 100.0 * fused.predict()
    value = np.where(guard, value.min(), value)
    ingredients = {source: scores, **feats}
    fused_score = fused.predict()
    store.add_samples(FUSED_SOURCE, [
        Sample(a, float(value[i]), None, {"fused_score": float(fused_score[i]), "guarded": bool(guard[i]),
                                          **{name: _json_number(v[i]) for name, v in ingredients.items()}})
        for i, a in enumerate(archs)])
    gcn = dict(gcn or {}, seed=seed)
    shuffled = np.random.default_rng(seed).permutation(len(archs))
    cut = max(2, int(round(0.2 * len(archs))))
    held, train = shuffled[:cut], shuffled[cut:]
    probe = GCNPredictor(**gcn).fit([archs[i] for i in train], value[train])
    predicted = probe.predict([archs[i] for i in held])
    heldout_tau = float(kendall_tau(value[held], predicted))
    began = time.perf_counter()
    final = GCNPredictor(**gcn).fit(archs, value)
    final.save(store.run_dir / "predictor.pt")
    # what `predictor eval` (the cells to leave out) and `lut build` (the collapse guard) read
    store.finish_stage("predictor", {"model": "gcn", "target": "accuracy", "name": None, "source": FUSED_SOURCE,
                                     "fused": True, "n_train": len(archs), "params": final.get_params(),
                                     "train_codes": [_code(a) for a in archs],
                                     "train_values": [float(v) for v in value]}, time.perf_counter() - began)
    column = ("predicted valid accuracy (%) after the anchors' short schedule: a GCN fitted to the fused "
              f"ranking of {len(archs)} supernet-scored cells (supernet score, {', '.join(proxies)}), weighted "
              f"and scaled on {len(order)} cells trained from scratch") if on_anchor_scale else (
              f"fused rank score (0-100): a GCN fitted to the plain rank average of the supernet score and "
              f"{', '.join(proxies)} over {len(archs)} cells (no anchors, so no accuracy scale)")
    return {"weights": fused.weights(), "shrinkage": fused.shrinkage_, "anchor_tau": fused.anchor_tau_,
            "anchors": [[str(archs[p]), measured[_code(archs[p])]] for p in order], "guarded": int(guard.sum()),
            "kendall_tau": heldout_tau, "n_train": len(archs), "accuracy_column": column,
            "heldout": [[_code(archs[i]), float(value[i]), float(p)] for i, p in zip(held, predicted)],
            "proxies": list(proxies), "calibration": fused.calibration_}


def _json_number(value: float) -> float | None:
    """A finite float, or None (JSON has no infinities: an undefined proxy is stored as null)."""
    value = float(value)
    return value if np.isfinite(value) else None


def fused_ingredients(samples: Sequence[Sample]) -> dict[str, np.ndarray]:
    """Each ingredient of the stored fused values (``samples`` of :data:`FUSED_SOURCE`), higher = better.

    Args:
        samples: The fused samples, as ``store.samples("fused")`` returns them.

    Returns:
        ``{signal: (len(samples),)}`` for every signal kept in the samples' ``extra``; a proxy
        that was undefined for a cell (stored as null) ranks below every defined one.
    """
    names = [k for k in (samples[0].extra if samples else {}) if k not in ("fused_score", "guarded")]
    out = {}
    for name in names:
        values = np.array([np.nan if s.extra.get(name) is None else s.extra[name] for s in samples], dtype=float)
        out[name] = np.where(np.isnan(values), np.nanmin(values) - 1.0, values)
    return out
