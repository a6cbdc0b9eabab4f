"""The DARTS evaluation network for a genotype (DARTS' ``NetworkCIFAR``).

A 3x3 conv stem (3 -> ``3C`` channels) with BN, then ``layers`` cells; the cells at
``layers // 3`` and ``2 * layers // 3`` are reduction cells that double the channels and
halve the resolution, the others normal cells. Each cell first maps its two inputs to
``C`` channels (``ReLUConvBN`` 1x1, or :class:`FactorizedReduce` for the input two back
when the previous cell reduced), runs its four nodes and concatenates them (``4C``
channels out). Global average pooling and a linear classifier follow; an optional
auxiliary head (DARTS' ``AuxiliaryHeadCIFAR``, made for 8x8 maps) reads the output of the
second reduction cell during training.
"""

from __future__ import annotations

import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.darts.genotype import CELL_NODES, CONCAT, Genotype
from gcnas.spaces.darts.primitives import FactorizedReduce, ReLUConvBN, make_op

__all__ = ["Cell", "AuxiliaryHead", "NetworkCIFAR", "drop_path", "reduction_layers"]


def reduction_layers(layers: int) -> tuple[int, int]:
    """The indices of the two reduction cells among ``layers`` cells: ``layers // 3`` and ``2 * layers // 3``."""
    return layers // 3, 2 * layers // 3


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples of ``x`` (B, ...) with probability ``drop_prob``, rescaling the rest."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class Cell(nn.Module):
    """One cell of a genotype.

    Args:
        pairs: The cell's eight ``(op, input)`` pairs.
        c_prev_prev: Channels of the input two back.
        c_prev: Channels of the previous cell's output.
        channels: ``C`` of this cell (its output has ``4C``).
        reduction: This cell halves the resolution.
        reduction_prev: The previous cell did (so the input two back is twice as large).
        affine: Learnable BN affine parameters in the ops.
        pool_bn: BN after the pools.
    """

    def __init__(self, pairs: tuple[tuple[str, int], ...], c_prev_prev: int, c_prev: int, channels: int,
                 reduction: bool, reduction_prev: bool, *, affine: bool = True, pool_bn: bool = False) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_prev_prev, channels) if reduction_prev
                            else ReLUConvBN(c_prev_prev, channels, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0)
        self.inputs = tuple(src for _, src in pairs)
        self.ops = nn.ModuleList(make_op(op, channels, 2 if reduction and src < 2 else 1, affine=affine,
                                         pool_bn=pool_bn) for op, src in pairs)
        self.multiplier = len(CONCAT)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        """``(B, c_prev_prev, H', W')``, ``(B, c_prev, H, W)`` -> ``(B, 4C, H / r, W / r)``."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(CELL_NODES):
            total = 0
            for k in (2 * node, 2 * node + 1):
                h = self.ops[k](states[self.inputs[k]])
                if self.training and drop_prob > 0 and not isinstance(self.ops[k], nn.Identity):
                    h = drop_path(h, drop_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS' ``AuxiliaryHeadCIFAR`` for 8x8 inputs: ``(B, C, 8, 8) -> (B, num_classes)``."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(channels, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class NetworkCIFAR(nn.Module):
    """The DARTS evaluation network of one genotype.

    Args:
        genotype: The architecture.
        C: Channels of the first stage (the stem outputs ``3C``).
        layers: Number of cells (reductions at ``layers // 3`` and ``2 * layers // 3``).
        num_classes: Classifier outputs.
        auxiliary: Build the auxiliary head (used in training only).
        drop_path_prob: Probability of dropping a non-identity op's output per sample in training.
        affine: Learnable BN affine parameters inside the cell ops (True in DARTS' evaluation
            network; False gives the search network's ops, as NASLib builds NAS-Bench-301 cells).
        pool_bn: A BN without affine after each pool (False in DARTS' evaluation network).
        in_channels: Input image channels.

    Forward:
        ``(B, in_channels, H, W)`` -> logits ``(B, num_classes)``; in training with the
        auxiliary head, ``(logits, aux_logits)``.

    Example:
        >>> from gcnas.spaces.darts import DartsSpace
        >>> net = NetworkCIFAR(DartsSpace().sample(0), C=4, layers=3)
        >>> net(torch.zeros(2, 3, 16, 16)).shape
        torch.Size([2, 10])
    """

    def __init__(self, genotype: Genotype, C: int = 36, layers: int = 20, num_classes: int = 10, *,
                 auxiliary: bool = False, drop_path_prob: float = 0.0, affine: bool = True, pool_bn: bool = False,
                 in_channels: int = 3) -> None:
        super().__init__()
        for name, value, low in (("C", C, 1), ("layers", layers, 1), ("num_classes", num_classes, 1),
                                 ("in_channels", in_channels, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInputError(f"NetworkCIFAR {name} must be an integer >= {low}, got {value!r}")
        if not 0.0 <= drop_path_prob < 1.0:
            raise InvalidInputError(f"drop_path_prob must lie in [0, 1), got {drop_path_prob!r}")
        if auxiliary and layers < 3:
            raise InvalidInputError(f"the auxiliary head needs layers >= 3 (it reads the second reduction), "
                                    f"got {layers}")
        self.genotype = genotype
        self.drop_path_prob = drop_path_prob
        self._aux_layer = 2 * layers // 3
        stem_channels = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(stem_channels))
        reductions = reduction_layers(layers)
        c_pp, c_p, c = stem_channels, stem_channels, C
        reduction_prev = False
        self.cells = nn.ModuleList()
        c_aux = c_p
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                c *= 2
            cell = Cell(genotype.reduce if reduction else genotype.normal, c_pp, c_p, c, reduction, reduction_prev,
                        affine=affine, pool_bn=pool_bn)
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c
            if i == self._aux_layer:
                c_aux = c_p
        self.auxiliary_head = AuxiliaryHead(c_aux, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self._aux_layer and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits if aux is None else (logits, aux)
