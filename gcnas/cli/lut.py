"""``gcnas lut``: build the lookup table of the whole space and query it under constraints."""

from __future__ import annotations

import argparse
import sys
import time

from gcnas.cli._common import (add_common, add_space, add_truth, arch_ids, emit, emit_judged, load_truth, open_store,
                               true_values)
from gcnas.cli.predictor import TRUST_PICKLE_HELP

SHOWN = ("rank", "code", "index", "arch", "accuracy", "accuracy_std", "params_m", "flops_m", "latency_ms",
         "latency_ms_low", "latency_ms_high", "latency_measured", "energy_mj")

CONFIDENCE_HELP = ("confidence of a bound on a cost predicted for some cells (lut build --latency predictor:NAME): "
                   "each predicted cell's upper end at this confidence, calibrated on the measured rows, must meet the "
                   "bound; measured cells count with their value (default 0.9; 0 = compare the point estimate)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lut", help="the lookup table: predicted accuracy and costs of every architecture")
    commands = parser.add_subparsers(dest="lut_command", metavar="SUBCOMMAND")
    commands.required = True

    build = commands.add_parser(
        "build", help="predict every architecture of the space (nb201: 15,625), or a pool, with RUN/predictor.pt "
                      "and join their costs",
        description="Predicts once per class (space.key: NAS-Bench-201's isomorphism classes), joins params/FLOPs "
                    "and the chosen latency and energy sources, and writes the run store's lut table. A space that "
                    "cannot be listed (darts) is tabled over a pool of --pool N distinct canonical cells drawn "
                    "with --seed.")
    build.add_argument("--latency-from", "--latency", dest="latency", metavar="SPEC",
                       help="latency source: CSV:COLUMN (a latency table; it may hold any subset of the cells, "
                            "keyed by arch or index: the others stay missing), nb201:latency:DEVICE (packaged: "
                            "pixel3, fpga, eyeriss), 'measured' (stored measurements), 'imc' (the in-memory-computing crossbar "
                            "model, any space), hwnb:PICKLE:DEVICE, or predictor:NAME "
                            "(the run's latency predictor NAME: measured where it was fitted, predicted elsewhere; "
                            "the column latency_measured says which); "
                            "omitted = no latency column")
    build.add_argument("--energy-from", "--energy", dest="energy", default=None, metavar="SPEC",
                       help="energy source: 'model' (analytic estimate, the default where the hardware module covers "
                            "the space: nb201), 'imc' (the crossbar model, any space), CSV:COLUMN (an energy table, mJ), "
                            "hwnb:PICKLE:DEVICE, or 'none'")
    build.add_argument("--pool", type=int, default=None, metavar="N",
                       help="table a pool of N distinct canonical cells drawn with --seed instead of the whole space "
                            "(required where the space cannot be listed: darts, imc)")
    build.add_argument("--dataset", default="cifar10", help="dataset the costs refer to (default cifar10)")
    build.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)
    add_space(build)
    add_common(build)
    build.set_defaults(handler=build_command)

    query = commands.add_parser(
        "query", help="the best architectures under cost bounds, or the Pareto front",
        description="Bounds are upper limits on the lookup table's cost columns. --truth adds the true value "
                    "of each row and judges the predicted accuracy of every row of the table (one per "
                    "isomorphism class, or every architecture with --all-members) against it.")
    query.add_argument("--max-latency-ms", type=float, metavar="X", help="keep cells with latency <= X (ms)")
    query.add_argument("--max-energy-mj", type=float, metavar="X", help="keep cells with energy <= X (mJ)")
    query.add_argument("--max-params-m", type=float, metavar="X", help="keep cells with parameters <= X (millions)")
    query.add_argument("--max-flops-m", type=float, metavar="X", help="keep cells with FLOPs <= X (millions)")
    query.add_argument("--sort", choices=("accuracy", "pareto"), default="accuracy",
                       help="highest predicted accuracy first, or the accuracy/cost Pareto front")
    query.add_argument("--pareto-cost", default="latency_ms", metavar="COLUMN",
                       help="cost of the Pareto front (default latency_ms)")
    query.add_argument("--top", type=int, default=10, metavar="K", help="rows shown (default 10)")
    query.add_argument("--all-members", action="store_true",
                       help="list isomorphic architectures separately (default: one per class)")
    query.add_argument("--confidence", type=float, default=0.9, metavar="C", help=CONFIDENCE_HELP)
    add_truth(query)
    add_space(query)
    add_common(query, formats=("table", "json", "csv"))
    query.set_defaults(handler=query_command)

    following = commands.add_parser(
        "measure-next", help="the unmeasured cells whose measurement would change the top picks most",
        description="Lists the cells to measure on the device next: unmeasured cells at least as accurate as the "
                    "last of the top picks whose interval reaches below the bound (picks, which a measurement "
                    "confirms or removes, and cells left out by their upper end, which it may admit), most "
                    "accurate first. Measure them, add the rows (arch,<value>) to the measurements, refit "
                    "(gcnas predictor fit --target latency ...), rebuild (gcnas lut build) and query again; "
                    "--format csv prints arch strings ready to paste into the measurement CSV.")
    following.add_argument("--max-latency-ms", type=float, metavar="X", help="keep cells with latency <= X (ms)")
    following.add_argument("--max-energy-mj", type=float, metavar="X", help="keep cells with energy <= X (mJ)")
    following.add_argument("--max-params-m", type=float, metavar="X", help="keep cells with parameters <= X (millions)")
    following.add_argument("--max-flops-m", type=float, metavar="X", help="keep cells with FLOPs <= X (millions)")
    following.add_argument("--top", type=int, default=10, metavar="K", help="picks the answer is about (default 10)")
    following.add_argument("--num", type=int, default=10, metavar="N", help="most cells listed (default 10)")
    following.add_argument("--confidence", type=float, default=0.9, metavar="C", help=CONFIDENCE_HELP)
    following.add_argument("--all-members", action="store_true",
                           help="list isomorphic architectures separately (default: one per class)")
    add_space(following)
    add_common(following, formats=("table", "json", "csv"))
    following.set_defaults(handler=measure_next_command)


