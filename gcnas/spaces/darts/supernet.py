"""The DARTS weight-sharing supernet over both cell types, and genotype derivation.

As DARTS' search network (``model_search.Network``): a 3x3 stem to ``3C`` channels, then
``layers`` search cells (reductions at ``layers // 3`` and ``2 * layers // 3``). Every cell
holds a mixed op on each of its 14 edges (node ``2 + i`` reads all ``i + 2`` earlier states:
2 + 3 + 4 + 5 edges), each mixing the eight :data:`~gcnas.spaces.darts.primitives.PRIMITIVES`
(``none`` first). The BN layers of the ops have no affine parameters, pools are followed by
BN, as in DARTS. All normal cells share one set of architecture weights, all reduction
cells another.

The forward pass takes a *route*, as ``gcnas.supernet.SuperNet`` does for NAS-Bench-201:

- a :class:`~gcnas.spaces.darts.Genotype`: one sub-network (single path: two ops per node,
  the rest not evaluated), for uniform single-path training and for scoring;
- a ``(28, 8)`` tensor of op weights, one row per edge (rows 0..13 the normal cell's edges
  in :data:`EDGES` order, rows 14..27 the reduction cell's): the relaxed mixture
  ``sum_k w[e, k] op_k(x)``, for DARTS, SNAS and GAEA;
- a :class:`ScaledPath`: the single path of a genotype with each op's output multiplied by
  its (differentiable) weight, for NASP's discrete step.

:func:`derive_genotype` turns weights back into a genotype as DARTS does.
``DartsSuperNet.routes`` (:class:`DartsRoutes`) is what the training strategies of
``gcnas.supernet`` know of this supernet (their ``RouteSpace``: weight shape, path draws,
derivation), so uniform, GAEA, DARTS, SNAS and NASP train it as they train NAS-Bench-201's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts.conversions import format_genotype, parse_genotype
from gcnas.spaces.darts.genotype import CELL_NODES, CELLS, CONCAT, Genotype
from gcnas.spaces.darts.network import reduction_layers
from gcnas.spaces.darts.primitives import PRIMITIVES, FactorizedReduce, ReLUConvBN, make_op

__all__ = ["EDGES", "NUM_EDGES", "NUM_PRIMITIVES", "ScaledPath", "MixedOp", "SearchCell", "DartsRoutes",
           "DartsSuperNet", "derive_genotype", "path_indices"]

EDGES: tuple[tuple[int, int], ...] = tuple((node, src) for node in range(CELL_NODES) for src in range(node + 2))
"""The 14 edges of a cell as ``(intermediate node i, input state)``, in DARTS' order."""

NUM_EDGES: int = len(EDGES)
NUM_PRIMITIVES: int = len(PRIMITIVES)
_EDGE_ID = {edge: e for e, edge in enumerate(EDGES)}
_PRIM_ID = {name: k for k, name in enumerate(PRIMITIVES)}
_NONE = _PRIM_ID["none"]


