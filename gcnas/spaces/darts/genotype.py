"""The DARTS cell genotype: the value type of the DARTS / NAS-Bench-301 space.

A genotype holds two cells, the normal and the reduction cell. Each cell has two input
states (``0`` = the output of the cell two back, ``c_{k-2}``; ``1`` = the previous cell,
``c_{k-1}``) and four intermediate nodes ``2..5``; node ``2 + i`` sums two operations,
each applied to one earlier state, and the cell outputs the concatenation of nodes
``2..5``. The two ``(op, input)`` pairs of node ``2 + i`` are entries ``2i`` and
``2i + 1`` of the cell's list, exactly as in DARTS' ``genotypes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gcnas.exceptions import InvalidInputError

__all__ = ["OPS", "CELL_NODES", "CONCAT", "CELLS", "Genotype"]

OPS: tuple[str, ...] = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                        "dil_conv_3x3", "dil_conv_5x5")
"""The seven operations of a DARTS genotype (DARTS' ``PRIMITIVES`` without ``none``), in id order."""

CELL_NODES: int = 4
"""Intermediate nodes per cell."""

CONCAT: tuple[int, ...] = (2, 3, 4, 5)
"""The states a cell concatenates into its output (all four intermediate nodes)."""

CELLS: tuple[str, ...] = ("normal", "reduce")
"""The two cell types, in the order of every per-cell tuple in this package."""

_OP_SET = frozenset(OPS)

Pair = tuple[str, int]


def _check_cell(name: str, cell: object) -> tuple[Pair, ...]:
    try:
        pairs = tuple(cell)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidInputError(f"Genotype.{name} must be a list of (op, input) pairs, got {cell!r}") from None
    if len(pairs) != 2 * CELL_NODES:
        raise InvalidInputError(f"Genotype.{name} needs {2 * CELL_NODES} (op, input) pairs (two per node), "
                                f"got {len(pairs)}")
    out = []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidInputError(f"Genotype.{name}[{k}] must be an (op, input) pair, got {pair!r}")
        op, src = pair
        if op not in _OP_SET:
            raise InvalidInputError(f"Genotype.{name}[{k}]: unknown op {op!r}; choose one of {', '.join(OPS)}")
        node = k // 2
        if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < node + 2:
            raise InvalidInputError(f"Genotype.{name}[{k}]: node {node + 2} can read states 0..{node + 1}, "
                                    f"got input {src!r}")
        out.append((str(op), int(src)))
    for node in range(CELL_NODES):
        if out[2 * node][1] == out[2 * node + 1][1]:
            raise InvalidInputError(f"Genotype.{name}: node {node + 2} reads state {out[2 * node][1]} twice; "
                                    "its two inputs must differ")
    return tuple(out)


def _check_concat(name: str, concat: object) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in concat)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidInputError(f"Genotype.{name} must be a list of node ids, got {concat!r}") from None
    if values != CONCAT:
        raise InvalidInputError(f"Genotype.{name} must be {list(CONCAT)} (every intermediate node), got {list(values)}")
    return values


@dataclass(frozen=True, order=True)
class Genotype:
    """One DARTS architecture: a normal and a reduction cell (immutable, hashable).

    Args:
        normal: Eight ``(op, input)`` pairs of the normal cell, two per node.
        reduce: Eight pairs of the reduction cell.
        normal_concat: The concatenated nodes; must be ``(2, 3, 4, 5)``.
        reduce_concat: Likewise for the reduction cell.

    Raises:
        InvalidInputError: An unknown op, an input a node cannot read, the same input
            twice for one node, or a concat other than ``(2, 3, 4, 5)``.

    Example:
        >>> g = Genotype(normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1)] * 4,
        ...              reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 4)
        >>> g.normal[0]
        ('sep_conv_3x3', 0)
    """

    normal: tuple[Pair, ...]
    reduce: tuple[Pair, ...]
    normal_concat: tuple[int, ...] = CONCAT
    reduce_concat: tuple[int, ...] = CONCAT

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", _check_cell("normal", self.normal))
        object.__setattr__(self, "reduce", _check_cell("reduce", self.reduce))
        object.__setattr__(self, "normal_concat", _check_concat("normal_concat", self.normal_concat))
        object.__setattr__(self, "reduce_concat", _check_concat("reduce_concat", self.reduce_concat))

    def cell(self, which: str) -> tuple[Pair, ...]:
        """The pairs of the ``"normal"`` or ``"reduce"`` cell."""
        if which not in CELLS:
            raise InvalidInputError(f"unknown cell {which!r}; choose one of {', '.join(CELLS)}")
        return self.normal if which == "normal" else self.reduce

    def canonical(self) -> Genotype:
        """The same cells with each node's two pairs ordered by input.

        A node sums its two operations, so the order of its pairs does not change the
        network; this is the representative :meth:`DartsSpace.canonical` returns.
        """
        def sort(cell: tuple[Pair, ...]) -> list[Pair]:
            out: list[Pair] = []
            for node in range(CELL_NODES):
                out.extend(sorted(cell[2 * node:2 * node + 2], key=lambda p: p[1]))
            return out
        return Genotype(normal=sort(self.normal), reduce=sort(self.reduce))

    def __str__(self) -> str:
        from gcnas.spaces.darts.conversions import format_genotype
        return format_genotype(self)
