"""Run the README's command examples and compare their output with the text.

A README output block marked ``<!-- example: NAME -->`` on the line before its fence is
checked: every ``$ COMMAND`` line in it (with ``\\`` continuation lines, a trailing
``# comment`` dropped) is run with bash, in order, in one scratch folder per block, and what
it prints on stdout must be the lines below it. The comparison forgives what a rerun cannot
reproduce and says nothing about the software: a line ``...`` in the text stands for any
number of lines; wall-clock figures (a ``seconds`` field or column, ``(5 rows, 6.8 ms)``,
``in 3.3s``, a trial's ``finished``/``submitted``/``worker`` columns, the onnxruntime version)
are masked; trailing blanks are ignored. An example marked ``<!-- example: NAME python -->``
is the output of the nearest ``python`` block above it, run with this interpreter.

Inside the commands ``$T`` is the folder of NAS-Bench-201's CSV tables
(``$GCNAS_SHARED_DATA/nb201``); examples that need it are skipped where it is absent.

Usage::

    python benchmarks/readme_examples.py --check            # exit 1 and a diff when the README drifted
    python benchmarks/readme_examples.py --write            # rewrite the blocks with today's output
    python benchmarks/readme_examples.py --check --only arch-show

``--write`` keeps the shape of each block: where the text elides lines with ``...`` it keeps as
many lines before and after the elision as the text shows.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- example: ([\w-]+)( python)? -->$")
ELISION = "..."
VOLATILE_COLUMNS = re.compile(r"seconds|^finished$|^submitted$|^worker$|^checked_with$")
TIMINGS = (re.compile(r"\(\d+ rows?, [\d.]+ ms\)"), re.compile(r"\bin [\d.]+ ?s\b"),
           re.compile(r"\b[\d.]+ s\b"))


@dataclass
class Step:
    """One ``$ command`` of an example and the lines the README shows below it."""

    command: str
    shown: list[str]
    expected: list[str] = field(default_factory=list)


@dataclass
class Example:
    """A marked output block of the README."""

    name: str
    python: bool
    start: int
    """Index of the first line inside the fence."""
    end: int
    """Index of the closing fence."""
    steps: list[Step]
    source: str | None = None
    """The python block's code, for a python example."""


def _commands(lines: list[str]) -> list[Step]:
    steps: list[Step] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if not steps:
                raise ValueError(f"an example block must start with a '$ ' command line, got {line!r}")
            steps[-1].expected.append(line)
            i += 1
            continue
        shown = [line]
        while shown[-1].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            shown.append(lines[i])
        command = " ".join(part.rstrip().removesuffix("\\").strip() for part in shown)[2:]
        command = re.sub(r"\s+#[^|'\"]*$", "", command)
        steps.append(Step(command, shown))
        i += 1
    return steps


def parse_readme(text: str) -> list[Example]:
    """Every marked example of a README text."""
    lines = text.split("\n")
    examples = []
    for i, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise ValueError(f"README line {i + 1}: the example marker must sit right above a ``` fence")
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        body = lines[i + 2:end]
        python = bool(match.group(2))
        if python:
            fences = [j for j in range(i) if lines[j].startswith("```python")]
            if not fences:
                raise ValueError(f"README line {i + 1}: example {match.group(1)!r} has no python block above it")
            code_start = fences[-1] + 1
            code_end = next(j for j in range(code_start, len(lines)) if lines[j].startswith("```"))
            step = Step("python", [], body)
            examples.append(Example(match.group(1), True, i + 2, end, [step],
                                    "\n".join(lines[code_start:code_end]) + "\n"))
        else:
            examples.append(Example(match.group(1), False, i + 2, end, _commands(body)))
    names = [e.name for e in examples]
    if len(set(names)) != len(names):
        raise ValueError(f"README example names must be unique, got {names}")
    return examples


def _mask_line(line: str, masked_spans: list[tuple[int, int]]) -> str:
    for start, stop in sorted(masked_spans, reverse=True):
        line = line[:start] + "<t>" + line[stop:]
    for pattern in TIMINGS:
        line = pattern.sub("<t>", line)
    return line.rstrip()


def mask(lines: list[str]) -> list[str]:
    """The lines with wall-clock figures replaced by ``<t>``.

    Handles three output shapes of ``gcnas``: a ``field value`` record (a row whose field is
    volatile), a column table whose header names volatile columns (values at those character
    positions), and CSV (volatile columns by header).
    """
    out: list[str] = []
    csv_volatile: set[int] = set()
    table_spans: list[tuple[int, int]] = []
    for line in lines:
        stripped = line.rstrip()
        if "," in stripped and not stripped.startswith("|") and re.match(r"^[a-z_]+(,[a-z_0-9]+)+$", stripped):
            names = stripped.split(",")
            csv_volatile = {k for k, name in enumerate(names) if VOLATILE_COLUMNS.search(name)}
            table_spans = []
            out.append(stripped)
            continue
        if csv_volatile and stripped.count(",") >= max(csv_volatile) and not stripped.startswith(" "):
            cells = _split_csv_row(stripped)
            if len(cells) > max(csv_volatile):
                out.append(",".join("<t>" if k in csv_volatile else c for k, c in enumerate(cells)))
                continue
        if re.match(r"^-{2,}( +-{2,})+ *$", stripped):
            out.append(stripped)
            continue
        header = re.findall(r"\S+", stripped)
        if len(header) > 1 and all(re.match(r"^[a-z_][a-z_0-9%@]*$", word) for word in header):
            spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
            table_spans = [(start, spans[k + 1][0] if k + 1 < len(spans) else 10 ** 6)
                           for k, (start, _) in enumerate(spans) if VOLATILE_COLUMNS.search(header[k])]
            csv_volatile = set()
            out.append(stripped)
            continue
        words = stripped.split()
        if len(words) >= 2 and VOLATILE_COLUMNS.search(words[0]) and not table_spans:
            out.append(words[0] + " <t>")
            continue
        spans = [(start, min(stop, len(line))) for start, stop in table_spans if start < len(line)]
        out.append(_mask_line(line, spans))
    return out


