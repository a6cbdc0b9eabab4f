"""The weight-sharing supernet of the IMC macro space, in the style of Once-for-All.

:class:`MacroSuperNet` holds the largest network: a stem, then in each of the four stages
``cells`` blocks of *each* block type (three parallel branches: ``vgg``, ``basic`` and
``bottleneck`` layers differ in shape and role, so the types share no weights), every block
at the stage's full width (``stage_width(channels, s, 100)``) with ``7 x 7`` kernels, then the
classifier. A sub-network (a :class:`~gcnas.spaces.imc.MacroArch`) runs, in each stage:

- elastic depth: the first ``depth`` blocks of its block type (``depth <= cells``);
- elastic width: the first ``w`` output channels of every layer (``w = stage_width(channels,
  s, width)``; a bottleneck's inner layers the first ``max(1, (w + 1) // 2)``), each layer's
  input channels cut to what the layer before it produced;
- elastic kernel: the centre ``k x k`` of each ``7 x 7`` kernel (OFA's kernel transformation
  matrices are not used: the centre crop is what the standalone network inherits as is);
- BatchNorm over the first channels, with the full layer's running statistics sliced
  (scoring re-estimates them per sub-network: ``--bn-recalibrate``);
- a shortcut projection exactly where the standalone network has one (stride 2, or input
  and output channels differ: only a stage's first block can), the full-width projection
  sliced likewise; an identity elsewhere.

The classifier reads the first ``w_3`` of its input columns. :meth:`MacroSuperNet.subnet_state`
gives a sub-network's inherited weights as a state dict of the standalone
:class:`~gcnas.spaces.imc.network.MacroNetwork`, which then computes the same logits.

``MacroSuperNet.routes`` (:class:`MacroRoutes`) is what the training strategies of
``gcnas.supernet`` know of it. The space has no op weights over edges, so only the strategies
that draw paths (``uniform``) train it; the gradient strategies are refused when built.
The sandwich rule (largest, smallest and two random sub-networks summed into one weight
update) is not offered: a strategy's step runs one route, forward and backward
(``Strategy.train_step``), and spreading the four over consecutive steps would be another rule.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.imc.arch import (BLOCKS, DEPTHS, KERNELS, NUM_STAGES, WIDTHS, Block, MacroArch, Stage,
                                   format_macro, network_blocks, parse_macro)
from gcnas.spaces.imc.network import MacroNetwork

__all__ = ["ElasticConv2d", "ElasticBatchNorm2d", "ElasticBlock", "MacroRoutes", "MacroSuperNet"]


class ElasticConv2d(nn.Module):
    """A bias-free convolution stored at its largest shape, run on its first channels and centre kernel.

    Its one parameter is ``weight``, as ``nn.Conv2d``'s (initialised alike), so its state-dict
    keys are those of the standalone network's convolution.

    Args:
        in_channels: The most input channels.
        out_channels: The most output channels.
        kernel_size: The largest kernel side (odd).
        stride: Stride of every sub-network's use of it.

    Example:
        >>> conv = ElasticConv2d(8, 16, 7, stride=2)
        >>> conv(torch.zeros(1, 5, 8, 8), 12, 3).shape      # 5 -> 12 channels, the centre 3x3
        torch.Size([1, 12, 4, 4])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Conv2d's initialisation

    def forward(self, x: torch.Tensor, out_channels: int, kernel: int) -> torch.Tensor:
        """``(B, c, H, W) -> (B, out_channels, H', W')`` with the centre ``kernel x kernel`` of the
        first ``out_channels x c`` filters (padding ``kernel // 2``)."""
        start = (self.weight.shape[-1] - kernel) // 2
        weight = self.weight[:out_channels, :x.shape[1], start:start + kernel, start:start + kernel]
        return F.conv2d(x, weight, None, self.stride, kernel // 2)


class ElasticBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm over the first ``x.shape[1]`` of its channels: their affine parameters and running
    statistics (updated in place in training, as ``nn.BatchNorm2d`` updates all of them).

    Example:
        >>> bn = ElasticBatchNorm2d(8)
        >>> bn(torch.randn(4, 3, 2, 2)).shape, int(bn.num_batches_tracked)
        (torch.Size([4, 3, 2, 2]), 1)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average, as BN recalibration asks
                factor = 1.0 / float(self.num_batches_tracked)
        return F.batch_norm(x, self.running_mean[:c], self.running_var[:c], self.weight[:c], self.bias[:c],
                            self.training, factor, self.eps)


class ElasticBlock(nn.Module):
    """One block position of one block type, stored at its largest shape.

    Its layers are named as :class:`~gcnas.spaces.imc.network.MacroBlock`'s (``conv1``, ``bn1``, ...,
    ``shortcut.0``, ``shortcut.1``). A stage's first block of a residual type holds a shortcut
    projection even when the largest network needs none (stage 0 at full width): a narrower
    sub-network does.

    Args:
        largest: The block in the largest network (``network_blocks`` of the widest, deepest
            architecture with 7x7 kernels).

    Example:
        >>> from gcnas.spaces.imc.arch import network_blocks, parse_macro
        >>> arch = parse_macro("basic-d1-k3-w40/basic-d1-k3-w40/basic-d1-k3-w40/basic-d1-k3-w40")
        >>> block = ElasticBlock(network_blocks(parse_macro("basic-d1-k7-w100/" * 3 + "basic-d1-k7-w100"), 8)[0])
        >>> block(torch.zeros(1, 8, 4, 4), network_blocks(arch, 8)[0]).shape
        torch.Size([1, 3, 4, 4])
    """

    def __init__(self, largest: Block) -> None:
        super().__init__()
        for i, (c_in, c_out, kernel, stride) in enumerate(largest.convs, start=1):
            self.add_module(f"conv{i}", ElasticConv2d(c_in, c_out, kernel, stride))
            self.add_module(f"bn{i}", ElasticBatchNorm2d(c_out))
        self.shortcut = (nn.ModuleList([ElasticConv2d(largest.in_channels, largest.width, 1, largest.stride),
                                        ElasticBatchNorm2d(largest.width)])
                         if largest.residual and largest.index == 0 else None)

    def forward(self, x: torch.Tensor, spec: Block) -> torch.Tensor:
        """``(B, spec.in_channels, H, W) -> (B, spec.width, H', W')``: the block ``spec`` of a sub-network."""
        out = x
        for i, (_, c_out, kernel, _) in enumerate(spec.convs, start=1):
            out = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(out, c_out, kernel))
            if i == len(spec.convs) and spec.residual:
                out = out + (self.shortcut[1](self.shortcut[0](x, spec.width, 1)) if spec.projection else x)
            out = F.relu(out)
        return out


