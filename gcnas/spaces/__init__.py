"""Search spaces as plug-ins: the :class:`SearchSpace` protocol, the registry, and the spaces.

A space is one folder (``gcnas/spaces/<name>/``) with the same few files, so that a reader
who knows one knows where everything of the next lives (see ``docs/spaces.md``). Code above
the spaces reaches a space by name (:func:`get_space`) and uses the protocol only; it never
imports a space's folder (a test walks the imports). This package imports nothing of gcnas
but :mod:`gcnas.exceptions` (and numpy / torch).

Built-in spaces: ``"nb201"`` (NAS-Bench-201, ``gcnas/spaces/nb201/``), ``"darts"``
(DARTS / NAS-Bench-301, ``gcnas/spaces/darts/``) and ``"imc"`` (the macro space of
VGG/ResNet-style CNNs searched for in-memory-computing cost, ``gcnas/spaces/imc/``).
"""

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "check_space": "conformance",
    "Counts": "counts", "count_module": "counts",
    "Decision": "protocol", "SearchSpace": "protocol", "SpaceGraph": "protocol", "check_decisions": "protocol",
    "costs_many": "protocol", "decision_index": "protocol", "depth_in_architecture": "protocol",
    "given_shape": "protocol",
    "from_decision_index": "protocol",
    "live_adjacency": "protocol", "one_hot": "protocol",
    "DEFAULT_SPACE": "registry", "get_space": "registry", "resolve_space": "registry", "register_space": "registry", "space_name": "registry", "space_names": "registry",
}
"""Public name -> the submodule defining it, imported on first use (PEP 562), so that the run store
reads a space by name without importing torch (which ``counts`` does). This package imports
nothing of gcnas but :mod:`gcnas.exceptions`, so it does not use :mod:`gcnas._lazy`."""


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.spaces.conformance import check_space
    from gcnas.spaces.counts import Counts, count_module
    from gcnas.spaces.protocol import (Decision, SearchSpace, SpaceGraph, check_decisions, costs_many,
                                       decision_index, depth_in_architecture, from_decision_index, given_shape,
                                       live_adjacency, one_hot)
    from gcnas.spaces.registry import DEFAULT_SPACE, get_space, register_space, resolve_space, space_name, space_names


__all__ = [
    "SearchSpace",
    "Decision",
    "SpaceGraph",
    "check_decisions",
    "check_space",
    "one_hot",
    "costs_many",
    "decision_index",
    "depth_in_architecture",
    "given_shape",
    "from_decision_index",
    "live_adjacency",
    "DEFAULT_SPACE",
    "get_space",
    "resolve_space",
    "register_space",
    "space_name",
    "space_names",
    "Counts",
    "count_module",
]
