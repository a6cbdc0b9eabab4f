"""The NAS-Bench-201 / NATS-Bench topology search space and its ``Arch`` value type.

A cell has 4 nodes; node ``j`` sums one operation applied to every earlier node
``i < j``, so there are 6 edges with 5 candidate operations each (5**6 = 15,625 cells).
Architectures are written exactly as NATS-Bench writes them::

    |nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|

This module imports nothing else of gcnas: it is the bottom of the package graph.
Everything above it should be written against :class:`Space`, so that other spaces
(DARTS, NAS-Bench-360) can bring their own ``Arch`` type later.
"""

from __future__ import annotations

import abc
import functools
import re
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Sequence

import numpy as np

__all__ = [
    "OPS",
    "EDGES",
    "NODE_TYPES",
    "NUM_ARCHS",
    "Arch",
    "ArchGraph",
    "Space",
    "live_adjacency",
    "NB201Space",
    "as_generator",
]

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The five candidate operations, in the order of their integer ids."""

EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""The six edges as ``(to_node, from_node)``, in the order of the NATS-Bench string."""

NODE_TYPES: tuple[str, ...] = ("input", *OPS, "output")
"""Node labels of :meth:`Arch.to_graph`: the input, one node per edge-op, the output."""

NUM_ARCHS: int = len(OPS) ** len(EDGES)

_NONE_TYPE = NODE_TYPES.index("none")

_OP_ID = {name: i for i, name in enumerate(OPS)}
_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return ``seed`` as a NumPy generator (the one way randomness enters gcnas).

    Args:
        seed: An int seed, an existing generator (returned unchanged) or ``None``
            (fresh entropy).

    Returns:
        A ``numpy.random.Generator``.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


class ArchGraph(NamedTuple):
    """A cell as the 8-node DAG used by the GCN predictor and arch2vec.

    Node 0 is the input, nodes 1..6 are the six edge-ops in string order and node 7 is
    the output. ``adjacency[u, v] == 1`` means data flows from ``u`` to ``v``.

    Attributes:
        adjacency: ``(8, 8)`` uint8, strictly upper triangular.
        features: ``(8, 7)`` float32 one-hot over :data:`NODE_TYPES`.
    """

    adjacency: np.ndarray
    features: np.ndarray

    def live(self) -> ArchGraph:
        """The same graph without the edges that cannot carry a signal to the output.

        A ``none`` node outputs zero, so its edges go; so do the edges of nodes that
        no longer lie on a path from the input (node 0) to the output (the last node).
        Cells that compute the same function keep the same live edges.

        Returns:
            An :class:`ArchGraph` with the pruned ``adjacency`` (same ``features``).

        Example:
            >>> Arch.from_code(0).to_graph().live().adjacency.sum()   # all 'none': nothing live
            0
        """
        return ArchGraph(live_adjacency(self.adjacency, self.features), self.features)


