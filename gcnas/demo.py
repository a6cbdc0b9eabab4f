"""The main job end to end: ``gcnas demo``.

Trains a small uniform supernet on a built-in dataset, scores sub-networks with inherited
weights, fits the GCN predictor to them, builds the lookup table (params, FLOPs, latency
measured here for a sample and predicted by a GCN for the rest, estimated energy),
pretrains arch2vec, runs multi-objective Bayesian optimisation (predicted accuracy vs
latency vs energy) in its latent space, trains the chosen architectures from scratch to
see how prediction and reality compare, runs GAEA on the same supernet shape, and writes
``report.html``. Every stage is recorded in the run store; running the demo again skips
finished stages and resumes an interrupted one.

The demo runs on any registered space (``DemoSettings.space``): NAS-Bench-201 by default. A
stage that does not apply to the space is skipped with one line saying why (``gaea`` on a
supernet without architecture weights; the fused ranking, NAS-Bench-201's; arch2vec where
it cannot pretrain on the space), and a space that cannot be listed (imc, darts) gets its
lookup table over a pool of ``pool`` sampled architectures, which the search then searches.

This module sits above every package (like the CLI): it only calls their public APIs.
"""

from __future__ import annotations

import dataclasses
import errno
import inspect
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from gcnas.data import RunStore
from gcnas.exceptions import InvalidInputError
from gcnas.predictors.truth import Truth
from gcnas.spaces import DEFAULT_SPACE, decision_index, get_space

__all__ = ["DemoSettings", "run_demo"]


def _code(space: Any, arch: Any) -> int:
    """The cell's id in the run store and stage names (:func:`gcnas.spaces.decision_index`)."""
    return decision_index(space, arch)


def _distinct_canonical(space: Any, num: int, seed: int) -> list[Any]:
    """``num`` distinct class representatives (``canonical(a) == a``), drawn uniformly with ``seed``
    (a space that cannot be listed: :func:`gcnas.supernet.score.sample_distinct`)."""
    if space.size() is None:
        from gcnas.supernet.score import sample_distinct

        return sample_distinct(space, num, seed)
    pool = [a for a in space.enumerate() if space.canonical(a) == a]
    if num > len(pool):
        raise InvalidInputError(f"cannot draw {num} distinct architectures from a pool of {len(pool)}")
    return [pool[int(i)] for i in np.random.default_rng(seed).choice(len(pool), size=num, replace=False)]


def _covered(space: Any) -> bool:
    """Whether the latency tables and the analytic energy model know the space's cells (nb201)."""
    from gcnas.predictors.lut import hardware_covers

    return hardware_covers(space)

