"""``gcnas supernet``: train the weight-sharing supernet, derive, score sub-networks."""

from __future__ import annotations

import argparse

from gcnas.cli._common import (add_common, add_executor_options, add_space, add_truth, arch_ids, emit, emit_judged,
                               executor_kind, load_truth, open_executor, open_store, true_values)

DATASET_CHOICES = ("digits", "synthetic", "cifar10", "cifar100", "imagenet16-120", "imagefolder")
STRATEGY_CHOICES = ("uniform", "gaea", "darts", "snas", "nasp")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("supernet", help="train the weight-sharing supernet and score sub-networks")
    commands = parser.add_subparsers(dest="supernet_command", metavar="SUBCOMMAND")
    commands.required = True

    train = commands.add_parser(
        "train", help="train a supernet (checkpoint each epoch into RUN/supernet/)",
        description="Train the weight-sharing supernet of the run's space (--space nb201: NAS-Bench-201's, --space "
                    "darts: DARTS' search network over the normal and reduction cell, --cells cells in all; --space "
                    "imc: the largest macro network, elastic in depth (--cells blocks per stage at most), width and "
                    "kernel, --strategy uniform only). Under "
                    "`torchrun --nproc_per_node K` it trains with DistributedDataParallel. Interrupt it at any time; "
                    "--resume continues exactly.")
    train.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASET_CHOICES)} (default digits)")
    train.add_argument("--data-root", metavar="DIR",
                       help="folder of the dataset files (CIFAR, ImageNet16-120), or the image folder "
                            "(train/<class>/*, test/<class>/*) for --dataset imagefolder")
    train.add_argument("--image-size", type=int, default=None, help="side imagefolder images are resized to (32)")
    train.add_argument("--download", action="store_true", help="download CIFAR through torchvision")
    train.add_argument("--strategy", default="uniform", help=f"one of {', '.join(STRATEGY_CHOICES)} (default uniform)")
    train.add_argument("--channels", type=int, default=16, metavar="C", help="channels of the first stage (16)")
    train.add_argument("--cells", type=int, default=None, metavar="N",
                       help="cells per stage (nb201, default 5), cells in all (darts, default 8), or the most "
                            "blocks per stage (imc, 1-4, default 4)")
    train.add_argument("--epochs", type=int, default=10, metavar="E", help="training epochs (default 10)")
    train.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    train.add_argument("--lr", type=float, default=0.025, help="initial SGD learning rate (cosine to 0)")
    train.add_argument("--sampling", choices=("code", "canonical", "fair"), default=None,
                       help="uniform strategy: FairNAS's strict fairness (default: every op of every edge once "
                            "per 5 steps), op codes uniformly, or isomorphism classes uniformly")
    train.add_argument("--exclude-ops", default=None, metavar="OPS",
                       help="uniform strategy: comma-separated ops never trained, named as the space names them "
                            "(e.g. none; darts: max_pool_3x3,skip_connect,...; imc: block types, vgg,basic,bottleneck)")
    train.add_argument("--arch-lr", type=float, help="step size of the architecture weights (gradient strategies)")
    train.add_argument("--bilevel", choices=("yes", "no"), help="architecture updates on validation batches "
                       "(default: no for gaea/snas, yes for darts/nasp)")
    train.add_argument("--arch-grad", choices=("full", "path"), default=None,
                       help="nasp strategy: gradient of every op weight at the discrete architecture (full, the "
                            "default: the other ops run forward only) or of the chosen ops only (path: one path "
                            "forward and backward per step)")
    train.add_argument("--steps-per-epoch", type=int, help="cap on the steps of an epoch")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in --run")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    train.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    train.add_argument("--compile", action="store_true", help="torch.compile the supernet")
    add_space(train)
    add_common(train)
    train.set_defaults(handler=train_command)

    derive = commands.add_parser("derive", help="the architecture a gradient strategy chose (argmax per edge)",
                                 description="Prints the architecture in its space's notation (darts: the "
                                             "Genotype(...) DARTS prints).")
    derive.add_argument("--table", metavar="CSV", help="benchmark table: also print the true metrics of the choice")
    add_space(derive)
    add_common(derive)
    derive.set_defaults(handler=derive_command)

    sample = commands.add_parser("sample", help="score K distinct sub-networks with inherited weights -> store")
    sample.add_argument("--num", type=int, required=True, metavar="K", help="how many architectures")
    sample.add_argument("--bn-recalibrate", type=int, default=4, metavar="B",
                        help="training batches to re-estimate BatchNorm statistics per architecture (4)")
    sample.add_argument("--batch-size", type=int, default=256,
                        help="images per forward pass while scoring (default 256)")
    sample.add_argument("--limit", type=int, help="validation batches per architecture (default: all)")
    sample.add_argument("--data-root", metavar="DIR",
                        help="folder of the dataset files (default: the one the supernet was trained from)")
    sample.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    sample.add_argument("--top", type=int, default=10, help="rows to print (best first)")
    add_executor_options(sample, "score", note=". Each worker loads the checkpoint and the images once; the "
                         "scores equal those of --workers 1 (at the same GCNAS_THREADS)")
    sample.add_argument("--chunk", type=int, default=4, metavar="M",
                        help="with --workers/--executor: cells per task; each is stored as soon as it and those "
                             "before it are back (default 4)")
    add_truth(sample)
    add_space(sample)
    add_common(sample)
    sample.set_defaults(handler=sample_command)


