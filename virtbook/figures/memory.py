"""Figures of the memory-overcommit simulator: host memory over time, each VM's memory, slowdown.

Chapter 6, its widget and lab L6 draw the runs of :func:`virtbook.memory.simulate` with the
functions here, so that the book's static figures and the interactive explorer look the same. The
simulator itself (:mod:`virtbook.memory`) stays pure; everything that knows about matplotlib lives
in this module.

Three views of one :class:`~virtbook.memory.result.Result`:

* :func:`host_layers` - the host's RAM at every step, split into guest pages held in their own
  copy, pages held once for many sharers (KSM or transparent page sharing), the compression
  cache, and free memory. The layers add up to the host's RAM exactly, because the simulator
  charges every host page to one place (see :mod:`virtbook.memory.result`).
* :func:`vm_parts` - where each VM's configured memory is at one step: resident in its own
  copy, mapped to a shared page, compressed, swapped by the hypervisor, held by the balloon, or
  never touched. The parts add up to the VM's configured memory.
* :func:`smoothed_slowdown` - each VM's slowdown over a sliding window: the window's length over
  the time the VM ran usefully in it (waiting for page faults, or not running at all because the
  host had no memory for it, both count), because single steps are noisy.

:class:`Dashboard` draws the three panels once and then redraws them in place for a new result,
which is what the widget does on every control change; :func:`overview_figure` is the static
figure for the book. :func:`plot_sharing_savings` and :func:`plot_slowdown_bars` draw the
chapter's two comparison figures, and :func:`plot_idle_tax_runs` the reproduction of
Waldspurger's idle-tax experiment (OSDI 2002, Figure 7).

Sources for what is drawn: the free-memory states and their thresholds follow Waldspurger,
"Memory Resource Management in VMware ESX Server", OSDI 2002, section 6.3, and VMware's vSphere
resource management guide (minFree); the page-sharing counters are the kernel's KSM counters
(Documentation/admin-guide/mm/ksm.rst: ``pages_shared`` are the shared pages in use,
``pages_sharing`` the sites sharing them, i.e. the saving).

>>> from virtbook.memory import default_scenario, simulate
>>> host, vms, kw = default_scenario()
>>> r = simulate(host, vms, **kw)
>>> layers = host_layers(r)
>>> bool(np.allclose(sum(layers.values()), host.ram_mb))
True
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from virtbook._validate import check_bool, check_int, check_ints, check_real
from virtbook.figures import style
from virtbook.figures.dashboard import BlittingDashboard
from virtbook.memory import PAGES_PER_MB, STATE_NAMES, Result

#: Layers of the host's RAM, bottom to top, and their legend labels.
HOST_LAYERS: tuple[str, ...] = ("private", "shared", "zip", "free")
HOST_LABELS: dict[str, str] = {
    "private": "guest pages, own copy",
    "shared": "shared pages (KSM/TPS)",
    "zip": "compression cache",
    "free": "free",
}
#: Parts of a VM's configured memory, left to right, and their legend labels.
VM_PARTS: tuple[str, ...] = ("resident", "shared", "compressed", "swapped", "ballooned", "untouched")
VM_LABELS: dict[str, str] = {
    "resident": "resident (own copy)",
    "shared": "mapped to a shared page",
    "compressed": "compressed",
    "swapped": "swapped by the hypervisor",
    "ballooned": "held by the balloon",
    "untouched": "never touched",
}
#: Palette index per layer/part, so the same thing has the same colour and hatch everywhere.
#: Memory a guest never touched is drawn empty (white, outlined): it holds nothing.
_STYLE = {"private": 0, "resident": 0, "shared": 2, "zip": 1, "compressed": 1, "free": 4,
          "swapped": 5, "ballooned": 3, "untouched": None}


def _face(key: str) -> str:
    i = _STYLE[key]
    return "#FFFFFF" if i is None else style.color(i)


def _hatch(key: str):
    i = _STYLE[key]
    return None if i is None else (style.hatch(i) or None)
#: Shading of the free-memory state strip: state code -> (palette index, hatch).
_STATE_STYLE = {1: (1, "//"), 2: (5, "xx"), 3: (7, "++")}
_GIB = 1024.0


def _check_result(result: object) -> Result:
    if not isinstance(result, Result):
        raise ValueError(f"result must be a virtbook.memory Result, got {type(result).__name__}")
    return result


def host_layers(result: Result) -> dict[str, np.ndarray]:
    """The host's RAM in MB at every step, split into :data:`HOST_LAYERS`.

    ``shared`` is KSM's ``pages_shared`` (one host page per distinct shared content);
    ``zip`` the pages of the compression caches (two compressed guest pages per host page, as
    the simulator stores pages that compress to 2 KB or less); ``private`` the rest of the memory
    charged to VMs; ``free`` the host's free memory.
    """
    r = _check_result(result)
    shared = r.ksm["pages_shared"] / PAGES_PER_MB
    zip_pages = np.zeros(len(r.t_s), dtype=np.int64)
    rss = np.zeros(len(r.t_s))
    for name in r.names:
        tl = r.timeline[name]
        cz = np.rint(tl["compressed_mb"] * PAGES_PER_MB).astype(np.int64)
        zip_pages += (cz + 1) // 2
        rss = rss + tl["rss_mb"]
    zip_mb = zip_pages / PAGES_PER_MB
    return {"private": rss - shared - zip_mb, "shared": shared, "zip": zip_mb,
            "free": np.asarray(r.host_free_mb, dtype=float)}


def vm_parts(result: Result, step: int = -1) -> dict[str, np.ndarray]:
    """Where each VM's configured memory is at ``step``, in MB, one array entry per VM.

    The six :data:`VM_PARTS` add up to each VM's ``mem_mb``: guest pages resident in their own
    copy, guest pages mapped to a shared page, compressed, swapped by the hypervisor, pinned by
    the balloon driver, and memory the guest has never touched.
    """
    r = _check_result(result)
    n = len(r.t_s)
    step = check_int("step", step, -n, n - 1)
    out = {p: np.zeros(len(r.names)) for p in VM_PARTS}
    for i, vm in enumerate(r.vms):
        tl = r.timeline[vm.name]
        rss_kib = r.dommemstat_timeline[vm.name]["rss"][step]
        resident = rss_kib / 1024.0  # guest pages held by the host, shared ones counted too
        shared = float(tl["shared_mb"][step])
        comp = float(tl["compressed_mb"][step])
        swap = float(tl["swapped_mb"][step])
        bal = float(tl["balloon_mb"][step])
        out["resident"][i] = resident - shared
        out["shared"][i] = shared
        out["compressed"][i] = comp
        out["swapped"][i] = swap
        out["ballooned"][i] = bal
        out["untouched"][i] = vm.mem_mb - resident - comp - swap - bal
    return out


def smoothed_slowdown(result: Result, window_s: float = 30.0) -> dict[str, np.ndarray]:
    """Each VM's slowdown over a trailing window of ``window_s`` seconds.

    A step's slowdown is the step's length over the time the VM ran usefully in it
    (:class:`~virtbook.memory.result.Result`); over a window it is the window's length over the
    useful time in the window, so a stretch in which the VM could not run weighs fully. 1.0 means
    the VM never waited for memory.

    >>> from virtbook.memory import Host, VM, simulate
    >>> r = simulate(Host(ram_mb=4096), [VM("a", 1024)], duration_s=60)
    >>> float(smoothed_slowdown(r)["a"].max())
    1.0
    """
    r = _check_result(result)
    window = check_real("window_s", window_s, 0.0, 86400.0, lo_open=True)
    k = max(1, int(round(window / r.dt_s)))
    out = {}
    for name in r.names:
        work = 1.0 / np.asarray(r.timeline[name]["slowdown"], dtype=float)
        c = np.concatenate(([0.0], np.cumsum(work)))
        idx = np.arange(1, len(work) + 1)
        lo = np.maximum(0, idx - k)
        out[name] = np.maximum(1.0, (idx - lo) / (c[idx] - c[lo]))
    return out


def state_spans(result: Result) -> list[tuple[float, float, int]]:
    """Runs of the host's free-memory state as ``(start_s, end_s, state)``, high state left out.

    >>> from virtbook.memory import Host, VM, simulate
    >>> state_spans(simulate(Host(ram_mb=4096), [VM("a", 1024)], duration_s=60))
    []
    """
    r = _check_result(result)
    st = np.asarray(r.state)
    spans = []
    if not len(st):
        return spans
    edges = np.flatnonzero(np.diff(st)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(st)]))
    for a, b in zip(starts, ends):
        if st[a] > 0:
            spans.append((float(r.t_s[a] - r.dt_s), float(r.t_s[b - 1]), int(st[a])))
    return spans


#: Upper limits the axes snap to, so that they rarely rescale when a control changes (each
#: rescale means drawing the axes' text anew, most of the cost of a redraw).
_SLOWDOWN_TOPS = (100.0, 1000.0, 10000.0, 100000.0)
_GIB_TOPS = (1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 96.0, 128.0, 192.0,
             256.0, 384.0, 512.0, 768.0, 1024.0, 1536.0, 2048.0)


def _snap(value: float, ladder: Sequence[float]) -> float:
    """The first entry of ``ladder`` at least ``value`` (or ``value`` itself beyond its end).

    >>> _snap(25.1, _GIB_TOPS), _snap(3.0, _SLOWDOWN_TOPS)
    (32.0, 100.0)
    """
    return next((v for v in ladder if v >= value), float(value))


class Dashboard(BlittingDashboard):
    """Three panels for one run, drawn once and redrawn in place by :meth:`update`.

    Top: the host's RAM over time as a stacked area (:func:`host_layers`), the memory the guests
    want (sum of their footprints) as a line above it, the level at which the host leaves the
    *high* state as a dashed line, and a strip that marks when the host was in the soft, hard
    or low state. Bottom left: each VM's configured memory split into :func:`vm_parts` at the
    end of the run. Bottom right: each VM's slowdown (:func:`smoothed_slowdown`).

    Redrawing keeps the figure, the axes, the legends and the artists and replaces only their
    data (polygon vertices, bar positions, line data); artists are created anew only when the
    set of VMs changes. Axis limits snap to round values so that they rarely change.

    With ``blit=True`` (what the widget uses) the data artists are *animated*: the rest of the
    figure (axes, ticks, labels, legends), whose text is most of the drawing time, is rendered
    once into a background that :meth:`png` reuses for as long as the limits and labels stay the
    same; only the data is drawn on top. The layout is then fixed after the first draw. With
    ``blit=False`` the figure is an ordinary matplotlib figure, for a book page.

    >>> from virtbook.memory import default_scenario, simulate
    >>> host, vms, kw = default_scenario()
    >>> d = Dashboard(simulate(host, vms, **kw))
    >>> d.png()[:4] == b"\\x89PNG"
    True
    """

    def __init__(self, result: Result, width: float = style.COLUMN_WIDTH, height: float = 6.6,
                 dpi: int = style.DPI, blit: bool = False, compact: bool = False) -> None:
        _check_result(result)
        width = check_real("width", width, 2.0, 30.0)
        height = check_real("height", height, 2.0, 30.0)
        dpi = check_int("dpi", dpi, 30, 600)
        check_bool("compact", compact)
        self.compact = compact
        #: The book's style, with the smaller type of a demo's figure when compact.
        self._style = {**style.STYLE, **(style.DEMO_STYLE if compact else {})}
        #: Explicit type sizes (pt) of the legends, the bottom panels' titles and the VM names.
        self._size = ({"legend": 7.5, "title": 9, "names": 7.5} if compact
                      else {"legend": 8, "title": 10, "names": 8})
        with plt.rc_context(self._style):
            fig = plt.figure(figsize=(width, height), dpi=dpi, layout="constrained")
            axd = fig.subplot_mosaic([["host", "host"], ["vms", "slow"]],
                                     height_ratios=[1.1, 1.0], width_ratios=[1.1, 1.0])
        plt.close(fig)
        #: Rendered backgrounds by (VM names, axis limits): 12 kept, about 1.2 MB each at the
        #: widget's size.
        super().__init__(fig, blit=blit, backgrounds=12)
        self.ax_host = axd["host"]
        self.ax_vms = axd["vms"]
        self.ax_slow = axd["slow"]
        self._names: tuple[str, ...] = ()
        self._bars: dict[str, PolyCollection] = {}
        self._slow_lines: list = []
        self._slow_legend = None
        self._axes = (self.ax_host, self.ax_vms, self.ax_slow)
        self._limits: tuple = ()
        with plt.rc_context(self._style):
            for ax in (self.ax_host, self.ax_vms, self.ax_slow):
                ax.set_axisbelow(True)  # grid under the data, in blitted and full draws alike
            self._setup_host()
            self._setup_vms()
            self._setup_slowdown()
        self.update(result)

    # -- fixed parts ------------------------------------------------------------------------
    def _setup_host(self) -> None:
        ax = self.ax_host
        ax.set_ylabel("host memory (GiB)")
        ax.set_xlabel("time (s)")
        ax.set_title("Host RAM over time", loc="left")
        self._layers = {}
        for k in HOST_LAYERS:
            poly = PolyCollection([np.zeros((0, 2))], facecolors=_face(k), hatch=_hatch(k),
                                  edgecolors="#333333", linewidths=0.3, label=HOST_LABELS[k],
                                  animated=self.blit)
            ax.add_collection(poly, autolim=False)
            self._layers[k] = poly
        self._strips = {}
        for s, (c, h) in _STATE_STYLE.items():
            poly = PolyCollection([], facecolors=style.color(c), alpha=0.45, hatch=h,
                                  edgecolors="#333333", linewidths=0.3,
                                  label=f"{STATE_NAMES[s]} state", animated=self.blit)
            ax.add_collection(poly, autolim=False)
            self._strips[s] = poly
        (self._demand_line,) = ax.plot([], [], color="#000000", linestyle="-", linewidth=1.6,
                                       label="memory the guests want", animated=self.blit)
        (self._thresh_line,) = ax.plot([], [], color="#000000", linestyle=(0, (4, 2)),
                                       linewidth=1.0, label="leave the high state above",
                                       animated=self.blit)
        handles = ([self._demand_line, self._thresh_line]
                   + [self._layers[k] for k in reversed(HOST_LAYERS)]
                   + [self._strips[s] for s in _STATE_STYLE])
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.02),
                  fontsize=self._size["legend"],
                  handlelength=1.6)

    def _setup_vms(self) -> None:
        ax = self.ax_vms
        ax.set_title("VM memory at the end" if self.compact else "Each VM's memory, at the end",
                     loc="left", fontsize=self._size["title"])
        ax.set_xlabel("GiB")
        ax.grid(axis="y", visible=False)
        handles = [Rectangle((0, 0), 1, 1, facecolor=_face(p), hatch=_hatch(p),
                             edgecolor="#333333", linewidth=0.4, label=VM_LABELS[p])
                   for p in VM_PARTS]
        for p in VM_PARTS:
            poly = PolyCollection([], facecolors=_face(p), hatch=_hatch(p), edgecolors="#333333",
                                  linewidths=0.4, label=VM_LABELS[p], animated=self.blit)
            ax.add_collection(poly, autolim=False)
            self._bars[p] = poly
        self.fig.legend(handles=handles, loc="outside lower center", ncol=3,
                        fontsize=min(7.5, self._size["legend"]),
                        handlelength=1.4, columnspacing=1.0)

    def _setup_slowdown(self) -> None:
        ax = self.ax_slow
        ax.set_title("Slowdown, last 30 s" if self.compact else "Slowdown over the last 30 s",
                     loc="left", fontsize=self._size["title"])
        ax.set_xlabel("time (s)")
        ax.set_ylabel("slowdown (1 = none, log scale)")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))

    # -- data -------------------------------------------------------------------------------
    def update(self, result: Result) -> None:
        """Show ``result`` in all three panels (figure, axes and legends are kept)."""
        r = _check_result(result)
        t = np.asarray(r.t_s, dtype=float)
        with plt.rc_context(self._style):
            if r.names != self._names:
                self._make_vm_artists(r.names)
            host_lim = self._update_host(r, t)
            vm_lim = self._update_vms(r)
            slow_lim = self._update_slowdown(r, t)
        self._limits = (self._names, host_lim, vm_lim, slow_lim)

    def _make_vm_artists(self, names: tuple[str, ...]) -> None:
        """(Re)create the slowdown lines and the VM axis labels for a new set of VMs."""
        for line in self._slow_lines:
            line.remove()
        n = len(names)
        ypos = np.arange(n)[::-1]
        self.ax_vms.set_yticks(ypos, labels=list(names), fontsize=self._size["names"])
        self.ax_vms.set_ylim(-0.6, n - 0.4)
        self._slow_lines = []
        for i, name in enumerate(names):
            (line,) = self.ax_slow.plot([], [], color=style.color(i), linestyle=style.linestyle(i),
                                        linewidth=1.4, label=name, animated=self.blit)
            self._slow_lines.append(line)
        if self._slow_legend is not None:
            self._slow_legend.remove()
        self._slow_legend = self.ax_slow.legend(
            handles=self._slow_lines, loc="upper left", bbox_to_anchor=(1.0, 1.02),
            fontsize=min(7.5, self._size["legend"]),
            ncol=1 if n <= 8 else 2, handlelength=1.8, columnspacing=0.8)
        self._names = tuple(names)

    def _update_host(self, r: Result, t: np.ndarray) -> tuple:
        layers = host_layers(r)
        t0 = float(t[0] - r.dt_s)
        t1 = float(t[-1])
        # each value holds from the start of its step: the area begins at t0 with the first value
        x = np.concatenate(([t0], t))
        below = np.zeros(len(x))
        for k in HOST_LAYERS:
            y = layers[k] / _GIB
            above = below + np.concatenate(([y[0]], y))
            verts = np.concatenate((np.column_stack((x, below)),
                                    np.column_stack((x[::-1], above[::-1]))))
            self._layers[k].set_verts([verts])
            below = above
        demand = sum(np.asarray(r.timeline[n]["footprint_mb"], dtype=float) for n in r.names) / _GIB
        self._demand_line.set_data(x, np.concatenate(([demand[0]], demand)))
        ram = r.host.ram_mb / _GIB
        high = ram - r.thresholds_mb["high"] / _GIB
        self._thresh_line.set_data([t0, t1], [high, high])
        top = max(ram, float(demand.max()))
        ytop = _snap(top * 1.12, _GIB_TOPS)
        self.ax_host.set_xlim(t0, t1)
        self.ax_host.set_ylim(0, ytop)
        y0, y1 = top + 0.3 * (ytop - top), top + 0.75 * (ytop - top)
        boxes: dict[int, list] = {s: [] for s in _STATE_STYLE}
        for a, b, s in state_spans(r):
            boxes[s].append([(a, y0), (b, y0), (b, y1), (a, y1)])
        for s, poly in self._strips.items():
            poly.set_verts(boxes[s])
        return (t0, t1, ytop)

    def _update_vms(self, r: Result) -> tuple:
        parts = vm_parts(r)
        n = len(r.names)
        y = np.arange(n)[::-1].astype(float)
        left = np.zeros(n)
        for p in VM_PARTS:
            right = left + parts[p] / _GIB
            boxes = np.stack([np.column_stack((left, y - 0.35)), np.column_stack((right, y - 0.35)),
                              np.column_stack((right, y + 0.35)), np.column_stack((left, y + 0.35))],
                             axis=1)
            self._bars[p].set_verts(list(boxes))
            left = right
        xtop = _snap(float(left.max()) * 1.02, _GIB_TOPS)
        self.ax_vms.set_xlim(0, xtop)
        return (xtop,)

    def _update_slowdown(self, r: Result, t: np.ndarray) -> tuple:
        sd = smoothed_slowdown(r)
        worst = 1.0
        for line, name in zip(self._slow_lines, r.names):
            line.set_data(t, sd[name])
            worst = max(worst, float(sd[name].max()))
        ytop = _snap(worst * 1.05, _SLOWDOWN_TOPS)
        t0, t1 = float(t[0] - r.dt_s), float(t[-1])
        self.ax_slow.set_xlim(t0, t1)
        self.ax_slow.set_ylim(0.9, ytop)
        return (t0, t1, ytop)

    # -- what the blitting base class needs -------------------------------------------------
    def _background_key(self) -> tuple:
        return self._limits

    def _layout_key(self, key: tuple) -> tuple:
        """What the layout depends on: the VM names and the width of the longest tick labels."""
        names, (_, _, host_top), (vm_top,), (_, _, slow_top) = key
        return (names, len(f"{host_top:g}"), len(f"{vm_top:g}"), len(f"{slow_top:g}"))

    def _dynamic_artists(self) -> list:
        """The data, lowest z-order first, then the axis lines on top of it."""
        arts = [self._layers[k] for k in HOST_LAYERS] + list(self._strips.values())
        arts += [self._demand_line, self._thresh_line]
        arts += [self._bars[p] for p in VM_PARTS]
        arts += self._slow_lines
        arts.sort(key=lambda a: a.get_zorder())
        spines = [spine for ax in self._axes for spine in ax.spines.values() if spine.get_visible()]
        return arts + spines


def overview_figure(result: Result, width: float = style.COLUMN_WIDTH, height: float = 6.6) -> Figure:
    """The three-panel figure of :class:`Dashboard` for ``result``, for a book page."""
    return Dashboard(result, width=width, height=height).fig


def plot_sharing_savings(ax, n_vms: Sequence[int], series: Mapping[str, Sequence[float]],
                         ylabel: str = "guest memory saved (%)",
                         xlabel: str = "VMs on the host") -> list:
    """Lines of memory saved against the number of VMs, one per entry of ``series``.

    ``series`` maps a label to one value per entry of ``n_vms``. Each line gets the book's
    colour, marker and dash for its position, so the lines differ without colour.
    """
    ns = list(check_ints("n_vms", n_vms, 1, 10**6))
    lines = []
    for i, (label, ys) in enumerate(series.items()):
        ys = [float(y) for y in ys]
        if len(ys) != len(ns):
            raise ValueError(f"series[{label!r}] must have one value per entry of n_vms "
                             f"({len(ns)}), got {len(ys)}")
        (line,) = ax.plot(ns, ys, color=style.color(i), marker=style.marker(i),
                          linestyle=style.linestyle(i), label=label)
        lines.append(line)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks(ns)
    ax.legend(loc="best")
    return lines


def plot_slowdown_bars(ax, results: Mapping[str, Result]) -> list:
    """Grouped bars of each VM's slowdown over the run, one group per VM, one bar per result.

    All results must describe the same VMs (the same names in the same order): the figure
    compares one fleet under different settings.
    """
    if not results:
        raise ValueError("results must map at least one label to a Result, got an empty mapping")
    rs = {k: _check_result(v) for k, v in results.items()}
    names = next(iter(rs.values())).names
    for label, r in rs.items():
        if r.names != names:
            raise ValueError(f"results[{label!r}] must have the VMs {names}, got {r.names}")
    k = len(rs)
    x = np.arange(len(names))
    ax.set_axisbelow(True)  # grid lines behind the bars
    width = 0.8 / k
    containers = []
    for j, (label, r) in enumerate(rs.items()):
        ys = [r.slowdown[n] for n in names]
        bars = ax.bar(x - 0.4 + width * (j + 0.5), ys, width=width, color=style.color(j),
                      hatch=style.hatch(j), edgecolor="#333333", linewidth=0.5, label=label)
        containers.append(bars)
    ax.set_xticks(x, labels=list(names))
    ax.set_ylabel("slowdown over the run (1 = none)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.axhline(1.0, color="#333333", linewidth=0.8)
    ax.legend(loc="upper left")
    return containers


def plot_idle_tax_runs(axes, runs: Mapping[str, Result], published_mb: Optional[float] = None,
                       names: Sequence[str] = ("vm1-idle", "vm2-busy")) -> list:
    """Each VM's guest-resident memory over time, one panel per run (e.g. tax 0 and tax 0.75).

    ``runs`` maps a panel title to a :class:`Result` holding the VMs ``names``; ``published_mb``,
    if given, is drawn as a dotted reference line (the allocation a paper reports). Each VM gets
    the book's colour, marker and dash for its position, so the lines differ without colour.
    """
    if not runs:
        raise ValueError("runs must map at least one title to a Result, got an empty mapping")
    axes = list(np.atleast_1d(axes))
    if len(axes) != len(runs):
        raise ValueError(f"axes must hold one Axes per run ({len(runs)}), got {len(axes)}")
    lines = []
    for ax, (title, result) in zip(axes, runs.items()):
        r = _check_result(result)
        t = np.asarray(r.t_s, dtype=float) / 60.0
        for i, name in enumerate(names):
            if name not in r.dommemstat_timeline:
                raise ValueError(f"runs[{title!r}] has no VM {name!r}; it has {r.names}")
            mb = np.asarray(r.dommemstat_timeline[name]["rss"], dtype=float) / 1024
            (line,) = ax.plot(t, mb, color=style.color(i), linestyle=style.linestyle(i),
                              marker=style.marker(i), markevery=max(1, len(t) // 8), label=name)
            lines.append(line)
        if published_mb is not None:
            ax.axhline(check_real("published_mb", published_mb, 0.0), color="#333333",
                       linestyle=":", linewidth=1.0, label=f"paper, tax 0: {published_mb:g} MB")
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_xlabel("minutes")
    axes[0].set_ylabel("guest memory in RAM (MB)")
    axes[0].legend(loc="lower right", fontsize=8)
    return lines
