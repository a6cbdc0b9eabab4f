"""The protocol module: Decision, SpaceGraph, check_decisions, one_hot, and the package's layering."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import Decision, SearchSpace, SpaceGraph, check_decisions, get_space, one_hot
from gcnas.spaces.darts import DartsSpace


@pytest.mark.parametrize("name", ["gcnas.spaces", "gcnas.spaces.darts", "gcnas.spaces.nb201"])
def test_every_exported_name_exists(name):
    module = importlib.import_module(name)
    missing = [attr for attr in module.__all__ if not hasattr(module, attr)]
    assert module.__all__ and not missing and len(set(module.__all__)) == len(module.__all__)


def test_spaces_import_only_exceptions_of_gcnas():
    root = Path(importlib.import_module("gcnas.spaces").__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gcnas."):
                assert node.module == "gcnas.exceptions" or node.module.startswith("gcnas.spaces"), \
                    f"{path.name} imports {node.module}"


def test_decision_validates():
    assert Decision("a", ("x", "y")).size == 2
    with pytest.raises(InvalidInputError, match="at least one"):
        Decision("a", ())
    with pytest.raises(InvalidInputError, match="twice"):
        Decision("a", ("x", "x"))
    with pytest.raises(InvalidInputError, match="non-empty"):
        Decision("", ("x",))


@pytest.mark.parametrize("name", ["nb201", "darts"])
def test_decision_index_round_trips(name):
    from gcnas.spaces import decision_index, from_decision_index

    space = get_space(name)
    rng = np.random.default_rng(0)
    for _ in range(20):
        arch = space.sample(rng)
        assert space.key(from_decision_index(space, decision_index(space, arch))) == space.key(arch)
    with pytest.raises(InvalidInputError, match="decision index"):
        from_decision_index(space, -1)


def test_decision_index_of_nb201_is_the_cell_code():
    from gcnas.spaces import decision_index
    from gcnas.spaces.nb201 import Arch

    space = get_space("nb201")
    assert all(decision_index(space, Arch.from_code(c)) == c for c in (0, 1, 7, 3124, 15624))


def test_space_graph_node_ids():
    features = np.eye(3, dtype=np.float32)[[2, 0, 1]]
    g = SpaceGraph(np.zeros((3, 3), np.uint8), features)
    assert g.node_ids.tolist() == [2, 0, 1] and g.num_nodes == 3


@pytest.mark.parametrize("name", ["nb201", "darts"])
def test_builtin_spaces_satisfy_the_protocol(name):
    assert isinstance(get_space(name), SearchSpace)


def test_check_decisions_names_the_bad_value():
    space = DartsSpace()
    values = space.to_decisions(space.sample(1))
    assert check_decisions(space, values) == values
    with pytest.raises(InvalidInputError, match="expected 24"):
        check_decisions(space, values[:-1])
    bad = list(values)
    bad[1] = 7
    with pytest.raises(InvalidInputError, match=r"normal.node2.op_first.*outside 0..6"):
        check_decisions(space, bad)


def test_one_hot_has_one_one_per_decision_at_the_chosen_value():
    space = DartsSpace()
    archs = [space.sample(s) for s in range(5)]
    x = one_hot(space, archs)
    sizes = [d.size for d in space.decisions]
    assert x.shape == (5, sum(sizes)) and (x.sum(axis=1) == len(sizes)).all()
    offsets = np.cumsum([0] + sizes[:-1])
    for row, arch in enumerate(archs):
        assert (np.flatnonzero(x[row]) - offsets).tolist() == space.to_decisions(arch)


@pytest.mark.parametrize("module", ["gcnas.spaces.protocol", "gcnas.spaces.counts", "gcnas.spaces.darts.genotype",
                                    "gcnas.spaces.darts.conversions", "gcnas.spaces.darts.encodings",
                                    "gcnas.spaces.darts.primitives", "gcnas.spaces.darts.network",
                                    "gcnas.spaces.darts.space", "gcnas.spaces.darts.supernet",
                                    "gcnas.spaces.nb201.space", "gcnas.spaces.nb201.counts",
                                    "gcnas.spaces.nb201.primitives", "gcnas.spaces.nb201.network",
                                    "gcnas.spaces.conformance"])
def test_docstring_examples_run(module):
    import doctest

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
