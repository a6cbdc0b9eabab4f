"""Hook-based params / FLOPs counting under the torchstat and macs rules, checked by hand."""

from __future__ import annotations

import pytest
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.spaces.counts import count_module


def test_conv_bn_relu_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.BatchNorm2d(8, affine=False))
    stat = count_module(model, (3, 4, 4), rule="torchstat")
    conv = 9 * 3 * 8 * 16
    assert stat.params == 216 + 16
    assert stat.flops == conv + 2 * 128 + 128 + 128
    macs = count_module(model, (3, 4, 4), rule="macs")
    assert macs == (216 + 16, conv)


def test_depthwise_pool_linear_and_adaptive_pool():
    model = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False),
                          nn.AvgPool2d(3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2))
    stat = count_module(model, (4, 8, 8))
    dw = 9 * 4 * 1 * 64
    pool = 4 * 4 * 4 * 9            # output 4x4, 9 per output element
    adaptive = 4 * (4 + 1) * (4 + 1)  # torchstat's (window + 1)^2
    assert stat.flops == dw + pool + adaptive + 8
    assert count_module(model, (4, 8, 8), rule="macs").flops == dw + 2 * (4 + 1)


def test_modules_that_do_not_run_count_nothing_under_torchstat():
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(3 * 2 * 2, 2)
            self.spare = nn.Linear(100, 100)

        def forward(self, x):
            return self.used(x.flatten(1))

    model = WithSpare().train()
    assert count_module(model, (3, 2, 2)).params == 12 * 2 + 2
    assert count_module(model, (3, 2, 2), rule="macs").params == 26 + 100 * 101
    assert model.training  # the mode is restored


def test_unknown_rule():
    with pytest.raises(InvalidInputError, match="torchstat"):
        count_module(nn.ReLU(), rule="thop")
