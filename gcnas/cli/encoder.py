"""``gcnas encoder``: pretrain arch2vec for a run, and draw its latent space."""

from __future__ import annotations

import argparse

from gcnas.cli._common import add_common, add_space, emit, open_store


# Further Arch2Vec settings: passed on only when given, so Arch2Vec's own defaults apply.
_TRAINING_FLAGS = (
    ("--hidden-dim", int, 128, "GIN width"),
    ("--num-layers", int, 5, "GIN layers"),
    ("--batch-size", int, 64, "graphs per step"),
    ("--lr", float, 2e-3, "peak Adam learning rate (cosine decay)"),
    ("--beta", float, 0.25, "KL weight"),
    ("--graph-weight", float, 0.1, "weight of decoding the ops from the graph embedding while training"),
    ("--decoder-epochs", int, 60, "epochs training the graph decoder alone on the frozen embeddings"),
    ("--holdout", float, 0.1, "share of cells kept out of training for reconstruction checks"),
    ("--sample-size", int, 20_000, "cells drawn to train on where the space cannot be listed (DARTS, IMC)"),
    ("--readout-bins", int, "auto", "stretches of a graph's nodes whose mean latents its embedding joins; "
                                    "auto: the space's own (DARTS 11, one per node: exact decoding), else one "
                                    "per 16 nodes of its largest graph (IMC 4, NAS-Bench-201 1)"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("encoder", help="arch2vec: unsupervised architecture embeddings")
    commands = parser.add_subparsers(dest="encoder_command", metavar="SUBCOMMAND")
    commands.required = True

    pretrain = commands.add_parser(
        "pretrain", help="pretrain arch2vec on the run's space; embeddings -> run store",
        description="Train the arch2vec graph autoencoder on every cell of the space (NAS-Bench-201: "
                    "15,625), or on --sample-size cells drawn from a space too large to list (no "
                    "labels; a seeded holdout share checks reconstruction), save RUN/arch2vec.pt and "
                    "store the embedding of every cell it knows. Interrupted training resumes from "
                    "its last finished epoch.")
    pretrain.add_argument("--epochs", type=int, default=12, help="training epochs (default 12)")
    pretrain.add_argument("--latent-dim", type=int, default=16, help="embedding size (default 16)")
    for flag, kind, default, text in _TRAINING_FLAGS:
        pretrain.add_argument(flag, type=kind, default=None, help=f"{text} (default {default})")
    pretrain.add_argument("--force", action="store_true", help="retrain even if the run has an encoder")
    add_space(pretrain)
    add_common(pretrain)
    pretrain.set_defaults(handler=run_pretrain)

    draw = commands.add_parser(
        "map", help="PNG of the latent space (PCA, t-SNE) coloured by a benchmark metric",
        description="Project the run's arch2vec embeddings to 2-D and colour every cell of TABLE by COL.")
    draw.add_argument("--table", required=True, metavar="CSV", help="benchmark table (index, arch, metrics)")
    draw.add_argument("--metric", required=True, metavar="COL", help="column of the table to colour by")
    draw.add_argument("--out", metavar="PNG", help="where to write the picture (default RUN/arch2vec_map.png)")
    draw.add_argument("--tsne-points", type=int, default=4000,
                      help="cells given to t-SNE, a seeded subset (default 4000; 0 skips t-SNE)")
    add_common(draw)
    draw.set_defaults(handler=run_map)


def run_pretrain(args: argparse.Namespace) -> int:
    from gcnas.encoders import pretrain

    with open_store(args) as store:
        names = [flag[2:].replace("-", "_") for flag, *_ in _TRAINING_FLAGS]
        params = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
        encoder = pretrain(store, epochs=args.epochs, latent_dim=args.latent_dim, seed=args.seed,
                           force=args.force, progress=True, **params)
        archs, _ = store.embeddings("arch2vec")
    last = encoder.history_[-1]
    record = {"checkpoint": str(store.run_dir / "arch2vec.pt"), "embeddings": len(archs),
              "latent_dim": encoder.latent_dim, "epochs": last["epoch"],
              "train_seconds": round(sum(h["seconds"] for h in encoder.history_), 1), "loss": last["loss"]}
    record.update({k: v for k, v in last.items() if k.startswith("holdout_")})
    emit(record, args.format)
    return 0


def run_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gcnas.cli._common import open_table_arg
    from gcnas.encoders import latent_map, load_pretrained
    from gcnas.exceptions import InvalidInputError

    table = open_table_arg(args.table)
    if args.metric not in table.columns:
        raise InvalidInputError(f"table {args.table!r} has no column {args.metric!r}; it has: "
                                f"{', '.join(table.columns)}")
    with open_store(args) as store:
        stored, vectors = store.embeddings("arch2vec")
        if len(stored) == 0:
            encoder = load_pretrained(store)
            stored, vectors = table.archs, encoder.encode(table.archs)
        row = {a: i for i, a in enumerate(stored)}
        archs = [a for a in table.archs if a in row]
        if not archs:
            raise InvalidInputError(f"none of the {len(table.archs)} cells of {args.table!r} has an embedding in "
                                    f"{str(store.run_dir)!r}; rerun `gcnas encoder pretrain`")
        out = Path(args.out) if args.out else store.run_dir / "arch2vec_map.png"
        vectors = vectors[[row[a] for a in archs]]
        path = latent_map(vectors, table.values(archs, args.metric), out, metric=args.metric,
                          tsne_points=args.tsne_points, seed=args.seed)
    emit({"png": str(path), "points": len(archs), "metric": args.metric,
          "latent_dim": int(vectors.shape[1])}, args.format)
    return 0
