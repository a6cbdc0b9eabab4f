"""Progress of long work, one way everywhere: a tqdm bar on a terminal, log lines elsewhere.

tqdm draws its bar only on a terminal (``disable=None`` turns it off when the stream is
piped), so a command run in CI, under ``nohup`` or with ``2>log`` used to print nothing for
minutes. :func:`progress` keeps tqdm's bar when the stream is a terminal and otherwise
writes plain lines, each complete and flushed, such as::

    predictor fit: epoch 40/200 (20%), loss 0.0123, 12 s, about 48 s left

A persistent reporter (``leave=True``) writes a line at each tenth of the work (at most one
every :data:`MIN_GAP_S` seconds), at least one every :data:`EVERY_S` seconds, and a last
line when it closes. A transient one (``leave=False``: an inner loop, e.g. the batches of
one epoch, whose caller logs a line per epoch) writes only the lines every
:data:`EVERY_S` seconds, so a slow epoch still shows it is alive.

``GCNAS_PROGRESS`` overrides the choice: ``bar`` (tqdm even when piped), ``lines`` (log
lines even on a terminal) or ``off`` (nothing); unset or ``auto`` chooses by the stream.
Lines and bars go to stderr, like tqdm's, so stdout keeps only the command's result.

This module sits at the bottom of gcnas: it imports nothing of gcnas but :mod:`gcnas.exceptions`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable, Iterator, TextIO

from gcnas.exceptions import InvalidInputError

__all__ = ["EVERY_S", "MIN_GAP_S", "MODES", "Progress", "progress", "progress_mode"]

EVERY_S = 20.0
"""Most seconds between two log lines (when the stream is not a terminal)."""
MIN_GAP_S = 5.0
"""Fewest seconds between two log lines written for a tenth of the work."""
MODES = ("auto", "bar", "lines", "off")
"""Values of ``GCNAS_PROGRESS``."""


def progress_mode(stream: TextIO | None = None) -> str:
    """``bar``, ``lines`` or ``off``: what progress on ``stream`` looks like.

    Args:
        stream: Where progress goes (default ``sys.stderr``).

    Returns:
        ``GCNAS_PROGRESS`` when it names a mode; otherwise ``bar`` on a terminal, ``lines`` elsewhere.

    Raises:
        InvalidInputError: ``GCNAS_PROGRESS`` is set to something else than :data:`MODES`.
    """
    chosen = os.environ.get("GCNAS_PROGRESS", "auto").strip().lower() or "auto"
    if chosen not in MODES:
        raise InvalidInputError(f"GCNAS_PROGRESS must be one of {', '.join(MODES)}, got {chosen!r}")
    if chosen != "auto":
        return chosen
    stream = stream if stream is not None else sys.stderr
    try:
        return "bar" if stream.isatty() else "lines"
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return "lines"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts finished units of work and shows them (a bar, log lines, or nothing).

    Made by :func:`progress`; the subset of tqdm's interface gcnas uses: iterate over it,
    :meth:`update`, :meth:`set_postfix`, :attr:`n`, :meth:`close`, and ``with``.
    """

    def __init__(self, iterable: Iterable[Any] | None, *, total: int | None, desc: str, unit: str, mode: str,
                 stream: TextIO, leave: bool, initial: int, clock=time.monotonic) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.mode, self.stream, self.leave = mode, stream, leave
        self.n = initial
        self._initial = initial
        self._clock = clock
        self._started = self._last_line = clock()
        self._last_tenth = self._tenth(initial)
        self._shown = initial  # the count of the last line written
        self._postfix: dict[str, Any] = {}
        self._closed = False
        self._bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, initial=initial, leave=leave, file=stream,
                             dynamic_ncols=True)

    # -- the tqdm subset -----------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise InvalidInputError(f"progress {self.desc!r} was made without an iterable; call update() instead")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished units (and show them when it is time)."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines":
            now = self._clock()
            tenth = self._tenth(self.n)
            due = now - self._last_line >= EVERY_S
            if self.leave and tenth > self._last_tenth and now - self._last_line >= MIN_GAP_S:
                due = True
            if due:
                self._line(now)

    def set_postfix(self, **values: Any) -> None:
        """Figures shown after the count (``loss=0.0123``), replacing the previous ones."""
        self._postfix = values
        if self._bar is not None:
            self._bar.set_postfix(**values)

    def close(self) -> None:
        """End the bar; a persistent reporter writes its last line (log lines only)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines" and self.leave and self.n != self._shown:
            self._line(self._clock(), last=True)

    # -- log lines ---------------------------------------------------------------------

    def _tenth(self, n: int) -> int:
        return int(10 * n / self.total) if self.total else 0

    def line(self, now: float | None = None, *, last: bool = False) -> str:
        """The log line for the current count (``desc: unit n/total (p%), figures, elapsed``)."""
        elapsed = (self._clock() if now is None else now) - self._started
        if self.total:
            count = f"{self.unit} {self.n}/{self.total} ({100 * self.n / self.total:.0f}%)"
        else:
            count = f"{self.n} {self.unit}"
        parts = [f"{self.desc}: {count}" if self.desc else count]
        parts += [f"{k} {_figure(v)}" for k, v in self._postfix.items()]
        parts.append(_duration(elapsed))
        done = self.n - self._initial
        if self.total and not last and 0 < done and self.n < self.total:
            parts.append(f"about {_duration(elapsed / done * (self.total - self.n))} left")
        if last and self.total and self.n < self.total:
            parts.append("stopped early")
        return ", ".join(parts)

    def _line(self, now: float, last: bool = False) -> None:
        self._last_line, self._last_tenth, self._shown = now, self._tenth(self.n), self.n
        try:
            print(self.line(now, last=last), file=self.stream, flush=True)
        except (BrokenPipeError, ValueError):  # the reader went away, or the stream was closed
            self.mode = "off"


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", enabled: bool = True, leave: bool = True, initial: int = 0,
             stream: TextIO | None = None) -> Progress:
    """Show the progress of long work: tqdm's bar on a terminal, log lines elsewhere.

    Args:
        iterable: Iterate over it through the returned object (each item counts one unit);
            ``None``: count with :meth:`Progress.update`.
        total: Units of the whole work (default ``len(iterable)`` where it has one).
        desc: What is done, first words of each line (``"predictor fit"``).
        unit: Name of one unit (``"epoch"``, ``"arch"``).
        enabled: ``False`` shows nothing (the object still counts).
        leave: ``True`` for the work a user waits on: lines at each tenth and a last line;
            ``False`` for an inner loop whose caller logs its own lines: a line only every
            :data:`EVERY_S` seconds, none at the end (on a terminal, the bar is removed).
        initial: Units already done (a resumed run).
        stream: Where to show it (default ``sys.stderr``).

    Returns:
        The :class:`Progress`.

    Example:
        >>> bar = progress(total=200, desc="predictor fit", unit="epoch")
        >>> for epoch in range(200):
        ...     bar.set_postfix(loss=0.0123)
        ...     bar.update()
        >>> bar.close()   # piped: "predictor fit: epoch 200/200 (100%), loss 0.0123, 12 s"
    """
    stream = stream if stream is not None else sys.stderr
    mode = progress_mode(stream) if enabled else "off"
    return Progress(iterable, total=total, desc=desc, unit=unit, mode=mode, stream=stream, leave=leave,
                    initial=initial)
