"""NAS-Bench-201 results unchanged by the move behind the SearchSpace protocol (issue 23).

Runs the same small NB201 computations with two checkouts of gcnas, in two child processes,
and compares the arrays bit for bit: predictions of the GCN (with and without pruning, cost
feature and isomorphic twins), MLP, GBT and GP fitted on 60 seeded cells; the DARTS GCN and
MLP; params / FLOPs / energy of all 15,625 cells (``cost_table``); the energy model's
breakdowns. The old checkout is any commit before the move, e.g.::

    git archive 9c0f430 gcnas | tar -x -C /tmp/gcnas_before
    python benchmarks/space_nb201_unchanged.py --old /tmp/gcnas_before

Exit status 1 when any array differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

CHILD = r'''
import sys, numpy as np
try:
    from gcnas.spaces.nb201 import NB201Space
    from gcnas.spaces.darts import DartsSpace
except ImportError:  # before the move
    from gcnas.space import NB201Space
    from gcnas.spaces.darts import DartsSpace
from gcnas.hardware import EnergyModel, cost_table
from gcnas.predictors import GBTPredictor, GCNPredictor, GPPredictor, MLPPredictor

space = NB201Space()
archs, test = space.sample_many(60, seed=3), space.sample_many(300, seed=4)
y = np.array([sum(a.ops) + 0.3 * a.ops[2] for a in archs], dtype=float)
out = {
    "gcn": GCNPredictor(hidden=16, layers=2, ensemble=2, epochs=15, seed=0).fit(archs, y).predict(test),
    "gcn_plain": GCNPredictor(hidden=16, layers=2, ensemble=1, epochs=10, seed=1, prune=False, cost_feature=False,
                              isomorphs=0).fit(archs, y).predict(test),
    "mlp": MLPPredictor(hidden=16, ensemble=2, epochs=15, seed=0).fit(archs, y).predict(test),
    "gbt": GBTPredictor(n_estimators=20, ensemble=2, seed=0).fit(archs, y).predict(test),
    "gp": GPPredictor(seed=0).fit(archs[:30], y[:30]).predict(test),
}
darts, rng = DartsSpace(), np.random.default_rng(0)
cells = [darts.sample(rng) for _ in range(90)]
z = np.array([sum(op == "sep_conv_3x3" for op, _ in g.normal) for g in cells], dtype=float)
out["darts_gcn"] = GCNPredictor(space="darts", hidden=8, layers=1, ensemble=1, epochs=5, seed=0).fit(
    cells[:40], z[:40]).predict(cells[40:])
out["darts_mlp"] = MLPPredictor(space="darts", hidden=8, ensemble=1, epochs=5, seed=0).fit(
    cells[:40], z[:40]).predict(cells[40:])
every = space.all_archs()
for dataset in ("cifar10", "imagenet16-120"):
    for name, values in cost_table(every, energy="model", dataset=dataset).items():
        out[f"{dataset}:{name}"] = values
out["energy_breakdown"] = np.array([list(EnergyModel().breakdown(a, channels=8, cells=2).values())
                                    for a in every[::97]])
np.savez(sys.argv[1], **out)
'''


def run(checkout: Path, path: Path) -> dict[str, np.ndarray]:
    """The arrays CHILD computes with the gcnas of ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, check=True, cwd=tempfile.gettempdir())
    with np.load(path) as data:
        return {k: data[k] for k in data}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, type=Path, help="a checkout (folder holding gcnas/) before the move")
    parser.add_argument("--new", default=REPO, type=Path, help="the checkout to compare (default: this one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        old, new = run(args.old, Path(tmp) / "old.npz"), run(args.new, Path(tmp) / "new.npz")
    differ = 0
    for name in old:
        same = name in new and old[name].shape == new[name].shape and np.array_equal(old[name], new[name])
        gap = float(np.max(np.abs(old[name] - new[name]))) if name in new and old[name].shape == new[name].shape \
            else float("nan")
        print(f"{name:34s} {'identical' if same else 'DIFFERS'}  max |old - new| = {gap:.3g}")
        differ += not same
    print(f"{len(old) - differ} of {len(old)} arrays identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
