"""arch2vec: unsupervised architecture embeddings for search in a latent space.

``Arch2Vec`` is a variational graph autoencoder over the cell graphs of any search space
(sized from ``space.node_types`` / ``space.max_nodes``), pretrained without labels, with a
decision decoder that maps an embedding back to a valid cell; :func:`pretrain` trains it
for a run and stores the embeddings in the run store; :func:`latent_map` draws it.
:func:`graph_statistics` is the training-free companion: counts and path statistics
of the live cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gcnas._lazy import lazy_exports

_EXPORTS = {
    'Arch2Vec': 'arch2vec',
    'CHECKPOINT': 'pretraining',
    'DecisionDecoder': 'model',
    'ENCODER_NAME': 'pretraining',
    'GraphVAE': 'model',
    'graph_statistics': 'graph_stats',
    'graph_tensors': 'arch2vec',
    'latent_map': 'latent_maps',
    'load_pretrained': 'pretraining',
    'pretrain': 'pretraining',
    'statistic_names': 'graph_stats',
}
"""Public name -> the submodule that defines it (loaded on first use: gcnas._lazy)."""

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the eager imports, for type checkers and IDEs
    from gcnas.encoders.arch2vec import Arch2Vec, graph_tensors
    from gcnas.encoders.graph_stats import graph_statistics, statistic_names
    from gcnas.encoders.latent_maps import latent_map
    from gcnas.encoders.model import DecisionDecoder, GraphVAE
    from gcnas.encoders.pretraining import CHECKPOINT, ENCODER_NAME, load_pretrained, pretrain
