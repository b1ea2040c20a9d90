"""Policy: free-memory states, which techniques each state allows, and share-based targets.

Free-memory states
------------------
A hypervisor keeps a reserve of free host memory and reacts more drastically the further free
memory falls below it. Two tables are implemented:

``"esx2002"`` - Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI 2002,
section 6.3: four thresholds, *high*, *soft*, *hard* and *low*, at 6 %, 4 %, 2 % and 1 % of
memory. As the paper states them: in the high state no memory is reclaimed; in the soft state
ESX balloons, and pages (swaps) only where ballooning is not possible; in the hard state it relies
on paging to reclaim memory forcibly; in the low state it keeps paging and also blocks the
execution of the VMs that are above their target allocations. Content-based page sharing is a
background scan (section 4.2) that runs in every state. So the table below balloons in the soft
state only: ``hard`` and ``low`` page. ESX 2002 had no memory compression (VMware added it in ESX
4.1); if the technique is switched on, the model compresses before it swaps under this table too.

``"vsphere5"`` - the vSphere 5.x scheme: a *minFree* reserve computed on a sliding scale (6 % of
the first 4 GB, 4 % of the next 8 GB, 2 % of the next 16 GB, 1 % of the rest: F. Denneman,
"Mem.MinFreePct sliding scale function", 2011-07-26) and states at 100 %, 64 %, 32 % and 16 % of
minFree (D. Epping, yellow-bricks.com 2011-03-17, quoting ESXi's "Free memory state thresholds
{soft: 64 pct, hard: 32 pct, low: 16 pct}"). Techniques per state, as VMware's engineers tabulate
them for vSphere 5.5 and 6.0 (D. Epping, "What happens at which vSphere memory state?"; J.
Griffiths, "Memory management in ESXi 6"): high - page sharing; soft - sharing and ballooning;
hard - sharing, compression and swapping (the balloon stops); low - compression, swapping and
blocking. (vSphere 6.0 adds a *clear* state between high and soft, in which large pages are broken
so that sharing can find their small pages; the model breaks them below the high threshold.) The
sliding scale gives 901 MB for a 28 GB host; the blogs quote 899 MB.

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

Sharing out free memory
-----------------------
Within one step several VMs may ask for free memory at once (page faults, copy-on-write breaks,
growth) and several balloons may be ready to deflate. :func:`proportional_grants` hands a limited
amount out by weighted max-min fairness: every request is met in full if it fits, otherwise each
VM gets the same amount per share until its request is met (the "water level" of proportional
share, Waldspurger 2002 section 5.1: clients are entitled to resources in proportion to their
shares). Nothing depends on the order in which the VMs are listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .._validate import check_array, check_choice, check_int, check_real
from .config import PAGES_PER_MB, POLICIES

HIGH, SOFT, HARD, LOW = 0, 1, 2, 3
#: State names indexed by state code.
STATE_NAMES = ("high", "soft", "hard", "low")

#: Techniques each state allows, per policy. "block" means VMs above their target do not run;
#: "swap_if_no_balloon" means swapping only for VMs whose balloon cannot inflate (no driver, or at
#: ``Mem.CtlMaxPercent``).
TECHNIQUES_BY_STATE: dict[str, tuple[frozenset[str], ...]] = {
    "esx2002": (
        frozenset({"share"}),
        frozenset({"share", "balloon", "swap_if_no_balloon"}),
        frozenset({"share", "swap"}),
        frozenset({"share", "swap", "block"}),
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
    free_pages = check_real("free_pages", free_pages, 0.0)
    if not isinstance(th, Thresholds):
        raise ValueError(f"th must be a Thresholds, got {th!r}")
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
    hysteresis = check_real("hysteresis", hysteresis, 0.0, 1.0)
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
    arrays = {name: check_array(name, seq, 0.0, ndim=1)
              for name, seq in (("alloc", alloc), ("active", active), ("floor", floor))}
    arrays["shares"] = check_array("shares", shares, 0.0, lo_open=True, ndim=1)
    n = len(arrays["alloc"])
    if not all(len(a) == n for a in arrays.values()):
        raise ValueError("alloc, active, shares and floor must have the same length, got "
                         f"{len(alloc)}, {len(active)}, {len(shares)}, {len(floor)}")
    tau = check_real("tau", tau, 0.0, 0.99)
    reclaim = check_real("reclaim", reclaim, 0.0)
    return _targets(*(arrays[k].tolist() for k in ("alloc", "active", "shares", "floor")), tau, reclaim)


def _targets(
    alloc: Sequence[float],
    active: Sequence[float],
    shares: Sequence[float],
    floor: Sequence[float],
    tau: float,
    reclaim: float,
) -> list[float]:
    """:func:`idle_tax_targets` without the argument checks (the simulator's inner loop).

    Each VM's allocation at level ``mu`` is ``g(mu) = S*mu`` up to its active pages ``A`` and
    ``A + (S*mu - A)/k`` beyond, clipped to ``[floor, alloc]``; the total is piecewise linear and
    non-decreasing in ``mu``. One sweep over the breakpoints, in a fixed order, finds the level at
    which the total equals ``sum(alloc) - reclaim``.
    """
    n = len(alloc)
    k = 1.0 / (1.0 - tau)
    P = [float(a) for a in alloc]
    if reclaim <= 0:
        return P
    lo = [0.0] * n
    A = [0.0] * n
    for i in range(n):
        p = P[i]
        f = float(floor[i])
        lo[i] = p if f > p else (f if f > 0.0 else 0.0)
        a = float(active[i])
        A[i] = p if a > p else (a if a > 0.0 else 0.0)
    goal = sum(P) - reclaim
    base = sum(lo)
    if goal <= base:
        return lo
    S = [float(x) for x in shares]
    events = []  # (level, index, change of slope)
    for i in range(n):
        if lo[i] >= P[i]:
            continue
        s, a = S[i], A[i]
        start = lo[i] / s if lo[i] <= a else (a + k * (lo[i] - a)) / s
        end = P[i] / s if P[i] <= a else (a + k * (P[i] - a)) / s
        events.append((start, i, s if lo[i] < a else s / k))
        if lo[i] < a < P[i]:
            events.append((a / s, i, s / k - s))
        events.append((end, i, -(s if P[i] <= a else s / k)))
    events.sort()
    value = base
    level = 0.0
    slope = 0.0
    mu = events[-1][0] if events else 0.0
    for at, _, change in events:
        reach = value + slope * (at - level)
        if reach >= goal and slope > 0.0:
            mu = level + (goal - value) / slope
            break
        value, level = reach, at
        slope += change
    out = []
    for i in range(n):
        sm = S[i] * mu
        g = sm if sm <= A[i] else A[i] + (sm - A[i]) / k
        out.append(P[i] if g >= P[i] else (lo[i] if g <= lo[i] else g))
    return out


def adjusted_ratio(shares: float, alloc: float, active: float, tau: float) -> float:
    """Waldspurger's adjusted shares-per-page ratio ``S / (P (f + k (1 - f)))``.

    >>> adjusted_ratio(100, 100, 100, 0.75), adjusted_ratio(100, 100, 0, 0.75)
    (1.0, 0.25)
    """
    shares = check_real("shares", shares, 0.0, lo_open=True)
    alloc = check_real("alloc", alloc, 0.0)
    active = check_real("active", active, 0.0)
    tau = check_real("tau", tau, 0.0, 0.99)
    if alloc <= 0:
        return float("inf")
    k = 1.0 / (1.0 - tau)
    a = min(active, alloc)
    return shares / (a + k * (alloc - a))


def proportional_grants(amount: int, demands: Sequence[int], weights: Sequence[float]) -> list[int]:
    """Whole pages for each request: all of them if ``amount`` suffices, else by weighted max-min.

    Each request ``i`` gets ``min(demands[i], weights[i] * L)`` pages, with the level ``L`` chosen
    so that the grants add up to ``amount``; the fractions left by rounding go one page at a time
    to the largest remainders (ties to the lower index). Grants never exceed the demands, and they
    add up to ``min(amount, sum(demands))``.

    Three VMs ask for 300, 50 and 300 pages of 400, with shares 1, 1 and 2: the small request is
    met, the others split the rest 1 : 2 until one of them is met.

    >>> proportional_grants(400, [300, 50, 300], [1, 1, 2])
    [117, 50, 233]
    >>> proportional_grants(1000, [300, 50, 300], [1, 1, 2])
    [300, 50, 300]
    """
    amount = check_int("amount", amount, 0)
    if isinstance(demands, (str, bytes)) or not isinstance(demands, Sequence):
        raise ValueError(f"demands must be a sequence of integers at least 0, got {demands!r}")
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ValueError(f"weights must be a sequence of numbers greater than 0, got {weights!r}")
    if len(weights) != len(demands):
        raise ValueError(f"demands and weights must have the same length, got {len(demands)} and "
                         f"{len(weights)}")
    want = [check_int("demands", d, 0) for d in demands]
    w = [check_real("weights", x, 0.0, lo_open=True) for x in weights]
    return _grants(amount, want, w)


def _grants(amount: int, demands: list[int], weights: list[float]) -> list[int]:
    """:func:`proportional_grants` without the checks (the simulator's inner loop)."""
    total = sum(demands)
    if total <= amount:
        return demands[:]
    n = len(demands)
    if amount <= 0:
        return [0] * n
    # requests in order of the level at which they are met; fixed order for equal levels
    order = sorted((i for i in range(n) if demands[i] > 0), key=lambda i: (demands[i] / weights[i], i))
    left = float(amount)
    wsum = 0.0
    for i in order:
        wsum += weights[i]
    level = 0.0
    for i in order:
        need = demands[i] / weights[i]
        if need * wsum <= left:
            left -= demands[i]
            wsum -= weights[i]
        else:
            level = left / wsum
            break
    exact = [min(float(demands[i]), weights[i] * level) if demands[i] > 0 else 0.0 for i in range(n)]
    out = [int(x) for x in exact]
    rest = amount - sum(out)
    if rest > 0:
        frac = sorted((i for i in range(n) if out[i] < demands[i]), key=lambda i: (out[i] - exact[i], i))
        for i in frac[:rest]:
            out[i] += 1
    return out
