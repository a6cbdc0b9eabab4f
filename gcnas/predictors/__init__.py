"""Performance predictors and the lookup table.

A GCN predictor over the cell graph (PyTorch Geometric), baselines with the same
scikit-learn interface (MLP on one-hot ops, gradient-boosted trees, a BoTorch GP),
ranking metrics, the lookup table that stores a prediction and every hardware
cost for each architecture of the space and answers constrained queries, and the
ground truth (a benchmark-table column) that reports judge rankings against.
"""

from gcnas.predictors.base import Predictor, load_predictor, make_predictor, predictor_names, register_predictor
from gcnas.predictors.features import CELL_FEATURES, ProxySettings, cell_features
from gcnas.predictors.fused import FusedRanking, anchor_cells, is_parameter_free
from gcnas.predictors.fused_run import AnchorSchedule, fit_fused_predictor, train_anchors
from gcnas.predictors.gbt import GBTPredictor
from gcnas.predictors.gcn import DirectedGCN, GCNPredictor
from gcnas.predictors.gp import GPPredictor
from gcnas.predictors.graph import NODE_FEATURES, arch_batch, arch_data, live_adjacency
from gcnas.predictors.lut import COST_BOUNDS, PREDICTOR_FILE, LookupTable, predictor_path, predictor_stage
from gcnas.predictors.metrics import kendall_tau, precision_at_k, ranking_report, spearman, top_kendall_tau
from gcnas.predictors.mlp import MLPPredictor, one_hot_matrix
from gcnas.predictors.neural import NeuralPredictor, pairwise_rank_loss
from gcnas.predictors.truth import Truth, parse_truth

__all__ = [
    "AnchorSchedule",
    "CELL_FEATURES",
    "COST_BOUNDS",
    "FusedRanking",
    "ProxySettings",
    "anchor_cells",
    "cell_features",
    "fit_fused_predictor",
    "is_parameter_free",
    "train_anchors",
    "NODE_FEATURES",
    "PREDICTOR_FILE",
    "predictor_path",
    "predictor_stage",
    "DirectedGCN",
    "GBTPredictor",
    "GCNPredictor",
    "GPPredictor",
    "LookupTable",
    "MLPPredictor",
    "NeuralPredictor",
    "Predictor",
    "Truth",
    "arch_batch",
    "arch_data",
    "kendall_tau",
    "live_adjacency",
    "load_predictor",
    "make_predictor",
    "one_hot_matrix",
    "pairwise_rank_loss",
    "parse_truth",
    "precision_at_k",
    "predictor_names",
    "ranking_report",
    "register_predictor",
    "spearman",
    "top_kendall_tau",
]
