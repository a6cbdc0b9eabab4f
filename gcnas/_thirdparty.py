"""The one filter for a third-party warning users cannot act on.

torch (2.10 and later) deprecates ``torch.jit.script`` with a ``FutureWarning`` raised
each time a function is scripted, and two libraries gcnas uses script functions while
they are *imported*: PyTorch Geometric (``torch_geometric``, for the GCN predictor) and
linear_operator (under GPyTorch and BoTorch, for the GP). The warning is about their
code, not the user's, and it would greet every ``gcnas`` command and script. So gcnas
imports those libraries inside :func:`quiet_jit_deprecation`, which silences that one
message and only while the import runs; every other warning, and this one raised by
anybody's later call of ``torch.jit.script``, still shows.

The modules that import them first (``gcnas.predictors.graph``, ``gcnas.predictors.gcn``,
``gcnas.predictors.gp``, ``gcnas.search.pareto``) use it, so every entry point (the CLI,
a script, a notebook, the benchmarks) goes through here. This module imports nothing of
gcnas.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

__all__ = ["JIT_DEPRECATION", "quiet_jit_deprecation"]

JIT_DEPRECATION = r"`torch\.jit\.script` is deprecated"
"""Regular expression matching torch's deprecation message (the start of it)."""


@contextlib.contextmanager
def quiet_jit_deprecation() -> Iterator[None]:
    """Silence torch's ``torch.jit.script`` ``FutureWarning`` inside the block.

    Use it around the import of a library that scripts functions at import time.

    Example:
        >>> with quiet_jit_deprecation():
        ...     from torch_geometric.data import Batch, Data
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=JIT_DEPRECATION, category=FutureWarning)
        yield