@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """Sizes of every stage of the demo (``quick()`` is the toy-size version the tests run).

    Attributes:
        space: The search space, by name (:func:`gcnas.spaces.get_space`; default nb201).
        dataset: Image dataset of the supernet and the from-scratch training (``imagefolder``:
            the user's own images, ``data_root`` holding ``train/`` and ``test/``).
        image_size: Side the ``imagefolder`` images are resized to.
        channels: Supernet / standalone channels of the first stage (NAS-Bench-201: 16).
        cells: Cells per stage (NAS-Bench-201: 5); in the imc space, the supernet's deepest stage
            (1-4 blocks; the scored sub-networks are at most this deep, the standalone ones take none).
        supernet_epochs: Epochs of the uniform supernet.
        batch_size: Images per step.
        lr: Initial learning rate of the supernet weights (digits trains few steps: 0.1).
        sampling: How the uniform supernet draws its paths (see
            :class:`gcnas.supernet.strategies.Uniform`).
        gaea_epochs: Epochs of the GAEA supernet (0: no GAEA stage).
        gaea_arch_lr: GAEA's exponentiated-gradient step (the paper's 0.1 assumes ~20k steps).
        samples: Sub-networks scored with inherited weights (distinct canonical cells).
        bn_recalibrate: Training batches for BatchNorm recalibration per sub-network.
        score_images: Validation images each sub-network is scored on (``None``: all).
        latency: ``measured`` (latency measured here for ``measure`` cells, a GCN predicts the
            rest), a latency table ``CSV:COLUMN`` (e.g. NAS-Bench-201's published pixel3 column) or
            ``imc`` (the IMC crossbar model, any space; the CLI's default outside nb201).
        energy: The lookup table's energy source (``None``: ``model``, the analytic estimate, where
            it covers the space, nb201; else ``imc``, the crossbar model).
        pool: Rows of the lookup table of a space that cannot be listed (distinct architectures
            drawn with the seed); a space that can be listed is tabled whole.
        measure: Architectures whose latency is measured here (the GCN predicts the rest).
        latency_repeats: Timed passes per latency measurement.
        arch2vec_epochs: Pretraining epochs of arch2vec over the whole space.
        arch2vec_decoder_epochs: Epochs of arch2vec's final decoder-only phase.
        search_budget: Evaluations of the multi-objective BO.
        search_init: Random initial design of the BO.
        picks: Cells picked from the searched Pareto front (its accurate half, spread over costs).
        retrain: Architectures trained from scratch at the end: the picks, then GAEA's cell
            (0: none; optional when a truth table judges the picks).
        retrain_epochs: Epochs of each from-scratch training.
        steps_per_epoch: Cap on training steps per epoch (``None``: whole split).
        gcn_ensemble: Members of the GCN ensembles (accuracy and latency predictors).
        gcn_epochs: Most training epochs of each GCN (early stopping may end sooner).
        map_points: Architectures in the t-SNE panel of the latent map (0: PCA only).
        fusion: Fill the lookup table from the fused ranking (supernet score, zero-cost proxies
            and anchors; see :mod:`gcnas.predictors.fused_run`) instead of the supernet scores alone.
        anchors: Cells trained from scratch to weight and scale the fused ranking (0: plain rank average).
        anchor_epochs: Epochs of each anchor's short schedule.
        anchor_steps: Steps per anchor epoch (``None``: the whole train split).
        proxies: Cheap features fused beside the supernet score (comma-separated).
        proxy_channels: Channels of the network the proxies run on (NAS-Bench-201: 16).
        proxy_cells: Cells per stage of that network (NAS-Bench-201: 5).
    """

    space: str = DEFAULT_SPACE
    dataset: str = "digits"
    image_size: int = 32
    channels: int = 8
    cells: int = 1
    supernet_epochs: int = 10
    gaea_epochs: int = 6
    batch_size: int = 32
    lr: float = 0.1
    sampling: str = "fair"
    gaea_arch_lr: float = 3.0
    samples: int = 200
    bn_recalibrate: int = 2
    score_images: int | None = None
    latency: str = "measured"
    energy: str | None = None
    pool: int = 1000
    measure: int = 100
    latency_repeats: int = 10
    arch2vec_epochs: int = 8
    arch2vec_decoder_epochs: int = 60
    search_budget: int = 50
    search_init: int = 12
    picks: int = 5
    retrain: int = 6
    retrain_epochs: int = 10
    steps_per_epoch: int | None = None
    gcn_ensemble: int = 3
    gcn_epochs: int = 200
    map_points: int = 1500
    fusion: bool = True
    anchors: int = 20
    anchor_epochs: int = 3
    anchor_steps: int | None = 150
    proxies: str = "params,synflow,naswot,jacov"
    proxy_channels: int = 16
    proxy_cells: int = 5

    def __post_init__(self) -> None:
        get_space(self.space)  # an unknown name is refused here, listing the known ones
        if isinstance(self.pool, bool) or not isinstance(self.pool, int) or self.pool < 2:
            raise InvalidInputError(f"pool must be an int >= 2, got {self.pool!r}")

    @property
    def energy_source(self) -> str:
        """The lookup table's energy source: :attr:`energy`, or the default of the space."""
        return self.energy or ("model" if _covered(get_space(self.space)) else "imc")

    @classmethod
    def images(cls, **overrides: Any) -> DemoSettings:
        """Real images on 2 CPU cores (CIFAR-10-sized image folder: about an hour).

        The supernet recipe is the one ``benchmarks/supernet_ranking.py`` measured against
        NAS-Bench-201's truth (see docs/supernet.md); no GAEA stage.
        """
        sizes = dict(dataset="imagefolder", channels=16, cells=1, supernet_epochs=40, gaea_epochs=0,
                     batch_size=64, lr=0.05, sampling="fair", samples=500, bn_recalibrate=4,
                     score_images=2048, search_budget=60, gcn_ensemble=5, gcn_epochs=300)
        sizes.update(overrides)
        return cls(**sizes)

    @classmethod
    def quick(cls, **overrides: Any) -> DemoSettings:
        """The whole pipeline at toy sizes, under a minute on 2 cores (what the test suite runs)."""
        small = dict(channels=4, cells=1, supernet_epochs=1, gaea_epochs=1, samples=24, bn_recalibrate=1,
                     measure=8, latency_repeats=2, arch2vec_epochs=1, arch2vec_decoder_epochs=5, search_budget=10, search_init=5,
                     picks=1, retrain=2, retrain_epochs=1, steps_per_epoch=6, gcn_ensemble=1, gcn_epochs=30, map_points=0,
                     anchors=5, anchor_epochs=1, anchor_steps=2, proxy_channels=4, proxy_cells=1, pool=24)
        small.update(overrides)
        return cls(**small)


