"""The NAS-Bench-201 / NATS-Bench topology search space and its ``Arch`` value type.

A cell has 4 nodes; node ``j`` sums one operation applied to every earlier node
``i < j``, so there are 6 edges with 5 candidate operations each (5**6 = 15,625 cells).
Architectures are written exactly as NATS-Bench writes them::

    |nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|

:class:`NB201Space` implements :class:`~gcnas.spaces.SearchSpace`. Code outside this folder
reaches it through ``gcnas.spaces.get_space("nb201")`` and the protocol only; ``Arch.code``
(the six op ids as a base-5 number) is NAS-Bench-201's own and stays inside this folder.
This module imports nothing of gcnas but :mod:`gcnas.exceptions`.
"""

from __future__ import annotations

import abc
import functools
import re
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.protocol import Decision, SpaceGraph, as_generator, check_decisions
from gcnas.spaces.protocol import live_adjacency as _live_adjacency

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
    "DECISIONS",
    "GRAPH_NAMES",
    "as_generator",
]

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The five candidate operations, in the order of their integer ids."""

EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""The six edges as ``(to_node, from_node)``, in the order of the NATS-Bench string."""

NODE_TYPES: tuple[str, ...] = ("input", *OPS, "output")
"""Node labels of :meth:`Arch.to_graph`: the input, one node per edge-op, the output."""

NUM_ARCHS: int = len(OPS) ** len(EDGES)
"""Cells of the space: 15,625 (every one indexed by NAS-Bench-201; 6,466 isomorphism classes)."""

DECISIONS: tuple[Decision, ...] = tuple(Decision(f"edge{to}<-{frm}", OPS) for to, frm in EDGES)
"""One decision per edge (``"edge1<-0"`` ... ``"edge3<-2"``, string order), each over the five :data:`OPS`."""

GRAPH_NAMES: tuple[str, ...] = ("cell",)
"""The one graph of :meth:`NB201Space.to_graph`."""

_NONE_TYPE = NODE_TYPES.index("none")

_OP_ID = {name: i for i, name in enumerate(OPS)}
_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")


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
            >>> int(Arch.from_code(0).to_graph().live().adjacency.sum())   # all 'none': nothing live
            0
        """
        return ArchGraph(live_adjacency(self.adjacency, self.features), self.features)


def live_adjacency(adjacency: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Drop the edges that cannot carry a signal from the input to the output.

    :func:`gcnas.spaces.live_adjacency` with NAS-Bench-201's ``none`` as the zero op.

    Args:
        adjacency: ``(..., n, n)`` 0/1 matrices of :class:`ArchGraph` (nodes in
            topological order, node 0 the input, node ``n - 1`` the output); leading
            dimensions batch several graphs.
        features: ``(..., n, len(NODE_TYPES))`` one-hot node types.

    Returns:
        ``(..., n, n)`` uint8: the edges between nodes that are not ``none`` and lie on
        a path from node 0 to node ``n - 1``.
    """
    return _live_adjacency(adjacency, features, _NONE_TYPE)


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
                raise InvalidInputError(f"Arch ops must be a sequence of 6 op ids, got {self.ops!r}") from None
            object.__setattr__(self, "ops", ops)
        if len(ops) != len(EDGES):
            raise InvalidInputError(f"Arch needs {len(EDGES)} op ids (one per edge), got {len(ops)}: {ops!r}")
        normalised = []
        for op in ops:
            if isinstance(op, (bool, np.bool_)) or not isinstance(op, (int, np.integer)):
                raise InvalidInputError(f"Arch op ids must be integers in 0..{len(OPS) - 1}, got {op!r}")
            if not 0 <= op < len(OPS):
                raise InvalidInputError(f"Arch op id {op} is out of range 0..{len(OPS) - 1} ({', '.join(OPS)})")
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
            InvalidInputError: naming the part of the string that is wrong (a ``ValueError``).
        """
        if not isinstance(text, str):
            raise InvalidInputError(f"an architecture string must be a str, got {type(text).__name__}")
        stripped = text.strip()
        hint = "expected 3 nodes like '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'"
        nodes = stripped.split("+")
        if len(nodes) != 3:
            raise InvalidInputError(f"malformed architecture string {text!r}: {hint}")
        ops: list[int] = []
        for node_index, node in enumerate(nodes, start=1):
            if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
                raise InvalidInputError(f"malformed architecture string {text!r}: node {node_index} "
                                 f"{node!r} must start and end with '|'; {hint}")
            tokens = node[1:-1].split("|")
            if len(tokens) != node_index:
                raise InvalidInputError(f"malformed architecture string {text!r}: node {node_index} "
                                 f"needs {node_index} inputs, got {len(tokens)}; {hint}")
            for source, token in enumerate(tokens):
                match = _TOKEN.match(token)
                if match is None:
                    raise InvalidInputError(f"malformed architecture string {text!r}: {token!r} is not 'op~input'")
                name, index = match.group(1), match.group(2)
                if name not in _OP_ID:
                    raise InvalidInputError(f"unknown operation {name!r} in {text!r}; valid: {', '.join(OPS)}")
                if index != str(source):
                    raise InvalidInputError(f"malformed architecture string {text!r}: {token!r} at position "
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
            raise InvalidInputError(f"an architecture code must be an int, got {code!r}")
        if not 0 <= code < NUM_ARCHS:
            raise InvalidInputError(f"architecture code {code} is out of range 0..{NUM_ARCHS - 1}")
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
    """NAS-Bench-201's base class of a listable space: drawing, perturbing, listing.

    Kept for NAS-Bench-201's own use (``sample_many``); code outside this folder is written
    against :class:`~gcnas.spaces.SearchSpace` instead.
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
    def to_graph(self, arch: Arch) -> tuple[SpaceGraph, ...]:
        """The graphs used by graph predictors and encoders (one per ``graph_names`` entry)."""

    @abc.abstractmethod
    def parse(self, text: str | int) -> Arch:
        """Read an architecture from its textual form (raises ``InvalidInputError``)."""

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
                raise InvalidInputError(f"cannot draw {num} distinct architectures from a pool of {len(pool)}")
            chosen = rng.choice(len(pool), size=num, replace=False)
        else:
            chosen = rng.integers(0, len(pool), size=num)
        return [pool[int(i)] for i in chosen]

    def canonical(self, arch: Arch) -> Arch:
        """Isomorphism-class representative (identity for spaces without that notion)."""
        return arch


