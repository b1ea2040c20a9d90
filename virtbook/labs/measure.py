"""Measure how much CPU lab guests get, and set their CPU shares and caps while they run.

libvirt reports a running VM's CPU time with ``virDomainGetCPUStats`` (libvirt API reference,
https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetCPUStats): the total over the
whole VM (``cpu_time``, with ``user_time`` and ``system_time``) and, per host CPU, ``cpu_time``
and ``vcpu_time``, the part spent running the guest's vCPUs (without QEMU's own threads). On
QEMU these come from the VM's cgroup (``cpuacct``); where libvirt cannot give the per-CPU part,
the vCPU threads' own times (``virDomainGetVcpus``) stand in for it. Sampling them twice, a known
time apart, gives the share of a host CPU each VM got.

``<cputune>`` settings reach the same cgroups: ``<shares>`` the weight of the VM's group, and
``<period>`` with ``<quota>`` the bandwidth of each vCPU's group ("Domain XML format", section
"CPU Tuning", https://libvirt.org/formatdomain.html#cpu-tuning). :func:`set_cpu_limits` changes
them on a running VM (``virDomainSetSchedulerParametersFlags`` with ``cpu_shares``,
``vcpu_period``, ``vcpu_quota``).

:func:`start_contending_guests` is the set-up of Lab L5's experiment: lab guests whose vCPUs and
QEMU threads are all pinned to one host CPU, so that they compete for it, with the given shares.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .._validate import check_int, check_real
from . import _libvirt
from .connection import resolve
from .guest import BOOT_TIMEOUT, Guest, boot_guests
from .ownership import owned


@dataclass(frozen=True)
class CpuTimes:
    """A VM's CPU time so far, in seconds: in total and in its vCPUs."""

    cpu_s: float
    vcpu_s: float


def cpu_times(dom) -> CpuTimes:
    """The CPU time a running VM has used so far, in seconds: in total (``getCPUStats``, from the
    VM's cgroup) and in its vCPUs (the per-CPU ``vcpu_time`` of ``getCPUStats`` where libvirt
    can report it, else the vCPU threads' times from ``virDomainGetVcpus``)."""
    libvirt = _libvirt.load()
    total = dom.getCPUStats(True)[0]
    try:
        vcpu_ns = sum(cpu.get("vcpu_time", 0) for cpu in dom.getCPUStats(False))
    except libvirt.libvirtError as err:
        # On a host with cgroup v2 next to v1 controllers, libvirt 9.0 answered "operation
        # 'getCpuacctPercpuUsage' not supported for backend 'cgroup V2'"; the per-vCPU thread
        # times (from /proc) still give the vCPUs' share.
        if err.get_error_code() not in (libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
                                        libvirt.VIR_ERR_NO_SUPPORT):
            raise
        vcpu_ns = sum(info[2] for info in dom.vcpus()[0])
    return CpuTimes(total["cpu_time"] / 1e9, vcpu_ns / 1e9)


@dataclass(frozen=True)
class CpuUse:
    """CPU time a VM got during one measurement window of ``wall_s`` seconds."""

    name: str
    wall_s: float
    cpu_s: float
    vcpu_s: float

    @property
    def share(self) -> float:
        """vCPU time per second of wall time: 1.0 is one host CPU's worth."""
        return self.vcpu_s / self.wall_s

    @property
    def total_share(self) -> float:
        """Like :attr:`share`, with QEMU's own threads included."""
        return self.cpu_s / self.wall_s


def measure_cpu(doms, seconds: float = 5.0) -> list[CpuUse]:
    """The CPU time each running VM in ``doms`` gets over the next ``seconds`` (reads only)."""
    seconds = check_real("seconds", seconds, 0.2, 300)
    doms = list(doms)
    if not doms:
        raise ValueError("doms must hold at least one running VM")
    start = [cpu_times(d) for d in doms]
    t0 = time.monotonic()
    time.sleep(seconds)
    end = [cpu_times(d) for d in doms]
    wall = time.monotonic() - t0
    return [CpuUse(d.name(), wall, b.cpu_s - a.cpu_s, b.vcpu_s - a.vcpu_s)
            for d, a, b in zip(doms, start, end)]


def set_cpu_limits(dom, *, shares: int | None = None, period: int | None = None,
                   quota: int | None = None) -> dict:
    """Change a running lab VM's CPU weight and per-vCPU cap; return the scheduler parameters.

    ``shares`` is the cgroup weight (2..262144), ``period`` (1,000..1,000,000 µs) and ``quota``
    (µs per period, -1 for no cap) the bandwidth of each vCPU.
    """
    owned(dom)
    libvirt = _libvirt.load()
    params = {}
    if shares is not None:
        params["cpu_shares"] = check_int("shares", shares, 2, 262144)
    if period is not None:
        params["vcpu_period"] = check_int("period", period, 1000, 1000000)
    if quota is not None:
        if quota != -1:
            check_int("quota", quota, 1000, 17592186044415)
        params["vcpu_quota"] = quota
    if not params:
        raise ValueError("give at least one of shares, period and quota")
    dom.setSchedulerParametersFlags(params, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    return dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE)


def start_contending_guests(conn=None, *, names=("l5-low", "l5-high"), shares=(1024, 2048),
                            host_cpu: int = 0, lab: str = "L5", memory_mib: int = 96,
                            timeout: float = BOOT_TIMEOUT) -> list[Guest]:
    """Create and boot one single-vCPU lab guest per name, every vCPU and QEMU thread pinned to
    ``host_cpu``, with the matching ``shares``; return the running guests (not yet spinning:
    call ``guest.spin()`` on each, then :func:`measure_cpu`)."""
    from .vms import create_lab_vm  # vms imports the guest module lazily

    conn = resolve(conn)
    names, shares = list(names), list(shares)
    if not names or len(names) != len(shares):
        raise ValueError(f"names and shares must be non-empty and of one length, got "
                         f"{len(names)} names and {len(shares)} shares")
    ncpus, online, _count = conn.getCPUMap()
    check_int("host_cpu", host_cpu, 0, ncpus - 1)
    if not online[host_cpu]:
        raise ValueError(f"host_cpu must be an online host CPU, got {host_cpu}, which is offline")
    doms = [create_lab_vm(name, conn=conn, lab=lab, memory_mib=memory_mib, guest=True,
                          shares=share, pin=str(host_cpu))
            for name, share in zip(names, shares)]
    return boot_guests(doms, timeout)