def _split_csv_row(row: str) -> list[str]:
    import csv

    return next(csv.reader([row]))


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` fits ``expected`` (``...`` lines match any run of lines)."""
    expected, actual = mask(expected), mask(actual)
    pattern = "".join(".*?" if line.strip().startswith(ELISION) else re.escape(line + "\n") for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual), flags=re.DOTALL) is not None


def shaped_like(expected: list[str], actual: list[str]) -> list[str]:
    """``actual`` cut to the shape of ``expected``: as many lines around each elision as it shows."""
    marks = [k for k, line in enumerate(expected) if line.strip().startswith(ELISION)]
    if not marks:
        return actual
    head = marks[0]
    tail = len(expected) - marks[-1] - 1
    if head + tail >= len(actual):
        return actual
    return actual[:head] + expected[marks[0]:marks[-1] + 1] + (actual[len(actual) - tail:] if tail else [])


def run_example(example: Example, env: dict[str, str], workdir: Path) -> list[list[str]]:
    """The stdout lines of each step of ``example``, run in ``workdir``."""
    outputs = []
    for step in example.steps:
        if example.python:
            argv = [sys.executable, "-c", example.source or ""]
            done = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=1800)
        else:
            done = subprocess.run(["bash", "-o", "pipefail", "-c", step.command], cwd=workdir, env=env,
                                  capture_output=True, text=True, timeout=1800)
        if done.returncode not in (0, 141):  # 141: a `| head` closed the pipe, as the README shows
            raise RuntimeError(f"example {example.name!r}: `{step.command}` exited {done.returncode}:\n"
                               f"{done.stderr[-2000:]}")
        text = done.stdout.rstrip("\n")
        if env.get("T"):  # the README shows the tables' folder as $T, never this machine's path
            text = text.replace(env["T"], "$T")
        outputs.append(text.split("\n") if text else [])
    return outputs


def example_env(shared: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["GCNAS_PROGRESS"] = "off"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MPLBACKEND", "Agg")
    if shared is not None:
        env["T"] = str(shared / "nb201")
    return env


def shared_data() -> Path | None:
    root = Path(os.environ.get("GCNAS_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root if (root / "nb201" / "nb201_cifar10_200ep.csv").exists() else None


def check_examples(readme: Path, only: set[str] | None = None, *, write: bool = False,
                   out=sys.stdout) -> int:
    """Run the marked examples; print a diff for each that drifted (or rewrite them).

    Returns:
        The number of drifted examples (0 after ``write``).
    """
    text = readme.read_text()
    examples = parse_readme(text)
    unknown = (only or set()) - {e.name for e in examples}
    if unknown:
        raise SystemExit(f"no README example named {sorted(unknown)}; there are {[e.name for e in examples]}")
    shared = shared_data()
    lines = text.split("\n")
    drifted = 0
    for example in reversed(examples):  # from the end, so rewriting keeps earlier line numbers
        if only and example.name not in only:
            continue
        needs_tables = any("$T" in step.command for step in example.steps)
        if needs_tables and shared is None:
            print(f"{example.name}: skipped ($GCNAS_SHARED_DATA/nb201 not found)", file=out)
            continue
        with tempfile.TemporaryDirectory(prefix=f"readme-{example.name}-") as scratch:
            outputs = run_example(example, example_env(shared), Path(scratch))
        body: list[str] = []
        bad = []
        for step, actual in zip(example.steps, outputs):
            if not matches(step.expected, actual):
                bad.append((step, actual))
            body += step.shown + [line.rstrip() for line in shaped_like(step.expected, actual)]
        if write:
            lines[example.start:example.end] = body
            print(f"{example.name}: {'rewritten' if bad else 'unchanged'}", file=out)
            continue
        if bad:
            drifted += 1
            for step, actual in bad:
                diff = difflib.unified_diff(step.expected, actual, "README", "now", lineterm="", n=1)
                print(f"{example.name}: `{step.command}` prints something else:", file=out)
                print("\n".join(diff), file=out)
        else:
            print(f"{example.name}: ok", file=out)
    if write:
        readme.write_text("\n".join(lines))
    return drifted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when an example's output drifted")
    mode.add_argument("--write", action="store_true", help="rewrite the examples with today's output")
    mode.add_argument("--list", action="store_true", help="list the marked examples")
    parser.add_argument("--only", default=None, help="comma-separated example names")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args(argv)
    if args.list:
        for example in parse_readme(args.readme.read_text()):
            print(example.name, "python" if example.python else f"{len(example.steps)} commands")
        return 0
    only = set(args.only.split(",")) if args.only else None
    drifted = check_examples(args.readme, only, write=args.write)
    if drifted:
        print(f"{drifted} example(s) drifted: fix the code or rerun with --write", file=sys.stderr)
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
