"""Training strategies of the supernet: one small class each, one interface.

A strategy decides which route (a single path, or an op-weight tensor of the supernet's
``arch_shape``) each training step takes and how the architecture parameters (if any) learn:

- ``uniform``: single-path one-shot, one architecture drawn uniformly per step.
- ``gaea``: GAEA (Li et al., 2021) — op weights on the simplex updated by exponentiated
  gradient (mirror descent); single-level (same batch as the weights) by default,
  ``bilevel=True`` updates them on validation batches instead.
- ``darts``: softmax relaxation, first-order, Adam on the logits (bilevel by default).
- ``snas``: Gumbel-softmax samples with a temperature annealed per epoch (single-level).
- ``nasp``: NASP (Yao et al., 2020) — continuous op weights in the box ``[0, 1]``, but every
  forward and backward pass runs only the discrete architecture of their proximal step (one
  op per edge, and on a space whose nodes choose their inputs, two edges per node); bilevel by default.

The base class does the plumbing (:meth:`Strategy.train_step`); subclasses implement
:meth:`Strategy.route` and, for gradient strategies, :meth:`Strategy.update_arch`.

Strategies name no search space: what they know of a supernet is its ``routes``, a
:class:`RouteSpace` (the shape of its weights, how to draw a path, how to derive an
architecture from weights, NASP's discrete route). ``SuperNet.routes`` (NAS-Bench-201,
the default), ``DartsSuperNet.routes`` (:mod:`gcnas.spaces.darts.supernet`) and
``MacroSuperNet.routes`` (:mod:`gcnas.spaces.imc.supernet`; no architecture weights, so
``uniform`` only) implement it::

    strategy = make_strategy("gaea", supernet=DartsSuperNet(C=4, layers=3), arch_lr=0.5)
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, TypeVar, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.registry import Registry
from gcnas.spaces import DEFAULT_SPACE, get_space

__all__ = ["RouteSpace", "Strategy", "Uniform", "GAEA", "DARTS", "SNAS", "NASP", "STRATEGIES", "make_strategy",
           "register_strategy", "check_strategy"]

"""The space whose supernet a strategy trains when given none (through the registry)."""

P = TypeVar("P")
"""A single path of a supernet: NAS-Bench-201's ``Arch``, DARTS' ``Genotype``."""


@runtime_checkable
class RouteSpace(Protocol[P]):
    """What a strategy knows of the supernet it trains (``supernet.routes``).

    Weight routes are ``arch_shape = (rows, columns)`` tensors: one row per edge, one
    column per op, each row one distribution over ops (the supernet runs
    ``sum_k w[row, k] op_k``). A path ``P`` is one sub-network, run as ``supernet(x, path)``.

    Attributes:
        name: Short name of the space, stored with a strategy's state.
        arch_shape: ``(rows, columns)`` of the architecture weights, or ``None`` for a supernet
            without any (a macro space: only the strategies that draw paths train it, and its
            ``derive``, ``one_hot`` and ``discrete_route`` refuse).
        op_names: The op of each column.
        path_ops: The columns a single path may use (ids into ``op_names``).
        samplings: The ``Uniform`` samplings offered: ``fair`` (:meth:`fair_paths`) and the
            names :meth:`sample_path` takes.
    """

    name: str
    arch_shape: tuple[int, int] | None
    op_names: tuple[str, ...]
    path_ops: tuple[int, ...]
    samplings: tuple[str, ...]

    def sample_path(self, generator: torch.Generator, allowed: torch.Tensor, sampling: str = "code") -> P:
        """One path drawn with ``generator``, its ops in ``allowed`` (column ids)."""
        ...

    def fair_paths(self, generator: torch.Generator, allowed: torch.Tensor) -> list[P]:
        """``len(allowed)`` paths in which every op choice takes every allowed op once (FairNAS)."""
        ...

    def path_state(self, path: P) -> int | str:
        """A checkpoint-safe value of ``path``; :meth:`path_from_state` reads it back."""
        ...

    def path_from_state(self, state: int | str) -> P:
        """Inverse of :meth:`path_state`."""
        ...

    def derive(self, weights: torch.Tensor) -> P:
        """The architecture of ``arch_shape`` weights (their discretisation: argmax per edge,
        and where nodes choose their inputs, the strongest edges per node)."""
        ...

    def one_hot(self, path: P) -> torch.Tensor:
        """``arch_shape`` 0/1 tensor of the path's ``(row, column)`` entries."""
        ...

    def discrete_route(self, path: P, weights: torch.Tensor, *, all_ops: bool = False) -> Any:
        """The route running ``path`` with each op's output scaled by ``weights[row, column]``."""
        ...

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


