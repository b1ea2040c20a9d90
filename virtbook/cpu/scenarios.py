"""Shared scenarios, so the widget, the chapter and the benchmark simulate the same host."""
from __future__ import annotations

from typing import Any

from .model import VM, CPUBound, Host, Idle, IOBound, SpinLock


def default_scenario() -> tuple[Host, list[VM], dict[str, Any]]:
    """The default demo: 4 pCPUs, 6 VMs of mixed sizes and workloads, 10 s simulated.

    Returns ``(host, vms, kwargs)`` for ``simulate(host, vms, **kwargs)``:

    * ``web``   2 vCPUs, I/O-bound (3 ms bursts, 15 ms waits): the latency-sensitive tenant;
    * ``db``    4 vCPUs, multi-threaded with a guest spinlock: shows lock-holder preemption;
    * ``batch`` 2 vCPUs, CPU-bound: a noisy neighbour;
    * ``big``   1 vCPU, CPU-bound, weight 512: twice the default share;
    * ``capped`` 1 vCPU, CPU-bound, cap 50: never more than half a pCPU;
    * ``idle``  1 vCPU that does nothing: it should see no steal time.

    11 vCPUs on 4 pCPUs: the host is overcommitted, so scheduling decisions matter.

    >>> host, vms, kwargs = default_scenario()
    >>> host.pcpus, len(vms), kwargs["duration_ms"]
    (4, 6, 10000)
    """
    host = Host(pcpus=4)
    vms = [
        VM("web", vcpus=2, workload=IOBound(run_ms=3.0, block_ms=15.0)),
        VM("db", vcpus=4, workload=SpinLock(work_ms=12.0, critical_ms=1.0)),
        VM("batch", vcpus=2, workload=CPUBound()),
        VM("big", vcpus=1, weight=512, cpu_weight=200, workload=CPUBound()),
        VM("capped", vcpus=1, cap=50, quota_us=50_000, period_us=100_000, workload=CPUBound()),
        VM("idle", vcpus=1, workload=Idle()),
    ]
    kwargs: dict[str, Any] = {
        "scheduler": "credit",
        "duration_ms": 10_000,
        "seed": 0,
        "coschedule": "none",
    }
    return host, vms, kwargs
