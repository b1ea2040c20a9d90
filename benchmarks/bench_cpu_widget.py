"""Time the scheduling widget's update callback: simulate + redraw (Agg) + PNG, as one change costs.

The issue's budget: a control change re-simulates and redraws in at most 100 ms median for the
default scenario (4 pCPUs, 6 VMs, 10 s simulated). This script changes one control at a time,
starting from the default settings, in a fixed pseudo-random order (numpy default_rng(seed)), and
times :func:`virtbook.widgets.cpu.render` (what the widget runs on every change) with
time.perf_counter. Run from the repository root:

    python benchmarks/bench_cpu_widget.py                 # 60 changes of any control
    python benchmarks/bench_cpu_widget.py --changes 200 --seed 1
    python benchmarks/bench_cpu_widget.py --pixel-ratio 2 # the figure drawn for a high-DPI screen

The figure is the widget's own (:func:`virtbook.widgets.cpu.demo_dashboard`): 550 x 580 px, or
twice that each way with ``--pixel-ratio 2``.

It prints the median and 95th percentile of the whole callback in wall-clock time and in the
process's CPU time (time.process_time, less disturbed by other jobs on a shared machine), of its
simulate and draw parts, and the same per scheduler and co-scheduling mode (the simulated window
depends on co-scheduling and on the number of busy vCPUs: see
virtbook.widgets.cpu.simulation_window_ms).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import Stopwatch, Summary, budget_line, count, header, time_calls

import matplotlib

matplotlib.use("Agg")

import numpy as np

from virtbook.cpu import entitlement, simulate
from virtbook.widgets import cpu as demo

#: The widget's budget per control change (median, simulate + redraw).
BUDGET_MS = 100.0


def change_one_control(settings: demo.DemoSettings, rng: np.random.Generator) -> demo.DemoSettings:
    """A copy of ``settings`` with one control moved, as a reader would move it."""
    what = rng.choice(["pcpus", "scheduler", "coschedule", "boost", "vcpus", "weight", "cap",
                       "workload"], p=[0.1, 0.1, 0.1, 0.05, 0.2, 0.15, 0.15, 0.15])
    if what == "pcpus":
        return replace(settings, pcpus=int(rng.integers(2, demo.MAX_PCPUS + 1)))
    if what == "scheduler":
        return replace(settings, scheduler=str(rng.choice(demo.SCHEDULERS)))
    if what == "coschedule":
        return replace(settings, coschedule=str(rng.choice(demo.COSCHEDULE)))
    if what == "boost":
        return replace(settings, boost=not settings.boost)
    i = int(rng.integers(len(settings.vms)))
    row = settings.vms[i]
    if what == "vcpus":
        limit = settings.pcpus if settings.coschedule == "strict" else demo.MAX_VCPUS
        row = replace(row, vcpus=int(rng.integers(1, limit + 1)))
    elif what == "weight":
        row = replace(row, weight=int(rng.choice(demo.WEIGHTS)))
    elif what == "cap":
        row = replace(row, cap=int(rng.choice([0, 0, 25, 50, 100, 150, 200])))
    else:
        row = replace(row, workload=str(rng.choice(list(demo.WORKLOADS))))
    vms = settings.vms[:i] + (row,) + settings.vms[i + 1:]
    return replace(settings, vms=vms)


def fits(settings: demo.DemoSettings) -> bool:
    """Strict co-scheduling refuses VMs wider than the host (the widget shows a message)."""
    return settings.coschedule != "strict" or all(v.vcpus <= settings.pcpus for v in settings.vms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=count(1), default=60, help="control changes to time")
    parser.add_argument("--seed", type=count(0), default=0, help="seed of the order of changes")
    parser.add_argument("--pixel-ratio", type=int, choices=(1, 2), default=1,
                        help="draw the figure at 1x (the widget's default) or 2x (high-DPI)")
    args = parser.parse_args(argv)
    settings = demo.default_settings()
    board = demo.demo_dashboard([v.name for v in settings.vms], args.pixel_ratio)
    print("\n".join(header()))
    width, height = board.size_px
    print(f"figure: {width} x {height} px (pixel ratio {args.pixel_ratio})")

    # The default scenario itself, redrawn repeatedly (the first call builds the background).
    default, default_cpu = time_calls(lambda: demo.render(settings, board), 20)
    # As the widget does after its first frame: every host size's background drawn ahead.
    with Stopwatch() as warm:
        board.prewarm(range(1, demo.MAX_PCPUS + 1))
    print(f"prewarm of {board.prewarmed} backgrounds (once, when the widget opens): "
          f"{warm.wall_s * 1000:.0f} ms")
    print(f"default scenario, same settings again     {Summary.of(default).line()}")
    print(f"  (CPU time)                              {Summary.of(default_cpu).line()}")

    rng = np.random.default_rng(args.seed)
    total, sim, draw, total_cpu = [], [], [], []
    by_mode: dict[str, list[float]] = {}
    done = 0
    while done < args.changes:
        candidate = change_one_control(settings, rng)
        if not fits(candidate):
            continue
        settings = candidate
        host, vms, kwargs = demo.scenario_from_settings(settings)
        with Stopwatch() as sw:
            result = simulate(host, vms, **kwargs)
            simulated = sw.lap()
            entitled = entitlement(host, vms, kwargs["scheduler"])
            board.update(result, entitled, demo.title_for(settings, kwargs["duration_ms"]))
            board.png()
        total_cpu.append(sw.cpu_s)
        total.append(sw.wall_s)
        sim.append(simulated)
        draw.append(sw.wall_s - simulated)
        by_mode.setdefault(f"{settings.scheduler}/{settings.coschedule}", []).append(total[-1])
        done += 1
    print(f"one control change (simulate + redraw)    {Summary.of(total).line()}")
    print(f"  (CPU time)                              {Summary.of(total_cpu).line()}")
    print(f"  of which simulate                       {Summary.of(sim).line()}")
    print(f"  of which redraw + PNG                   {Summary.of(draw).line()}")
    print(f"  full redraws (background rebuilt): {board.full_draws} of {args.changes + 20}")
    for mode in sorted(by_mode):
        print(f"  {mode:<16}                        {Summary.of(by_mode[mode]).line()}")
    print(budget_line("a control change (wall clock)", Summary.of(total), BUDGET_MS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
