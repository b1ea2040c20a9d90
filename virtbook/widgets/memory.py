"""The overcommit explorer: ipywidgets controls wired to the memory simulator and its figures.

Chapter 6 shows the default scenario of :mod:`virtbook.memory.scenarios` as a static figure
and, further down, :func:`overcommit_explorer`: this widget for readers who run the notebook, and
precomputed runs (:func:`ram_sweep`) for everyone else. The controls are the ones the
chapter discusses: the host's RAM, how many VMs it runs, their size, how active they are and which
guest operating system they run, which reclamation techniques exist (ballooning, page sharing,
compression, hypervisor swapping), the idle memory tax ``tau`` and whether page sharing is salted.

Nothing here models memory. :class:`Controls` holds the control values and :func:`scenario`
turns them into the simulator's configuration (a :class:`~virtbook.memory.config.Host`, a list of
:class:`~virtbook.memory.config.VM` and the keyword arguments of
:func:`~virtbook.memory.sim.simulate`); :class:`OvercommitExplorer` runs the simulator on every
change and hands the result to :class:`virtbook.figures.memory.Dashboard`, which redraws in place.
With the default controls the explorer shows exactly ``default_scenario()``.

How a control maps onto the model (names as in the systems they come from):

* ``ram_gib`` - the host's RAM (``Host.ram_mb``).
* ``n_vms`` - how many VMs run: the six VMs of the default scenario, in order; beyond six the
  list starts again with copies (``web1-2`` ...) whose workloads are shifted by 45 s per round.
* ``size_scale`` - every VM's configured memory (``mem_mb``, and its reservation) times this.
* ``activity`` - every phase's active fraction times this, capped at the phase's used fraction:
  how much of its memory each guest touches within a sampling period (Waldspurger 2002,
  section 5.3).
* ``guest_os`` - ``"mixed"`` (as in the default scenario: four Linux, two Windows guests),
  ``"linux"`` or ``"windows"``; a guest's OS decides with which VMs it can share OS pages and its
  share of zero pages (the default scenario's Windows guests zero their free memory).
* ``balloon``, ``share``, ``compress``, ``swap`` - which techniques exist at all.
* ``tau`` - the idle memory tax (``Host.idle_tax``, ESX's ``Mem.IdleTax``; default 75 %,
  Waldspurger 2002, section 5.2).
* ``salting`` - ESXi's ``Mem.ShareForceSalting=2``: every VM its own salt, so pages are shared
  only inside a VM (VMware KB 2097593); off means 0, inter-VM sharing as before 2014.

>>> host, vms, kw = scenario(Controls())
>>> host.ram_mb, [vm.name for vm in vms], kw["techniques"]
(16384, ['web1', 'web2', 'db', 'batch', 'win1', 'win2'], ('balloon', 'share', 'compress', 'swap'))
>>> [vm.mem_mb for vm in scenario(Controls(n_vms=8, size_scale=0.5))[1]]
[2048, 2048, 3072, 2048, 2048, 3072, 2048, 2048]
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Optional

import ipywidgets as widgets

from virtbook._validate import check_bool, check_choice, check_int, check_real
from virtbook.figures import style
from virtbook.figures.memory import Dashboard
from virtbook.figures.sweep import png_bytes, sweep_html
from virtbook.memory import TECHNIQUES, VM, Host, Phase, Result, default_scenario, simulate
from virtbook.widgets.common import Demo, LiveView

#: Choices of the guest-OS control.
GUEST_OS = ("mixed", "linux", "windows")
#: Shift of the workloads of each further round of copies, in seconds.
COPY_OFFSET_S = 45.0
#: The explorer's figure in inches at ``style.DPI``: 560 x 550 px, shown at that size to the right
#: of the 340 px column of controls, so both fit a 1366 x 768 screen in JupyterLab with its file
#: browser open (about 930 px for an output).
DEMO_FIGSIZE = (5.6, 5.5)
#: Width of the controls' column in px.
CONTROLS_WIDTH_PX = 340


@dataclass(frozen=True)
class Controls:
    """The explorer's control values; the defaults reproduce ``default_scenario()``.

    >>> Controls(tau=1.0)
    Traceback (most recent call last):
    ...
    ValueError: tau must be a number at least 0 and at most 0.95, got 1.0
    """

    ram_gib: int = 16
    n_vms: int = 6
    size_scale: float = 1.0
    activity: float = 1.0
    guest_os: str = "mixed"
    balloon: bool = True
    share: bool = True
    compress: bool = True
    swap: bool = True
    tau: float = 0.75
    salting: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "ram_gib", check_int("ram_gib", self.ram_gib, 1, 1024))
        object.__setattr__(self, "n_vms", check_int("n_vms", self.n_vms, 1, 24))
        object.__setattr__(self, "size_scale", check_real("size_scale", self.size_scale, 0.125, 4.0))
        object.__setattr__(self, "activity", check_real("activity", self.activity, 0.0, 4.0))
        check_choice("guest_os", self.guest_os, GUEST_OS)
        for name in ("balloon", "share", "compress", "swap", "salting"):
            check_bool(name, getattr(self, name))
        object.__setattr__(self, "tau", check_real("tau", self.tau, 0.0, 0.95))
        object.__setattr__(self, "seed", check_int("seed", self.seed, 0, 2**63 - 1))

    @property
    def techniques(self) -> tuple[str, ...]:
        """The techniques switched on, in the simulator's order."""
        return tuple(t for t in TECHNIQUES if getattr(self, t))


