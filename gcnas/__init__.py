"""gcnas: predictor-based neural architecture search built on graph learning.

The package layout and import rules are described in ``DESIGN.md``; the public names
live in the subpackages (``gcnas.space``, ``gcnas.data``, ``gcnas.supernet``,
``gcnas.hardware``, ``gcnas.encoders``, ``gcnas.predictors``, ``gcnas.search``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