class NB201Space(Space):
    """The NAS-Bench-201 / NATS-Bench topology space behind the :class:`~gcnas.spaces.SearchSpace` protocol.

    What the space lists is its 15,625 *cells*, as NAS-Bench-201 does: the benchmark trains
    and indexes every cell, isomorphic ones included (their accuracies differ by training
    noise), so :meth:`size`, :meth:`enumerate`, :meth:`sample`, :meth:`neighbours` and the
    decisions work on cells, and every decision vector is one cell. The isomorphism classes
    (NAS-Bench-201's ``to_unique_str(consider_zero=True)``: 6,466 of them) are what
    :meth:`canonical` and :meth:`key` express: ``key(a) == key(b)`` exactly when the two cells
    compute the same function. Use :meth:`format` where one row per cell is meant (a
    benchmark table, a lookup table over the space) and :meth:`key` to deduplicate.

    Example:
        >>> space = NB201Space()
        >>> arch = space.sample(seed=0)
        >>> len(space.neighbours(arch)), space.size()
        (24, 15625)
        >>> space.key(space.parse("|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"))
        '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'
    """

    name = "nb201"
    decisions: tuple[Decision, ...] = DECISIONS
    node_types: tuple[str, ...] = NODE_TYPES
    max_nodes: int = 8
    graph_names: tuple[str, ...] = GRAPH_NAMES

    def __len__(self) -> int:
        return NUM_ARCHS

    def __repr__(self) -> str:
        return "NB201Space()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NB201Space)

    def __hash__(self) -> int:
        return hash(self.name)

    # -- text -----------------------------------------------------------------------------

    def parse(self, text: str | int) -> Arch:
        """Read a NATS-Bench string (or an intrinsic code: :meth:`Arch.parse`)."""
        return Arch.parse(text)

    def format(self, arch: Arch) -> str:
        """The NATS-Bench string of ``arch`` (one per cell; ``parse(format(a)) == a``)."""
        return str(_checked(arch))

    def key(self, arch: Arch) -> str:
        """The NATS-Bench string of ``arch``'s isomorphism-class representative.

        Equal for two cells exactly when they compute the same function (6,466 keys over the
        15,625 cells).
        """
        return str(_checked(arch).canonical())

    # -- listing and drawing --------------------------------------------------------------

    def size(self) -> int:
        """15,625: the cells :meth:`enumerate` lists (every cell; 6,466 distinct :meth:`key` values)."""
        return NUM_ARCHS

    def sample(self, seed: int | np.random.Generator | None = None) -> Arch:
        """A cell drawn uniformly (each edge's op uniformly)."""
        rng = as_generator(seed)
        return Arch(tuple(int(v) for v in rng.integers(0, len(OPS), size=len(EDGES))))

    def mutate(self, arch: Arch, seed: int | np.random.Generator | None = None) -> Arch:
        """One edge's op changed to another, both drawn uniformly."""
        rng = as_generator(seed)
        edge = int(rng.integers(len(EDGES)))
        choices = [op for op in range(len(OPS)) if op != arch.ops[edge]]
        ops = list(arch.ops)
        ops[edge] = choices[int(rng.integers(len(choices)))]
        return Arch(tuple(ops))

    def neighbours(self, arch: Arch) -> list[Arch]:
        """The 24 cells one edge's op away, in edge then op order."""
        result = []
        for edge in range(len(EDGES)):
            for op in range(len(OPS)):
                if op != arch.ops[edge]:
                    ops = list(arch.ops)
                    ops[edge] = op
                    result.append(Arch(tuple(ops)))
        return result

    def enumerate(self) -> Iterator[Arch]:
        """Every cell once, in code order (the six op ids as a base-5 number)."""
        for code in range(NUM_ARCHS):
            yield Arch.from_code(code)

    def canonical(self, arch: Arch) -> Arch:
        """The isomorphism-class representative (:meth:`Arch.canonical`)."""
        return arch.canonical()

    def canonical_codes(self) -> np.ndarray:
        """``(15625,)`` int64: the representative's code for every code."""
        return _canonical_codes()

    def all_archs(self) -> list[Arch]:
        """Every architecture, ordered by code (cached list)."""
        return list(_all_archs())

    # -- encodings ------------------------------------------------------------------------

    def to_decisions(self, arch: Arch) -> list[int]:
        """The op id of each edge (string order): the cell itself, not its class representative."""
        return list(_checked(arch).ops)

    def from_decisions(self, values: Sequence[int]) -> Arch:
        """The cell with these six op ids (inverse of :meth:`to_decisions`).

        Raises:
            InvalidInputError: Not six values, or one outside ``0..4`` (the edge named).
        """
        return Arch(tuple(check_decisions(self, values)))

    def to_graph(self, arch: Arch) -> tuple[SpaceGraph]:
        """The cell's 8-node DAG (:meth:`Arch.to_graph`) as the one :class:`~gcnas.spaces.SpaceGraph`."""
        graph = _checked(arch).to_graph()
        return (SpaceGraph(graph.adjacency, graph.features),)

    # -- the real network -----------------------------------------------------------------

    def network(self, arch: Arch, **shape: Any) -> Any:
        """The exact NAS-Bench-201 network of ``arch`` (:func:`~gcnas.spaces.nb201.network.build_network`).

        Args:
            arch: The cell.
            **shape: ``channels`` (16), ``cells`` per stage (5), ``num_classes`` (10).

        Returns:
            The ``torch.nn.Module``, ``(N, 3, H, W)`` images to ``(N, num_classes)`` logits.
        """
        from gcnas.spaces.nb201.network import build_network

        return build_network(_checked(arch), **shape)

    def costs_many(self, archs: Sequence[Arch], **shape: Any) -> dict[str, np.ndarray]:
        """:meth:`costs` of many cells at once, vectorised (all 15,625 in milliseconds; the same numbers).

        Returns:
            ``{"params": (n,), "flops": (n,)}`` float64, millions.
        """
        from gcnas.spaces.nb201.counts import network_costs_many

        counts = network_costs_many([_checked(a) for a in archs], **shape)
        return {"params": counts["params_m"], "flops": counts["flops_m"]}

    def layer_sums(self, archs: Sequence[Arch], **shape: Any) -> dict[str, np.ndarray]:
        """What the layers of each cell's network do for one image, summed over the network.

        The fields of :class:`~gcnas.spaces.nb201.counts.Layer` (``macs``, ``params``, ``reads``,
        ``writes``, ``elementwise``), vectorised over cells: what an analytic energy model
        weighs (:class:`gcnas.hardware.EnergyModel`).

        Args:
            archs: The cells.
            **shape: ``channels``, ``cells``, ``num_classes``, ``input_size``.

        Returns:
            ``{field: (n,) float64}``.
        """
        from gcnas.spaces.nb201.counts import Layer, layer_totals, op_counts

        counts = op_counts([_checked(a) for a in archs])
        sums = {}
        for field in Layer._fields[1:]:
            fixed, per_op = layer_totals(field, **shape)
            sums[field] = fixed + counts @ per_op
        return sums

    def supernet_class(self) -> type:
        """The weight-sharing supernet of this space (:class:`~gcnas.spaces.nb201.supernet.SuperNet`; imports torch)."""
        from gcnas.spaces.nb201.supernet import SuperNet

        return SuperNet

    def costs(self, arch: Arch, **shape: Any) -> dict[str, float]:
        """Exact params and FLOPs of ``arch``'s network in millions, by NAS-Bench-201's rule.

        Args:
            arch: The cell.
            **shape: ``channels``, ``cells``, ``num_classes``, ``input_size`` (16, 5, 10, 32:
                NAS-Bench-201's CIFAR-10 network) of :func:`~gcnas.spaces.nb201.counts.network_costs`.

        Returns:
            ``{"params": ..., "flops": ...}``.
        """
        from gcnas.spaces.nb201.counts import network_costs

        counts = network_costs(_checked(arch), **shape)
        return {"params": counts["params_m"], "flops": counts["flops_m"]}


def _checked(arch: Any) -> Arch:
    if not isinstance(arch, Arch):
        raise InvalidInputError(f"expected a NAS-Bench-201 Arch, got {type(arch).__name__} {arch!r}; "
                                "read one with NB201Space().parse(text)")
    return arch


@functools.lru_cache(maxsize=1)
def _all_archs() -> tuple[Arch, ...]:
    return tuple(Arch.from_code(code) for code in range(NUM_ARCHS))
