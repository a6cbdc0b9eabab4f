"""``gcnas arch``: look at one architecture of the space, or export its network to ship it."""

from __future__ import annotations

import argparse
from typing import Any

from gcnas.cli._common import (ARCH_FORMS, add_common, add_space, arch_ids, default_cells, emit, resolve_arch,
                               run_space)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("arch", help="inspect architectures of a search space (--space; default nb201)")
    commands = parser.add_subparsers(dest="arch_command", metavar="SUBCOMMAND")
    commands.required = True
    show = commands.add_parser(
        "show", help="code, string, canonical form, params and FLOPs of one architecture",
        description="ARCH is a NATS-Bench arch string or an intrinsic code 0..15624; with "
                    "--table TABLE, index:N is that table's official index (default: the packaged NAS-Bench-201 "
                    "table) and its metric columns are printed.")
    show.add_argument("arch", metavar="ARCH_OR_CODE", help=ARCH_FORMS)
    show.add_argument("--table", metavar="TABLE", help="benchmark table (CSV, nb201:cifar10, natsbench:...): "
                      "index:N refers to it, and its metric columns are printed")
    show.add_argument("--imc", action="store_true",
                      help="also print the IMC crossbar model's latency (ms) and energy (mJ) of the network at the "
                           "space's default shape on CIFAR-10 input: the values of the lut/search source 'imc' "
                           "(builds the network; any space)")
    add_space(show, creates=False)
    add_common(show)
    show.set_defaults(handler=show_arch)

    sample = commands.add_parser(
        "sample", help="random distinct architectures to measure on a device (one arch string per row)",
        description="Draw NUM distinct architectures at random (seeded). With --format csv the rows are "
                    "`arch,code` plus an empty column named by --column: measure each cell on your device, "
                    "fill the column (ms) and pass the file to `gcnas predictor fit --target latency --table FILE "
                    "--metric COLUMN`.")
    sample.add_argument("--num", type=int, required=True, metavar="K", help="how many distinct architectures")
    sample.add_argument("--canonical", action="store_true",
                        help="only one cell per isomorphism class (6,466 classes): no two rows compute the same "
                             "function, so no measurement is spent twice")
    sample.add_argument("--column", default="mydevice", metavar="NAME",
                        help="name of the empty column to fill with your measurements (default mydevice)")
    add_space(sample, creates=False)
    add_common(sample)
    sample.set_defaults(handler=sample_archs)

    export = commands.add_parser(
        "export", help="write the standalone network of one architecture as ONNX, TorchScript or a pt file",
        description="Write the network of ARCH with the weights of --weights (a RUN/models/<code>.pt from "
                    "`gcnas train`), or as initialised when no --weights is given, and check the written file "
                    "against PyTorch's output on a random batch. ONNX needs `pip install 'gcnas[export]'`.")
    export.add_argument("arch", metavar="ARCH_OR_CODE", help=ARCH_FORMS)
    export.add_argument("--table", metavar="TABLE", help="benchmark table that index:N refers to "
                        "(default: the packaged NAS-Bench-201 table)")
    export.add_argument("--weights", metavar="FILE", help="RUN/models/<code>.pt written by `gcnas train` "
                        "(default: the network as initialised with --seed, untrained)")
    export.add_argument("--format", required=True, choices=["onnx", "pt", "torchscript"], help="file format")
    export.add_argument("--out", required=True, metavar="FILE", help="file to write")
    export.add_argument("--channels", type=int, metavar="C", help="without --weights: channels of the first stage (16)")
    export.add_argument("--cells", type=int, metavar="N",
                        help="without --weights: cells per stage (5; none for imc, whose depth is in the architecture)")
    export.add_argument("--num-classes", type=int, metavar="K", help="without --weights: classifier outputs (10)")
    export.add_argument("--image-size", type=int, metavar="S",
                        help="side of the example batch traced and checked (default: the trained image size, "
                             "else 32); the exported network takes any size")
    export.add_argument("--seed", type=int, default=0, help="without --weights: seed of the initialisation (0)")
    export.add_argument("--output-format", choices=["table", "json"], default="table",
                        help="how the summary is printed (--format is the file's)")
    add_space(export, creates=False)
    export.set_defaults(handler=export_arch)


