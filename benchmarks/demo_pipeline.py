"""The whole pipeline, ``gcnas demo``, timed end to end and its judged figures recorded.

Runs the real command (``python -m gcnas demo ... --format json``) in a fresh run folder, so
no stage is skipped as "done earlier", and records its wall time, every stage's time, the GCN's
held-out Kendall tau and, with ``--truth``, the demo's judgement by the truth table (rankings,
the latency bound, the regret of the best pick and of a random search with as many supernet
evaluations). Flags after ``--`` go to ``gcnas demo`` unchanged.

    python benchmarks/demo_pipeline.py --label digits
    python benchmarks/demo_pipeline.py --label cifar10 -- --dataset imagefolder --data-root DIR \\
        --latency nb201_latency_ms.csv:pixel3 --truth table:nb201_cifar10_200ep.csv:test_acc
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import REPO, BenchmarkRun, add_output_arguments


def truth_figures(judged: dict) -> dict:
    """Flat figures of the demo's judgement by the truth table (see ``gcnas.demo_truth.judge_demo``)."""
    column = judged["column"]
    figures: dict = {"truth.bound_ms": judged["bound_ms"],
                     "truth.random_search_evaluations": judged["random_search_evaluations"]}
    for name, report in judged["rankings"].items():
        slug = name.split(" (")[0].replace(" ", "_")
        figures.update({f"truth.{slug}.{k}": report[k] for k in ("n", "kendall_tau", "spearman", "precision_at_5")})
    for key in ("true_best", "best_pick", "lut_top", "random_search"):
        if judged.get(key):
            true = judged[key].get(f"true_{column}", judged[key].get(column))  # judge_demo names it true_<column>
            figures.update({f"truth.{key}.{column}": true, f"truth.{key}.regret": judged[key]["regret"],
                            f"truth.{key}.latency_ms": judged[key]["latency_ms"]})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="flags after -- go to gcnas demo")
    parser.add_argument("--run", type=Path, default=None,
                        help="run folder, which must not exist yet (default: a temporary one, removed after)")
    parser.add_argument("--reuse", action="store_true",
                        help="--run may hold a finished demo: record its figures (stage times as the run recorded "
                             "them; the wall time is then the sum of the stages)")
    add_output_arguments(parser, "demo_pipeline")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.demo_args = argv[split + 1:]
    bench = BenchmarkRun("demo_pipeline", args)
    if args.run is not None and args.run.exists() and not args.reuse:
        raise SystemExit(f"{args.run} exists: a rerun would skip its finished stages; name a new folder")
    run_dir = args.run or Path(tempfile.mkdtemp(prefix="gcnas-demo-bench-")) / "run"
    command = [sys.executable, "-m", "gcnas", "demo", "--run", str(run_dir), "--format", "json", *args.demo_args]
    print("running:", " ".join(command), flush=True)
    began = time.perf_counter()
    finished = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - began
    if finished.returncode != 0:
        raise SystemExit(f"gcnas demo failed (exit {finished.returncode}); nothing written")
    summary = json.loads(finished.stdout)
    if args.run is None:
        shutil.rmtree(run_dir.parent, ignore_errors=True)
    if args.reuse:
        wall = summary["total_seconds"]
    figures: dict = {"command_wall_s": wall, "total_seconds": summary["total_seconds"],
                     "predictor_kendall_tau_heldout": summary["predictor_kendall_tau_heldout"],
                     "predicted_vs_trained_kendall_tau": summary["predicted_vs_trained_kendall_tau"],
                     **{f"stage.{k}_s": v for k, v in summary["stage_seconds"].items()}}
    if "truth" in summary:
        figures.update(truth_figures(summary["truth"]))
    print(json.dumps(figures, indent=1))
    summary.get("truth", {}).pop("true_cloud", None)  # thousands of points drawn in the report, not figures
    bench.write(figures, details=summary)


if __name__ == "__main__":
    main()