def _scaled_phases(phases: tuple[Phase, ...], activity: float) -> tuple[Phase, ...]:
    if activity == 1.0:
        return phases
    return tuple(dataclasses.replace(p, active_frac=min(p.used_frac, p.active_frac * activity))
                 for p in phases)


def scenario(controls: Controls) -> tuple[Host, list[VM], dict]:
    """``(host, vms, kwargs)`` for ``simulate(host, vms, **kwargs)`` from the control values."""
    if not isinstance(controls, Controls):
        raise ValueError(f"controls must be a Controls, got {type(controls).__name__}")
    c = controls
    base_host, templates, kwargs = default_scenario()
    host = dataclasses.replace(base_host, ram_mb=c.ram_gib * 1024, idle_tax=c.tau,
                               share_force_salting=2 if c.salting else 0)
    # page contents per guest OS, as the default scenario sets them
    linux = next(v for v in templates if v.guest_os == "linux")
    windows = next(v for v in templates if v.guest_os == "windows")
    contents = {"linux": (linux.zero_frac, linux.os_frac), "windows": (windows.zero_frac, windows.os_frac)}
    cycle = max(sum(p.duration_s for p in v.phases) for v in templates)
    vms = []
    for k in range(c.n_vms):
        t = templates[k % len(templates)]
        rnd = k // len(templates)
        changes: dict = {}
        if rnd:
            changes["name"] = f"{t.name}-{rnd + 1}"
            changes["phase_offset_s"] = (t.phase_offset_s + COPY_OFFSET_S * rnd) % cycle
        if c.size_scale != 1.0:
            mem = max(1, int(round(t.mem_mb * c.size_scale)))
            changes["mem_mb"] = mem
            changes["reservation_mb"] = min(mem, int(round(t.reservation_mb * c.size_scale)))
            if t.shares is not None and t.shares != 10 * t.mem_mb:
                changes["shares"] = max(1, int(round(t.shares * c.size_scale)))
            else:
                changes["shares"] = None  # Normal: 10 shares per MB of the new size
        if c.guest_os != "mixed" and t.guest_os != c.guest_os:
            zf, of = contents[c.guest_os]
            changes.update(guest_os=c.guest_os, zero_frac=zf, os_frac=of)
        if c.activity != 1.0:
            changes["phases"] = _scaled_phases(t.phases, c.activity)
        vms.append(dataclasses.replace(t, **changes) if changes else t)
    kwargs = dict(kwargs, techniques=c.techniques, seed=c.seed)
    return host, vms, kwargs


def run(controls: Controls) -> Result:
    """Simulate the scenario the controls describe."""
    host, vms, kwargs = scenario(controls)
    return simulate(host, vms, **kwargs)


def summary_html(result: Result) -> str:
    """One line of headline numbers under the controls (all computed by the simulator).

    The slowest VM's slowdown counts the time it could not run for want of memory as work it
    did not do; when that time is not zero the line says how long it was.
    """
    s = result.summary()
    rec = s["reclaimed_mb"]
    slow_name = max(result.slowdown, key=result.slowdown.get)
    parts = ", ".join(f"{k} {rec[k] / 1024:.2f}" for k in TECHNIQUES)
    starved = result.starved_s.get(slow_name, 0.0)
    waited = f" (could not run for {starved:.0f} s)" if starved >= 0.5 else ""
    return (f"<b>worst state</b> {s['worst_state']} &middot; <b>lowest free</b> "
            f"{s['min_free_mb']:.0f} MiB<br><b>reclaimed at the end (GiB)</b> {parts}<br>"
            f"<b>slowest VM</b> {slow_name} &times;{result.slowdown[slow_name]:.2f}{waited}")


