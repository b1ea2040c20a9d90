"""Figures for the vCPU scheduling simulator: the chapter 5 dashboard, its widget, and lab L5.

The simulator in :mod:`virtbook.cpu` stays pure (numpy only); this module turns a
:class:`~virtbook.cpu.SimResult` into pictures. Its centre is :class:`SchedulerDashboard`, a
four-panel figure that is built once and then updated in place, so that the interactive widget can
redraw in a few tens of milliseconds:

* a timeline (Gantt chart) of which vCPU ran on which pCPU, for a short window of the run
  (a full 10-second timeline has thousands of slices and is unreadable anyway);
* each VM's CPU share (in pCPUs) against its *entitlement*, the share the scheduler's weights and
  limits promise it (:func:`virtbook.cpu.entitlement`);
* %RDY and %CSTP per VM, with esxtop's meanings (Broadcom KB 387750, "Understanding the CPU ready
  values in the vSphere Client advanced performance charts"); their sum is the guest's steal time;
* the distribution (empirical CDF) of wake-to-run latency, the delay between an I/O completion and
  the moment the waiting vCPU runs again.

Every VM keeps one colour and one hatch pattern (or marker and dash style) in all four panels, so no
panel relies on colour alone (:mod:`virtbook.figures.style`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from virtbook._validate import check_bool, check_int, check_real
from virtbook.cpu import SimResult
from virtbook.figures import style
from virtbook.figures.dashboard import BlittingDashboard

#: The per-vCPU %RDY above which practitioners usually start to worry (see chapter 5, "CPU ready
#: and overcommitment", for where the figure comes from and how firm it is).
RDY_RULE_OF_THUMB_PCT = 10.0
#: The colour of that threshold line: the palette's vermillion (Okabe-Ito #D55E00).
RULE_COLOUR = style.PALETTE[5]

#: The latency panel's fixed range; a wake-up later than this is drawn at the edge.
LATENCY_AXIS_MAX_MS = 10_000.0


# ---------------------------------------------------------------------------------------------
# Small pure helpers the panels use (tested on their own)
# ---------------------------------------------------------------------------------------------


def _boxes(arr: np.ndarray, vm_index: int, window: tuple[float, float],
           height: float = 0.8) -> list[np.ndarray]:
    """The boxes of one VM from a timeline array (pcpu, start, end, vm, vcpu), vectorised."""
    if arr.size == 0:
        return []
    t0, t1 = window
    sel = arr[(arr[:, 3] == vm_index) & (arr[:, 2] > t0) & (arr[:, 1] < t1)]
    if sel.size == 0:
        return []
    p = sel[:, 0]
    s = np.maximum(sel[:, 1], t0)
    e = np.minimum(sel[:, 2], t1)
    lo, hi = p - height / 2.0, p + height / 2.0
    corners = np.stack([np.column_stack([s, lo]), np.column_stack([e, lo]),
                        np.column_stack([e, hi]), np.column_stack([s, hi])], axis=1)
    return list(corners)


def boxes_path(boxes: Sequence[np.ndarray]) -> Path:
    """One compound path made of ``boxes`` (each a 4 x 2 array of corners).

    Agg fills and hatches a compound path in one pass, where a collection of the same boxes is
    hatched box by box (measured: 800 hatched boxes draw in about 6 ms as one path, about 130 ms
    as a collection), which is what keeps the timeline cheap to redraw.

    >>> boxes_path([np.array([[0, 0], [1, 0], [1, 1], [0, 1]])]).vertices.shape
    (5, 2)
    """
    if not boxes:
        return Path(np.zeros((1, 2)), [Path.MOVETO])
    verts = np.concatenate([np.vstack([b, b[:1]]) for b in boxes])
    codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY],
                    len(boxes))
    return Path(verts, codes)


def ecdf(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted samples and the fraction of samples at or below each: the empirical CDF.

    >>> x, y = ecdf(np.array([3.0, 1.0, 2.0]))
    >>> x.tolist(), [round(float(v), 3) for v in y]
    ([1.0, 2.0, 3.0], [0.333, 0.667, 1.0])
    """
    x = np.sort(np.asarray(samples, dtype=float))
    if x.size == 0:
        return x, x
    return x, np.arange(1, x.size + 1) / x.size


