"""Time the overcommit explorer's update callback: re-simulate and redraw (Agg), per control change.

Chapter 6's widget must answer a control change within 100 ms (median) for the default scenario
(16 GiB host, 6 VMs, 10 simulated minutes). This script builds the explorer once, as a reader's
notebook does, then makes ``--runs`` control changes and times
:meth:`virtbook.widgets.memory.OvercommitExplorer.apply` for each: build the scenario, simulate,
update the dashboard's artists, render with the Agg canvas and encode the PNG the widget shows.

The changes are a seeded random walk that starts from the default controls and, like a reader
moving one control at a time, changes one control per step to another value the widget offers;
every few steps the walk returns to the default controls, so it stays near the default scenario.
Changes that only alter the data are drawn over a cached background (blitting); changes that
move an axis limit or the set of VMs draw the whole figure. The script prints median, 95th
percentile and maximum of wall-clock and CPU time, the split into simulation and drawing, and
how many updates needed a full redraw.

Usage (from the repository root)::

    python benchmarks/bench_memory_widget.py              # 60 changes, seed 0
    python benchmarks/bench_memory_widget.py --runs 200 --seed 1
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import Stopwatch, Summary, budget_line, count, header

import numpy as np

from virtbook.widgets.memory import Controls, OvercommitExplorer

#: The widget's budget per control change (median, simulate + redraw).
BUDGET_MS = 100.0

#: Values each control can take in the widget (its slider steps, options or check states).
CHOICES = {
    "ram_gib": list(range(4, 65)),
    "n_vms": list(range(1, 13)),
    "size_scale": [x / 4 for x in range(1, 9)],
    "activity": [x / 4 for x in range(1, 9)],
    "tau": [round(x * 0.05, 2) for x in range(0, 20)],
    "guest_os": ["mixed", "linux", "windows"],
    "balloon": [True, False],
    "share": [True, False],
    "compress": [True, False],
    "swap": [True, False],
    "salting": [True, False],
}


def control_walk(runs: int, seed: int = 0, reset_every: int = 5) -> list[Controls]:
    """``runs`` control settings, each differing from the previous one in one control."""
    rng = np.random.default_rng(seed)
    names = sorted(CHOICES)
    current = Controls()
    walk = []
    for k in range(runs):
        if k and k % reset_every == 0:
            current = Controls()
        else:
            name = names[int(rng.integers(len(names)))]
            options = [v for v in CHOICES[name] if v != getattr(current, name)]
            current = dataclasses.replace(current, **{name: options[int(rng.integers(len(options)))]})
        walk.append(current)
    return walk


def measure(runs: int = 60, seed: int = 0) -> dict[str, list[float]]:
    """Wall and CPU seconds per update, with the simulation/drawing split and the redraw kind."""
    explorer = OvercommitExplorer()
    for c in (Controls(tau=0.5), Controls()):  # warm-up: first blit, caches filled
        explorer.apply(c)
    wall, cpu, sim, draw, full = [], [], [], [], []
    for c in control_walk(runs, seed):
        before = explorer.dashboard.full_draws
        with Stopwatch() as sw:
            explorer.apply(c)
        wall.append(sw.wall_s)
        cpu.append(sw.cpu_s)
        sim.append(explorer.last_timing[0])
        draw.append(explorer.last_timing[1])
        full.append(float(explorer.dashboard.full_draws > before))
    return {"wall": wall, "cpu": cpu, "simulate": sim, "draw": draw, "full": full}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=count(1), default=60,
                        help="timed control changes (default 60)")
    parser.add_argument("--seed", type=count(0), default=0,
                        help="seed of the control walk (default 0)")
    args = parser.parse_args(argv)
    m = measure(args.runs, args.seed)
    n_full = int(sum(m["full"]))
    print("\n".join(header()))
    print(f"overcommit explorer update (scenario + simulate + redraw + PNG), {args.runs} control "
          f"changes, walk seed {args.seed}; {n_full} full redraws, {args.runs - n_full} blitted")
    for label in ("wall", "cpu", "simulate", "draw"):
        print(f"{label:>8}: {Summary.of(m[label]).line()}")
    blit = [w for w, f in zip(m["wall"], m["full"]) if not f]
    fullw = [w for w, f in zip(m["wall"], m["full"]) if f]
    for label, xs in (("blitted", blit), ("full", fullw)):
        if xs:
            print(f"{label:>8}: {Summary.of(xs).line()} wall")
    print(budget_line("an update (wall clock)", Summary.of(m["wall"]), BUDGET_MS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
