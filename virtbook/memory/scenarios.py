"""Ready-made scenarios shared by the chapter, its widget and the benchmark.

:func:`default_scenario` is the one the widget redraws and ``benchmarks/bench_memory.py`` times:
a 16 GiB host running six VMs with 28 GiB configured between them (1.75x overcommit), for ten
simulated minutes. The VMs' workloads are staggered so their bursts overlap, which pushes the host
through the soft and hard states; two Windows guests zero their free memory (many zero pages);
one Linux guest uses large pages, which are shared only once the host breaks them. Shares
follow VMware's presets (vSphere Resource Management guide): the database has *High* (20 per MB)
and a reservation, the batch VM *Low* (5 per MB), the rest *Normal* (10 per MB).

KSM is set as ksmtuned would drive it on a 16 GiB host under pressure: ``pages_to_scan`` at
ksmtuned's ``KSM_NPAGES_MAX`` (1250) and ``sleep_millisecs`` at its ``KSM_SLEEP_MSEC`` baseline for
16 GB (10 ms), so sharing becomes visible within minutes (the kernel defaults, 100 pages every
20 ms, would need about 20 minutes for one pass over the guests' memory).
"""
from __future__ import annotations

from .config import VM, Host, Phase

#: Workload of a busy service: short boot, steady load, a long burst.
SERVICE = (
    Phase("boot", 60, used_frac=0.40, active_frac=0.30),
    Phase("steady", 150, used_frac=0.70, active_frac=0.35),
    Phase("burst", 120, used_frac=0.90, active_frac=0.60),
    Phase("idle", 270, used_frac=0.90, active_frac=0.08),
)
#: Workload of a mostly idle machine (a test server, a desktop left alone).
IDLER = (
    Phase("boot", 60, used_frac=0.50, active_frac=0.40),
    Phase("idle", 540, used_frac=0.80, active_frac=0.05),
)


def default_scenario() -> tuple[Host, list[VM], dict]:
    """``(host, vms, kwargs)`` for ``simulate(host, vms, **kwargs)``: 16 GiB, 6 VMs, 600 s.

    >>> host, vms, kw = default_scenario()
    >>> host.ram_mb, len(vms), sum(v.mem_mb for v in vms), kw["duration_s"]
    (16384, 6, 28672, 600.0)
    """
    host = Host(ram_mb=16384, policy="vsphere5", pages_to_scan=1250, sleep_millisecs=10)
    vms = [
        VM("web1", 4096, guest_os="linux", phases=SERVICE, phase_offset_s=0),
        VM("web2", 4096, guest_os="linux", phases=SERVICE, phase_offset_s=30),
        VM("db", 6144, guest_os="linux", phases=SERVICE, phase_offset_s=60, shares=20 * 6144,
           reservation_mb=2048, large_pages=True),
        VM("batch", 4096, guest_os="linux", phases=SERVICE, phase_offset_s=90, shares=5 * 4096),
        VM("win1", 4096, guest_os="windows", zero_frac=0.30, os_frac=0.15, phases=IDLER),
        VM("win2", 6144, guest_os="windows", zero_frac=0.30, os_frac=0.15, phases=IDLER,
           phase_offset_s=20),
    ]
    kwargs = {"duration_s": 600.0, "dt_s": 1.0, "seed": 0,
              "techniques": ("balloon", "share", "compress", "swap")}
    return host, vms, kwargs
