"""Chapter 3's figures: consolidating the small business's servers, the growth sweep, recovery.

The model is :mod:`virtbook.consolidation`; this module draws its results. The same drawing
function makes the static figure of the HTML book, which has no kernel, each frame of its
precomputed sweep, and each picture of the widget (:mod:`virtbook.widgets.consolidation`), so the
three cannot disagree. :func:`describe_consolidation` says in words what the figure shows (its
alt text, and the widget's summary).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from virtbook.consolidation import (FAILURES, ConsolidationResult, CostModel, ProtectionScheme,
                                    best_recovery, cost_comparison, recover)
from virtbook.figures import style

__all__ = ["draw_consolidation", "describe_consolidation", "draw_sweep", "draw_recovery"]


def _label_bars(ax, bars, texts: Sequence[str]) -> None:
    for bar, text in zip(bars, texts):
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    fontsize=8)


def draw_consolidation(result: ConsolidationResult, model: CostModel = CostModel()) -> Figure:
    """Three panels: the first host's day, machines and utilization, and yearly cost."""
    fig, axes = style.figure(style.COLUMN_WIDTH, 6.2, nrows=2, ncols=2)
    grid = axes[0, 0].get_gridspec()
    axes[0, 0].remove()
    axes[0, 1].remove()
    with style.book_style():
        top = fig.add_subplot(grid[0, :])
    ax_hosts, ax_cost = axes[1, 0], axes[1, 1]

    # (a) The first host after packing on summed traces: its VMs stacked over the day.
    placement = result.by_trace
    members = placement.hosts[0]
    hours = result.traces[0].hours
    stack = np.zeros_like(hours)
    for k, i in enumerate(members):
        t = result.traces[i]
        top.fill_between(hours, 100 * stack, 100 * (stack + t.utilization), step="post",
                         facecolor=style.color(k), alpha=0.55, hatch=style.hatch(k),
                         edgecolor="white", linewidth=0.0, label=f"{t.name} (peak {t.peak:.0%})")
        stack = stack + t.utilization
    sum_of_peaks = sum(result.traces[i].peak for i in members)
    top.axhline(100 * placement.capacity, color="black", linestyle="-", linewidth=1.4,
                label=f"usable capacity ({placement.capacity:.0%})")
    top.axhline(100 * sum_of_peaks, color=style.color(5), linestyle="--", linewidth=1.4,
                label=f"sum of peaks ({sum_of_peaks:.0%})")
    top.axhline(100 * stack.max(), color=style.color(2), linestyle=":", linewidth=1.6,
                label=f"peak of the sum ({stack.max():.0%})")
    top.set_xlim(0, 24)
    top.set_xticks(range(0, 25, 3))
    top.set_ylim(0, max(105.0, 100 * sum_of_peaks + 8))
    top.set_xlabel("hour of the day")
    top.set_ylabel("CPU utilization of host 1 (%)")
    top.set_title(f"(a) Host 1 of {placement.n_hosts}: "
                  f"{len(members)} VM{'s' if len(members) > 1 else ''} stacked over one day")
    top.legend(loc="upper left", ncols=2, fontsize=8)

    # (b) Machines needed, and the average utilization they run at.
    labels = ["before:\none per server", "packed on\nsum of peaks", "packed on\nsummed traces"]
    counts = [result.servers, result.by_peak.n_hosts + result.spare_hosts, result.hosts_after]
    utils = [result.work / c for c in counts]
    bars = ax_hosts.bar(range(3), counts, color=[style.color(i) for i in (0, 5, 2)],
                        hatch=[style.hatch(i) for i in (0, 5, 2)], edgecolor="white")
    _label_bars(ax_hosts, bars, [f"{c}, avg {u:.0%}" for c, u in zip(counts, utils)])
    ax_hosts.set_xticks(range(3), labels, fontsize=8)
    ax_hosts.set_ylabel("machines")
    ax_hosts.set_ylim(0, max(counts) * 1.25 + 0.5)
    ax_hosts.yaxis.get_major_locator().set_params(integer=True)
    spare = f" + {result.spare_hosts} spare" if result.spare_hosts else ""
    ax_hosts.set_title(f"(b) Machines{spare}, headroom {result.headroom:.0%}")

    # (c) Yearly cost before and after, stacked by kind.
    costs = cost_comparison(result, model)
    parts = [("hardware", "hardware / yr"), ("energy", "electricity / yr"),
             ("licences", "hypervisor licences / yr")]
    bottom = np.zeros(2)
    for k, (attr, label) in enumerate(parts):
        values = np.array([getattr(costs["before"], attr), getattr(costs["after"], attr)])
        if attr == "licences" and not values.any():
            continue
        ax_cost.bar([0, 1], values, bottom=bottom, color=style.color(k + 1),
                    hatch=style.hatch(k + 1), edgecolor="white", label=label)
        bottom = bottom + values
    totals = [costs["before"].total, costs["after"].total]
    for x, total in enumerate(totals):
        ax_cost.annotate(f"${total:,.0f}", (x, total), xytext=(0, 3), textcoords="offset points",
                         ha="center", va="bottom", fontsize=8)
    ax_cost.set_xticks([0, 1], ["before", "after"])
    ax_cost.set_ylabel("US dollars per year")
    ax_cost.set_ylim(0, max(totals) * 1.35)
    ax_cost.set_title("(c) Yearly cost (assumed prices)")
    ax_cost.legend(loc="upper right", fontsize=7)
    return fig


