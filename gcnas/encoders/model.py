"""The arch2vec network: a variational graph autoencoder on dense cell graphs.

A GIN encoder turns a batch of cell graphs (dense adjacency + one-hot node types) into
one Gaussian per node; the decoder reconstructs every node's type from its latent
(a linear layer) and the adjacency from inner products of latents (plus one learned bias). A
small MLP "unpools" the *graph* embedding (the mean of the node latents, or with
``readout_bins`` > 1 the means of consecutive stretches of them: :func:`position_pool`) back
to node latents that the same node decoder reads, so that vectors of the graph-level space
the search works in can be decoded too.

Everything here takes and returns tensors; the conversion from architectures to
tensors lives in :mod:`gcnas.encoders.arch2vec`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GraphVAE", "DecisionDecoder", "VAEOutput", "position_pool", "vae_loss", "reconstruction_stats"]


class VAEOutput(NamedTuple):
    """What one forward pass of :class:`GraphVAE` returns.

    Attributes:
        mu: ``(B, N, D)`` posterior means per node.
        logvar: ``(B, N, D)`` posterior log-variances per node.
        z: ``(B, N, D)`` the latents decoded (a sample when training, ``mu`` otherwise).
        type_logits: ``(B, N, T)`` node-type logits decoded from ``z``.
        adj_logits: ``(B, N, N)`` adjacency logits ``z z^T + b``.
        graph_type_logits: ``(B, N, T)`` node-type logits decoded from the graph
            embedding ``graph``.
        graph: ``(B, bins * D)`` the graph embedding of ``z`` (:meth:`GraphVAE.readout`).
    """

    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    type_logits: torch.Tensor
    adj_logits: torch.Tensor
    graph_type_logits: torch.Tensor
    graph: torch.Tensor


def position_pool(z: torch.Tensor, real: torch.Tensor, bins: int) -> torch.Tensor:
    """The mean node latent of each of ``bins`` consecutive, equal stretches of a graph's real nodes, joined.

    Node ``i`` of a graph of ``n`` real nodes (nodes in topological order, real ones first)
    falls in stretch ``floor(i * bins / n)``, so the vector keeps *where* in the graph each
    kind of node sits, which one mean over all nodes loses. A stretch without nodes (a
    graph of fewer than ``bins`` nodes) is zero.

    Args:
        z: ``(B, N, D)`` node latents.
        real: ``(B, N)`` bool, the graph's own nodes (False on padding).
        bins: Stretches per graph.

    Returns:
        ``(B, bins * D)``: stretch 0's mean first.

    Example:
        >>> z = torch.arange(4.0).reshape(1, 4, 1)
        >>> position_pool(z, torch.tensor([[True, True, True, False]]), 2)    # nodes 0, 1 | 2
        tensor([[0.5000, 2.0000]])
    """
    batch, nodes, _ = z.shape
    count = real.sum(1, keepdim=True).clamp_min(1)
    stretch = (torch.arange(nodes, device=z.device).expand(batch, nodes) * bins) // count
    member = F.one_hot(stretch.clamp_max(bins - 1), bins).to(z.dtype) * real.unsqueeze(-1).to(z.dtype)
    weights = member / member.sum(1, keepdim=True).clamp_min(1)
    return torch.einsum("bnk,bnd->bkd", weights, z).reshape(batch, -1)


class _GINLayer(nn.Module):
    """``h' = MLP((1 + eps) h + A h)`` on dense batches (GIN, Xu et al. 2019)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(1))
        self.mlp = nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU(), nn.Linear(out_dim, out_dim))
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.mlp((1 + self.eps) * h + adj @ h)))


