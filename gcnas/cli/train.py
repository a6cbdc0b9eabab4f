"""``gcnas train``: train one architecture from scratch and keep its weights (``RUN/models/<code>.pt``)."""

from __future__ import annotations

import argparse

from gcnas.cli._common import ARCH_FORMS, add_common, add_space, default_cells, emit, resolve_arch, run_space
from gcnas.cli.supernet import DATASET_CHOICES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train one architecture from scratch; weights kept in RUN/models/<code>.pt",
        description="Train the network of one architecture from scratch (SGD, Nesterov, cosine "
                    "schedule) and test it. The weights, settings, per-epoch history and valid/test accuracy go to "
                    "RUN/models/<code>.pt; after every epoch the training state is kept in "
                    "RUN/models/<code>.partial.pt, so rerunning a killed command resumes from its last finished "
                    "epoch. Rerunning a finished one prints the kept result; other settings are refused.")
    parser.add_argument("arch", metavar="ARCH_OR_CODE", help=ARCH_FORMS)
    parser.add_argument("--table", metavar="TABLE", help="benchmark table that index:N refers to "
                        "(default: the packaged NAS-Bench-201 table)")
    parser.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASET_CHOICES)} (default digits)")
    parser.add_argument("--data-root", metavar="DIR",
                        help="folder of the dataset files (CIFAR, ImageNet16-120), or the image folder "
                             "(train/<class>/*, test/<class>/*) for --dataset imagefolder")
    parser.add_argument("--image-size", type=int, default=None, help="side imagefolder images are resized to (32)")
    parser.add_argument("--download", action="store_true", help="download CIFAR through torchvision")
    parser.add_argument("--epochs", type=int, default=10, metavar="E", help="training epochs (10)")
    parser.add_argument("--channels", type=int, default=16, metavar="C", help="channels of the first stage (16)")
    parser.add_argument("--cells", type=int, default=None, metavar="N",
                        help="cells per stage (5; none for a space whose depth is in the architecture, imc)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--lr", type=float, default=0.1, help="initial SGD learning rate, cosine to 0 (0.1)")
    parser.add_argument("--weight-decay", type=float, default=5e-4, help="SGD weight decay (5e-4)")
    parser.add_argument("--steps-per-epoch", type=int, help="cap on the steps of an epoch")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    add_space(parser, creates=False)
    add_common(parser)
    parser.set_defaults(handler=train_command)


def train_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.supernet.standalone import train_model

    if args.dataset not in DATASET_CHOICES:
        raise InvalidInputError(f"unknown dataset {args.dataset!r}; choose one of {', '.join(DATASET_CHOICES)}")
    from gcnas.spaces import decision_index

    space = run_space(args)
    arch = resolve_arch(args.arch, args.table, space)
    cells = args.cells if args.cells is not None else default_cells(space)
    model = train_model(args.run, arch, dataset=args.dataset, data_root=args.data_root, download=args.download,
                        image_size=args.image_size, epochs=args.epochs, channels=args.channels, cells=cells,
                        space=space, seed=args.seed, device=args.device, batch_size=args.batch_size, lr=args.lr,
                        weight_decay=args.weight_decay, steps_per_epoch=args.steps_per_epoch,
                        progress=True)
    if args.format == "json":
        emit({"path": str(model.path), "arch": space.format(model.arch), "code": decision_index(space, model.arch),
              "epochs_run": model.epochs_run, "settings": model.settings, "history": model.history,
              "result": model.result, "preprocessing": model.preprocessing}, "json")
        return 0
    rows = [{k: r[k] for k in ("epoch", "train_loss", "train_accuracy", "lr", "seconds")} for r in model.history]
    emit(rows, "table")
    result = model.result
    kept = "" if model.epochs_run else " (already trained; nothing rerun)"
    print(f"{space.format(model.arch)} (code {decision_index(space, model.arch)}): valid accuracy {result['valid_accuracy']:.2f}%, "
          f"test accuracy {result['test_accuracy']:.2f}%, {result['params_m']:.4f} M params")
    print(f"weights: {model.path}{kept}")
    return 0
