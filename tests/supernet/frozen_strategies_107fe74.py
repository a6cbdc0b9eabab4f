# Frozen copy of gcnas/supernet/strategies.py as of commit 107fe74 (last changed in d895f31), before the
# strategies took their weight shape, path draws and derivation from the supernet (`SuperNet.routes`).
# tests/supernet/test_nb201_regression.py runs it beside the current strategies and requires equal results
# on NAS-Bench-201. Do not edit: it is the oracle, not library code.

"""Training strategies of the supernet: one small class each, one interface.

A strategy decides which route (an ``Arch`` or a ``(6, 5)`` op-weight tensor) each
training step takes and how the architecture parameters (if any) learn:

- ``uniform``: single-path one-shot, one architecture drawn uniformly per step.
- ``gaea``: GAEA (Li et al., 2021) — op weights on the simplex updated by exponentiated
  gradient (mirror descent); single-level (same batch as the weights) by default,
  ``bilevel=True`` updates them on validation batches instead.
- ``darts``: softmax relaxation, first-order, Adam on the logits (bilevel by default).
- ``snas``: Gumbel-softmax samples with a temperature annealed per epoch (single-level).
- ``nasp``: NASP (Yao et al., 2020) — continuous op weights in the box ``[0, 1]``, but every
  forward and backward pass runs only the discrete architecture of their proximal step (one
  op per edge); bilevel by default.

The base class does the plumbing (:meth:`Strategy.train_step`); subclasses implement
:meth:`Strategy.route` and, for gradient strategies, :meth:`Strategy.update_arch`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.registry import Registry
from gcnas.spaces.nb201 import EDGES, OPS, Arch
from gcnas.spaces.nb201.supernet import DiscreteRoute

__all__ = ["Strategy", "Uniform", "GAEA", "DARTS", "SNAS", "NASP", "STRATEGIES", "make_strategy", "register_strategy"]

_REGISTRY: Registry[Strategy] = Registry("strategy")
STRATEGIES: dict[str, type[Strategy]] = _REGISTRY.classes
"""Every registered strategy by name (the registry's own dict)."""


def register_strategy(name: str) -> Callable[[type[Strategy]], type[Strategy]]:
    """Class decorator adding a strategy to :data:`STRATEGIES` under ``name`` (duplicates rejected).

    Args:
        name: The ``--strategy`` name.

    Returns:
        The decorator.
    """
    return _REGISTRY.register(name)


def make_strategy(name: str, **kwargs: Any) -> Strategy:
    """The strategy called ``name`` (uniform, gaea, darts, snas, nasp) built with ``kwargs``.

    Args:
        name: A key of :data:`STRATEGIES`.
        **kwargs: Passed to the class.

    Returns:
        The new strategy.
    """
    return _REGISTRY.make(name, **kwargs)


class Strategy:
    """Base class: routes training steps and learns architecture parameters.

    Args:
        seed: Seed of the strategy's own random stream (architecture draws, Gumbel noise).
        bilevel: Update architecture parameters on validation batches (bilevel) instead of
            on the training batch (single-level).
        grad_clip: Gradient-norm clip of the network weights.
    """

    name = "base"
    bilevel = False

    def __init__(self, *, seed: int = 0, bilevel: bool | None = None, grad_clip: float = 5.0) -> None:
        self.seed = seed
        if bilevel is not None:
            self.bilevel = bool(bilevel)
        self.grad_clip = grad_clip
        self.generator = torch.Generator().manual_seed(seed)

    # -- hooks ------------------------------------------------------------------------
    def route(self) -> Arch | torch.Tensor | DiscreteRoute:
        """What the next training forward pass runs."""
        raise NotImplementedError

    def weight_route(self) -> Arch | torch.Tensor | DiscreteRoute:
        """What the forward pass of the weight update runs (by default :meth:`route`)."""
        return self.route()

    def update_arch(self) -> None:
        """Apply the gradient now in the architecture parameters (gradient strategies)."""

    def arch_parameters(self) -> list[torch.Tensor]:
        """Tensors holding the architecture parameters (empty for uniform)."""
        return []

    def probabilities(self) -> torch.Tensor | None:
        """``(6, 5)`` op distribution per edge, or ``None`` for strategies without one."""
        return None

    def start_epoch(self, epoch: int, epochs: int) -> None:
        """Called before each epoch (0-based) of ``epochs``."""

    # -- plumbing ---------------------------------------------------------------------
    @property
    def needs_valid(self) -> bool:
        """Whether :meth:`train_step` wants a validation batch."""
        return self.bilevel and bool(self.arch_parameters())

    def to(self, device: torch.device | str) -> Strategy:
        """Move the architecture parameters to ``device``."""
        for p in self.arch_parameters():
            p.data = p.data.to(device)
        return self

    def train_step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer,
                   valid: tuple[torch.Tensor, torch.Tensor] | None = None,
                   autocast: Callable[[], Any] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: (bilevel) architecture update on ``valid``, then a weight update.

        Args:
            model: The supernet (possibly wrapped in DistributedDataParallel).
            x: ``(N, 3, H, W)`` training images.
            y: ``(N,)`` labels.
            optimizer: The optimizer of the network weights.
            valid: A validation batch, used when :attr:`needs_valid`.
            autocast: A context-manager factory for mixed precision, or ``None``.

        Returns:
            The training loss (scalar, detached) and the logits ``(N, classes)``.
        """
        autocast = autocast or _null_context
        if self.needs_valid and valid is not None:
            self._zero_arch_grad()
            with autocast():
                loss_v = F.cross_entropy(model(valid[0], self.route()), valid[1])
            loss_v.backward()
            self.update_arch()
        optimizer.zero_grad(set_to_none=True)
        self._zero_arch_grad()
        with autocast():
            logits = model(x, self.weight_route())
            loss = F.cross_entropy(logits.float(), y)
        loss.backward()
        if self.grad_clip:
            nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], self.grad_clip)
        optimizer.step()
        if not self.needs_valid:
            self.update_arch()
        return loss.detach(), logits.detach()

    def _zero_arch_grad(self) -> None:
        for p in self.arch_parameters():
            p.grad = None

    def _all_reduce_arch_grad(self) -> None:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            world = torch.distributed.get_world_size()
            for p in self.arch_parameters():
                if p.grad is not None:
                    torch.distributed.all_reduce(p.grad)
                    p.grad /= world

    def entropy(self) -> float | None:
        """Mean entropy (nats) of the per-edge op distributions; ``log 5`` is uniform."""
        probs = self.probabilities()
        if probs is None:
            return None
        probs = probs.detach().double().clamp_min(1e-12)
        return float(-(probs * probs.log()).sum(1).mean())

    def max_weight(self) -> float | None:
        """Mean over edges of the largest op probability (1 means one-hot)."""
        probs = self.probabilities()
        return None if probs is None else float(probs.detach().max(1).values.mean())

    def derive(self) -> Arch:
        """The chosen architecture: the most probable op on each edge."""
        probs = self.probabilities()
        if probs is None:
            raise InvalidInputError(f"strategy {self.name!r} has no architecture weights to derive from; "
                                    "train with --strategy gaea, darts, snas or nasp")
        return Arch(tuple(int(i) for i in probs.detach().argmax(1).tolist()))

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: parameters, optimizer, random stream."""
        return {"name": self.name, "generator": self.generator.get_state(),
                "arch": [p.detach().cpu().clone() for p in self.arch_parameters()], **self._extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        if state.get("name") != self.name:
            raise InvalidInputError(f"checkpoint was trained with strategy {state.get('name')!r}, not {self.name!r}")
        self.generator.set_state(state["generator"])
        for p, saved in zip(self.arch_parameters(), state["arch"]):
            p.data.copy_(saved.to(p.device))
        self._load_extra_state(state)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass


class _null_context:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@register_strategy("uniform")
class Uniform(Strategy):
    """Single-path one-shot training: one architecture drawn per step.

    Args:
        sampling: ``fair`` (the default; it ranked real cells best on CIFAR-10, see
            docs/supernet.md), ``code`` draws each edge's op uniformly (every one of the 15,625 codes
            equally often, so functions with many isomorphic codes, the dead-edge ones, are
            trained most); ``canonical`` draws an isomorphism class uniformly and runs its
            representative; ``fair`` (FairNAS's strict fairness) walks, per edge, through a
            fresh random permutation of the allowed ops, so within each group of
            ``len(ops)`` consecutive steps every op of every edge is trained exactly once.
        exclude_ops: Ops never drawn (e.g. ``("none",)``: a zero edge trains no weight).
        **kwargs: Passed to :class:`Strategy`.
    """

    SAMPLINGS = ("code", "canonical", "fair")

    def __init__(self, *, sampling: str = "fair", exclude_ops: tuple[str, ...] | list[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if sampling not in self.SAMPLINGS:
            raise InvalidInputError(f"unknown sampling {sampling!r}; choose one of {', '.join(self.SAMPLINGS)}")
        unknown = [op for op in exclude_ops if op not in OPS]
        if unknown:
            raise InvalidInputError(f"cannot exclude unknown op(s) {unknown}; ops are {', '.join(OPS)}")
        self.sampling = sampling
        self.allowed = torch.tensor([k for k, op in enumerate(OPS) if op not in exclude_ops])
        if len(self.allowed) == 0:
            raise InvalidInputError("exclude_ops leaves no op to train")
        self._pool: torch.Tensor | None = None
        self._fair_queue: list[Arch] = []

    def _canonical_pool(self) -> torch.Tensor:
        if self._pool is None:
            import numpy as np

            from gcnas.spaces.nb201 import NB201Space

            representatives = np.unique(NB201Space().canonical_codes())
            allowed = set(self.allowed.tolist())
            keep = [int(c) for c in representatives if set(Arch.from_code(int(c)).ops) <= allowed]
            self._pool = torch.tensor(keep)
        return self._pool

    def route(self) -> Arch:
        if self.sampling == "canonical":
            pool = self._canonical_pool()
            return Arch.from_code(int(pool[torch.randint(0, len(pool), (1,), generator=self.generator)]))
        if self.sampling == "fair":
            if not self._fair_queue:
                perms = torch.stack([self.allowed[torch.randperm(len(self.allowed), generator=self.generator)]
                                     for _ in EDGES])
                self._fair_queue = [Arch(tuple(int(i) for i in perms[:, step])) for step in range(len(self.allowed))]
            return self._fair_queue.pop(0)
        ops = self.allowed[torch.randint(0, len(self.allowed), (len(EDGES),), generator=self.generator)]
        return Arch(tuple(int(i) for i in ops))

    def _extra_state(self) -> dict[str, Any]:
        return {"fair_queue": [a.code for a in self._fair_queue]}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self._fair_queue = [Arch.from_code(c) for c in state.get("fair_queue", [])]


class _Logits(Strategy):
    """Shared by DARTS and SNAS: logits ``alpha (6, 5)`` learned by Adam."""

    def __init__(self, *, arch_lr: float = 3e-4, arch_weight_decay: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = (1e-3 * torch.randn(len(EDGES), len(OPS), generator=self.generator)).requires_grad_()
        self.optimizer = torch.optim.Adam([self.alpha], lr=arch_lr, betas=(0.5, 0.999),
                                          weight_decay=arch_weight_decay)

    def arch_parameters(self) -> list[torch.Tensor]:
        return [self.alpha]

    def probabilities(self) -> torch.Tensor:
        return F.softmax(self.alpha.detach(), dim=-1)

    def update_arch(self) -> None:
        if self.alpha.grad is None:
            return
        self._all_reduce_arch_grad()
        self.optimizer.step()

    def _extra_state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])


@register_strategy("darts")
class DARTS(_Logits):
    """DARTS, first order: ``softmax(alpha)`` mixes the ops; bilevel by default."""

    bilevel = True

    def route(self) -> torch.Tensor:
        return F.softmax(self.alpha, dim=-1)


@register_strategy("snas")
class SNAS(_Logits):
    """SNAS: Gumbel-softmax relaxed samples, temperature annealed from ``tau_max`` to ``tau_min``.

    Args:
        tau_max: Temperature of the first epoch.
        tau_min: Temperature of the last epoch (geometric schedule in between).
        arch_lr: Adam learning rate of the logits.
        **kwargs: Passed to :class:`Strategy`.
    """

    def __init__(self, *, tau_max: float = 1.0, tau_min: float = 0.1, arch_lr: float = 3e-3, **kwargs: Any) -> None:
        super().__init__(arch_lr=arch_lr, **kwargs)
        if not 0 < tau_min <= tau_max:
            raise InvalidInputError(f"need 0 < tau_min <= tau_max, got tau_min={tau_min}, tau_max={tau_max}")
        self.tau_max, self.tau_min, self.tau = tau_max, tau_min, tau_max

    def start_epoch(self, epoch: int, epochs: int) -> None:
        fraction = epoch / max(epochs - 1, 1)
        self.tau = self.tau_max * (self.tau_min / self.tau_max) ** fraction

    def route(self) -> torch.Tensor:
        uniform = torch.rand(self.alpha.shape, generator=self.generator).clamp(1e-10, 1 - 1e-10)
        gumbel = -torch.log(-torch.log(uniform)).to(self.alpha.device)
        return F.softmax((self.alpha + gumbel) / self.tau, dim=-1)

    def _extra_state(self) -> dict[str, Any]:
        return {**super()._extra_state(), "tau": self.tau}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        super()._load_extra_state(state)
        self.tau = state["tau"]


@register_strategy("gaea")
class GAEA(Strategy):
    """GAEA: op weights on the simplex, exponentiated-gradient (mirror descent) updates.

    ``w <- w * exp(-arch_lr * grad); w <- w / sum(w)`` per edge. Single-level by default
    (the weights and the architecture learn from the same training batch).

    Args:
        arch_lr: Step size of the exponentiated gradient.
        **kwargs: Passed to :class:`Strategy` (``bilevel=True`` for the bilevel variant).
    """

    def __init__(self, *, arch_lr: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not arch_lr > 0:
            raise InvalidInputError(f"arch_lr must be positive, got {arch_lr}")
        self.arch_lr = arch_lr
        self.weights = torch.full((len(EDGES), len(OPS)), 1.0 / len(OPS)).requires_grad_()

    def arch_parameters(self) -> list[torch.Tensor]:
        return [self.weights]

    def probabilities(self) -> torch.Tensor:
        return self.weights.detach()

    def route(self) -> torch.Tensor:
        return self.weights

    @torch.no_grad()
    def update_arch(self) -> None:
        if self.weights.grad is None:
            return
        self._all_reduce_arch_grad()
        step = (-self.arch_lr * self.weights.grad).clamp(-50.0, 50.0)
        logw = self.weights.clamp_min(1e-30).log() + step
        self.weights.copy_(torch.softmax(logw, dim=-1))


@register_strategy("nasp")
class NASP(Strategy):
    """NASP (Yao et al., AAAI 2020): continuous architecture, discrete forward and backward.

    The architecture parameters ``A`` (``(6, 5)``, one row per edge) live in the box
    ``[0, 1]``, initialised at ``0.5`` plus ``1e-3`` noise as in the official code. Each step:

    1. proximal step onto one op per edge: ``A_bar = one_hot(argmax A)`` (with probability
       ``explore``, a uniformly drawn op per edge instead: the official code's e-greedy);
    2. forward and backward of the supernet along ``A_bar``, on a validation batch (bilevel,
       the default) or on the training batch (``bilevel=False``);
    3. the gradient with respect to ``A_bar`` updates ``A`` (Adam, as in the official code),
       and ``A`` is clipped back into ``[0, 1]`` (the proximal step of the box);
    4. the network weights learn on the training batch along the refreshed ``A_bar``: only
       the chosen op of each edge runs, forward and backward.

    ``arch_grad`` chooses which entries of ``A_bar`` get a gradient in step 2:

    - ``"full"`` (default): every entry, the paper's ``d loss / d A_bar`` at the discrete
      point. The other ops of each edge must be evaluated for it (``<d loss / d node,
      op_k(source)>``), forward only: no gradient reaches their parameters or flows back
      through them, and backpropagation runs along the chosen path alone. Their BatchNorm
      statistics update, as in the official code's architecture step (which also runs every
      op). On a tiny frozen supernet it lowered the validation loss of the derived
      architecture from 6 of 6 random starts (``benchmarks/supernet_nasp.py``).
    - ``"path"``: only the chosen ops run, in step 2 as in step 4, so every pass costs one
      path; only the chosen entries get a gradient (whether the loss wants that op's output
      larger or smaller). A harmful op is pushed down until another takes its edge, a helpful
      one pushed up; ``none`` (zero output) never gets a gradient, so an edge whose argmax
      becomes ``none`` keeps it unless ``explore > 0``. On the same tiny problem it lowered
      the loss from 1 of 6 starts, and 2 of 6 ended on a cell with no path to the output.

    Reported probabilities (entropy, max weight, ``derive``) are ``A`` normalised per edge.

    Args:
        arch_lr: Adam learning rate of ``A`` (about the box distance one step moves an entry).
        arch_grad: ``"full"`` or ``"path"``, see above.
        explore: Probability that a step runs a uniformly drawn path instead of the argmax.
        **kwargs: Passed to :class:`Strategy` (``bilevel=False`` for the single-level variant).

    Example:
        >>> nasp = NASP(seed=0)
        >>> route = nasp.route()          # a DiscreteRoute: one-hot weights of argmax A
        >>> route.arch == nasp.derive(), route.weights.sum(1).tolist()
        (True, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    """

    bilevel = True
    ARCH_GRADS = ("full", "path")

    def __init__(self, *, arch_lr: float = 3e-3, arch_grad: str = "full", explore: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not arch_lr > 0:
            raise InvalidInputError(f"arch_lr must be positive, got {arch_lr}")
        if arch_grad not in self.ARCH_GRADS:
            raise InvalidInputError(f"unknown arch_grad {arch_grad!r}; choose one of {', '.join(self.ARCH_GRADS)}")
        if not 0.0 <= explore <= 1.0:
            raise InvalidInputError(f"explore must be a probability in [0, 1], got {explore}")
        self.arch_grad, self.explore = arch_grad, float(explore)
        noise = 1e-3 * torch.randn(len(EDGES), len(OPS), generator=self.generator)
        self.alpha = (0.5 + noise).clamp(0.0, 1.0).requires_grad_()
        self.optimizer = torch.optim.Adam([self.alpha], lr=arch_lr, betas=(0.5, 0.999))
        self._discrete: torch.Tensor | None = None

    def arch_parameters(self) -> list[torch.Tensor]:
        return [self.alpha]

    def probabilities(self) -> torch.Tensor:
        a = self.alpha.detach()
        total = a.sum(1, keepdim=True)
        return torch.where(total > 0, a / total.clamp_min(1e-12), torch.full_like(a, 1.0 / len(OPS)))

    def discrete(self) -> Arch:
        """The proximal step of ``A``: the op of largest weight on each edge."""
        return Arch(tuple(int(i) for i in self.alpha.detach().argmax(1).tolist()))

    def route(self) -> DiscreteRoute:
        return self._route(all_ops=self.arch_grad == "full", arch_grad=True)

    def weight_route(self) -> DiscreteRoute:
        # the bilevel weight update needs no gradient of A_bar, hence no other op either
        return self.route() if not self.needs_valid else self._route(all_ops=False, arch_grad=False)

    def _route(self, *, all_ops: bool, arch_grad: bool) -> DiscreteRoute:
        arch = self.discrete()
        if self.explore and float(torch.rand((), generator=self.generator)) < self.explore:
            arch = Arch(tuple(int(i) for i in torch.randint(0, len(OPS), (len(EDGES),), generator=self.generator)))
        one_hot = F.one_hot(torch.tensor(arch.ops), len(OPS)).to(self.alpha.device, self.alpha.dtype)
        self._discrete = one_hot.requires_grad_(arch_grad)
        return DiscreteRoute(arch, self._discrete, all_ops=all_ops)

    @torch.no_grad()
    def update_arch(self) -> None:
        if self._discrete is None or self._discrete.grad is None:
            return
        self.alpha.grad = self._discrete.grad.clone()
        self._discrete = None
        self._all_reduce_arch_grad()
        self.optimizer.step()
        self.alpha.clamp_(0.0, 1.0)

    def to(self, device: torch.device | str) -> NASP:
        super().to(device)
        for state in self.optimizer.state.values():  # Adam's moments follow A (its step count stays)
            for key, value in state.items():
                if key != "step" and isinstance(value, torch.Tensor):
                    state[key] = value.to(device)
        return self

    def _extra_state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
