"""Search spaces as plug-ins: the :class:`SearchSpace` protocol and its implementations.

A space is one folder (``gcnas/spaces/<name>/``) with the same few files, so that a reader
who knows one knows where everything of the next lives (see ``docs/spaces.md``). This
package imports nothing of gcnas but :mod:`gcnas.exceptions` (and numpy / torch).

Spaces: :class:`~gcnas.spaces.darts.DartsSpace` (DARTS / NAS-Bench-301). NAS-Bench-201
still lives in :mod:`gcnas.space` and moves behind the protocol later.
"""

from gcnas._lazy import lazy_exports

# names load on first use (gcnas._lazy): the run store reads a space by name without importing torch
__getattr__, __dir__ = lazy_exports(__name__, {
    "Counts": "counts", "count_module": "counts",
    "DartsSpace": "darts", "Genotype": "darts",
    "Decision": "protocol", "SearchSpace": "protocol", "SpaceGraph": "protocol", "check_decisions": "protocol",
    "one_hot": "protocol",
    "get_space": "registry", "register_space": "registry", "space_name": "registry", "space_names": "registry",
})

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
