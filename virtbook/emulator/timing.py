"""Timing the two emulators on the same guest program: speedup and amortised translation cost.

Timings depend on the machine, the Python version and whatever else is running, so nothing in
the book's tests asserts on them and the notebook marks the cells that show them. What the
functions control is the method: every measurement runs the guest from the same starting state,
is repeated, and keeps the *minimum*, the run least disturbed by other work on the machine (the
same choice as Python's ``python -m timeit``, which reports the "best of 5" repeats).
The translator is timed *cold*, with a new translator and an empty cache for each repetition, so
that the cost of translation is included; :func:`measure_speedup` also reports the *warm* time,
with every block already translated.

    >>> from virtbook.emulator.programs import SUM, sum_state
    >>> point = time_point(SUM, sum_state, 50, repeats=1)
    >>> point.instructions == 4 + 3 * 50 + 2     # set-up, three per iteration, store and HALT
    True
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from .._validate import check_int
from .assembler import Program
from .interpreter import Interpreter
from .state import CPUState
from .translator import BlockTranslator

__all__ = ["TimingPoint", "Speedup", "best_time", "time_point", "sweep", "measure_speedup",
           "break_even"]

StateFactory = Callable[[int], CPUState]
#: The most repetitions one measurement may ask for (each repeats a whole guest run).
MAX_REPEATS = 100


@dataclass(frozen=True)
class TimingPoint:
    """Best-of-``repeats`` wall-clock seconds for one input size on each engine."""

    size: int
    instructions: int
    interpreter_s: float
    translator_s: float

    @property
    def speedup(self) -> float:
        """Interpreter time divided by translator time (above 1: the translator wins)."""
        return self.interpreter_s / self.translator_s


@dataclass(frozen=True)
class Speedup:
    """The chapter's headline measurement."""

    size: int
    instructions: int
    interpreter_s: float
    translator_cold_s: float
    translator_warm_s: float
    blocks_translated: int

    @property
    def speedup_cold(self) -> float:
        return self.interpreter_s / self.translator_cold_s

    @property
    def speedup_warm(self) -> float:
        return self.interpreter_s / self.translator_warm_s

    @property
    def interpreter_mips(self) -> float:
        """Guest instructions per second of the interpreter, in millions."""
        return self.instructions / self.interpreter_s / 1e6

    @property
    def translator_mips(self) -> float:
        """Guest instructions per second of the warm translator, in millions."""
        return self.instructions / self.translator_warm_s / 1e6


def _size_and_repeats(size: int, repeats: int) -> tuple[int, int]:
    """``size`` (0 or more) and ``repeats`` (1..MAX_REPEATS) of one measurement, checked."""
    return check_int("size", size, 0), check_int("repeats", repeats, 1, MAX_REPEATS)


def best_time(run: Callable[[], object], repeats: int = 5) -> float:
    """Minimum wall-clock time of ``repeats`` timed calls, after one untimed warm-up call
    (which pays one-off costs such as first imports and cold caches)."""
    repeats = check_int("repeats", repeats, 1, MAX_REPEATS)
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        run()
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return best


def time_point(program: Program, make_state: StateFactory, size: int,
               repeats: int = 3) -> TimingPoint:
    """Time one run of ``program`` on ``make_state(size)`` with each engine (translator cold)."""
    size, repeats = _size_and_repeats(size, repeats)
    reference = Interpreter(program).run(make_state(size))
    interp = best_time(lambda: Interpreter(program).run(make_state(size)), repeats)
    trans = best_time(lambda: BlockTranslator(program).run(make_state(size)), repeats)
    return TimingPoint(size, reference.instructions, interp, trans)


def sweep(program: Program, make_state: StateFactory, sizes: Sequence[int],
          repeats: int = 3) -> list[TimingPoint]:
    """:func:`time_point` for each size: how the cost of translation is amortised."""
    if not sizes:
        raise ValueError("sizes must contain at least one size, got none")
    return [time_point(program, make_state, s, repeats) for s in sizes]


def measure_speedup(program: Program, make_state: StateFactory, size: int,
                    repeats: int = 5) -> Speedup:
    """Interpreter versus translator on one large input, cold and warm."""
    size, repeats = _size_and_repeats(size, repeats)
    interp = best_time(lambda: Interpreter(program).run(make_state(size)), repeats)
    cold = best_time(lambda: BlockTranslator(program).run(make_state(size)), repeats)
    warm_engine = BlockTranslator(program)
    final = warm_engine.run(make_state(size))
    warm = best_time(lambda: warm_engine.run(make_state(size)), repeats)
    return Speedup(size, final.instructions, interp, cold, warm,
                   warm_engine.stats.blocks_translated)


def break_even(points: Sequence[TimingPoint]) -> int | None:
    """The smallest measured size from which the translator is faster at every larger size
    (None if it never is): where translation has paid for itself."""
    ordered = sorted(points, key=lambda p: p.size)
    result = None
    for p in reversed(ordered):
        if p.translator_s < p.interpreter_s:
            result = p.size
        else:
            break
    return result