def live_adjacency(adjacency: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Drop the edges that cannot carry a signal from the input to the output.

    Args:
        adjacency: ``(..., n, n)`` 0/1 matrices of :class:`ArchGraph` (nodes in
            topological order, node 0 the input, node ``n - 1`` the output); leading
            dimensions batch several graphs.
        features: ``(..., n, len(NODE_TYPES))`` one-hot node types.

    Returns:
        ``(..., n, n)`` uint8: the edges between nodes that are not ``none`` and lie on
        a path from node 0 to node ``n - 1``.
    """
    adjacency, features = np.asarray(adjacency), np.asarray(features)
    alive = features[..., _NONE_TYPE] == 0
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


def _graph_adjacency() -> np.ndarray:
    # The wiring does not depend on the ops: op-node k (edge j<-i) reads every op-node
    # that ends in node i (or the input when i == 0) and feeds every op-node that
    # starts at node j (or the output when j == 3).
    adjacency = np.zeros((8, 8), dtype=np.uint8)
    for k, (to_node, from_node) in enumerate(EDGES, start=1):
        if from_node == 0:
            adjacency[0, k] = 1
        for m, (to_other, _) in enumerate(EDGES, start=1):
            if to_other == from_node:
                adjacency[m, k] = 1
        if to_node == 3:
            adjacency[k, 7] = 1
    return adjacency


_ADJACENCY = _graph_adjacency()
_ADJACENCY.setflags(write=False)


@dataclass(frozen=True, order=True)
class Arch:
    """One NAS-Bench-201 cell: an immutable tuple of six op ids in string order.

    Args:
        ops: Six op ids (indices into :data:`OPS`), one per edge of :data:`EDGES`.

    Example:
        >>> arch = Arch.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|"
        ...                         "+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
        >>> arch.ops
        (3, 0, 1, 4, 2, 0)
        >>> Arch.from_code(arch.code) == arch
        True
    """

    ops: tuple[int, ...]

    def __post_init__(self) -> None:
        ops = self.ops
        if not isinstance(ops, tuple):
            try:
                ops = tuple(ops)
            except TypeError:
                raise ValueError(f"Arch ops must be a sequence of 6 op ids, got {self.ops!r}") from None
            object.__setattr__(self, "ops", ops)
        if len(ops) != len(EDGES):
            raise ValueError(f"Arch needs {len(EDGES)} op ids (one per edge), got {len(ops)}: {ops!r}")
        normalised = []
        for op in ops:
            if isinstance(op, (bool, np.bool_)) or not isinstance(op, (int, np.integer)):
                raise ValueError(f"Arch op ids must be integers in 0..{len(OPS) - 1}, got {op!r}")
            if not 0 <= op < len(OPS):
                raise ValueError(f"Arch op id {op} is out of range 0..{len(OPS) - 1} ({', '.join(OPS)})")
            normalised.append(int(op))
        object.__setattr__(self, "ops", tuple(normalised))

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_string(cls, text: str) -> Arch:
        """Parse a NATS-Bench architecture string.

        Args:
            text: e.g. ``"|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~2|"``.

        Returns:
            The architecture.

        Raises:
            ValueError: naming the part of the string that is wrong.
        """
        if not isinstance(text, str):
            raise ValueError(f"an architecture string must be a str, got {type(text).__name__}")
        stripped = text.strip()
        hint = "expected 3 nodes like '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'"
        nodes = stripped.split("+")
        if len(nodes) != 3:
            raise ValueError(f"malformed architecture string {text!r}: {hint}")
        ops: list[int] = []
        for node_index, node in enumerate(nodes, start=1):
            if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
                raise ValueError(f"malformed architecture string {text!r}: node {node_index} "
                                 f"{node!r} must start and end with '|'; {hint}")
            tokens = node[1:-1].split("|")
            if len(tokens) != node_index:
                raise ValueError(f"malformed architecture string {text!r}: node {node_index} "
                                 f"needs {node_index} inputs, got {len(tokens)}; {hint}")
            for source, token in enumerate(tokens):
                match = _TOKEN.match(token)
                if match is None:
                    raise ValueError(f"malformed architecture string {text!r}: {token!r} is not 'op~input'")
                name, index = match.group(1), match.group(2)
                if name not in _OP_ID:
                    raise ValueError(f"unknown operation {name!r} in {text!r}; valid: {', '.join(OPS)}")
                if index != str(source):
                    raise ValueError(f"malformed architecture string {text!r}: {token!r} at position "
                                     f"{source} of node {node_index} must read from node {source}")
                ops.append(_OP_ID[name])
        return cls(tuple(ops))

    @classmethod
    def from_code(cls, code: int) -> Arch:
        """Inverse of :attr:`code`.

        Args:
            code: An int in ``0..15624``.

        Returns:
            The architecture whose six op ids are the base-5 digits of ``code``.
        """
        if isinstance(code, (bool, np.bool_)) or not isinstance(code, (int, np.integer)):
            raise ValueError(f"an architecture code must be an int, got {code!r}")
        if not 0 <= code < NUM_ARCHS:
            raise ValueError(f"architecture code {code} is out of range 0..{NUM_ARCHS - 1}")
        digits = []
        value = int(code)
        for _ in EDGES:
            digits.append(value % len(OPS))
            value //= len(OPS)
        return cls(tuple(reversed(digits)))

    @classmethod
    def parse(cls, text: str | int) -> Arch:
        """Read an architecture from a NATS-Bench string or an intrinsic code.

        Args:
            text: An arch string, or an int / digit string read as :attr:`code`.
                Official NATS-Bench indices are NOT codes: look those up in a
                benchmark table (``BenchmarkTable.arch(index)``).

        Returns:
            The architecture.
        """
        if isinstance(text, (int, np.integer)) and not isinstance(text, (bool, np.bool_)):
            return cls.from_code(int(text))
        if isinstance(text, str) and text.strip().isdigit():
            return cls.from_code(int(text.strip()))
        return cls.from_string(text)

    # -- views --------------------------------------------------------------------------

    @property
    def code(self) -> int:
        """The six op ids read as a base-5 number, in string order (0..15624)."""
        value = 0
        for op in self.ops:
            value = value * len(OPS) + op
        return value

    @property
    def op_names(self) -> tuple[str, ...]:
        """The six operation names, in string order."""
        return tuple(OPS[op] for op in self.ops)

    def __str__(self) -> str:
        parts = []
        position = 0
        for node in range(1, 4):
            tokens = []
            for source in range(node):
                tokens.append(f"{OPS[self.ops[position]]}~{source}")
                position += 1
            parts.append("|" + "|".join(tokens) + "|")
        return "+".join(parts)

    def to_graph(self) -> ArchGraph:
        """The 8-node DAG of the cell (see :class:`ArchGraph`)."""
        features = np.zeros((8, len(NODE_TYPES)), dtype=np.float32)
        features[0, 0] = 1.0
        for k, op in enumerate(self.ops, start=1):
            features[k, 1 + op] = 1.0
        features[7, len(NODE_TYPES) - 1] = 1.0
        return ArchGraph(_ADJACENCY.copy(), features)

    def one_hot(self) -> np.ndarray:
        """Flat one-hot encoding of the six ops, shape ``(30,)`` float32."""
        encoding = np.zeros((len(EDGES), len(OPS)), dtype=np.float32)
        encoding[np.arange(len(EDGES)), self.ops] = 1.0
        return encoding.reshape(-1)

    def canonical(self) -> Arch:
        """The representative of this cell's isomorphism class.

        Two cells that compute the same function (up to reordering of summed terms,
        with ``skip_connect`` the identity and ``none`` the zero, by NAS-Bench-201's
        rule) share a class; the representative is the member with the smallest
        :attr:`code`. The 15,625 cells fall into 6,466 classes, as in the paper.
        """
        return Arch.from_code(int(_canonical_codes()[self.code]))

    def is_canonical(self) -> bool:
        """Whether this cell is the representative of its isomorphism class."""
        return bool(_canonical_codes()[self.code] == self.code)


def _function_key(ops: Sequence[int]) -> str:
    # NAS-Bench-201's own rule (``to_unique_str(consider_zero=True)``): skip is the
    # identity, a ``none`` edge or an input that is exactly zero contributes "#", and
    # the summands of a node are sorted. It yields the paper's 6,466 classes; a fully
    # algebraic rule that also drops zero summands would merge further (5,773).
    values = {0: "0"}
    position = 0
    for node in range(1, 4):
        terms = []
        for source in range(node):
            op = OPS[ops[position]]
            position += 1
            if op == "none" or values[source] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(values[source])
            else:
                terms.append(f"({values[source]})@{op}")
        values[node] = "+".join(sorted(terms))
    return values[3]


@functools.lru_cache(maxsize=1)
def _canonical_codes() -> np.ndarray:
    representative: dict[str, int] = {}
    result = np.empty(NUM_ARCHS, dtype=np.int64)
    for code in range(NUM_ARCHS):
        key = _function_key(Arch.from_code(code).ops)
        result[code] = representative.setdefault(key, code)
    result.setflags(write=False)
    return result


class Space(abc.ABC):
    """The small interface that everything above ``space.py`` is written against.

    A space knows how to draw, perturb, list and encode its architectures.
    """

    name: str

    @abc.abstractmethod
    def sample(self, seed: int | np.random.Generator | None = None) -> Arch:
        """Draw one architecture uniformly at random."""

    @abc.abstractmethod
    def mutate(self, arch: Arch, seed: int | np.random.Generator | None = None) -> Arch:
        """Return a random neighbour of ``arch`` (never ``arch`` itself)."""

    @abc.abstractmethod
    def neighbours(self, arch: Arch) -> list[Arch]:
        """Every architecture one elementary change away from ``arch``."""

    @abc.abstractmethod
    def enumerate(self) -> Iterator[Arch]:
        """Every architecture of the space, in a fixed order."""

    @abc.abstractmethod
    def to_graph(self, arch: Arch) -> ArchGraph:
        """The graph representation used by graph predictors and encoders."""

    @abc.abstractmethod
    def parse(self, text: str | int) -> Arch:
        """Read an architecture from its textual form (raises ``ValueError``)."""

    def __len__(self) -> int:
        return sum(1 for _ in self.enumerate())

    def sample_many(self, num: int, seed: int | np.random.Generator | None = None, *,
                    distinct: bool = True, canonical: bool = False) -> list[Arch]:
        """Draw ``num`` architectures.

        Args:
            num: How many.
            seed: Seed or generator.
            distinct: No architecture twice.
            canonical: Only class representatives (one per isomorphism class).

        Returns:
            A list of ``num`` architectures.
        """
        rng = as_generator(seed)
        pool = [a for a in self.enumerate() if not canonical or self.canonical(a) == a]
        if distinct:
            if num > len(pool):
                raise ValueError(f"cannot draw {num} distinct architectures from a pool of {len(pool)}")
            chosen = rng.choice(len(pool), size=num, replace=False)
        else:
            chosen = rng.integers(0, len(pool), size=num)
        return [pool[int(i)] for i in chosen]

    def canonical(self, arch: Arch) -> Arch:
        """Isomorphism-class representative (identity for spaces without that notion)."""
        return arch


class NB201Space(Space):
    """The NAS-Bench-201 / NATS-Bench topology space (15,625 cells).

    Example:
        >>> space = NB201Space()
        >>> arch = space.sample(seed=0)
        >>> len(space.neighbours(arch))
        24
    """

    name = "nb201"
    ops = OPS
    edges = EDGES
    num_node_types = len(NODE_TYPES)
    graph_nodes = 8

    def __len__(self) -> int:
        return NUM_ARCHS

    def __repr__(self) -> str:
        return "NB201Space()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NB201Space)

    def __hash__(self) -> int:
        return hash(self.name)

    def sample(self, seed: int | np.random.Generator | None = None) -> Arch:
        rng = as_generator(seed)
        return Arch(tuple(int(v) for v in rng.integers(0, len(OPS), size=len(EDGES))))

    def mutate(self, arch: Arch, seed: int | np.random.Generator | None = None) -> Arch:
        rng = as_generator(seed)
        edge = int(rng.integers(len(EDGES)))
        choices = [op for op in range(len(OPS)) if op != arch.ops[edge]]
        ops = list(arch.ops)
        ops[edge] = choices[int(rng.integers(len(choices)))]
        return Arch(tuple(ops))

    def neighbours(self, arch: Arch) -> list[Arch]:
        result = []
        for edge in range(len(EDGES)):
            for op in range(len(OPS)):
                if op != arch.ops[edge]:
                    ops = list(arch.ops)
                    ops[edge] = op
                    result.append(Arch(tuple(ops)))
        return result

    def enumerate(self) -> Iterator[Arch]:
        for code in range(NUM_ARCHS):
            yield Arch.from_code(code)

    def to_graph(self, arch: Arch) -> ArchGraph:
        return arch.to_graph()

    def parse(self, text: str | int) -> Arch:
        return Arch.parse(text)

    def canonical(self, arch: Arch) -> Arch:
        return arch.canonical()

    def canonical_codes(self) -> np.ndarray:
        """``(15625,)`` int64: the representative's code for every code."""
        return _canonical_codes()

    def all_archs(self) -> list[Arch]:
        """Every architecture, ordered by code (cached list)."""
        return list(_all_archs())


@functools.lru_cache(maxsize=1)
def _all_archs() -> tuple[Arch, ...]:
    return tuple(Arch.from_code(code) for code in range(NUM_ARCHS))
