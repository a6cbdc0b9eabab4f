"""Check that a search space keeps the :class:`~gcnas.spaces.SearchSpace` contract.

:func:`check_space` runs the promises every stage above the spaces relies on, on a few
seeded samples, and raises one :class:`~gcnas.exceptions.InvalidInputError` naming the first
broken one. The built-in spaces run it in their tests; a space of your own should too
(``docs/spaces.md``, "Adding your own space"). This module imports nothing of gcnas but
:mod:`gcnas.exceptions` and the protocol.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.protocol import SearchSpace, SpaceGraph

__all__ = ["check_space"]


def _fail(space: Any, what: str) -> None:
    raise InvalidInputError(f"search space {getattr(space, 'name', space)!r} breaks the protocol: {what}")


def _check_graphs(space: Any, arch: Any) -> None:
    graphs = space.to_graph(arch)
    if not isinstance(graphs, tuple) or len(graphs) != len(space.graph_names):
        _fail(space, f"to_graph must return a tuple of {len(space.graph_names)} SpaceGraph (one per graph_names "
                     f"entry), got {type(graphs).__name__} of {len(graphs) if isinstance(graphs, tuple) else '?'}")
    for name, graph in zip(space.graph_names, graphs):
        if not isinstance(graph, SpaceGraph):
            _fail(space, f"graph {name!r} is a {type(graph).__name__}, not a SpaceGraph")
        adjacency, features = np.asarray(graph.adjacency), np.asarray(graph.features)
        n = graph.num_nodes
        if adjacency.shape != (n, n) or not 1 <= n <= space.max_nodes:
            _fail(space, f"graph {name!r} has adjacency of shape {adjacency.shape}; expected (n, n) with "
                         f"1 <= n <= max_nodes = {space.max_nodes}")
        if np.any(np.tril(adjacency)):
            _fail(space, f"graph {name!r} has an edge u -> v with v <= u; nodes must be in topological order")
        if features.shape != (n, len(space.node_types)) or not np.all(features.sum(axis=1) == 1):
            _fail(space, f"graph {name!r} features must be one-hot rows over the {len(space.node_types)} "
                         f"node_types, got shape {features.shape}")


def check_space(space: Any, *, samples: int = 8, seed: int = 0, network: bool = True) -> None:
    """Run the protocol's promises on ``samples`` seeded architectures of ``space``.

    Checked: the members exist (``isinstance(space, SearchSpace)``); ``sample`` is
    reproducible from a seed; ``parse(format(a)) == a``; ``key`` is equal for ``a`` and
    ``canonical(a)``, and ``canonical`` is idempotent; ``from_decisions(to_decisions(a))`` has
    ``a``'s key and the values are in range; ``to_graph`` gives one well-formed
    :class:`~gcnas.spaces.SpaceGraph` per ``graph_names`` entry; ``neighbours`` never hold ``a``
    and ``mutate`` draws one of them; ``size()`` and ``enumerate()`` agree (listed only when
    ``size()`` is at most 100,000); ``costs`` gives positive ``params`` and ``flops`` (and the
    optional ``costs_many`` the same numbers); and,
    with ``network=True``, ``network(a)`` builds a module.

    Args:
        space: The space to check.
        samples: How many sampled architectures to run the checks on.
        seed: Seed of the samples.
        network: Also build one network (needs torch; a few hundred ms for large spaces).

    Raises:
        InvalidInputError: The first broken promise, named.

    Example:
        >>> from gcnas.spaces import get_space
        >>> check_space(get_space("nb201"), samples=4, network=False)
    """
    if not isinstance(space, SearchSpace):
        missing = [m for m in ("name", "decisions", "node_types", "max_nodes", "graph_names", "parse", "format", "key",
                               "size", "enumerate", "sample", "mutate", "neighbours", "canonical", "to_decisions",
                               "from_decisions", "to_graph", "network", "costs") if not hasattr(space, m)]
        _fail(space, f"it lacks {', '.join(missing)}")
    if space.sample(seed) != space.sample(seed):
        _fail(space, "sample(seed) must give the same architecture for the same seed")
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(samples)]
    for arch in archs:
        text = space.format(arch)
        if space.parse(text) != arch:
            _fail(space, f"parse(format(a)) != a for {text!r}")
        canonical = space.canonical(arch)
        if space.canonical(canonical) != canonical or space.key(canonical) != space.key(arch):
            _fail(space, f"canonical must be idempotent and keep the key, broken for {text!r}")
        values = space.to_decisions(arch)
        if len(values) != len(space.decisions) or any(not 0 <= v < d.size for v, d in zip(values, space.decisions)):
            _fail(space, f"to_decisions({text!r}) = {values} does not fit the {len(space.decisions)} decisions")
        if space.key(space.from_decisions(values)) != space.key(arch):
            _fail(space, f"from_decisions(to_decisions(a)) changed the key of {text!r}")
        _check_graphs(space, arch)
        neighbours = space.neighbours(arch)
        if arch in neighbours or space.mutate(arch, seed) not in neighbours:
            _fail(space, f"neighbours({text!r}) must leave out a itself and hold what mutate draws")
        costs = space.costs(arch)
        if not all(float(costs.get(name, 0.0)) > 0 for name in ("params", "flops")):
            _fail(space, f"costs({text!r}) must give positive 'params' and 'flops', got {costs}")
    fast = getattr(space, "costs_many", None)
    if callable(fast):
        columns = fast(archs)
        for i, arch in enumerate(archs):
            if any(float(columns[name][i]) != float(value) for name, value in space.costs(arch).items()):
                _fail(space, f"costs_many must give what costs gives, broken for {space.format(arch)!r}")
    size = space.size()
    if size is not None and size <= 100_000:
        listed = sum(1 for _ in space.enumerate())
        if listed != size:
            _fail(space, f"size() is {size} but enumerate() lists {listed}")
    if network:
        import torch

        if not isinstance(space.network(archs[0]), torch.nn.Module):
            _fail(space, "network(a) must return a torch.nn.Module")