def check_strategy(name: str, routes: RouteSpace) -> None:
    """Refuse, before any work, a strategy that cannot train a supernet with these ``routes``:
    one that learns architecture weights, where the supernet has none (``arch_shape`` None).

    Args:
        name: A key of :data:`STRATEGIES`.
        routes: The supernet's (or its class's) ``routes``.

    Raises:
        InvalidInputError: An unknown name, or a strategy the supernet cannot take (the message
            names those it can).

    Example:
        >>> from gcnas.spaces.imc.supernet import MacroSuperNet
        >>> check_strategy("gaea", MacroSuperNet.routes)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gcnas.exceptions.InvalidInputError: strategy 'gaea' learns ... train it with --strategy uniform
    """
    if _REGISTRY.get(name).arch_weights and routes.arch_shape is None:
        raise _no_arch_weights(name, routes)


def _no_arch_weights(name: str, routes: RouteSpace) -> InvalidInputError:
    able = [n for n in _REGISTRY.names() if not _REGISTRY.get(n).arch_weights]
    return InvalidInputError(f"strategy {name!r} learns architecture weights (edges x ops), which the "
                             f"{routes.name!r} supernet has none of; train it with --strategy {' or '.join(able)}")


class Strategy:
    """Base class: routes training steps and learns architecture parameters.

    Args:
        seed: Seed of the strategy's own random stream (architecture draws, Gumbel noise).
        bilevel: Update architecture parameters on validation batches (bilevel) instead of
            on the training batch (single-level).
        grad_clip: Gradient-norm clip of the network weights.
        supernet: The supernet to train, or anything with its ``routes`` (a :class:`RouteSpace`);
            ``None``: the supernet of ``get_space("nb201")`` (its ``supernet_class()``).
    """

    name = "base"
    bilevel = False
    arch_weights = False
    """Whether the strategy learns weights over the supernet's ``arch_shape`` (the gradient strategies)."""

    def __init__(self, *, seed: int = 0, bilevel: bool | None = None, grad_clip: float = 5.0,
                 supernet: Any = None) -> None:
        self.seed = seed
        if bilevel is not None:
            self.bilevel = bool(bilevel)
        self.grad_clip = grad_clip
        routes = getattr(get_space(DEFAULT_SPACE).supernet_class() if supernet is None else supernet, "routes", None)
        if not isinstance(routes, RouteSpace):
            raise InvalidInputError(f"supernet must offer `routes` (a RouteSpace), got {type(supernet).__name__}")
        if self.arch_weights and routes.arch_shape is None:
            raise _no_arch_weights(self.name, routes)
        self.routes: RouteSpace = routes
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def arch_shape(self) -> tuple[int, int]:
        """``(edges, ops)`` of the architecture weights, from the supernet."""
        return tuple(self.routes.arch_shape)

    # -- hooks ------------------------------------------------------------------------
    def route(self) -> Any:
        """What the next training forward pass runs: a path, a weight tensor or a discrete route."""
        raise NotImplementedError

    def weight_route(self) -> Any:
        """What the forward pass of the weight update runs (by default :meth:`route`)."""
        return self.route()

    def update_arch(self) -> None:
        """Apply the gradient now in the architecture parameters (gradient strategies)."""

    def arch_parameters(self) -> list[torch.Tensor]:
        """Tensors holding the architecture parameters (empty for uniform)."""
        return []

    def probabilities(self) -> torch.Tensor | None:
        """``arch_shape`` op distribution per edge (``(6, 5)`` on NAS-Bench-201), or ``None``."""
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
        """Mean entropy (nats) of the per-edge op distributions; ``log(columns)`` is uniform."""
        probs = self.probabilities()
        if probs is None:
            return None
        probs = probs.detach().double().clamp_min(1e-12)
        return float(-(probs * probs.log()).sum(1).mean())

    def max_weight(self) -> float | None:
        """Mean over edges of the largest op probability (1 means one-hot)."""
        probs = self.probabilities()
        return None if probs is None else float(probs.detach().max(1).values.mean())

    def derive(self) -> Any:
        """The chosen architecture: the supernet's derivation of :meth:`probabilities` (on
        NAS-Bench-201 the most probable op on each edge; on DARTS also the two strongest edges
        per node, ``none`` excluded)."""
        probs = self.probabilities()
        if probs is None:
            how = ("train with --strategy gaea, darts, snas or nasp" if self.routes.arch_shape is not None else
                   f"the {self.routes.name!r} supernet has none: score its sub-networks with `gcnas supernet sample`")
            raise InvalidInputError(f"strategy {self.name!r} has no architecture weights to derive from; {how}")
        return self.routes.derive(probs.detach())

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: parameters, optimizer, random stream, space."""
        return {"name": self.name, "space": self.routes.name, "generator": self.generator.get_state(),
                "arch": [p.detach().cpu().clone() for p in self.arch_parameters()], **self._extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        if state.get("name") != self.name:
            raise InvalidInputError(f"checkpoint was trained with strategy {state.get('name')!r}, not {self.name!r}")
        space = state.get("space", "nb201")   # checkpoints before the DARTS supernet are NAS-Bench-201's
        if space != self.routes.name:
            raise InvalidInputError(f"checkpoint's strategy state is for the {space!r} supernet, "
                                    f"not {self.routes.name!r}")
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
    """Single-path one-shot training: one architecture drawn per step, through the supernet's routes.

    Args:
        sampling: ``fair`` (the default; it ranked real cells best on CIFAR-10, see
            docs/supernet.md), ``code`` draws each edge's op uniformly (every one of the 15,625 codes
            equally often, so functions with many isomorphic codes, the dead-edge ones, are
            trained most); ``canonical`` draws an isomorphism class uniformly and runs its
            representative; ``fair`` (FairNAS's strict fairness) walks, per edge, through a
            fresh random permutation of the allowed ops, so within each group of
            ``len(ops)`` consecutive steps every op of every edge is trained exactly once.
            On DARTS, ``code`` and ``canonical`` are both the space's uniform draw and ``fair``
            walks each node's two op choices through permutations (inputs drawn uniformly).
            On IMC, ``code`` and ``canonical`` draw every decision uniformly and ``fair`` walks
            each stage's block type through permutations (the "ops" are the block types).
        exclude_ops: Ops never drawn (e.g. ``("none",)``: a zero edge trains no weight).
        **kwargs: Passed to :class:`Strategy` (``supernet=`` for another space).
    """

    SAMPLINGS = ("code", "canonical", "fair")

    def __init__(self, *, sampling: str = "fair", exclude_ops: tuple[str, ...] | list[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        samplings, ops = self.routes.samplings, self.routes.op_names
        if sampling not in samplings:
            raise InvalidInputError(f"unknown sampling {sampling!r}; choose one of {', '.join(samplings)}")
        unknown = [op for op in exclude_ops if op not in ops]
        if unknown:
            raise InvalidInputError(f"cannot exclude unknown op(s) {unknown}; ops are {', '.join(ops)}")
        self.sampling = sampling
        self.allowed = torch.tensor([k for k in self.routes.path_ops if ops[k] not in exclude_ops], dtype=torch.int64)
        if len(self.allowed) == 0:
            raise InvalidInputError("exclude_ops leaves no op to train")
        self._fair_queue: list[Any] = []

    def route(self) -> Any:
        if self.sampling == "fair":
            if not self._fair_queue:
                self._fair_queue = self.routes.fair_paths(self.generator, self.allowed)
            return self._fair_queue.pop(0)
        return self.routes.sample_path(self.generator, self.allowed, self.sampling)

    def _extra_state(self) -> dict[str, Any]:
        return {"fair_queue": [self.routes.path_state(a) for a in self._fair_queue]}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self._fair_queue = [self.routes.path_from_state(c) for c in state.get("fair_queue", [])]


class _Logits(Strategy):
    """Shared by DARTS and SNAS: logits ``alpha`` (``arch_shape``, ``(6, 5)`` on NAS-Bench-201) learned by Adam."""

    arch_weights = True

    def __init__(self, *, arch_lr: float = 3e-4, arch_weight_decay: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = (1e-3 * torch.randn(*self.arch_shape, generator=self.generator)).requires_grad_()
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

    arch_weights = True

    def __init__(self, *, arch_lr: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not arch_lr > 0:
            raise InvalidInputError(f"arch_lr must be positive, got {arch_lr}")
        self.arch_lr = arch_lr
        edges, ops = self.arch_shape
        self.weights = torch.full((edges, ops), 1.0 / ops).requires_grad_()

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

    The architecture parameters ``A`` (``arch_shape``: ``(6, 5)`` on NAS-Bench-201, one row per
    edge) live in the box ``[0, 1]``, initialised at ``0.5`` plus ``1e-3`` noise as in the
    official code. Each step:

    1. proximal step onto the discrete architectures: ``A_bar = one_hot(derive(A))``, the
       supernet's derivation of ``A`` itself (NAS-Bench-201: the argmax op of each edge; DARTS:
       that op on the two edges of each node whose best op other than ``none`` weighs most,
       NASP's two constraints on that space); with probability ``explore``, a uniformly drawn
       path instead (the official code's e-greedy);
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

    Reported probabilities (entropy, max weight) are ``A`` normalised per edge; :meth:`derive`
    is the proximal step of ``A`` (:meth:`discrete`).

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
        >>> from gcnas.spaces.darts.supernet import DartsSuperNet
        >>> route = NASP(seed=0, supernet=DartsSuperNet).route()   # a ScaledPath: two edges per node
        >>> route.genotype == NASP(seed=0, supernet=DartsSuperNet).derive(), int(route.weights.sum())
        (True, 16)
    """

    bilevel = True
    arch_weights = True
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
        noise = 1e-3 * torch.randn(*self.arch_shape, generator=self.generator)
        self.alpha = (0.5 + noise).clamp(0.0, 1.0).requires_grad_()
        self.optimizer = torch.optim.Adam([self.alpha], lr=arch_lr, betas=(0.5, 0.999))
        self._discrete: torch.Tensor | None = None
        self._path_ops = torch.tensor(self.routes.path_ops, dtype=torch.int64)

    def arch_parameters(self) -> list[torch.Tensor]:
        return [self.alpha]

    def probabilities(self) -> torch.Tensor:
        a = self.alpha.detach()
        total = a.sum(1, keepdim=True)
        return torch.where(total > 0, a / total.clamp_min(1e-12), torch.full_like(a, 1.0 / a.shape[1]))

    def discrete(self) -> Any:
        """The proximal step of ``A``: the supernet's derivation of ``A`` (on NAS-Bench-201 the op of
        largest weight on each edge; on DARTS also the two strongest edges per node)."""
        return self.routes.derive(self.alpha.detach())

    def derive(self) -> Any:
        """The architecture NASP chose: the proximal step of ``A`` (:meth:`discrete`)."""
        return self.discrete()

    def route(self) -> Any:
        return self._route(all_ops=self.arch_grad == "full", arch_grad=True)

    def weight_route(self) -> Any:
        # the bilevel weight update needs no gradient of A_bar, hence no other op either
        return self.route() if not self.needs_valid else self._route(all_ops=False, arch_grad=False)

    def _route(self, *, all_ops: bool, arch_grad: bool) -> Any:
        arch = self.discrete()
        if self.explore and float(torch.rand((), generator=self.generator)) < self.explore:
            arch = self.routes.sample_path(self.generator, self._path_ops, "code")
        one_hot = self.routes.one_hot(arch).to(self.alpha.device, self.alpha.dtype)
        self._discrete = one_hot.requires_grad_(arch_grad)
        return self.routes.discrete_route(arch, self._discrete, all_ops=all_ops)

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
