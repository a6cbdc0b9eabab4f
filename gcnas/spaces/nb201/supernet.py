"""The weight-sharing supernet: every candidate op on every edge, one set of weights.

``SuperNet(x, arch)`` runs one sub-network (single path: only the chosen op of each live
edge is evaluated); ``SuperNet(x, weights)`` with a ``(6, 5)`` tensor runs the relaxed
mixture ``sum_k weights[e, k] * op_k(x)`` on every edge, as DARTS-style strategies need;
``SuperNet(x, DiscreteRoute(arch, weights))`` runs one sub-network whose op outputs are
scaled by differentiable weights (1.0 for a one-hot route), as NASP needs.

``SuperNet.routes`` (:class:`NB201Routes`) is what the training strategies know of this
supernet: the shape of its weight routes, how to draw a path, how to derive an
architecture from weights (the ``RouteSpace`` interface of :mod:`gcnas.supernet.strategies`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.nb201.space import EDGES, OPS, Arch
from gcnas.spaces.nb201.network import MacroNetwork, live_edges, run_cell
from gcnas.spaces.nb201.primitives import make_op

__all__ = ["DiscreteRoute", "NB201Routes", "SearchCell", "SuperNet"]

NUM_EDGES, NUM_OPS = len(EDGES), len(OPS)
_SKIP, _CONV1, _CONV3, _POOL = (OPS.index(n) for n in ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"))


@dataclass(frozen=True)
class DiscreteRoute:
    """One op per edge whose output is scaled by a differentiable weight (NASP's discrete step).

    The forward value equals the single path ``arch`` when ``weights`` is its one-hot
    matrix; autograd then gives ``d loss / d weights``. With ``all_ops=False`` only the
    chosen op of each live edge runs (forward and backward), so only the chosen entries
    ``weights[e, arch.ops[e]]`` get a gradient (zero on the other entries). With
    ``all_ops=True`` every other op is also evaluated, without gradient to its parameters
    or its input, and multiplied by its (zero) weight, so every entry gets the gradient of
    the relaxed cell at the one-hot point: ``<d loss / d node, op_k(source)>``.

    Attributes:
        arch: The op of each edge.
        weights: ``(6, 5)`` op weights; the entries of ``arch``'s ops scale their outputs.
        all_ops: Evaluate the other ops too, for the gradient of their weights.
    """

    arch: Arch
    weights: torch.Tensor
    all_ops: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.arch, Arch):
            raise InvalidInputError(f"DiscreteRoute.arch must be an Arch, got {type(self.arch).__name__}")
        if not isinstance(self.weights, torch.Tensor) or tuple(self.weights.shape) != (NUM_EDGES, NUM_OPS):
            shape = tuple(self.weights.shape) if isinstance(self.weights, torch.Tensor) else type(self.weights).__name__
            raise InvalidInputError(f"DiscreteRoute.weights must be a ({NUM_EDGES}, {NUM_OPS}) tensor, got {shape}")


class NB201Routes:
    """The routes of the NAS-Bench-201 supernet, as the strategies use them (their ``RouteSpace``).

    A path is an :class:`~gcnas.spaces.nb201.Arch`; weights are ``(6, 5)``, one row per edge of
    :data:`~gcnas.spaces.nb201.EDGES`, one column per op of :data:`~gcnas.spaces.nb201.OPS`.

    Example:
        >>> routes = NB201Routes()
        >>> block = routes.fair_paths(torch.Generator().manual_seed(0), torch.arange(5))
        >>> sorted(a.ops[0] for a in block)             # edge 0 takes every op once in 5 paths
        [0, 1, 2, 3, 4]
        >>> str(routes.derive(torch.eye(6, 5)))
        '|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|'
    """

    name = "nb201"
    arch_shape: tuple[int, int] = (NUM_EDGES, NUM_OPS)
    op_names: tuple[str, ...] = OPS
    path_ops: tuple[int, ...] = tuple(range(NUM_OPS))
    samplings: tuple[str, ...] = ("code", "canonical", "fair")

    def __init__(self) -> None:
        self._pools: dict[tuple[int, ...], torch.Tensor] = {}

    def sample_path(self, generator: torch.Generator, allowed: torch.Tensor, sampling: str = "code") -> Arch:
        """One architecture with ops in ``allowed`` (op ids): each edge's op uniformly (``code``),
        or an isomorphism class uniformly, run as its representative (``canonical``)."""
        if sampling == "canonical":
            pool = self._canonical_pool(allowed)
            return Arch.from_code(int(pool[torch.randint(0, len(pool), (1,), generator=generator)]))
        if sampling != "code":
            raise InvalidInputError(f"unknown sampling {sampling!r} for sample_path; choose code or canonical")
        ops = allowed[torch.randint(0, len(allowed), (NUM_EDGES,), generator=generator)]
        return Arch(tuple(int(i) for i in ops))

    def fair_paths(self, generator: torch.Generator, allowed: torch.Tensor) -> list[Arch]:
        """``len(allowed)`` architectures in which every edge takes every allowed op once (FairNAS)."""
        perms = torch.stack([allowed[torch.randperm(len(allowed), generator=generator)] for _ in EDGES])
        return [Arch(tuple(int(i) for i in perms[:, step])) for step in range(len(allowed))]

    def path_state(self, path: Arch) -> int:
        """The architecture's code (what a checkpoint stores)."""
        return path.code

    def path_from_state(self, state: int) -> Arch:
        """Inverse of :meth:`path_state`."""
        return Arch.from_code(int(state))

    def derive(self, weights: torch.Tensor) -> Arch:
        """The op of largest weight on each edge of a ``(6, 5)`` tensor."""
        if not isinstance(weights, torch.Tensor) or tuple(weights.shape) != self.arch_shape:
            raise InvalidInputError(f"weights must be a {self.arch_shape} tensor")
        return Arch(tuple(int(i) for i in weights.detach().argmax(1).tolist()))

    def one_hot(self, path: Arch) -> torch.Tensor:
        """``(6, 5)`` int64: 1 at each edge's op."""
        return F.one_hot(torch.tensor(path.ops), NUM_OPS)

    def discrete_route(self, path: Arch, weights: torch.Tensor, *, all_ops: bool = False) -> DiscreteRoute:
        """The route running ``path`` with op outputs scaled by ``weights`` (see :class:`DiscreteRoute`)."""
        return DiscreteRoute(path, weights, all_ops=all_ops)

    def _canonical_pool(self, allowed: torch.Tensor) -> torch.Tensor:
        key = tuple(int(k) for k in allowed.tolist())
        if key not in self._pools:
            import numpy as np

            from gcnas.spaces.nb201 import NB201Space

            representatives = np.unique(NB201Space().canonical_codes())
            keep = [int(c) for c in representatives if set(Arch.from_code(int(c)).ops) <= set(key)]
            self._pools[key] = torch.tensor(keep)
        return self._pools[key]


class SearchCell(nn.Module):
    """A cell holding all five candidate ops on each of its six edges.

    Args:
        channels: Channels in and out.
        affine: Whether BatchNorm layers learn a scale and shift.
    """

    def __init__(self, channels: int, affine: bool = False) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, channels, affine=affine) for name in OPS) for _ in EDGES)

    def forward_path(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        """One sub-network: ``(N, C, H, W) -> (N, C, H, W)``."""
        flat = [op for edge in self.edges for op in edge]
        return run_cell(flat, x, arch.ops, index_of=lambda e, k: e * NUM_OPS + k)

    def forward_mixture(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """The relaxed cell; ``weights`` is ``(6, 5)``, one distribution per edge.

        Per source node the ReLU in front of both convolutions and the average pooling are
        computed once and shared by its outgoing edges (they are the same function of the
        same input); ``none`` is skipped (it adds ``weights[e, 0] * 0``).
        """
        nodes, shared = [x], {}
        for to in range(1, 4):
            total = None
            for e, (target, frm) in enumerate(EDGES):
                if target != to:
                    continue
                source = nodes[frm]
                if frm not in shared:
                    shared[frm] = torch.relu(source), self.edges[e][_POOL](source)
                relu, pooled = shared[frm]
                term = weights[e, _SKIP] * source + weights[e, _POOL] * pooled
                for k in (_CONV1, _CONV3):
                    _, conv, bn = self.edges[e][k].op
                    term = term + weights[e, k] * bn(conv(relu))
                total = term if total is None else total + term
            nodes.append(total)
        return nodes[3]

    def forward_discrete(self, x: torch.Tensor, route: DiscreteRoute) -> torch.Tensor:
        """One sub-network with op outputs scaled by ``route.weights``: ``(N, C, H, W) -> (N, C, H, W)``.

        See :class:`DiscreteRoute`; ``none`` is never evaluated (its output and its
        weight's gradient are zero).
        """
        ops, weights = route.arch.ops, route.weights
        if not route.all_ops:
            return run_cell([self._scaled(e, ops[e], weights) for e in range(NUM_EDGES)], x, ops)
        live = set(live_edges(ops))
        nodes = [x]
        for to in range(1, 4):
            total = torch.zeros_like(x)
            for e, (target, frm) in enumerate(EDGES):
                if target != to:
                    continue
                source = nodes[frm]
                for k in range(1, NUM_OPS):
                    if k == ops[e] and e in live:
                        out = self.edges[e][k](source)
                    else:  # weight 0 (or a dead edge): only d loss / d weights[e, k] is wanted
                        with torch.no_grad():
                            out = self.edges[e][k](source).detach()
                    total = total + weights[e, k] * out
            nodes.append(total)
        return nodes[3]

    def _scaled(self, edge: int, op: int, weights: torch.Tensor):
        """``source -> weights[edge, op] * op(source)``, the chosen op of one edge."""
        module = self.edges[edge][op]
        return lambda source: weights[edge, op] * module(source)


class SuperNet(MacroNetwork):
    """The NAS-Bench-201 supernet (``3 * cells`` search cells with shared weights).

    Args:
        channels: Channels of the first stage.
        cells: Cells per stage.
        num_classes: Classifier outputs.
        affine: Whether the BatchNorm layers inside cells learn a scale and shift
            (False, as in the NAS-Bench-201 search experiments).

    Example:
        >>> net = SuperNet(channels=4, cells=1)
        >>> net(torch.zeros(2, 3, 8, 8), Arch.from_code(3000)).shape
        torch.Size([2, 10])
        >>> net(torch.zeros(2, 3, 8, 8), torch.full((6, 5), 0.2)).shape
        torch.Size([2, 10])
        >>> arch = Arch.from_code(3000)
        >>> one_hot = torch.nn.functional.one_hot(torch.tensor(arch.ops), 5).float()
        >>> net(torch.zeros(2, 3, 8, 8), DiscreteRoute(arch, one_hot)).shape
        torch.Size([2, 10])
    """

    routes: NB201Routes = NB201Routes()
    """What the training strategies know of this supernet (shared by every instance)."""

    def __init__(self, channels: int = 16, cells: int = 5, num_classes: int = 10, affine: bool = False) -> None:
        self.affine = affine
        super().__init__(channels, cells, num_classes)

    @property
    def arch_shape(self) -> tuple[int, int]:
        """``(6, 5)``: the shape of a weight route, one row per edge, one column per op."""
        return self.routes.arch_shape

    def derive(self, weights: torch.Tensor) -> Arch:
        """The architecture of a ``(6, 5)`` weight tensor: the strongest op per edge."""
        return self.routes.derive(weights)

    def make_cell(self, channels: int) -> nn.Module:
        return SearchCell(channels, affine=self.affine)

    @property
    def shape(self) -> dict[str, int | bool]:
        """What must match for a checkpoint to load: channels, cells, classes, affine."""
        return {"channels": self.channels, "cells": self.num_cells, "num_classes": self.num_classes,
                "affine": self.affine}

    def forward(self, x: torch.Tensor, route: Arch | torch.Tensor) -> torch.Tensor:
        """Logits of one sub-network or of the relaxed mixture.

        Args:
            x: ``(N, 3, H, W)`` images.
            route: An ``Arch`` (single path), a ``(6, 5)`` tensor of op weights per edge
                (relaxed mixture) or a :class:`DiscreteRoute` (single path, scaled outputs).

        Returns:
            ``(N, num_classes)`` logits.
        """
        self.check_input(x)
        if isinstance(route, Arch):
            step = lambda cell, f: cell.forward_path(f, route)  # noqa: E731
        elif isinstance(route, torch.Tensor) and tuple(route.shape) == (NUM_EDGES, NUM_OPS):
            route = route.to(dtype=x.dtype if x.is_floating_point() else route.dtype)
            step = lambda cell, f: cell.forward_mixture(f, route)  # noqa: E731
        elif isinstance(route, DiscreteRoute):
            if x.is_floating_point() and route.weights.dtype != x.dtype:
                route = DiscreteRoute(route.arch, route.weights.to(x.dtype), route.all_ops)
            step = lambda cell, f: cell.forward_discrete(f, route)  # noqa: E731
        else:
            shape = tuple(route.shape) if isinstance(route, torch.Tensor) else type(route).__name__
            raise InvalidInputError(f"route must be an Arch or a ({NUM_EDGES}, {NUM_OPS}) weight tensor or a "
                                   f"DiscreteRoute, got {shape}")
        feature = self.stem(x)
        for cell in self.cells:
            feature = step(cell, feature) if isinstance(cell, SearchCell) else cell(feature)
        return self.head(feature)
