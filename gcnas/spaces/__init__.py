"""Search spaces as plug-ins: the :class:`SearchSpace` protocol and its implementations.

A space is one folder (``gcnas/spaces/<name>/``) with the same few files, so that a reader
who knows one knows where everything of the next lives (see ``docs/spaces.md``). This
package imports nothing of gcnas but :mod:`gcnas.exceptions` (and numpy / torch).

Spaces: :class:`~gcnas.spaces.darts.DartsSpace` (DARTS / NAS-Bench-301). NAS-Bench-201
still lives in :mod:`gcnas.spaces.nb201` and moves behind the protocol later.
"""

from gcnas.spaces.counts import Counts, count_module
from gcnas.spaces.darts import DartsSpace, Genotype
from gcnas.spaces.protocol import Decision, SearchSpace, SpaceGraph, check_decisions, one_hot
from gcnas.spaces.registry import get_space, register_space, space_name, space_names

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
