"""NAS-Bench-201 searches propose exactly what they proposed before search spaces became plug-ins.

The cells below were recorded with the code before that change (commit 9c0f430: searchers
keyed by ``Arch.code``, an NB201-only controller), seed 3, on the packaged CIFAR-10 table.
"""

from __future__ import annotations

import pytest

from gcnas.data import BenchmarkTable
from gcnas.search import (BayesianOptimization, RandomSearch, RegularizedEvolution, ReinforceSearch, TableObjective,
                          run_search)

BEFORE = {
    "random": [12679, 15284, 13192, 4925, 138, 375, 6582, 8295, 1947, 5945, 1053, 7344],
    "evolution": [12679, 15284, 13192, 4925, 138, 375, 6582, 8295, 1947, 5945, 6587, 6462],
    "reinforce": [8897, 7315, 4, 1155, 1927, 14489, 3636, 9680, 58, 5295, 7570, 4991],
    "bo": [12679, 15284, 13192, 4925, 138, 375, 6582, 8295, 9082, 9092, 9332, 9097],
    "bo_sub": [12872, 14841, 5157, 13310, 13126, 11625, 10913, 11815, 10811, 10692, 10035, 10013],
}


@pytest.mark.parametrize("method", list(BEFORE))
def test_same_seed_same_cells_as_before_spaces_were_plug_ins(method):
    table = BenchmarkTable.packaged("nb201:cifar10")
    make = {"random": lambda: RandomSearch(),
            "evolution": lambda: RegularizedEvolution(population_size=10, sample_size=3),
            "reinforce": lambda: ReinforceSearch(seed=1),
            "bo": lambda: BayesianOptimization(n_init=8),
            "bo_sub": lambda: BayesianOptimization(n_init=8, candidates=table.archs[:400])}[method]
    result = run_search(make(), [TableObjective("valid_acc", table=table)], budget=12, seed=3)
    assert [t.arch.code for t in result.trials] == BEFORE[method]
