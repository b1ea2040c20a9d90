"""Time ``virtbook.memory.simulate`` on the default scenario (16 GiB host, 6 VMs, 600 s).

The overcommit widget must re-simulate and redraw within 100 ms (median); the simulation's share
of that budget is about 30 ms. This script runs the default scenario ``--runs`` times after a
warm-up and prints the median, the 95th percentile and the fastest run, in milliseconds.

Usage (from the repository root)::

    python benchmarks/bench_memory.py            # 50 runs
    python benchmarks/bench_memory.py --runs 200
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from virtbook.memory import default_scenario, simulate  # noqa: E402


def measure(runs: int = 50, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``runs`` calls of ``simulate`` on the default scenario.

    CPU time (``time.process_time``) is reported too because on a shared machine the wall clock
    also counts the time other processes hold the cores.
    """
    host, vms, kwargs = default_scenario()
    for _ in range(warmup):
        simulate(host, vms, **kwargs)
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        simulate(host, vms, **kwargs)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between order statistics."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs (default 50)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be an integer of 1 or more, got {args.runs}")
    wall, cpu = measure(args.runs)
    host, vms, kwargs = default_scenario()
    steps = int(round(kwargs["duration_s"] / kwargs["dt_s"]))
    print(f"simulate(default_scenario): {len(vms)} VMs, {host.ram_mb} MB host, {steps} steps of "
          f"{kwargs['dt_s']:g} s, {args.runs} runs")
    for label, times in (("wall", wall), ("cpu ", cpu)):
        med = statistics.median(times) * 1000
        p95 = percentile(times, 95) * 1000
        print(f"{label}: median {med:.1f} ms   p95 {p95:.1f} ms   min {min(times) * 1000:.1f} ms")
    if hasattr(os, "getloadavg"):
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    med = statistics.median(wall) * 1000
    print(f"budget 30 ms (wall-clock median): {'met' if med <= 30 else 'exceeded'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
