"""virtbook.cpu: a pure simulator of how hypervisors share physical CPUs among vCPUs.

Two levels, from the classroom baseline to hypervisors:

* :func:`classic` (FIFO, SJF, STCF, RR) and :func:`proportional` (stride, lottery) on one CPU,
  after OSTEP chapters 7 and 9;
* :func:`simulate`: VMs with vCPUs and guest workloads on a multi-pCPU :class:`Host`, under round
  robin, Xen's credit scheduler or Linux CFS (as KVM uses it), with optional co-scheduling, and
  esxtop-style metrics (%RUN, %RDY, %CSTP, %WAIT), steal time, wake-up latency and a timeline.

The package is pure: numpy only, no matplotlib or ipywidgets; :mod:`virtbook.figures.cpu` draws
its results and :mod:`virtbook.widgets.cpu` wires them to controls.

>>> from virtbook.cpu import Host, VM, simulate
>>> r = simulate(Host(pcpus=1), [VM("a"), VM("b")], "credit", duration_ms=1200)
>>> round(r.steal_pct["a"]), round(r.steal_pct["b"])
(50, 50)
"""
from .classic import (
    ClassicResult, Job, JobStats, ProportionalResult, classic, proportional,
)
from .engine import estimate_events, simulate
from .entitlement import demand, entitlement
from .model import (
    CFS, CGROUP2_DEFAULT_WEIGHT, DEFAULT_PERIOD_US, VM, XEN_DEFAULT_WEIGHT, CPUBound, Credit, Host,
    Idle, IOBound, RoundRobin, SpinLock, cfs_weight, cpu_weight_from_shares, quota_us,
)
from .result import SimResult, Slice
from .scenarios import default_scenario

__all__ = [
    "CFS",
    "CGROUP2_DEFAULT_WEIGHT",
    "DEFAULT_PERIOD_US",
    "XEN_DEFAULT_WEIGHT",
    "VM",
    "CPUBound",
    "ClassicResult",
    "Credit",
    "Host",
    "IOBound",
    "Idle",
    "Job",
    "JobStats",
    "ProportionalResult",
    "RoundRobin",
    "SimResult",
    "Slice",
    "SpinLock",
    "cfs_weight",
    "classic",
    "cpu_weight_from_shares",
    "default_scenario",
    "demand",
    "entitlement",
    "estimate_events",
    "proportional",
    "quota_us",
    "simulate",
]
