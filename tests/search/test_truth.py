"""A truth recorded with each trial (``gcnas search run --truth``) never steers the search."""

from __future__ import annotations

import numpy as np
import pytest

from gcnas.predictors import parse_truth
from gcnas.search import Constraint, TableObjective, make_searcher, run_search


@pytest.mark.parametrize("method, kwargs", [
    ("evolution", {"population_size": 5, "sample_size": 2}),
    ("bo", {"features": "onehot", "n_init": 4}),
])
def test_a_shuffled_truth_changes_only_the_truth(small_table, truth_csvs, method, kwargs):
    acc = TableObjective("valid_acc", table=small_table)
    latency = TableObjective("latency_ms", maximize=False, table=small_table, cheap=True)
    results, truths = [], []
    for path in truth_csvs:
        truth = parse_truth(f"table:{path}:test_acc")
        report = TableObjective(truth.name, table=truth.table, column=truth.column)
        searcher = make_searcher(method, candidates=small_table.archs, **kwargs)
        result = run_search(searcher, [acc], budget=10, constraints=[Constraint(latency, upper=5.0)],
                            report=[report], seed=2)
        results.append(result)
        truths.append(truth)
    same = [[(t.arch, t.status, t.objectives, t.report.get("feasible")) for t in r.trials] for r in results]
    assert same[0] == same[1] and len(same[0]) == 10
    assert [t.report["true_test_acc"] for t in results[0].trials] != [t.report["true_test_acc"]
                                                                     for t in results[1].trials]
    archs = [t.arch for t in results[0].trials]
    scores = results[0].values("valid_acc")
    np.testing.assert_array_equal(scores, results[1].values("valid_acc"))
    assert truths[0].judge(archs, scores) != truths[1].judge(archs, scores)
