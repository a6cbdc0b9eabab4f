"""gcnas: predictor-based neural architecture search built on graph learning.

The package layout and import rules are described in ``docs/design.md``; the public names
live in the subpackages (``gcnas.spaces``, ``gcnas.data``, ``gcnas.supernet``,
``gcnas.hardware``, ``gcnas.encoders``, ``gcnas.predictors``, ``gcnas.search``).
"""

from gcnas.threads import prefer_passive_waiting as _prefer_passive_waiting

# Before anything imports torch, whose OpenMP runtime reads the variable once (gcnas.threads).
_prefer_passive_waiting()

__version__ = "0.1.0"

__all__ = ["__version__"]
