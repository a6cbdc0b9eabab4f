"""Search spaces as plug-ins: the :class:`SearchSpace` protocol, the registry, and the spaces.

A space is one folder (``gcnas/spaces/<name>/``) with the same few files, so that a reader
who knows one knows where everything of the next lives (see ``docs/spaces.md``). Code above
the spaces reaches a space by name (:func:`get_space`) and uses the protocol only; it never
imports a space's folder (a test walks the imports). This package imports nothing of gcnas
but :mod:`gcnas.exceptions` (and numpy / torch).

Built-in spaces: ``"nb201"`` (NAS-Bench-201, ``gcnas/spaces/nb201/``) and ``"darts"``
(DARTS / NAS-Bench-301, ``gcnas/spaces/darts/``).
"""

from gcnas.spaces.conformance import check_space
from gcnas.spaces.counts import Counts, count_module
from gcnas.spaces.protocol import (Decision, SearchSpace, SpaceGraph, check_decisions, costs_many, decision_index,
                                   from_decision_index, live_adjacency, one_hot)
from gcnas.spaces.registry import get_space, register_space, space_name, space_names

__all__ = [
    "SearchSpace",
    "Decision",
    "SpaceGraph",
    "check_decisions",
    "check_space",
    "one_hot",
    "costs_many",
    "decision_index",
    "from_decision_index",
    "live_adjacency",
    "get_space",
    "register_space",
    "space_name",
    "space_names",
    "Counts",
    "count_module",
]