def build_command(args: argparse.Namespace) -> int:
    from gcnas.exceptions import InvalidInputError
    from gcnas.predictors import LookupTable
    from gcnas.predictors.lut import hardware_covers

    store = open_store(args)
    started = time.perf_counter()
    if args.pool is None and store.space.size() is None:
        raise InvalidInputError(f"the {store.space_name!r} space cannot be listed; build its lookup table over a pool "
                                "of sampled cells: add --pool N (e.g. --pool 10000)")
    if args.energy is None:  # the energy model where the hardware module knows the space's cells
        args.energy = "model" if hardware_covers(store.space) else "none"
    energy = None if args.energy == "none" else args.energy
    table = LookupTable.build(store, latency=args.latency, energy=energy, dataset=args.dataset,
                              trust_pickle=args.trust_pickle, progress=True, pool=args.pool, seed=args.seed)
    missing = store.lut_meta().get("missing") or {}
    emit({"space": store.space_name, "rows": store.lut_size(), "columns": ", ".join(table.columns),
          "latency": args.latency,
          "energy": energy, **{f"{name}_missing": count for name, count in missing.items()},
          "seconds": round(time.perf_counter() - started, 2)}, args.format)
    return 0


def query_command(args: argparse.Namespace) -> int:
    from gcnas.predictors import LookupTable

    truth = load_truth(args)
    started = time.perf_counter()
    lut = LookupTable(open_store(args))
    rows = lut.query(
        max_latency_ms=args.max_latency_ms, max_energy_mj=args.max_energy_mj, max_params_m=args.max_params_m,
        max_flops_m=args.max_flops_m, sort=args.sort, pareto_cost=args.pareto_cost, top=args.top,
        distinct=not args.all_members, confidence=args.confidence)
    seconds = time.perf_counter() - started
    space = lut.store.space
    archs = [space.parse(row["arch"]) for row in rows]
    for row, arch in zip(rows, archs):
        row.update(arch_ids(space, arch))
    columns = [c for c in SHOWN if c in rows[0]] if args.format != "json" else None
    judgement = None
    if truth is not None:  # read only now, after the query answered
        for row, value in zip(rows, true_values(truth, archs)):
            row[truth.name] = value
        columns = None if columns is None else [*columns, truth.name]
        judgement = truth.judge(*lut.predictions(distinct=not args.all_members))
    emit_judged(rows, args.format, truth, judgement, columns)
    if args.format == "table":
        print(f"({len(rows)} rows, {1000 * seconds:.1f} ms)")
    line = picks_line(rows, args.confidence, args.max_latency_ms)
    if line:  # on stderr for json / csv, which stay machine-readable
        print(line, file=sys.stdout if args.format == "table" else sys.stderr)
    return 0


def picks_line(rows: list[dict], confidence: float, bound: float | None) -> str | None:
    """``7 of 10 picks measured; the other 3 predicted 6.1-7.9 ms (...)``, or None without a
    measured flag on the latency column."""
    from gcnas.predictors.lut_bounds import picks_summary

    summary = picks_summary(rows, "latency_ms")
    if summary is None:
        return None
    text = f"latency: {summary['measured']} of {summary['rows']} picks measured"
    if summary["predicted"]:
        interval = "latency_ms_high" in rows[0]
        text += (f"; the other {summary['predicted']} predicted, "
                 f"{summary['low']:.3g}-{summary['high']:.3g} ms" +
                 (f" (ends at {confidence:g} confidence; chosen so that at most {1 - confidence:.0%} of the "
                  f"predicted picks are expected over {bound:g} ms)" if interval and bound
                  else " (point estimates: no interval applied)"))
    return text


def measure_next_command(args: argparse.Namespace) -> int:
    from gcnas.predictors import LookupTable

    lut = LookupTable(open_store(args))
    rows = lut.measure_next(max_latency_ms=args.max_latency_ms, max_energy_mj=args.max_energy_mj,
                            max_params_m=args.max_params_m, max_flops_m=args.max_flops_m, confidence=args.confidence,
                            top=args.top, num=args.num, distinct=not args.all_members)
    if args.format == "csv":  # arch strings to paste into the device's measurement CSV
        emit(rows, "csv", ["arch", "accuracy", "latency_ms", "latency_ms_low", "latency_ms_high", "reason"])
        return 0
    if args.format == "json":
        emit(rows, "json")
        return 0
    if not rows:
        print(f"nothing to measure: the top {args.top} picks are settled at {args.confidence:g} confidence "
              "(measured, or no unmeasured cell could change them)")
        return 0
    shown = [c for c in ("rank", "arch", "accuracy", "latency_ms", "latency_ms_low", "latency_ms_high",
                         "energy_mj", "energy_mj_low", "energy_mj_high", "reason") if c in rows[0]]
    emit(rows, "table", shown)
    print(f"measure these {len(rows)} on the device, add them (arch,<value>) to the measurements, refit with "
          "`gcnas predictor fit --target latency ...`, rebuild with `gcnas lut build` and query again")
    return 0
