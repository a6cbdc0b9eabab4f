"""Search: objectives, Bayesian optimisation (BoTorch), random search, regularised evolution.

Every searcher takes ``space=`` (any :class:`~gcnas.spaces.SearchSpace` or its name); in a
space that cannot be listed it proposes from a :class:`CandidatePool` refreshed each step, or
from given ``candidates`` (a table's cells: :class:`SpaceTable`). ``LatentSpaceBO`` searches
an encoder's latent space and decodes proposals, for spaces too large to enumerate.
``run_search`` drives any searcher against objectives, writing every trial to the run store
as it completes so a killed run resumes; ``SearchResult`` gives the incumbent, the Pareto
front and the hypervolume per step; :mod:`gcnas.search.plots` draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcnas._lazy import lazy_exports

_EXPORTS = {
    'BayesianOptimization': 'bo',
    'CallableObjective': 'objectives',
    'CandidatePool': 'pool',
    'ConcatFeatures': 'features',
    'Constraint': 'objectives',
    'CostObjective': 'objectives',
    'EmbeddingFeatures': 'features',
    'EncoderFeatures': 'features',
    'ProxyFeatures': 'features',
    'LUTObjective': 'objectives',
    'LatentSpaceBO': 'latent_bo',
    'Objective': 'objectives',
    'Observations': 'base',
    'PredictorObjective': 'objectives',
    'RandomSearch': 'random_search',
    'RegularizedEvolution': 'evolution',
    'ReinforceSearch': 'reinforce',
    'SearchResult': 'history',
    'SpaceTable': 'space_table',
    'Searcher': 'base',
    'Study': 'study',
    'SupernetObjective': 'objectives',
    'TableObjective': 'objectives',
    'ToldObjective': 'objectives',
    'hypervolume': 'pareto',
    'hypervolume_curve': 'pareto',
    'graph_features': 'features',
    'make_features': 'features',
    'make_searcher': 'base',
    'nadir_reference': 'pareto',
    'onehot_features': 'features',
    'pareto_mask': 'pareto',
    'plot_best_so_far': 'plots',
    'plot_pareto': 'plots',
    'register_searcher': 'base',
    'run_search': 'runner',
    'searcher_names': 'base',
    'stats_features': 'features',
}
"""Public name -> the submodule that defines it (loaded on first use: gcnas._lazy)."""

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.search.base import Observations, Searcher, make_searcher, register_searcher, searcher_names
    from gcnas.search.bo import BayesianOptimization
    from gcnas.search.evolution import RegularizedEvolution
    from gcnas.search.features import (ConcatFeatures, EmbeddingFeatures, EncoderFeatures, ProxyFeatures,
                                       graph_features, make_features, onehot_features, stats_features)
    from gcnas.search.history import SearchResult
    from gcnas.search.latent_bo import LatentSpaceBO
    from gcnas.search.objectives import (CallableObjective, Constraint, CostObjective, LUTObjective, Objective,
                                         PredictorObjective, SupernetObjective, TableObjective, ToldObjective)
    from gcnas.search.pareto import hypervolume, hypervolume_curve, nadir_reference, pareto_mask
    from gcnas.search.plots import plot_best_so_far, plot_pareto
    from gcnas.search.pool import CandidatePool
    from gcnas.search.random_search import RandomSearch
    from gcnas.search.reinforce import ReinforceSearch
    from gcnas.search.runner import run_search
    from gcnas.search.space_table import SpaceTable
    from gcnas.search.study import Study
