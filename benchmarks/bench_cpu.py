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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import Summary, budget_line, count, header, time_calls

from virtbook.cpu import default_scenario, simulate

#: simulate()'s share of the widget's 100 ms budget per control change.
BUDGET_MS = 40.0


def measure(runs: int, **overrides) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls of simulate() on the default scenario."""
    host, vms, kwargs = default_scenario()
    kwargs.update(overrides)
    return time_calls(lambda: simulate(host, vms, **kwargs), runs)


def rows(label: str, wall: list[float], cpu: list[float]) -> list[str]:
    return [f"{label:<16} wall {Summary.of(wall).line()}",
            f"{'':<16} cpu  {Summary.of(cpu).line()}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=count(1), default=50, help="timed runs per configuration")
    parser.add_argument("--all", action="store_true", help="also time every scheduler and mode")
    args = parser.parse_args(argv)
    host, vms, kwargs = default_scenario()
    print("\n".join(header()))
    print(
        f"default scenario: {host.pcpus} pCPUs, {len(vms)} VMs, "
        f"{sum(vm.vcpus for vm in vms)} vCPUs, {kwargs['duration_ms']} ms simulated, "
        f"scheduler={kwargs['scheduler']}, coschedule={kwargs['coschedule']}, runs={args.runs}"
    )
    wall, cpu = measure(args.runs)
    print("\n".join(rows("default", wall, cpu)))
    if args.all:
        for scheduler in ("rr", "credit", "cfs"):
            for mode in ("none", "relaxed", "strict"):
                print("\n".join(rows(f"{scheduler}/{mode}",
                                     *measure(args.runs, scheduler=scheduler, coschedule=mode))))
    print(budget_line("simulate() (wall clock)", Summary.of(wall), BUDGET_MS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
