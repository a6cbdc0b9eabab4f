"""Training weight-sharing supernets and scoring their sub-networks, for any space's supernet.

A supernet lives with its space (NAS-Bench-201's ``gcnas.spaces.nb201.SuperNet``, DARTS'
``gcnas.spaces.darts.supernet.DartsSuperNet``) and offers ``routes`` (a :class:`RouteSpace`);
the strategies here (uniform single path, GAEA, DARTS, SNAS, NASP) train any of them
(``train_supernet(..., supernet=...)``); ``sample_subnets`` scores sub-networks with inherited
weights into the run store (``sample_subnets_sharded``: on parallel workers);
``train_standalone`` trains one architecture from scratch (``space.network``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcnas._lazy import lazy_exports

_EXPORTS = {
    'EXPORT_FORMATS': 'export',
    'TrainedModel': 'standalone',
    'export_model': 'export',
    'load_model': 'standalone',
    'train_model': 'standalone',
    'DARTS': 'strategies',
    'GAEA': 'strategies',
    'NASP': 'strategies',
    'SNAS': 'strategies',
    'STRATEGIES': 'strategies',
    'RouteSpace': 'strategies',
    'ScoringBatches': 'score',
    'ScoringSource': 'score',
    'Strategy': 'strategies',
    'TrainedSupernet': 'checkpoint',
    'Uniform': 'strategies',
    'check_strategy': 'strategies',
    'checkpoint_path': 'checkpoint',
    'derive': 'score',
    'evaluate': 'score',
    'load_supernet': 'checkpoint',
    'make_strategy': 'strategies',
    'resolve_device': 'checkpoint',
    'sample_subnets': 'score',
    'sample_subnets_sharded': 'score',
    'score_subnet': 'score',
    'scoring_data': 'score',
    'train_standalone': 'standalone',
    'train_supernet': 'train',
}
"""Public name -> the submodule that defines it (loaded on first use: gcnas._lazy)."""

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.supernet.checkpoint import TrainedSupernet, checkpoint_path, load_supernet, resolve_device
    from gcnas.supernet.score import (ScoringBatches, ScoringSource, derive, evaluate, sample_subnets,
                                      sample_subnets_sharded, score_subnet, scoring_data)
    from gcnas.supernet.export import EXPORT_FORMATS, export_model
    from gcnas.supernet.standalone import TrainedModel, load_model, train_model, train_standalone
    from gcnas.supernet.strategies import (DARTS, GAEA, NASP, SNAS, STRATEGIES, RouteSpace, Strategy, Uniform,
                                           check_strategy, make_strategy)
    from gcnas.supernet.train import train_supernet