def path_indices(genotype: Genotype) -> list[tuple[int, int]]:
    """``(row, primitive)`` of each of the genotype's 16 ops in a ``(28, 8)`` weight tensor.

    Example:
        >>> from gcnas.spaces.darts import DartsSpace
        >>> len(path_indices(DartsSpace().sample(0)))
        16
    """
    out = []
    for c, cell in enumerate(CELLS):
        for k, (op, src) in enumerate(genotype.cell(cell)):
            out.append((c * NUM_EDGES + _EDGE_ID[(k // 2, src)], _PRIM_ID[op]))
    return out


@dataclass(frozen=True)
class ScaledPath:
    """The single path of ``genotype``, each op's output multiplied by ``weights[row, op]``.

    With ``all_ops=True`` every other op of every edge into each node (``none`` aside) is
    also evaluated, without gradient to its parameters or its input, and added times its
    weight (zero in a one-hot matrix): the output is unchanged and every entry
    ``weights[row, k]`` gets ``<d loss / d node, op_k(input)>``, the gradient of the relaxed
    cell at the discrete point (NASP's ``d loss / d A_bar``); backpropagation still runs
    along the path alone.

    Attributes:
        genotype: The ops that run.
        weights: ``(28, 8)`` op weights (a one-hot matrix of the genotype reproduces the
            plain single path; autograd then gives the gradient of its 16 entries).
        all_ops: Evaluate the other ops too, for the gradient of their weights.
    """

    genotype: Genotype
    weights: torch.Tensor
    all_ops: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.genotype, Genotype):
            raise InvalidInputError(f"ScaledPath.genotype must be a Genotype, got {type(self.genotype).__name__}")
        if not isinstance(self.weights, torch.Tensor) or tuple(self.weights.shape) != (2 * NUM_EDGES, NUM_PRIMITIVES):
            raise InvalidInputError(f"ScaledPath.weights must be a ({2 * NUM_EDGES}, {NUM_PRIMITIVES}) tensor")


class MixedOp(nn.Module):
    """The eight candidate ops of one edge, ``(B, C, H, W) -> (B, C, H / stride, W / stride)``."""

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(make_op(name, channels, stride, affine=False, pool_bn=True) for name in PRIMITIVES)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``sum_k weights[k] * op_k(x)`` over the eight ops (``none`` adds nothing and is skipped)."""
        return sum(weights[k] * op(x) for k, op in enumerate(self.ops) if k != _NONE)


class SearchCell(nn.Module):
    """A search cell: preprocessing as in :class:`~gcnas.spaces.darts.network.Cell`, a :class:`MixedOp` per edge."""

    def __init__(self, c_prev_prev: int, c_prev: int, channels: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_prev_prev, channels, affine=False) if reduction_prev
                            else ReLUConvBN(c_prev_prev, channels, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(MixedOp(channels, 2 if reduction and src < 2 else 1) for _, src in EDGES)
        self.multiplier = len(CONCAT)

    def forward_mixture(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """The relaxed cell; ``weights`` ``(14, 8)``."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        e = 0
        for node in range(CELL_NODES):
            total = 0
            for src in range(node + 2):
                total = total + self.edges[e](states[src], weights[e])
                e += 1
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)

    def forward_path(self, s0: torch.Tensor, s1: torch.Tensor, pairs: tuple[tuple[str, int], ...],
                     scale: torch.Tensor | None = None, all_ops: bool = False) -> torch.Tensor:
        """The cell's single path (two ops per node); ``scale`` ``(14, 8)`` multiplies each op's output.

        ``all_ops`` (with ``scale``) adds every other op times its weight, evaluated without
        gradient to its parameters or input (see :class:`ScaledPath`).
        """
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(CELL_NODES):
            total = 0
            chosen = {(_EDGE_ID[(node, src)], _PRIM_ID[op]) for op, src in pairs[2 * node:2 * node + 2]}
            for op, src in pairs[2 * node:2 * node + 2]:
                e, k = _EDGE_ID[(node, src)], _PRIM_ID[op]
                out = self.edges[e].ops[k](states[src])
                total = total + (out if scale is None else scale[e, k] * out)
            if all_ops and scale is not None:
                for src in range(node + 2):
                    e = _EDGE_ID[(node, src)]
                    for k, module in enumerate(self.edges[e].ops):
                        if k != _NONE and (e, k) not in chosen:
                            with torch.no_grad():
                                out = module(states[src].detach())
                            total = total + scale[e, k] * out
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)


class DartsRoutes:
    """The routes of the DARTS supernet, as the strategies of ``gcnas.supernet`` use them.

    A path is a canonical :class:`~gcnas.spaces.darts.Genotype` (so ``none``, which a
    genotype cannot hold, is never drawn); weights are ``(28, 8)``, rows 0..13 the normal
    cell's edges in :data:`EDGES` order, rows 14..27 the reduction cell's, columns the
    :data:`~gcnas.spaces.darts.primitives.PRIMITIVES` (``none`` first). Draws use the
    strategy's ``torch.Generator``, so a checkpoint of its state resumes them exactly.

    Example:
        >>> routes = DartsRoutes()
        >>> allowed = torch.tensor(routes.path_ops)
        >>> g = routes.sample_path(torch.Generator().manual_seed(0), allowed, "code")
        >>> routes.derive(routes.one_hot(g).float()) == g       # the proximal step of a path is the path
        True
    """

    name = "darts"
    arch_shape: tuple[int, int] = (2 * NUM_EDGES, NUM_PRIMITIVES)
    op_names: tuple[str, ...] = PRIMITIVES
    path_ops: tuple[int, ...] = tuple(k for k in range(NUM_PRIMITIVES) if k != _NONE)
    samplings: tuple[str, ...] = ("code", "canonical", "fair")

    def sample_path(self, generator: torch.Generator, allowed: torch.Tensor, sampling: str = "code") -> Genotype:
        """A genotype drawn as :meth:`DartsSpace.sample <gcnas.spaces.darts.DartsSpace.sample>` draws one
        (each node a uniform pair of distinct inputs, each through a uniform op), ops restricted
        to ``allowed`` (primitive ids).

        ``code`` (each of the 24 decisions uniformly) and ``canonical`` (each canonical
        genotype equally likely) are the same draw here: every decision vector is one
        canonical genotype.
        """
        if sampling not in ("code", "canonical"):
            raise InvalidInputError(f"unknown sampling {sampling!r} for sample_path; choose code or canonical")
        self._check_allowed(allowed)
        return self._genotype(generator, lambda slot: allowed[torch.randint(0, len(allowed), (2,),
                                                                             generator=generator)].tolist())

    def fair_paths(self, generator: torch.Generator, allowed: torch.Tensor) -> list[Genotype]:
        """``len(allowed)`` genotypes in which each of the 16 op slots (per cell and node, the op on
        the lower and on the higher input) takes every allowed op once (FairNAS's strict fairness
        over the op decisions); the inputs of each node are drawn uniformly at every step."""
        self._check_allowed(allowed)
        slots = 2 * len(CELLS) * CELL_NODES
        perms = torch.stack([allowed[torch.randperm(len(allowed), generator=generator)] for _ in range(slots)])
        return [self._genotype(generator, lambda slot, step=step: perms[slot:slot + 2, step].tolist())
                for step in range(len(allowed))]

    def path_state(self, path: Genotype) -> str:
        """The genotype's string (what a checkpoint stores)."""
        return format_genotype(path)

    def path_from_state(self, state: str) -> Genotype:
        """Inverse of :meth:`path_state`."""
        return parse_genotype(state)

    def derive(self, weights: torch.Tensor) -> Genotype:
        """The genotype of a ``(28, 8)`` weight tensor (:func:`derive_genotype` of its two halves):
        per node the two edges whose best op other than ``none`` weighs most, with that op."""
        if not isinstance(weights, torch.Tensor) or tuple(weights.shape) != self.arch_shape:
            raise InvalidInputError(f"weights must be a {self.arch_shape} tensor")
        return derive_genotype(weights[:NUM_EDGES], weights[NUM_EDGES:])

    def one_hot(self, path: Genotype) -> torch.Tensor:
        """``(28, 8)`` int64: 1 at the 16 ``(row, primitive)`` entries of the path."""
        out = torch.zeros(self.arch_shape, dtype=torch.int64)
        for row, k in path_indices(path):
            out[row, k] = 1
        return out

    def discrete_route(self, path: Genotype, weights: torch.Tensor, *, all_ops: bool = False) -> ScaledPath:
        """The route running ``path`` with op outputs scaled by ``weights`` (see :class:`ScaledPath`)."""
        return ScaledPath(path, weights, all_ops=all_ops)

    def _check_allowed(self, allowed: torch.Tensor) -> None:
        bad = [int(k) for k in allowed.tolist() if int(k) not in self.path_ops]
        if bad or len(allowed) == 0:
            raise InvalidInputError(f"a DARTS path draws primitives {list(self.path_ops)} (not 'none'), got "
                                    f"{allowed.tolist()}")

    @staticmethod
    def _genotype(generator: torch.Generator, ops_of) -> Genotype:
        """Each node's input pair drawn uniformly; ``ops_of(slot)`` gives the ops of slots ``slot, slot + 1``."""
        cells, slot = {}, 0
        for cell in CELLS:
            pairs = []
            for node in range(CELL_NODES):
                low, high = sorted(torch.randperm(node + 2, generator=generator)[:2].tolist())
                op_low, op_high = ops_of(slot)
                pairs += [(PRIMITIVES[int(op_low)], low), (PRIMITIVES[int(op_high)], high)]
                slot += 2
            cells[cell] = pairs
        return Genotype(normal=cells["normal"], reduce=cells["reduce"])


class DartsSuperNet(nn.Module):
    """The DARTS search network with every op on every edge of both cell types.

    Args:
        C: Channels of the first stage (stem: ``3C``).
        layers: Number of cells.
        num_classes: Classifier outputs.
        in_channels: Input image channels.

    Example:
        >>> from gcnas.spaces.darts import DartsSpace
        >>> net = DartsSuperNet(C=4, layers=3)
        >>> net(torch.zeros(2, 3, 8, 8), DartsSpace().sample(0)).shape
        torch.Size([2, 10])
        >>> net(torch.zeros(2, 3, 8, 8), torch.full((28, 8), 1 / 8)).shape
        torch.Size([2, 10])
    """

    routes: DartsRoutes = DartsRoutes()
    """What the training strategies know of this supernet (shared by every instance)."""

    def __init__(self, C: int = 16, layers: int = 8, num_classes: int = 10, *, in_channels: int = 3) -> None:
        super().__init__()
        for name, value in (("C", C), ("layers", layers), ("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"DartsSuperNet {name} must be a positive integer, got {value!r}")
        self.channels, self.num_cells, self.num_classes = C, layers, num_classes
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 3 * C, 3, padding=1, bias=False), nn.BatchNorm2d(3 * C))
        c_pp, c_p, c = 3 * C, 3 * C, C
        reductions, reduction_prev = reduction_layers(layers), False
        self.cells = nn.ModuleList()
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                c *= 2
            cell = SearchCell(c_pp, c_p, c, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    @property
    def shape(self) -> dict[str, int]:
        """What must match for a checkpoint to load."""
        return {"channels": self.channels, "cells": self.num_cells, "num_classes": self.num_classes}

    @property
    def arch_shape(self) -> tuple[int, int]:
        """``(28, 8)``: the shape of a weight route, one row per edge (normal cell, then reduction cell)."""
        return self.routes.arch_shape

    def derive(self, weights: torch.Tensor) -> Genotype:
        """The genotype of a ``(28, 8)`` weight tensor (:func:`derive_genotype` of its two halves)."""
        return self.routes.derive(weights)

    def forward(self, x: torch.Tensor, route: Genotype | torch.Tensor | ScaledPath) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``x`` ``(B, in_channels, H, W)`` along ``route`` (module docstring)."""
        if isinstance(route, Genotype):
            step = lambda cell, s0, s1: cell.forward_path(s0, s1, route.cell(CELLS[cell.reduction]))  # noqa: E731
        elif isinstance(route, ScaledPath):
            weights = route.weights.to(x.dtype) if x.is_floating_point() else route.weights

            def step(cell, s0, s1):
                rows = weights[NUM_EDGES:] if cell.reduction else weights[:NUM_EDGES]
                return cell.forward_path(s0, s1, route.genotype.cell(CELLS[cell.reduction]), rows, route.all_ops)
        elif isinstance(route, torch.Tensor) and tuple(route.shape) == (2 * NUM_EDGES, NUM_PRIMITIVES):
            step = lambda cell, s0, s1: cell.forward_mixture(  # noqa: E731
                s0, s1, route[NUM_EDGES:] if cell.reduction else route[:NUM_EDGES])
        else:
            shape = tuple(route.shape) if isinstance(route, torch.Tensor) else type(route).__name__
            raise InvalidInputError(f"route must be a Genotype, a ({2 * NUM_EDGES}, {NUM_PRIMITIVES}) weight tensor "
                                    f"or a ScaledPath, got {shape}")
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, step(cell, s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


def derive_genotype(weights_normal: torch.Tensor, weights_reduce: torch.Tensor) -> Genotype:
    """The genotype DARTS derives from op weights.

    For each intermediate node, the two incoming edges whose strongest op other than
    ``none`` weighs most, each with that op; pairs in order of strength, as DARTS'
    ``Network.genotype()`` writes them.

    Args:
        weights_normal: ``(14, 8)`` op weights (probabilities, or any scores) of the normal cell.
        weights_reduce: ``(14, 8)`` of the reduction cell.

    Returns:
        The genotype.

    Example:
        >>> w = torch.zeros(14, 8); w[:, 4] = 1.0        # sep_conv_3x3 everywhere
        >>> derive_genotype(w, w).normal[:2]
        (('sep_conv_3x3', 0), ('sep_conv_3x3', 1))
    """
    cells = {}
    for cell, weights in zip(CELLS, (weights_normal, weights_reduce)):
        if not isinstance(weights, torch.Tensor) or tuple(weights.shape) != (NUM_EDGES, NUM_PRIMITIVES):
            raise InvalidInputError(f"{cell} weights must be a ({NUM_EDGES}, {NUM_PRIMITIVES}) tensor")
        w = weights.detach().float().cpu().clone()
        w[:, _NONE] = -float("inf")
        best_value, best_op = w.max(dim=1)
        pairs, start = [], 0
        for node in range(CELL_NODES):
            rows = range(start, start + node + 2)
            strongest = sorted(rows, key=lambda r: -float(best_value[r]))[:2]   # stable: ties keep the lower input
            pairs += [(PRIMITIVES[int(best_op[r])], r - start) for r in strongest]
            start += node + 2
        cells[cell] = pairs
    return Genotype(normal=cells["normal"], reduce=cells["reduce"])
