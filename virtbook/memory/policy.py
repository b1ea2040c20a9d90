"""Policy: free-memory states, which techniques each state allows, and share-based targets.

Free-memory states
------------------
A hypervisor keeps a reserve of free host memory and reacts more drastically the further free
memory falls below it. Two tables are implemented:

``"esx2002"`` - Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI 2002,
section 6.3: four thresholds, *high*, *soft*, *hard* and *low*, at 6 %, 4 %, 2 % and 1 % of
memory. In the high state no reclamation is done; in the soft state ESX balloons and pages only
where ballooning is not possible; in the hard state it pages (swaps) to reclaim forcibly; in the
low state it keeps paging and also blocks the VMs that are above their target allocation. The
numbers 6/4/2/1 % and "soft: ballooning, hard: ballooning and swapping, low: swapping" are also
tabulated by F. Denneman, "Memory reclamation, when and how?" (frankdenneman.nl, 2010-06-11).

``"vsphere5"`` - the vSphere 5.x scheme: a *minFree* reserve computed on a sliding scale (6 % of
the first 4 GB, 4 % of the next 8 GB, 2 % of the next 16 GB, 1 % of the rest: F. Denneman,
"Mem.MinFreePct sliding scale function", 2011-07-26) and states at 100 %, 64 %, 32 % and 16 % of
minFree (D. Epping, yellow-bricks.com 2011-03-17, quoting ESXi's "Free memory state thresholds
{soft: 64 pct, hard: 32 pct, low: 16 pct}"). Techniques per state (vSphere 5.5/6 tables, e.g.
J. Griffiths, "Memory management in ESXi 6", and D. Epping's state table): high - page sharing;
soft - sharing and ballooning; hard - sharing, compression and swapping; low - compression,
swapping and blocking. The sliding scale gives 901 MB for a 28 GB host; the blogs quote 899 MB.

State changes follow section 6.3 of the paper: the system drops to a lower state as soon as free
memory falls below that state's threshold, and climbs back to the next higher state only after
free memory exceeds the *higher* threshold by a margin (``Host.state_hysteresis``), so that the
state does not flap.

Share-based targets with an idle memory tax
-------------------------------------------
When memory must be reclaimed, ESX takes it from the VM with the lowest *adjusted
shares-per-page ratio* (min-funding revocation, Waldspurger 2002 section 5.2)::

    rho = S / (P * (f + k * (1 - f))),   k = 1 / (1 - tau)

with S shares, P pages allocated, f the active fraction and tau the idle tax rate. With tau = 0
this is pure proportional share; with tau = 0.75 (the default) an idle page costs k = 4 times as
much as an active one. Repeatedly revoking from the minimum-rho VM is the same as lowering a
"water level" until enough pages are freed; :func:`idle_tax_targets` solves for that level
exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .._validate import check_array, check_choice, check_int, check_real
from .config import PAGES_PER_MB, POLICIES

HIGH, SOFT, HARD, LOW = 0, 1, 2, 3
#: State names indexed by state code.
STATE_NAMES = ("high", "soft", "hard", "low")

#: Techniques each state allows, per policy. "block" means VMs above target may not grow.
TECHNIQUES_BY_STATE: dict[str, tuple[frozenset[str], ...]] = {
    "esx2002": (
        frozenset({"share"}),
        frozenset({"share", "balloon", "swap_if_no_balloon"}),
        frozenset({"share", "balloon", "swap"}),
        frozenset({"share", "balloon", "swap", "block"}),
    ),
    "vsphere5": (
        frozenset({"share"}),
        frozenset({"share", "balloon"}),
        frozenset({"share", "compress", "swap"}),
        frozenset({"compress", "swap", "block"}),
    ),
}


@dataclass(frozen=True)
class Thresholds:
    """Free-memory thresholds of one host, in pages (``high > soft > hard > low``)."""

    high: int
    soft: int
    hard: int
    low: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        """The thresholds indexed by state code (HIGH, SOFT, HARD, LOW)."""
        return (self.high, self.soft, self.hard, self.low)


def min_free_mb(ram_mb: float) -> float:
    """vSphere 5 *minFree* for a host of ``ram_mb`` MB, by the sliding scale.

    6 % of the first 4 GB, 4 % of the next 8 GB, 2 % of the next 16 GB and 1 % of the rest
    (Denneman 2011, see module docstring).

    >>> round(min_free_mb(28 * 1024), 2)
    901.12
    >>> round(min_free_mb(100 * 1024) - min_free_mb(28 * 1024), 2)  # 1 % of the other 72 GB
    737.28
    """
    ram = check_real("ram_mb", ram_mb, 0.0)
    bands = ((4096.0, 0.06), (8192.0, 0.04), (16384.0, 0.02))
    total, left = 0.0, ram
    for size, pct in bands:
        part = min(left, size)
        total += part * pct
        left -= part
    return total + max(0.0, left) * 0.01


def thresholds(ram_mb: int, policy: str = "esx2002") -> Thresholds:
    """Free-memory thresholds in pages for a host of ``ram_mb`` MB under ``policy``.

    >>> t = thresholds(16384, "esx2002")
    >>> [round(x / 256) for x in t.as_tuple()]   # 6, 4, 2, 1 % of 16 GiB, in MB
    [983, 655, 328, 164]
    """
    ram = check_int("ram_mb", ram_mb, 1)
    check_choice("policy", policy, POLICIES)
    pages = ram * PAGES_PER_MB
    if policy == "esx2002":
        fr = (0.06, 0.04, 0.02, 0.01)
        vals = [pages * f for f in fr]
    else:
        mf = min_free_mb(ram) * PAGES_PER_MB
        vals = [mf, 0.64 * mf, 0.32 * mf, 0.16 * mf]
    return Thresholds(*(max(1, int(round(v))) for v in vals))


def state_for_free(free_pages: float, th: Thresholds) -> int:
    """State entered from above when ``free_pages`` are free (no hysteresis).

    >>> t = Thresholds(600, 400, 200, 100)
    >>> [STATE_NAMES[state_for_free(f, t)] for f in (700, 500, 399, 150, 99)]
    ['high', 'high', 'soft', 'hard', 'low']
    """
    if free_pages < th.low:
        return LOW
    if free_pages < th.hard:
        return HARD
    if free_pages < th.soft:
        return SOFT
    return HIGH


def next_state(state: int, free_pages: float, th: Thresholds, hysteresis: float = 0.1) -> int:
    """The state after one observation of ``free_pages``, with the paper's hysteresis.

    Dropping is immediate; climbing from state ``s`` to ``s - 1`` needs free memory above the
    threshold of state ``s - 1`` times ``1 + hysteresis`` (Waldspurger 2002 section 6.3).

    >>> t = Thresholds(600, 400, 200, 100)
    >>> next_state(HIGH, 350, t), next_state(SOFT, 620, t), next_state(SOFT, 700, t)
    (1, 1, 0)
    """
    check_int("state", state, HIGH, LOW)
    lower = state_for_free(free_pages, th)
    if lower > state:
        return lower
    levels = th.as_tuple()
    s = state
    while s > HIGH and free_pages > levels[s - 1] * (1.0 + hysteresis):
        s -= 1
    return s


def idle_tax_targets(
    alloc: Sequence[float],
    active: Sequence[float],
    shares: Sequence[float],
    floor: Sequence[float],
    tau: float,
    reclaim: float,
) -> list[float]:
    """New allocations after reclaiming ``reclaim`` pages by min-funding revocation with tax ``tau``.

    For each VM ``i`` with allocation ``alloc[i]``, ``active[i]`` active pages, ``shares[i]``
    shares and a floor ``floor[i]`` (its reservation), the result is the allocation at which
    every VM that loses pages has the same adjusted shares-per-page ratio ``rho`` (section 5.2 of
    Waldspurger 2002), and the total falls by ``reclaim`` (or to the floors, if that is less).
    Solving ``rho = 1/mu`` for P gives ``P = S*mu`` while all pages are active and
    ``P = A + (S*mu - A)/k`` beyond, a piecewise-linear increasing function of ``mu``; the code
    finds ``mu`` exactly from the breakpoints.

    Two VMs with equal shares, one idle (100 of 1000 pages active), one busy (900 active):
    without the tax the larger loses (equal split of the loss here); with tau = 0.75 the idle one
    gives up the pages.

    >>> [round(x) for x in idle_tax_targets([1000, 1000], [100, 900], [1, 1], [0, 0], 0.0, 400)]
    [800, 800]
    >>> [round(x) for x in idle_tax_targets([1000, 1000], [100, 900], [1, 1], [0, 0], 0.75, 400)]
    [600, 1000]
    """
    n = len(alloc)
    if not (len(active) == len(shares) == len(floor) == n):
        raise ValueError("alloc, active, shares and floor must have the same length, got "
                         f"{len(alloc)}, {len(active)}, {len(shares)}, {len(floor)}")
    tau = check_real("tau", tau, 0.0, 0.99)
    reclaim = check_real("reclaim", reclaim, 0.0)
    check_array("shares", shares, 0.0, lo_open=True)
    for name, seq in (("alloc", alloc), ("active", active), ("floor", floor)):
        check_array(name, seq, 0.0)
    return _targets(alloc, active, shares, floor, tau, reclaim)


def _targets(
    alloc: Sequence[float],
    active: Sequence[float],
    shares: Sequence[float],
    floor: Sequence[float],
    tau: float,
    reclaim: float,
) -> list[float]:
    """:func:`idle_tax_targets` without the argument checks (the simulator's inner loop)."""
    n = len(alloc)
    k = 1.0 / (1.0 - tau)
    P = [float(a) for a in alloc]
    lo = [min(max(0.0, float(f)), p) for f, p in zip(floor, P)]
    A = [min(max(0.0, float(a)), p) for a, p in zip(active, P)]
    S = [float(s) for s in shares]
    total = sum(P)
    goal = total - reclaim
    if reclaim <= 0:
        return P
    if goal <= sum(lo):
        return lo

    def inv(i: int, v: float) -> float:
        # mu at which VM i's unclipped allocation equals v
        if v <= A[i]:
            return v / S[i]
        return (A[i] + k * (v - A[i])) / S[i]

    def allocations(mu: float) -> list[float]:
        # every VM's allocation at level mu, clipped to [floor, current allocation]
        out = []
        for i in range(n):
            sm = S[i] * mu
            g = sm if sm <= A[i] else A[i] + (sm - A[i]) / k
            out.append(P[i] if g >= P[i] else (lo[i] if g <= lo[i] else g))
        return out

    def at(mu: float) -> float:
        return sum(allocations(mu))

    pts = sorted({0.0, *(inv(i, lo[i]) for i in range(n)), *(inv(i, P[i]) for i in range(n)),
                  *(A[i] / S[i] for i in range(n))})
    # at(mu) is continuous and non-decreasing; find the segment where it crosses goal
    lo_i, hi_i = 0, len(pts) - 1
    if at(pts[hi_i]) < goal:  # cannot happen: at(max) == total > goal
        return P
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if at(pts[mid]) < goal:
            lo_i = mid
        else:
            hi_i = mid
    m0, m1 = pts[lo_i], pts[hi_i]
    t0, t1 = at(m0), at(m1)
    mu = m1 if t1 == t0 else m0 + (goal - t0) * (m1 - m0) / (t1 - t0)
    return allocations(mu)


def adjusted_ratio(shares: float, alloc: float, active: float, tau: float) -> float:
    """Waldspurger's adjusted shares-per-page ratio ``S / (P (f + k (1 - f)))``.

    >>> adjusted_ratio(100, 100, 100, 0.75), adjusted_ratio(100, 100, 0, 0.75)
    (1.0, 0.25)
    """
    if alloc <= 0:
        return float("inf")
    k = 1.0 / (1.0 - tau)
    a = min(active, alloc)
    return shares / (a + k * (alloc - a))
