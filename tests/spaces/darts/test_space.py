"""DartsSpace: sampling, canonical forms, mutation, decisions and arch2vec graphs."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts import NUM_GENOTYPES, OPS, DartsSpace, Genotype, parse_genotype

SPACE = DartsSpace()


def test_sample_is_canonical_reproducible_and_valid():
    a, b = SPACE.sample(3), SPACE.sample(3)
    assert a == b and SPACE.canonical(a) == a
    rng = np.random.default_rng(0)
    drawn = [SPACE.sample(rng) for _ in range(200)]
    assert len({SPACE.key(g) for g in drawn}) == 200


def test_sample_is_uniform_over_input_pairs_and_ops():
    rng = np.random.default_rng(1)
    pairs, ops = Counter(), Counter()
    for _ in range(3000):
        g = SPACE.sample(rng)
        pairs[(g.normal[6][1], g.normal[7][1])] += 1    # node 5: 10 pairs of 0..4
        ops[g.reduce[3][0]] += 1
    assert set(pairs) == set(itertools.combinations(range(5), 2))
    assert max(pairs.values()) / min(pairs.values()) < 1.35
    assert set(ops) == set(OPS) and max(ops.values()) / min(ops.values()) < 1.35


def test_canonical_key_ignores_the_order_of_a_nodes_pairs():
    g = SPACE.sample(5)
    swapped = list(g.normal)
    swapped[4], swapped[5] = swapped[5], swapped[4]
    h = Genotype(normal=swapped, reduce=g.reduce)
    assert h != g and SPACE.key(h) == SPACE.key(g) and SPACE.canonical(h) == g
    changed = list(g.normal)
    changed[4] = ("skip_connect" if changed[4][0] != "skip_connect" else "max_pool_3x3", changed[4][1])
    assert SPACE.key(Genotype(normal=changed, reduce=g.reduce)) != SPACE.key(g)


def test_neighbours_and_mutate():
    g = SPACE.sample(7)
    nbrs = SPACE.neighbours(g)
    assert len(nbrs) == 120 and len(set(nbrs)) == 120 and g not in nbrs
    for n in nbrs:
        a, b = SPACE.to_decisions(g), SPACE.to_decisions(n)
        changed = [i for i in range(24) if a[i] != b[i]]
        assert 1 <= len(changed) <= 3 and len({i // 3 for i in changed}) == 1  # one node of one cell
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = SPACE.mutate(g, rng)
        assert m in nbrs and SPACE.canonical(m) == m


def test_decisions_round_trip_and_count():
    assert len(SPACE.decisions) == 24
    sizes = [d.size for d in SPACE.decisions]
    assert int(np.prod(sizes, dtype=object)) == NUM_GENOTYPES
    rng = np.random.default_rng(2)
    for _ in range(50):
        g = SPACE.sample(rng)
        assert SPACE.from_decisions(SPACE.to_decisions(g)) == g
        values = [int(rng.integers(s)) for s in sizes]
        assert SPACE.to_decisions(SPACE.from_decisions(values)) == values
    with pytest.raises(InvalidInputError, match="reduce.node5.inputs"):
        SPACE.from_decisions([0] * 21 + [10, 0, 0])


def test_size_and_enumerate():
    assert SPACE.size() is None
    with pytest.raises(InvalidInputError, match="cannot be listed"):
        SPACE.enumerate()


def test_arch2vec_graph_of_a_known_cell():
    g = parse_genotype(
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('dil_conv_3x3', 2), "
        "('max_pool_3x3', 3), ('avg_pool_3x3', 1), ('sep_conv_5x5', 4), ('dil_conv_5x5', 2)], "
        "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
        "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
        "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
    normal, reduce = SPACE.to_graph(g)
    assert SPACE.graph_names == ("normal", "reduce") and SPACE.max_nodes == normal.num_nodes == 11
    names = [SPACE.node_types[i] for i in normal.node_ids]
    assert names == ["c_k-2", "c_k-1", "sep_conv_3x3", "sep_conv_3x3", "skip_connect", "dil_conv_3x3",
                     "max_pool_3x3", "avg_pool_3x3", "sep_conv_5x5", "dil_conv_5x5", "output"]
    edges = {(int(u), int(v)) for u, v in zip(*np.nonzero(normal.adjacency))}
    expected = {(0, 2), (1, 3), (0, 4), (2, 5), (3, 5),      # node 3 reads c_k-2 and node 2 (= op nodes 2, 3)
                (4, 6), (5, 6), (1, 7),                      # node 4 reads node 3 and c_k-1
                (6, 8), (7, 8), (2, 9), (3, 9)}              # node 5 reads node 4 and node 2
    expected |= {(k, 10) for k in range(2, 10)}
    assert edges == expected
    assert np.triu(normal.adjacency, 1).sum() == normal.adjacency.sum()   # a DAG in topological order
    assert normal.features.sum(axis=1).tolist() == [1.0] * 11
    assert [SPACE.node_types[i] for i in reduce.node_ids][2] == "max_pool_3x3"