def _check_window(window_ms) -> tuple[float, float]:
    try:
        t0, t1 = (float(v) for v in window_ms)
    except (TypeError, ValueError):
        raise ValueError(
            f"window_ms must be a pair (start, end) in ms, got {window_ms!r}") from None
    check_real("window_ms start", t0, 0.0)
    if not t1 > t0:
        raise ValueError(f"window_ms must have end > start, got {window_ms!r}")
    return t0, t1


# ---------------------------------------------------------------------------------------------
# The four-panel dashboard
# ---------------------------------------------------------------------------------------------


class SchedulerDashboard(BlittingDashboard):
    """The chapter's four-panel figure, built once for a fixed list of VMs and updated in place.

    ``update(result, entitled)`` redraws every panel from a new :class:`SimResult` by changing
    the data of existing artists (collections, bars, lines) rather than clearing the axes.
    :meth:`png` renders the figure with Agg into PNG bytes for an ``ipywidgets.Image``
    (:class:`virtbook.figures.dashboard.BlittingDashboard` does the rendering).

    With ``blit=True`` (the widget's setting) the parts that do not depend on the data (axes,
    ticks, labels, the VM legend) are rendered into a background image and only the data artists,
    the latency legend and the title are drawn over it on each update. The background depends only
    on the host size and the timeline's window, so one is kept per host size, and :meth:`prewarm`
    draws them all ahead of time: a control change is then a blit, and the benchmark
    (benchmarks/bench_cpu_widget.py) finds changes well within the widget's 100 ms budget. With
    ``blit=False`` (the default) the figure is an ordinary matplotlib figure that can be displayed
    or glued into the book.

    ``compact=True`` sets the text in :data:`virtbook.figures.style.DEMO_STYLE`, for a figure shown at its
    drawn size beside a demo's controls (smaller than a book figure); ``dpi`` is the pixels per
    inch of :meth:`png`: ``style.DPI`` for an ordinary screen, twice that for a high-DPI one.
    """

    def __init__(
        self,
        vm_names: Sequence[str],
        window_ms: tuple[float, float] = (0.0, 300.0),
        width: float = style.COLUMN_WIDTH,
        height: float = 6.8,
        blit: bool = False,
        compact: bool = False,
        dpi: int = style.DPI,
    ) -> None:
        names = tuple(vm_names)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"vm_names must be a non-empty sequence of names, got {vm_names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"vm_names must be unique, got {names!r}")
        check_bool("blit", blit)
        check_bool("compact", compact)
        dpi = check_int("dpi", dpi, 30, 600)
        self.vm_names = names
        self.window_ms = _check_window(window_ms)
        check_real("width", width, 2.0, 30.0)
        check_real("height", height, 2.0, 30.0)
        self.compact = compact
        with plt.rc_context(style.DEMO_STYLE if compact else {}):
            fig, axes = style.figure(width, height, dpi=dpi, nrows=2, ncols=2)
        # Rendered backgrounds (axes, ticks, legend: all but the data), by (pCPUs, window end):
        # one per host size and window, a few MB each.
        super().__init__(fig, blit=blit, backgrounds=16)
        with plt.rc_context(style.DEMO_STYLE if compact else {}):
            self._build(names, axes)

    def _build(self, names: tuple[str, ...], axes) -> None:
        """Make the four panels and every artist that :meth:`update` changes."""
        blit = self.blit
        (self.ax_tl, self.ax_share), (self.ax_rdy, self.ax_lat) = axes
        self._key = None
        self.prewarmed = 0
        """How many backgrounds :meth:`prewarm` rendered ahead of time."""
        n = len(names)
        x = np.arange(n)

        # Timeline: one compound path of boxes per VM, coloured and hatched per VM.
        self._boxes = []
        for i, _ in enumerate(names):
            patch = PathPatch(boxes_path([]), facecolor=style.color(i), edgecolor="#333333",
                              linewidth=0.3, hatch=style.hatch(i))
            self.ax_tl.add_patch(patch)
            self._boxes.append(patch)
        self.ax_tl.set_xlim(*self.window_ms)
        self.ax_tl.set_xlabel("time (ms)")
        self.ax_tl.set_ylabel("pCPU")
        self.ax_tl.grid(False)
        self.ax_tl.set_title("Who ran where")

        # Share against entitlement.
        self._share = self.ax_share.bar(x, np.zeros(n), 0.7,
                                        color=[style.color(i) for i in range(n)],
                                        hatch=[style.hatch(i) for i in range(n)],
                                        edgecolor="#333333", linewidth=0.5)
        # The part of a spinlock guest's share spent spinning: dotted while the lock holder runs
        # (ordinary lock contention), crossed while the holder is descheduled (lock-holder
        # preemption). The hypervisor cannot tell spinning from work, so without these the bar
        # of a spinlock guest looks just like that of a CPU-bound one.
        self._spin = self.ax_share.bar(x, np.zeros(n), 0.7, color="#FFFFFF", hatch="...",
                                       edgecolor="#333333", linewidth=0.5)
        self._lhp = self.ax_share.bar(x, np.zeros(n), 0.7, color="#FFFFFF", hatch="xxxx",
                                      edgecolor="#000000", linewidth=0.5)
        self._ent = LineCollection([], colors="#000000", linewidths=2.2)
        self.ax_share.add_collection(self._ent)
        self.ax_share.set_xticks(x, names, rotation=30, ha="right")
        self.ax_share.set_ylabel("CPU share (pCPUs)")
        self.ax_share.set_title("Share (bars) vs entitlement (black)")
        self.ax_share.legend(
            handles=[Patch(facecolor="#FFFFFF", hatch="...", edgecolor="#333333",
                           label="spinning, holder running"),
                     Patch(facecolor="#FFFFFF", hatch="xxxx", edgecolor="#000000",
                           label="spinning, holder preempted")],
            loc="upper right", fontsize=7, frameon=True, framealpha=0.9, edgecolor="#DDDDDD")

        # %RDY and %CSTP, stacked: together the guest's steal time.
        self._rdy = self.ax_rdy.bar(x, np.zeros(n), 0.7, color="#BBBBBB", edgecolor="#333333",
                                    linewidth=0.5, label="%RDY")
        self._cstp = self.ax_rdy.bar(x, np.zeros(n), 0.7, color="#555555", hatch="//",
                                     edgecolor="#333333", linewidth=0.5, label="%CSTP")
        self.ax_rdy.axhline(RDY_RULE_OF_THUMB_PCT, color=RULE_COLOUR, linestyle="--", linewidth=1.2)
        self._rule = self.ax_rdy.annotate(
            f"{RDY_RULE_OF_THUMB_PCT:g}% rule of thumb", (0.0, RDY_RULE_OF_THUMB_PCT),
            xycoords=("axes fraction", "data"), xytext=(2, 2), textcoords="offset points",
            ha="left", va="bottom", fontsize=8, color=RULE_COLOUR)
        self.ax_rdy.set_xticks(x, names, rotation=30, ha="right")
        self.ax_rdy.set_ylabel("% of time, mean per vCPU")
        self.ax_rdy.set_title("%RDY (plain) + %CSTP (hatched)")
        self.ax_rdy.set_ylim(0, 105)

        # Wake-to-run latency CDF, one line per VM (empty for VMs that never block).
        self._lat = []
        for i, name in enumerate(names):
            (line,) = self.ax_lat.plot([], [], drawstyle="steps-post", color=style.color(i),
                                       linestyle=style.linestyle(i), label=name)
            self._lat.append(line)
        self.ax_lat.set_xscale("symlog", linthresh=0.1)
        self.ax_lat.set_xlim(0, LATENCY_AXIS_MAX_MS)
        self.ax_lat.set_xticks([0, 0.1, 1, 10, 100, 1000, 10000])
        self.ax_lat.set_ylim(0, 1.02)
        self.ax_lat.set_xlabel("wake-to-run latency (ms)")
        self.ax_lat.set_ylabel("fraction of wake-ups")
        self.ax_lat.set_title("Wake-up latency")
        self._lat_note = self.ax_lat.text(0.5, 0.5, "", transform=self.ax_lat.transAxes,
                                          ha="center", va="center", fontsize=9)
        self._title = self.fig.suptitle("", fontsize=10 if self.compact else 11,
                                        fontweight="bold")

        # One legend for the whole figure: each VM's colour and hatch (the second channel).
        self.fig.legend(
            handles=[Patch(facecolor=style.color(i), hatch=style.hatch(i), edgecolor="#333333",
                           linewidth=0.5, label=name) for i, name in enumerate(names)],
            loc="outside lower center", ncols=min(n, 6), fontsize=8)

        self._lat_legend = None
        self._dynamic = [*self._boxes, *self._share, *self._spin, *self._lhp, self._ent, *self._rdy, *self._cstp,
                         self._rule, *self._lat, self._lat_note]
        for artist in (*self._dynamic, self._title):
            artist.set_animated(blit)

    # -- updating ---------------------------------------------------------------------------
    def update(
        self,
        result: SimResult,
        entitled: Mapping[str, float] | None = None,
        title: str | None = None,
    ) -> Figure:
        """Show ``result`` (and each VM's ``entitled`` share, if given); return the figure."""
        if not isinstance(result, SimResult):
            raise ValueError(f"result must be a SimResult, got {result!r}")
        if tuple(result.vm_names) != self.vm_names:
            raise ValueError(
                f"result must have the dashboard's VMs {self.vm_names}, "
                f"got {tuple(result.vm_names)}"
            )
        names = self.vm_names

        t0, t1 = self.window_ms
        t1 = min(t1, result.duration_ms)
        arr = result.timeline_array()
        window = arr[(arr[:, 2] > t0) & (arr[:, 1] < t1)] if arr.size else arr
        for i, patch in enumerate(self._boxes):
            patch.set_path(boxes_path(_boxes(window, i, (t0, t1))))
        self._set_host(result.pcpus, t1)

        share = [result.cpu_share[nm] for nm in names]
        for bar, h in zip(self._share, share):
            bar.set_height(h)
        # Spinning is CPU time the guest used without progress: drawn inside the top of its bar.
        dur = result.duration_ms
        for i, nm in enumerate(names):
            spin = min(result.spin_ms[nm] / dur, share[i])
            lhp = min(result.lhp_spin_ms[nm] / dur, spin)
            self._spin[i].set_y(share[i] - spin)
            self._spin[i].set_height(spin - lhp)
            self._lhp[i].set_y(share[i] - lhp)
            self._lhp[i].set_height(lhp)
            # Hatched patches are costly to rasterise: skip the empty ones (most VMs never spin).
            self._spin[i].set_visible(spin - lhp > 0)
            self._lhp[i].set_visible(lhp > 0)
        top = max(share)
        if entitled is not None:
            missing = [nm for nm in names if nm not in entitled]
            if missing:
                raise ValueError(f"entitled must give a share for every VM, missing {missing}")
            ent = [float(entitled[nm]) for nm in names]
            self._ent.set_segments([[(i - 0.42, e), (i + 0.42, e)] for i, e in enumerate(ent)])
            top = max(top, max(ent))
        else:
            self._ent.set_segments([])

        rdy = [result.ready_pct[nm] for nm in names]
        cstp = [result.costop_pct[nm] for nm in names]
        for bar_r, bar_c, r, c in zip(self._rdy, self._cstp, rdy, cstp):
            bar_r.set_height(r)
            bar_c.set_y(r)
            bar_c.set_height(c)


        lat = result.wake_latency_ms
        shown = []
        for line, name in zip(self._lat, names):
            x, y = ecdf(lat[name])
            if x.size:
                # Start each curve at zero so a VM whose wake-ups all ran at once is visible.
                line.set_data(np.concatenate([[0.0], x]), np.concatenate([[0.0], y]))
                line.set_label(name)
                shown.append(name)
            else:
                line.set_data([], [])
                line.set_label(f"_{name}")

        self._lat_note.set_text("" if shown else "no VM blocks for I/O")
        old = self.ax_lat.get_legend()
        if old is not None:
            old.remove()
        self._lat_legend = None
        if shown:
            self._lat_legend = self.ax_lat.legend(loc="lower right", fontsize=8, frameon=True,
                                                  framealpha=0.9, edgecolor="#DDDDDD")
            self._lat_legend.set_animated(self.blit)

        self._title.set_text(title if title is not None else _default_title(result))
        self._key = (result.pcpus, t1)
        return self.fig

    def _set_host(self, pcpus: int, t1: float) -> None:
        """The axis ranges that depend on the host: the background is keyed by these alone."""
        t0 = self.window_ms[0]
        self.ax_tl.set_ylim(-0.6, pcpus - 0.4)
        self.ax_tl.set_yticks(range(pcpus))
        self.ax_tl.set_xlim(t0, t1)
        # No VM can use more than the host has: a fixed scale per host size keeps the
        # background (axes, ticks) valid across control changes.
        self.ax_share.set_ylim(0, pcpus * 1.05)

    def prewarm(self, pcpus_values: Sequence[int]) -> int:
        """Render the background for each host size in ``pcpus_values`` now, not on first use.

        A widget calls this once after its first frame: moving the pCPU slider then costs a blit
        instead of a full draw of axes, ticks and legend. Returns how many backgrounds it drew.
        The figure's layout is the one of its first draw, so a prewarmed background is the same
        image that a full draw for that host size would make.
        """
        if not self.blit:
            raise ValueError("prewarm needs a dashboard made with blit=True")
        values = [check_int("pcpus", p, 1, 1024) for p in pcpus_values]
        if self._key is not None and self.full_draws == 0:
            self.draw()  # the first frame fixes the layout, as it would without prewarming
        t1 = self._key[1] if self._key is not None else self.window_ms[1]
        current = self._key
        drawn = 0
        for p in values:
            if self.has_background((p, t1)):
                continue
            self._set_host(p, t1)
            self.cache_background((p, t1))  # skips the animated (data) artists
            drawn += 1
        self.prewarmed += drawn
        if current is not None:
            self._set_host(*current)
        return drawn

    # -- what the blitting base class needs ---------------------------------------------------
    def _background_key(self) -> tuple:
        return self._key

    def _dynamic_artists(self) -> list:
        legend = [self._lat_legend] if self._lat_legend is not None else []
        return [*self._dynamic, *legend, self._title]


