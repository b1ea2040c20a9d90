"""Server consolidation for the small business of chapter 3: hosts, utilization, cost, recovery.

The lecture's scenario is a small business with a web server and a database server, each an
operating system on its own machine. This module makes that scenario quantitative, in the four
steps the chapter follows:

1. **Traces.** :func:`small_business_traces` makes one synthetic but plausible day of CPU
   utilization per server (a web load that peaks in the evening, a database that follows the web
   load by day and runs a batch job at night), sampled every ``step_minutes``. The shapes are
   assumptions, chosen so that the averages land in the ranges published for real fleets:
   Barroso and Hoelzle, "The Case for Energy-Proportional Computing", IEEE Computer 40(12), 2007,
   found servers spending most of their time at 10-50 % of their maximum utilization, and
   the NRDC's "Data Center Efficiency Assessment" (Whitney and Delforge, 2014) put the typical
   enterprise server at 12-18 % of capacity.
2. **Packing.** :func:`pack` places the servers, now virtual machines, onto identical hosts by
   first-fit decreasing (FFD) bin packing: servers sorted by peak, each put on the first host where
   it fits, a new host opened when none does. A host may be filled to ``1 - headroom`` of its
   capacity. ``method="peak"`` checks the sum of the servers' individual peaks, which is all a
   planner without traces can do; ``method="trace"`` checks the peak of the summed trace, which is
   lower whenever the peaks do not coincide. Verma et al., "Server Workload Analysis for Power
   Minimization using Consolidation", USENIX ATC 2009, measured this gap on enterprise traces, and
   the risk that comes with it when workloads are correlated. Packing on peaks is classic
   one-dimensional bin packing, where FFD never needs more than 11/9 OPT + 6/9 hosts (Dosa et
   al., Theoretical Computer Science 510, 2013); packing on traces is vector bin packing (one
   dimension per time step), where FFD is a heuristic without that guarantee.
3. **Cost.** :func:`annual_cost` prices a set of machines per year: hardware written off over its
   lifetime, electricity from the linear power model of Fan, Weber and Barroso, "Power
   Provisioning for a Warehouse-sized Computer", ISCA 2007
   (P(u) = P_idle + (P_peak - P_idle) u), with idle power about half of peak (Barroso and Hoelzle
   2007), and a hypervisor licence per host, zero by default as for KVM, which is part of the
   GPL-licensed Linux kernel. Every price is a parameter; the defaults are stated assumptions.
4. **Recovery.** :func:`recover` compares data-protection schemes by recovery point objective
   (how much recent data a failure destroys) and recovery time objective (how long the service is
   down), as NIST SP 800-34 Rev. 1 (2010) defines them for the business impact analysis, for two kinds of failure:
   *logical* (a virus, a bad patch, a dropped table) and *hardware* (the disk or host holding the
   VM is lost). A snapshot lives on the same storage as the disk it depends on (libvirt, "Snapshot
   XML format"; VMware KB 1025279), so it survives the first kind and not the second.

The only randomness is the noise and per-server variation of the traces, drawn from
``numpy.random.default_rng(seed)``: the same arguments always give the same result.

>>> result = consolidate(servers=2, peak_load=0.45, headroom=0.2, seed=0)
>>> result.by_peak.n_hosts, result.by_trace.n_hosts
(2, 1)
>>> print(result.by_trace.log[1])
db-1 (peak 45%) -> host 1: summed peak now 60% <= 80%
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ._validate import check_array, check_choice, check_int, check_ints, check_real

__all__ = [
    "MINUTES_PER_DAY", "ROLES", "FAILURES", "METHODS",
    "ServerTrace", "Placement", "ConsolidationResult", "CostModel", "AnnualCost",
    "ProtectionScheme", "Recovery",
    "diurnal_shape", "small_business_traces", "pack", "consolidate", "host_sweep",
    "power_watts", "annual_cost", "cost_comparison",
    "default_schemes", "recover", "best_recovery",
]

MINUTES_PER_DAY = 24 * 60
HOURS_PER_YEAR = 24 * 365
#: The two kinds of server in the lecture's scenario.
ROLES = ("web", "database")
#: Packing checks: the sum of individual peaks, or the peak of the summed trace.
METHODS = ("peak", "trace")
#: Failure kinds for :func:`recover`: "logical" destroys data but not the machine (virus, bad
#: patch, operator error); "hardware" destroys the storage or the host the VM runs on.
FAILURES = ("logical", "hardware")

_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# Validation: every error names the parameter and its allowed range.
# --------------------------------------------------------------------------------------------

def _check_step(step_minutes) -> int:
    step = check_int("step_minutes", step_minutes, 1, 60)
    if MINUTES_PER_DAY % step:
        raise ValueError(f"step_minutes must be an integer in 1..60 that divides 1440, got {step}")
    return step


# --------------------------------------------------------------------------------------------
# 1. Traces
# --------------------------------------------------------------------------------------------

def _bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A Gaussian bump on the 24-hour circle (23:00 and 01:00 are two hours apart)."""
    d = (hours - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _web_raw(h: np.ndarray) -> np.ndarray:
    return 0.12 + 0.55 * _bump(h, 12.5, 2.2) + _bump(h, 20.0, 2.6)


def _batch(h: np.ndarray) -> np.ndarray:
    t = h % 24.0
    return _sigmoid((t - 1.0) * 4.0) * _sigmoid((3.5 - t) * 4.0)


_GRID = np.arange(0.0, 24.0, 1.0 / 60.0)
_WEB_MAX = float(_web_raw(_GRID).max())


def _web(h: np.ndarray) -> np.ndarray:
    return _web_raw(h) / _WEB_MAX


def _db_raw(h: np.ndarray) -> np.ndarray:
    return 0.08 + 0.33 * _web(h) + _batch(h)


_DB_MAX = float(_db_raw(_GRID).max())


def diurnal_shape(role: str, hours, phase_hours: float = 0.0) -> np.ndarray:
    """The noiseless daily load shape of a server, scaled so that its maximum over a day is 1.

    The shapes are assumptions that mimic common patterns, not measurements:

    * ``"web"``: about a tenth of peak through the night, a midday shoulder, and the peak at about
      20:00 (people shop after work).
    * ``"database"``: about a tenth of peak as a floor, daytime queries that follow the web load at
      a third of its height, and a nightly batch job (backups, reports, re-indexing) from about
      01:00 to 03:30 that sets its peak.

    ``phase_hours`` shifts the whole shape later in the day (negative: earlier).

    >>> h = np.array([3.0, 20.0])
    >>> diurnal_shape("web", h).round(2).tolist(), diurnal_shape("database", h).round(2).tolist()
    ([0.13, 1.0], [0.9, 0.37])
    """
    check_choice("role", role, ROLES)
    h = np.asarray(hours, dtype=float) - float(phase_hours)
    return _web(h) if role == "web" else _db_raw(h) / _DB_MAX


@dataclass(frozen=True)
class ServerTrace:
    """One server's CPU utilization over a day, as a fraction of one machine's capacity.

    ``utilization[k]`` is the mean utilization in the k-th interval of ``step_minutes``: 0.3 means
    the server kept 30 % of the CPU capacity of the machine it was bought as busy.
    """

    name: str
    role: str
    utilization: np.ndarray = field(repr=False)
    step_minutes: int = 5

    @property
    def peak(self) -> float:
        """Highest utilization of the day."""
        return float(self.utilization.max())

    @property
    def mean(self) -> float:
        """Average utilization over the day."""
        return float(self.utilization.mean())

    @property
    def hours(self) -> np.ndarray:
        """Start of each interval, in hours since midnight."""
        return np.arange(self.utilization.size) * self.step_minutes / 60.0


def small_business_traces(servers: int = 2, peak_load: float = 0.45, *, step_minutes: int = 5,
                          noise: float = 0.04, seed: int = 0) -> list[ServerTrace]:
    """A day of utilization for each of ``servers`` servers, alternating web and database.

    The first two servers are the lecture's pair, ``web-1`` and ``db-1``, each peaking at exactly
    ``peak_load``. Servers beyond the first two stand for the applications a growing business
    adds: each gets a peak drawn uniformly from 60-100 % of ``peak_load`` and its daily shape
    shifted by up to two hours either way. Every trace carries multiplicative noise of relative
    size ``noise`` (normal, one standard deviation) and is then rescaled so that its maximum is
    its peak, which makes ``peak_load`` an exact, checkable property of the output.

    >>> [t.name for t in small_business_traces(4)]
    ['web-1', 'db-1', 'web-2', 'db-2']
    >>> round(small_business_traces(2, 0.3)[0].peak, 6)
    0.3
    """
    servers = check_int("servers", servers, 1, 64)
    peak_load = check_real("peak_load", peak_load, 0.0, 1.0, lo_open=True)
    step = _check_step(step_minutes)
    noise = check_real("noise", noise, 0.0, 0.5)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    rng = np.random.default_rng(seed)
    hours = np.arange(MINUTES_PER_DAY // step) * step / 60.0
    traces = []
    for i in range(servers):
        role = ROLES[i % 2]
        number = i // 2 + 1
        if i < 2:
            peak, phase = peak_load, 0.0
        else:
            peak, phase = peak_load * rng.uniform(0.6, 1.0), rng.uniform(-2.0, 2.0)
        shape = diurnal_shape(role, hours, phase)
        noisy = np.clip(shape * (1.0 + noise * rng.standard_normal(hours.size)), 0.0, None)
        utilization = noisy * (peak / noisy.max())
        name = f"{'web' if role == 'web' else 'db'}-{number}"
        traces.append(ServerTrace(name, role, utilization, step))
    return traces


# --------------------------------------------------------------------------------------------
# 2. Packing
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """Where each server went, and what each host then carries.

    ``hosts[j]`` lists the indices (into the traces) of the servers on host j;
    ``host_load[j]`` is host j's summed utilization trace. ``log`` has one line per decision, in
    the order FFD made them, so that a student can replay the packing by hand.
    """

    method: str
    capacity: float
    hosts: tuple[tuple[int, ...], ...]
    host_load: np.ndarray = field(repr=False)
    log: tuple[str, ...] = field(repr=False)

    @property
    def n_hosts(self) -> int:
        return len(self.hosts)

    @property
    def host_peaks(self) -> np.ndarray:
        """Peak of each host's summed trace."""
        return self.host_load.max(axis=1)

    @property
    def mean_utilization(self) -> float:
        """Average utilization of the hosts in use, over the day."""
        return float(self.host_load.mean())


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def pack(traces: Sequence[ServerTrace], headroom: float = 0.2, method: str = "trace") -> Placement:
    """Place servers on identical hosts by first-fit decreasing; see the module docstring.

    A host accepts a server when its load stays at or below ``capacity = 1 - headroom``:
    with ``method="peak"`` the test is *sum of the servers' peaks <= capacity*, with
    ``method="trace"`` it is *peak over the day of the summed traces <= capacity*. Servers are
    taken in decreasing order of peak (ties in trace order). A server whose own peak exceeds the
    capacity gets a host to itself, as it had before consolidation; the log says so.

    >>> a = ServerTrace("a", "web", np.array([0.5, 0.1]))
    >>> b = ServerTrace("b", "database", np.array([0.1, 0.5]))
    >>> pack([a, b], headroom=0.3, method="peak").n_hosts, pack([a, b], 0.3, "trace").n_hosts
    (2, 1)
    """
    if not traces:
        raise ValueError("traces must hold at least one ServerTrace, got none")
    check_choice("method", method, METHODS)
    headroom = check_real("headroom", headroom, 0.0, 1.0, hi_open=True)
    lengths = {t.utilization.size for t in traces}
    if len(lengths) != 1:
        raise ValueError(f"traces must all have the same number of samples, got {sorted(lengths)}")
    capacity = 1.0 - headroom
    peaks = [t.peak for t in traces]
    order = sorted(range(len(traces)), key=lambda i: (-peaks[i], i))
    hosts: list[list[int]] = []
    loads: list[np.ndarray] = []
    log: list[str] = []
    for i in order:
        t = traces[i]
        placed = False
        for j, members in enumerate(hosts):
            if method == "peak":
                level = sum(peaks[k] for k in members) + peaks[i]
                what = "sum of peaks"
            else:
                level = float((loads[j] + t.utilization).max())
                what = "summed peak"
            if level <= capacity + _EPS:
                members.append(i)
                loads[j] = loads[j] + t.utilization
                log.append(f"{t.name} (peak {_pct(t.peak)}) -> host {j + 1}: "
                           f"{what} now {_pct(level)} <= {_pct(capacity)}")
                placed = True
                break
        if not placed:
            hosts.append([i])
            loads.append(t.utilization.astype(float).copy())
            note = (f"; alone it exceeds {_pct(capacity)}" if t.peak > capacity + _EPS else "")
            log.append(f"{t.name} (peak {_pct(t.peak)}) -> host {len(hosts)} (new){note}")
    return Placement(method, capacity, tuple(tuple(h) for h in hosts), np.vstack(loads),
                     tuple(log))


@dataclass(frozen=True)
class ConsolidationResult:
    """Before and after: one machine per server, versus VMs packed onto hosts.

    ``spare_hosts`` are hosts kept empty so that the VMs of a failed host can restart elsewhere
    (N+1 redundancy, what a high-availability cluster needs); they count as hosts after
    consolidation and draw idle power.
    """

    traces: tuple[ServerTrace, ...]
    headroom: float
    by_peak: Placement
    by_trace: Placement
    spare_hosts: int = 0

    @property
    def servers(self) -> int:
        return len(self.traces)

    @property
    def hosts_after(self) -> int:
        """Hosts needed when packing on summed traces, plus the spares."""
        return self.by_trace.n_hosts + self.spare_hosts

    @property
    def work(self) -> float:
        """Total work in a day, in machine-days at 100 %: the sum of the servers' averages."""
        return float(sum(t.mean for t in self.traces))

    @property
    def mean_utilization_before(self) -> float:
        """Average utilization of the original machines, one server each."""
        return self.work / self.servers

    @property
    def mean_utilization_after(self) -> float:
        """Average utilization of all hosts after consolidation, spares included."""
        return self.work / self.hosts_after

    def host_loads_after(self) -> np.ndarray:
        """Per-host traces after consolidation, with an all-zero row per spare host."""
        spare = np.zeros((self.spare_hosts, self.by_trace.host_load.shape[1]))
        return np.vstack([self.by_trace.host_load, spare])


def consolidate(servers: int = 2, peak_load: float = 0.45, headroom: float = 0.2, *,
                spare_hosts: int = 0, seed: int = 0, step_minutes: int = 5,
                noise: float = 0.04) -> ConsolidationResult:
    """Make the traces (:func:`small_business_traces`) and pack them both ways (:func:`pack`).

    This is the pure function the chapter's widget calls on every slider move.

    >>> r = consolidate(servers=6, peak_load=0.4, headroom=0.25, seed=1)
    >>> r.by_trace.n_hosts <= r.by_peak.n_hosts <= r.servers
    True
    """
    spare_hosts = check_int("spare_hosts", spare_hosts, 0, 16)
    traces = tuple(small_business_traces(servers, peak_load, step_minutes=step_minutes,
                                         noise=noise, seed=seed))
    return ConsolidationResult(traces, float(headroom), pack(traces, headroom, "peak"),
                               pack(traces, headroom, "trace"), spare_hosts)


def host_sweep(server_counts: Sequence[int], peak_load: float = 0.45, headroom: float = 0.2, *,
               seed: int = 0) -> dict[str, np.ndarray]:
    """Hosts needed, by each packing method, as the business grows from few servers to many.

    Returns arrays ``servers``, ``by_peak``, ``by_trace``, one entry per count. The traces for
    ``n`` servers are the first ``n`` of the same seeded fleet, so the curves describe one business
    growing, not unrelated random fleets.
    """
    counts = check_ints("server_counts", server_counts, 1, 64)
    fleet = small_business_traces(max(counts), peak_load, seed=seed)
    by_peak = [pack(fleet[:n], headroom, "peak").n_hosts for n in counts]
    by_trace = [pack(fleet[:n], headroom, "trace").n_hosts for n in counts]
    return {"servers": np.array(counts), "by_peak": np.array(by_peak),
            "by_trace": np.array(by_trace)}


# --------------------------------------------------------------------------------------------
# 3. Cost
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CostModel:
    """Prices and power figures for :func:`annual_cost`. Defaults are stated assumptions.

    * ``server_price``, ``host_price``: purchase price of one machine, US dollars. Assumed 4,000
      each (a modest two-socket rack server); a virtualization host often needs more memory, so
      raise ``host_price`` to see the effect.
    * ``lifetime_years``: years over which hardware is written off. Assumed 5.
    * ``peak_watts``: wall power of one machine at 100 % CPU. Assumed 300 W.
    * ``idle_fraction``: idle power as a fraction of peak. 0.5, after Barroso and Hoelzle (2007),
      who report that even an energy-efficient server draws about half its peak power when idle.
    * ``price_per_kwh``: electricity, US dollars per kWh. Assumed 0.13, inside the range of US
      commercial averages by state in the EIA's Electric Power Monthly (Table 5.6.B).
    * ``licence_per_host_year``: hypervisor licence and support per host per year. 0, as for KVM;
      set it to price a commercial hypervisor.
    """

    server_price: float = 4000.0
    host_price: float = 4000.0
    lifetime_years: float = 5.0
    peak_watts: float = 300.0
    idle_fraction: float = 0.5
    price_per_kwh: float = 0.13
    licence_per_host_year: float = 0.0

    def __post_init__(self) -> None:
        check_real("server_price", self.server_price, 0.0, 1e7)
        check_real("host_price", self.host_price, 0.0, 1e7)
        check_real("lifetime_years", self.lifetime_years, 0.0, 50.0, lo_open=True)
        check_real("peak_watts", self.peak_watts, 0.0, 1e5, lo_open=True)
        check_real("idle_fraction", self.idle_fraction, 0.0, 1.0)
        check_real("price_per_kwh", self.price_per_kwh, 0.0, 10.0)
        check_real("licence_per_host_year", self.licence_per_host_year, 0.0, 1e6)


@dataclass(frozen=True)
class AnnualCost:
    """Yearly cost of a set of machines, split by kind, in US dollars; ``kwh`` is the energy."""

    machines: int
    hardware: float
    energy: float
    licences: float
    kwh: float

    @property
    def total(self) -> float:
        return self.hardware + self.energy + self.licences


def power_watts(utilization, model: CostModel = CostModel()) -> np.ndarray:
    """Wall power of one machine at each utilization, by the linear model of Fan et al. (2007).

    ``P(u) = P_idle + (P_peak - P_idle) * min(u, 1)`` with ``P_idle = idle_fraction * peak_watts``.

    >>> power_watts([0.0, 0.5, 1.0]).tolist()
    [150.0, 225.0, 300.0]
    """
    u = check_array("utilization", utilization, 0.0)
    idle = model.idle_fraction * model.peak_watts
    return idle + (model.peak_watts - idle) * np.minimum(u, 1.0)


def annual_cost(loads, model: CostModel = CostModel(), *, hosts: bool = False) -> AnnualCost:
    """Yearly cost of the machines whose daily traces are the rows of ``loads``.

    Each row is one machine's utilization over a representative day; the day repeats all year.
    ``hosts=True`` prices the machines as virtualization hosts (``host_price`` and a licence
    each), ``False`` as the original servers (``server_price``, no licence).
    """
    arr = np.atleast_2d(np.asarray(loads, dtype=float))
    n = arr.shape[0]
    if arr.size == 0:
        raise ValueError("loads must hold at least one machine's trace, got none")
    mean_watts = power_watts(arr, model).mean(axis=1)
    kwh = float(mean_watts.sum()) * HOURS_PER_YEAR / 1000.0
    price = model.host_price if hosts else model.server_price
    licences = n * model.licence_per_host_year if hosts else 0.0
    return AnnualCost(n, n * price / model.lifetime_years, kwh * model.price_per_kwh, licences,
                      kwh)


def cost_comparison(result: ConsolidationResult,
                    model: CostModel = CostModel()) -> dict[str, AnnualCost]:
    """Yearly cost before (one machine per server) and after (hosts, spares included)."""
    before = annual_cost(np.vstack([t.utilization for t in result.traces]), model)
    after = annual_cost(result.host_loads_after(), model, hosts=True)
    return {"before": before, "after": after}


# --------------------------------------------------------------------------------------------
# 4. Recovery point and recovery time
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProtectionScheme:
    """A way of keeping copies of a VM, described by what recovery from it costs.

    * ``interval_hours``: time between recovery points (a nightly backup: 24; hourly snapshots: 1;
      replication: its lag). The worst-case data loss, the achieved recovery point, equals it.
    * ``restore_hours``: time from deciding to recover until the service runs again.
    * ``off_host``: the copy lives outside the storage and host of the running VM, so it survives
      their loss. A snapshot does not: it is a file (or a record inside the qcow2 file) next to
      the disk it depends on.
    * ``point_in_time``: older copies are kept, so the VM can go back to before a logical failure.
      Replication that keeps only the latest copy faithfully copies a corruption within one
      interval, so it has no clean copy to go back to.
    """

    name: str
    interval_hours: float
    restore_hours: float
    off_host: bool
    point_in_time: bool

    def __post_init__(self) -> None:
        check_real("interval_hours", self.interval_hours, 0.0, 24.0 * 366)
        check_real("restore_hours", self.restore_hours, 0.0, 24.0 * 366)


@dataclass(frozen=True)
class Recovery:
    """What a failure costs under one scheme: ``survives`` False means no usable copy."""

    scheme: str
    failure: str
    survives: bool
    rpo_hours: float
    mean_loss_hours: float
    rto_hours: float


def default_schemes(disk_gb: float = 200.0, restore_mb_per_s: float = 100.0,
                    boot_minutes: float = 5.0,
                    replication_minutes: float = 5.0) -> list[ProtectionScheme]:
    """The three schemes the chapter compares, with restore times computed from assumptions.

    * *nightly backup*: a full copy to other storage every 24 h; restoring copies the whole disk
      back at ``restore_mb_per_s`` (assumed 100 MB/s, a single disk or a 1 Gbit/s network) and
      then boots the VM (``boot_minutes``, assumed 5).
    * *hourly snapshot*: reverting needs no copy, only a reboot from the snapshot.
    * *replication*: an asynchronous copy on a second host, ``replication_minutes`` behind
      (5 minutes is the smallest recovery point objective vSphere Replication offers); recovery
      boots the replica.

    >>> [(s.name, round(s.restore_hours, 2)) for s in default_schemes()]
    [('nightly backup', 0.65), ('hourly snapshot', 0.08), ('replication', 0.08)]
    """
    disk_gb = check_real("disk_gb", disk_gb, 0.0, 1e6, lo_open=True)
    rate = check_real("restore_mb_per_s", restore_mb_per_s, 0.0, 1e6, lo_open=True)
    boot_h = check_real("boot_minutes", boot_minutes, 0.0, 24.0 * 60) / 60.0
    lag_h = check_real("replication_minutes", replication_minutes, 0.0, 24.0 * 60) / 60.0
    copy_h = disk_gb * 1024.0 / rate / 3600.0
    return [
        ProtectionScheme("nightly backup", 24.0, copy_h + boot_h, off_host=True,
                         point_in_time=True),
        ProtectionScheme("hourly snapshot", 1.0, boot_h, off_host=False, point_in_time=True),
        ProtectionScheme("replication", lag_h, boot_h, off_host=True, point_in_time=False),
    ]


def recover(scheme: ProtectionScheme, failure: str) -> Recovery:
    """Worst-case recovery point, mean data loss and recovery time for one scheme and failure.

    A failure at a uniformly random moment loses, on average, half an interval of data and, at
    worst, a whole one. A scheme whose copies do not survive the failure gives infinite values.

    >>> snap = default_schemes()[1]
    >>> recover(snap, "logical").rpo_hours, recover(snap, "hardware").survives
    (1.0, False)
    """
    check_choice("failure", failure, FAILURES)
    survives = scheme.off_host if failure == "hardware" else scheme.point_in_time
    if not survives:
        return Recovery(scheme.name, failure, False, math.inf, math.inf, math.inf)
    return Recovery(scheme.name, failure, True, scheme.interval_hours,
                    scheme.interval_hours / 2.0, scheme.restore_hours)


def best_recovery(schemes: Sequence[ProtectionScheme], failure: str) -> Recovery:
    """The best outcome when several schemes are combined: the surviving copy with the most
    recent data (ties broken by the faster restore). Layered protection is why a snapshot is
    useful *beside* a backup and never instead of it.
    """
    if not schemes:
        raise ValueError("schemes must hold at least one ProtectionScheme, got none")
    outcomes = [recover(s, failure) for s in schemes]
    return min(outcomes, key=lambda r: (r.rpo_hours, r.rto_hours))
