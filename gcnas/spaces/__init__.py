"""Search spaces as plug-ins: the :class:`SearchSpace` protocol and its implementations.

A space is one folder (``gcnas/spaces/<name>/``) with the same few files, so that a reader
who knows one knows where everything of the next lives (see ``docs/spaces.md``). This
package imports nothing of gcnas but :mod:`gcnas.exceptions` (and numpy / torch).

Spaces: :class:`~gcnas.spaces.darts.DartsSpace` (DARTS / NAS-Bench-301). NAS-Bench-201
still lives in :mod:`gcnas.space` and moves behind the protocol later.
"""

import importlib
from typing import Any

_EXPORTS = {
    "Counts": "counts", "count_module": "counts",
    "DartsSpace": "darts", "Genotype": "darts",
    "Decision": "protocol", "SearchSpace": "protocol", "SpaceGraph": "protocol", "check_decisions": "protocol",
    "one_hot": "protocol",
    "get_space": "registry", "register_space": "registry", "space_name": "registry", "space_names": "registry",
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


__all__ = [
    "SearchSpace",
    "Decision",
    "SpaceGraph",
    "check_decisions",
    "one_hot",
    "get_space",
    "register_space",
    "space_name",
    "space_names",
    "Counts",
    "count_module",
    "DartsSpace",
    "Genotype",
]
