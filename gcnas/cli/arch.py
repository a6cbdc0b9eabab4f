"""``gcnas arch``: look at one architecture of the space."""

from __future__ import annotations

import argparse

from gcnas.cli._common import add_common, emit, resolve_arch


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("arch", help="inspect architectures of the NAS-Bench-201 space")
    commands = parser.add_subparsers(dest="arch_command", metavar="SUBCOMMAND")
    commands.required = True
    show = commands.add_parser(
        "show", help="code, string, canonical form, params and FLOPs of one architecture",
        description="ARCH is a NATS-Bench arch string or an intrinsic code 0..15624; with "
                    "--table CSV, a number is read as the official index of that table.")
    show.add_argument("arch", metavar="ARCH_OR_CODE")
    show.add_argument("--table", metavar="CSV", help="benchmark table: read ARCH as its official index "
                      "and print its metric columns")
    add_common(show)
    show.set_defaults(handler=show_arch)


def arch_record(arch, table_path: str | None = None) -> dict:
    """Everything known about one architecture without training anything."""
    from gcnas.hardware import network_costs

    canonical = arch.canonical()
    record = {
        "string": str(arch),
        "code": arch.code,
        "ops": ", ".join(arch.op_names),
        "canonical": str(canonical),
        "canonical_code": canonical.code,
        "is_canonical": canonical == arch,
    }
    record.update(network_costs(arch))
    if table_path is not None:
        from gcnas.data import BenchmarkTable

        table = BenchmarkTable(table_path)
        if arch in table:
            record["index"] = table.index(arch)
            for column in table.columns:
                record[column] = table.value(arch, column)
    return record


def show_arch(args: argparse.Namespace) -> int:
    arch = resolve_arch(args.arch, args.table)
    emit(arch_record(arch, args.table), args.format)
    return 0