class MacroRoutes:
    """The routes of the IMC supernet, as the strategies of ``gcnas.supernet`` use them.

    A path is a :class:`~gcnas.spaces.imc.MacroArch` whose stages are at most ``max_depth``
    blocks deep. The "ops" a strategy may restrict (``allowed``, ``--exclude-ops``) are the
    block types (:data:`~gcnas.spaces.imc.BLOCKS`). There are no architecture weights
    (``arch_shape`` is None): the gradient strategies cannot train this supernet.

    Args:
        max_depth: The most blocks per stage (the supernet's ``cells``).

    Example:
        >>> routes = MacroRoutes(max_depth=2)
        >>> block = routes.fair_paths(torch.Generator().manual_seed(0), torch.arange(3))
        >>> sorted(a.stages[0].block for a in block)          # stage 0 takes every block type once
        ['basic', 'bottleneck', 'vgg']
        >>> max(s.depth for a in block for s in a.stages) <= 2
        True
    """

    name = "imc"
    arch_shape: tuple[int, int] | None = None
    op_names: tuple[str, ...] = BLOCKS
    path_ops: tuple[int, ...] = tuple(range(len(BLOCKS)))
    samplings: tuple[str, ...] = ("code", "canonical", "fair")

    def __init__(self, max_depth: int = max(DEPTHS)) -> None:
        if isinstance(max_depth, bool) or max_depth not in DEPTHS:
            raise InvalidInputError(f"max_depth must be one of {', '.join(map(str, DEPTHS))}, got {max_depth!r}")
        self.max_depth = max_depth

    def sample_path(self, generator: torch.Generator, allowed: torch.Tensor, sampling: str = "code") -> MacroArch:
        """A network drawn uniformly over the decisions (depth at most ``max_depth``), block types in
        ``allowed`` (ids into :data:`~gcnas.spaces.imc.BLOCKS`).

        ``code`` and ``canonical`` are the same draw: every decision vector is its own network.
        """
        if sampling not in ("code", "canonical"):
            raise InvalidInputError(f"unknown sampling {sampling!r} for sample_path; choose code or canonical")
        self._check_allowed(allowed)
        choose = lambda n: int(torch.randint(n, (), generator=generator))  # noqa: E731
        return self._arch(choose, lambda s: int(allowed[choose(len(allowed))]))

    def fair_paths(self, generator: torch.Generator, allowed: torch.Tensor) -> list[MacroArch]:
        """``len(allowed)`` networks in which each stage takes every allowed block type once (FairNAS's
        strict fairness over the block types); depth, kernel and width are drawn uniformly at every step."""
        self._check_allowed(allowed)
        perms = [allowed[torch.randperm(len(allowed), generator=generator)].tolist() for _ in range(NUM_STAGES)]
        choose = lambda n: int(torch.randint(n, (), generator=generator))  # noqa: E731
        return [self._arch(choose, lambda s, step=step: perms[s][step]) for step in range(len(allowed))]

    def sample_arch(self, rng: np.random.Generator) -> MacroArch:
        """A network this supernet can run, every decision uniform (depth at most ``max_depth``): what
        ``gcnas supernet sample`` scores (``gcnas.supernet.score.sample_distinct``'s ``draw``)."""
        choose = lambda n: int(rng.integers(n))  # noqa: E731
        return self._arch(choose, lambda s: choose(len(BLOCKS)))

    def check(self, arch: MacroArch) -> None:
        """Refuse a network this supernet cannot run.

        Raises:
            InvalidInputError: ``arch`` is not a MacroArch, or a stage is deeper than ``max_depth``.
        """
        if not isinstance(arch, MacroArch):
            raise InvalidInputError(f"an IMC route is a MacroArch, got {type(arch).__name__}")
        deep = [s for s, stage in enumerate(arch.stages) if stage.depth > self.max_depth]
        if deep:
            raise InvalidInputError(f"{format_macro(arch)} has stage(s) {deep} deeper than the supernet's "
                                    f"{self.max_depth} block(s) per stage (its cells); train one with --cells "
                                    f"{max(arch.stages[s].depth for s in deep)} or more")

    def path_state(self, path: MacroArch) -> str:
        """The network's string (what a checkpoint stores)."""
        return format_macro(path)

    def path_from_state(self, state: str) -> MacroArch:
        """Inverse of :meth:`path_state`."""
        return parse_macro(state)

    def derive(self, weights: torch.Tensor) -> MacroArch:
        """Refused: the supernet has no architecture weights to derive from."""
        raise self._no_weights()

    def one_hot(self, path: MacroArch) -> torch.Tensor:
        """Refused: the supernet has no architecture weights."""
        raise self._no_weights()

    def discrete_route(self, path: MacroArch, weights: torch.Tensor, *, all_ops: bool = False) -> MacroArch:
        """Refused: the supernet has no architecture weights."""
        raise self._no_weights()

    def _no_weights(self) -> InvalidInputError:
        return InvalidInputError("the imc supernet has no architecture weights (no edges x ops); train it with "
                                 "--strategy uniform and score its sub-networks with `gcnas supernet sample`")

    def _check_allowed(self, allowed: torch.Tensor) -> None:
        bad = [int(k) for k in allowed.tolist() if int(k) not in self.path_ops]
        if bad or len(allowed) == 0:
            raise InvalidInputError(f"an IMC path draws block types {list(self.path_ops)} ({', '.join(BLOCKS)}), "
                                    f"got {allowed.tolist()}")

    def _arch(self, choose: Callable[[int], int], block_of: Callable[[int], int]) -> MacroArch:
        """Stage ``s`` of block type ``block_of(s)``, its other decisions ``choose(n)`` of ``n`` values."""
        depths = tuple(d for d in DEPTHS if d <= self.max_depth)
        return MacroArch(tuple(Stage(BLOCKS[block_of(s)], depths[choose(len(depths))], KERNELS[choose(len(KERNELS))],
                                     WIDTHS[choose(len(WIDTHS))]) for s in range(NUM_STAGES)))


