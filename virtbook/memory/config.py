"""What the simulator is told: the host, its virtual machines and their workloads.

Three frozen dataclasses describe a run. :class:`Phase` is one stretch of a workload
(boot, steady, burst, idle ...), :class:`VM` is a guest with its configured memory and the
controls an administrator sets on it, :class:`Host` is the physical machine with the knobs of
its hypervisor. Parameter names follow the systems they come from, so the reader can look them
up: ``reservation_mb``/``limit_mb``/``shares`` as in VMware's resource management guide and
libvirt's ``<memtune>``, ``pages_to_scan``/``sleep_millisecs``/``max_page_sharing`` as in the
kernel's KSM sysfs files, ``ctl_max_percent`` as ESXi's ``Mem.CtlMaxPercent`` and so on.

Sources for the defaults (each field's comment names its own):

* Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI 2002
  (https://www.usenix.org/legacy/event/osdi02/tech/waldspurger/waldspurger_html/): section 5.2
  (idle memory tax, default 75 %), section 5.3 (working-set sampling: 100 pages every 30 s),
  section 6.3 (free-memory states).
* Linux kernel, Documentation/admin-guide/mm/ksm.rst (pages_to_scan 100, sleep_millisecs 20,
  sysfs counters) and mm/ksm.c (``ksm_max_page_sharing = 256``).
* ksmtuned (the KSM tuning script shipped with qemu-kvm, Red Hat 2009): with
  ``thres = max(KSM_THRES_COEF % of RAM, KSM_THRES_CONST)`` (defaults 20 and 2048 MB) it stops
  KSM while the memory committed to guests plus ``thres`` fits in RAM and free memory exceeds
  ``thres``, and runs it otherwise; KSM_NPAGES_MAX=1250, KSM_SLEEP_MSEC=10 for a 16 GB host.
  (Its boosting and decaying of ``pages_to_scan`` is not modelled: the scan rate is fixed.)
* VMware vSphere Resource Management guide: memory shares 20/10/5 per MB of configured memory
  (High/Normal/Low); memory compression cache default 10 % of VM memory, pages kept only if they
  compress to 2 KB or less; ``Mem.CtlMaxPercent`` default 65.
* VMware KB 2097593 "Additional Transparent Page Sharing management capabilities and new default
  settings": ``Mem.ShareForceSalting`` (0 = inter-VM sharing as before, 1/2 = salting; 2 is the
  default since the 2014/2015 updates and ESXi 6.0) and the per-VM ``sched.mem.pshare.salt``.
* VMware KB 1021095 "Transparent Page Sharing (TPS) in hardware MMU systems": large (2 MB) pages
  are not shared until the host breaks them under memory pressure.
* Linux ``drivers/misc/vmw_balloon.c``: balloon rates in pages per second
  (VMW_BALLOON_NOSLEEP_ALLOC_MAX 16384, VMW_BALLOON_RATE_ALLOC_MAX 2048,
  VMW_BALLOON_RATE_FREE_MAX 16384).
* Jeff Dean, "Latency numbers every programmer should know": disk seek about 10 ms,
  compress 1 KB with Zippy about 10 us (orders of magnitude for the fault costs).

Defaults marked *illustrative* are model parameters, not product settings: they were chosen so
that a 10-minute run shows every mechanism at work; the chapter's exercises vary them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .._validate import check_bool, check_choice, check_int, check_name, check_real

#: Size of one guest/host page. x86-64 base pages are 4 KiB; every count in the core is in pages.
PAGE_KIB = 4
#: Pages per MiB (1024 KiB / 4 KiB).
PAGES_PER_MB = 1024 // PAGE_KIB

#: Largest memory accepted for a VM or host, in MB (4 TiB for a VM, 16 TiB for a host).
MAX_VM_MB = 4 * 1024 * 1024
MAX_HOST_MB = 16 * 1024 * 1024

#: Free-memory state policies understood by :mod:`virtbook.memory.policy`.
POLICIES = ("esx2002", "vsphere5")


@dataclass(frozen=True)
class Phase:
    """One stretch of a guest's workload.

    ``used_frac`` is the share of the VM's configured memory the guest has touched and keeps
    (kernel, applications, page cache); ``active_frac`` is the share it touches within one
    working-set sampling period (30 s by default, Waldspurger 2002 section 5.3). A guest never
    hands touched memory back to the hypervisor on its own, so the simulator treats the footprint
    as the running maximum of ``used_frac`` (Waldspurger 2002 section 3: the hypervisor cannot see
    the guest's free list; that is why ballooning exists).

    >>> Phase("burst", 60, used_frac=0.9, active_frac=0.6).active_frac
    0.6
    """

    name: str
    duration_s: float
    used_frac: float
    active_frac: float

    def __post_init__(self) -> None:
        check_name("phase name", self.name)
        object.__setattr__(self, "duration_s", check_real("duration_s", self.duration_s, 0, 86400 * 7, lo_open=True))
        object.__setattr__(self, "used_frac", check_real("used_frac", self.used_frac, 0.0, 1.0))
        object.__setattr__(self, "active_frac", check_real("active_frac", self.active_frac, 0.0, 1.0))
        if self.active_frac > self.used_frac:
            raise ValueError(
                f"active_frac must be a number at least 0 and at most used_frac ({self.used_frac:g}), "
                f"got {self.active_frac!r}"
            )


#: Default workload (illustrative): a 60 s boot, steady service, a burst and a long idle stretch.
#: The cycle repeats when a run is longer than 600 s.
DEFAULT_PHASES: tuple[Phase, ...] = (
    Phase("boot", 60, used_frac=0.40, active_frac=0.30),
    Phase("steady", 180, used_frac=0.70, active_frac=0.30),
    Phase("burst", 90, used_frac=0.90, active_frac=0.60),
    Phase("idle", 270, used_frac=0.90, active_frac=0.05),
)


@dataclass(frozen=True)
class VM:
    """A guest: configured memory, the administrator's controls and what its pages contain.

    Memory controls (VMware names, with libvirt's ``<memtune>`` equivalents):

    * ``mem_mb`` - configured memory, what the guest believes it has (libvirt ``<memory>``).
    * ``reservation_mb`` - guaranteed minimum, honoured as ESX honours it: the host admits the VM
      only if the reservations fit (``simulate`` refuses them otherwise), free memory goes first
      to VMs below their reservation, and reclamation never takes a VM below it; memory reserved
      but not yet touched serves the other VMs meanwhile (vSphere Resource Management: a VM is
      allocated between its reservation and its limit). libvirt's ``min_guarantee`` is the
      equivalent, which libvirt applies on VMware ESX only.

    The balloon is VMware's ``vmmemctl`` (Waldspurger 2002 section 3.2); on KVM the same role is
    played by libvirt's ``<memballoon model='virtio'>`` device, and ``dommemstat``'s ``actual``
    is the memory the balloon leaves the guest.
    * ``limit_mb`` - a hard cap, at every step and in every state: the VM's guest pages in RAM
      plus its compression cache never exceed it. Its balloon shows the guest no more than the
      limit, and beyond it a page comes in only by sending another to the swap file (ESXi limit;
      libvirt ``hard_limit``, "the maximum memory the guest can use", the cgroup's
      ``memory.max``). ``None``: no limit.
    * ``soft_limit_mb`` - a cap applied only while memory is contended (libvirt ``soft_limit``:
      "the memory limit to enforce during memory contention"). ``None``: none.
    * ``shares`` - proportional weight; ``None`` means VMware's *Normal*, 10 shares per MB of
      configured memory (vSphere Resource Management guide, table "Share Values").

    Page contents (fractions of the pages the guest touches; *illustrative* defaults; for
    measured redundancy see Waldspurger 2002 section 4 and Gupta et al., "Difference Engine",
    OSDI 2008, where identical pages plus patching and compression saved up to 90 % of memory for
    similar VMs and up to 65 % for disparate ones):

    * ``zero_frac`` - pages filled with zeros (freed and zeroed guest memory).
    * ``os_frac`` - pages identical in every VM that runs the same ``guest_os`` (kernel, shared
      libraries): the pages content-based sharing exists for (Waldspurger 2002 section 4.2).
    * the rest is private to this VM.

    Sharing controls: ``large_pages`` backs the guest with 2 MB pages, which are not shared until
    the host breaks them under pressure (VMware KB 1021095); ``pshare_salt`` is the per-VM
    ``sched.mem.pshare.salt`` of VMware KB 2097593: with salting on, only VMs with equal salts
    share pages with each other.

    Workload: ``phases`` (repeated to fill the run), shifted by ``phase_offset_s`` seconds so
    VMs can be staggered, moving from one phase to the next over ``ramp_s`` seconds
    (*illustrative*, 30 s), plus Gaussian noise of standard deviation ``jitter`` on the active
    fraction. ``cow_rate`` is the fraction of a VM's shared pages that a fully active guest writes
    per second (each write breaks sharing by copy-on-write); ``compressible_frac`` the share of
    pages that compress to 2 KB or less and so may enter the compression cache.

    >>> vm = VM("web", mem_mb=4096)
    >>> vm.shares, vm.limit_mb
    (40960, None)
    """

    name: str
    mem_mb: int
    reservation_mb: int = 0
    limit_mb: Optional[int] = None
    soft_limit_mb: Optional[int] = None
    shares: Optional[int] = None
    guest_os: str = "linux"
    zero_frac: float = 0.05
    os_frac: float = 0.20
    large_pages: bool = False
    pshare_salt: Optional[str] = None
    phases: tuple[Phase, ...] = DEFAULT_PHASES
    phase_offset_s: float = 0.0
    ramp_s: float = 30.0
    jitter: float = 0.02
    cow_rate: float = 0.002
    compressible_frac: float = 0.5

    def __post_init__(self) -> None:
        check_name("name", self.name)
        mem = check_int("mem_mb", self.mem_mb, 1, MAX_VM_MB)
        object.__setattr__(self, "mem_mb", mem)
        object.__setattr__(self, "reservation_mb", check_int("reservation_mb", self.reservation_mb, 0, mem))
        if self.limit_mb is not None:
            object.__setattr__(
                self, "limit_mb", check_int("limit_mb", self.limit_mb, max(1, self.reservation_mb), mem)
            )
        if self.soft_limit_mb is not None:
            object.__setattr__(
                self,
                "soft_limit_mb",
                check_int("soft_limit_mb", self.soft_limit_mb, max(1, self.reservation_mb), mem),
            )
        if self.shares is None:
            object.__setattr__(self, "shares", 10 * mem)
        else:
            object.__setattr__(self, "shares", check_int("shares", self.shares, 1, 10**9))
        check_name("guest_os", self.guest_os)
        zf = check_real("zero_frac", self.zero_frac, 0.0, 1.0)
        of = check_real("os_frac", self.os_frac, 0.0, 1.0)
        if zf + of > 1.0:
            raise ValueError(
                f"os_frac must be a number at least 0 and at most 1 - zero_frac ({1.0 - zf:g}), got {of!r}"
            )
        object.__setattr__(self, "zero_frac", zf)
        object.__setattr__(self, "os_frac", of)
        check_bool("large_pages", self.large_pages)
        if self.pshare_salt is not None:
            check_name("pshare_salt", self.pshare_salt)
        phases = self.phases
        if isinstance(phases, Phase):
            phases = (phases,)
        if not isinstance(phases, (tuple, list)) or not phases or len(phases) > 1000:
            raise ValueError(f"phases must be a sequence of 1..1000 Phase objects, got {self.phases!r}")
        for p in phases:
            if not isinstance(p, Phase):
                raise ValueError(f"phases must be a sequence of 1..1000 Phase objects, got an item {p!r}")
        object.__setattr__(self, "phases", tuple(phases))
        object.__setattr__(
            self, "phase_offset_s", check_real("phase_offset_s", self.phase_offset_s, 0.0, 86400 * 7)
        )
        object.__setattr__(self, "ramp_s", check_real("ramp_s", self.ramp_s, 0.0, 86400))
        object.__setattr__(self, "jitter", check_real("jitter", self.jitter, 0.0, 0.5))
        object.__setattr__(self, "cow_rate", check_real("cow_rate", self.cow_rate, 0.0, 1.0))
        object.__setattr__(
            self, "compressible_frac", check_real("compressible_frac", self.compressible_frac, 0.0, 1.0)
        )

    @property
    def cycle_s(self) -> float:
        """Length of one pass through ``phases`` in seconds."""
        return sum(p.duration_s for p in self.phases)


@dataclass(frozen=True)
class Host:
    """The physical machine and the settings of its hypervisor.

    * ``ram_mb`` - physical memory available to virtual machines.
    * ``policy`` - which free-memory states decide the reclamation techniques:
      ``"esx2002"`` (the default: states at 6/4/2/1 % of RAM as in Waldspurger 2002 section 6.3,
      ballooning in the soft and hard states) or ``"vsphere5"`` (minFree sliding scale, states
      at 100/64/32/16 % of minFree; ballooning only in the soft state, compression and swapping
      from the hard state on). See :mod:`virtbook.memory.policy`. Memory compression came with
      ESX 4.1; under ``"esx2002"`` it is used wherever swapping is (compress before swap).
    * ``pages_to_scan``, ``sleep_millisecs`` - KSM scan rate: ksmd examines ``pages_to_scan``
      pages, then sleeps ``sleep_millisecs`` (kernel defaults 100 and 20, admin-guide/mm/ksm.rst).
    * ``max_page_sharing`` - most sharers per KSM page (mm/ksm.c default 256; minimum 2).
    * ``ksm_thres_coef``, ``ksm_thres_const_mb`` - ksmtuned's threshold, the larger of
      ``ksm_thres_coef`` % of RAM and ``ksm_thres_const_mb`` (defaults 20 and 2048): KSM is
      stopped while the VMs' configured memory plus the threshold fits in RAM and free memory
      is above the threshold, and runs otherwise. Set ``ksm_thres_coef=100`` for a hypervisor
      that scans all the time, as ESX did in 2002.
    * ``share_force_salting`` - ``Mem.ShareForceSalting`` (KB 2097593): 0 lets all VMs share
      (the default here, as KSM does); 1 or 2 turn salting on, so only VMs with the same
      ``pshare_salt`` share (a VM without one gets a salt of its own, as with ``vc.uuid``).
      ESXi's own default has been 2 since 2015.
    * ``idle_tax`` - tau, ``Mem.IdleTax`` / 100: the largest share of a VM's idle pages that may
      be reclaimed for others (Waldspurger 2002 section 5.2, default 0.75).
    * ``ctl_max_percent`` - most of a VM's configured memory the balloon may take
      (``Mem.CtlMaxPercent``, default 65).
    * ``mem_zip_max_pct`` - compression cache per VM, % of its configured memory
      (``Mem.MemZipMaxPct``, default 10).
    * ``balloon_rate_nosleep``, ``balloon_rate_alloc_max``, ``balloon_rate_free_max`` - balloon
      inflation from guest free memory, inflation that forces guest paging, and deflation, in
      pages per second (vmw_balloon.c: 16384, 2048, 16384).
    * ``swap_out_mb_s`` - hypervisor swap-out bandwidth (*illustrative*, 100 MB/s).
    * ``swap_in_ms``, ``guest_swap_in_ms`` - cost of one page read back from the hypervisor's swap
      file or from the guest's own swap (about one disk seek, 10 ms, Dean's latency table).
    * ``decompress_ms`` - cost of one page read from the compression cache (0.01 ms: order of
      compressing 1 KB with Zippy in Dean's table).
    * ``sample_period_s``, ``sample_pages`` - working-set sampling (Waldspurger 2002 section 5.3:
      100 pages every 30 s).
    * ``state_hysteresis`` - a lower state is left only once free memory exceeds the higher
      threshold by this fraction (the paper requires "significantly exceeding" it without a
      number; 0.1 is *illustrative*).

    >>> Host(ram_mb=16384).pages_to_scan
    100
    """

    ram_mb: int
    policy: str = "esx2002"
    pages_to_scan: int = 100
    sleep_millisecs: int = 20
    max_page_sharing: int = 256
    ksm_thres_coef: int = 20
    ksm_thres_const_mb: int = 2048
    share_force_salting: int = 0
    idle_tax: float = 0.75
    ctl_max_percent: int = 65
    mem_zip_max_pct: int = 10
    balloon_rate_nosleep: int = 16384
    balloon_rate_alloc_max: int = 2048
    balloon_rate_free_max: int = 16384
    swap_out_mb_s: float = 100.0
    swap_in_ms: float = 10.0
    guest_swap_in_ms: float = 10.0
    decompress_ms: float = 0.01
    sample_period_s: float = 30.0
    sample_pages: int = 100
    state_hysteresis: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "ram_mb", check_int("ram_mb", self.ram_mb, 1, MAX_HOST_MB))
        check_choice("policy", self.policy, POLICIES)
        object.__setattr__(self, "pages_to_scan", check_int("pages_to_scan", self.pages_to_scan, 1, 10**7))
        object.__setattr__(
            self, "sleep_millisecs", check_int("sleep_millisecs", self.sleep_millisecs, 1, 3_600_000)
        )
        object.__setattr__(
            self, "max_page_sharing", check_int("max_page_sharing", self.max_page_sharing, 2, 10**6)
        )
        object.__setattr__(self, "ksm_thres_coef", check_int("ksm_thres_coef", self.ksm_thres_coef, 0, 100))
        object.__setattr__(
            self, "ksm_thres_const_mb", check_int("ksm_thres_const_mb", self.ksm_thres_const_mb, 0, MAX_HOST_MB)
        )
        object.__setattr__(
            self, "share_force_salting", check_int("share_force_salting", self.share_force_salting, 0, 2)
        )
        object.__setattr__(self, "idle_tax", check_real("idle_tax", self.idle_tax, 0.0, 0.99))
        object.__setattr__(
            self, "ctl_max_percent", check_int("ctl_max_percent", self.ctl_max_percent, 0, 100)
        )
        object.__setattr__(
            self, "mem_zip_max_pct", check_int("mem_zip_max_pct", self.mem_zip_max_pct, 0, 100)
        )
        for name in ("balloon_rate_nosleep", "balloon_rate_alloc_max", "balloon_rate_free_max"):
            object.__setattr__(self, name, check_int(name, getattr(self, name), 1, 10**8))
        object.__setattr__(
            self, "swap_out_mb_s", check_real("swap_out_mb_s", self.swap_out_mb_s, 0, 10**6, lo_open=True)
        )
        for name in ("swap_in_ms", "guest_swap_in_ms", "decompress_ms"):
            object.__setattr__(self, name, check_real(name, getattr(self, name), 0.0, 10**4))
        object.__setattr__(
            self, "sample_period_s", check_real("sample_period_s", self.sample_period_s, 0, 3600, lo_open=True)
        )
        object.__setattr__(self, "sample_pages", check_int("sample_pages", self.sample_pages, 1, 10**6))
        object.__setattr__(
            self, "state_hysteresis", check_real("state_hysteresis", self.state_hysteresis, 0.0, 1.0)
        )

    @property
    def ram_pages(self) -> int:
        """Physical memory in 4 KiB pages."""
        return self.ram_mb * PAGES_PER_MB

    @property
    def ksm_scan_rate(self) -> float:
        """Pages ksmd can examine per second: ``pages_to_scan * 1000 / sleep_millisecs``.

        >>> Host(ram_mb=1024).ksm_scan_rate  # kernel defaults: 100 pages every 20 ms
        5000.0
        """
        return self.pages_to_scan * 1000.0 / self.sleep_millisecs
