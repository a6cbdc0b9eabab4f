"""arch2vec: unsupervised architecture embeddings for search in a latent space.

``Arch2Vec`` is a variational graph autoencoder over the cell graph, pretrained
without labels; :func:`pretrain` trains it on the whole space of a run and stores
every architecture's embedding in the run store; :func:`latent_map` draws it.
:func:`graph_statistics` is the training-free companion: counts and path statistics
of the live cell.
"""

from gcnas.encoders.arch2vec import Arch2Vec, graph_tensors
from gcnas.encoders.graph_stats import graph_statistics, statistic_names
from gcnas.encoders.latent_map import latent_map
from gcnas.encoders.model import GraphVAE
from gcnas.encoders.pretrain import CHECKPOINT, ENCODER_NAME, load_pretrained, pretrain

__all__ = [
    "Arch2Vec",
    "CHECKPOINT",
    "ENCODER_NAME",
    "GraphVAE",
    "graph_statistics",
    "graph_tensors",
    "latent_map",
    "load_pretrained",
    "pretrain",
    "statistic_names",
]
