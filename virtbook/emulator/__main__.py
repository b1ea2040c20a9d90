"""Measure the block translator's speedup over the interpreter on this machine.

    python -m virtbook.emulator            # the default: the sum loop, n = 20,000, best of 5
    python -m virtbook.emulator 50000 7    # n and the number of repetitions

Prints the best-of-N CPU times and the speedup, cold (translation included) and warm
(every block already in the cache), for the sum loop and the other chapter programs.
"""
from __future__ import annotations

import platform
import sys


def main(argv: list[str]) -> int:
    from . import measure_speedup
    from .programs import BUBBLE, FIB, SUM, bubble_state, fib_state, sum_state

    try:
        size = int(argv[0]) if argv else 20_000
        repeats = int(argv[1]) if len(argv) > 1 else 5
    except ValueError:
        print(__doc__)
        return 2

    def reversed_values(k: int):
        return bubble_state(list(range(k, 0, -1)))

    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"{'program':<14}{'size':>7}{'guest insns':>13}{'interp s':>10}{'cold s':>9}"
          f"{'warm s':>9}{'cold x':>8}{'warm x':>8}")
    cases = [("sum", SUM, sum_state, size), ("fibonacci", FIB, fib_state, size),
             ("bubble sort", BUBBLE, reversed_values, 120)]
    for name, program, make_state, n in cases:
        r = measure_speedup(program, make_state, n, repeats)
        print(f"{name:<14}{n:>7}{r.instructions:>13}{r.interpreter_s:>10.4f}"
              f"{r.translator_cold_s:>9.4f}{r.translator_warm_s:>9.4f}"
              f"{r.speedup_cold:>8.2f}{r.speedup_warm:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
