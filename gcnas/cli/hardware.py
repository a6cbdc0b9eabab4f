"""``gcnas hw``: every cost of one architecture, and latency (energy) measured here."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gcnas.cli._common import (ARCH_FORMS, add_common, add_executor_options, add_space, arch_ids, emit, executor_kind,
                               open_executor, open_store, resolve_arch, run_space)

DATASET_CHOICES = ("cifar10", "cifar100", "imagenet16-120")
UNITS = {"latency_ms": "ms", "energy_mj": "mJ"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("hw", help="hardware costs: params, FLOPs, latency, energy")
    commands = parser.add_subparsers(dest="hw_command", metavar="SUBCOMMAND")
    commands.required = True

    show = commands.add_parser(
        "costs", help="every cost known for one architecture",
        description="Prints exact params/FLOPs, the analytic energy estimate (nb201), every cost measured into "
                    "the run store, and each --latency / --energy source given. Latency sources: "
                    "CSV:COLUMN, measured[:DEVICE], hwnb:PICKLE:DEVICE, help:DIR:DEVICE, brp:PICKLE, imc (the IMC "
                    "crossbar model, any space). Energy sources: model[:fp32|int8], hwnb:PICKLE:DEVICE, "
                    "measured[:DEVICE], imc.")
    show.add_argument("arch", metavar="ARCH", help=ARCH_FORMS)
    show.add_argument("--table", metavar="TABLE", help="benchmark table that index:N refers to "
                      "(default: the packaged NAS-Bench-201 table)")
    show.add_argument("--latency-from", "--latency", dest="latency", action="append", default=[], metavar="SPEC", help="latency source (repeatable)")
    show.add_argument("--energy-from", "--energy", dest="energy", action="append", default=[], metavar="SPEC", help="energy source (repeatable)")
    show.add_argument("--dataset", choices=DATASET_CHOICES, default="cifar10",
                      help="class count / input size (and HW-NAS-Bench dataset); default cifar10")
    add_space(show, creates=False)
    add_common(show)
    show.set_defaults(handler=show_costs)

    measure = commands.add_parser(
        "measure", help="measure latency here into the run store (resumable)",
        description="Times the exact network of K sampled architectures (or all 15,625 of nb201) of the run's "
                    "space (--space for a new run) on this machine, at the network's default shape unless "
                    "--channels / --cells are given, and stores the fastest repeat and the interquartile spread in the run store's costs table "
                    "(metric latency_ms). Rerun the same command to resume. With --workers N the groups of "
                    "--interleave cells are timed on N workers and stored here; timing several groups at once on "
                    "one machine disturbs the timings, so spread them over identical machines (Ray).")
    which = measure.add_mutually_exclusive_group(required=True)
    which.add_argument("--num", type=int, metavar="K", help="K distinct architectures sampled with --seed (distinct "
                       "canonical ones in a space that cannot be listed: darts, imc)")
    which.add_argument("--all", action="store_true", help="every architecture of the space (nb201: 15,625)")
    measure.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    measure.add_argument("--batch-size", type=int, default=1, help="images per timed forward pass (default 1)")
    measure.add_argument("--repeats", type=int, default=30, help="timed passes per architecture; the fastest is stored (cells are timed in interleaved, "
                         "shuffled rounds on the thread's CPU clock: see docs/hardware.md)")
    measure.add_argument("--warmup", type=int, default=5, help="untimed passes first")
    measure.add_argument("--threads", type=int, default=1, help="torch CPU threads while timing")
    measure.add_argument("--dataset", choices=DATASET_CHOICES, default="cifar10",
                         help="input size and classes of the timed network (default cifar10: 32x32, 10)")
    measure.add_argument("--channels", type=int, metavar="C",
                         help="channels of the timed networks (default: the network's own, nb201 16, imc 32); "
                              "stored under its own key (cpu/channelsC: read it with --latency measured:cpu/channelsC)")
    measure.add_argument("--cells", type=int, metavar="N",
                         help="cells per stage of the timed networks (default: the network's own, nb201 5; "
                              "not for imc, whose depth is part of the architecture)")
    measure.add_argument("--energy", action="store_true",
                         help="also measure energy through NVML (NVIDIA GPUs only)")
    measure.add_argument("--interleave", type=int, default=100, metavar="M",
                         help="architectures timed together in interleaved rounds and stored together "
                              "(default 100; fewer where their networks together pass 400 M parameters, "
                              "which a group holds in memory at once); with --workers, the task one worker gets")
    measure.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_space(measure)
    add_executor_options(measure, "measure", note=". Workers on one machine slow each other down and change the "
                         "timings: use it on a farm of identical machines (--executor ray --ray-address ADDR, each "
                         "node started with `ray start --num-cpus 1`), not on the cores of one; not with --energy")
    add_common(measure)
    measure.set_defaults(handler=measure_costs)


def _store_if_exists(run: str):
    from gcnas.data import RunStore
    from gcnas.data.store import DB_NAME

    return RunStore(run, mode="auto") if (Path(run) / DB_NAME).is_file() else None


def cost_rows(arch: Any, *, latency: list[str], energy: list[str], store: Any, dataset: str,
              space: Any = None) -> list[dict]:
    """One row per cost known for ``arch`` of ``space`` (default nb201): value, unit, kind, source (the analytic
    energy estimate where it covers the space)."""
    from gcnas.hardware import costs
    from gcnas.predictors.lut import hardware_covers
    from gcnas.spaces import resolve_space

    space = resolve_space(space)
    modelled = hardware_covers(space)
    base = costs(arch, energy="model" if modelled else None, dataset=dataset, space=space)
    rows = [
        {"cost": "params_m", "value": base["params_m"], "unit": "M", "kind": "exact", "source": f"network ({dataset})"},
        {"cost": "flops_m", "value": base["flops_m"], "unit": "M MACs", "kind": "exact", "source": f"network ({dataset})"},
    ]
    if modelled:
        rows.append({"cost": "energy_mj", "value": base["energy_mj"], "unit": "mJ", "kind": "estimate",
                     "source": "model (Horowitz 45nm fp32)"})
    if store is not None:
        for metric, device, _ in store.cost_kinds():
            stored = store.costs(metric, device).get(arch)
            if stored is not None:
                spread = "" if stored[1] is None else f", spread {stored[1]:.3g}"
                rows.append({"cost": metric, "value": stored[0], "unit": UNITS.get(metric, ""),
                             "kind": "measured", "source": f"store {device}{spread}"})
    for quantity, specs in (("latency", latency), ("energy", energy)):
        for spec in specs:
            value = costs(arch, dataset=dataset, store=store, space=space, **{quantity: spec})
            key = "latency_ms" if quantity == "latency" else "energy_mj"
            kind = "estimate" if spec.startswith("model") or spec == "imc" else "measured" \
                if spec.startswith("measured") else "published"
            rows.append({"cost": key, "value": value[key], "unit": UNITS[key], "kind": kind,
                         "source": spec})
    return rows


def show_costs(args: argparse.Namespace) -> int:
    store = _store_if_exists(args.run)
    space = run_space(args, store)
    arch = resolve_arch(args.arch, args.table, space)
    rows = cost_rows(arch, latency=args.latency, energy=args.energy, store=store, dataset=args.dataset, space=space)
    code = {k: v for k, v in arch_ids(space, arch).items() if k == "code"}
    if args.format == "json":
        emit({"arch": space.format(arch), **code, "costs": rows}, "json")
    else:
        print(space.format(arch) + (f"  (code {code['code']})" if code else ""))
        emit(rows, args.format)
    return 0


def measure_costs(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    from gcnas.exceptions import DataNotFoundError, InvalidInputError
    from gcnas.hardware import (measure_energy_many, measure_many, measurement_key, nvml_available,
                                resolve_device)
    from gcnas.spaces import DEFAULT_SPACE

    store = open_store(args)
    space = run_space(args, store)
    archs = _measured_archs(space, args)
    device = resolve_device(args.device)
    kind = executor_kind(args)
    if kind is not None and args.energy:
        raise InvalidInputError("--energy is measured in this process only; drop --energy, or --workers/--executor")
    if args.energy:
        if space.name != DEFAULT_SPACE or args.channels is not None or args.cells is not None:
            raise InvalidInputError(f"--energy measures nb201 networks at their default shape only, not the "
                                    f"{space.name!r} space or --channels/--cells; drop --energy (or use "
                                    "`gcnas lut build --energy imc`, the crossbar model)")
        available, why = nvml_available()
        if not available:
            raise DataNotFoundError(why)
    start = time.perf_counter()
    common = dict(device=device, batch_size=args.batch_size, dataset=args.dataset,
                  progress=not args.no_progress, seed=args.seed)
    rows = []
    timing = dict(repeats=args.repeats, warmup=args.warmup, threads=args.threads, interleave=args.interleave,
                  space=space, channels=args.channels, cells=args.cells)
    if kind is None:
        summary = measure_many(archs, store, **timing, **common)
    else:
        with open_executor(args) as executor:
            summary = measure_many(archs, store, **timing, **common, executor=executor)
    rows.append(("latency_ms", summary))
    if args.energy:
        rows.append(("energy_mj", measure_energy_many(archs, store, **common)))
    seconds = time.perf_counter() - start
    key = measurement_key(device, batch_size=args.batch_size, dataset=args.dataset, channels=args.channels,
                          cells=args.cells)
    out = []
    for metric, summary in rows:
        stored = store.costs(metric, key)
        values = np.array([stored[a][0] for a in archs if a in stored])
        out.append({"metric": metric, "device": key, **summary, "stored": len(stored),
                    "median": float(np.median(values)), "min": float(values.min()), "max": float(values.max()),
                    "seconds": seconds})
    ran_on = {"executor": kind, "workers": args.workers} if kind is not None else {}
    store.finish_stage("hw_measure", {"device": key, "num": len(archs), "space": space.name, **ran_on}, seconds)
    emit(out, args.format)
    return 0


def _measured_archs(space: Any, args: argparse.Namespace) -> list:
    """The architectures ``hw measure`` times: every one (``--all``) or ``--num`` drawn with ``--seed``
    (NAS-Bench-201: ``sample_many``, as always; a space that cannot be listed: distinct canonical ones)."""
    from gcnas.exceptions import InvalidInputError
    from gcnas.spaces import DEFAULT_SPACE
    from gcnas.supernet.score import sample_distinct

    size = space.size()
    if args.all:
        if size is None:
            raise InvalidInputError(f"--all: the {space.name!r} space cannot be listed; measure --num K sampled "
                                    "architectures")
        return list(space.enumerate())
    if args.num < 1 or (size is not None and args.num > size):
        raise InvalidInputError(f"--num must be in 1..{size}, got {args.num}" if size is not None
                                else f"--num must be at least 1, got {args.num}")
    if space.name == DEFAULT_SPACE:
        return space.sample_many(args.num, args.seed)
    return sample_distinct(space, args.num, args.seed)

