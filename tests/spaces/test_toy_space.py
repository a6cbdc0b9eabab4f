"""The toy space of docs/spaces.md ("Adding your own space"), run from the document itself.

The code block after the ``toy-space`` marker is read from the markdown and executed, so the
documentation cannot drift from what the tests run: registration by name, the protocol
checks, sampling, costs, a GCN fit, a predictor saved and loaded by the space's name, and a
search (the last step waits for the searchers to take any space: see its marker).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gcnas.spaces import check_space, count_module, get_space, registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "spaces.md"


def toy_space_code() -> str:
    """The python code block that follows the ``toy-space`` marker in docs/spaces.md."""
    text = DOC.read_text()
    marker = text.index("<!-- toy-space:")
    match = re.compile(r"```python\n(.*?)```", re.S).search(text, marker)
    assert match is not None, "docs/spaces.md: no python code block after the toy-space marker"
    return match.group(1)


@pytest.fixture
def chain(monkeypatch):
    """The toy space, registered as ``chain`` for this test only."""
    monkeypatch.setattr(registry, "_FACTORIES", {})
    namespace: dict = {"__name__": "docs_toy_space"}
    exec(compile(toy_space_code(), str(DOC), "exec"), namespace)
    return get_space("chain")


def _convs(archs) -> np.ndarray:
    return np.array([sum("conv" in op for op in a) for a in archs], dtype=np.float64)


def test_the_documented_space_registers_and_keeps_the_protocol(chain):
    assert chain.name == "chain" and chain.size() == 64
    check_space(chain, samples=10, seed=1)
    assert chain.parse("conv3x3-skip-maxpool") == ("conv3x3", "skip", "maxpool")
    with pytest.raises(ValueError, match="joined by '-'"):
        chain.parse("conv3x3-bogus-skip")


def test_sampling_is_uniform_over_the_64_chains(chain):
    rng = np.random.default_rng(0)
    counts = Counter(chain.sample(rng) for _ in range(6400))
    assert set(counts) == set(chain.enumerate())
    chi2 = sum((c - 100) ** 2 / 100 for c in counts.values())   # 100 expected each, 63 degrees of freedom
    assert chi2 < 103.4                                          # the 99.9% quantile of chi2(63)


def test_hand_counted_costs_match_the_network(chain):
    for arch in chain.enumerate():
        counted = count_module(chain.network(arch), (3, 32, 32), rule="macs")
        costs = chain.costs(arch)
        assert costs["params"] == pytest.approx(counted.params / 1e6, abs=1e-12)
        assert costs["flops"] == pytest.approx(counted.flops / 1e6, abs=1e-9)


def test_a_gcn_learns_the_number_of_convolutions_and_saves_by_name(chain, tmp_path):
    from gcnas.predictors import GCNPredictor, kendall_tau, load_predictor

    cells = list(chain.enumerate())
    order = np.random.default_rng(0).permutation(len(cells))
    train, held = [cells[i] for i in order[:40]], [cells[i] for i in order[40:]]
    model = GCNPredictor(space="chain", hidden=16, layers=2, ensemble=1, epochs=150, seed=0)
    model.fit(train, _convs(train))
    predicted = model.predict(held)
    assert kendall_tau(_convs(held), predicted) > 0.6
    assert np.array_equal(model.predict([chain.format(a) for a in held]), predicted)   # strings read too
    path = model.save(tmp_path / "chain.pt")
    assert np.allclose(load_predictor(path).predict(held), predicted)


def test_a_search_finds_a_chain_of_three_convolutions(chain):
    from gcnas.search import RegularizedEvolution, run_search
    from gcnas.search.objectives import CallableObjective

    searcher = RegularizedEvolution(population_size=8, sample_size=3, space=chain)
    objective = CallableObjective("convs", fn=lambda a: float(sum("conv" in op for op in a)))
    result = run_search(searcher, [objective], budget=30, seed=0)
    assert max(t.objectives["convs"] for t in result.trials if t.status == "ok") == 3.0