def pcpus_text(n: int) -> str:
    """``n`` physical CPUs in words: "1 pCPU", "4 pCPUs".

    >>> pcpus_text(1), pcpus_text(4)
    ('1 pCPU', '4 pCPUs')
    """
    return f"{n} pCPU" + ("" if n == 1 else "s")


def _default_title(result: SimResult) -> str:
    co = "" if result.coschedule == "none" else f", {result.coschedule} co-scheduling"
    return (f"{result.scheduler} scheduler on {pcpus_text(result.pcpus)}{co}: "
            f"{result.duration_ms / 1000:g} s simulated")


def dashboard(
    result: SimResult,
    entitled: Mapping[str, float] | None = None,
    window_ms: tuple[float, float] = (0.0, 300.0),
    title: str | None = None,
) -> Figure:
    """The four-panel figure for one run, as a new :class:`~matplotlib.figure.Figure`.

    This is the static figure the chapter shows for the default scenario (the HTML book has no
    kernel); the widget draws the same panels through :class:`SchedulerDashboard`.
    """
    board = SchedulerDashboard(result.vm_names, window_ms=window_ms)
    return board.update(result, entitled, title)


# ---------------------------------------------------------------------------------------------
# Single-purpose figures used in the chapter and the lab
# ---------------------------------------------------------------------------------------------


