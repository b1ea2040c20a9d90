"""The simulator: one host, several VMs, one-second steps, pages counted per class.

Each step (``dt_s`` seconds) does, in this order:

1. **Faults.** Active pages that the hypervisor swapped or compressed are touched again with
   probability ``dt_s / sample_period_s`` per step (an active page is, by definition, touched
   within a sampling period) and come back: a swap-in or a decompression. The hypervisor chose
   those pages without knowing which were active (Waldspurger 2002 section 3.1: a meta-level
   page replacement policy makes uninformed decisions), so a share ``active/guest`` of the
   swapped pages is active. If the balloon left the guest less memory than its working set, the
   guest pages against its own swap (guest major faults, ``dommemstat`` ``swap_in``).
2. **Copy-on-write.** A guest writes ``cow_rate * active/guest`` of its shared pages per second;
   each write gives it a private copy (Waldspurger 2002 section 4.2; KSM's ``cow_ksm`` event in
   admin-guide/mm/ksm.rst). In aggregate the guest keeps producing pages of the same kinds
   (zeroed free pages, re-read library pages), so the written pages rejoin the unscanned
   candidates of their class and ksmd must find them again.
3. **Growth.** The guest touches new pages up to its footprint, within the memory its balloon
   leaves it. New pages are zero, OS or private in the VM's proportions. Growth the host cannot
   back stalls the guest; in the *low* state VMs above their target are blocked.
4. **Scanning.** While page sharing runs (technique ``"share"``, the state allows it, and
   ksmtuned keeps KSM on: it stops KSM only while the guests' configured memory plus its
   threshold fits in RAM *and* free memory is above the threshold), ksmd examines
   ``pages_to_scan * 1000 / sleep_millisecs``
   pages per second, VM after VM, as the kernel walks one ``mm`` after another. Scanned zero and
   OS pages become merge candidates; :mod:`virtbook.memory.ksm` counts what merges. (Real KSM
   merges a page only once its checksum is unchanged since the previous pass; one pass suffices
   here.)
5. **State.** Free memory decides the state (:mod:`virtbook.memory.policy`); below the high
   threshold large pages are broken so they can be shared (VMware KB 1021095).
6. **Reclamation.** Outside the high state the host reclaims enough to climb back above the high
   threshold. :func:`~virtbook.memory.policy.idle_tax_targets` splits the amount between VMs;
   each VM gives its part by the techniques its state allows. The balloon comes first: the
   driver pins guest pages until the guest has shrunk by the amount asked. The guest hands over
   memory it has never used (the host gains nothing from those), then idle pages, both at the
   driver's fast rate, and only then pages out active pages at the slow rate. Compression
   (pages that fit in 2 KB, while the VM's cache has room) and hypervisor swapping take the
   rest, choosing pages blindly among the unshared ones. ESX 2002 swaps in the soft state only
   where ballooning is impossible (no balloon, or balloon at ``ctl_max_percent``). Limits
   (``limit_mb``) are enforced in every state; ``soft_limit_mb`` while memory is contended.
7. **Deflation.** In the high state balloons shrink at the driver's free rate. Returning pages
   that only covered unused guest memory is free; returning pages that let the guest grow back
   is limited to the free memory above the high threshold plus hysteresis; a balloon that
   enforces a limit stays inflated.

Everything is counted in whole pages; ``free = RAM - sum(resident) - KSM pages`` never goes
negative because every allocation is granted only from memory that is certainly free (the count
of free memory used inside a step is a lower bound: merges are credited at the end of the step).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from .._validate import check_int, check_real
from .config import PAGE_KIB, PAGES_PER_MB, VM, Host
from .ksm import account_groups
from .policy import HARD, HIGH, LOW, SOFT, STATE_NAMES, TECHNIQUES_BY_STATE, _targets, thresholds
from .result import DOMMEMSTAT_FIELDS, VM_FIELDS, Result, frozen_view
from .workload import build

#: Reclamation techniques that can be switched on and off.
TECHNIQUES = ("balloon", "share", "compress", "swap")

#: Columns recorded per VM per step, and per step for the host.
_VM_COLS = ("rss", "bal", "shr", "cmp", "swp", "sin", "res", "gsin", "gsout", "bsq")
_HOST_COLS = ("free", "state", "kp", "sharing", "unshared", "volatile", "full", "run", "inter", "split")

#: Gains of the slow and fast moving averages that smooth working-set samples. Waldspurger 2002
#: section 5.3 takes the maximum of a slow and a fast average and the current sample; the gains
#: here are illustrative.
_SLOW_GAIN = 0.2
_FAST_GAIN = 0.7


def _check_inputs(host: object, vms: object, duration_s: object, dt_s: object,
                  techniques: object, seed: object) -> tuple[Host, tuple[VM, ...], float, float,
                                                              tuple[str, ...], int]:
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
    if round(dur / dt) > 1_000_000:
        raise ValueError(f"duration_s / dt_s must be at most 1000000 steps, got {dur / dt:.0f}")
    if isinstance(techniques, str) or not isinstance(techniques, Iterable):
        raise ValueError(f"techniques must be a collection of names from {TECHNIQUES}, got {techniques!r}")
    techs = tuple(techniques)
    for t in techs:
        if t not in TECHNIQUES:
            raise ValueError(f"techniques must be a collection of names from {TECHNIQUES}, got {t!r}")
    sd = check_int("seed", seed, 0, 2**63 - 1)
    return host, tuple(vms), dur, dt, tuple(t for t in TECHNIQUES if t in techs), sd


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


def simulate(
    host: Host,
    vms: Sequence[VM],
    duration_s: float = 600.0,
    techniques: Iterable[str] = TECHNIQUES,
    seed: int = 0,
    dt_s: float = 1.0,
) -> Result:
    """Run the overcommit model and return a :class:`~virtbook.memory.result.Result`.

    ``techniques`` chooses which reclamation techniques exist at all (any of ``"balloon"``,
    ``"share"``, ``"compress"``, ``"swap"``); the host's free-memory state then decides when each
    of them runs. ``seed`` fixes every random draw (workload noise and working-set sampling):
    the same arguments give the same result.

    >>> r = simulate(Host(ram_mb=16384), [VM("web", mem_mb=4096), VM("db", mem_mb=8192)],
    ...              duration_s=600, seed=0)
    >>> r.slowdown["web"], r.reclaimed_mb["swap"]          # 12 GiB of guests fit in 16 GiB
    (1.0, 0.0)
    >>> bool((sum(r.timeline[n]["rss_mb"] for n in r.names) + r.host_free_mb == 16384).all())
    True
    """
    host, vms, dur, dt, techs, seed = _check_inputs(host, vms, duration_s, dt_s, techniques, seed)
    n = len(vms)
    T = max(1, int(round(dur / dt)))
    rng = np.random.default_rng(seed)
    Dw, Ww, _ = build(vms, T, dt, rng)
    sp_steps = max(1, int(round(host.sample_period_s / dt)))
    samp_noise = rng.standard_normal((n, T // sp_steps + 1)).tolist()
    D = Dw.tolist()
    W = Ww.tolist()

    pg = PAGES_PER_MB
    RAM = host.ram_pages
    th = thresholds(host.ram_mb, host.policy)
    TH = th.as_tuple()
    climb = [int(TH[s] * (1.0 + host.state_hysteresis)) + 1 for s in range(4)]
    # ksmtuned stops KSM only while committed guest memory + thres < total and free > thres
    ksm_thr = max(RAM * host.ksm_thres_coef / 100.0, host.ksm_thres_const_mb * pg)
    overcommitted = sum(vm.mem_mb for vm in vms) * pg + ksm_thr >= RAM
    table = TECHNIQUES_BY_STATE[host.policy]
    use_balloon = "balloon" in techs
    use_share = "share" in techs
    use_compress = "compress" in techs
    use_swap = "swap" in techs
    tau = host.idle_tax
    mps = host.max_page_sharing
    scan_rate = host.ksm_scan_rate * dt
    p_touch = min(1.0, dt / host.sample_period_s)
    swap_rate = max(1, int(host.swap_out_mb_s * pg * dt))
    nos = max(1, int(host.balloon_rate_nosleep * dt))
    amax = max(1, int(host.balloon_rate_alloc_max * dt))
    rfree = max(1, int(host.balloon_rate_free_max * dt))
    sin_s = host.swap_in_ms / 1000.0
    gsin_s = host.guest_swap_in_ms / 1000.0
    dec_s = host.decompress_ms / 1000.0
    nsamp = host.sample_pages

    M = [vm.mem_mb * pg for vm in vms]
    RES = [vm.reservation_mb * pg for vm in vms]
    LIM = [vm.limit_mb * pg if vm.limit_mb is not None else M[i] for i, vm in enumerate(vms)]
    SOFTL = [vm.soft_limit_mb * pg if vm.soft_limit_mb is not None else M[i] for i, vm in enumerate(vms)]
    SH = [float(vm.shares) for vm in vms]
    ZF = [vm.zero_frac for vm in vms]
    OF = [vm.os_frac for vm in vms]
    COW = [vm.cow_rate * dt for vm in vms]
    CF = [vm.compressible_frac for vm in vms]
    BMAX = [host.ctl_max_percent * m // 100 for m in M]
    ZMAX = [host.mem_zip_max_pct * m // 100 for m in M]
    zero_groups, os_groups = _groups(host, vms)
    lp_broken = [not vm.large_pages for vm in vms]

    def active_groups() -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
        return ([tuple(i for i in g if lp_broken[i]) for g in zero_groups],
                [tuple(i for i in g if lp_broken[i]) for g in os_groups])

    zg, og = active_groups()
    has_limits = any(LIM[i] < M[i] or SOFTL[i] < M[i] for i in range(n))

    # per-VM state, in pages
    zu = [0] * n   # zero pages, host-resident, not yet scanned
    zs = [0] * n   # zero pages, scanned (merged when a partner exists)
    ou = [0] * n   # OS pages, not yet scanned
    osc = [0] * n  # OS pages, scanned
    pr = [0] * n   # private pages
    cz = [0] * n   # compressed guest pages (held in ceil(cz/2) host pages: <= 2 KB each)
    sw = [0] * n   # guest pages in the hypervisor's swap file
    B = [0] * n    # balloon size
    alloc = [0] * n  # pages ever added, for the zero/OS/private split
    blocked = [False] * n
    f_slow = [0.0] * n
    f_fast = [0.0] * n
    f_est = [1.0] * n
    hsin_tot = [0] * n
    gsin_tot = [0] * n
    gsout_tot = [0] * n
    stall_tot = [0.0] * n
    mz = [0] * n
    mo = [0] * n
    free = RAM
    state = HIGH
    cv = 0
    co = 0
    full_scans = 0
    budget_acc = 0.0
    rng_range = range(n)
    zero_n = [0] * n

    # recorded series: flat lists, n entries per step
    r_vm: list[tuple] = []     # one tuple per VM per step, columns _VM_COLS
    r_stall: list[list[float]] = []
    r_host: list[tuple] = []   # one tuple per step, columns _HOST_COLS
    rec_vm = r_vm.append
    rec_stall = r_stall.append
    rec_host = r_host.append
    n_split = sum(lp_broken) - sum(not vm.large_pages for vm in vms)

    for k in range(T):
        # working-set sampling: n pages per period, smoothed (Waldspurger 2002 section 5.3)
        if k % sp_steps == 0:
            si = k // sp_steps
            for i in rng_range:
                U = zu[i] + zs[i] + ou[i] + osc[i] + pr[i] + cz[i] + sw[i]
                f = W[i][k] / U if U > W[i][k] else 1.0
                est = f + samp_noise[i][si] * math.sqrt(f * (1.0 - f) / nsamp)
                est = round(min(1.0, max(0.0, est)) * nsamp) / nsamp
                f_slow[i] += _SLOW_GAIN * (est - f_slow[i])
                f_fast[i] += _FAST_GAIN * (est - f_fast[i])
                f_est[i] = max(est, f_slow[i], f_fast[i])

        volatile = 0
        sin_step = zero_n[:]
        stall = [0.0] * n
        for i in rng_range:
            Wk = W[i][k]
            zui = zu[i]
            zsi = zs[i]
            oui = ou[i]
            osi = osc[i]
            pri = pr[i]
            czi = cz[i]
            swi = sw[i]
            U = zui + zsi + oui + osi + pri + czi + swi
            act = Wk / U if U > Wk else 1.0
            st = 0.0
            add = 0
            # 1. faults: active pages the hypervisor swapped or compressed are touched again
            if swi:
                need = int(swi * act * p_touch + 0.5)
                if need:
                    st += need * sin_s
                    g = need if need < free else free
                    if g > 0:
                        swi -= g
                        add += g
                        free -= g
                        sin_step[i] = g
                        hsin_tot[i] += g
            if czi:
                d = int(czi * act * p_touch + 0.5)
                if d:
                    st += d * dec_s
                    cost = d - ((czi + 1) // 2 - (czi - d + 1) // 2)
                    if cost > free:
                        d = free
                        cost = d - ((czi + 1) // 2 - (czi - d + 1) // 2)
                    if d > 0:
                        czi -= d
                        add += d
                        free -= cost
            # the guest pages against its own swap when the balloon squeezes its working set
            deficit = Wk - (M[i] - B[i])
            if deficit > 0:
                gf = int(deficit * p_touch + 0.5)
                if gf:
                    st += gf * gsin_s
                    gsin_tot[i] += gf
            # 2. copy-on-write: writes to shared pages give the writer a private copy; in aggregate
            # the guest keeps producing pages of the same kind, so they rejoin the candidates
            m = mz[i] + mo[i]
            if m and COW[i]:
                br = int(m * COW[i] * act + 0.5)
                if br > free:
                    br = free
                if br > 0:
                    bz = br * mz[i] // m
                    bo = br - bz
                    if bz > zsi:
                        bz = zsi
                    if bo > osi:
                        bo = osi
                    zsi -= bz
                    osi -= bo
                    zui += bz
                    oui += bo
                    free -= bz + bo
                    volatile += bz + bo
            # 3. the guest touches new pages up to its footprint, within its balloon
            cap = M[i] - B[i]
            Dk = D[i][k]
            want = (Dk if Dk < cap else cap) - U
            if want > 0:
                if blocked[i]:
                    st += dt
                else:
                    g = want if want < free else free
                    if g < want:
                        st += dt * (want - g) / want
                    if g > 0:
                        add += g
                        free -= g
            if add:
                # new and returning pages split into zero/OS/private by the VM's fractions; a
                # running count keeps the split exact: after a pages, floor(zero_frac*a) are zero
                a0 = alloc[i]
                a1 = a0 + add
                nz = int(ZF[i] * a1) - int(ZF[i] * a0)
                no = int(OF[i] * a1) - int(OF[i] * a0)
                if nz + no > add:
                    no = add - nz
                zui += nz
                oui += no
                pri += add - nz - no
                alloc[i] = a1
            zu[i] = zui
            zs[i] = zsi
            ou[i] = oui
            osc[i] = osi
            pr[i] = pri
            cz[i] = czi
            sw[i] = swi
            stall[i] = st
            stall_tot[i] += st

        # 4. KSM: ksmd walks the VMs one after another, pages_to_scan pages per sleep_millisecs
        ksm_on = use_share and ("share" in table[state]) and (overcommitted or free <= ksm_thr)
        if ksm_on:
            budget_acc += scan_rate
            budget = int(budget_acc)
            budget_acc -= budget
            empty = 0
            while budget > 0 and empty <= n:
                rem = zu[cv] + zs[cv] + ou[cv] + osc[cv] + pr[cv] - co
                if rem > 0:
                    empty = 0
                    s = budget if budget < rem else rem
                    if zu[cv]:
                        dz = zu[cv] * s // rem
                        zu[cv] -= dz
                        zs[cv] += dz
                    if ou[cv]:
                        do = ou[cv] * s // rem
                        ou[cv] -= do
                        osc[cv] += do
                    co += s
                    budget -= s
                    if s < rem:
                        break
                else:
                    empty += 1
                cv += 1
                co = 0
                if cv == n:
                    cv = 0
                    full_scans += 1
        else:
            budget_acc = 0.0

        # 5. state (free is a lower bound here: this step's merges are counted at the end)
        if free < TH[3]:
            lower = LOW
        elif free < TH[2]:
            lower = HARD
        elif free < TH[1]:
            lower = SOFT
        else:
            lower = HIGH
        if lower > state:
            state = lower
        else:
            while state > HIGH and free > climb[state - 1]:
                state -= 1
        if free < TH[0] and not all(lp_broken):
            for i in rng_range:
                lp_broken[i] = True
            zg, og = active_groups()
            n_split = sum(vm.large_pages for vm in vms)
        allowed = table[state]

        # 6. reclamation: limits always, share-based targets outside the high state
        if state == HIGH and not has_limits:
            for i in rng_range:
                blocked[i] = False
            P = None
        else:
            P = [zu[i] + zs[i] + ou[i] + osc[i] + pr[i] for i in rng_range]
            need = zero_n[:]
            excess = zero_n[:]
            for i in rng_range:
                e = P[i] - LIM[i]
                if state != HIGH:
                    e2 = P[i] - SOFTL[i]
                    if e2 > e:
                        e = e2
                if e > 0:
                    excess[i] = e
                    need[i] = e
            X = climb[HIGH] - free if state != HIGH else 0
            if X > 0:
                A = [f_est[i] * (P[i] + cz[i] + sw[i]) for i in rng_range]
                tgt = _targets(P, A, SH, RES, tau, X)
                for i in rng_range:
                    x = P[i] - tgt[i]
                    if x > 0:
                        x = int(x) + 1
                        if x > need[i]:
                            need[i] = x
            for i in rng_range:
                blocked[i] = False
                nd = need[i]
                if nd <= 0:
                    continue
                forced = excess[i] > 0
                gained = 0
                bal_possible = use_balloon and B[i] < BMAX[i]
                if bal_possible and (forced or "balloon" in allowed):
                    # The balloon driver pins guest pages until the guest's memory has shrunk by
                    # nd pages: first the guest's unused memory (never touched, so the host gains
                    # nothing), then its idle pages (free lists, page cache), both at the fast
                    # rate; only then does the guest page out active pages, at the slow rate.
                    room = BMAX[i] - B[i]
                    U = P[i] + cz[i] + sw[i]
                    unused = M[i] - B[i] - U
                    Wk = W[i][k]
                    idle = U - (Wk if Wk < U else U)
                    t_free = unused if unused < room else room
                    if t_free > nos:
                        t_free = nos
                    t_idle = nd if nd < idle else idle
                    if t_idle > room - t_free:
                        t_idle = room - t_free
                    if t_idle > nos - t_free:
                        t_idle = nos - t_free
                    t_act = 0
                    if t_free == unused and t_idle == idle:
                        t_act = nd - t_idle
                        if t_act > room - t_free - t_idle:
                            t_act = room - t_free - t_idle
                        if t_act > amax:
                            t_act = amax
                    tot = t_idle + t_act
                    if tot > P[i]:
                        tot = P[i]
                        if t_act > tot:
                            t_act = tot
                    if tot > 0:
                        left = tot
                        for pool in (zu, pr, ou):
                            v = pool[i]
                            t = left if left < v else v
                            pool[i] = v - t
                            left -= t
                            gained += t
                        if left:
                            t = left if left < zs[i] else zs[i]
                            zs[i] -= t
                            left -= t
                            if not mz[i]:
                                gained += t
                        if left:
                            t = left if left < osc[i] else osc[i]
                            osc[i] -= t
                            left -= t
                        gsout_tot[i] += t_act
                        P[i] -= tot
                    B[i] += t_free + tot
                rest = nd - gained
                swap_ok = forced or "swap" in allowed or ("swap_if_no_balloon" in allowed and not bal_possible)
                if rest > 0 and swap_ok and (use_swap or use_compress):
                    # the hypervisor picks pages blindly among unshared ones; compress those that
                    # fit in 2 KB while the cache has room, swap the rest
                    pool = zu[i] + ou[i] + pr[i]
                    sel = rest if rest < swap_rate else swap_rate
                    if sel > pool:
                        sel = pool
                    c = 0
                    if use_compress:
                        c = int(sel * CF[i])
                        room = ZMAX[i] - cz[i]
                        if c > room:
                            c = room if room > 0 else 0
                    s = sel - c if use_swap else 0
                    sel = c + s
                    if sel > 0:
                        a = sel * pr[i] // pool
                        b = sel * zu[i] // pool
                        cc = sel - a - b
                        if cc > ou[i]:
                            cc = ou[i]
                        extra = sel - a - b - cc
                        pr[i] -= a
                        zu[i] -= b
                        ou[i] -= cc
                        if extra:
                            t = extra if extra < pr[i] else pr[i]
                            pr[i] -= t
                            zu[i] -= extra - t
                        old_cache = (cz[i] + 1) // 2
                        cz[i] += c
                        sw[i] += s
                        gained += s + c - ((cz[i] + 1) // 2 - old_cache)
                if "block" in allowed and not forced:
                    blocked[i] = True
                free += gained

        # 7. deflation once memory is plentiful again: balloon pages that only cover memory the
        # guest does not use cost nothing to return; the rest lets the guest grow back, so it is
        # limited to the surplus above the high threshold
        if state == HIGH and any(B):
            surplus = free - climb[HIGH]
            if P is None:
                P = [zu[i] + zs[i] + ou[i] + osc[i] + pr[i] for i in rng_range]
            for i in rng_range:
                b = B[i]
                # a balloon that enforces a limit stays inflated: the guest may hold no more
                # than min(footprint, mem - balloon) pages, which must stay within the limit
                keep = M[i] - LIM[i] if D[i][k] > LIM[i] else 0
                if b > keep:
                    d = b - keep
                    if d > rfree:
                        d = rfree
                    # while the balloon squeezes the footprint, every page returned is a page
                    # the guest takes back; otherwise returning balloon pages costs nothing
                    cheap = b if D[i][k] + b <= M[i] else 0
                    if d > cheap:
                        extra = d - cheap
                        lim = surplus if surplus < LIM[i] - P[i] else LIM[i] - P[i]
                        if extra > lim:
                            extra = lim if lim > 0 else 0
                        surplus -= extra
                        d = cheap + extra
                    B[i] = b - d

        # exact count of shared pages and of free memory, then record the step
        kp, sharing, unshared, mz, mo, attr, intra = account_groups(zs, osc, zg, og, mps)
        used = kp
        for i in rng_range:
            res = zu[i] + zs[i] + ou[i] + osc[i] + pr[i]
            czi = cz[i]
            h = res - mz[i] - mo[i] + (czi + 1) // 2
            used += h
            if not lp_broken[i]:
                unshared += zs[i] + osc[i]
            b = B[i]
            sq = D[i][k] + b - M[i]
            rec_vm((h + attr[i], b, mz[i] + mo[i], czi, sw[i], sin_step[i], res,
                    gsin_tot[i], gsout_tot[i], sq if sq > 0 else 0))
        rec_stall(stall)
        free = RAM - used
        rec_host((free, state, kp, sharing, unshared, volatile, full_scans, ksm_on,
                  sharing - intra, n_split))

    vm_cols = np.asarray(r_vm, dtype=np.int64).reshape(T, n, len(_VM_COLS))
    rec = {key: vm_cols[:, :, j].T for j, key in enumerate(_VM_COLS)}
    rec["stall"] = np.asarray(r_stall, dtype=float).T
    host_cols = np.asarray(r_host, dtype=np.int64)
    hostrec = {key: host_cols[:, j] for j, key in enumerate(_HOST_COLS)}
    return _package(host, vms, techs, seed, dt, T, th, rec, hostrec, Dw, Ww, hsin_tot, stall_tot)


def _package(host: Host, vms: tuple[VM, ...], techs: tuple[str, ...], seed: int, dt: float, T: int,
             th, rec: dict, hostrec: dict, Dw: np.ndarray, Ww: np.ndarray,
             hsin_tot: list[int], stall_tot: list[float]) -> Result:
    """Turn the recorded lists into the arrays and summaries of a :class:`Result`."""
    n = len(vms)
    pg = float(PAGES_PER_MB)
    names = [vm.name for vm in vms]

    pages = {key: rec[key] for key in _VM_COLS}
    stall = rec["stall"]
    M = np.array([vm.mem_mb * PAGES_PER_MB for vm in vms], dtype=np.int64)[:, None]
    guest = pages["res"] + pages["cmp"] + pages["swp"]
    mb = {"rss_mb": pages["rss"], "balloon_mb": pages["bal"], "shared_mb": pages["shr"],
          "compressed_mb": pages["cmp"], "swapped_mb": pages["swp"], "swap_in_mb": pages["sin"],
          "footprint_mb": Dw, "active_mb": Ww}
    timeline = {}
    for i, name in enumerate(names):
        tl = {f: mb[f][i] / pg for f in mb}
        tl["slowdown"] = 1.0 + stall[i] / dt
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
    t_s = (np.arange(T, dtype=float) + 1.0) * dt
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
    dur = T * dt
    return Result(
        host=host,
        vms=tuple(vms),
        techniques=techs,
        seed=seed,
        dt_s=dt,
        t_s=t_s,
        timeline=timeline,
        host_free_mb=host_free,
        state=state,
        ksm=ksm,
        dommemstat_timeline=dommem,
        thresholds_mb={STATE_NAMES[s]: v / pg for s, v in enumerate(th.as_tuple())},
        reclaimed_mb=reclaimed,
        shared_pct=100.0 * int(pages["shr"][:, -1].sum()) / last_guest if last_guest else 0.0,
        swap_in_mb={name: hsin_tot[i] / pg for i, name in enumerate(names)},
        slowdown={name: 1.0 + stall_tot[i] / dur for i, name in enumerate(names)},
    )