def demo_dashboard(result: Result, pixel_ratio: int = 1) -> Dashboard:
    """The explorer's figure for ``result``: the three panels at :data:`DEMO_FIGSIZE`, compact,
    blitting. ``pixel_ratio`` 1 draws it at the size JupyterLab shows it (560 x 550 px); 2 draws
    twice as many pixels each way for a high-DPI screen, shown at the same size, at about twice
    the cost per change (over the 100 ms budget on a small machine): 1 is the default."""
    ratio = check_int("pixel_ratio", pixel_ratio, 1, 2)
    return Dashboard(result, width=DEMO_FIGSIZE[0], height=DEMO_FIGSIZE[1],
                     dpi=style.DPI * ratio, blit=True, compact=True)


def ram_sweep(ram_gib: tuple[int, ...] = (12, 16, 20, 24, 28), start: int = 16,
              note: Optional[str] = None) -> str:
    """The kernel-free view for the HTML book: the default scenario's dashboard for each host
    size in ``ram_gib``, behind a slider (:func:`virtbook.sweep_html`, which shows ``note``
    where its script does not run). The frames are the explorer's own figure, so a reader sees
    the same picture before and after running the notebook.

    Each frame's alt text gives the numbers that change with the host's RAM: the lowest free
    memory, what each technique reclaimed and the slowest VM.
    """
    if isinstance(ram_gib, (str, bytes)) or not isinstance(ram_gib, (tuple, list)) or not 1 <= len(ram_gib) <= 12:
        raise ValueError(f"ram_gib must be a tuple of 1..12 host sizes in GiB, got {ram_gib!r}")
    if start not in ram_gib:
        raise ValueError(f"start must be one of ram_gib {ram_gib!r}, got {start!r}")
    frames, labels, alts = [], [], []
    for gib in ram_gib:
        result = run(Controls(ram_gib=gib))
        fig = Dashboard(result, width=DEMO_FIGSIZE[0], height=DEMO_FIGSIZE[1], compact=True).fig
        frames.append(png_bytes(fig, dpi=style.DPI, colors=256))
        labels.append(f"{gib} GiB")
        s = result.summary()
        slow = max(result.slowdown, key=result.slowdown.get)
        rec = ", ".join(f"{k} {s['reclaimed_mb'][k] / 1024:.1f} GiB" for k in TECHNIQUES)
        starved = result.starved_s[slow]
        waited = f", unable to run for {starved:.0f} s for want of memory" if starved >= 0.5 else ""
        alts.append(f"Overcommit dashboard for the default six VMs on a {gib} GiB host. Worst "
                    f"state {s['worst_state']}, lowest free memory {s['min_free_mb']:.0f} MiB; "
                    f"reclaimed at the end: {rec}; slowest VM {slow}, "
                    f"{result.slowdown[slow]:.2f} times slower{waited}.")
    return sweep_html(frames, labels, alts, name="memory-ram", parameter="Host RAM",
                      start=ram_gib.index(start), note=note)


