"""Time virtbook.cpu.simulate() on the default scenario (4 pCPUs, 6 VMs, 10 s simulated).

The scheduling widget re-simulates and redraws on every change and must answer within 100 ms
(median), so simulate() itself has a budget of about 40 ms. Run from the repository root:

    python benchmarks/bench_cpu.py            # 50 runs of the default scenario
    python benchmarks/bench_cpu.py --runs 20 --all   # also every scheduler x co-scheduling mode

It prints the median and 95th percentile of wall-clock time (time.perf_counter) and of the
process's CPU time (time.process_time), which is less disturbed by other jobs on a shared machine.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from virtbook.cpu import default_scenario, simulate  # noqa: E402


def measure(runs: int, **overrides) -> tuple[np.ndarray, np.ndarray]:
    """Wall and CPU seconds of ``runs`` calls of simulate() on the default scenario."""
    host, vms, kwargs = default_scenario()
    kwargs.update(overrides)
    simulate(host, vms, **kwargs)  # warm-up: imports, first allocations
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        simulate(host, vms, **kwargs)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return np.array(wall), np.array(cpu)


def row(label: str, wall: np.ndarray, cpu: np.ndarray) -> str:
    ms = 1000.0
    return (
        f"{label:<22} wall median {np.median(wall) * ms:6.1f} ms"
        f"  p95 {np.percentile(wall, 95) * ms:6.1f} ms"
        f"   cpu median {np.median(cpu) * ms:6.1f} ms  p95 {np.percentile(cpu, 95) * ms:6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per configuration")
    parser.add_argument("--all", action="store_true", help="also time every scheduler and mode")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    host, vms, kwargs = default_scenario()
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(
        f"default scenario: {host.pcpus} pCPUs, {len(vms)} VMs, "
        f"{sum(vm.vcpus for vm in vms)} vCPUs, {kwargs['duration_ms']} ms simulated, "
        f"scheduler={kwargs['scheduler']}, coschedule={kwargs['coschedule']}, runs={args.runs}"
    )
    wall, cpu = measure(args.runs)
    print(row("default", wall, cpu))
    if args.all:
        for scheduler in ("rr", "credit", "cfs"):
            for mode in ("none", "relaxed", "strict"):
                w, c = measure(args.runs, scheduler=scheduler, coschedule=mode)
                print(row(f"{scheduler}/{mode}", w, c))
    budget = 40.0
    verdict = "within" if statistics.median(wall) * 1000 <= budget else "OVER"
    print(f"median wall time is {verdict} the {budget:.0f} ms budget for simulate()")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
