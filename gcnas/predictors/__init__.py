"""Performance predictors and the lookup table.

A GCN predictor over the cell graph (PyTorch Geometric), baselines with the same
scikit-learn interface (MLP on one-hot ops, gradient-boosted trees, a BoTorch GP),
ranking metrics, the lookup table that stores a prediction and every hardware
cost for each architecture of the space and answers constrained queries, and the
ground truth (a benchmark-table column) that reports judge rankings against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcnas._lazy import lazy_exports

_EXPORTS = {
    'AnchorSchedule': 'fused_run',
    'CELL_FEATURES': 'features',
    'COST_BOUNDS': 'lut',
    'ConformalPredictor': 'conformal',
    'LATENCY_GCN': 'conformal',
    'conformal_quantile': 'intervals',
    'interval_ends': 'intervals',
    'FusedRanking': 'fused',
    'ProxySettings': 'features',
    'anchor_cells': 'fused',
    'cell_features': 'features',
    'fit_fused_predictor': 'fused_run',
    'is_parameter_free': 'fused',
    'train_anchors': 'fused_run',
    'space_graphs': 'graph',
    'space_node_features': 'graph',
    'PREDICTOR_FILE': 'lut',
    'predictor_path': 'lut',
    'predictor_stage': 'lut',
    'DirectedGCN': 'gcn',
    'GBTPredictor': 'gbt',
    'GCNPredictor': 'gcn',
    'GPPredictor': 'gp',
    'LookupTable': 'lut',
    'MLPPredictor': 'mlp',
    'NeuralPredictor': 'neural',
    'Predictor': 'base',
    'Truth': 'truth',
    'arch_batch': 'graph',
    'arch_data': 'graph',
    'kendall_tau': 'metrics',
    'live_adjacency': 'graph',
    'load_predictor': 'base',
    'make_predictor': 'base',
    'one_hot_matrix': 'mlp',
    'pairwise_rank_loss': 'neural',
    'parse_truth': 'truth',
    'precision_at_k': 'metrics',
    'predictor_names': 'base',
    'ranking_report': 'metrics',
    'register_predictor': 'base',
    'spearman': 'metrics',
    'top_kendall_tau': 'metrics',
}
"""Public name -> the submodule that defines it (loaded on first use: gcnas._lazy)."""

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.predictors.base import Predictor, load_predictor, make_predictor, predictor_names, register_predictor
    from gcnas.predictors.conformal import LATENCY_GCN, ConformalPredictor
    from gcnas.predictors.intervals import conformal_quantile, interval_ends
    from gcnas.predictors.features import CELL_FEATURES, ProxySettings, cell_features
    from gcnas.predictors.fused import FusedRanking, anchor_cells, is_parameter_free
    from gcnas.predictors.fused_run import AnchorSchedule, fit_fused_predictor, train_anchors
    from gcnas.predictors.gbt import GBTPredictor
    from gcnas.predictors.gcn import DirectedGCN, GCNPredictor
    from gcnas.predictors.gp import GPPredictor
    from gcnas.predictors.graph import arch_batch, arch_data, live_adjacency, space_graphs, space_node_features
    from gcnas.predictors.lut import COST_BOUNDS, PREDICTOR_FILE, LookupTable, predictor_path, predictor_stage
    from gcnas.predictors.metrics import kendall_tau, precision_at_k, ranking_report, spearman, top_kendall_tau
    from gcnas.predictors.mlp import MLPPredictor, one_hot_matrix
    from gcnas.predictors.neural import NeuralPredictor, pairwise_rank_loss
    from gcnas.predictors.truth import Truth, parse_truth
