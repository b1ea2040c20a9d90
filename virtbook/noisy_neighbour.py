"""The noisy neighbour: containers sharing CPUs, with and without cgroup limits (chapter 8).

:func:`noisy_neighbour` and :func:`miner_alone` run on :mod:`virtbook.cpu`'s Linux CFS model.
Each container is a cgroup whose threads share one ``cpu.weight`` (kernel
Documentation/admin-guide/cgroup-v2.rst, "CPU Interface Files"); the containers' weights are
equal, as Docker leaves them (a cgroup per container, the same default weight unless
``--cpu-shares`` is given) and as Kubernetes sets them for pods with equal CPU requests. Without
a cgroup per container (plain processes on a host, or everything in one group), every thread is
its own scheduling entity of equal weight and a workload with many threads takes a
proportionally larger share. Linux 6.6 replaced CFS's pick rule with EEVDF, which divides CPU
time by the same weights; the model's wake-up latencies are CFS's. ``cpu.max`` (bandwidth
control, Documentation/scheduler/sched-bwc.rst) caps a container's CPU time per period; a group
whose quota is refilled is placed like a waking task, as the kernel's ``unthrottle_cfs_rq()``
enqueues it with ``ENQUEUE_WAKEUP`` (kernel/sched/fair.c). The miner can be split over several
containers, each with its own weight and its own cap, which is how an attacker multiplies its
share of a host whose containers are protected by weights alone.

The kernel's default ``cpu.max`` period (100 ms, Documentation/scheduler/sched-bwc.rst) is the
CPU model's :data:`virtbook.cpu.DEFAULT_PERIOD_US`.

>>> r = noisy_neighbour("cgroups", miner_threads=8, pcpus=2, duration_ms=1000)
>>> sorted(r.cpu_share) == sorted(NEIGHBOURS)
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from virtbook._validate import check_choice, check_int, check_real
from virtbook.cpu import DEFAULT_PERIOD_US, VM, CPUBound, Host, IOBound, simulate

__all__ = ["NEIGHBOURS", "NEIGHBOUR_CONFIGS", "NeighbourResult", "miner_alone", "neighbour_vms",
           "noisy_neighbour"]


NEIGHBOUR_CONFIGS = ("alone", "shared", "cgroups")
#: The containers of the noisy-neighbour scenario, in display order.
NEIGHBOURS = ("web", "api", "miner")


@dataclass(frozen=True)
class NeighbourResult:
    """CPU each container got (fraction of one CPU) and what the latency-sensitive ``web``
    container felt: its wake-up latency (99th percentile, ms) and its steal time (%).

    ``cpu_share["miner"]`` is the total over all the miner's threads and containers;
    ``miner_containers`` and ``miner_cpus`` record how the miner was set up (``miner_cpus`` is the
    ``cpu.max`` of each miner container in CPUs, ``None`` for no limit)."""

    config: str
    miner_threads: int
    cpu_share: dict[str, float]
    web_p99_ms: float
    web_steal_pct: float
    api_steal_pct: float
    miner_containers: int = 1
    miner_cpus: float | None = None


def _quota_per_thread(cpus: float, threads: int, period_us: int) -> int:
    """The ``quota_us`` of each thread for a group cap of ``cpus`` CPUs (``docker run --cpus``).

    cgroup v2's ``cpu.max`` is one quota for the whole group; the simulator follows libvirt and
    enforces a quota per thread, so the group's quota is divided evenly over its threads (the same
    total when every thread is busy). The smallest per-thread quota the model accepts is 1000 us,
    so a group of ``threads`` threads can be capped at ``1000 * threads / period_us`` CPUs or more.
    """
    lo = 1000 * threads / period_us
    c = check_real("miner_cpus", cpus, lo, float(threads))
    return int(round(c * period_us / threads))


def neighbour_vms(config: str, *, miner_threads: int = 8, miner_containers: int = 1,
                  miner_cpus: float | None = None) -> list:
    """The scheduling entities of the scenario, as :class:`virtbook.cpu.VM` objects.

    Three containers share a host: ``web`` (one thread; 1 ms of CPU, then waits about 4 ms for
    the network), ``api`` (one thread; 5 ms of CPU per 5 ms of waiting) and ``miner``, a
    cryptominer with ``miner_threads`` threads that never stop computing.

    * ``"alone"``: web and api without the miner, the baseline of what they need.
    * ``"shared"``: no cgroup per container, as for plain processes on one host. CFS gives every
      thread the same weight, so the miner appears as ``miner_threads`` entities named
      ``miner.t0``, ``miner.t1``, ... (how many containers the threads come from makes no
      difference here).
    * ``"cgroups"``: one cgroup per container, all with the same weight (Docker's default); the
      threads of one miner container share one weight. With ``miner_containers`` > 1 the
      threads are split evenly over that many containers (``miner0``, ``miner1``, ...), each with
      its own, equal weight. ``miner_cpus`` sets ``cpu.max`` on each miner container, in CPUs
      (``docker run --cpus``); ``None`` means ``max``, no limit. A cap needs the container's own
      cgroup, so it is accepted with ``"cgroups"`` only.

    The period is the kernel's default, 100 ms.
    """
    check_choice("config", config, NEIGHBOUR_CONFIGS)
    threads = check_int("miner_threads", miner_threads, 1, 64)
    containers = check_int("miner_containers", miner_containers, 1, threads)
    if threads % containers:
        divisors = [d for d in range(1, threads + 1) if threads % d == 0]
        raise ValueError(f"miner_containers must divide miner_threads ({threads}) evenly, "
                         f"one of {divisors}, got {containers}")
    per_container = threads // containers
    quota = -1
    if miner_cpus is not None:
        if config != "cgroups":
            raise ValueError(f"miner_cpus needs config 'cgroups' (cpu.max applies to a "
                             f"container's own cgroup), got config {config!r}")
        quota = _quota_per_thread(miner_cpus, per_container, DEFAULT_PERIOD_US)
    vms = [VM("web", workload=IOBound(run_ms=1.0, block_ms=4.0)),
           VM("api", workload=IOBound(run_ms=5.0, block_ms=5.0))]
    if config == "alone":
        pass
    elif config == "shared":
        vms += [VM(f"miner.t{i}", workload=CPUBound()) for i in range(threads)]
    elif containers == 1:
        vms.append(VM("miner", vcpus=threads, quota_us=quota, period_us=DEFAULT_PERIOD_US,
                      workload=CPUBound()))
    else:
        vms += [VM(f"miner{i}", vcpus=per_container, quota_us=quota, period_us=DEFAULT_PERIOD_US,
                   workload=CPUBound()) for i in range(containers)]
    return vms


def noisy_neighbour(config: str, *, miner_threads: int = 8, miner_containers: int = 1,
                    miner_cpus: float | None = None, pcpus: int = 2,
                    duration_ms: float = 5000.0, seed: int = 0) -> NeighbourResult:
    """Run the noisy-neighbour scenario under Linux CFS (:func:`virtbook.cpu.simulate`).

    The miner's set-up (``miner_threads``, ``miner_containers``, ``miner_cpus``) is described in
    :func:`neighbour_vms`.

    >>> shared = noisy_neighbour("shared", duration_ms=2000)
    >>> isolated = noisy_neighbour("cgroups", duration_ms=2000)
    >>> shared.cpu_share["api"] < isolated.cpu_share["api"]
    True
    >>> capped = noisy_neighbour("cgroups", miner_cpus=0.5, duration_ms=2000)
    >>> round(capped.cpu_share["miner"], 2)
    0.5
    """
    vms = neighbour_vms(config, miner_threads=miner_threads, miner_containers=miner_containers,
                        miner_cpus=miner_cpus)
    host = Host(pcpus=check_int("pcpus", pcpus, 1, 64))
    dur = check_real("duration_ms", duration_ms, 100.0, 600_000.0)
    r = simulate(host, vms, "cfs", duration_ms=dur, seed=check_int("seed", seed, 0))
    share = {"web": r.cpu_share["web"], "api": r.cpu_share["api"],
             "miner": sum(v for k, v in r.cpu_share.items() if k.startswith("miner"))}
    lat = r.wake_latency_ms["web"]
    p99 = float(np.percentile(lat, 99)) if lat.size else 0.0
    return NeighbourResult(config, miner_threads, share, p99, r.steal_pct["web"],
                           r.steal_pct["api"], miner_containers,
                           None if miner_cpus is None else float(miner_cpus))


def miner_alone(cpus: float | None, *, miner_threads: int = 8, pcpus: int = 2,
                duration_ms: float = 2000.0, period_us: int = DEFAULT_PERIOD_US) -> float:
    """CPU the miner gets alone on an idle host, with ``cpu.max`` set to ``cpus`` CPUs
    (``docker run --cpus``) or unlimited (``None``).

    cgroup v2's ``cpu.max`` is one quota for the whole group; the simulator follows libvirt and
    applies a quota to each thread, so the quota is divided evenly over the miner's threads
    (the same total when every thread is busy). The period is the kernel's default 100 ms.

    >>> round(miner_alone(None), 2), round(miner_alone(0.5), 2)
    (2.0, 0.5)
    """
    threads = check_int("miner_threads", miner_threads, 1, 64)
    n = check_int("pcpus", pcpus, 1, 64)
    period = check_int("period_us", period_us, 1000, 1_000_000)
    quota = -1
    if cpus is not None:
        lo = 1000 * threads / period
        c = check_real("cpus", cpus, lo, float(threads))
        quota = int(round(c * period / threads))
    vm = VM("miner", vcpus=threads, quota_us=quota, period_us=period, workload=CPUBound())
    dur = check_real("duration_ms", duration_ms, 100.0, 600_000.0)
    return simulate(Host(pcpus=n), [vm], "cfs", duration_ms=dur).cpu_share["miner"]
