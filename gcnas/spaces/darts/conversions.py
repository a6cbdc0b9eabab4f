"""Conversions between the notations of DARTS architectures.

- The DARTS ``Genotype`` string, as DARTS' ``genotypes.py``, NAS-Bench-301 and NASLib write
  it (``repr`` of their namedtuple of lists)::

      Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
               reduce=[('max_pool_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])

  :func:`parse_genotype` reads it without ``eval`` (``range(2, 6)`` is accepted for the
  concat lists, as some ``genotypes.py`` files write them); :func:`format_genotype` writes
  it back character for character.
- NAS-Bench-301's ConfigSpace dictionary (``NetworkSelectorDatasetInfo:darts:edge_normal_3``
  ...), which the NAS-Bench-301 surrogate models take: :func:`to_config` / :func:`from_config`.
"""

from __future__ import annotations

import ast
from typing import Mapping

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts.genotype import CELL_NODES, CELLS, Genotype

__all__ = ["parse_genotype", "format_genotype", "to_config", "from_config"]

_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")
_CONFIG_PREFIX = "NetworkSelectorDatasetInfo:darts:"


def _literal(field: str, node: ast.expr, text: str) -> object:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and not node.keywords):
        args = [_literal(field, a, text) for a in node.args]
        if not all(isinstance(a, int) for a in args) or not 1 <= len(args) <= 3:
            raise InvalidInputError(f"Genotype field {field}: cannot read {ast.get_source_segment(text, node)!r}")
        return list(range(*args))  # type: ignore[arg-type]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise InvalidInputError(f"Genotype field {field} must be a literal list, got "
                                f"{ast.get_source_segment(text, node)!r}") from None


def parse_genotype(text: str) -> Genotype:
    """Read a DARTS ``Genotype(...)`` string.

    Args:
        text: e.g. ``"Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], ...)"``;
            keyword or positional fields in DARTS' order (normal, normal_concat, reduce,
            reduce_concat).

    Returns:
        The genotype, pairs in the order written.

    Raises:
        InvalidInputError: Not a ``Genotype(...)`` call, a missing or unknown field, or
            a cell the space does not hold (see :class:`Genotype`).

    Example:
        >>> g = parse_genotype(format_genotype(Genotype(normal=[("skip_connect", 0), ("skip_connect", 1)] * 4,
        ...                                             reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 4)))
        >>> g.reduce[1]
        ('max_pool_3x3', 1)
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"a genotype string is needed, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise InvalidInputError(f"cannot parse genotype {text[:80]!r}: {error.msg}") from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "Genotype"):
        raise InvalidInputError(f"a genotype is written Genotype(normal=[...], normal_concat=[...], reduce=[...], "
                                f"reduce_concat=[...]); got {text[:80]!r}")
    if len(tree.args) > len(_FIELDS):
        raise InvalidInputError(f"Genotype takes {len(_FIELDS)} fields, got {len(tree.args)} positional ones")
    fields: dict[str, object] = {}
    source = text.strip()
    for name, node in zip(_FIELDS, tree.args):
        fields[name] = _literal(name, node, source)
    for keyword in tree.keywords:
        if keyword.arg not in _FIELDS:
            raise InvalidInputError(f"unknown Genotype field {keyword.arg!r}; the fields are {', '.join(_FIELDS)}")
        if keyword.arg in fields:
            raise InvalidInputError(f"Genotype field {keyword.arg!r} given twice")
        fields[keyword.arg] = _literal(keyword.arg, keyword.value, source)
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise InvalidInputError(f"Genotype string lacks field(s) {', '.join(missing)}")
    return Genotype(**fields)  # type: ignore[arg-type]


def _cell_repr(pairs: tuple[tuple[str, int], ...]) -> str:
    return "[" + ", ".join(f"({op!r}, {src})" for op, src in pairs) + "]"


def format_genotype(genotype: Genotype) -> str:
    """Write ``genotype`` exactly as DARTS' ``Genotype`` namedtuple prints with list fields.

    Args:
        genotype: Any genotype.

    Returns:
        ``Genotype(normal=[...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])``.
    """
    return (f"Genotype(normal={_cell_repr(genotype.normal)}, normal_concat={list(genotype.normal_concat)}, "
            f"reduce={_cell_repr(genotype.reduce)}, reduce_concat={list(genotype.reduce_concat)})")


def to_config(genotype: Genotype) -> dict[str, object]:
    """NAS-Bench-301's ConfigSpace dictionary of ``genotype``.

    Edge ``j`` of a cell is DARTS' edge index (node 2's two edges are 0 and 1, node 3's
    are 2..4, node 4's 5..8, node 5's 9..13); nodes 3..5 also name their two inputs.

    Args:
        genotype: Any genotype.

    Returns:
        ``{"NetworkSelectorDatasetInfo:darts:edge_normal_0": "sep_conv_3x3", ...,
        "NetworkSelectorDatasetInfo:darts:inputs_node_normal_3": "0_2", ...}``.
    """
    config: dict[str, object] = {}
    for cell in CELLS:
        pairs = genotype.cell(cell)
        start = 0
        for node in range(CELL_NODES):
            chosen = pairs[2 * node:2 * node + 2]
            for op, src in chosen:
                config[f"{_CONFIG_PREFIX}edge_{cell}_{start + src}"] = op
            if node > 0:
                inputs = sorted(src for _, src in chosen)
                config[f"{_CONFIG_PREFIX}inputs_node_{cell}_{node + 2}"] = "_".join(map(str, inputs))
            start += node + 2
    return config


def from_config(config: Mapping[str, object]) -> Genotype:
    """The genotype of a NAS-Bench-301 ConfigSpace dictionary (inverse of :func:`to_config`,
    up to the order of each node's pairs, which comes out sorted by input).

    Raises:
        InvalidInputError: A node without exactly two edges.
    """
    cells: dict[str, list[tuple[str, int]]] = {}
    for cell in CELLS:
        pairs: list[tuple[str, int]] = []
        start = 0
        for node in range(CELL_NODES):
            chosen = [(str(config[k]), src) for src in range(node + 2)
                      if (k := f"{_CONFIG_PREFIX}edge_{cell}_{start + src}") in config]
            if len(chosen) != 2:
                raise InvalidInputError(f"config gives node {node + 2} of the {cell} cell {len(chosen)} edges; "
                                        "it needs exactly 2")
            pairs.extend(chosen)
            start += node + 2
        cells[cell] = pairs
    return Genotype(normal=cells["normal"], reduce=cells["reduce"])
