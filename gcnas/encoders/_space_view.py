"""The search space an encoder or latent BO works on, seen through the ``SearchSpace`` protocol.

TEMPORARY (issue 23): NAS-Bench-201's ``NB201Space`` does not implement the protocol on
this branch yet (its ``to_graph`` returns one graph, and it has no ``decisions`` / ``key``);
:class:`_NB201View` supplies the members arch2vec and latent BO need, as the contract of
the refactor describes them. Once NB201Space implements the protocol itself,
:func:`space_view` returns it unchanged and the lead deletes ``_NB201View``.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from gcnas.exceptions import InvalidInputError
from gcnas.spaces import Decision, SearchSpace, SpaceGraph, check_decisions, get_space

__all__ = ["space_view", "recorded_name"]


def space_view(space: SearchSpace[Any] | str) -> SearchSpace[Any]:
    """``space`` (or the space registered under that name) with the protocol's members.

    Args:
        space: A space instance or the name of a registered space (``"darts"``).

    Returns:
        The space itself when it implements :class:`~gcnas.spaces.SearchSpace`, else a view.

    Raises:
        InvalidInputError: An unknown name, or an object that is not a search space.
    """
    if isinstance(space, str):
        space = get_space(space)
    if isinstance(space, (SearchSpace, _NB201View)):
        return space
    if getattr(space, "name", None) == "nb201":
        return _NB201View(space)
    raise InvalidInputError(f"expected a search space (gcnas.spaces.SearchSpace) or its name, got "
                            f"{type(space).__name__} {space!r:.60}")


def recorded_name(space: SearchSpace[Any] | str) -> str:
    """The name under which :func:`~gcnas.spaces.get_space` rebuilds ``space`` (checkpoints record it).

    Raises:
        InvalidInputError: An unknown name, or a space that is not registered.
    """
    from gcnas.spaces import space_name

    if isinstance(space, str):
        space_view(space)  # an unknown name raises here, listing the known ones
        return space
    view = space_view(space)
    if isinstance(view, _NB201View):
        return view.name
    return space_name(view)


class _NB201View:
    """NB201Space with the protocol members (to remove once NB201Space implements them)."""

    def __init__(self, space: Any) -> None:
        from gcnas.space import EDGES, NODE_TYPES, OPS

        self._space = space
        self.name = space.name
        self.decisions = tuple(Decision(f"edge{to}<-{source}", OPS) for to, source in EDGES)
        self.node_types = tuple(NODE_TYPES)
        self.max_nodes = len(EDGES) + 2
        self.graph_names = ("cell",)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NB201View) or other == self._space

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return repr(self._space)

    def parse(self, text: str) -> Any:
        return self._space.parse(text)

    def format(self, arch: Any) -> str:
        return str(arch)

    def key(self, arch: Any) -> str:
        return str(arch.canonical())

    def size(self) -> int | None:
        return len(self._space)

    def enumerate(self) -> Iterator[Any]:
        return self._space.enumerate()

    def sample(self, seed: int | np.random.Generator | None = None) -> Any:
        return self._space.sample(seed)

    def mutate(self, arch: Any, seed: int | np.random.Generator | None = None) -> Any:
        return self._space.mutate(arch, seed)

    def neighbours(self, arch: Any) -> list[Any]:
        return self._space.neighbours(arch)

    def canonical(self, arch: Any) -> Any:
        return arch.canonical()

    def to_decisions(self, arch: Any) -> list[int]:
        return list(arch.ops)

    def from_decisions(self, values: Sequence[int]) -> Any:
        from gcnas.space import Arch

        return Arch(tuple(check_decisions(self, values)))

    def to_graph(self, arch: Any) -> tuple[SpaceGraph, ...]:
        graph = arch.to_graph()
        return (SpaceGraph(graph.adjacency, graph.features),)
