"""Published results the CPU simulators reproduce (rows of the book's Validation page).

Each row is a number stated by a primary source and the run of :mod:`virtbook.cpu` that
reproduces it; ``tests/test_published_results.py`` asserts every row and ``validation.ipynb``
prints them. See :mod:`virtbook.validation` for the fields.

The first rows are the worked examples of OSTEP's chapter 7 (Arpaci-Dusseau and
Arpaci-Dusseau, *Operating Systems: Three Easy Pieces*, "Scheduling: Introduction"), whose
figures 7.1-7.7 state each average in the text; the jobs are the chapter's own.

The hypervisor rows follow: Xen's credit scheduler (weight and cap from the Xen wiki, BOOST and the
cap's rounding from xen/common/sched/credit.c), Linux CFS (cgroup v2 ``cpu.weight`` and the
bandwidth-control example of Documentation/scheduler/sched-bwc.rst) and VMware's co-scheduling
(the white paper "The CPU Scheduler in VMware vSphere 5.1" and the 2008 VMware performance blog).
"""
from __future__ import annotations

import numpy as np

from virtbook.cpu.classic import Job, classic
from virtbook.cpu.engine import simulate
from virtbook.cpu.model import VM, Credit, Host, IOBound
from virtbook.validation import PublishedResult

OSTEP = "arpacidusseau2018operating"
XEN_WIKI = "xen2026credit"
XEN_SOURCE = "xen2026xen"
CGROUP2 = "heo2015control"
BWC = "linux2026cfs"
VMWARE = "vmware2013cpu"
VMWARE_BLOG = "vmware2008esx"


def _average(jobs, policy: str, metric: str, quantum: float = 1.0) -> float:
    return classic(jobs, policy=policy, quantum=quantum).average(metric)


def _share(host: int, vms: list[VM], scheduler, name: str, duration_ms: float = 10_000) -> float:
    return simulate(Host(host), vms, scheduler, duration_ms).cpu_share[name]


def xen_weight_ratio() -> float:
    """CPU of a weight-512 domain over a weight-256 one, both busy on one pCPU."""
    r = simulate(Host(1), [VM("a", weight=512), VM("b", weight=256)], "credit", 12_000)
    return r.cpu_share["a"] / r.cpu_share["b"]


def xen_cap_steady_share(vcpus: int = 7, cap: int = 10) -> float:
    """Share of a pCPU a capped, CPU-bound domain gets once past its start (120 s to 300 s).

    csched_acct parks vCPUs only when it runs, once per 30 ms timeslice, so every vCPU runs up
    to a whole timeslice before its first parking; the steady rate is read after that.
    """
    vms = [VM("a", vcpus=vcpus, cap=cap)]
    host = Host(vcpus + 1)
    early = simulate(host, vms, "credit", 120_000).cpu_share["a"] * 120_000
    late = simulate(host, vms, "credit", 300_000).cpu_share["a"] * 300_000
    return (late - early) / 180_000


def xen_boost_within_ratelimit() -> float:
    """Share of an I/O-bound VM's wake-ups that run within ratelimit_us (1 ms) beside two hogs."""
    vms = [VM("io", workload=IOBound(run_ms=1, block_ms=9)), VM("h1"), VM("h2")]
    r = simulate(Host(1), vms, Credit(), 20_000)
    lat = r.wake_latency_ms["io"]
    return float((lat <= 1.0).mean())


def max_sibling_skew_ms(skew_threshold_ms: float = 3.0) -> float:
    """Largest lead in run time one CPU-bound sibling ever has over the other, under relaxed
    co-scheduling (a 2-vCPU VM and a 1-vCPU hog on 2 pCPUs, 3 s)."""
    r = simulate(Host(2), [VM("smp", vcpus=2), VM("hog")], "credit", 3_000,
                 coschedule="relaxed", skew_threshold_ms=skew_threshold_ms)
    slices = [s for s in r.timeline if s.vm == "smp"]
    times = np.array(sorted({t for s in slices for t in (s.start_ms, s.end_ms)}))
    ran = np.zeros((2, len(times)))
    for s in slices:
        ran[s.vcpu] += np.clip(times - s.start_ms, 0.0, s.end_ms - s.start_ms)
    return float(np.abs(ran[0] - ran[1]).max())


def idle_sibling_costop_pct() -> float:
    """%CSTP of a 2-vCPU VM whose vCPUs are idle 99% of the time, beside two hogs on 2 pCPUs."""
    vms = [VM("smp", vcpus=2, workload=IOBound(run_ms=0.2, block_ms=20)), VM("h1"), VM("h2")]
    r = simulate(Host(2), vms, "credit", 10_000, coschedule="relaxed")
    return r.costop_pct["smp"]


def _three(a: float, b: float, c: float, late: float = 0.0) -> list[Job]:
    return [Job(a), Job(b, arrival=late), Job(c, arrival=late)]


