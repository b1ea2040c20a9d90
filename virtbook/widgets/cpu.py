"""An interactive vCPU scheduling demo: change the host, the VMs or the scheduler, see the result.

This module wires ipywidgets controls to two pure pieces and redraws; it holds no model logic:

* :func:`virtbook.cpu.simulate` runs the scenario (the default is
  :func:`virtbook.cpu.default_scenario`: 4 pCPUs, 6 VMs, 10 s);
* :class:`virtbook.figures.cpu.SchedulerDashboard` draws the timeline, share against entitlement,
  %RDY/%CSTP and the wake-latency CDF, updating its artists in place and blitting.

The controls are the parameters the real systems expose: pCPUs; per VM its vCPU count, a weight,
a cap and the guest's workload; the scheduler (Xen credit, Linux CFS as KVM uses it, or textbook
round robin), co-scheduling (none, relaxed, strict: VMware's modes) and credit's BOOST. One weight
slider drives both schedulers: it is Xen's ``weight`` (default 256; Xen wiki "Credit Scheduler"),
and for CFS it becomes the VM cgroup's ``cpu.weight`` at the same ratio to the default
(256 -> 100, so 512 -> 200; kernel Documentation/admin-guide/cgroup-v2.rst, default 100). One cap
drives both limits: Xen's ``cap`` in percent of one pCPU for the whole domain, and for CFS the
per-vCPU ``<quota>`` per 100 ms ``<period>`` that gives the same total (libvirt formatdomain,
"CPU Tuning": the quota applies to each vCPU). Both conversions are the model's
(:func:`virtbook.cpu.cfs_weight`, :func:`virtbook.cpu.quota_us`).

Speed (the issue asks for at most 100 ms median per control change on the default scenario):
:func:`simulation_window_ms` shortens the simulated window for the configurations the event-driven
engine needs longer for (many busy vCPUs, co-scheduling), and the figure's title says so. benchmarks/bench_cpu_widget.py measures
the whole callback.

Chapter 5 shows :func:`scheduler_explorer`: this widget for readers who run the notebook, and
precomputed runs (:func:`pcpu_sweep`) for everyone else, in one output.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import ipywidgets as widgets

from virtbook._validate import check_bool, check_choice, check_int, check_name
from virtbook.cpu import (
    CFS, DEFAULT_PERIOD_US, VM, XEN_DEFAULT_WEIGHT, CPUBound, Credit, Host, Idle, IOBound,
    RoundRobin, SimResult, SpinLock, cfs_weight, default_scenario, entitlement, quota_us, simulate,
)
from virtbook.figures import style
from virtbook.figures.cpu import SchedulerDashboard, pcpus_text
from virtbook.figures.sweep import png_bytes, sweep_html
from virtbook.widgets.common import Demo, LiveView

#: The workloads a VM can be given, with the default scenario's parameters.
WORKLOADS: dict[str, Any] = {
    "CPU-bound": CPUBound(),
    "I/O-bound": IOBound(run_ms=3.0, block_ms=15.0),
    "spinlock": SpinLock(work_ms=12.0, critical_ms=1.0),
    "idle": Idle(),
}
SCHEDULERS = ("credit", "cfs", "rr")
COSCHEDULE = ("none", "relaxed", "strict")
WEIGHTS = (32, 64, 128, 256, 512, 1024, 2048)
MAX_PCPUS = 8
MAX_VCPUS = 8
FULL_WINDOW_MS = 10_000.0
MIN_WINDOW_MS = 1_000.0
#: Busy vCPUs a full 10-second window is sized for (the default scenario has 10).
REFERENCE_BUSY_VCPUS = 12
#: The demo's figure in inches at ``style.DPI``: 550 x 550 px, shown at that size to the right of
#: the 350 px column of controls, so both fit a 1366 x 768 screen in JupyterLab with its file
#: browser open (about 930 px for an output).
DEMO_FIGSIZE = (5.5, 5.5)
#: Width of the controls' column in px.
CONTROLS_WIDTH_PX = 350
#: How much of the window each co-scheduling mode keeps: co-scheduling adds events (relaxed: skew
#: checks against every sibling on every state change; strict: gang starts, stops and held
#: pCPUs), which made a 10-second run two to four times as slow in
#: benchmarks/bench_cpu_widget.py on the book's 2-core build machine.
COSCHEDULE_WINDOW_FACTOR = {"none": 1.0, "strict": 0.5, "relaxed": 0.3}


@dataclass(frozen=True)
class VMSettings:
    """One row of the demo's controls: a VM as the reader configures it."""

    name: str
    vcpus: int = 1
    weight: int = XEN_DEFAULT_WEIGHT
    cap: int = 0
    workload: str = "CPU-bound"

    def __post_init__(self) -> None:
        check_name("name", self.name, None, spaces=False)
        check_int("vcpus", self.vcpus, 1, MAX_VCPUS)
        check_int("weight", self.weight, 1, 65535)
        check_int("cap", self.cap, 0, 100 * MAX_VCPUS)
        check_choice("workload", self.workload, tuple(WORKLOADS))