def describe_consolidation(result: ConsolidationResult, peak_load: float, headroom: float) -> str:
    """One sentence of what :func:`draw_consolidation` shows for ``result``: its alt text."""
    return (f"Consolidation of {result.servers} servers peaking at {peak_load:.0%} with "
            f"{headroom:.0%} headroom: {result.by_peak.n_hosts} hosts when packed on peaks, "
            f"{result.hosts_after} when packed on daily traces; average utilization rises "
            f"from {result.mean_utilization_before:.0%} to "
            f"{result.mean_utilization_after:.0%}.")


def draw_sweep(sweep: dict[str, np.ndarray]) -> Figure:
    """Hosts needed as the business grows, for both packing checks, against one per server."""
    fig, ax = style.figure(style.COLUMN_WIDTH, 3.4)
    n = sweep["servers"]
    series = [("one machine per server", n, 0), ("packed on sum of peaks", sweep["by_peak"], 5),
              ("packed on summed traces", sweep["by_trace"], 2)]
    for label, y, k in series:
        ax.plot(n, y, color=style.color(k), marker=style.marker(k), linestyle=style.linestyle(k),
                label=label)
    ax.set_xlabel("servers (VMs)")
    ax.set_ylabel("machines needed")
    ax.set_xticks(n)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left")
    return fig


def draw_recovery(schemes: Sequence[ProtectionScheme]) -> Figure:
    """Worst-case data loss (RPO) and downtime (RTO) per scheme, for both kinds of failure.

    A scheme with no usable copy after a failure is marked instead of drawn. The last row of each
    panel combines all schemes: the best surviving copy wins.
    """
    fig, axes = style.figure(style.COLUMN_WIDTH, 3.6, nrows=1, ncols=2, sharey=True)
    names = [s.name for s in schemes] + ["all three combined"]
    y = np.arange(len(names))
    titles = {"logical": "(a) Logical failure: virus, bad patch",
              "hardware": "(b) Hardware failure: disk or host lost"}
    lo, hi = 0.02, 100.0
    for ax, failure in zip(axes, FAILURES):
        outcomes = [recover(s, failure) for s in schemes] + [best_recovery(schemes, failure)]
        for k, (attr, label) in enumerate([("rpo_hours", "data lost, worst case (RPO)"),
                                           ("rto_hours", "time to restore (RTO)")]):
            values = [getattr(o, attr) for o in outcomes]
            shown = [v if math.isfinite(v) else 0.0 for v in values]
            ax.barh(y + (k - 0.5) * 0.38, shown, height=0.36, left=0.0,
                    color=style.color(k), hatch=style.hatch(k + 1), edgecolor="white",
                    label=label)
        for row, o in enumerate(outcomes):
            if not o.survives:
                ax.text(lo * 1.3, row, "no usable copy", va="center", fontsize=8,
                        color=style.color(5), fontweight="bold")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_xticks([0.05, 0.25, 1, 4, 24], ["3 min", "15 min", "1 h", "4 h", "24 h"])
        ax.set_title(titles[failure], fontsize=10)
        ax.set_xlabel("hours (log scale)")
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right", fontsize=7)
    return fig
