"""What each VM is entitled to: weighted max-min fair sharing of the host's pCPUs.

A scheduler's weights and limits promise each VM a share of the host; where the VM's measured
share (:attr:`virtbook.cpu.SimResult.cpu_share`) falls short of that promise, the scheduler, its
co-scheduling or its latency cost the VM something. :func:`entitlement` computes the promise by
water-filling over each VM's :func:`demand`; chapter 5's dashboard draws it as a reference line.

>>> from virtbook.cpu import Host, VM
>>> ent = entitlement(Host(pcpus=1), [VM("a"), VM("b", weight=512)], "credit")
>>> round(ent["a"], 3), round(ent["b"], 3)
(0.333, 0.667)
"""
from __future__ import annotations

import math
from typing import Sequence

from .._validate import check_choice
from .model import CFS, SCHEDULERS, VM, CPUBound, Credit, Host, Idle, IOBound, RoundRobin, SpinLock

_EPS = 1e-12


def demand(vm: VM) -> float:
    """How many pCPUs ``vm``'s guest would use if it never had to wait (its CPU demand).

    A CPU-bound or spinlock guest keeps every vCPU runnable (spinning counts as demand: the
    hypervisor cannot tell spinning from work); an idle guest wants nothing; an I/O-bound guest
    computes for ``run_ms`` out of every ``run_ms + block_ms``, so each vCPU wants that fraction.

    >>> demand(VM("io", vcpus=2, workload=IOBound(run_ms=3, block_ms=15)))
    0.3333333333333333
    """
    wl = vm.workload
    if isinstance(wl, Idle):
        return 0.0
    if isinstance(wl, IOBound):
        return vm.vcpus * wl.run_ms / (wl.run_ms + wl.block_ms)
    if isinstance(wl, (CPUBound, SpinLock)):
        return float(vm.vcpus)
    raise ValueError(f"vm.workload must be CPUBound, Idle, IOBound or SpinLock, got {wl!r}")


def _scheduler_kind(scheduler) -> str:
    if isinstance(scheduler, str):
        return check_choice("scheduler", scheduler, SCHEDULERS)
    if isinstance(scheduler, Credit):
        return "credit"
    if isinstance(scheduler, CFS):
        return "cfs"
    if isinstance(scheduler, RoundRobin):
        return "rr"
    raise ValueError(
        "scheduler must be 'rr', 'credit', 'cfs' or a RoundRobin/Credit/CFS object, "
        f"got {scheduler!r}"
    )


def _weight_and_limit(vm: VM, kind: str) -> tuple[float, float]:
    """The VM's scheduling weight and its hard limit in pCPUs under scheduler ``kind``."""
    if kind == "credit":
        # credit1 hands out credit in proportion to weight x active vCPUs (csched_acct in
        # xen/common/sched/credit.c), so the weight is in effect per vCPU; cap is in percent of
        # one pCPU for the whole domain (Xen wiki, "Credit Scheduler").
        limit = vm.cap / 100.0 if vm.cap else math.inf
        return float(vm.weight * vm.vcpus), limit
    if kind == "cfs":
        # One cgroup per VM: cpu.weight is shared by all its vCPU threads (kernel
        # Documentation/admin-guide/cgroup-v2.rst); libvirt's quota/period apply to each vCPU.
        limit = vm.vcpus * vm.quota_us / vm.period_us if vm.quota_us > 0 else math.inf
        return float(vm.cpu_weight), limit
    return float(vm.vcpus), math.inf  # round robin: every runnable vCPU takes its turn


def entitlement(host: Host, vms: Sequence[VM], scheduler="credit") -> dict[str, float]:
    """The CPU share, in pCPUs, each VM is entitled to: weighted max-min fair sharing.

    VMware calls the CPU time a VM's shares, reservation and limit earn it its *entitlement*
    ("The CPU Scheduler in VMware vSphere 5.1", section "Proportional Share-Based Algorithm");
    this function computes the same idea for the simulator's schedulers and also takes each VM's
    demand into account, so that it predicts the share a VM should measure. It is water-filling:
    the host's ``pcpus`` are divided in proportion to the scheduler's weights; a VM that would get
    more than it can use (its :func:`demand`, its vCPU count, or its cap/quota) gets exactly that,
    and the rest is divided again among the others. Weights follow each scheduler: credit uses
    ``weight`` x vCPUs (credit1 accounts weight per active vCPU), CFS the VM cgroup's
    ``cpu_weight``, round robin one share per vCPU.

    It is the reference line the dashboard draws: where a VM's measured share falls short of its
    entitlement, the scheduler (or co-scheduling, or latency) cost it something.
    """
    if not isinstance(host, Host):
        raise ValueError(f"host must be a Host, got {host!r}")
    vms = list(vms)
    if not vms or not all(isinstance(v, VM) for v in vms):
        raise ValueError("vms must be a non-empty sequence of VM")
    kind = _scheduler_kind(scheduler)
    upper: dict[str, float] = {}
    weight: dict[str, float] = {}
    for vm in vms:
        w, limit = _weight_and_limit(vm, kind)
        upper[vm.name] = min(demand(vm), float(vm.vcpus), limit)
        weight[vm.name] = w
    alloc = {vm.name: 0.0 for vm in vms}
    active = [vm.name for vm in vms if upper[vm.name] > _EPS]
    remaining = float(host.pcpus)
    while active and remaining > _EPS:
        wsum = sum(weight[n] for n in active)
        fair = {n: remaining * weight[n] / wsum for n in active}
        full = [n for n in active if upper[n] <= fair[n] + 1e-9]
        if not full:
            alloc.update(fair)
            break
        for n in full:
            alloc[n] = upper[n]
            remaining -= upper[n]
        active = [n for n in active if n not in full]
    return alloc
