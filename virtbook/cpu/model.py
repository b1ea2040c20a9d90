"""What the vCPU simulator schedules: a host, its VMs, and what the guests inside them do.

The parameters carry the names the real systems give them, with the ranges those systems accept:

* Xen credit scheduler (``xl sched-credit``): ``weight`` 1..65535, default 256, and ``cap`` in
  percent of one physical CPU, 0 meaning no cap. Sources: Xen wiki "Credit Scheduler"
  (https://wiki.xenproject.org/wiki/Credit_Scheduler, sections "Weight" and "Cap") and
  ``CSCHED_DEFAULT_WEIGHT 256`` in xen/common/sched/credit.c.
* Linux CFS under KVM, through libvirt's ``<cputune>`` (https://libvirt.org/formatdomain.html,
  section "CPU Tuning"): ``<shares>`` is written to the domain cgroup's ``cpu.weight`` on cgroup v2
  (range [1, 10000]) or ``cpu.shares`` on cgroup v1 (range [2, 262144]); ``<period>`` (1000..1000000
  microseconds) and ``<quota>`` (1000..17592186044415 microseconds, or negative for unlimited) apply
  to *each vCPU* ("Within period, each vCPU of the domain will not be allowed to consume more than
  quota worth of runtime"). A value of 0 for period or quota means "not set" in libvirt, which this
  model honours. cgroup v2's ``cpu.weight`` defaults to 100 (kernel
  Documentation/admin-guide/cgroup-v2.rst, "CPU Interface Files").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .._validate import check_bool, check_choice, check_int, check_name, check_real

XEN_WEIGHT_MIN, XEN_WEIGHT_MAX, XEN_DEFAULT_WEIGHT = 1, 65535, 256
CGROUP2_WEIGHT_MIN, CGROUP2_WEIGHT_MAX, CGROUP2_DEFAULT_WEIGHT = 1, 10000, 100
CGROUP1_SHARES_MIN, CGROUP1_SHARES_MAX, CGROUP1_DEFAULT_SHARES = 2, 262144, 1024
PERIOD_US_MIN, PERIOD_US_MAX, DEFAULT_PERIOD_US = 1000, 1000000, 100000
QUOTA_US_MIN, QUOTA_US_MAX = 1000, 17592186044415
DISTRIBUTIONS = ("exponential", "constant", "uniform")
MAX_PCPUS = 1024
MAX_VCPUS = 256


def cpu_weight_from_shares(shares: int, cgroup: int = 2) -> int:
    """Translate libvirt's ``<cputune><shares>`` into the cgroup v2 ``cpu.weight`` CFS sees.

    On cgroup v2 libvirt writes ``shares`` unchanged into ``cpu.weight`` (libvirt
    src/util/vircgroupv2.c, ``virCgroupV2SetCpuShares``, range [1, 10000]). On cgroup v1 it writes
    ``cpu.shares``, whose default 1024 corresponds to weight 100: the kernel keeps the ratio
    "W / 100 == S / 1024" between the two scales (Tejun Heo, "sched: Implement interface for cgroup
    unified hierarchy", Linux commit 0d5936344f30, 2017).

    >>> cpu_weight_from_shares(200)
    200
    >>> cpu_weight_from_shares(2048, cgroup=1)
    200
    """
    version = check_int("cgroup", cgroup, 1, 2)
    if version == 2:
        return check_int("shares", shares, CGROUP2_WEIGHT_MIN, CGROUP2_WEIGHT_MAX)
    s = check_int("shares", shares, CGROUP1_SHARES_MIN, CGROUP1_SHARES_MAX)
    weight = round(s * CGROUP2_DEFAULT_WEIGHT / CGROUP1_DEFAULT_SHARES)
    return min(CGROUP2_WEIGHT_MAX, max(CGROUP2_WEIGHT_MIN, weight))


def cfs_weight(weight: int) -> int:
    """The cgroup v2 ``cpu.weight`` that stands in the same ratio to 100 as Xen's ``weight`` to 256.

    One weight drives both schedulers in the book: a VM given only a Xen ``weight`` gets this
    ``cpu_weight`` for CFS (the defaults, 256 and 100, map onto each other).

    >>> cfs_weight(256), cfs_weight(512), cfs_weight(32)
    (100, 200, 12)
    """
    w = check_int("weight", weight, XEN_WEIGHT_MIN, XEN_WEIGHT_MAX)
    return _clamp(round(w * CGROUP2_DEFAULT_WEIGHT / XEN_DEFAULT_WEIGHT), CGROUP2_WEIGHT_MIN,
                  CGROUP2_WEIGHT_MAX)


def quota_us(cap: int, vcpus: int, period_us: int = DEFAULT_PERIOD_US) -> int:
    """libvirt's per-vCPU ``<quota>`` for a whole-VM cap in percent of one pCPU (-1: no cap).

    ``<quota>`` limits *each* vCPU within ``<period>``, so a cap of 150 on a 2-vCPU VM is
    75,000 us per vCPU per 100,000 us. libvirt accepts at least 1,000 us, so very small caps on
    many vCPUs are rounded up to that.

    >>> quota_us(150, 2), quota_us(0, 4), quota_us(1, 8)
    (75000, -1, 1000)
    """
    n = check_int("vcpus", vcpus, 1, MAX_VCPUS)
    c = check_int("cap", cap, 0, 100 * n)
    period = check_int("period_us", period_us, PERIOD_US_MIN, PERIOD_US_MAX)
    if c == 0:
        return -1
    return max(QUOTA_US_MIN, round(c / 100 * period / n))


# --------------------------------------------------------------------------------------------
# Workloads: what a guest's vCPUs do.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CPUBound:
    """A guest that always has work: its vCPUs are runnable all the time (a CPU hog)."""


@dataclass(frozen=True)
class Idle:
    """A guest with nothing to do: its vCPUs halt and never ask for the CPU."""


@dataclass(frozen=True)
class IOBound:
    """A guest that alternates short CPU bursts with waits for I/O.

    Each vCPU runs for ``run_ms`` of CPU time, then blocks for ``block_ms`` of wall-clock time,
    then wakes (an interrupt arrives) and wants the CPU again. Both lengths are drawn from
    ``distribution`` with those means: ``"exponential"``, ``"constant"`` or ``"uniform"``
    (uniform on 0..2 x mean). The moment of waking starts the wake-to-run latency clock.
    """

    run_ms: float = 1.0
    block_ms: float = 5.0
    distribution: str = "exponential"

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_ms", check_real("run_ms", self.run_ms, 0.001, 60_000.0))
        object.__setattr__(
            self, "block_ms", check_real("block_ms", self.block_ms, 0.001, 60_000.0)
        )
        check_choice("distribution", self.distribution, DISTRIBUTIONS)


@dataclass(frozen=True)
class SpinLock:
    """A multi-threaded guest whose threads share one spinlock (one thread per vCPU).

    Each thread computes for ``work_ms`` of CPU time, then takes the lock, holds it for
    ``critical_ms`` of CPU time, and releases it. A thread that finds the lock taken spins: it keeps
    its vCPU busy without making progress until the holder releases the lock. If the hypervisor
    deschedules the holder, the spinners burn CPU for nothing: *lock-holder preemption*, the
    motivation for co-scheduling (VMware, "The CPU Scheduler in VMware vSphere 5.1", section
    "Co-scheduling"; Uhlig et al., "Towards Scalable Multiprocessor Virtual Machines", VM 2004).
    Lengths are drawn from ``distribution`` with those means.
    """

    work_ms: float = 5.0
    critical_ms: float = 0.5
    distribution: str = "exponential"

    def __post_init__(self) -> None:
        object.__setattr__(self, "work_ms", check_real("work_ms", self.work_ms, 0.001, 60_000.0))
        object.__setattr__(
            self, "critical_ms", check_real("critical_ms", self.critical_ms, 0.001, 60_000.0)
        )
        check_choice("distribution", self.distribution, DISTRIBUTIONS)


Workload = Union[CPUBound, Idle, IOBound, SpinLock]
WORKLOAD_TYPES = (CPUBound, Idle, IOBound, SpinLock)


# --------------------------------------------------------------------------------------------
# The host and its VMs.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """A physical machine with ``pcpus`` identical physical CPUs (cores, no hyper-threading)."""

    pcpus: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "pcpus", check_int("pcpus", self.pcpus, 1, MAX_PCPUS))


@dataclass(frozen=True)
class VM:
    """A virtual machine: its vCPUs, its scheduling parameters and its guest workload.

    Xen credit reads ``weight`` (1..65535, default 256) and ``cap`` (percent of one pCPU for the
    whole VM, 0 = no cap, at most 100 x vcpus). CFS reads ``cpu_weight`` (cgroup v2 ``cpu.weight``
    of the VM's cgroup, 1..10000, default 100; see :func:`cpu_weight_from_shares` for libvirt's
    ``<shares>``) and ``quota_us`` / ``period_us`` (libvirt ``<quota>``/``<period>``, enforced
    per vCPU). Round robin reads none of them.

    Each pair says one thing in two schedulers' units, so a VM given only one member of a pair
    gets the other at the same ratio to its default, and the setting counts under every
    scheduler:

    * ``weight`` only: ``cpu_weight = weight x 100 / 256`` (256 -> 100, 512 -> 200), rounded and
      kept in 1..10000; ``cpu_weight`` only: ``weight = cpu_weight x 256 / 100``;
    * ``cap`` only: ``quota_us = cap / 100 x period_us / vcpus`` per vCPU (at least 1000, libvirt's
      minimum), so the vCPUs together get the cap's share of a pCPU; ``quota_us`` only:
      ``cap = quota_us x vcpus x 100 / period_us`` (at most 100 x vcpus).

    Give both members to set the two schedulers apart; leave both out for the defaults (256 and
    100, no cap and no quota). A derived value stays derived through ``dataclasses.replace``:
    ``replace(vm, weight=1024)`` derives ``cpu_weight`` again from the new weight. The mapping of a whole-VM cap to a per-vCPU quota is exact when all
    vCPUs are busy; when only some are, Xen lets a busy vCPU use the idle ones' part of the cap and
    per-vCPU quotas do not.

    >>> VM("web", vcpus=2, weight=512).cpu_weight
    200
    >>> VM("web", vcpus=2, cap=150).quota_us
    75000
    >>> VM("web", cpu_weight=50).weight, VM("web").weight, VM("web").cpu_weight
    (128, 256, 100)
    >>> from dataclasses import replace
    >>> replace(VM("web", weight=512), weight=1024).cpu_weight
    400
    """

    name: str
    vcpus: int = 1
    weight: int | None = None
    cap: int | None = None
    cpu_weight: int | None = None
    quota_us: int | None = None
    period_us: int = DEFAULT_PERIOD_US
    workload: Workload = field(default_factory=CPUBound)

    def __post_init__(self) -> None:
        check_name("name", self.name, None, spaces=False)
        vcpus = check_int("vcpus", self.vcpus, 1, MAX_VCPUS)
        object.__setattr__(self, "vcpus", vcpus)
        self._resolve_weights()
        period = self.period_us
        if isinstance(period, int) and not isinstance(period, bool) and period == 0:
            period = DEFAULT_PERIOD_US  # libvirt: "A period with value 0 means no value."
        period = check_int("period_us", period, PERIOD_US_MIN, PERIOD_US_MAX)
        object.__setattr__(self, "period_us", period)
        self._resolve_limits(vcpus, period)
        if not isinstance(self.workload, WORKLOAD_TYPES):
            raise ValueError(
                "workload must be one of CPUBound(), Idle(), IOBound(...), SpinLock(...), "
                f"got {self.workload!r}"
            )

    def _resolve_weights(self) -> None:
        weight, cpu_weight = _given(self.weight), _given(self.cpu_weight)
        if weight is not None:
            weight = check_int("weight", weight, XEN_WEIGHT_MIN, XEN_WEIGHT_MAX)
        if cpu_weight is not None:
            cpu_weight = check_int("cpu_weight", cpu_weight, CGROUP2_WEIGHT_MIN,
                                   CGROUP2_WEIGHT_MAX)
        if weight is None and cpu_weight is None:
            weight, cpu_weight = _Derived(XEN_DEFAULT_WEIGHT), _Derived(CGROUP2_DEFAULT_WEIGHT)
        elif cpu_weight is None:
            cpu_weight = _Derived(cfs_weight(weight))
        elif weight is None:
            weight = _Derived(_clamp(round(cpu_weight * XEN_DEFAULT_WEIGHT
                                           / CGROUP2_DEFAULT_WEIGHT),
                                     XEN_WEIGHT_MIN, XEN_WEIGHT_MAX))
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "cpu_weight", cpu_weight)

    def _resolve_limits(self, vcpus: int, period: int) -> None:
        cap, quota = _given(self.cap), _given(self.quota_us)
        if cap is not None:
            cap = check_int("cap", cap, 0, 100 * vcpus)
        if quota is not None:
            if isinstance(quota, bool) or not isinstance(quota, int):
                raise ValueError(
                    f"quota_us must be -1 (unlimited) or an integer in "
                    f"{QUOTA_US_MIN}..{QUOTA_US_MAX}, got {quota!r}"
                )
            if quota <= 0:
                quota = -1  # libvirt: negative = unlimited, 0 = not set (also unlimited)
            elif not QUOTA_US_MIN <= quota <= QUOTA_US_MAX:
                raise ValueError(
                    f"quota_us must be -1 (unlimited) or an integer in "
                    f"{QUOTA_US_MIN}..{QUOTA_US_MAX}, got {quota}"
                )
        if cap is None and quota is None:
            cap, quota = _Derived(0), _Derived(-1)
        elif quota is None:
            quota = _Derived(quota_us(cap, vcpus, period))
        elif cap is None:
            cap = _Derived(0 if quota < 0
                           else _clamp(round(quota * vcpus * 100 / period), 1, 100 * vcpus))
        object.__setattr__(self, "cap", cap)
        object.__setattr__(self, "quota_us", quota)


def _clamp(x: int, lo: int, hi: int) -> int:
    return min(hi, max(lo, int(x)))


class _Derived(int):
    """An int the VM derived from its partner parameter (or a default), not one it was given:
    ``dataclasses.replace`` hands it back to ``__post_init__``, which derives it again."""

    __slots__ = ()

    def __repr__(self) -> str:
        return int.__repr__(self)


def _given(value):
    """``value`` as the caller gave it, or None if the VM derived it."""
    return None if isinstance(value, _Derived) else value


# --------------------------------------------------------------------------------------------
# Scheduler configurations.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRobin:
    """The textbook baseline: one FIFO run queue, every vCPU runs for ``quantum_ms`` in turn.

    No weights, no caps and no wake-up preemption: a vCPU that wakes joins the back of the queue.
    """

    quantum_ms: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "quantum_ms", check_real("quantum_ms", self.quantum_ms, 0.1, 10_000.0)
        )


@dataclass(frozen=True)
class Credit:
    """Xen's credit scheduler (credit1), with the defaults of xen/common/sched/credit.c.

    * ``tslice_ms`` (default 30, ``CSCHED_DEFAULT_TSLICE_MS``; valid 1..1000,
      ``XEN_SYSCTL_CSCHED_TSLICE_MIN/MAX``): how long a vCPU runs before the scheduler re-decides,
      and how often credits are handed out (``csched_acct`` runs once per timeslice).
    * The tick is ``tslice_ms / 3`` (``CSCHED_TICKS_PER_TSLICE 3``), 10 ms by default: at each
      tick the running vCPU is charged, loses BOOST, and becomes "active" (earning credit).
    * ``ratelimit_us`` (default 1000, ``SCHED_DEFAULT_RATELIMIT_US`` in Xen's scheduler header
      sched-if.h; 0 disables it, otherwise 100..500000, ``XEN_SYSCTL_SCHED_RATELIMIT_MIN/MAX`` in
      xen/include/public/sysctl.h, and at most the timeslice): a vCPU that has run for less
      than this is not preempted, so a waking vCPU may wait up to this long.
    * ``boost`` (Xen always boosts; switching it off shows why it exists): a vCPU that wakes while
      UNDER gets priority BOOST, above UNDER and OVER, and preempts the running vCPU.

    Credits are 10 per millisecond of CPU (``CSCHED_CREDITS_PER_MSEC``), 300 per timeslice per pCPU.
    """

    tslice_ms: int = 30
    ratelimit_us: int = 1000
    boost: bool = True

    def __post_init__(self) -> None:
        tslice = check_int("tslice_ms", self.tslice_ms, 1, 1000)
        object.__setattr__(self, "tslice_ms", tslice)
        rl = check_int("ratelimit_us", self.ratelimit_us, 0, 500_000)
        if 0 < rl < 100:
            raise ValueError(f"ratelimit_us must be 0 (off) or an integer in 100..500000, got {rl}")
        if rl > tslice * 1000:
            raise ValueError(
                f"ratelimit_us must be at most tslice_ms x 1000 = {tslice * 1000}, got {rl}"
            )
        object.__setattr__(self, "ratelimit_us", rl)
        check_bool("boost", self.boost)


@dataclass(frozen=True)
class CFS:
    """Linux's Completely Fair Scheduler as it schedules KVM vCPU threads.

    Each VM is a cgroup with ``cpu.weight``; the vCPU threads inside share the group's weight.
    CFS runs the runnable thread with the smallest virtual runtime (vruntime grows by real runtime
    x 1024 / weight; kernel Documentation/scheduler/sched-design-CFS.rst). The tunables default to
    the classic kernel values scaled by ``1 + ilog2(min(pcpus, 8))`` (kernel/sched/fair.c,
    ``get_update_sysctl_factor``): ``sched_latency`` 6 ms, ``min_granularity`` 0.75 ms,
    ``wakeup_granularity`` 1 ms. Leave them ``None`` to get those defaults.

    Bandwidth control (per-vCPU ``quota_us`` per ``period_us`` on the VM) follows
    Documentation/scheduler/sched-bwc.rst: a vCPU that used its quota is throttled until the next
    period boundary.
    """

    sched_latency_ms: float | None = None
    min_granularity_ms: float | None = None
    wakeup_granularity_ms: float | None = None

    def __post_init__(self) -> None:
        for name in ("sched_latency_ms", "min_granularity_ms", "wakeup_granularity_ms"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, check_real(name, value, 0.01, 1000.0))


SCHEDULERS = {"rr": RoundRobin, "credit": Credit, "cfs": CFS}
SchedulerConfig = Union[RoundRobin, Credit, CFS]
COSCHEDULE_MODES = ("none", "strict", "relaxed")