def _strategy_kwargs(args: argparse.Namespace) -> dict:
    from gcnas.exceptions import InvalidInputError

    kwargs: dict = {}
    if args.strategy != "uniform" and (args.sampling is not None or args.exclude_ops):
        raise InvalidInputError("--sampling and --exclude-ops belong to --strategy uniform")
    if args.strategy != "nasp" and getattr(args, "arch_grad", None) is not None:
        raise InvalidInputError("--arch-grad belongs to --strategy nasp")
    if getattr(args, "arch_grad", None) is not None:
        kwargs["arch_grad"] = args.arch_grad
    if getattr(args, "sampling", None) is not None:
        kwargs["sampling"] = args.sampling
    if getattr(args, "exclude_ops", None):
        kwargs["exclude_ops"] = [op for op in args.exclude_ops.split(",") if op]
    if args.arch_lr is not None:
        kwargs["arch_lr"] = args.arch_lr
    if args.bilevel is not None:
        kwargs["bilevel"] = args.bilevel == "yes"
    return kwargs


CELLS_DEFAULT = {"darts": 8, "imc": 4}
"""``--cells`` when not given, per space (others: 5 cells per stage, NAS-Bench-201's)."""


def train_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.spaces import get_space
    from gcnas.supernet import STRATEGIES, train_supernet
    from gcnas.supernet.train import supernet_class

    if args.strategy not in STRATEGIES:
        raise InvalidInputError(f"unknown strategy {args.strategy!r}; choose one of {', '.join(STRATEGY_CHOICES)}")
    if args.dataset not in DATASET_CHOICES:
        raise InvalidInputError(f"unknown dataset {args.dataset!r}; choose one of {', '.join(DATASET_CHOICES)}")
    space = _train_space(args)
    cells = args.cells if args.cells is not None else CELLS_DEFAULT.get(space, 5)
    trained = train_supernet(
        args.run, dataset=args.dataset, data_root=args.data_root, download=args.download, strategy=args.strategy,
        image_size=args.image_size, supernet=supernet_class(space),
        channels=args.channels, cells=cells, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, device=args.device, resume=args.resume, strategy_kwargs=_strategy_kwargs(args),
        steps_per_epoch=args.steps_per_epoch, amp=False if args.no_amp else None, compile=args.compile,
        progress=True)
    rows = [{k: r.get(k) for k in ("epoch", "loss", "accuracy", "entropy", "images_per_s", "seconds")}
            for r in trained.history]
    if args.format == "json":
        emit({"run": args.run, "config": trained.config, "history": trained.history}, "json")
    else:
        emit(rows, "table")
        if trained.strategy.probabilities() is not None:
            print(f"derived: {get_space(space).format(trained.derive())}")
    return 0