class OvercommitExplorer(Demo):
    """Controls, a summary line and the dashboard image; every change re-simulates and redraws.

    ``explorer.widget`` is the ipywidgets box to display. :meth:`apply` is the update callback
    (scenario -> simulate -> redraw -> PNG); it returns the seconds it took, and the benchmark in
    ``benchmarks/bench_memory_widget.py`` times it. The image is drawn by a blitting
    :class:`~virtbook.figures.memory.Dashboard` with the Agg canvas, so no figure is created per
    change.

    The controls stand in a column beside the figure, which is shown at the size it is drawn
    (:func:`demo_dashboard`, ``pixel_ratio``), so both fit a 1366 x 768 screen in JupyterLab; on
    a narrower output the figure wraps below the controls.
    """

    def __init__(self, controls: Optional[Controls] = None, pixel_ratio: int = 1) -> None:
        c = Controls() if controls is None else controls
        if not isinstance(c, Controls):
            raise ValueError(f"controls must be a Controls, got {type(c).__name__}")
        self._pixel_ratio = check_int("pixel_ratio", pixel_ratio, 1, 2)
        self._controls = c
        self.result: Result | None = None
        self.dashboard: Dashboard | None = None
        #: Seconds the last update took: (simulate, redraw and encode).
        self.last_timing: tuple[float, float] = (0.0, 0.0)
        column = f"{CONTROLS_WIDTH_PX}px"
        style_ = {"description_width": "76px"}
        lay = widgets.Layout(width=column)
        slider = dict(continuous_update=False, style=style_, layout=lay)
        inputs = {
            "ram_gib": widgets.IntSlider(value=c.ram_gib, min=4, max=64, step=1,
                                         description="RAM (GiB)", tooltip="the host's RAM",
                                         **slider),
            "n_vms": widgets.IntSlider(value=c.n_vms, min=1, max=12, step=1, description="VMs",
                                       **slider),
            "size_scale": widgets.FloatSlider(
                value=c.size_scale, min=0.25, max=2.0, step=0.25,
                description="VM size \N{MULTIPLICATION SIGN}",
                tooltip="every VM's memory, times the default", **slider),
            "activity": widgets.FloatSlider(
                value=c.activity, min=0.25, max=2.0, step=0.25,
                description="activity \N{MULTIPLICATION SIGN}",
                tooltip="every VM's active memory, times the default", **slider),
            "tau": widgets.FloatSlider(value=c.tau, min=0.0, max=0.95, step=0.05,
                                       description="idle tax \N{GREEK SMALL LETTER TAU}",
                                       **slider),
            "guest_os": widgets.Dropdown(options=list(GUEST_OS), value=c.guest_os,
                                         description="guest OS", style=style_, layout=lay),
            "salting": widgets.Checkbox(value=c.salting,
                                        description="salting (no inter-VM sharing)",
                                        indent=False, layout=lay),
        }
        for t in TECHNIQUES:
            label = {"balloon": "ballooning", "share": "page sharing", "compress": "compression",
                     "swap": "hypervisor swapping"}[t]
            inputs[t] = widgets.Checkbox(value=getattr(c, t), description=label, indent=False,
                                         layout=widgets.Layout(width="auto"))
        width, height = (round(x * style.DPI) for x in DEMO_FIGSIZE)
        super().__init__(inputs, image_layout=widgets.Layout(
            width=f"{width}px", height=f"{height}px", flex="0 0 auto"), summary_layout=lay)

    @property
    def controls(self) -> Controls:
        """The control values the explorer shows now."""
        return self._controls

    def read(self) -> Controls:
        values = {name: control.value for name, control in self.inputs.items()}
        return dataclasses.replace(self._controls, **values)

    def render(self, controls: Controls) -> tuple[bytes, str]:
        """Simulate ``controls`` and redraw the dashboard: (PNG, summary)."""
        if not isinstance(controls, Controls):
            raise ValueError(f"controls must be a Controls, got {type(controls).__name__}")
        t0 = time.perf_counter()
        result = run(controls)
        t1 = time.perf_counter()
        if self.dashboard is None:
            self.dashboard = demo_dashboard(result, self._pixel_ratio)
        else:
            self.dashboard.update(result)
        png = self.dashboard.png()
        self.last_timing = (t1 - t0, time.perf_counter() - t1)
        self.result = result
        return png, summary_html(result)

    def show_settings(self, controls: Controls) -> None:
        self._controls = controls
        for name, control in self.inputs.items():
            control.value = getattr(controls, name)

    def layout(self) -> widgets.Box:
        column = f"{CONTROLS_WIDTH_PX}px"
        i = self.inputs
        techniques = widgets.GridBox([i[t] for t in TECHNIQUES], layout=widgets.Layout(
            width=column, grid_template_columns="1fr 1fr", grid_gap="0 6px"))
        controls = widgets.VBox([
            *(i[name] for name in ("ram_gib", "n_vms", "size_scale", "activity", "tau",
                                   "guest_os")),
            techniques, i["salting"], self.summary,
        ], layout=widgets.Layout(width=column, flex="0 0 auto"))
        # The controls' column beside the figure; on a narrower screen the figure wraps below.
        return widgets.VBox([widgets.HBox([controls, self.image], layout=widgets.Layout(
            flex_flow="row wrap", align_items="flex-start", grid_gap="12px"))])


def overcommit_explorer() -> LiveView:
    """Chapter 6's demo as one output: the live :class:`OvercommitExplorer` once the reader's
    kernel runs the cell, and the kernel-free :func:`ram_sweep` in the HTML book and in a
    notebook that has been opened but not run yet (:class:`virtbook.LiveView`)."""
    note = ("Precomputed runs of the default scenario. Run this cell (or Run All) for the live "
            "explorer, which changes every control.")
    return LiveView(OvercommitExplorer().widget, ram_sweep(note=note),
                          "The memory overcommit explorer: run the cell in a notebook to use it.")
