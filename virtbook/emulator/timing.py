"""Timing the two emulators on the same guest program: speedup and amortised translation cost.

Timings depend on the machine, the Python version and whatever else is running, so nothing in
the book's tests asserts on them and the notebook marks the cells that show them. What the
functions control is the method: every measurement runs the guest from the same starting state,
is repeated, and keeps the *minimum*, the run least disturbed by other work on the machine (the
same choice as Python's ``python -m timeit``, which reports the "best of 5" repeats). It measures
the CPU time the process used (:func:`time.process_time`), not wall-clock time, so that time spent
waiting while other programs had the CPU is not counted. The engines
being compared are timed in *interleaved* rounds (interpreter, translator, interpreter, ...), so
that a burst of load on a shared machine slows both alike instead of only the one that happened
to be running; timing one engine's repeats after the other's let a busy moment turn a threefold
speedup into an apparent slowdown. :func:`speed_words` turns a measured ratio into words, so
that prose built on a measurement says "slower" when the measurement was slower.
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
from typing import Callable, Mapping, Sequence

from .._validate import check_int, check_real
from .assembler import Program
from .interpreter import Interpreter
from .state import CPUState
from .translator import BlockTranslator

__all__ = ["TimingPoint", "Speedup", "best_time", "best_times", "time_point", "sweep",
           "measure_speedup", "break_even", "speed_words", "SAME_SPEED"]

StateFactory = Callable[[int], CPUState]
#: The most repetitions one measurement may ask for (each repeats a whole guest run).
MAX_REPEATS = 100


@dataclass(frozen=True)
class TimingPoint:
    """Best-of-``repeats`` CPU seconds for one input size on each engine."""

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


def best_times(runs: Mapping[str, Callable[[], object]], repeats: int = 5, *,
               clock: Callable[[], float] = time.process_time) -> dict[str, float]:
    """Minimum time of each of ``runs`` over ``repeats`` interleaved rounds.

    Each run is called once untimed first (to pay one-off costs such as first imports and cold
    caches); then every round times each run once, in turn. The garbage collector is off while
    timing, as in :mod:`timeit`. The default ``clock`` is the CPU time of this process
    (:func:`time.process_time`), which does not count the time the process spent waiting for a
    CPU while other programs ran; pass :func:`time.perf_counter` for wall-clock time.

    >>> t = best_times({"a": lambda: sum(range(100)), "b": lambda: None}, repeats=3)
    >>> sorted(t), all(v >= 0 for v in t.values())
    (['a', 'b'], True)
    """
    repeats = check_int("repeats", repeats, 1, MAX_REPEATS)
    if not runs:
        raise ValueError("runs must name at least one function to time, got none")
    best = {name: float("inf") for name in runs}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for run in runs.values():
            run()
        for _ in range(repeats):
            for name, run in runs.items():
                start = clock()
                run()
                best[name] = min(best[name], clock() - start)
    finally:
        if enabled:
            gc.enable()
    return best


def best_time(run: Callable[[], object], repeats: int = 5, *,
              clock: Callable[[], float] = time.process_time) -> float:
    """Minimum CPU time (or ``clock`` time) of ``repeats`` timed calls, after one untimed warm-up
    call (which pays one-off costs such as first imports and cold caches)."""
    return best_times({"run": run}, repeats, clock=clock)["run"]


#: Ratios within this factor of 1 (either way) are reported as "about as fast as": closer than
#: that, run-to-run noise on a shared machine can reverse the order.
SAME_SPEED = 1.15


def speed_words(speedup: float) -> str:
    """Words for a measured ``speedup`` (time of the reference divided by time of the subject),
    to follow "the translator was": "3.1 times faster than", "about as fast as" or "1.8 times
    slower than" (the factor rounded to one decimal, "slower" quoting the inverse ratio).

    >>> speed_words(3.14), speed_words(1.05), speed_words(0.57)
    ('3.1 times faster than', 'about as fast as', '1.8 times slower than')
    """
    x = check_real("speedup", speedup, 0.0, lo_open=True)
    if x >= SAME_SPEED:
        return f"{x:.1f} times faster than"
    if x <= 1 / SAME_SPEED:
        return f"{1 / x:.1f} times slower than"
    return "about as fast as"


def time_point(program: Program, make_state: StateFactory, size: int,
               repeats: int = 3) -> TimingPoint:
    """Time one run of ``program`` on ``make_state(size)`` with each engine (translator cold)."""
    size, repeats = _size_and_repeats(size, repeats)
    reference = Interpreter(program).run(make_state(size))
    t = best_times({"interp": lambda: Interpreter(program).run(make_state(size)),
                    "trans": lambda: BlockTranslator(program).run(make_state(size))}, repeats)
    return TimingPoint(size, reference.instructions, t["interp"], t["trans"])


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
    warm_engine = BlockTranslator(program)
    final = warm_engine.run(make_state(size))
    t = best_times({"interp": lambda: Interpreter(program).run(make_state(size)),
                    "cold": lambda: BlockTranslator(program).run(make_state(size)),
                    "warm": lambda: warm_engine.run(make_state(size))}, repeats)
    return Speedup(size, final.instructions, t["interp"], t["cold"], t["warm"],
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
