"""Search: objectives, Bayesian optimisation (BoTorch), random search, regularised evolution.

``LatentSpaceBO`` searches an encoder's latent space and decodes proposals, for spaces
too large to enumerate. ``run_search`` drives any searcher against objectives, writing every trial to the run
store as it completes so a killed run resumes; ``SearchResult`` gives the incumbent,
the Pareto front and the hypervolume per step; :mod:`gcnas.search.plots` draws them.
"""

from gcnas.search.base import Observations, Searcher, make_searcher, register_searcher, searcher_names
from gcnas.search.bo import BayesianOptimization
from gcnas.search.evolution import RegularizedEvolution
from gcnas.search.features import ConcatFeatures, EmbeddingFeatures, make_features, onehot_features, stats_features
from gcnas.search.history import SearchResult
from gcnas.search.latent_bo import LatentSpaceBO
from gcnas.search.objectives import (CallableObjective, Constraint, CostObjective, LUTObjective, Objective,
                                     PredictorObjective, SupernetObjective, TableObjective, ToldObjective)
from gcnas.search.pareto import hypervolume, hypervolume_curve, nadir_reference, pareto_mask
from gcnas.search.plots import plot_best_so_far, plot_pareto
from gcnas.search.random_search import RandomSearch
from gcnas.search.reinforce import ReinforceSearch
from gcnas.search.runner import run_search
from gcnas.search.study import Study

__all__ = [
    "BayesianOptimization",
    "CallableObjective",
    "ConcatFeatures",
    "Constraint",
    "CostObjective",
    "EmbeddingFeatures",
    "LUTObjective",
    "LatentSpaceBO",
    "Objective",
    "Observations",
    "PredictorObjective",
    "RandomSearch",
    "RegularizedEvolution",
    "ReinforceSearch",
    "SearchResult",
    "Searcher",
    "Study",
    "SupernetObjective",
    "TableObjective",
    "ToldObjective",
    "hypervolume",
    "hypervolume_curve",
    "make_features",
    "make_searcher",
    "nadir_reference",
    "onehot_features",
    "pareto_mask",
    "plot_best_so_far",
    "plot_pareto",
    "register_searcher",
    "run_search",
    "searcher_names",
    "stats_features",
]