@dataclass(frozen=True)
class DemoSettings:
    """Everything the demo's controls set: the host, the scheduler and the VMs."""

    vms: tuple[VMSettings, ...]
    pcpus: int = 4
    scheduler: str = "credit"
    coschedule: str = "none"
    boost: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("pcpus", self.pcpus, 1, MAX_PCPUS)
        check_choice("scheduler", self.scheduler, SCHEDULERS)
        check_choice("coschedule", self.coschedule, COSCHEDULE)
        check_bool("boost", self.boost)
        check_int("seed", self.seed, 0)
        vms = tuple(self.vms)
        if not vms or not all(isinstance(v, VMSettings) for v in vms):
            raise ValueError("vms must be a non-empty sequence of VMSettings")
        if len({v.name for v in vms}) != len(vms):
            raise ValueError("vms must have unique names")
        object.__setattr__(self, "vms", vms)


def _workload_label(workload) -> str:
    for label, proto in WORKLOADS.items():
        if type(proto) is type(workload):
            return label
    raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, got {workload!r}")


def default_settings() -> DemoSettings:
    """The controls' starting values: :func:`virtbook.cpu.default_scenario` read back.

    >>> s = default_settings()
    >>> s.pcpus, [v.name for v in s.vms]
    (4, ['web', 'db', 'batch', 'big', 'capped', 'idle'])
    """
    host, vms, kwargs = default_scenario()
    rows = tuple(
        VMSettings(vm.name, vm.vcpus, vm.weight, vm.cap, _workload_label(vm.workload)) for vm in vms
    )
    return DemoSettings(rows, pcpus=host.pcpus, scheduler=kwargs["scheduler"],
                        coschedule=kwargs["coschedule"], seed=kwargs["seed"])


