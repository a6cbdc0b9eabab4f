"""The protocol a search space implements, and the two small value types it speaks in.

Everything above the spaces (predictors, encoders, searchers, the supernet strategies) is
to be written against :class:`SearchSpace`, never against one space's details. A space
brings its own architecture type ``A`` (an immutable, hashable value: NAS-Bench-201's
``Arch``, the DARTS ``Genotype``); the protocol is generic in it.

Three views of an architecture serve the three families of consumers:

- text (:meth:`SearchSpace.parse` / :meth:`SearchSpace.format` / :meth:`SearchSpace.key`):
  storage, CLI, interchange with published benchmarks;
- decisions (:attr:`SearchSpace.decisions`, :meth:`SearchSpace.to_decisions`,
  :meth:`SearchSpace.from_decisions`): a fixed list of categorical choices, for one-hot
  features, REINFORCE controllers and Bayesian optimisation over categories;
- graphs (:meth:`SearchSpace.to_graph`, :attr:`SearchSpace.node_types`,
  :attr:`SearchSpace.max_nodes`): the DAGs the GCN predictor and arch2vec read.

This module imports nothing of gcnas but :mod:`gcnas.exceptions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Iterator, NamedTuple, Protocol, Sequence, TypeVar, runtime_checkable

import numpy as np

from gcnas.exceptions import InvalidInputError

__all__ = ["A", "Decision", "SpaceGraph", "SearchSpace", "as_generator", "depth_in_architecture", "given_shape",
           "one_hot", "check_decisions", "costs_many", "decision_index",
           "from_decision_index", "live_adjacency"]

A = TypeVar("A", bound=Hashable)
"""The architecture type of a space: immutable and hashable."""


@dataclass(frozen=True)
class Decision:
    """One categorical choice of the architecture.

    Args:
        name: Where the choice sits, unique within the space (``"normal.node3.inputs"``).
        choices: A label for each alternative, in the order of the integer values that
            :meth:`SearchSpace.to_decisions` uses (``("max_pool_3x3", ...)``).

    Example:
        >>> Decision("edge0", ("none", "skip_connect")).size
        2
    """

    name: str
    choices: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError(f"Decision name must be a non-empty string, got {self.name!r}")
        choices = tuple(self.choices)
        if not choices:
            raise InvalidInputError(f"Decision {self.name!r} needs at least one choice")
        if len(set(choices)) != len(choices):
            raise InvalidInputError(f"Decision {self.name!r} lists a choice twice: {choices!r}")
        object.__setattr__(self, "choices", choices)

    @property
    def size(self) -> int:
        """The number of alternatives."""
        return len(self.choices)


class SpaceGraph(NamedTuple):
    """One cell as a DAG with typed nodes (nodes in topological order).

    Attributes:
        adjacency: ``(n, n)`` uint8; ``adjacency[u, v] == 1`` means data flows ``u -> v``.
        features: ``(n, len(space.node_types))`` float32 one-hot node types.
    """

    adjacency: np.ndarray
    features: np.ndarray

    @property
    def node_ids(self) -> np.ndarray:
        """``(n,)`` int64: each node's index into the space's ``node_types``."""
        return np.asarray(self.features).argmax(axis=-1).astype(np.int64)

    @property
    def num_nodes(self) -> int:
        """``n``, the number of nodes."""
        return int(np.asarray(self.adjacency).shape[0])


@runtime_checkable
class SearchSpace(Protocol[A]):
    """What every search space offers; code above the spaces uses nothing else.

    Attributes:
        name: Short identifier (``"nb201"``, ``"darts"``), used in run stores and the CLI.
        decisions: The choice structure: one :class:`Decision` per categorical choice,
            in the order of :meth:`to_decisions`. Every valid decision vector is one
            architecture of the space's listing (see :meth:`size`), and every listed
            architecture one vector.
        node_types: The node vocabulary of :meth:`to_graph` (the one-hot columns).
        max_nodes: The largest node count of any graph :meth:`to_graph` returns.
        graph_names: One name per graph :meth:`to_graph` returns (``("cell",)``,
            ``("normal", "reduce")``).

    Optional attribute (read with ``getattr``; a space may leave it out):
        readout_bins: How many consecutive stretches of a graph's nodes a graph-level
            embedding must keep apart for the cell to be recovered from it (the default of
            :class:`~gcnas.encoders.Arch2Vec`'s ``readout_bins``; DARTS: 11).
    """

    name: str
    decisions: tuple[Decision, ...]
    node_types: tuple[str, ...]
    max_nodes: int
    graph_names: tuple[str, ...]

    # -- text ---------------------------------------------------------------------------

    def parse(self, text: str) -> A:
        """Read an architecture from the space's published notation.

        Args:
            text: The string form (the notation of the space's benchmark).

        Returns:
            The architecture, exactly as written (not canonicalised).

        Raises:
            InvalidInputError: naming the part of ``text`` that is wrong.
        """
        ...

    def format(self, arch: A) -> str:
        """Write ``arch`` in the space's published notation; ``parse(format(a)) == a``."""
        ...

    def key(self, arch: A) -> str:
        """A string equal for two architectures exactly when their canonical forms are equal.

        Use it to deduplicate and as a database key.
        """
        ...

    # -- listing and drawing -----------------------------------------------------------------

    def size(self) -> int | None:
        """The number of architectures :meth:`enumerate` lists, or None when the space cannot be listed.

        A space lists its canonical architectures (DARTS' genotypes with each node's pairs
        ordered), unless its benchmark indexes every member of an equivalence class on its
        own: NAS-Bench-201 lists its 15,625 cells (6,466 distinct :meth:`key` values), since
        the benchmark trains each cell separately.
        """
        ...

    def enumerate(self) -> Iterator[A]:
        """Every architecture of the listing (:meth:`size`) once, in a fixed order.

        Raises:
            InvalidInputError: The space is too large to list (then :meth:`size` is None).
        """
        ...

    def sample(self, seed: int | np.random.Generator | None = None) -> A:
        """Draw one architecture of the listing (:meth:`size`) uniformly at random.

        Args:
            seed: An int seed, a NumPy generator (advanced in place) or None.
        """
        ...

    def mutate(self, arch: A, seed: int | np.random.Generator | None = None) -> A:
        """A random architecture of the listing one elementary change away, different from ``arch``."""
        ...

    def neighbours(self, arch: A) -> list[A]:
        """Every architecture of the listing one elementary change away from ``arch`` (each once)."""
        ...

    def canonical(self, arch: A) -> A:
        """The representative of ``arch``'s equivalence class (``arch`` where none applies)."""
        ...

    # -- the three encodings ---------------------------------------------------------------

    def to_decisions(self, arch: A) -> list[int]:
        """The value of every :attr:`decisions` entry for ``arch`` as the listing holds it
        (``canonical(arch)`` where the space lists canonical forms; the cell itself in NAS-Bench-201)."""
        ...

    def from_decisions(self, values: Sequence[int]) -> A:
        """The architecture of a decision vector (inverse of :meth:`to_decisions`).

        Raises:
            InvalidInputError: Wrong length or a value out of its decision's range.
        """
        ...

    def to_graph(self, arch: A) -> tuple[SpaceGraph, ...]:
        """One graph per entry of :attr:`graph_names`, each with at most :attr:`max_nodes` nodes."""
        ...

    # -- the real network ------------------------------------------------------------------

    def network(self, arch: A, **shape: Any) -> Any:
        """The trainable ``torch.nn.Module`` of ``arch``; ``shape`` sets channels, depth, classes."""
        ...

    def costs(self, arch: A) -> dict[str, float]:
        """Costs known without training: at least ``params`` (millions) and ``flops`` (millions)."""
        ...


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """``seed`` as a NumPy generator (the one way randomness enters a space's ``sample`` / ``mutate``).

    Args:
        seed: An int seed, an existing generator (returned unchanged, so successive draws
            advance it) or ``None`` (fresh entropy).

    Returns:
        A ``numpy.random.Generator``.
    """
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def depth_in_architecture(space: SearchSpace[Any]) -> bool:
    """Whether the space's networks take their depth from the architecture, not from a ``cells``
    shape argument: its ``network`` declares ``cells=None`` (the IMC macro space), so callers
    written for cell spaces leave ``cells`` out.

    Example:
        >>> from gcnas.spaces import get_space
        >>> depth_in_architecture(get_space("imc")), depth_in_architecture(get_space("nb201"))
        (True, False)
    """
    import inspect

    declared = inspect.signature(space.network).parameters.get("cells")
    return declared is not None and declared.default is None


def given_shape(**shape: Any) -> dict[str, Any]:
    """The network shape arguments that are set: ``None`` ones are dropped, so ``space.network``
    keeps its own defaults (NAS-Bench-201's 16 channels, 5 cells) and a space whose depth is part
    of the architecture (:func:`depth_in_architecture`) gets no ``cells``.

    Example:
        >>> given_shape(channels=8, cells=None, num_classes=10)
        {'channels': 8, 'num_classes': 10}
    """
    return {name: value for name, value in shape.items() if value is not None}


def costs_many(space: SearchSpace[Any], archs: Sequence[Any], **shape: Any) -> dict[str, np.ndarray]:
    """``space.costs`` of many architectures as columns, through the space's vectorised
    ``costs_many`` where it has one (an optional member: NAS-Bench-201's counts all cells at once).

    Args:
        space: Any space.
        archs: ``n`` architectures of it.
        **shape: Passed to ``space.costs`` (the network's shape, where the space takes one).

    Returns:
        ``{name: (n,) float64}`` for every cost the space gives.
    """
    fast = getattr(space, "costs_many", None)
    if callable(fast):
        return {name: np.asarray(values, dtype=np.float64) for name, values in fast(list(archs), **shape).items()}
    rows = [space.costs(a, **shape) for a in archs]
    names = list(rows[0]) if rows else ["params", "flops"]
    return {name: np.array([row[name] for row in rows], dtype=np.float64).reshape(len(rows)) for name in names}


def check_decisions(space: SearchSpace[Any], values: Sequence[int]) -> list[int]:
    """``values`` as plain ints, checked against ``space.decisions``.

    Args:
        space: The space whose :attr:`~SearchSpace.decisions` the vector follows.
        values: One integer per decision.

    Returns:
        The values as a list of ``int``.

    Raises:
        InvalidInputError: A wrong length, a non-integer, or a value out of range (named).
    """
    values = list(values)
    if len(values) != len(space.decisions):
        raise InvalidInputError(f"{space.name}: expected {len(space.decisions)} decision values, got {len(values)}")
    out = []
    for decision, value in zip(space.decisions, values):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise InvalidInputError(f"{space.name}: decision {decision.name!r} needs an integer, got {value!r}")
        if not 0 <= value < decision.size:
            raise InvalidInputError(f"{space.name}: decision {decision.name!r} is {value}, "
                                    f"outside 0..{decision.size - 1}")
        out.append(int(value))
    return out


def one_hot(space: SearchSpace[Any], archs: Sequence[Any]) -> np.ndarray:
    """One-hot features of architectures, built from the space's choice structure.

    Args:
        space: Any space.
        archs: ``N`` architectures of it.

    Returns:
        ``(N, sum(d.size for d in space.decisions))`` float32: for each decision, a block
        with a single 1 at the chosen value.

    Example:
        >>> from gcnas.spaces.darts import DartsSpace
        >>> space = DartsSpace()
        >>> float(one_hot(space, [space.sample(0)]).sum())
        24.0
    """
    sizes = np.array([d.size for d in space.decisions])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.zeros((len(archs), int(sizes.sum())), dtype=np.float32)
    for row, arch in enumerate(archs):
        out[row, offsets + np.asarray(space.to_decisions(arch))] = 1.0
    return out


def live_adjacency(adjacency: np.ndarray, features: np.ndarray, zero_type: int) -> np.ndarray:
    """Drop the edges that cannot carry a signal from the input (first node) to the output (last node).

    Args:
        adjacency: ``(..., n, n)`` 0/1 matrices (nodes in topological order); leading
            dimensions batch several graphs.
        features: ``(..., n, T)`` one-hot node types.
        zero_type: The column of ``features`` whose op outputs zero (``none``).

    Returns:
        ``(..., n, n)`` uint8: the edges between nodes that are not ``zero_type`` and lie on
        a path from node 0 to node ``n - 1``.

    Example:
        >>> from gcnas.spaces import get_space
        >>> space = get_space("nb201")
        >>> (graph,) = space.to_graph(space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
        >>> int(live_adjacency(graph.adjacency, graph.features, space.node_types.index("none")).sum())
        0
    """
    adjacency, features = np.asarray(adjacency), np.asarray(features)
    alive = features[..., zero_type] == 0
    adj = adjacency.astype(bool) & alive[..., :, None] & alive[..., None, :]
    n = adj.shape[-1]
    reach = np.zeros(adj.shape[:-1], dtype=bool)
    reach[..., 0] = True
    for node in range(n):
        reach |= reach[..., node, None] & adj[..., node, :]
    back = np.zeros(adj.shape[:-1], dtype=bool)
    back[..., n - 1] = True
    for node in range(n - 1, -1, -1):
        back |= back[..., node, None] & adj[..., :, node]
    on_path = reach & back
    return (adj & on_path[..., :, None] & on_path[..., None, :]).astype(np.uint8)


def decision_index(space: SearchSpace[Any], arch: Any) -> int:
    """The position of ``arch`` in the product of the space's decisions: its decision vector read
    as a mixed-radix number, the first decision most significant.

    A file name or integer id of a cell that any space gives (NAS-Bench-201: the cell's code,
    0..15624); :func:`from_decision_index` inverts it.

    Example:
        >>> from gcnas.spaces import get_space
        >>> space = get_space("nb201")
        >>> decision_index(space, space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"))
        1
    """
    index = 0
    for decision, value in zip(space.decisions, space.to_decisions(arch)):
        index = index * decision.size + int(value)
    return index


def from_decision_index(space: SearchSpace[Any], index: int) -> Any:
    """The architecture at ``index`` of :func:`decision_index`.

    Raises:
        InvalidInputError: ``index`` is not an int in ``0 .. prod(sizes) - 1``.
    """
    sizes = [d.size for d in space.decisions]
    total = int(np.prod(sizes, dtype=object))
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or not 0 <= index < total:
        raise InvalidInputError(f"{space.name}: a decision index is an int in 0..{total - 1}, got {index!r}")
    values, rest = [], int(index)
    for size in reversed(sizes):
        values.append(rest % size)
        rest //= size
    return space.from_decisions(values[::-1])