class MacroSuperNet(nn.Module):
    """The largest IMC network, every block type in every stage, run as any of its sub-networks.

    Args:
        channels: The stem's width and stage 0's widest width (stage ``s`` stores
            ``channels * 2**s`` channels).
        cells: The most blocks a stage may have (1..4): sub-networks deeper than that are refused.
        num_classes: Classifier outputs.
        in_channels: Input image channels.

    Example:
        >>> from gcnas.spaces.imc.arch import parse_macro
        >>> net = MacroSuperNet(channels=4, cells=2)
        >>> arch = parse_macro("basic-d2-k3-w60/vgg-d1-k5-w100/bottleneck-d2-k7-w20/basic-d1-k3-w80")
        >>> net(torch.zeros(2, 3, 8, 8), arch).shape
        torch.Size([2, 10])
        >>> sorted(net.subnet_state(arch))[:3]            # the keys of MacroNetwork(arch, channels=4)
        ['classifier.bias', 'classifier.weight', 'stages.0.0.bn1.bias']
    """

    routes: MacroRoutes = MacroRoutes()
    """What the training strategies know of an IMC supernet (an instance's own: its ``cells`` bound the depth)."""

    def __init__(self, channels: int = 16, cells: int = 4, num_classes: int = 10, *, in_channels: int = 3) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("cells", cells), ("num_classes", num_classes),
                            ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"MacroSuperNet {name} must be a positive integer, got {value!r}")
        if cells > max(DEPTHS):
            raise InvalidInputError(f"MacroSuperNet cells is the most blocks per stage, at most {max(DEPTHS)}; "
                                    f"got {cells}")
        self.channels, self.num_cells, self.num_classes, self.in_channels = channels, cells, num_classes, in_channels
        self.routes = MacroRoutes(cells)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        largest = {block: network_blocks(MacroArch((Stage(block, cells, max(KERNELS), max(WIDTHS)),) * NUM_STAGES),
                                         channels) for block in BLOCKS}
        self.stages = nn.ModuleList(
            nn.ModuleDict({block: nn.ModuleList(ElasticBlock(b) for b in largest[block] if b.stage == s)
                           for block in BLOCKS})
            for s in range(NUM_STAGES))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(largest[BLOCKS[0]][-1].width, num_classes)

    @property
    def shape(self) -> dict[str, int]:
        """What must match for a checkpoint to load."""
        return {"channels": self.channels, "cells": self.num_cells, "num_classes": self.num_classes}

    def forward(self, x: torch.Tensor, route: MacroArch) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``x`` ``(B, in_channels, H, W)`` through the sub-network ``route``.

        Raises:
            InvalidInputError: ``route`` is not a MacroArch, or is deeper than ``cells``.
        """
        self.routes.check(route)
        out = self.stem(x)
        for spec in network_blocks(route, self.channels):
            out = self.stages[spec.stage][spec.block][spec.index](out, spec)
        out = torch.flatten(self.pool(out), 1)
        return F.linear(out, self.classifier.weight[:, :out.shape[1]], self.classifier.bias)

    def subnet_state(self, arch: MacroArch) -> dict[str, torch.Tensor]:
        """The inherited weights of ``arch``: a state dict of the standalone network
        ``MacroNetwork(arch, channels, num_classes, in_channels)``, which then computes what
        ``self(x, arch)`` computes (in eval mode; in training mode too, but that its BatchNorm
        updates its own statistics).

        Args:
            arch: The sub-network.

        Returns:
            Each of the network's state-dict entries cut from the supernet's (first channels,
            centre kernel), copied.

        Raises:
            InvalidInputError: ``arch`` is not a MacroArch, or is deeper than ``cells``.
        """
        self.routes.check(arch)
        with torch.device("meta"):  # the network's keys and shapes, no weights allocated
            target = MacroNetwork(arch, self.channels, self.num_classes, self.in_channels).state_dict()
        own = self.state_dict()
        state = {}
        for key, like in target.items():
            parts = key.split(".")
            if parts[0] == "stages":  # stages.S.B.rest -> stages.S.<block type>.B.rest
                parts.insert(2, arch.stages[int(parts[1])].block)
            state[key] = _crop(own[".".join(parts)], like.shape)
        return state


def _crop(source: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A copy of ``source`` cut to ``shape``: the first entries of dimensions 0 and 1 (channels,
    classes), the centre of the others (kernels)."""
    starts = [0 if d < 2 else (size - n) // 2 for d, (size, n) in enumerate(zip(source.shape, shape))]
    return source[tuple(slice(start, start + n) for start, n in zip(starts, shape))].clone()
