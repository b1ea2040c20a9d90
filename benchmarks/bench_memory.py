"""Time ``virtbook.memory.simulate`` on the default scenario (16 GiB host, 6 VMs, 600 s).

The overcommit widget must re-simulate and redraw within 100 ms (median); the simulation's share
of that budget is about 30 ms. This script runs the default scenario ``--runs`` times after a
warm-up and prints the median, the 95th percentile, the fastest and the slowest run of wall-clock
and CPU time, in milliseconds.

Usage (from the repository root)::

    python benchmarks/bench_memory.py            # 50 runs
    python benchmarks/bench_memory.py --runs 200
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import Summary, budget_line, count, header, time_calls

from virtbook.memory import default_scenario, simulate

#: The simulation's share of the widget's 100 ms budget per control change.
BUDGET_MS = 30.0


def measure(runs: int = 50, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``runs`` calls of ``simulate`` on the default scenario.

    CPU time (``time.process_time``) is reported too because on a shared machine the wall clock
    also counts the time other processes hold the cores.
    """
    host, vms, kwargs = default_scenario()
    return time_calls(lambda: simulate(host, vms, **kwargs), runs, warmup)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=count(1), default=50, help="timed runs (default 50)")
    args = parser.parse_args(argv)
    wall, cpu = measure(args.runs)
    host, vms, kwargs = default_scenario()
    steps = int(round(kwargs["duration_s"] / kwargs["dt_s"]))
    print("\n".join(header()))
    print(f"simulate(default_scenario): {len(vms)} VMs, {host.ram_mb} MB host, {steps} steps of "
          f"{kwargs['dt_s']:g} s, {args.runs} runs")
    for label, times in (("wall", wall), ("cpu ", cpu)):
        print(f"{label}: {Summary.of(times).line()}")
    print(budget_line("simulate() (wall clock)", Summary.of(wall), BUDGET_MS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
