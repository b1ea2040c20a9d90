"""Timing and reporting shared by the benchmark scripts in this folder.

Every script reports the same way, as the book's design asks of a measurement: the median and
the 95th percentile over repeated runs, of wall-clock time (``time.perf_counter``) and of the
process's CPU time (``time.process_time``, less disturbed by other jobs on a shared machine),
with the exact command, the software versions and the load average of the machine, and a line
that says whether the median met its budget. The percentile is numpy's default (linear
interpolation between order statistics, ``numpy.percentile(..., method="linear")``).

    >>> s = Summary.of([0.010, 0.020, 0.030, 0.040, 0.050])
    >>> s.median_ms, s.p95_ms, s.n
    (30.0, 48.0, 5)
    >>> budget_line("simulate()", s, 40)
    'median of simulate() is 30.0 ms: within the 40 ms budget'

The scripts run as ``python benchmarks/<script>.py`` from the repository root, so this module is
imported from the scripts' own folder.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

#: The repository root: the command line is reported relative to it.
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Summary:
    """Order statistics of repeated timings, in milliseconds."""

    n: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Summary":
        """Summarise timings given in seconds (at least one)."""
        ms = np.asarray(seconds, dtype=float) * 1000.0
        if ms.ndim != 1 or ms.size == 0:
            raise ValueError(f"seconds must be a non-empty 1-D sequence of timings, got {seconds!r}")
        return cls(int(ms.size), float(np.median(ms)), float(np.percentile(ms, 95)),
                   float(ms.min()), float(ms.max()))

    def line(self) -> str:
        """``median   17.8 ms  p95   25.6 ms  min ...  max ...  (n=50)``."""
        return (f"median {self.median_ms:6.1f} ms  p95 {self.p95_ms:6.1f} ms  "
                f"min {self.min_ms:6.1f} ms  max {self.max_ms:6.1f} ms  (n={self.n})")


class Stopwatch:
    """Wall-clock and CPU seconds of a ``with`` block; :meth:`lap` reads the wall clock inside it.

    >>> with Stopwatch() as sw:
    ...     _ = sum(range(1000))
    >>> sw.wall_s >= 0 and sw.cpu_s >= 0
    True
    """

    def __enter__(self) -> "Stopwatch":
        self.wall_s = self.cpu_s = 0.0
        self._c0 = time.process_time()
        self._w0 = time.perf_counter()
        return self

    def lap(self) -> float:
        """Wall-clock seconds since the block began."""
        return time.perf_counter() - self._w0

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._w0
        self.cpu_s = time.process_time() - self._c0


def time_calls(call: Callable[[], object], runs: int, warmup: int = 1
               ) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``runs`` calls of ``call``, after ``warmup`` untimed calls
    (which pay one-off costs: imports, first allocations, caches)."""
    for _ in range(warmup):
        call()
    wall, cpu = [], []
    for _ in range(runs):
        with Stopwatch() as sw:
            call()
        wall.append(sw.wall_s)
        cpu.append(sw.cpu_s)
    return wall, cpu


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that ran this benchmark, with the script relative to the repository root."""
    args = list(sys.argv if argv is None else argv)
    script = Path(args[0]) if args else Path("?")
    try:
        script = script.resolve().relative_to(ROOT)
    except ValueError:
        script = Path(script.name)
    return " ".join(["python", script.as_posix(), *args[1:]])


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, or a note where the platform has none."""
    if not hasattr(os, "getloadavg"):
        return "load average: not available on this platform"
    return "load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def header(argv: Sequence[str] | None = None) -> list[str]:
    """The lines every report starts with: command, software, machine, load."""
    import matplotlib

    return [f"command: {command_line(argv)}",
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"matplotlib {matplotlib.__version__}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs",
            load_average()]


def budget_line(what: str, summary: Summary, budget_ms: float) -> str:
    """Whether the median of ``summary`` met ``budget_ms``."""
    verdict = "within" if summary.median_ms <= budget_ms else "OVER"
    return f"median of {what} is {summary.median_ms:.1f} ms: {verdict} the {budget_ms:g} ms budget"


def count(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number of at least ``minimum`` (runs, seeds)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer of {minimum} or more, got {text!r}")
        return value
    return parse
