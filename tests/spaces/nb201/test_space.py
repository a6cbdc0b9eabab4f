from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcnas.spaces.nb201 import EDGES, NODE_TYPES, NUM_ARCHS, OPS, Arch, NB201Space, Space

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_string_round_trip_and_code():
    arch = Arch.from_string(BEST)
    assert str(arch) == BEST
    assert arch.ops == (3, 3, 3, 1, 3, 3)
    assert arch.code == ((((3 * 5 + 3) * 5 + 3) * 5 + 1) * 5 + 3) * 5 + 3
    assert Arch.from_code(arch.code) == arch
    assert Arch.parse(str(arch.code)) == arch == Arch.parse(arch.code)


def test_codes_cover_the_space_exactly_once():
    codes = [a.code for a in NB201Space().enumerate()]
    assert codes == list(range(NUM_ARCHS))
    assert len({str(Arch.from_code(c)) for c in range(0, NUM_ARCHS, 7)}) == len(range(0, NUM_ARCHS, 7))


def test_every_official_string_round_trips_and_maps_index_both_ways(nb201_200ep):
    table = nb201_200ep
    assert len(table) == NUM_ARCHS
    for index in table.indices:
        arch = table.arch(int(index))
        assert table.index(arch) == index
    opener = gzip.open if str(table.path).endswith(".gz") else open  # the packaged copy is gzipped
    with opener(table.path, "rt") as handle:
        next(handle)
        for line in handle:
            text = line.split(",")[1]
            assert str(Arch.from_string(text)) == text
    # The official order is the benchmark's own; index 0 is not code 0.
    assert str(table.arch(0)) == ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
                                 "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")


def test_canonical_classes_match_the_paper():
    space = NB201Space()
    representatives = {space.canonical(a) for a in space.enumerate()}
    assert len(representatives) == 6466
    assert all(r.is_canonical() for r in representatives)


def test_canonical_merges_isomorphic_cells():
    # With a skip on edge 1<-0, node 1 equals the input, so the ops on the two edges into
    # node 2 can be swapped without changing the function.
    a = Arch.from_string("|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    b = Arch.from_string("|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    assert a != b and a.canonical() == b.canonical()
    c = Arch.from_string("|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    assert a.canonical() != c.canonical()
    assert a.canonical().canonical() == a.canonical()


def test_graph_wiring_and_features():
    arch = Arch.from_string(BEST)
    graph = arch.to_graph()
    assert graph.adjacency.shape == (8, 8) and graph.features.shape == (8, len(NODE_TYPES))
    assert np.all(np.triu(graph.adjacency, 1) == graph.adjacency)
    assert graph.features.sum(1).tolist() == [1.0] * 8
    assert graph.features[1:7].argmax(1).tolist() == [1 + op for op in arch.ops]
    # input feeds the three edges leaving node 0; the edges into node 3 feed the output
    assert graph.adjacency[0].nonzero()[0].tolist() == [1, 2, 4]
    assert graph.adjacency[:, 7].nonzero()[0].tolist() == [4, 5, 6]
    # edge 1 (1<-0) feeds the edges leaving node 1: (2<-1) and (3<-1)
    assert graph.adjacency[1].nonzero()[0].tolist() == [3, 5]
    assert arch.one_hot().reshape(6, 5).argmax(1).tolist() == list(arch.ops)


def test_sample_mutate_neighbours_are_seeded_and_valid():
    space = NB201Space()
    assert isinstance(space, Space) and len(space) == NUM_ARCHS
    assert space.sample(seed=3) == space.sample(seed=3)
    arch = space.sample(seed=1)
    neighbours = space.neighbours(arch)
    assert len(neighbours) == len(EDGES) * (len(OPS) - 1) == len(set(neighbours))
    for seed in range(20):
        child = space.mutate(arch, seed)
        assert child != arch and child in neighbours
    drawn = space.sample_many(50, seed=0)
    assert len(set(drawn)) == 50 and drawn == space.sample_many(50, seed=0)
    assert all(a.is_canonical() for a in space.sample_many(20, seed=0, canonical=True))


@pytest.mark.parametrize("text, fragment", [
    ("", "3 nodes"),
    ("|nor_conv_3x3~0|", "3 nodes"),
    ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv'"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read from node 0"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "needs 2 inputs"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "start and end"),
])
def test_malformed_strings_name_the_problem(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        Arch.from_string(text)


@pytest.mark.parametrize("bad", [-1, NUM_ARCHS, 2.5, True, "x"])
def test_bad_codes_raise_value_error(bad):
    with pytest.raises(ValueError):
        Arch.from_code(bad)


def test_bad_ops_raise_value_error():
    for ops in [(0, 0, 0), (0, 0, 0, 0, 0, 5), (0, 0, 0, 0, 0, -1), (0.0,) * 6, None]:
        with pytest.raises(ValueError):
            Arch(ops)


_TOKENS = st.sampled_from([*OPS, "conv", "", "~", "|", "+", "0", "1", "2", "3", "~0", "~1", "~2", "|+|", " "])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(_TOKENS, max_size=30).map("".join)))
def test_fuzzed_strings_only_raise_value_error(text):
    try:
        arch = Arch.from_string(text)
    except ValueError:
        return
    assert Arch.from_string(str(arch)) == arch


@settings(max_examples=200, deadline=None)
@given(st.integers(0, NUM_ARCHS - 1))
def test_code_string_round_trip_property(code):
    arch = Arch.from_code(code)
    assert Arch.from_string(str(arch)).code == code


def test_live_graph_batched_equals_single():
    from gcnas.spaces.nb201 import NB201Space, live_adjacency

    archs = NB201Space().sample_many(40, seed=3)
    graphs = [a.to_graph() for a in archs]
    batched = live_adjacency(np.stack([g.adjacency for g in graphs]), np.stack([g.features for g in graphs]))
    for graph, live in zip(graphs, batched):
        assert np.array_equal(graph.live().adjacency, live)
        assert (live <= graph.adjacency).all()
    assert Arch.from_code(0).to_graph().live().adjacency.sum() == 0
