"""Chapter 1's figures: the published latencies of the memory hierarchy, and a measurement.

The data and the measurement are :mod:`virtbook.hierarchy`'s; this module only draws them, each
bar or line with its own hatch or marker besides its colour.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from virtbook.figures import style
from virtbook.hierarchy import (KiB, MiB, AccessTimes, Cache, Level, format_bytes, format_ns,
                                published_levels)


def plot_published(levels: Sequence[Level] | None = None):
    """Horizontal bars of the published latencies on a log scale, one hatch per bar, labelled."""
    levels = list(levels) if levels is not None else published_levels()
    fig, ax = style.figure(height=3.9)
    ypos = np.arange(len(levels))[::-1]
    ax.set_axisbelow(True)
    for i, (y, lv) in enumerate(zip(ypos, levels)):
        # the hatch is drawn in the edge colour: light on the darkest fill, dark elsewhere
        edge = "#FFFFFF" if style.color(i) == "#000000" else "#333333"
        ax.barh(y, lv.latency_ns, color=style.color(i), hatch=style.hatch(i), edgecolor=edge,
                linewidth=0.6)
        ax.text(lv.latency_ns * 1.4, y, format_ns(lv.latency_ns), va="center", fontsize=8.5)
    ax.set_xscale("log")
    ax.set_yticks(ypos, [lv.name for lv in levels])
    ax.set_xlim(0.1, max(lv.latency_ns for lv in levels) * 40)
    ax.set_xlabel("Typical latency of one access (ns, log scale)")
    ax.grid(axis="y", visible=False)
    ax.set_title("Published latencies, registers to disk")
    return fig


def plot_measurement(times: AccessTimes, caches: Sequence[Cache] = ()):
    """Lines with markers: ns per access against array size, with the machine's cache sizes."""
    fig, ax = style.figure(height=3.8)
    sizes = np.array(times.sizes_bytes, dtype=float)
    for i, (label, ys) in enumerate((("sequential", times.sequential_ns),
                                     ("random", times.random_ns))):
        ax.plot(sizes, ys, color=style.color(i), marker=style.marker(i),
                linestyle=style.linestyle(i), label=f"{label} gather")
    top = max(times.random_ns + times.sequential_ns)
    for cache in caches:
        ax.axvline(cache.size_bytes, color="#555555", linestyle=":", linewidth=1)
        label = f"{cache.label}\n{format_bytes(cache.size_bytes)}"
        ax.text(cache.size_bytes * 1.08, top * 1.2, label, va="top", fontsize=8,
                color="#333333")
    ax.set_xscale("log", base=2)
    ticks = [s for s in times.sizes_bytes if s in (16 * KiB, 256 * KiB, 4 * MiB, 64 * MiB)
             or s == times.sizes_bytes[0] or s == times.sizes_bytes[-1]]
    ax.set_xticks(ticks, [format_bytes(s) for s in ticks])
    ax.set_ylim(0, top * 1.25)
    ax.set_xlabel("Array size (log scale)")
    ax.set_ylabel("Median time per access (ns)")
    ax.legend(loc="center left")
    ax.set_title("Measured on this machine: sequential vs random gathers")
    return fig
