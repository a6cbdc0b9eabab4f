"""The IMC macro space: CNNs of adaptable depth from VGG- and ResNet-style blocks, searched for
accuracy and in-memory-computing latency / energy.

- ``arch.py``: :class:`MacroArch` (four :class:`Stage` values), its one-line notation and the
  16 categorical decisions.
"""

from gcnas.spaces.imc.arch import (BLOCKS, DECISIONS, DEPTHS, KERNELS, NUM_ARCHS, NUM_STAGES, WIDTHS, MacroArch,
                                   Stage, format_macro, parse_macro, stage_width)

__all__ = ["BLOCKS", "DEPTHS", "KERNELS", "WIDTHS", "NUM_STAGES", "NUM_ARCHS", "DECISIONS", "Stage", "MacroArch",
           "parse_macro", "format_macro", "stage_width"]
