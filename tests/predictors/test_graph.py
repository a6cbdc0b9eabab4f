from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.predictors import NODE_FEATURES, arch_batch, arch_data, live_adjacency
from gcnas.space import OPS, Arch, NB201Space

CONV3 = OPS.index("nor_conv_3x3")
NONE = OPS.index("none")


def test_arch_data_shapes_and_features():
    arch = Arch((CONV3,) * 6)
    data = arch_data(arch)
    assert data.x.shape == (8, NODE_FEATURES)
    # op one-hot + position one-hot: every node has exactly two ones
    assert torch.equal(data.x.sum(1), torch.full((8,), 2.0))
    assert torch.equal(data.x[:, 7:], torch.eye(8))
    # with every op alive, pruning keeps the whole wiring of Arch.to_graph
    assert data.edge_index.shape[1] == int(arch.to_graph().adjacency.sum())


def test_pruning_drops_dead_paths():
    assert arch_data(Arch((NONE,) * 6)).edge_index.shape[1] == 0
    assert arch_data(Arch((NONE,) * 6), prune=False).edge_index.shape[1] > 0
    # only the direct input->output edge (3<-0, op index 3) alive: input -> op4 -> output
    ops = [NONE] * 6
    ops[3] = CONV3
    edges = sorted(map(tuple, arch_data(Arch(tuple(ops))).edge_index.t().tolist()))
    assert edges == [(0, 4), (4, 7)]


def test_dead_end_node_is_pruned():
    # edge 1<-0 is a conv but nothing reads node 1 (edges 2<-1 and 3<-1 are none)
    ops = (CONV3, NONE, NONE, CONV3, NONE, NONE)
    graph = Arch(ops).to_graph()
    live = live_adjacency(graph.adjacency, graph.features)
    assert live[0, 1] == 0 and live.sum() == 2


def test_batch_keeps_order():
    archs = NB201Space().sample_many(5, seed=0)
    batch = arch_batch(archs)
    assert batch.num_graphs == 5 and batch.x.shape == (40, NODE_FEATURES)
    for i, arch in enumerate(archs):
        assert torch.equal(batch.x[8 * i:8 * i + 8], arch_data(arch).x)
    assert np.array_equal(batch.batch.numpy(), np.repeat(np.arange(5), 8))


@pytest.mark.parametrize("code", [0, 1, 777, 15624])
def test_isomorphic_cells_prune_alike(code):
    arch = Arch.from_code(code)
    assert arch_data(arch).edge_index.shape[1] <= arch_data(arch, prune=False).edge_index.shape[1]
