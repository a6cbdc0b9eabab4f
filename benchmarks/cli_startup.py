"""How long a ``gcnas`` command takes from start to exit, today against an earlier commit.

Each command is run ``--repeats`` times as a fresh process (the operating system's file cache
warm, Python's import caches as a user has them), alternating between the two versions of the
code so that a load change on the machine hits both alike; the figure is the median wall time.
The earlier version is ``git archive``d into a temporary folder and run through the same
interpreter and packages (``PYTHONPATH``), so only gcnas's own code differs.

The commands read a small run made first by today's code (a GCN fitted to 30 cells of the
packaged NAS-Bench-201 table, its lookup table, a random search of 8 trials): the work they do
is milliseconds, what is left is start-up.

    python benchmarks/cli_startup.py                      # against the commit before the lazy imports
    python benchmarks/cli_startup.py --baseline HEAD~3 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import REPO, BenchmarkRun, add_output_arguments

COMMANDS = {
    "help": ["--help"],
    "arch_show": ["arch", "show", "0"],
    "lut_query": ["lut", "query", "--run", "{run}", "--max-latency-ms", "5", "--top", "5"],
    "search_trials": ["search", "trials", "--run", "{run}", "--study", "random", "--format", "csv"],
}
DEFAULT_BASELINE = "107fe74"
"""The last commit whose commands imported torch and PyTorch Geometric before doing anything."""


def gcnas(argv: list[str], env: dict[str, str], *, check: bool = True) -> float:
    """Wall seconds of one ``python -m gcnas ARGV`` process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gcnas", *argv], env=env, capture_output=True, text=True,
                          timeout=600)
    seconds = time.perf_counter() - started
    if check and done.returncode != 0:
        raise SystemExit(f"gcnas {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def make_run(run: Path, env: dict[str, str]) -> None:
    gcnas(["predictor", "fit", "--table", "nb201:cifar10", "--metric", "valid_acc", "--num-train", "30",
           "--epochs", "30", "--ensemble", "1", "--run", str(run)], env)
    gcnas(["lut", "build", "--latency", "nb201:latency:pixel3", "--run", str(run)], env)
    gcnas(["search", "run", "--method", "random", "--budget", "8", "--accuracy-from", "nb201:cifar10:valid_acc",
           "--run", str(run), "--study", "random"], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help=f"git commit to compare with ({DEFAULT_BASELINE})")
    parser.add_argument("--repeats", type=int, default=10, help="fresh processes per command and version (10)")
    add_output_arguments(parser, "cli_startup")
    args = parser.parse_args()
    bench = BenchmarkRun("cli_startup", args)
    base_env = {**os.environ, "GCNAS_PROGRESS": "off"}
    base_env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="gcnas-startup-") as scratch:
        scratch = Path(scratch)
        old = scratch / "baseline"
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        envs = {"now": {**base_env, "PYTHONPATH": str(REPO)}, "baseline": {**base_env, "PYTHONPATH": str(old)}}
        run = scratch / "run"
        make_run(run, envs["now"])
        seconds: dict[str, dict[str, list[float]]] = {v: {c: [] for c in COMMANDS} for v in envs}
        for repeat in range(args.repeats):
            for name, argv in COMMANDS.items():
                argv = [part.format(run=run) for part in argv]
                for version, env in (envs.items() if repeat % 2 == 0 else reversed(envs.items())):
                    seconds[version][name].append(gcnas(argv, env))
    figures: dict[str, float] = {}
    print(f"{'command':<15} {'baseline s':>10} {'now s':>8} {'ratio':>6}   (median of {args.repeats}, load "
          f"{os.getloadavg()[0]:.2f})")
    for name in COMMANDS:
        before, after = (statistics.median(seconds[v][name]) for v in ("baseline", "now"))
        figures[f"{name}.baseline_s"] = round(before, 3)
        figures[f"{name}.now_s"] = round(after, 3)
        figures[f"{name}.speedup"] = round(before / after, 2)
        print(f"{name:<15} {before:>10.2f} {after:>8.2f} {before / after:>6.1f}x")
    figures["slowest_now_s"] = max(figures[f"{name}.now_s"] for name in COMMANDS)
    bench.write(figures, details={"baseline": args.baseline, "seconds": seconds})


if __name__ == "__main__":
    main()
