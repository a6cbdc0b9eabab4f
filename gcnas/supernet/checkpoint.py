"""Supernet checkpoints: written atomically each epoch, read back with clear errors."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from gcnas.data.store import atomic_write
from gcnas.exceptions import CorruptFileError, DataNotFoundError, InvalidInputError
from gcnas.supernet.strategies import Strategy, make_strategy
from gcnas.spaces import get_space

__all__ = ["TrainedSupernet", "checkpoint_path", "read_checkpoint", "write_checkpoint", "load_supernet",
           "resolve_device", "supernet_space"]

FORMAT = "gcnas-supernet"
VERSION = 1


@dataclass
class TrainedSupernet:
    """A supernet with its strategy, per-epoch history and training configuration.

    Attributes:
        supernet: The shared-weight network (in eval mode after loading): the supernet of the
            space ``config["space"]`` names (``space.supernet_class()``).
        strategy: The strategy that trained it (holds the architecture weights).
        history: One dict per finished epoch (loss, accuracy, entropy, seconds, ...).
        config: The keyword arguments the training ran with.
    """

    supernet: torch.nn.Module
    strategy: Strategy
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def derive(self) -> Any:
        """The architecture the strategy chose (its supernet's derivation); gradient strategies only.

        A cell of the run's space (``config["space"]``).
        """
        return self.strategy.derive()


def checkpoint_path(run_dir: str | os.PathLike) -> Path:
    """``run_dir/supernet/checkpoint.pt``."""
    return Path(run_dir) / "supernet" / "checkpoint.pt"


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N`` as a device."""
    text = str(device)
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InvalidInputError(f"device {text!r} requested but CUDA is not available here; use --device cpu")
        return torch.device(text)
    raise InvalidInputError(f"unknown device {text!r}; choose auto, cpu, cuda or cuda:N")


def write_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save ``state`` to ``path`` atomically (temp file + rename)."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **state}, buffer)
    atomic_write(path, buffer.getvalue())


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint written by :func:`write_checkpoint` (on CPU).

    Raises:
        DataNotFoundError: No file at ``path``.
        CorruptFileError: The file is not a readable gcnas supernet checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"no supernet checkpoint at {str(path)!r}; train one with `gcnas supernet train "
                                f"--run {path.parent.parent}`")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for damaged files
        raise CorruptFileError(f"{str(path)!r} is not a readable supernet checkpoint ({type(error).__name__}); "
                               "delete it to train from scratch") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CorruptFileError(f"{str(path)!r} is not a gcnas supernet checkpoint")
    return state


def supernet_space(build: Callable[..., torch.nn.Module]) -> str:
    """The space a supernet class trains over: ``build.routes.name`` (``nb201``, ``darts``).

    Raises:
        InvalidInputError: ``build`` has no ``routes`` (it is not a supernet class).
    """
    name = getattr(getattr(build, "routes", None), "name", None)
    if not isinstance(name, str):
        raise InvalidInputError(f"supernet must be a supernet class with `routes` (SuperNet, DartsSuperNet), "
                                f"got {getattr(build, '__name__', type(build).__name__)}")
    return name


def build_from_config(config: dict[str, Any], supernet: Callable[..., torch.nn.Module] | None = None
                      ) -> tuple[torch.nn.Module, Strategy]:
    """A fresh supernet and strategy of the shape and kind ``config`` names.

    Args:
        config: The training configuration (``channels``, ``cells``, ``num_classes``,
            ``strategy``, ``seed``, ``strategy_kwargs``, ``space``).
        supernet: The supernet class, called as ``supernet(channels, cells, num_classes)``;
            ``None``: the supernet of the space ``config["space"]`` names (absent in checkpoints
            from before the DARTS supernet: ``nb201``). Its ``routes.name`` must equal that space.

    Returns:
        The supernet and its strategy.
    """
    space = config.get("space", "nb201")
    build = get_space(space).supernet_class() if supernet is None else supernet
    built = supernet_space(build)
    if space != built:
        raise InvalidInputError(f"this run's supernet is over the {space!r} space, but "
                                f"{getattr(build, '__name__', build)} is {built!r}'s; pass the supernet class of "
                                f"{space!r} (e.g. supernet=DartsSuperNet for 'darts')")
    net = build(config["channels"], config["cells"], config["num_classes"])
    strategy = make_strategy(config["strategy"], seed=config["seed"], supernet=net,
                             **config.get("strategy_kwargs", {}))
    return net, strategy


def load_supernet(run_dir: str | os.PathLike, device: str | torch.device = "cpu",
                  supernet: Callable[..., torch.nn.Module] | None = None) -> TrainedSupernet:
    """The supernet trained in ``run_dir`` (its latest checkpoint), ready to score.

    Args:
        run_dir: The run directory given to :func:`train_supernet`.
        device: Where to put the weights.
        supernet: The supernet class it was trained with (``None``: the supernet of the run's
            space, ``config["space"]``).

    Returns:
        A :class:`TrainedSupernet` in eval mode.

    Example:
        >>> trained = load_supernet("runs/demo")
        >>> trained.config["strategy"], len(trained.history)
        ('uniform', 10)
    """
    state = read_checkpoint(checkpoint_path(run_dir))
    supernet, strategy = build_from_config(state["config"], supernet)
    try:
        supernet.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CorruptFileError(f"checkpoint in {str(run_dir)!r} does not match its own config: {error}") from None
    strategy.load_state_dict(state["strategy"])
    device = resolve_device(device)
    # channels-last, as trained: about twice as fast a forward pass on CPU (and on CUDA)
    supernet.to(device, memory_format=torch.channels_last).eval()
    strategy.to(device)
    return TrainedSupernet(supernet, strategy, list(state.get("history", [])), dict(state["config"]))