def plot_ready_vs_ratio(
    ratios: Sequence[float], ready_pct: Sequence[float], label: str = "mean %RDY per vCPU",
    ax=None, more: Mapping[str, Sequence[float]] | None = None,
):
    """%RDY against the vCPU-to-pCPU ratio, with the rule-of-thumb line; returns (fig, ax).

    ``more`` adds further series over the same ratios (label -> %RDY values), each with the next
    colour, marker and dash style, so no series is told apart by colour alone.
    """
    r = np.asarray(ratios, dtype=float)
    series = {label: np.asarray(ready_pct, dtype=float)}
    for name, values in (more or {}).items():
        series[name] = np.asarray(values, dtype=float)
    if r.ndim != 1 or r.size == 0 or any(v.shape != r.shape for v in series.values()):
        raise ValueError("ratios and ready_pct must be 1-D sequences of the same, non-zero length")
    if ax is None:
        fig, ax = style.figure(style.COLUMN_WIDTH, 3.2)
    else:
        fig = ax.figure
    for i, (name, y) in enumerate(series.items()):
        ax.plot(r, y, color=style.color(i), marker=style.marker(i), linestyle=style.linestyle(i),
                label=name)
    ax.axhline(RDY_RULE_OF_THUMB_PCT, color=RULE_COLOUR, linestyle=(0, (1, 2)), linewidth=1.4,
               label=f"{RDY_RULE_OF_THUMB_PCT:g}% rule of thumb")
    ax.set_xlabel("vCPUs per pCPU")
    ax.set_ylabel("% of time ready, not running")
    top = max(float(np.nanmax(v)) for v in series.values())
    ax.set_ylim(0, max(2 * RDY_RULE_OF_THUMB_PCT, top * 1.08 + 2))
    ax.legend(loc="lower right")
    return fig, ax


