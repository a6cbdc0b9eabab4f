"""The NAS-Bench-201 network, the weight-sharing supernet and its training strategies.

``build_network`` gives the exact standalone network of one architecture; ``SuperNet``
holds one set of shared weights for every op on every edge; strategies (uniform single
path, GAEA, DARTS, SNAS) train it (``train_supernet``); ``sample_subnets`` scores
sub-networks with inherited weights into the run store (``sample_subnets_sharded``: on
parallel workers); ``train_standalone`` trains one
architecture from scratch.
"""

from gcnas.supernet.checkpoint import TrainedSupernet, checkpoint_path, load_supernet, resolve_device
from gcnas.supernet.network import build_network
from gcnas.supernet.ops import make_op
from gcnas.supernet.score import (ScoringBatches, ScoringSource, derive, evaluate, sample_subnets,
                                  sample_subnets_sharded, score_subnet, scoring_data)
from gcnas.supernet.export import EXPORT_FORMATS, export_model
from gcnas.supernet.standalone import TrainedModel, load_model, train_model, train_standalone
from gcnas.supernet.strategies import DARTS, GAEA, NASP, SNAS, STRATEGIES, Strategy, Uniform, make_strategy
from gcnas.supernet.supernet import SuperNet
from gcnas.supernet.train import train_supernet

__all__ = [
    "EXPORT_FORMATS",
    "TrainedModel",
    "export_model",
    "load_model",
    "train_model",
    "DARTS",
    "GAEA",
    "NASP",
    "SNAS",
    "STRATEGIES",
    "ScoringBatches",
    "ScoringSource",
    "Strategy",
    "SuperNet",
    "TrainedSupernet",
    "Uniform",
    "build_network",
    "checkpoint_path",
    "derive",
    "evaluate",
    "load_supernet",
    "make_op",
    "make_strategy",
    "resolve_device",
    "sample_subnets",
    "sample_subnets_sharded",
    "score_subnet",
    "scoring_data",
    "train_standalone",
    "train_supernet",
]
