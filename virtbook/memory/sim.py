"""The simulator: one host, several VMs, one-second steps, pages counted per class.

:func:`simulate` keeps the whole run in a :class:`Run` (what does not change: the host, the VMs'
settings and their workloads) and a :class:`HostState` (what does: each VM's pages by class, its
balloon, the host's free memory and free-memory state). Each step calls seven functions, in this
order:

1. :func:`sample_working_sets` - every ``sample_period_s`` ESX samples ``sample_pages`` random
   pages of each VM and smooths the active fraction with a fast and a slow moving average
   (Waldspurger 2002 section 5.3).
2. :func:`entitlements` - each VM's *target*: what it would hold if memory were not short (its
   footprint, within its limit) and, whenever the guests want more than the host has above its
   free-memory reserve, the allocation that min-funding revocation with the idle memory tax
   leaves it (Waldspurger 2002 section 5.2), never below its reservation. Targets are computed in
   every step and every state, so they steer who gets free memory as well as who gives it back.
3. :func:`serve_demand` - page faults on pages the hypervisor swapped or compressed,
   copy-on-write breaks of shared pages and the guest's growth, all served from free memory at
   once: first what VMs need to reach their reservations, then what they need to reach their
   targets, then the rest, each tier shared out by shares (:func:`~virtbook.memory.policy.
   proportional_grants`). A VM at its limit gets a new page only by giving one up to the
   hypervisor's swap file (a limit is hard: guest-resident plus compressed pages never exceed
   it). A VM whose memory is not there waits: that time is work it did not do.
4. :func:`scan_for_sharing` - while KSM runs (technique ``"share"``, the state allows it and
   ksmtuned keeps it on), ksmd examines ``pages_to_scan * 1000 / sleep_millisecs`` pages per
   second; the model spreads them over the VMs in proportion to what is left of each VM in the
   current pass, so a pass takes as long as the kernel's walk of one ``mm`` after another and
   ends for all VMs at once, whatever their order. As in mm/ksm.c, a zero or OS page becomes a
   merge candidate only when ksmd finds it with the checksum it recorded on its previous pass:
   the first visit only records the checksum, so nothing merges during ksmd's first full scan
   (:func:`scan_for_sharing` says more); :mod:`virtbook.memory.ksm` counts what merges.
5. :func:`update_state` - free memory decides the state (:mod:`virtbook.memory.policy`); below
   the high threshold large pages are broken so they can be shared (VMware KB 1021095).
6. :func:`reclaim` - outside the high state, VMs above their targets give memory back by the
   techniques their state allows: the balloon first (the guest gives unused, then idle, then
   active pages), then compression and hypervisor swapping, which pick pages blindly. Limits
   are enforced in every state: a balloon keeps a guest that wants more than its limit from
   seeing more than its limit (the guest pages against its own swap, as ESX intends).
7. :func:`deflate` - balloons of VMs that are not being reclaimed shrink toward what their
   targets allow: the part over memory the guest does not want costs nothing, the part that
   lets the guest grow back is paid from free memory above the reserve, shared out by shares.

Everything is counted in whole pages; ``free = RAM - sum(resident) - KSM pages`` never goes
negative because every allocation is granted only from memory that is certainly free (merges are
credited at the end of the step). The VMs are kept internally in the order of their names, so
rounding and floating-point sums come out the same whatever the order of the list; the grants
themselves are proportional, so a VM's results do not depend on its position or its name.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .._validate import check_bool, check_int, check_real
from .config import PAGE_KIB, PAGES_PER_MB, VM, Host
from .ksm import account_groups
from .policy import HARD, HIGH, LOW, SOFT, STATE_NAMES, TECHNIQUES_BY_STATE, _grants, _targets, thresholds
from .result import DOMMEMSTAT_FIELDS, VM_FIELDS, Result, frozen_view
from .workload import build, vm_stream

#: Reclamation techniques that can be switched on and off.
TECHNIQUES = ("balloon", "share", "compress", "swap")

#: Most VM-steps (VMs x steps) one run may take when it keeps its full timeline (about 3 s on the
#: book's 2-core machine and 40 MB of series), and without it (about 5 s, a few MB).
MAX_VM_STEPS_TIMELINE = 400_000
MAX_VM_STEPS = 1_000_000

#: Reported slowdown of a VM that did (next to) no work: the ratio has no upper bound, so the
#: book caps it, and ``Result.starved_s`` says how long the VM could not run at all.
SLOWDOWN_CAP = 1000.0

#: Columns recorded per VM per step (pages), and per step for the host.
_VM_COLS = ("rss", "bal", "shr", "cmp", "swp", "sin", "res", "gsin", "gsout", "bsq")
_HOST_COLS = ("free", "state", "kp", "sharing", "unshared", "volatile", "full", "run", "inter", "split")

#: Gains of the slow and fast moving averages that smooth working-set samples. Waldspurger 2002
#: section 5.3 takes the maximum of a slow and a fast average and the current sample; the gains
#: here are illustrative.
_SLOW_GAIN = 0.2
_FAST_GAIN = 0.7


@dataclass(slots=True)
class Run:
    """What stays fixed during a run, per VM in the order of their names (lists of pages).

    The workload series are indexed by step first: ``footprint[k][i]`` is VM ``i``'s footprint in
    step ``k`` (``active`` and ``wish``, its footprint within its limit, likewise).
    """

    host: Host
    vms: tuple[VM, ...]
    n: int
    steps: int
    dt: float
    mem: list[int]
    reservation: list[int]
    limit: list[int]
    soft_limit: list[int]
    shares: list[float]
    zero_frac: list[float]
    os_frac: list[float]
    cow_per_step: list[float]
    compressible: list[float]
    balloon_max: list[int]
    zip_max: list[int]
    footprint: list[list[int]]
    wish: list[list[float]]
    active: list[list[int]]
    sample_noise: list[list[float]]
    thresholds: tuple[int, int, int, int]
    climb: list[int]
    table: tuple[frozenset, ...]
    use_balloon: bool
    use_share: bool
    use_compress: bool
    use_swap: bool
    tau: float
    max_page_sharing: int
    scan_per_step: float
    touch_prob: float
    swap_per_step: int
    balloon_fast: int
    balloon_active: int
    balloon_free: int
    swap_in_s: float
    guest_swap_in_s: float
    decompress_s: float
    sample_every: int
    sample_pages: int
    ksm_threshold: float
    overcommitted: bool
    zero_groups: tuple[tuple[int, ...], ...]
    os_groups: tuple[tuple[int, ...], ...]
    has_limits: bool
    has_soft_limits: bool


@dataclass(slots=True)
class HostState:
    """What changes during a run: per-VM page counts (lists, one entry per VM) and host values.

    A VM's resident guest pages are zero pages and OS pages (identical in every VM with the same
    guest OS) in five kinds each, after what ksmd knows of them (mm/ksm.c) - ``*_new`` not yet
    reached in the current pass and with no checksum recorded (never scanned, or written since),
    ``*_checked`` not yet reached in the current pass but with a checksum recorded on an earlier
    one, ``*_volatile`` reached in this pass for the first time (ksmd recorded their checksum and
    waits for the next pass), ``*_written`` given back to the VM by copy-on-write after ksmd
    passed them (their contents changed, so they start again as new in the next pass), and
    ``*_scanned`` merge candidates (in KSM's stable or unstable tree) - and ``private`` pages; it
    also has ``compressed`` and ``swapped`` pages. ``balloon`` pages are pinned by its balloon driver; ``touched`` counts
    every page ever added, to split new pages into zero, OS and private ones exactly.
    """

    zero_new: list[int]
    zero_checked: list[int]
    zero_volatile: list[int]
    zero_written: list[int]
    zero_scanned: list[int]
    os_new: list[int]
    os_checked: list[int]
    os_volatile: list[int]
    os_written: list[int]
    os_scanned: list[int]
    private: list[int]
    compressed: list[int]
    swapped: list[int]
    balloon: list[int]
    touched: list[int]
    resident_pages: list[int]
    merged_zero: list[int]
    merged_os: list[int]
    slow_avg: list[float]
    fast_avg: list[float]
    active_estimate: list[float]
    host_swap_ins: list[int]
    guest_swap_ins: list[int]
    guest_swap_outs: list[int]
    work_s: list[float]
    starved_s: list[float]
    large_pages_broken: list[bool]
    groups: tuple[list, list]
    free: int
    state: int = HIGH
    full_scans: int = 0
    scan_carry: float = 0.0
    pass_progress: float = 0.0
    split: int = 0

    def resident(self, i: int) -> int:
        """Guest pages of VM ``i`` held in host memory (own copy or mapped to a shared page)."""
        return self.resident_pages[i]

    def residents(self) -> list[int]:
        """:meth:`resident` of every VM (the live list: callers must not change it)."""
        return self.resident_pages

    def count_resident(self, i: int) -> int:
        """:meth:`resident` counted from the page classes (what ``resident_pages`` must equal)."""
        return (self.zero_new[i] + self.zero_checked[i] + self.zero_volatile[i]
                + self.zero_written[i] + self.zero_scanned[i] + self.os_new[i] + self.os_checked[i]
                + self.os_volatile[i] + self.os_written[i] + self.os_scanned[i] + self.private[i])

    def volatile(self, i: int) -> int:
        """Pages of VM ``i`` that ksmd has scanned but holds in neither tree: KSM's ``pages_volatile``."""
        return (self.zero_checked[i] + self.zero_volatile[i] + self.zero_written[i]
                + self.os_checked[i] + self.os_volatile[i] + self.os_written[i])

    def cache(self, i: int) -> int:
        """Host pages holding VM ``i``'s compressed pages (two to a page: each fits in 2 KB)."""
        return (self.compressed[i] + 1) // 2


def _check_inputs(host: object, vms: object, duration_s: object, dt_s: object, techniques: object,
                  seed: object, timeline: object) -> tuple[Host, tuple[VM, ...], float, float,
                                                            tuple[str, ...], int, bool]:
    if not isinstance(host, Host):
        raise ValueError(f"host must be a Host, got {host!r}")
    if isinstance(vms, VM):
        vms = (vms,)
    if not isinstance(vms, (list, tuple)) or not 1 <= len(vms) <= 64:
        raise ValueError(f"vms must be a list of 1..64 VM objects, got {vms!r}")
    for vm in vms:
        if not isinstance(vm, VM):
            raise ValueError(f"vms must be a list of 1..64 VM objects, got an item {vm!r}")
    names = [vm.name for vm in vms]
    if len(set(names)) != len(names):
        raise ValueError(f"vms must have distinct names, got {names!r}")
    dur = check_real("duration_s", duration_s, 0, 7 * 86400, lo_open=True)
    dt = check_real("dt_s", dt_s, 0, 3600, lo_open=True)
    if dt > dur:
        raise ValueError(f"dt_s must be a number greater than 0 and at most duration_s ({dur:g}), got {dt_s!r}")
    keep = check_bool("timeline", timeline)
    steps = max(1, int(round(dur / dt)))
    limit = MAX_VM_STEPS_TIMELINE if keep else MAX_VM_STEPS
    if steps * len(vms) > limit:
        hint = ", or timeline=False to keep only the summaries" if keep else ""
        raise ValueError(
            f"len(vms) x duration_s / dt_s must be at most {limit} VM-steps with timeline={keep} "
            f"(a few seconds of work), got {len(vms)} x {steps} = {len(vms) * steps}: use fewer VMs, "
            f"a shorter duration_s or a larger dt_s{hint}")
    if isinstance(techniques, str) or not isinstance(techniques, Iterable):
        raise ValueError(f"techniques must be a collection of names from {TECHNIQUES}, got {techniques!r}")
    techs = tuple(techniques)
    for t in techs:
        if t not in TECHNIQUES:
            raise ValueError(f"techniques must be a collection of names from {TECHNIQUES}, got {t!r}")
    sd = check_int("seed", seed, 0, 2**63 - 1)
    reserve_mb = thresholds(host.ram_mb, host.policy).high / PAGES_PER_MB
    reserved = sum(vm.reservation_mb for vm in vms)
    if reserved > host.ram_mb - reserve_mb:
        raise ValueError(
            f"reservation_mb of the VMs must add up to at most {host.ram_mb - reserve_mb:g} MB (host "
            f"RAM less its free-memory reserve), got {reserved}: ESX's admission control would refuse "
            f"to power on a VM whose reservation it cannot guarantee")
    return host, tuple(vms), dur, dt, tuple(t for t in TECHNIQUES if t in techs), sd, keep


def _groups(host: Host, vms: Sequence[VM]) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """VM index groups that may share zero pages and OS pages (salting, KB 2097593)."""
    zero: dict[object, list[int]] = {}
    osg: dict[object, list[int]] = {}
    for i, vm in enumerate(vms):
        if host.share_force_salting == 0:
            salt: object = ""
        else:
            salt = ("salt", vm.pshare_salt) if vm.pshare_salt is not None else ("vm", vm.name)
        zero.setdefault(salt, []).append(i)
        osg.setdefault((salt, vm.guest_os), []).append(i)
    return tuple(tuple(g) for g in zero.values()), tuple(tuple(g) for g in osg.values())


def prepare(host: Host, vms: tuple[VM, ...], steps: int, dt: float, techs: tuple[str, ...], seed: int) -> Run:
    """The :class:`Run` of ``vms`` (already in name order) on ``host``: settings in pages, workloads."""
    pg = PAGES_PER_MB
    n = len(vms)
    footprint, active, _ = build(vms, steps, dt, seed)
    sample_every = max(1, int(round(host.sample_period_s / dt)))
    noise = [vm_stream(seed, vm.name, 1).standard_normal(steps // sample_every + 1).tolist() for vm in vms]
    ram = host.ram_pages
    th = thresholds(host.ram_mb, host.policy).as_tuple()
    mem = [vm.mem_mb * pg for vm in vms]
    zero_groups, os_groups = _groups(host, vms)
    return Run(
        host=host, vms=vms, n=n, steps=steps, dt=dt, mem=mem,
        reservation=[vm.reservation_mb * pg for vm in vms],
        limit=[vm.limit_mb * pg if vm.limit_mb is not None else mem[i] for i, vm in enumerate(vms)],
        soft_limit=[vm.soft_limit_mb * pg if vm.soft_limit_mb is not None else mem[i] for i, vm in enumerate(vms)],
        shares=[float(vm.shares) for vm in vms],
        zero_frac=[vm.zero_frac for vm in vms], os_frac=[vm.os_frac for vm in vms],
        cow_per_step=[vm.cow_rate * dt for vm in vms],
        compressible=[vm.compressible_frac for vm in vms],
        balloon_max=[host.ctl_max_percent * m // 100 for m in mem],
        zip_max=[host.mem_zip_max_pct * m // 100 for m in mem],
        footprint=footprint.T.tolist(), active=active.T.tolist(), sample_noise=noise,
        wish=np.minimum(footprint, np.array([[vm.limit_mb * pg if vm.limit_mb is not None else m]
                                             for vm, m in zip(vms, mem)])).astype(float).T.tolist(),
        thresholds=th, climb=[int(th[s] * (1.0 + host.state_hysteresis)) + 1 for s in range(4)],
        table=TECHNIQUES_BY_STATE[host.policy],
        use_balloon="balloon" in techs, use_share="share" in techs,
        use_compress="compress" in techs, use_swap="swap" in techs,
        tau=host.idle_tax, max_page_sharing=host.max_page_sharing,
        scan_per_step=host.ksm_scan_rate * dt, touch_prob=min(1.0, dt / host.sample_period_s),
        swap_per_step=max(1, int(host.swap_out_mb_s * pg * dt)),
        balloon_fast=max(1, int(host.balloon_rate_nosleep * dt)),
        balloon_active=max(1, int(host.balloon_rate_alloc_max * dt)),
        balloon_free=max(1, int(host.balloon_rate_free_max * dt)),
        swap_in_s=host.swap_in_ms / 1000.0, guest_swap_in_s=host.guest_swap_in_ms / 1000.0,
        decompress_s=host.decompress_ms / 1000.0,
        sample_every=sample_every, sample_pages=host.sample_pages,
        # ksmtuned stops KSM only while committed guest memory + thres < total and free > thres
        ksm_threshold=max(ram * host.ksm_thres_coef / 100.0, host.ksm_thres_const_mb * pg),
        overcommitted=sum(mem) + max(ram * host.ksm_thres_coef / 100.0, host.ksm_thres_const_mb * pg) >= ram,
        zero_groups=zero_groups, os_groups=os_groups,
        has_limits=any(vm.limit_mb is not None and vm.limit_mb < vm.mem_mb for vm in vms),
        has_soft_limits=any(vm.soft_limit_mb is not None and vm.soft_limit_mb < vm.mem_mb for vm in vms),
    )


def initial_state(run: Run) -> HostState:
    """Every VM powered off: no pages, empty balloons, all of the host's RAM free."""
    n = run.n

    def zeros() -> list[int]:
        return [0] * n

    return HostState(
        zero_new=zeros(), zero_checked=zeros(), zero_volatile=zeros(), zero_written=zeros(),
        zero_scanned=zeros(), os_new=zeros(), os_checked=zeros(), os_volatile=zeros(),
        os_written=zeros(), os_scanned=zeros(), private=zeros(),
        compressed=zeros(), swapped=zeros(), balloon=zeros(), touched=zeros(), resident_pages=zeros(),
        merged_zero=zeros(), merged_os=zeros(), slow_avg=[0.0] * n, fast_avg=[0.0] * n,
        active_estimate=[1.0] * n, host_swap_ins=zeros(), guest_swap_ins=zeros(),
        guest_swap_outs=zeros(), work_s=[0.0] * n, starved_s=[0.0] * n,
        large_pages_broken=[not vm.large_pages for vm in run.vms], free=run.host.ram_pages,
        groups=_sharing_groups(run, [not vm.large_pages for vm in run.vms]),
    )


def _sharing_groups(run: Run, broken: list[bool]) -> tuple[list, list]:
    """The zero-page and OS-page groups with only the VMs whose pages may merge (no unbroken
    large pages)."""
    return ([tuple(i for i in g if broken[i]) for g in run.zero_groups],
            [tuple(i for i in g if broken[i]) for g in run.os_groups])


# --- step 1 -------------------------------------------------------------------------------------

def sample_working_sets(run: Run, st: HostState, k: int) -> None:
    """Estimate each VM's active fraction from a sample of ``sample_pages`` pages (section 5.3)."""
    if k % run.sample_every:
        return
    j = k // run.sample_every
    for i in range(run.n):
        touched = st.resident(i) + st.compressed[i] + st.swapped[i]
        act = run.active[k][i]
        f = act / touched if touched > act else 1.0
        est = f + run.sample_noise[i][j] * math.sqrt(f * (1.0 - f) / run.sample_pages)
        est = round(min(1.0, max(0.0, est)) * run.sample_pages) / run.sample_pages
        st.slow_avg[i] += _SLOW_GAIN * (est - st.slow_avg[i])
        st.fast_avg[i] += _FAST_GAIN * (est - st.fast_avg[i])
        st.active_estimate[i] = max(est, st.slow_avg[i], st.fast_avg[i])


# --- step 2 -------------------------------------------------------------------------------------

def entitlements(run: Run, st: HostState, k: int) -> list[float]:
    """Each VM's target allocation of resident pages in step ``k``.

    Uncontended, a VM may hold its footprint (within its limit). When the footprints add up to
    more than the host can hold above its reserve (``climb[HIGH]`` free pages), the excess is
    revoked by min-funding with the idle memory tax from those wishes, never below a VM's
    reservation, and ``soft_limit_mb`` caps the wish.
    """
    resident = st.residents()
    supply = st.free + sum(resident) - run.climb[HIGH]
    wish = run.wish[k]
    total = sum(wish)
    if total <= supply:
        return wish
    if run.has_soft_limits:
        wish = [w if w < s else float(s) for w, s in zip(wish, run.soft_limit)]
        total = sum(wish)
    excess = total - (supply if supply > 0 else 0.0)
    if excess <= 0:
        return wish
    active = [f * (r + c + s) for f, r, c, s in zip(st.active_estimate, resident, st.compressed, st.swapped)]
    return _targets(wish, active, run.shares, run.reservation, run.tau, excess)


# --- step 3 -------------------------------------------------------------------------------------

def _add_pages(run: Run, st: HostState, i: int, count: int) -> None:
    """Add ``count`` guest pages to VM ``i``, split into zero/OS/private by its fractions.

    A running count keeps the split exact: after ``a`` pages, ``floor(zero_frac * a)`` are zero.
    """
    a0 = st.touched[i]
    a1 = a0 + count
    nz = int(run.zero_frac[i] * a1) - int(run.zero_frac[i] * a0)
    no = int(run.os_frac[i] * a1) - int(run.os_frac[i] * a0)
    if nz + no > count:
        no = count - nz
    st.zero_new[i] += nz
    st.os_new[i] += no
    st.private[i] += count - nz - no
    st.touched[i] = a1
    st.resident_pages[i] += count


def _evict(run: Run, st: HostState, i: int, count: int, compress: bool, swap: bool) -> tuple[int, int]:
    """Take up to ``count`` unshared resident pages of VM ``i`` blindly; compress those that fit in
    2 KB while the cache has room, swap the rest. Returns ``(compressed, swapped)`` guest pages."""
    pools = (st.private, st.zero_new, st.os_new, st.zero_checked, st.os_checked, st.zero_volatile,
             st.os_volatile, st.zero_written, st.os_written)
    sizes = [p[i] for p in pools]
    pool = sum(sizes)
    sel = count if count < pool else pool
    if sel <= 0:
        return 0, 0
    c = 0
    if compress:
        room = run.zip_max[i] - st.compressed[i]
        c = int(sel * run.compressible[i])
        if c > room:
            c = room if room > 0 else 0
    s = sel - c if swap else 0
    sel = c + s
    if sel <= 0:
        return 0, 0
    # the same share of every kind of page, whole pages; what rounding leaves from the largest
    takes = [sel * x // pool for x in sizes]
    left = sel - sum(takes)
    for j in sorted(range(len(pools)), key=lambda j: -(sizes[j] - takes[j])):
        if not left:
            break
        t = sizes[j] - takes[j]
        t = left if left < t else t
        takes[j] += t
        left -= t
    for p, t in zip(pools, takes):
        p[i] -= t
    st.resident_pages[i] -= sel
    st.compressed[i] += c
    st.swapped[i] += s
    return c, s


def serve_demand(run: Run, st: HostState, k: int, target: list[float]) -> tuple[list[float], list[int]]:
    """Faults, copy-on-write breaks and growth of step ``k``, served from free memory.

    Returns each VM's work in the step (seconds of useful running) and the pages each brought back
    from the hypervisor's swap file.
    """
    n = run.n
    dt = run.dt
    p_touch = run.touch_prob
    blocking = "block" in run.table[st.state]
    resident = st.residents()
    compressed = st.compressed
    swapped = st.swapped
    balloon = st.balloon
    mem = run.mem
    limit = run.limit
    swap_in_s = run.swap_in_s
    guest_swap_in_s = run.guest_swap_in_s
    decompress_s = run.decompress_s
    merged_zero = st.merged_zero
    merged_os = st.merged_os
    plans: list = [None] * n
    host_need = [0] * n
    for i in range(n):
        res = resident[i]
        if blocking and res > target[i]:
            # ESX blocks the execution of VMs above their target in the low state (section 6.3)
            continue
        cz = compressed[i]
        sw = swapped[i]
        touched = res + cz + sw
        act_pages = run.active[k][i]
        act = act_pages / touched if touched > act_pages else 1.0
        lost = 0.0
        # active pages the hypervisor swapped or compressed are touched again (a share act of
        # them: the hypervisor chose them blindly) and must come back
        n_swap = n_zip = zip_cost = cow = 0
        if sw:
            n_swap = int(sw * act * p_touch + 0.5)
            lost += n_swap * swap_in_s
        cache = (cz + 1) // 2
        if cz:
            n_zip = int(cz * act * p_touch + 0.5)
            lost += n_zip * decompress_s
            zip_cost = n_zip - (cache - (cz - n_zip + 1) // 2)
        # the guest pages against its own swap when its balloon squeezes its working set
        cap = mem[i] - balloon[i]
        if act_pages > cap:
            gf = int((act_pages - cap) * p_touch + 0.5)
            if gf:
                lost += gf * guest_swap_in_s
                st.guest_swap_ins[i] += gf
        merged = merged_zero[i] + merged_os[i]
        if merged and run.cow_per_step[i]:
            cow = int(merged * run.cow_per_step[i] * act + 0.5)
            cand = st.zero_scanned[i] + st.os_scanned[i]
            if cow > cand:
                cow = cand
        foot = run.footprint[k][i]
        grow = (foot if foot < cap else cap) - touched
        if grow < 0:
            grow = 0
        wanted = grow
        ex_swap = ex_grow = 0
        # a limit is hard: within the headroom pages come from free memory; beyond it a page
        # comes in only if another goes to the hypervisor's swap file
        head = limit[i] - res - cache
        if n_swap + zip_cost + grow > head:
            if head < 0:
                head = 0
            in_swap = n_swap if n_swap < head else head
            head -= in_swap
            if zip_cost > head:
                n_zip = zip_cost = 0
            head -= zip_cost
            in_grow = grow if grow < head else head
            if run.use_swap:
                room = run.swap_per_step
                over = n_swap - in_swap
                ex_swap = over if over < room else room
                room -= ex_swap
                over = grow - in_grow
                ex_grow = over if over < room else room
            n_swap = in_swap
            grow = in_grow
        plans[i] = (n_swap, n_zip, cow, grow, wanted, lost, ex_swap, ex_grow)
        host_need[i] = n_swap + zip_cost + cow + grow
    granted = _serve_in_tiers(run, st, resident, host_need, target)
    work = [0.0] * n
    swap_in = [0] * n
    for i in range(n):
        plan = plans[i]
        if plan is None:
            st.starved_s[i] += dt
            continue
        n_swap, d, cow, grow, wanted, lost, ex_swap, ex_grow = plan
        g = granted[i]
        # the grant pays for faults first, then copy-on-write, then growth
        if n_swap > g:
            n_swap = g
        g -= n_swap
        zip_cost = 0
        if d:
            cz = compressed[i]
            if d > 2 * g + 1:
                d = 2 * g + 1
            while d and d - ((cz + 1) // 2 - (cz - d + 1) // 2) > g:
                d -= 1
            zip_cost = d - ((cz + 1) // 2 - (cz - d + 1) // 2)
            g -= zip_cost
            compressed[i] = cz - d
        if cow > g:
            cow = g
        g -= cow
        if grow > g:
            grow = g
        # exchanges at the limit: pages out to the swap file, the same number in
        if ex_swap or ex_grow:
            out = _evict(run, st, i, ex_swap + ex_grow, False, True)[1]
            if ex_swap > out:
                ex_swap = out
            if ex_grow > out - ex_swap:
                ex_grow = out - ex_swap
        if n_swap or ex_swap:
            swapped[i] -= n_swap + ex_swap
            st.host_swap_ins[i] += n_swap + ex_swap
            swap_in[i] = n_swap + ex_swap
        if cow:
            # writes to shared pages give the writer private copies; the guest keeps producing
            # pages of the same kinds, so they become candidates again once ksmd comes round
            m = merged_zero[i] + merged_os[i]
            bz = cow * merged_zero[i] // m
            if bz > st.zero_scanned[i]:
                bz = st.zero_scanned[i]
            bo = cow - bz
            if bo > st.os_scanned[i]:
                bo = st.os_scanned[i]
            st.zero_scanned[i] -= bz
            st.os_scanned[i] -= bo
            st.zero_written[i] += bz
            st.os_written[i] += bo
            cow = bz + bo
        back = n_swap + ex_swap + d + grow + ex_grow
        if back:
            _add_pages(run, st, i, back)
        st.free -= n_swap + zip_cost + cow + grow
        starve = 0.0
        if wanted:
            starve = (wanted - grow - ex_grow) / wanted
            st.starved_s[i] += dt * starve
        w = (1.0 - starve) * dt * dt / (dt + lost)
        work[i] = w
        st.work_s[i] += w
    return work, swap_in


def _serve_in_tiers(run: Run, st: HostState, resident: list[int], need: list[int],
                    target: list[float]) -> list[int]:
    """Free pages for each VM's ``need``: reservations first, then targets, then the rest."""
    n = run.n
    if sum(need) <= st.free:
        return need[:]
    tiers = []
    left = need[:]
    placed = [0] * n
    for level in (run.reservation, target):
        tier = [0] * n
        for i in range(n):
            gap = int(level[i]) - resident[i] - placed[i]
            if gap > 0 and left[i]:
                t = left[i] if left[i] < gap else gap
                tier[i] = t
                left[i] -= t
                placed[i] += t
        tiers.append(tier)
    tiers.append(left)
    out = [0] * n
    free = st.free
    for tier in tiers:
        if free <= 0:
            break
        g = _grants(free, tier, run.shares)
        for i in range(n):
            out[i] += g[i]
        free -= sum(g)
    return out


# --- step 4 -------------------------------------------------------------------------------------

def scan_for_sharing(run: Run, st: HostState) -> bool:
    """ksmd's scan for this step; returns whether KSM ran (``run`` in sysfs).

    ``pass_progress`` is the fraction of the current pass done: every VM's part of the pass
    advances by the same fraction, so the pass ends for all VMs together.

    What a visit does follows ``cmp_and_merge_page()`` in mm/ksm.c. A page that is not yet a KSM
    page has its checksum computed and compared with the one recorded at ksmd's previous visit
    (a new page's record starts at zero); if they differ, ksmd records the new checksum and moves
    on: the page is *volatile*, in neither tree. Only a page whose checksum is unchanged since the
    previous pass is looked up in the stable tree and then searched for, or inserted into, the
    unstable tree, which is emptied at the start of every full scan; two identical pages that
    meet there are merged into a KSM page in the stable tree. So a page merges on its second
    visit at the earliest, and ``full_scans`` (``ksm_scan.seqnr``) counts finished passes.
    Kernels before 2024 looked a page up in the stable tree before comparing checksums, so a page
    identical to an existing KSM page could merge on its first visit; the model follows the
    current order (patch "mm/ksm: don't waste time searching stable tree for fast changing page").

    In the model a ``*_new`` page reached in this pass becomes ``*_volatile`` and a ``*_checked``
    page becomes a candidate (``*_scanned``); when the pass ends, the volatile pages become
    checked for the next one and the pages written behind the scanner become new. Candidates
    stay candidates from pass to pass, and :func:`account` merges them as soon as a partner is a
    candidate too: within a pass the kernel merges such a pair when ksmd reaches the later of the
    two, so the model is at most one pass early for a pair whose partner joins late, and exact in
    when a group of identical guests is merged, by the end of the second full scan.

    Two newer features are left out. ``smart_scan`` (on by default) skips a page that is still
    not a KSM page after three visits for 1 to 8 passes, and takes it out of the unstable tree
    meanwhile (``should_skip_rmap_item()``): pages that merge on their second visit are never
    skipped, so it does not change when identical guests merge, only how often the kernel
    rechecks pages that never merge (and it moves some of them from ``pages_unshared`` to
    ``pages_volatile``). ``advisor_mode`` ``scan-time`` tunes ``pages_to_scan`` by itself; its
    default is ``none``, and the model keeps the rate fixed.
    """
    on = (run.use_share and "share" in run.table[st.state]
          and (run.overcommitted or st.free <= run.ksm_threshold))
    if not on:
        st.scan_carry = 0.0
        return False
    st.scan_carry += run.scan_per_step
    budget = int(st.scan_carry)
    st.scan_carry -= budget
    total = sum(st.residents())
    if total == 0:
        return True
    zero_new, os_new = st.zero_new, st.os_new
    zero_checked, os_checked = st.zero_checked, st.os_checked
    zero_volatile, os_volatile = st.zero_volatile, st.os_volatile
    zero_scanned, os_scanned = st.zero_scanned, st.os_scanned
    for _ in range(4):  # a fast scanner may finish a pass and start the next within one step
        x = st.pass_progress
        remaining = total * (1.0 - x)
        if budget < remaining:
            frac = budget / remaining   # of what is left of each VM's part of the pass
            for i in range(run.n):
                # first visits record a checksum; second visits with the same checksum are
                # candidates for the trees
                if zero_new[i]:
                    d = int(zero_new[i] * frac + 0.5)
                    zero_new[i] -= d
                    zero_volatile[i] += d
                if os_new[i]:
                    d = int(os_new[i] * frac + 0.5)
                    os_new[i] -= d
                    os_volatile[i] += d
                if zero_checked[i]:
                    d = int(zero_checked[i] * frac + 0.5)
                    zero_checked[i] -= d
                    zero_scanned[i] += d
                if os_checked[i]:
                    d = int(os_checked[i] * frac + 0.5)
                    os_checked[i] -= d
                    os_scanned[i] += d
            st.pass_progress = x + budget / total
            break
        budget -= int(remaining)
        st.full_scans += 1
        st.pass_progress = 0.0
        for i in range(run.n):
            zero_scanned[i] += zero_checked[i]
            os_scanned[i] += os_checked[i]
            # checksums recorded in this pass are compared in the next one
            zero_checked[i] = zero_volatile[i] + zero_new[i]
            os_checked[i] = os_volatile[i] + os_new[i]
            zero_volatile[i] = os_volatile[i] = 0
            # pages written behind the scanner have new contents: recorded again in the next pass
            zero_new[i] = st.zero_written[i]
            os_new[i] = st.os_written[i]
            st.zero_written[i] = st.os_written[i] = 0
    return True


# --- step 5 -------------------------------------------------------------------------------------

def update_state(run: Run, st: HostState) -> None:
    """The free-memory state after this step's allocations, with the paper's hysteresis."""
    th = run.thresholds
    free = st.free
    lower = LOW if free < th[3] else HARD if free < th[2] else SOFT if free < th[1] else HIGH
    if lower > st.state:
        st.state = lower
    else:
        while st.state > HIGH and free > run.climb[st.state - 1]:
            st.state -= 1
    if free < th[0] and not all(st.large_pages_broken):
        st.large_pages_broken = [True] * run.n
        st.groups = _sharing_groups(run, st.large_pages_broken)
        st.split = sum(vm.large_pages for vm in run.vms)


# --- step 6 -------------------------------------------------------------------------------------

def _balloon(run: Run, st: HostState, i: int, k: int, nd: int, cover: int) -> int:
    """Inflate VM ``i``'s balloon so that its resident pages fall by ``nd`` and it covers at
    least ``cover`` pages of memory the guest does not use; returns the host pages gained.

    The driver pins guest pages: first memory the guest has never used (the host gains nothing),
    then idle pages, both at the fast rate; only then does the guest page out active pages, at
    the slow rate (its pages go to the guest's own swap: ``dommemstat`` ``swap_out``).
    """
    room = run.balloon_max[i] - st.balloon[i]
    if room <= 0:
        return 0
    resident = st.resident(i)
    touched = resident + st.compressed[i] + st.swapped[i]
    unused = run.mem[i] - st.balloon[i] - touched
    act = run.active[k][i]
    idle = touched - min(act, touched)
    t_free = min(unused, room, run.balloon_fast) if nd > 0 else min(unused, room, run.balloon_fast, cover)
    t_free = max(0, t_free)
    t_idle = max(0, min(nd, idle, room - t_free, run.balloon_fast - t_free))
    t_act = 0
    if t_free == unused and t_idle == idle:
        t_act = max(0, min(nd - t_idle, room - t_free - t_idle, run.balloon_active))
    take = min(t_idle + t_act, resident)
    t_act = min(t_act, take)
    gained = 0
    if take > 0:
        left = take
        for pool in (st.zero_new, st.zero_checked, st.zero_volatile, st.zero_written, st.private,
                     st.os_new, st.os_checked, st.os_volatile, st.os_written):
            t = min(left, pool[i])
            pool[i] -= t
            left -= t
            gained += t
        if left:
            t = min(left, st.zero_scanned[i])
            st.zero_scanned[i] -= t
            left -= t
            if not st.merged_zero[i]:
                gained += t
        if left:
            t = min(left, st.os_scanned[i])
            st.os_scanned[i] -= t
            left -= t
        st.guest_swap_outs[i] += t_act
        st.resident_pages[i] -= take
    st.balloon[i] += t_free + take
    return gained


def reclaim(run: Run, st: HostState, k: int, target: list[float]) -> list[bool]:
    """Take memory from VMs above their targets by what the state allows; enforce limits.

    Returns, per VM, whether memory was taken from it in this step (such VMs do not deflate).
    """
    n = run.n
    allowed = run.table[st.state]
    contended = st.state != HIGH
    taken = [False] * n
    if not contended and not run.has_limits:
        return taken
    residents = st.residents()
    for i in range(n):
        resident = residents[i]
        need = 0
        forced = False
        if contended:
            need = resident - math.ceil(target[i])
            if need < 0:
                need = 0
            excess = resident - run.soft_limit[i]
            if excess > 0:
                forced = True
                need = max(need, excess)
        # a guest is shown no more than its limit: ESX balloons a VM down to its limit whether or
        # not memory is short (over memory the guest has not touched, that costs nothing)
        cover = 0
        if run.limit[i] < run.mem[i]:
            cover = max(0, min(run.balloon_max[i], run.mem[i] - run.limit[i]) - st.balloon[i])
        if need <= 0 and cover <= 0:
            continue
        gained = 0
        can_balloon = run.use_balloon and st.balloon[i] < run.balloon_max[i]
        if can_balloon and (cover or forced or "balloon" in allowed):
            nd = need if (forced or "balloon" in allowed) else 0
            if cover:
                # what the balloon cannot find unused, the guest gives from its own pages: first
                # the cold ones the host has already swapped out to hold the limit (the balloon
                # pins them and their swap slots are freed, so no resident page is lost), then
                # resident ones
                unused = run.mem[i] - st.balloon[i] - resident - st.compressed[i] - st.swapped[i]
                short = cover - max(0, unused)
                if short > 0 and st.swapped[i] > 0:
                    t = min(short, st.swapped[i], run.balloon_max[i] - st.balloon[i])
                    st.swapped[i] -= t
                    st.balloon[i] += t
                    short -= t
                    cover -= t
                nd = max(nd, short)
            gained = _balloon(run, st, i, k, nd, cover)
        rest = need - gained
        swap_ok = forced or "swap" in allowed or ("swap_if_no_balloon" in allowed and not can_balloon)
        if rest > 0 and swap_ok and (run.use_swap or run.use_compress):
            sel = min(rest, run.swap_per_step)
            old_cache = st.cache(i)
            c, s = _evict(run, st, i, sel, run.use_compress and ("compress" in allowed or forced
                                                                   or run.host.policy == "esx2002"),
                          run.use_swap)
            gained += s + c - (st.cache(i) - old_cache)
        st.free += gained
        taken[i] = need > 0
    return taken


# --- step 7 -------------------------------------------------------------------------------------

def deflate(run: Run, st: HostState, k: int, target: list[float], taken: list[bool]) -> None:
    """Shrink the balloons of VMs that were not reclaimed from toward what their targets allow."""
    n = run.n
    if not any(st.balloon):
        return
    cheap = [0] * n
    paid = [0] * n
    residents = st.residents()
    for i in range(n):
        b = st.balloon[i]
        if not b or taken[i]:
            continue
        mem = run.mem[i]
        foot = run.footprint[k][i]
        res = residents[i]
        # the balloon may keep the guest down to its target, and to its limit
        allowed = min(run.limit[i], max(int(target[i]), res))
        keep = max(0, mem - max(allowed, res + st.compressed[i] + st.swapped[i]))
        if run.limit[i] < mem:
            keep = max(keep, min(run.balloon_max[i], mem - run.limit[i]))
        if b <= keep:
            continue
        d = min(b - keep, run.balloon_free)
        squeeze = max(0, foot + b - mem)     # balloon pages the guest would fill at once
        cheap[i] = min(d, b - squeeze)
        extra = d - cheap[i]
        # the guest grows into what it gets back: only up to its target and its limit
        room = min(int(target[i]), run.limit[i]) - res - st.cache(i)
        paid[i] = max(0, min(extra, room))
    surplus = st.free - run.climb[HIGH]
    grant = _grants(max(0, surplus), paid, run.shares) if any(paid) else paid
    for i in range(n):
        st.balloon[i] -= cheap[i] + grant[i]


# --- accounting ---------------------------------------------------------------------------------

def account(run: Run, st: HostState, k: int) -> tuple[list[tuple], int, int, int, int, int]:
    """Count shared pages exactly, set free memory, and return one row per VM and host counters:
    ``pages_shared``, ``pages_sharing``, ``pages_unshared``, the inter-VM part of
    ``pages_sharing`` and ``pages_volatile`` (pages ksmd has scanned that are in neither tree,
    which mm/ksm.c computes as ``rmap_items - pages_shared - pages_sharing - pages_unshared``)."""
    zs = st.zero_scanned
    osc = st.os_scanned
    kp, sharing, unshared, mz, mo, attr, intra = account_groups(
        zs, osc, st.groups[0], st.groups[1], run.max_page_sharing)
    st.merged_zero = mz
    st.merged_os = mo
    used = kp
    rows = []
    broken = st.large_pages_broken
    balloon = st.balloon
    mem = run.mem
    footprint = run.footprint
    for i, res in enumerate(st.residents()):
        cz = st.compressed[i]
        held = res - mz[i] - mo[i] + (cz + 1) // 2
        used += held
        if not broken[i]:
            unshared += zs[i] + osc[i]
        b = balloon[i]
        sq = footprint[k][i] + b - mem[i]
        rows.append([held + attr[i], b, mz[i] + mo[i], cz, st.swapped[i], 0, res,
                     st.guest_swap_ins[i], st.guest_swap_outs[i], sq if sq > 0 else 0])
    st.free = run.host.ram_pages - used
    volatile = (sum(st.zero_checked) + sum(st.zero_volatile) + sum(st.zero_written)
                + sum(st.os_checked) + sum(st.os_volatile) + sum(st.os_written))
    return rows, kp, sharing, unshared, sharing - intra, volatile


def simulate(
    host: Host,
    vms: Sequence[VM],
    duration_s: float = 600.0,
    techniques: Iterable[str] = TECHNIQUES,
    seed: int = 0,
    dt_s: float = 1.0,
    timeline: bool = True,
) -> Result:
    """Run the overcommit model and return a :class:`~virtbook.memory.result.Result`.

    ``techniques`` chooses which reclamation techniques exist at all (any of ``"balloon"``,
    ``"share"``, ``"compress"``, ``"swap"``); the host's free-memory state then decides when each
    of them runs. ``seed`` fixes every random draw (workload noise and working-set sampling):
    the same arguments give the same result. ``timeline=False`` keeps only the last step of each
    series (the summaries stay exact), for long runs. Work is bounded: at most
    :data:`MAX_VM_STEPS_TIMELINE` VM-steps with the timeline, :data:`MAX_VM_STEPS` without.

    >>> r = simulate(Host(ram_mb=16384), [VM("web", mem_mb=4096), VM("db", mem_mb=8192)],
    ...              duration_s=600, seed=0)
    >>> r.slowdown["web"], r.reclaimed_mb["swap"]          # 12 GiB of guests fit in 16 GiB
    (1.0, 0.0)
    >>> bool((sum(r.timeline[n]["rss_mb"] for n in r.names) + r.host_free_mb == 16384).all())
    True
    """
    host, given, dur, dt, techs, seed, keep = _check_inputs(host, vms, duration_s, dt_s, techniques,
                                                             seed, timeline)
    order = sorted(range(len(given)), key=lambda i: given[i].name)
    ordered = tuple(given[i] for i in order)
    steps = max(1, int(round(dur / dt)))
    run = prepare(host, ordered, steps, dt, techs, seed)
    st = initial_state(run)
    n = run.n
    rec_vm = array("q")
    rec_work = array("d")
    rec_host: list = []
    min_free = host.ram_pages
    worst = HIGH
    for k in range(steps):
        sample_working_sets(run, st, k)
        target = entitlements(run, st, k)
        work, swap_in = serve_demand(run, st, k, target)
        ksm_on = scan_for_sharing(run, st)
        update_state(run, st)
        taken = reclaim(run, st, k, target)
        deflate(run, st, k, target, taken)
        rows, kp, sharing, unshared, inter, volatile = account(run, st, k)
        if st.free < min_free:
            min_free = st.free
        if st.state > worst:
            worst = st.state
        if keep or k == steps - 1:
            for i in range(n):
                row = rows[i]
                row[5] = swap_in[i]
                rec_vm.extend(row)
            rec_work.extend(work)
            rec_host.append((st.free, st.state, kp, sharing, unshared, volatile, st.full_scans,
                             ksm_on, inter, st.split))
    kept = steps if keep else 1
    vm_cols = np.frombuffer(rec_vm, dtype=np.int64).reshape(kept, n, len(_VM_COLS))
    rec = {key: np.ascontiguousarray(vm_cols[:, :, j].T) for j, key in enumerate(_VM_COLS)}
    rec["work"] = np.frombuffer(rec_work, dtype=float).reshape(kept, n).T.copy()
    host_cols = np.asarray(rec_host, dtype=np.int64)
    hostrec = {key: host_cols[:, j] for j, key in enumerate(_HOST_COLS)}
    first = 0 if keep else steps - 1
    series = (np.asarray(run.footprint, dtype=np.int64).T[:, first:],
              np.asarray(run.active, dtype=np.int64).T[:, first:])
    return _package(run, st, given, order, techs, seed, first, rec, hostrec, series,
                    min_free, worst)


def _package(run: Run, st: HostState, given: tuple[VM, ...], order: list[int], techs: tuple[str, ...],
             seed: int, first: int, rec: dict, hostrec: dict, series: tuple[np.ndarray, np.ndarray],
             min_free: int, worst: int) -> Result:
    """Turn the recorded lists into the arrays and summaries of a :class:`Result`."""
    host = run.host
    dt = run.dt
    pg = float(PAGES_PER_MB)
    n = run.n
    names = [vm.name for vm in run.vms]
    pages = rec
    M = np.array(run.mem, dtype=np.int64)[:, None]
    guest = pages["res"] + pages["cmp"] + pages["swp"]
    foot, act = series
    mb = {"rss_mb": pages["rss"], "balloon_mb": pages["bal"], "shared_mb": pages["shr"],
          "compressed_mb": pages["cmp"], "swapped_mb": pages["swp"], "swap_in_mb": pages["sin"],
          "footprint_mb": foot, "active_mb": act}
    with np.errstate(divide="ignore"):
        slow = np.minimum(SLOWDOWN_CAP, dt / np.maximum(rec["work"], dt / SLOWDOWN_CAP))
    timeline = {}
    for i, name in enumerate(names):
        tl = {f: mb[f][i] / pg for f in mb}
        tl["slowdown"] = slow[i]
        timeline[name] = frozen_view({f: tl[f] for f in VM_FIELDS})
    kib = PAGE_KIB
    actual = (M - pages["bal"]) * kib
    dms = {"actual": actual, "rss": pages["res"] * kib, "swap_in": pages["gsin"] * kib,
           "swap_out": pages["gsout"] * kib, "major_fault": pages["gsin"],
           "unused": (M - pages["bal"] - guest) * kib, "available": actual}
    dommem = {name: frozen_view({f: dms[f][i] for f in DOMMEMSTAT_FIELDS}) for i, name in enumerate(names)}
    host_free = np.asarray(hostrec["free"], dtype=np.int64) / pg
    host_free.setflags(write=False)
    state = np.asarray(hostrec["state"], dtype=np.int8)
    state.setflags(write=False)
    ksm = frozen_view({
        "pages_shared": np.asarray(hostrec["kp"], dtype=np.int64),
        "pages_sharing": np.asarray(hostrec["sharing"], dtype=np.int64),
        "pages_unshared": np.asarray(hostrec["unshared"], dtype=np.int64),
        "pages_volatile": np.asarray(hostrec["volatile"], dtype=np.int64),
        "full_scans": np.asarray(hostrec["full"], dtype=np.int64),
        "run": np.asarray(hostrec["run"], dtype=np.int8),
        "inter_vm_sharing": np.asarray(hostrec["inter"], dtype=np.int64),
        "large_pages_split": np.asarray(hostrec["split"], dtype=np.int64),
    })
    t_s = (np.arange(first, run.steps, dtype=float) + 1.0) * dt
    t_s.setflags(write=False)
    last_guest = int(guest[:, -1].sum())
    cz_end = pages["cmp"][:, -1]
    comp_saved = int((cz_end - (cz_end + 1) // 2).sum())
    reclaimed = {
        "balloon": int(pages["bsq"][:, -1].sum()) / pg,
        "share": int(hostrec["sharing"][-1]) / pg,
        "compress": comp_saved / pg,
        "swap": int(pages["swp"][:, -1].sum()) / pg,
    }
    dur = run.steps * dt
    slowdown = {name: min(SLOWDOWN_CAP, dur / max(st.work_s[i], dur / SLOWDOWN_CAP))
                for i, name in enumerate(names)}
    # results keyed by name; the VMs in the order the caller gave them
    return Result(
        host=host,
        vms=tuple(given),
        techniques=techs,
        seed=seed,
        dt_s=dt,
        t_s=t_s,
        timeline={names[i]: timeline[names[i]] for i in range(n)},
        host_free_mb=host_free,
        state=state,
        ksm=ksm,
        dommemstat_timeline=dommem,
        thresholds_mb={STATE_NAMES[s]: v / pg for s, v in enumerate(run.thresholds)},
        reclaimed_mb=reclaimed,
        shared_pct=100.0 * int(pages["shr"][:, -1].sum()) / last_guest if last_guest else 0.0,
        swap_in_mb={name: st.host_swap_ins[i] / pg for i, name in enumerate(names)},
        slowdown=slowdown,
        starved_s={name: st.starved_s[i] for i, name in enumerate(names)},
        min_free_mb=min_free / pg,
        worst_state=int(worst),
    )
