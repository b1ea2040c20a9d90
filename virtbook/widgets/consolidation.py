"""Figures and the ipywidgets front end for chapter 3's consolidation demo.

The model lives in :mod:`virtbook.consolidation`; this module only draws its results and wires
three sliders (servers, peak load, headroom) to :func:`virtbook.consolidation.consolidate`. The
same drawing function makes the static figure of the HTML book, which has no kernel, and each
redraw of the widget, so the two cannot disagree.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from virtbook import plots
from virtbook.consolidation import (CostModel, ConsolidationResult, FAILURES, ProtectionScheme,
                                    best_recovery, consolidate, cost_comparison, recover)

__all__ = ["draw_consolidation", "draw_sweep", "draw_recovery", "update", "consolidation_widget"]


def _label_bars(ax, bars, texts: Sequence[str]) -> None:
    for bar, text in zip(bars, texts):
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    fontsize=8)


def draw_consolidation(result: ConsolidationResult, model: CostModel = CostModel()) -> Figure:
    """Three panels: the first host's day, machines and utilization, and yearly cost."""
    fig, axes = plots.figure(plots.COLUMN_WIDTH, 6.2, nrows=2, ncols=2)
    grid = axes[0, 0].get_gridspec()
    axes[0, 0].remove()
    axes[0, 1].remove()
    with plots.book_style():
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
                         facecolor=plots.color(k), alpha=0.55, hatch=plots.hatch(k),
                         edgecolor="white", linewidth=0.0, label=f"{t.name} (peak {t.peak:.0%})")
        stack = stack + t.utilization
    sum_of_peaks = sum(result.traces[i].peak for i in members)
    top.axhline(100 * placement.capacity, color="black", linestyle="-", linewidth=1.4,
                label=f"usable capacity ({placement.capacity:.0%})")
    top.axhline(100 * sum_of_peaks, color=plots.color(5), linestyle="--", linewidth=1.4,
                label=f"sum of peaks ({sum_of_peaks:.0%})")
    top.axhline(100 * stack.max(), color=plots.color(2), linestyle=":", linewidth=1.6,
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
    bars = ax_hosts.bar(range(3), counts, color=[plots.color(i) for i in (0, 5, 2)],
                        hatch=[plots.hatch(i) for i in (0, 5, 2)], edgecolor="white")
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
        ax_cost.bar([0, 1], values, bottom=bottom, color=plots.color(k + 1),
                    hatch=plots.hatch(k + 1), edgecolor="white", label=label)
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


def draw_sweep(sweep: dict[str, np.ndarray]) -> Figure:
    """Hosts needed as the business grows, for both packing checks, against one per server."""
    fig, ax = plots.figure(plots.COLUMN_WIDTH, 3.4)
    n = sweep["servers"]
    series = [("one machine per server", n, 0), ("packed on sum of peaks", sweep["by_peak"], 5),
              ("packed on summed traces", sweep["by_trace"], 2)]
    for label, y, k in series:
        ax.plot(n, y, color=plots.color(k), marker=plots.marker(k), linestyle=plots.linestyle(k),
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
    fig, axes = plots.figure(plots.COLUMN_WIDTH, 3.6, nrows=1, ncols=2, sharey=True)
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
                    color=plots.color(k), hatch=plots.hatch(k + 1), edgecolor="white",
                    label=label)
        for row, o in enumerate(outcomes):
            if not o.survives:
                ax.text(lo * 1.3, row, "no usable copy", va="center", fontsize=8,
                        color=plots.color(5), fontweight="bold")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_xticks([0.05, 0.25, 1, 4, 24], ["3 min", "15 min", "1 h", "4 h", "24 h"])
        ax.set_title(titles[failure], fontsize=10)
        ax.set_xlabel("hours (log scale)")
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right", fontsize=7)
    return fig


def update(servers: int = 2, peak_load: float = 0.45, headroom: float = 0.2, *,
           spare_hosts: int = 0, seed: int = 0, model: CostModel = CostModel()) -> Figure:
    """The widget's callback: run the model and draw it (pure: no display, no state)."""
    return draw_consolidation(consolidate(servers, peak_load, headroom, spare_hosts=spare_hosts,
                                          seed=seed), model)


def servers_sweep(servers: tuple[int, ...] = (2, 4, 8, 12), start: int = 2, *,
                  peak_load: float = 0.45, headroom: float = 0.2, seed: int = 0,
                  model: CostModel = CostModel()) -> str:
    """The kernel-free view for the HTML book: the consolidation figure for each number of
    servers in ``servers``, behind a slider (:func:`virtbook.plots.sweep_html`)."""
    if not servers or start not in servers:
        raise ValueError(f"start must be one of servers {servers!r}, got {start!r}")
    frames, labels, alts = [], [], []
    for n in servers:
        result = consolidate(n, peak_load, headroom, seed=seed)
        frames.append(plots.png_bytes(draw_consolidation(result, model)))
        labels.append(f"{n} servers")
        alts.append(f"Consolidation of {n} servers peaking at {peak_load:.0%} with {headroom:.0%} "
                    f"headroom: {result.by_peak.n_hosts} hosts when packed on peaks, "
                    f"{result.hosts_after} when packed on daily traces; average utilization rises "
                    f"from {result.mean_utilization_before:.0%} to "
                    f"{result.mean_utilization_after:.0%}.")
    return plots.sweep_html(frames, labels, alts, name="consolidation-servers",
                            parameter="Servers to consolidate", start=servers.index(start))


def consolidation_widget(servers: int = 2, peak_load: float = 0.45, headroom: float = 0.2, *,
                         seed: int = 0, model: CostModel = CostModel()):
    """Sliders for servers, peak load, headroom and spare hosts that redraw :func:`update`."""
    import io

    import ipywidgets as widgets

    style = {"description_width": "initial"}
    w_servers = widgets.IntSlider(value=servers, min=1, max=12, step=1,
                                  description="servers", style=style)
    w_peak = widgets.FloatSlider(value=peak_load, min=0.05, max=1.0, step=0.05,
                                 description="peak load", readout_format=".0%", style=style)
    w_head = widgets.FloatSlider(value=headroom, min=0.0, max=0.5, step=0.05,
                                 description="headroom", readout_format=".0%", style=style)
    w_spare = widgets.IntSlider(value=0, min=0, max=2, step=1, description="spare hosts",
                                style=style)
    # An Image rather than an Output widget: nbclient can hang for minutes waiting on an Output
    # widget that clears itself while the notebook is executed (jupyter/nbclient#312).
    image = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        fig = update(w_servers.value, w_peak.value, w_head.value, spare_hosts=w_spare.value,
                     seed=seed, model=model)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        image.value = buf.getvalue()

    for w in (w_servers, w_peak, w_head, w_spare):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_servers, w_peak]), widgets.HBox([w_head, w_spare]), image])