def arch_record(arch: Any, table_path: str | None = None, space: Any = None, imc: bool = False) -> dict:
    """Everything known about one architecture of ``space`` (default nb201) without training anything;
    with ``imc``, also the IMC crossbar model's ``imc_latency_ms`` and ``imc_energy_mj``."""

    space = space if space is not None else run_space(argparse.Namespace())
    canonical = space.canonical(arch)
    ids = arch_ids(space, arch)
    record = {"string": space.format(arch), **{k: v for k, v in ids.items() if k == "code"}}
    if getattr(arch, "op_names", None) is not None:
        record["ops"] = ", ".join(arch.op_names)
    record.update({"canonical": space.format(canonical),
                   **{"canonical_code": v for k, v in arch_ids(space, canonical).items() if k == "code"},
                   "is_canonical": canonical == arch})
    costs = space.costs(arch)
    record.update({"params_m": costs["params"], "flops_m": costs["flops"]})
    if imc:
        from gcnas.hardware import costs as hardware_costs

        modelled = hardware_costs(arch, latency="imc", energy="imc", space=space)
        record.update({"imc_latency_ms": modelled["latency_ms"], "imc_energy_mj": modelled["energy_mj"]})
    if table_path is None:  # the official index, where the space's benchmark table ships with gcnas
        if "index" in ids:
            record["index"] = ids["index"]
    else:
        from gcnas.cli._common import open_table_arg

        table = open_table_arg(table_path)
        if arch in table:
            record["index"] = table.index(arch)
            for column in table.columns:
                record[column] = table.value(arch, column)
    return record


def show_arch(args: argparse.Namespace) -> int:
    space = run_space(args)
    arch = resolve_arch(args.arch, args.table, space)
    emit(arch_record(arch, args.table, space, imc=args.imc), args.format)
    return 0


def sample_archs(args: argparse.Namespace) -> int:
    import numpy as np

    from gcnas.exceptions import InvalidInputError
    from gcnas.supernet.score import sample_distinct

    space = run_space(args)
    if space.size() is None or args.canonical:  # distinct canonical cells (all there are of a space too large to list)
        if args.num < 1:
            raise InvalidInputError(f"--num must be at least 1, got {args.num}")
        archs = sample_distinct(space, args.num, args.seed)
    else:
        pool = list(space.enumerate())
        if not 1 <= args.num <= len(pool):
            raise InvalidInputError(f"--num must be between 1 and {len(pool)} (the distinct cells of the space), "
                                    f"got {args.num}")
        archs = [pool[int(i)] for i in np.random.default_rng(args.seed).choice(len(pool), args.num, replace=False)]
    emit([{"arch": space.format(a), **{k: v for k, v in arch_ids(space, a).items() if k == "code"}, args.column: ""}
          for a in archs], args.format)
    return 0


_SHAPE_FLAGS = ("channels", "cells", "num_classes")


def export_arch(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.spaces import decision_index
    from gcnas.supernet.export import export_model
    from gcnas.supernet.standalone import TrainedModel, load_model

    if args.weights is not None:
        model = load_model(args.weights)
        arch = resolve_arch(args.arch, args.table, model.space)
        if model.arch != arch:
            space = model.space
            raise InvalidInputError(f"{args.weights!r} holds the weights of {space.format(model.arch)} (code "
                                    f"{decision_index(space, model.arch)}), not of {space.format(arch)} (code "
                                    f"{decision_index(space, arch)}); pass that file's arch or another file")
        for name in _SHAPE_FLAGS:
            asked = getattr(args, name)
            if asked is not None and asked != model.settings[name]:
                raise InvalidInputError(f"--{name.replace('_', '-')} {asked} contradicts {args.weights!r}, trained "
                                        f"with {name}={model.settings[name]}; leave it out")
    else:
        space = run_space(args)
        arch = resolve_arch(args.arch, args.table, space)
        defaults = {"channels": 16, "cells": default_cells(space), "num_classes": 10}
        shape = {name: defaults[name] if getattr(args, name) is None else getattr(args, name) for name in _SHAPE_FLAGS}
        model = TrainedModel.initialised(arch, image_size=args.image_size or 32, seed=args.seed, space=space, **shape)
    record = export_model(model, args.out, format=args.format, image_size=args.image_size, seed=args.seed)
    record["weights"] = args.weights
    if args.output_format == "json":
        emit(record, "json")
        return 0
    emit(record, "table")
    if not model.trained:
        print(f"note: no --weights given, so this is the network as initialised (seed {args.seed}), untrained; "
              "train one with `gcnas train ARCH --run RUN` and pass --weights RUN/models/<code>.pt")
    if record["max_abs_diff"] is None:
        print("not checked: onnxruntime is not installed (pip install 'gcnas[export]')")
    return 0