RESULTS: tuple[PublishedResult, ...] = (
    PublishedResult(
        key="ostep-fifo-equal", model="cpu", system="FIFO (OSTEP)",
        quantity="Average turnaround of three 10 s jobs", source=OSTEP,
        where="ch. 7, Figure 7.1", published=20.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(10, 10, 10), "FIFO", "turnaround")),
    PublishedResult(
        key="ostep-fifo-convoy", model="cpu", system="FIFO (OSTEP)",
        quantity="Average turnaround, a 100 s job ahead of two 10 s jobs (convoy effect)",
        source=OSTEP, where="ch. 7, Figure 7.2", published=110.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(100, 10, 10), "FIFO", "turnaround")),
    PublishedResult(
        key="ostep-sjf", model="cpu", system="SJF (OSTEP)",
        quantity="Average turnaround of the same three jobs", source=OSTEP,
        where="ch. 7, Figure 7.3", published=50.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(100, 10, 10), "SJF", "turnaround")),
    PublishedResult(
        key="ostep-sjf-late", model="cpu", system="SJF (OSTEP)",
        quantity="Average turnaround when the 10 s jobs arrive at t = 10 s", source=OSTEP,
        where="ch. 7, Figure 7.4", published=103.33, unit="s", tolerance=0.005,
        measure=lambda: _average(_three(100, 10, 10, late=10), "SJF", "turnaround")),
    PublishedResult(
        key="ostep-stcf", model="cpu", system="STCF (OSTEP)",
        quantity="Average turnaround with preemption of the 100 s job", source=OSTEP,
        where="ch. 7, Figure 7.5", published=50.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(100, 10, 10, late=10), "STCF", "turnaround")),
    PublishedResult(
        key="ostep-rr-response", model="cpu", system="Round robin (OSTEP)",
        quantity="Average response time of three 5 s jobs, 1 s time slice", source=OSTEP,
        where="ch. 7, Figure 7.7", published=1.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(5, 5, 5), "RR", "response", quantum=1)),
    PublishedResult(
        key="ostep-sjf-response", model="cpu", system="SJF (OSTEP)",
        quantity="Average response time of the same jobs under SJF", source=OSTEP,
        where="ch. 7, Figure 7.6", published=5.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(5, 5, 5), "SJF", "response")),
    PublishedResult(
        key="xen-weight", model="cpu", system="Xen credit",
        quantity="CPU of a weight-512 domain over a weight-256 one on a contended pCPU",
        source=XEN_WIKI, where="section Weight", published=2.0, unit="x", tolerance=0.02,
        measure=xen_weight_ratio,
        note="The wiki: a domain with weight 512 gets twice as much CPU as one with 256."),
    PublishedResult(
        key="xen-cap", model="cpu", system="Xen credit",
        quantity="CPU of a busy 1-vCPU domain with cap 50, with a pCPU to spare",
        source=XEN_WIKI, where="section Cap", published=0.5, unit="pCPU", tolerance=0.01,
        measure=lambda: _share(2, [VM("a", cap=50), VM("b")], "credit", "a"),
        note="Cap is in percent of one physical CPU (50 = half a CPU) and holds even when the "
             "host has idle CPU."),
    PublishedResult(
        key="xen-cap-rounding", model="cpu", system="Xen credit",
        quantity="Steady CPU of a busy 7-vCPU domain with cap 10",
        source=XEN_SOURCE, where="credit.c, csched_acct", published=35 / 300, unit="pCPU",
        tolerance=0.001, measure=xen_cap_steady_share,
        note="csched_acct rounds the cap's credits up per vCPU: ceil(30 / 7) = 5 credits each, "
             "35 per 30 ms timeslice instead of 30, so a many-vCPU domain gets slightly more "
             "than its cap (0.117 rather than 0.100 of a pCPU)."),
    PublishedResult(
        key="xen-boost", model="cpu", system="Xen credit",
        quantity="Share of an I/O-bound VM's wake-ups that run within ratelimit_us (1 ms) "
                 "beside two CPU hogs",
        source=XEN_SOURCE, where="credit.c, csched_unit_wake; sched-if.h, "
                                 "SCHED_DEFAULT_RATELIMIT_US 1000",
        published=1.0, unit="of wake-ups", tolerance=0.01, measure=xen_boost_within_ratelimit,
        note="A vCPU that wakes while UNDER gets BOOST and preempts at once, unless the running "
             "vCPU has run less than ratelimit_us; wake-ups while OVER get no BOOST."),
    PublishedResult(
        key="cfs-weight", model="cpu", system="Linux CFS (cgroup v2)",
        quantity="CPU of a VM with cpu.weight 200 beside one with the default 100, one pCPU",
        source=CGROUP2, where="sections Weights and CPU Interface Files", published=2 / 3,
        unit="pCPU", tolerance=0.01,
        measure=lambda: _share(1, [VM("a", cpu_weight=200), VM("b")], "cfs", "a"),
        note="Weights split the CPU in proportion among active children; cpu.weight defaults "
             "to 100."),
    PublishedResult(
        key="cfs-bandwidth", model="cpu", system="Linux CFS bandwidth control",
        quantity="CPU of a busy group with quota 10 ms per 50 ms period, beside a hog",
        source=BWC, where="Examples, item 3", published=0.2, unit="pCPU", tolerance=0.005,
        measure=lambda: _share(1, [VM("a", quota_us=10_000, period_us=50_000), VM("b")],
                               "cfs", "a"),
        note="With a 50 ms period, a 10 ms quota is equivalent to 20% of one CPU."),
    PublishedResult(
        key="costop-skew", model="cpu", system="VMware relaxed co-scheduling",
        quantity="Largest lead of one busy sibling vCPU over the other, threshold 3 ms",
        source=VMWARE, where="section Relaxed Co-Scheduling", published=3.0, unit="ms",
        tolerance=1e-6, measure=max_sibling_skew_ms,
        note="A leading vCPU co-stops itself when its skew against the slowest sibling reaches "
             "the threshold, so the skew never exceeds it. VMware does not publish its "
             "threshold; 3 ms is the book's."),
    PublishedResult(
        key="costop-idle", model="cpu", system="VMware relaxed co-scheduling",
        quantity="%CSTP of a 2-vCPU VM whose vCPUs are idle 99% of the time, beside two hogs",
        source=VMWARE_BLOG, where="answer e (idle vCPUs)", published=0.0, unit="%",
        tolerance=0.1, measure=idle_sibling_costop_pct,
        note="Idle vCPUs are treated as making progress, so they accumulate no skew and cause "
             "no co-stop."),
)
