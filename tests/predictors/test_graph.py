from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnas.predictors import arch_batch, arch_data, live_adjacency, space_node_features
from gcnas.spaces import get_space
from gcnas.spaces.nb201 import EDGES, OPS, Arch, NB201Space

CONV3 = OPS.index("nor_conv_3x3")
NONE = OPS.index("none")
NODE_FEATURES = space_node_features(get_space("nb201"))
NONE_TYPE = get_space("nb201").node_types.index("none")


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
    live = live_adjacency(graph.adjacency, graph.features, NONE_TYPE)
    assert live[0, 1] == 0 and live.sum() == 2


def test_batch_keeps_order():
    archs = NB201Space().sample_many(5, seed=0)
    batch = arch_batch(archs)
    assert batch.num_graphs == 5 and batch.x.shape == (40, NODE_FEATURES)
    for i, arch in enumerate(archs):
        assert torch.equal(batch.x[8 * i:8 * i + 8], arch_data(arch).x)
    assert np.array_equal(batch.batch.numpy(), np.repeat(np.arange(5), 8))


def _live_ops(ops: np.ndarray) -> np.ndarray:
    """``(n, 6)`` which ops of each cell reach the output, found without any graph code.

    Each cell is read as a linear function: every op a fixed random matrix (``skip_connect``
    the identity, ``none`` zero), every node the sum of its inputs. An op is live exactly
    when zeroing it changes the cell's output (random matrices: no cancellation).
    """
    rng = np.random.default_rng(0)
    matrices = rng.normal(size=(len(OPS), 4, 4))
    matrices[NONE], matrices[OPS.index("skip_connect")] = 0.0, np.eye(4)
    x0 = rng.normal(size=4)

    def output(ops: np.ndarray) -> np.ndarray:
        nodes = [np.broadcast_to(x0, (len(ops), 4))]
        for node in range(1, 4):
            nodes.append(sum(np.einsum("nij,nj->ni", matrices[ops[:, k]], nodes[source])
                             for k, (target, source) in enumerate(EDGES) if target == node))
        return nodes[3]

    reference = output(ops)
    live = np.zeros(ops.shape, dtype=bool)
    for k in range(ops.shape[1]):
        zeroed = ops.copy()
        zeroed[:, k] = NONE
        live[:, k] = ~np.isclose(output(zeroed), reference, rtol=1e-9, atol=1e-12).all(axis=1)
    return live


def test_pruning_keeps_exactly_the_ops_that_reach_the_output():
    archs = NB201Space().sample_many(3000, seed=0)
    live = _live_ops(np.array([a.ops for a in archs]))
    wiring = np.zeros((8, 8), dtype=bool)                    # unpruned, the wiring is the same for every cell
    wiring[tuple(arch_data(archs[0], prune=False).edge_index.numpy())] = True
    for arch, alive in zip(archs, live):
        kept_nodes = np.concatenate([[alive.any()], alive, [alive.any()]])
        expected = wiring & kept_nodes[:, None] & kept_nodes[None, :]
        pruned = np.zeros((8, 8), dtype=bool)
        pruned[tuple(arch_data(arch).edge_index.numpy())] = True
        assert np.array_equal(pruned, expected), str(arch)


TWINS = [
    # node 1 is zero (none from the input): its two outgoing ops are dead
    ("|none~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_3x3~0|none~1|nor_conv_3x3~2|",
     "|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|"),
    # node 2 is never read (3<-2 is none): both ops into it are dead
    ("|skip_connect~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|",
     "|skip_connect~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"),
    # only the skip 3<-0 reaches the output
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|",
     "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|none~2|"),
]


@pytest.mark.parametrize("first, second", TWINS, ids=["zero-node", "unread-node", "skip-only"])
def test_isomorphic_cells_prune_alike(first, second):
    a, b = Arch.from_string(first), Arch.from_string(second)
    assert a != b and a.canonical() == b.canonical()
    pruned_a, pruned_b = arch_data(a), arch_data(b)
    assert torch.equal(pruned_a.edge_index, pruned_b.edge_index)
    assert pruned_a.edge_index.shape[1] < arch_data(a, prune=False).edge_index.shape[1]
    live = sorted(set(pruned_a.edge_index.flatten().tolist()))
    assert torch.equal(pruned_a.x[live], pruned_b.x[live])  # alike on the live paths ...
    assert not torch.equal(pruned_a.x, pruned_b.x)          # ... and different only off them