class GraphVAE(nn.Module):
    """Variational graph autoencoder with a GIN encoder and inner-product decoder.

    Args:
        num_nodes: Nodes per graph ``N`` (the space's ``max_nodes``: 8 for NAS-Bench-201
            cells, 11 for DARTS cells).
        num_types: Node types ``T`` (``len(space.node_types)``).
        latent_dim: Latent size ``D`` of every node (and of the graph embedding).
        hidden_dim: Width of the GIN layers.
        num_layers: Number of GIN layers.
        readout_bins: Stretches of the graph embedding (:meth:`readout`): 1, the mean of
            all node latents (``D`` numbers); more, the means of that many consecutive
            stretches of the nodes (``readout_bins * D``).

    Example:
        >>> vae = GraphVAE(8, 7, latent_dim=16)
        >>> out = vae(torch.zeros(4, 8, 8), torch.eye(7)[torch.zeros(4, 8, dtype=torch.long)])
        >>> out.mu.shape
        torch.Size([4, 8, 16])
    """

    def __init__(self, num_nodes: int, num_types: int, *, latent_dim: int = 16, hidden_dim: int = 128,
                 num_layers: int = 5, readout_bins: int = 1) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.num_types = num_types
        self.latent_dim = latent_dim
        self.readout_bins = readout_bins
        self.embed = nn.Linear(num_types + num_nodes, hidden_dim)
        self.layers = nn.ModuleList(_GINLayer(hidden_dim, hidden_dim) for _ in range(num_layers))
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.type_decoder = nn.Linear(latent_dim, num_types)
        self.adj_bias = nn.Parameter(torch.zeros(1))
        self.unpool = nn.Sequential(nn.Linear(readout_bins * latent_dim, hidden_dim), nn.ReLU(),
                                    nn.Linear(hidden_dim, num_nodes * latent_dim))

    def encode(self, adj: torch.Tensor, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, logvar)``, each ``(B, N, D)``.

        Args:
            adj: ``(B, N, N)`` directed adjacency (``adj[b, u, v] = 1`` for ``u -> v``).
            features: ``(B, N, T)`` one-hot node types.
        """
        # Messages flow both ways, as in arch2vec (the DAG made undirected).
        undirected = adj + adj.transpose(1, 2)
        # Nodes come in topological order; their position is part of the input.
        position = torch.eye(self.num_nodes, dtype=features.dtype, device=features.device)
        h = self.embed(torch.cat([features, position.expand(features.shape[0], -1, -1)], -1))
        for layer in self.layers:
            h = h + layer(h, undirected)  # residual: a node keeps its own op in view
        return self.to_mu(h), self.to_logvar(h).clamp(-10.0, 10.0)

    def decode_nodes(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Node-type logits ``(B, N, T)`` and adjacency logits ``(B, N, N)`` from node latents."""
        return self.type_decoder(z), z @ z.transpose(1, 2) + self.adj_bias

    def readout(self, z: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Graph embeddings ``(B, readout_bins * D)`` of node latents ``z`` ``(B, N, D)``.

        One bin: the mean over all ``N`` nodes (padding included, as this readout always
        was while training); more: :func:`position_pool` over the ``real`` ``(B, N)`` nodes.
        """
        return z.mean(1) if self.readout_bins == 1 else position_pool(z, real, self.readout_bins)

    def decode_graph(self, g: torch.Tensor) -> torch.Tensor:
        """Node-type logits ``(B, N, T)`` from graph embeddings ``(B, readout_bins * D)``."""
        # Unpool to node latents and read them with the node decoder: the graph
        # embedding then lives in the same space as the node latents it averages.
        return self.type_decoder(self.unpool(g).view(-1, self.num_nodes, self.latent_dim))

    def forward(self, adj: torch.Tensor, features: torch.Tensor,
                generator: torch.Generator | None = None) -> VAEOutput:
        mu, logvar = self.encode(adj, features)
        if self.training:
            noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
            z = mu + noise * torch.exp(0.5 * logvar)
        else:
            z = mu
        type_logits, adj_logits = self.decode_nodes(z)
        graph = self.readout(z, features.sum(-1) > 0)  # padding nodes have no type
        return VAEOutput(mu, logvar, z, type_logits, adj_logits, self.decode_graph(graph), graph)


class DecisionDecoder(nn.Module):
    """From a cell's graph-level vector to one categorical distribution per decision of its space.

    The vector is standardised with the mean and spread of the training vectors (set by
    :meth:`set_scale`), then an MLP gives ``sum(sizes)`` logits, one block per decision.
    Every argmax is a valid cell by construction (``space.from_decisions``).

    Args:
        in_dim: Size of the graph-level vector (graphs per cell x latent size).
        sizes: The number of choices of every decision (``[d.size for d in space.decisions]``).
        hidden_dim: Width of the two hidden layers.

    Example:
        >>> head = DecisionDecoder(16, [5] * 6, hidden_dim=32)
        >>> [block.shape for block in head(torch.zeros(3, 16))][:2]
        [torch.Size([3, 5]), torch.Size([3, 5])]
    """

    def __init__(self, in_dim: int, sizes: list[int], *, hidden_dim: int = 256) -> None:
        super().__init__()
        self.sizes = [int(s) for s in sizes]
        self.register_buffer("shift", torch.zeros(in_dim))
        self.register_buffer("scale", torch.ones(in_dim))
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim),
                                 nn.ReLU(), nn.Linear(hidden_dim, sum(self.sizes)))

    def set_scale(self, vectors: torch.Tensor) -> None:
        """Standardise inputs by the mean and spread of ``vectors`` ``(n, in_dim)``."""
        self.shift.copy_(vectors.mean(0))
        self.scale.copy_(vectors.std(0).clamp_min(1e-6) if len(vectors) > 1 else torch.ones_like(self.scale))

    def forward(self, g: torch.Tensor) -> list[torch.Tensor]:
        """One ``(B, size)`` logit block per decision, from ``(B, in_dim)`` vectors."""
        return list(self.mlp((g - self.shift) / self.scale).split(self.sizes, dim=-1))


def _upper(num_nodes: int, device: torch.device) -> torch.Tensor:
    return torch.triu(torch.ones(num_nodes, num_nodes, dtype=torch.bool, device=device), diagonal=1)


def vae_loss(out: VAEOutput, adj: torch.Tensor, types: torch.Tensor, *, beta: float = 1.0,
             graph_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Reconstruction + KL loss of one batch.

    Args:
        out: The forward pass.
        adj: ``(B, N, N)`` target adjacency (upper triangular: nodes in topological order).
        types: ``(B, N)`` long, target node types.
        beta: Weight of the KL term.
        graph_weight: Weight of decoding the node types from the graph embedding.

    Returns:
        ``{"loss", "types", "adj", "graph", "kl"}`` scalar tensors (``loss`` is the total).
    """
    mask = _upper(adj.shape[1], adj.device)
    type_loss = F.cross_entropy(out.type_logits.flatten(0, 1), types.flatten())
    adj_loss = F.binary_cross_entropy_with_logits(out.adj_logits[:, mask], adj[:, mask])
    graph_loss = F.cross_entropy(out.graph_type_logits.flatten(0, 1), types.flatten())
    kl = -0.5 * torch.mean(1 + out.logvar - out.mu.pow(2) - out.logvar.exp())
    total = type_loss + adj_loss + graph_weight * graph_loss + beta * kl
    return {"loss": total, "types": type_loss, "adj": adj_loss, "graph": graph_loss, "kl": kl}


@torch.no_grad()
def reconstruction_stats(type_logits: torch.Tensor, adj_logits: torch.Tensor | None, adj: torch.Tensor,
                         types: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-graph reconstruction correctness (no validity repair).

    Args:
        type_logits: ``(B, N, T)``.
        adj_logits: ``(B, N, N)`` or ``None`` (graph-level decoding has no adjacency).
        adj: ``(B, N, N)`` target adjacency.
        types: ``(B, N)`` target types.

    Returns:
        ``{"type_acc": (B,), "adj_acc": (B,), "exact": (B,) bool}``; ``adj_acc`` is
        the share of upper-triangle entries right (1 where ``adj_logits`` is None).
    """
    type_ok = (type_logits.argmax(-1) == types) | (types < 0)  # padding nodes: nothing to get wrong
    if adj_logits is None:
        adj_ok = torch.ones(adj.shape[0], int(_upper(adj.shape[1], adj.device).sum()), dtype=torch.bool)
    else:
        mask = _upper(adj.shape[1], adj.device)
        adj_ok = (adj_logits[:, mask] > 0) == (adj[:, mask] > 0.5)
    return {"type_acc": type_ok.float().mean(1), "adj_acc": adj_ok.float().mean(1),
            "exact": type_ok.all(1) & adj_ok.all(1)}