def plot_proportional(shares: Mapping[str, Sequence[float]], ticket_shares: Sequence[float],
                      labels: Sequence[str], ax=None):
    """Grouped bars: each policy's measured shares beside the ticket shares; returns (fig, ax)."""
    target = np.asarray(ticket_shares, dtype=float)
    if target.ndim != 1 or target.size != len(labels) or target.size == 0:
        raise ValueError("ticket_shares and labels must have the same, non-zero length")
    series = {k: np.asarray(v, dtype=float) for k, v in shares.items()}
    if any(v.shape != target.shape for v in series.values()):
        raise ValueError("every entry of shares must have one value per label")
    if ax is None:
        fig, ax = style.figure(style.COLUMN_WIDTH, 3.0)
    else:
        fig = ax.figure
    groups = [("tickets", target)] + list(series.items())
    width = 0.8 / len(groups)
    x = np.arange(target.size)
    for i, (name, vals) in enumerate(groups):
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, vals, width, label=name,
               color=style.color(i), hatch=style.hatch(i), edgecolor="#333333", linewidth=0.5)
    ax.set_xticks(x, list(labels))
    ax.set_ylabel("fraction of the CPU")
    top = max(float(v.max()) for _, v in groups)
    ax.set_ylim(0, top * 1.25)  # headroom so the legend above the bars hides none of them
    ax.legend(ncols=len(groups), loc="upper left", fontsize=8)
    return fig, ax