def _train_space(args: argparse.Namespace) -> str:
    """The space a training run is over: ``--space``, else the run's (a resumed or prepared run), else the default.

    Raises:
        InvalidInputError: ``--space`` contradicts the space of the run's store or checkpoint.
    """
    from gcnas.data.store import DB_NAME, DEFAULT_SPACE
    from gcnas.exceptions import InvalidInputError
    from pathlib import Path

    from gcnas.supernet.checkpoint import checkpoint_path
    from gcnas.supernet.train import checkpoint_space

    recorded = None
    if checkpoint_path(args.run).exists():
        recorded = checkpoint_space(args.run)
    elif (Path(args.run) / DB_NAME).is_file():
        with open_store(argparse.Namespace(run=args.run), mode="auto") as store:
            recorded = None if store.is_empty() else store.space_name
    if args.space is not None and recorded is not None and args.space != recorded:
        raise InvalidInputError(f"run {args.run!r} is over the {recorded!r} space, not {args.space!r}; leave "
                                "--space out (a run's space is read from it) or choose another --run DIR")
    args.space = args.space or recorded or DEFAULT_SPACE
    return args.space


def derive_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.spaces import get_space
    from gcnas.supernet.train import checkpoint_space, load_run_supernet

    trained = load_run_supernet(args.run)
    space = get_space(checkpoint_space(args.run))
    if args.space is not None and args.space != space.name:
        raise InvalidInputError(f"the supernet of run {args.run!r} is over the {space.name!r} space, not "
                                f"{args.space!r}; leave --space out (a run's space is read from it)")
    arch = trained.derive()
    record = {"string": space.format(arch), **{k: v for k, v in arch_ids(space, arch).items() if k == "code"},
              "strategy": trained.config["strategy"],
              "epochs": len(trained.history), "entropy": trained.strategy.entropy(),
              "max_weight": trained.strategy.max_weight()}
    if args.table:
        from gcnas.cli._common import open_table_arg

        table = open_table_arg(args.table)
        if arch in table:
            record["index"] = table.index(arch)
            record.update({c: table.value(arch, c) for c in table.columns})
        else:
            record["index"] = None
    emit(record, args.format)
    return 0


def sample_command(args: argparse.Namespace) -> int:
    from gcnas.supernet import ScoringSource, sample_subnets, sample_subnets_sharded, scoring_data
    from gcnas.supernet.train import load_run_supernet

    truth = load_truth(args)
    kind = executor_kind(args)
    if kind is None:
        trained = load_run_supernet(args.run, device=args.device)
        data = scoring_data(trained, args.data_root)
        store = open_store(args)
        samples = sample_subnets(store, trained, data, num=args.num, seed=args.seed,
                                 bn_recalibrate=args.bn_recalibrate, batch_size=args.batch_size, limit=args.limit,
                                 progress=True)
    else:
        from gcnas.supernet.checkpoint import checkpoint_path, read_checkpoint

        read_checkpoint(checkpoint_path(args.run))  # no checkpoint: one error before any worker starts
        source = ScoringSource(args.run, data_root=args.data_root, device=args.device,
                               bn_recalibrate=args.bn_recalibrate, batch_size=args.batch_size, limit=args.limit)
        store = open_store(args)
        with open_executor(args) as executor:
            samples = sample_subnets_sharded(store, source, executor, num=args.num, seed=args.seed,
                                             chunk=args.chunk, progress=True)
    space = store.space
    rows = [{**arch_ids(space, s.arch), "arch": space.format(s.arch), "accuracy": s.accuracy, "loss": s.loss}
            for s in samples]
    judgement = None
    if truth is not None:  # read only now, after every sample was scored
        for row, value in zip(rows, true_values(truth, [s.arch for s in samples])):
            row[truth.name] = value
        judgement = truth.judge([s.arch for s in samples], [s.accuracy for s in samples])
    rows.sort(key=lambda r: -r["accuracy"])
    if args.format == "json":
        emit_judged(rows, "json", truth, judgement)
    else:
        emit_judged(rows[:args.top], "table", truth, judgement)
        print(f"{len(samples)} sub-networks scored; {len(store.samples('supernet'))} supernet samples in {args.run}")
    return 0