class _Stages:
    """Runs each stage once: a finished stage is skipped, its recorded info returned."""

    def __init__(self, store: RunStore, log: Callable[[str], None]) -> None:
        self.store = store
        self.log = log
        self.seconds: dict[str, float] = {}

    def run(self, name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        done = self.store.stage(f"demo:{name}")
        if done is not None:
            self.log(f"[{name}] done earlier ({done.get('seconds') or 0:.1f} s), skipped")
            self.seconds[name] = float(done.get("seconds") or 0.0)
            return done
        self.log(f"[{name}] ...")
        began = time.perf_counter()
        info = work()
        seconds = time.perf_counter() - began
        self.store.finish_stage(f"demo:{name}", info, seconds)
        self.seconds[name] = seconds
        self.log(f"[{name}] finished in {seconds:.1f} s")
        return {**info, "seconds": seconds}


def _check_disk(run_dir: Path, need_mb: int = 200) -> None:
    free = shutil.disk_usage(run_dir).free / 2**20
    if free < need_mb:
        raise InvalidInputError(f"only {free:.0f} MB free on the disk of {str(run_dir)!r}; the demo needs about "
                                f"{need_mb} MB: free some space or choose another --run DIR")


def run_demo(run_dir: str | Path = "runs/demo", *, settings: DemoSettings | None = None, seed: int = 0,
             device: str = "cpu", data_root: str | None = None, truth: Truth | None = None,
             progress: bool = True, log: Callable[[str], None] = print, overwrite: bool = False) -> dict[str, Any]:
    """Run (or resume) the whole pipeline and write ``run_dir/report.html``.

    A run directory that holds a demo with the same settings is resumed; one that holds
    anything else (a demo with other settings, a predictor or lookup table of other
    commands) is refused, or with ``overwrite`` emptied first.

    Args:
        run_dir: The run directory.
        settings: Stage sizes (default: the few-minutes CPU demo).
        seed: Seed of every stage.
        device: ``cpu``, ``cuda`` or ``auto`` for supernet and standalone training.
        data_root: Folder of CIFAR / ImageNet16-120 files, or the image folder, when
            ``settings.dataset`` needs one.
        truth: True accuracy of the cells (e.g. NAS-Bench-201's ``test_acc``), read only after
            every stage has fitted and picked, for the report's judgement of the rankings and
            picks; it changes nothing else.
        progress: Show progress bars.
        log: Where stage messages go.
        overwrite: Delete everything in ``run_dir`` (a gcnas run) first when it holds other work.

    Returns:
        A summary: stage timings, Kendall tau figures, the chosen architectures, the report path.

    Raises:
        InvalidInputError: ``run_dir`` holds other work and ``overwrite`` is False (or it is
            not a gcnas run: then it is never emptied); a ``truth`` beside a space other than nb201.

    Example:
        >>> summary = run_demo("runs/demo", settings=DemoSettings.quick())
        >>> summary["report"]
        'runs/demo/report.html'
    """
    settings = settings or DemoSettings()
    if truth is not None and settings.space != DEFAULT_SPACE:
        raise InvalidInputError(f"a truth table judges a demo over every cell of NAS-Bench-201 "
                                f"(gcnas.demo_truth), not the {settings.space!r} space; leave --truth out")
    run_dir = Path(run_dir)
    config = {"settings": dataclasses.asdict(settings), "seed": seed, "device": device, "data_root": data_root}
    _claim_run(run_dir, config["settings"], overwrite, log)
    try:
        store = RunStore(run_dir, space=settings.space)
    except OSError as error:  # a full disk surfaces as OSError from sqlite or mkdir
        raise InvalidInputError(f"cannot use run directory {str(run_dir)!r}: {error}") from None
    _check_disk(run_dir)
    store.write_config(config, "demo.json")
    finished = False
    try:
        summary = _pipeline(store, settings, seed=seed, device=device, data_root=data_root, truth=truth,
                            progress=progress, log=log)
        finished = True
        return summary
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InvalidInputError(f"the disk of {str(run_dir)!r} is full; free space and rerun the same "
                                    "command: finished stages are kept") from None
        raise
    finally:
        if not finished and store.is_empty() and not _held_work(run_dir):
            (run_dir / "demo.json").unlink(missing_ok=True)  # nothing done: the settings bind no rerun
        store.close()


_STORE_FILES = ("gcnas.sqlite", "gcnas.sqlite-wal", "gcnas.sqlite-shm", "gcnas.sqlite-journal")
_WAYS_OUT = "add --overwrite to replace it (everything in the folder is deleted), or choose another --run DIR"


def _claim_run(run_dir: Path, settings: dict[str, Any], overwrite: bool, log: Callable[[str], None]) -> None:
    """Let the demo use ``run_dir``: resume its own run with these settings, refuse any other
    work there (a demo with other settings, what other commands made) unless ``overwrite``,
    which empties the folder first."""
    if not run_dir.is_dir():
        return
    previous = _read_json(run_dir / "demo.json")
    if previous is not None:
        previous = {**previous, "settings": _recorded(previous.get("settings") or {}, settings)}
    if previous is not None and previous.get("settings") == settings:
        return  # the same demo: resume it
    held = _held_work(run_dir)
    if not held:
        return  # an empty folder, a store nothing was written to, or a demo that did nothing yet
    is_run = (run_dir / _STORE_FILES[0]).is_file() or previous is not None
    if previous is not None:
        old = previous.get("settings") or {}
        changed = [f"{k} {old.get(k)!r} -> {v!r}" for k, v in settings.items() if old.get(k) != v]
        what = f"a demo run with other settings ({', '.join(changed[:4])}{', ...' if len(changed) > 4 else ''})"
        ways = f"rerun with the same flags to resume it, {_WAYS_OUT}"
    elif is_run:
        what, ways = f"work the demo did not make ({', '.join(held)})", f"the demo would replace it: {_WAYS_OUT}"
    else:
        raise InvalidInputError(f"{str(run_dir)!r} is not a gcnas run but holds files ({', '.join(held)}); the demo "
                                "neither writes into nor deletes them: choose another --run DIR")
    if not overwrite:
        raise InvalidInputError(f"{str(run_dir)!r} holds {what}; {ways}")
    RunStore.close_all(run_dir)
    for entry in sorted(run_dir.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    log(f"--overwrite: emptied {run_dir} (it held {what})")


def _recorded(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The settings of a demo run as recorded, with those added since it was written (``space``,
    ``energy``, ``pool``) at the value it ran with: nb201, the energy model, and (a listed space
    has no pool) the pool asked for now."""
    old = {"space": DEFAULT_SPACE, "energy": None, **old}
    if "pool" not in old and get_space(old["space"]).size() is not None:
        old["pool"] = new.get("pool")
    return old


def _read_json(path: Path) -> dict[str, Any] | None:
    import json

    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"{str(path)!r} is not valid JSON ({error}); fix or delete it, or choose another "
                                "--run DIR") from None


def _held_work(run_dir: Path, shown: int = 6) -> list[str]:
    """What ``run_dir`` holds, in a few words each: its files and folders, and what its run
    store records (an empty store is nothing)."""
    held = [f"{e.name}/" if e.is_dir() else e.name for e in sorted(run_dir.iterdir())
            if e.name not in _STORE_FILES and e.name != "demo.json"]
    if (run_dir / _STORE_FILES[0]).is_file():
        with RunStore(run_dir, mode="ro") as store:
            if not store.is_empty():
                held += [f"stage {name}" for name in store.stages()]
                held += [f"samples of {source}" for source in store.sample_sources()]
                if store.lut_size():
                    held.append(f"a lookup table of {store.lut_size()} rows")
                held += [f"search study {study}" for study in store.studies()]
                held = held or ["records in its run store"]
    return held[:shown] + ([f"{len(held) - shown} more"] if len(held) > shown else [])


def _pipeline(store: RunStore, s: DemoSettings, *, seed: int, device: str, data_root: str | None,
              truth: Truth | None, progress: bool, log: Callable[[str], None]) -> dict[str, Any]:
    from gcnas.data.images import load_images
    from gcnas.supernet import load_supernet, sample_subnets, train_supernet
    from gcnas.supernet.train import supernet_class

    run_dir = store.run_dir
    space = store.space
    stages = _Stages(store, log)
    data = load_images(s.dataset, root=data_root, image_size=s.image_size, progress=progress)
    train_args = dict(dataset=s.dataset, data_root=data_root, channels=s.channels, cells=s.cells, batch_size=s.batch_size, lr=s.lr,
                      seed=seed, device=device, steps_per_epoch=s.steps_per_epoch, data=data, progress=progress, resume=True,
                      supernet=supernet_class(space.name))

    def supernet() -> dict[str, Any]:
        trained = train_supernet(run_dir, strategy="uniform", epochs=s.supernet_epochs,
                                 strategy_kwargs={"sampling": s.sampling}, **train_args)
        last = trained.history[-1]
        return {"epochs": len(trained.history), "train_accuracy": last["accuracy"], "train_loss": last["loss"]}

    stages.run("supernet", supernet)

    def gaea() -> dict[str, Any]:
        trained = train_supernet(run_dir / "gaea", strategy="gaea", epochs=s.gaea_epochs,
                                 strategy_kwargs={"arch_lr": s.gaea_arch_lr}, **train_args)
        return {"derived": space.format(trained.derive()), "entropy": trained.history[-1].get("entropy")}

    gaea_info = stages.run("gaea", gaea) if s.gaea_epochs > 0 and _applies("gaea", _gaea_refusal(space), log) \
        else None
    score_batch = 256
    score_limit = None if s.score_images is None else max(1, -(-s.score_images // score_batch))

    def sample() -> dict[str, Any]:
        trained = load_supernet(run_dir)
        samples = sample_subnets(store, trained, data, num=s.samples, seed=seed, bn_recalibrate=s.bn_recalibrate,
                                 batch_size=score_batch, limit=score_limit, progress=progress)
        accuracies = np.array([x.accuracy for x in samples])
        return {"num": len(samples), "accuracy_min": float(accuracies.min()), "accuracy_max": float(accuracies.max())}

    stages.run("sample", sample)
    gcn = dict(ensemble=s.gcn_ensemble, epochs=s.gcn_epochs, seed=seed,
               **({} if space.name == DEFAULT_SPACE else {"space": space.name}))  # (nb201: the predictors' default)
    fused_refusal = None if space.name == DEFAULT_SPACE else (
        f"the fused ranking (gcnas.predictors.fused_run: its cell ids, proxies' collapse guard and anchors) is "
        f"NAS-Bench-201's, not the {space.name!r} space's; the GCN is fitted to the supernet scores instead")
    if s.fusion and _applies("fused ranking", fused_refusal, log):
        predictor_info = stages.run("predictor", lambda: _fit_fused(store, s, gcn, data, seed=seed, device=device,
                                                                    data_root=data_root, progress=progress, log=log))
    else:
        predictor_info = stages.run("predictor", lambda: _fit_accuracy_predictor(store, gcn))
    if s.latency == "measured":
        stages.run("latency", lambda: _latency(store, s, gcn, progress))
    lut_info = stages.run("lut", lambda: _lookup_table(store, s, seed))

    def encoder() -> dict[str, Any]:
        from gcnas.encoders import pretrain

        model = pretrain(store, epochs=s.arch2vec_epochs, decoder_epochs=s.arch2vec_decoder_epochs, seed=seed,
                         progress=progress)
        return {"latent_dim": model.latent_dim, **{k: v for k, v in model.history_[-1].items()
                                                   if k.startswith("holdout_")}}

    arch2vec_refusal = None if space.name == DEFAULT_SPACE else (
        f"the search on the {space.name!r} space models the cells' graphs and costs (BO features graph+costs), "
        "not arch2vec's latent space")
    if _applies("arch2vec", arch2vec_refusal, log):
        stages.run("arch2vec", encoder)
    search_info = stages.run("search", lambda: _search(store, s, seed, progress))
    chosen = [space.parse(a) for a in search_info["chosen"]]
    gaea_arch = space.parse(gaea_info["derived"]) if gaea_info else None
    to_train = list(dict.fromkeys([*chosen, gaea_arch] if gaea_arch else chosen))[:max(s.retrain, 0)]

    def retrain() -> dict[str, Any]:
        return {"results": _retrain(store, to_train, s, seed, device, data, log)}

    retrain_info = stages.run("retrain", retrain)
    summary = {
        "run_dir": str(run_dir),
        "stage_seconds": dict(stages.seconds),
        "predictor_kendall_tau_heldout": predictor_info["kendall_tau"],
        "accuracy_column": predictor_info.get("accuracy_column", "GCN prediction of the supernet score (inherited "
                                                                  "weights)"),
        "lut_rows": lut_info["rows"],
        "space": space.name,
        "gaea_derived": space.format(gaea_arch) if gaea_arch else None,
        "chosen": [space.format(a) for a in chosen],
        "retrain": retrain_info["results"],
        "data": _data_record(s.dataset, data, data_root),
    }
    summary["predicted_vs_trained_kendall_tau"] = _tau_predicted_vs_trained(retrain_info["results"])
    if truth is not None:  # judged only now, after every stage has fitted and picked
        from gcnas.demo_truth import judge_demo

        summary["truth"] = judge_demo(store, summary, truth)
    from gcnas.demo_report import write_report

    began = time.perf_counter()
    summary["report"] = str(write_report(store, summary, map_points=s.map_points))
    summary["stage_seconds"]["report"] = time.perf_counter() - began
    summary["total_seconds"] = float(sum(summary["stage_seconds"].values()))
    store.write_config(summary, "summary.json")
    log(f"report: {summary['report']}")
    return summary


def _applies(stage: str, refusal: str | None, log: Callable[[str], None]) -> bool:
    """Whether a stage runs: ``refusal`` (why it does not apply to the space) is logged as the
    stage's one line, ``[stage] skipped: ...``, and it does not."""
    if refusal is not None:
        log(f"[{stage}] skipped: {refusal}")
    return refusal is None


def _gaea_refusal(space: Any) -> str | None:
    """Why GAEA cannot train the space's supernet (one without architecture weights), or None."""
    from gcnas.supernet.strategies import check_strategy
    from gcnas.supernet.train import supernet_class

    try:
        check_strategy("gaea", supernet_class(space.name).routes)
    except InvalidInputError:
        return (f"GAEA learns architecture weights (edges x ops), which the {space.name!r} supernet has none of; "
                "the uniform supernet alone is trained")
    return None


def _data_record(dataset: str, data, data_root: str | None) -> dict[str, Any]:
    """What the demo ran on: dataset, root folder, classes, images per split (the report's data block)."""
    root = {"digits": "built in (scikit-learn's 8x8 digits, upscaled)",
            "synthetic": "generated (seeded)"}.get(dataset, str(Path(data_root).expanduser()) if data_root else None)
    names = None
    if dataset == "imagefolder" and data_root:  # the class folders, in label order (torchvision's sorted order)
        train = Path(data_root).expanduser() / "train"
        names = sorted(p.name for p in train.iterdir() if p.is_dir()) if train.is_dir() else None
    return {"dataset": dataset, "root": root, "classes": data.num_classes, "class_names": names,
            "train": len(data.train), "valid": len(data.valid), "test": len(data.test),
            "image_size": data.image_size}


def _holdout_split(n: int, seed: int, fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    cut = max(2, int(round(n * fraction)))
    return order[cut:], order[:cut]


def _fit_accuracy_predictor(store: RunStore, gcn: dict[str, Any]) -> dict[str, Any]:
    """Held-out Kendall tau of the GCN on supernet scores, then the final fit on all of them."""
    from gcnas.predictors import GCNPredictor, kendall_tau

    samples = store.samples("supernet")
    archs = [x.arch for x in samples]
    scores = np.array([x.accuracy for x in samples])
    train, held = _holdout_split(len(archs), gcn["seed"])
    probe = GCNPredictor(**gcn).fit([archs[i] for i in train], scores[train])
    predicted = probe.predict([archs[i] for i in held])
    tau = kendall_tau(scores[held], predicted)
    final = GCNPredictor(**gcn).fit(archs, scores)
    final.save(store.run_dir / "predictor.pt")
    return {"kendall_tau": float(tau), "heldout": [[_code(store.space, archs[i]), float(scores[i]), float(p)]
                                                   for i, p in zip(held, predicted)], "n_train": len(archs)}


def _fit_fused(store: RunStore, s: DemoSettings, gcn: dict[str, Any], data, *, seed: int, device: str,
               data_root: str | None, progress: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """The fused accuracy predictor: proxies and anchors beside the supernet scores (RUN/predictor.pt)."""
    from gcnas.predictors.features import ProxySettings
    from gcnas.predictors.fused_run import AnchorSchedule, fit_fused_predictor

    schedule = AnchorSchedule(epochs=s.anchor_epochs, steps_per_epoch=s.anchor_steps, channels=s.channels,
                              cells=s.cells, batch_size=s.batch_size)
    proxy = ProxySettings(channels=s.proxy_channels, cells=s.proxy_cells, num_classes=data.num_classes)
    return fit_fused_predictor(store, data, anchors=min(s.anchors, s.samples), proxies=s.proxies,
                               proxy_settings=proxy, schedule=schedule, gcn=gcn, seed=seed, device=device,
                               data_root=data_root, progress=progress, log=log)


def _latency(store: RunStore, s: DemoSettings, gcn: dict[str, Any], progress: bool) -> dict[str, Any]:
    """Measure latency here for a sample; a GCN fitted to it predicts every other architecture."""
    from gcnas.hardware import measure_many
    from gcnas.hardware.latency import measurement_key
    from gcnas.predictors import predictor_path, predictor_stage

    seed = gcn["seed"]
    space = store.space
    sample = _distinct_canonical(space, s.measure, seed + 1)
    measure_many(sample, store, device="cpu", repeats=s.latency_repeats, warmup=2, progress=progress, seed=seed)
    measured = store.costs("latency_ms", measurement_key("cpu"))
    archs = sorted(measured, key=lambda a: _code(space, a))
    values = np.array([measured[a][0] for a in archs])
    train, held = _holdout_split(len(archs), seed)
    probe = _latency_model(len(train), gcn).fit([archs[i] for i in train], values[train])
    predicted = probe.predict([archs[i] for i in held])
    within = float(np.mean(np.abs(predicted - values[held]) <= 0.1 * values[held]))
    # the run's latency predictor 'cpu': `lut build --latency predictor:cpu` keeps the measured
    # values, predicts the rest and, when calibrated, lets the bound apply to their upper end
    model = _latency_model(len(archs), gcn).fit(archs, values)
    model.save(predictor_path(store.run_dir, "cpu"))
    store.finish_stage(predictor_stage("cpu"), {"model": model.name, "target": "latency", "name": "cpu",
                                                "source": "measured:cpu", "n_train": len(archs),
                                                "train_codes": [_code(space, a) for a in archs],
                                                "train_values": [float(v) for v in values]})
    return {"measured": len(archs), "heldout_within_10pct": within,
            "measured_median_ms": float(np.median(values)), "calibrated": hasattr(model, "calibration")}


CALIBRATE_FROM = 20
"""Measured cells from which the demo's latency predictor is calibrated (cross-conformal):
fewer cannot state a 90% upper end, and the bound then compares point estimates."""


def _latency_model(n: int, gcn: dict[str, Any]):
    """The latency predictor of ``n`` measured cells: cross-conformal GCNs on log latency
    (``LATENCY_GCN``), or with fewer than :data:`CALIBRATE_FROM` cells the plain GCN ensemble."""
    from gcnas.predictors import LATENCY_GCN, ConformalPredictor, GCNPredictor

    if n < CALIBRATE_FROM:
        return GCNPredictor(**gcn)
    space = {"space": gcn["space"]} if "space" in gcn else {}
    return ConformalPredictor(model_params={**LATENCY_GCN, "epochs": gcn["epochs"], **space}, folds=5, seed=gcn["seed"])


def _lookup_table(store: RunStore, s: DemoSettings, seed: int) -> dict[str, Any]:
    """The lookup table: the whole space, or a pool of ``s.pool`` architectures where it cannot be listed."""
    from gcnas.predictors import LookupTable

    source = "predictor:cpu" if s.latency == "measured" else s.latency
    pool = None if store.space.size() is not None else s.pool
    table = LookupTable.build(store, latency=source, energy=s.energy_source, pool=pool, seed=seed)
    rows = table.predictions(distinct=False)[0]
    bound = float(np.nanmedian(store.lut_values(rows, "latency_ms")))
    confidence = 0.9 if (store.lut_meta().get("calibration") or {}).get("latency_ms") else 0.0
    top = table.query(max_latency_ms=bound, top=10, distinct=True, confidence=confidence)
    return {"rows": store.lut_size(), "pool": pool, "latency": source, "energy": s.energy_source,
            "columns": store.lut_columns(), "latency_bound_ms": bound,
            "confidence": confidence, "picks_measured": int(sum(bool(r.get("latency_measured")) for r in top)),
            "top": [{k: r[k] for k in ("arch", "accuracy", "latency_ms", "energy_mj", "params_m", "flops_m")}
                    for r in top]}


def _search(store: RunStore, s: DemoSettings, seed: int, progress: bool) -> dict[str, Any]:
    from gcnas.search import BayesianOptimization, LUTObjective, run_search

    # The costs in the lookup table are known for every cell: BO looks them up and models
    # only accuracy (the probability of being Pareto-optimal, see gcnas.search.bo).
    objectives = [LUTObjective("accuracy", True, store=store),
                  LUTObjective("latency_ms", False, cheap=True, store=store),
                  LUTObjective("energy_mj", False, cheap=True, store=store)]
    space = store.space
    features, options = "arch2vec+stats", {}
    if space.name != DEFAULT_SPACE:  # the cells' graphs and costs, over the lookup table's rows where it is a pool
        from gcnas.predictors import LookupTable

        features = "graph+costs"
        options = {"space": space,
                   "candidates": LookupTable(store).predictions(distinct=True)[0] if space.size() is None else None}
    searcher = BayesianOptimization(features, n_init=s.search_init, store=store, **options)
    result = run_search(searcher, objectives, budget=s.search_budget, store=store, study="demo-bo", seed=seed,
                        progress=progress)
    picks = _picks(space, result, s.picks)
    return {"evaluations": len(result), "front_size": len(result.pareto_front()), "features": features,
            "chosen": [space.format(a) for a in picks]}


def _picks(space: Any, result, k: int) -> list[Any]:
    """``k`` cells to train: the accurate half of the Pareto front, spread over its costs.

    The front's cheap end holds degenerate cells (all ``none``: no compute, no accuracy);
    only front members at least as accurate as the median evaluation qualify, and the most
    accurate other evaluations fill up when the front has too few.
    """
    trials = [t for t in result.trials if t.status == "ok"]
    floor = float(np.median([t.objectives["accuracy"] for t in trials]))
    front = sorted((t for t in result.pareto_front() if t.objectives["accuracy"] >= floor),
                   key=lambda t: -t.objectives["accuracy"])
    picks = _spread(_distinct_functions(space, [t.arch for t in front]), k)
    ranked = _distinct_functions(space, [t.arch for t in sorted(trials, key=lambda t: -t.objectives["accuracy"])])
    seen = {space.key(a) for a in picks}
    for arch in ranked:
        if len(picks) >= k:
            break
        if space.key(arch) not in seen:
            picks.append(arch)
            seen.add(space.key(arch))
    return picks


def _distinct_functions(space: Any, archs: list[Any]) -> list[Any]:
    """First cell of each function (``space.key``: NAS-Bench-201's isomorphism class, which already
    ignores dead edges and ``none`` inputs), in order (dead edges make many codes one network)."""
    kept: dict[str, Any] = {}
    for arch in archs:
        kept.setdefault(space.key(arch), arch)
    return list(kept.values())


def _spread(items: list, k: int) -> list:
    """``k`` items evenly spread over a sorted list (its ends included)."""
    if k <= 0 or not items:
        return []
    if len(items) <= k:
        return list(items)
    return [items[int(round(i))] for i in np.linspace(0, len(items) - 1, k)]


def _retrain(store: RunStore, archs: list[Any], s: DemoSettings, seed: int, device: str, data,
             log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Train each architecture from scratch; every finished one is kept across interruptions."""
    from gcnas.supernet import train_standalone

    space = store.space
    cells = _standalone_cells(space, s.cells)
    results = []
    predicted = store.lut_values(archs, "accuracy")
    for arch, prediction in zip(archs, predicted):
        key = f"demo:retrain:{_code(space, arch)}"
        done = store.stage(key)
        if done is None:
            log(f"  training {space.format(arch)} from scratch ({s.retrain_epochs} epochs)")
            out = train_standalone(arch, dataset=s.dataset, epochs=s.retrain_epochs, channels=s.channels,
                                   cells=cells, space=space, seed=seed, device=device, data=data,
                                   batch_size=s.batch_size, steps_per_epoch=s.steps_per_epoch)
            done = {"arch": space.format(arch), "predicted": float(prediction), "test_accuracy": out["test_accuracy"],
                    "valid_accuracy": out["valid_accuracy"], "train_seconds": out["seconds"]}
            store.finish_stage(key, done, out["seconds"])
        results.append({k: v for k, v in done.items() if k != "seconds"})
    return results


def _standalone_cells(space: Any, cells: int) -> int | None:
    """``cells`` for the space's standalone network: None where ``space.network`` declares ``cells=None``
    to refuse any other value (a space whose depth is part of the architecture: imc)."""
    parameter = inspect.signature(space.network).parameters.get("cells")
    return None if parameter is not None and parameter.default is None else cells


def _tau_predicted_vs_trained(results: list[dict[str, Any]]) -> float | None:
    from gcnas.predictors import kendall_tau

    if len(results) < 3:
        return None
    return float(kendall_tau([r["test_accuracy"] for r in results], [r["predicted"] for r in results]))