def simulation_window_ms(settings: DemoSettings) -> float:
    """How much time the demo simulates: 10 s, or less where a run would take too long.

    The simulator's cost grows with the number of scheduling decisions, which grows with the
    number of busy vCPUs (those of VMs that are not idle) and with co-scheduling. The window is
    10 s for up to 12 busy vCPUs without co-scheduling, shrinks in proportion beyond that, keeps
    30 percent under relaxed and 50 percent under strict co-scheduling, and is rounded down to
    half a second, with a floor of 1 s. The rule depends only on the settings, so the same
    settings always simulate the same window and give the same picture.

    >>> simulation_window_ms(default_settings())
    10000.0
    >>> from dataclasses import replace
    >>> simulation_window_ms(replace(default_settings(), coschedule="relaxed"))
    3000.0
    """
    if not isinstance(settings, DemoSettings):
        raise ValueError(f"settings must be a DemoSettings, got {settings!r}")
    busy = sum(v.vcpus for v in settings.vms if v.workload != "idle")
    window = FULL_WINDOW_MS * min(1.0, REFERENCE_BUSY_VCPUS / max(1, busy))
    window *= COSCHEDULE_WINDOW_FACTOR[settings.coschedule]
    return max(MIN_WINDOW_MS, 500.0 * (window // 500.0))


def scenario_from_settings(settings: DemoSettings) -> tuple[Host, list[VM], dict[str, Any]]:
    """Translate the controls into ``(host, vms, kwargs)`` for :func:`virtbook.cpu.simulate`.

    A cap above 100 x vCPUs is lowered to that (a VM cannot use more than all its vCPUs). Under
    strict co-scheduling a VM with more vCPUs than the host has pCPUs could never run, and the
    simulator refuses it with a ValueError that the widget shows.
    """
    if not isinstance(settings, DemoSettings):
        raise ValueError(f"settings must be a DemoSettings, got {settings!r}")
    host = Host(pcpus=settings.pcpus)
    vms = []
    for row in settings.vms:
        cap = min(row.cap, 100 * row.vcpus)
        vms.append(VM(row.name, vcpus=row.vcpus, weight=row.weight, cap=cap,
                      cpu_weight=cfs_weight(row.weight), quota_us=quota_us(cap, row.vcpus),
                      period_us=DEFAULT_PERIOD_US, workload=WORKLOADS[row.workload]))
    if settings.scheduler == "credit":
        scheduler: Any = Credit(boost=settings.boost)
    elif settings.scheduler == "cfs":
        scheduler = CFS()
    else:
        scheduler = RoundRobin()
    kwargs = {
        "scheduler": scheduler,
        "duration_ms": simulation_window_ms(settings),
        "seed": settings.seed,
        "coschedule": settings.coschedule,
    }
    return host, vms, kwargs


def title_for(settings: DemoSettings, duration_ms: float) -> str:
    """The figure title: scheduler, co-scheduling, BOOST, and how much time was simulated."""
    names = {"credit": "Xen credit", "cfs": "Linux CFS (KVM)", "rr": "round robin"}
    parts = [f"{names[settings.scheduler]} on {pcpus_text(settings.pcpus)}"]
    if settings.coschedule != "none":
        parts.append(f"{settings.coschedule} co-scheduling")
    if settings.scheduler == "credit" and not settings.boost:
        parts.append("BOOST off")
    window = f"{duration_ms / 1000:g} s simulated"
    if duration_ms < FULL_WINDOW_MS:
        window = f"first {duration_ms / 1000:g} s simulated (shorter window keeps the demo fast)"
    return ", ".join(parts) + "\n" + window


def render(settings: DemoSettings, board: SchedulerDashboard) -> tuple[SimResult, bytes]:
    """One control change: simulate ``settings`` and redraw ``board``; return (result, PNG).

    This is the widget's whole update callback apart from reading the controls, and what
    benchmarks/bench_cpu_widget.py times.
    """
    host, vms, kwargs = scenario_from_settings(settings)
    result = simulate(host, vms, **kwargs)
    entitled = entitlement(host, vms, kwargs["scheduler"])
    board.update(result, entitled, title_for(settings, kwargs["duration_ms"]))
    return result, board.png()


def demo_dashboard(vm_names, pixel_ratio: int = 1) -> SchedulerDashboard:
    """The demo's figure: the four panels at :data:`DEMO_FIGSIZE`, compact type, blitting.

    ``pixel_ratio`` 1 draws it at the size JupyterLab shows it (550 x 550 px); 2 draws twice as
    many pixels each way for a high-DPI screen, shown at the same size, but takes about twice as
    long per control change (benchmarks/bench_cpu_widget.py --pixel-ratio 2), which can exceed
    the 100 ms budget on a small machine: 1 is the default.
    """
    ratio = check_int("pixel_ratio", pixel_ratio, 1, 2)
    return SchedulerDashboard(vm_names, width=DEMO_FIGSIZE[0], height=DEMO_FIGSIZE[1],
                              blit=True, compact=True, dpi=style.DPI * ratio)


def pcpu_sweep(pcpus: tuple[int, ...] = (2, 3, 4, 5, 6), start: int = 4,
               note: str | None = None) -> str:
    """The kernel-free view for the HTML book: the default scenario's dashboard for each host
    size in ``pcpus``, behind a slider (:func:`virtbook.sweep_html`, which shows ``note``
    where its script does not run).

    The frames are the live demo's figure (:func:`demo_dashboard`), so a reader sees the same
    picture before and after running the notebook. Each frame's alt text says what changes:
    every VM's share and the busiest VM's %RDY.
    """
    if not pcpus or any(isinstance(p, bool) or not isinstance(p, int) for p in pcpus):
        raise ValueError(f"pcpus must be a non-empty tuple of integers, got {pcpus!r}")
    if start not in pcpus:
        raise ValueError(f"start must be one of pcpus {pcpus!r}, got {start!r}")
    frames, labels, alts = [], [], []
    for p in pcpus:
        settings = replace(default_settings(), pcpus=check_int("pcpus", p, 1, MAX_PCPUS))
        host, vms, kwargs = scenario_from_settings(settings)
        result = simulate(host, vms, **kwargs)
        entitled = entitlement(host, vms, kwargs["scheduler"])
        board = SchedulerDashboard(result.vm_names, width=DEMO_FIGSIZE[0],
                                   height=DEMO_FIGSIZE[1], compact=True)
        fig = board.update(result, entitled, title_for(settings, kwargs["duration_ms"]))
        frames.append(png_bytes(fig, dpi=style.DPI, colors=256))
        labels.append(pcpus_text(p))
        busiest = max(result.ready_pct, key=lambda name: result.ready_pct[name])
        shares = ", ".join(f"{name} {share:.2f}" for name, share in result.cpu_share.items())
        alts.append(f"Scheduler dashboard for the default scenario on {pcpus_text(p)}. "
                    f"CPU shares in "
                    f"pCPUs: {shares}. The VM that waits most, {busiest}, is ready but not "
                    f"running {result.ready_pct[busiest]:.0f} percent of the time.")
    return sweep_html(frames, labels, alts, name="cpu-pcpus", parameter="Physical CPUs",
                      start=pcpus.index(start), note=note)


class SchedulerDemo(Demo):
    """The widget: a column of controls (the host, the scheduler, a row per VM) beside the live
    dashboard, both visible at once on a 1366 x 768 screen.

    The figure is shown at the size it is drawn (:func:`demo_dashboard`; ``pixel_ratio=2`` for a
    high-DPI screen). The pCPU slider updates when released (``continuous_update=False``), so one
    drag is one simulation; a VM's vCPUs, weight and workload are menus, and its cap a number
    box (0 to 800 in steps of 10) that updates on Enter or when it loses focus. A configuration
    the simulator refuses (strict co-scheduling of a VM wider than the host) leaves the last
    figure in place and explains why in the status line (:attr:`summary`).
    """

    def __init__(self, settings: DemoSettings | None = None, pixel_ratio: int = 1) -> None:
        start = settings if settings is not None else default_settings()
        if not isinstance(start, DemoSettings):
            raise ValueError(f"settings must be a DemoSettings or None, got {start!r}")
        self._start = start
        self.board = demo_dashboard([v.name for v in start.vms], pixel_ratio)
        column = f"{CONTROLS_WIDTH_PX}px"
        label = {"description_width": "86px"}
        inputs = {
            "pcpus": widgets.IntSlider(value=start.pcpus, min=1, max=MAX_PCPUS,
                                       description="pCPUs", continuous_update=False, style=label,
                                       layout=widgets.Layout(width=column, grid_area="pcpus")),
            "scheduler": widgets.Dropdown(
                options=[("Xen credit", "credit"), ("Linux CFS (KVM)", "cfs"),
                         ("round robin", "rr")],
                value=start.scheduler, description="scheduler", style=label,
                layout=widgets.Layout(width=column, grid_area="scheduler")),
            "coschedule": widgets.Dropdown(options=list(COSCHEDULE), value=start.coschedule,
                                           description="co-schedule", style=label,
                                           layout=widgets.Layout(width="210px",
                                                                 grid_area="coschedule")),
            "boost": widgets.Checkbox(value=start.boost, description="BOOST (credit)",
                                      indent=False,
                                      layout=widgets.Layout(width="130px", grid_area="boost")),
        }
        fill = widgets.Layout(width="auto")
        #: Per VM, its name and its four controls (keys ``<name>:vcpus`` ... in ``inputs``).
        self.rows: list[tuple[str, dict]] = []
        for v in start.vms:
            row = {
                "vcpus": widgets.Dropdown(options=list(range(1, MAX_VCPUS + 1)), value=v.vcpus,
                                          layout=fill),
                "weight": widgets.Dropdown(options=list(WEIGHTS) if v.weight in WEIGHTS
                                           else sorted({*WEIGHTS, v.weight}),
                                           value=v.weight, layout=fill),
                "cap": widgets.BoundedIntText(value=v.cap, min=0, max=100 * MAX_VCPUS, step=10,
                                              continuous_update=False, layout=fill),
                "workload": widgets.Dropdown(options=list(WORKLOADS), value=v.workload,
                                             layout=fill),
            }
            self.rows.append((v.name, row))
            inputs.update({f"{v.name}:{key}": control for key, control in row.items()})
        super().__init__(inputs, image_layout=widgets.Layout(
            width=f"{DEMO_FIGSIZE[0] * style.DPI:.0f}px",
            height=f"{DEMO_FIGSIZE[1] * style.DPI:.0f}px", flex="0 0 auto"),
            summary_layout=widgets.Layout(width=column))
        # Draw the axes for every host size now, so the pCPU slider answers with a blit.
        self.board.prewarm(range(1, MAX_PCPUS + 1))

    def read(self) -> DemoSettings:
        i = self.inputs
        vms = tuple(VMSettings(name, r["vcpus"].value, r["weight"].value, r["cap"].value,
                               r["workload"].value) for name, r in self.rows)
        return replace(self._start, vms=vms, pcpus=i["pcpus"].value,
                       scheduler=i["scheduler"].value, coschedule=i["coschedule"].value,
                       boost=i["boost"].value)

    def render(self, settings: DemoSettings) -> tuple[bytes | None, str]:
        try:
            result, png = render(settings, self.board)
        except ValueError as err:
            return None, f"<span style='color:#D55E00'>Not simulated: {err}</span>"
        worst = max(result.vcpu_ready_pct.values()) if result.vcpu_ready_pct else 0.0
        return png, (f"total CPU used: {result.total_run_ms / result.duration_ms:.2f} of "
                     f"{pcpus_text(result.pcpus)}<br>highest %RDY of any vCPU: {worst:.1f}%")

    def layout(self) -> widgets.Box:
        column = f"{CONTROLS_WIDTH_PX}px"
        i = self.inputs
        top = widgets.GridBox([i["pcpus"], i["scheduler"], i["coschedule"], i["boost"]],
                              layout=widgets.Layout(
            width=column, grid_template_columns="215px 135px",
            grid_template_areas='"pcpus pcpus" "scheduler scheduler" "coschedule boost"'))
        cells: list = [widgets.HTML(f"<b>{h}</b>")
                       for h in ("VM", "vCPUs", "weight", "cap %", "workload")]
        for name, row in self.rows:
            cells += [widgets.Label(name), row["vcpus"], row["weight"], row["cap"],
                      row["workload"]]
        grid = widgets.GridBox(cells, layout=widgets.Layout(
            width=column, grid_template_columns="52px 46px 64px 58px 106px", grid_gap="2px 4px"))
        controls = widgets.VBox([top, grid, self.summary], layout=widgets.Layout(
            width=column, flex="0 0 auto", grid_gap="8px"))
        return widgets.HBox([controls, self.image], layout=widgets.Layout(
            flex_flow="row wrap", align_items="flex-start", grid_gap="12px"))


def scheduler_demo(settings: DemoSettings | None = None, pixel_ratio: int = 1) -> widgets.HBox:
    """The box of a :class:`SchedulerDemo`: the controls beside the live dashboard. It keeps, in
    ``update_times``, the seconds each control change took in the kernel."""
    return SchedulerDemo(settings, pixel_ratio).widget


def scheduler_explorer() -> LiveView:
    """Chapter 5's demo as one output: the live :func:`scheduler_demo` once the reader's kernel
    runs the cell, and the kernel-free :func:`pcpu_sweep` in the HTML book and in a notebook that
    has been opened but not run yet (:class:`virtbook.LiveView`)."""
    note = ("Precomputed runs of the default scenario. Run this cell (or Run All) for the live "
            "demo, which changes every parameter.")
    return LiveView(scheduler_demo(), pcpu_sweep(note=note),
                          "The vCPU scheduling demo: run the cell in a notebook to use it.")


__all__ = [
    "DemoSettings",
    "SchedulerDemo",
    "VMSettings",
    "WORKLOADS",
    "default_settings",
    "demo_dashboard",
    "pcpu_sweep",
    "render",
    "scenario_from_settings",
    "scheduler_demo",
    "scheduler_explorer",
    "simulation_window_ms",
    "title_for",
]
