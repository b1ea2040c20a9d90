"""The event-driven vCPU scheduling simulator behind :func:`simulate`.

The engine advances from event to event (a vCPU's slice ends, a guest finishes a CPU burst or a
critical section, an I/O completes, the credit scheduler ticks or hands out credits, a CFS period
refills a quota, the co-scheduler's skew crosses its threshold); nothing is simulated per
microsecond, which is what makes a 10-second, 4-pCPU scenario take tens of milliseconds.

Events that fall on the same microsecond are handled in a fixed order, so a trace is reproducible
and checkable by hand: credit tick, credit accounting, CFS period boundaries (a throttled vCPU's
quota refills), I/O completions, guest events, quota checks of running vCPUs, slice ends,
co-scheduler checks.

Co-scheduling of multi-vCPU VMs (``coschedule``) follows VMware, "The CPU Scheduler in VMware
vSphere 5.1" (technical white paper, 2013), section "Co-scheduling", and the VMware performance
blog "ESX scheduler support for SMP VMs: co-scheduling and more" (2008):

* ``"none"``: every vCPU is scheduled on its own (KVM and Xen do this).
* ``"strict"`` (ESX 2.x): a VM's runnable vCPUs run together or not at all (gang scheduling; the
  skew tolerance is taken to zero). When one of them is descheduled the scheduler co-stops the
  others; the VM is co-started only when there are pCPUs for all its runnable vCPUs at once, and
  pCPUs held for that co-start stay idle until enough are free (the cost strict co-scheduling pays).
* ``"relaxed"`` (ESX 3 and later): each vCPU tracks its progress (time running or idle: "idle
  vCPUs do not accumulate skew and are treated as if they were running"); a running vCPU whose
  progress exceeds its slowest sibling's by ``skew_threshold_ms`` co-stops itself ("a leading vCPU
  decides whether it should co-stop itself based on the skew against the slowest sibling"). Only
  the leaders stop; their siblings keep running. A co-stopped vCPU may run again as soon as the
  slowest sibling is progressing ("once the slowest sibling vCPU starts progressing, the
  co-stopped vCPUs are eligible to co-start and can be scheduled depending on pCPU
  availability"), and then queues for a pCPU like any ready vCPU. While the slowest sibling
  progresses the skew does not grow, so a leader co-stops only while that sibling is stalled.
  VMware does not publish its threshold; the default of 3 ms here is a teaching value.
"""
from __future__ import annotations

import heapq
from typing import Iterable, Sequence

import numpy as np

from ._core import (
    CSTP, INF, PH_CS, PH_SPIN, PH_WORK, R_BLOCK, R_CAP, R_COSTART, R_COSTOP, R_QUOTA, R_RATELIMIT,
    R_RELEASE, R_RESERVE, R_SLICE, R_START, R_WAKE, RDY, RUN, WAIT, WL_CPU, WL_IDLE, WL_IO,
    WL_SPIN, Sampler, VCpu, VMState,
)
from .._validate import check_bool, check_choice, check_int, check_real
from .model import (
    CFS, CGROUP2_DEFAULT_WEIGHT, COSCHEDULE_MODES, SCHEDULERS, Credit, CPUBound, Host, Idle,
    IOBound, RoundRobin, SchedulerConfig, SpinLock, VM,
)
from .policies import NICE_0_LOAD, make_policy
from .result import SimResult

MAX_DURATION_MS = 10_000_000.0
#: Most events :func:`simulate` accepts, as :func:`estimate_events` counts them before a run. The
#: engine spends 2 to 6 microseconds of CPU per event on the book's 2-core machine
#: (benchmarks/bench_cpu.py), so this bound keeps any accepted run within a few seconds.
MAX_EVENTS = 600_000
#: Events the engine queues per phase change of a guest or per slice, at most: the change itself,
#: the slice, guest and quota events it re-arms, and co-scheduler checks (measured over random
#: scenarios in tests/test_cpu_bounds.py, which asserts that the estimate is never exceeded).
EVENTS_PER_CHANGE = 4
#: Most vCPUs one run may have in total, and the number of vCPUs above which each event costs
#: more: picking the next vCPU scans the run queue, so an event's cost grows with the vCPU count
#: (3,000 CPU-bound VMs under CFS took 0.9 s of CPU for 2 simulated seconds).
MAX_TOTAL_VCPUS = 4096
VCPUS_PER_EVENT_COST = 256



class Engine:
    """One simulation run. Build it, call :meth:`run`, read :class:`SimResult`."""

    EV_TICK, EV_ACCT, EV_PERIOD, EV_WAKE, EV_GUEST, EV_QUOTA, EV_SLICE, EV_COSCHED = range(8)

    def __init__(
        self,
        host: Host,
        vms: Sequence[VM],
        config: SchedulerConfig,
        duration_us: int,
        seed: int,
        coschedule: str,
        skew_us: int,
        trace: bool,
    ) -> None:
        self.P = host.pcpus
        self.end = duration_us
        self.coschedule = coschedule
        self.strict = coschedule == "strict"
        self.relaxed = coschedule == "relaxed"
        self.skew = skew_us
        self.detail = trace
        self.now = 0
        self.heap: list[tuple[int, int, int, int, int]] = []
        self._seq = 0
        self.cur: list[VCpu | None] = [None] * self.P
        self.pstamp = [0] * self.P
        self.idle: set[int] = set(range(self.P))
        self.ready: set[VCpu] = set()
        self.pending: list[tuple[int, int, VCpu | None]] = []  # (pcpu, reason, previous vCPU)
        self.timeline: list[tuple[int, int, int, int]] = []  # (pcpu, start, end, vcpu idx)
        self.decisions: list[tuple] = []
        self.notes: list[tuple[int, str]] = []
        self.reserve_vm: VMState | None = None
        self.reserved: list[int] = []
        self.cdirty: list[VMState] = []  # relaxed co-scheduling: VMs whose skew events need redoing
        self.nrun = 0
        self.w_active = 0.0
        # cgroup v2 cpu.weight -> scheduler weight: W x NICE_0_LOAD / CGROUP_WEIGHT_DFL.
        self.kweight = [vm.cpu_weight * NICE_0_LOAD / CGROUP2_DEFAULT_WEIGHT for vm in vms]

        self.vms: list[VMState] = []
        self.vcpus: list[VCpu] = []
        root = np.random.default_rng(seed)
        total_vcpus = sum(vm.vcpus for vm in vms)
        streams = root.spawn(total_vcpus)
        for i, spec in enumerate(vms):
            st = VMState(i, spec)
            st.spin = isinstance(spec.workload, SpinLock)
            st.cos = self.relaxed and st.multi
            self.vms.append(st)
            for n in range(spec.vcpus):
                v = VCpu(len(self.vcpus), i, n, f"{spec.name}.{n}")
                self._init_workload(v, spec, streams[v.idx])
                if isinstance(config, CFS):
                    v.quota = spec.quota_us
                    v.period = spec.period_us
                st.vcpus.append(v)
                self.vcpus.append(v)
        self.pol = make_policy(self, config)
        self.ratelimit = self.pol.ratelimit_us

    # ----------------------------------------------------------------------------------------
    # set-up
    # ----------------------------------------------------------------------------------------
    @staticmethod
    def _init_workload(v: VCpu, spec: VM, rng: np.random.Generator) -> None:
        wl = spec.workload
        if isinstance(wl, CPUBound):
            v.wl = WL_CPU
        elif isinstance(wl, Idle):
            v.wl = WL_IDLE
        elif isinstance(wl, IOBound):
            v.wl = WL_IO
            v.s_a = Sampler(rng, wl.run_ms * 1000, wl.distribution)
            v.s_b = Sampler(rng, wl.block_ms * 1000, wl.distribution)
            v.remaining = v.s_a.next()
        elif isinstance(wl, SpinLock):
            v.wl = WL_SPIN
            v.s_a = Sampler(rng, wl.work_ms * 1000, wl.distribution)
            v.s_b = Sampler(rng, wl.critical_ms * 1000, wl.distribution)
            v.phase = PH_WORK
            v.remaining = v.s_a.next()

    def push(self, t: int, kind: int, a: int, b: int) -> None:
        """Schedule an event; ``kind`` orders events at the same time, ``_seq`` keeps FIFO."""
        self._seq += 1
        heapq.heappush(self.heap, (t, kind, self._seq, a, b))

    # ----------------------------------------------------------------------------------------
    # state accounting
    # ----------------------------------------------------------------------------------------
    def set_state(self, v: VCpu, s: int) -> None:
        """Move ``v`` to state ``s``, closing the time spent in the old one (esxtop's buckets)."""
        now = self.now
        vm = self.vms[v.vm]
        old = v.state
        if vm.spin:
            self._lock_acc(vm)
        v.acc[old] += now - v.since
        v.state = s
        v.since = now
        was = old == RUN or (old == RDY and not v.limited)
        counted = s == RUN or (s == RDY and not v.limited)
        if was != counted:
            self._count(vm, 1 if counted else -1)
        if vm.spin:
            self._lock_factor(vm)
        if vm.cos and not vm.cdirty:
            vm.cdirty = True
            self.cdirty.append(vm)

    def _count(self, vm: VMState, delta: int) -> None:
        """Track runnable vCPUs per VM and the weight of VMs with any (CFS group shares)."""
        if delta > 0:
            if vm.nrun == 0:
                self.w_active += self.kweight[vm.idx]
            vm.nrun += 1
            self.nrun += 1
        else:
            vm.nrun -= 1
            self.nrun -= 1
            if vm.nrun == 0:
                self.w_active -= self.kweight[vm.idx]

    def set_limited(self, v: VCpu, flag: bool) -> None:
        """Set the cap/quota flag, keeping the runnable counts right for a queued vCPU."""
        if v.limited == flag:
            return
        if v.state == RDY:
            self._count(self.vms[v.vm], -1 if flag else 1)
        v.limited = flag

    def _lock_acc(self, vm: VMState) -> None:
        """Add spinning done while the lock holder was off its pCPU since the last update."""
        if vm.lhp_factor:
            vm.lhp_us += (self.now - vm.lock_last) * vm.lhp_factor
        vm.lock_last = self.now

    def _lock_factor(self, vm: VMState) -> None:
        """How many vCPUs now spin in vain (holder descheduled): the rate of wasted spinning."""
        h = vm.holder
        if h is None or h.state == RUN:
            vm.lhp_factor = 0
        else:
            vm.lhp_factor = sum(1 for s in vm.spinners if s.state == RUN)

    # ----------------------------------------------------------------------------------------
    # running and stopping vCPUs
    # ----------------------------------------------------------------------------------------
    def charge(self, v: VCpu) -> None:
        """Account ``v``'s CPU time since it was last charged (policy, guest work, quota)."""
        ran = self.now - v.run_start
        if ran <= 0:
            return
        v.run_start = self.now
        self.pol.charge(v, ran)
        if v.remaining >= 0 and v.phase != PH_SPIN:
            v.remaining -= ran
        if v.quota > 0:
            v.budget -= ran

    def _arm(self, v: VCpu, p: int, slice_us: int) -> None:
        """Push the events that end ``v``'s turn on ``p``: slice, guest event, quota."""
        now = self.now
        self.pstamp[p] += 1
        self.push(now + slice_us, self.EV_SLICE, p, self.pstamp[p])
        v.gstamp += 1
        if v.remaining >= 0 and v.phase != PH_SPIN:
            self.push(now + max(v.remaining, 0), self.EV_GUEST, v.idx, v.gstamp)
        if v.quota > 0:
            self._refresh_quota(v)
            v.qstamp += 1
            boundary = (v.pidx + 1) * v.period
            self.push(min(now + max(v.budget, 0), boundary), self.EV_QUOTA, v.idx, v.qstamp)

    def start(self, v: VCpu, p: int, reason: int, prev: VCpu | None = None) -> None:
        """Put READY/CSTP vCPU ``v`` on idle pCPU ``p``."""
        now = self.now
        self.ready.discard(v)
        self.idle.discard(p)
        self.cur[p] = v
        v.pcpu = p
        v.run_start = now
        v.tl_start = now
        v.switches += 1
        if v.wake_at >= 0:
            self.vms[v.vm].latencies.append(now - v.wake_at)
            v.wake_at = -1
        self.set_state(v, RUN)
        if v.wl == WL_SPIN and v.phase == PH_SPIN:
            vm = self.vms[v.vm]
            if vm.holder is None:
                self._acquire(vm, v, push=False)
            else:
                v.spin_since = now
        self._arm(v, p, self.pol.on_run(v))
        self._record(p, prev, v, reason)

    def stop(self, v: VCpu, new_state: int) -> int:
        """Take running ``v`` off its pCPU into ``new_state``; return the freed pCPU."""
        now = self.now
        p = v.pcpu
        self.charge(v)
        if v.wl == WL_SPIN and v.phase == PH_SPIN:
            v.spin_us += now - v.spin_since
        if now > v.tl_start:
            self.timeline.append((p, v.tl_start, now, v.idx))
        v.gstamp += 1
        v.qstamp += 1
        self.cur[p] = None
        v.pcpu = -1
        self.pstamp[p] += 1
        self.set_state(v, new_state)
        return p

    def _record(self, p: int, prev: VCpu | None, nxt: VCpu | None, reason: int) -> None:
        """Log one scheduling decision for SimResult.trace() (only when a trace was asked for)."""
        if not self.detail:
            return
        notes = " | ".join(self.pol.describe(x) for x in (prev, nxt) if x is not None)
        self.decisions.append((self.now, p, prev.idx if prev else -1,
                               nxt.idx if nxt else -1, reason, notes))

    # ----------------------------------------------------------------------------------------
    # the run queue
    # ----------------------------------------------------------------------------------------
    def make_ready(self, v: VCpu) -> None:
        """``v`` becomes READY; queued unless a cap or quota holds it back (strict: gang wait)."""
        vm = self.vms[v.vm]
        if self.strict and vm.multi:
            self.set_state(v, RDY)
            if not v.limited:
                self.pol.on_ready(v)
            vm.gang_wait = True
            return
        self.set_state(v, RDY)
        if not v.limited:
            self.pol.on_ready(v)
            self.ready.add(v)

    def _best_ready(self) -> VCpu | None:
        """The queued vCPU with the smallest key (ties: lowest index, for reproducibility)."""
        best = None
        bkey = None
        for v in self.ready:
            if best is None or v.key < bkey or (v.key == bkey and v.idx < best.idx):
                best = v
                bkey = v.key
        return best

    def _gang_members(self, vm: VMState) -> list[VCpu]:
        """Runnable vCPUs of a waiting strict gang (READY or CSTP; a cap or quota on any of them
        keeps the whole gang from starting)."""
        return [s for s in vm.vcpus if s.state in (RDY, CSTP)]

    def _best_gang(self) -> tuple[VMState | None, VCpu | None]:
        """The waiting strict gang whose best member has the smallest key, and that member."""
        best_vm, best_v = None, None
        for vm in self.vms:
            if not vm.gang_wait:
                continue
            members = self._gang_members(vm)
            if not members or any(s.limited for s in members):
                continue
            lead = min(members, key=lambda s: (s.key, s.idx))
            if best_v is None or (lead.key, lead.idx) < (best_v.key, best_v.idx):
                best_vm, best_v = vm, lead
        return best_vm, best_v

    # ----------------------------------------------------------------------------------------
    # scheduling decisions
    # ----------------------------------------------------------------------------------------
    def request(self, p: int, reason: int, prev: VCpu | None = None) -> None:
        """Ask for a decision on ``p``; ``prev`` is the vCPU that just left it (for the trace)."""
        self.pending.append((p, reason, prev))

    def drain(self) -> None:
        served = 0
        while self.pending:
            p, reason, prev = self.pending.pop(0)
            self.decide(p, reason, prev)
            served += 1
            if served > 1000 * self.P + 1000:
                raise RuntimeError(
                    f"the simulator made {served} decisions at t={self.now} us without settling; "
                    "please report this configuration as a bug"
                )

    def decide(self, p: int, reason: int, gone: VCpu | None = None) -> None:
        """Choose what pCPU ``p`` runs next. Its current vCPU (if any) is still runnable."""
        if p in self.reserved:
            return
        c = self.cur[p]
        if c is not None and reason not in (R_SLICE, R_WAKE):
            return  # the pCPU was freed, then filled again before this request was served
        now = self.now
        if c is not None:
            runtime = now - c.tl_start
            if self.ratelimit and runtime < self.ratelimit and reason == R_WAKE:
                # csched_schedule: keep the current vCPU until it has run for ratelimit.
                self.charge(c)
                rest = max(self.ratelimit - runtime, 100)
                self._arm(c, p, rest)
                self._record(p, c, c, R_RATELIMIT)
                return
            self.charge(c)
            self.pol.on_ready(c)  # c competes as if re-queued (credit: behind its equals)
            best = self._pick_candidate(p, c)
            if best is c:
                self._arm(c, p, self.pol.on_run(c))
                self._record(p, c, c, reason)
                return
            self._preempt(c, queued=True)
            self._fill(p, reason, prev=c)
        else:
            self._fill(p, reason, prev=gone)

    def _pick_candidate(self, p: int, c: VCpu) -> VCpu | None:
        """Would ``c`` (just re-queued) win against the best waiting candidate?"""
        best = self._best_ready()
        gvm, gv = (None, None)
        if self.strict:
            gvm, gv = self._best_gang()
        cand = best
        if gv is not None and (cand is None or (gv.key, gv.idx) < (cand.key, cand.idx)):
            cand = gv
        if cand is None or c.key < cand.key or (c.key == cand.key and c.idx < cand.idx):
            return c
        return cand

    def _fill(self, p: int, reason: int, prev: VCpu | None) -> None:
        """pCPU ``p`` is free: start the best candidate there (or a gang, or go idle)."""
        if self.reserve_vm is not None:
            self._join_reservation(p)
            return
        best = self._best_ready()
        if self.strict:
            gvm, gv = self._best_gang()
            if gv is not None and (best is None or (gv.key, gv.idx) < (best.key, best.idx)):
                if not self._gang_start(gvm, gv, p, prev):
                    # Not enough pCPUs now: hold this one for the gang (strict co-scheduling).
                    self._reserve(gvm, p, prev)
                return
        if best is None:
            self.cur[p] = None
            self.idle.add(p)
            self._record(p, prev, None, reason)
            return
        self.start(best, p, reason, prev)

    # ----------------------------------------------------------------------------------------
    # strict co-scheduling (gangs)
    # ----------------------------------------------------------------------------------------
    def _costop_gang(self, vm: VMState) -> None:
        """A member of strict ``vm`` was descheduled: co-stop the others that are running."""
        for s in vm.vcpus:
            if s.state == RUN:
                q = self.stop(s, CSTP)
                self.request(q, R_COSTOP, s)
        vm.gang_wait = True

    def _free_pcpus_for(self, lead: VCpu, exclude: set[int]) -> tuple[list[int], list[int]]:
        """Idle pCPUs, and pCPUs whose vCPU ``lead`` may preempt, for starting a strict gang."""
        idle = sorted(q for q in self.idle if q not in exclude)
        victims = []
        for q in range(self.P):
            r = self.cur[q]
            if q in exclude or r is None or q in self.reserved:
                continue
            # A vCPU that started this very microsecond is left alone, and a running gang is
            # judged by its best member, so two gangs can never keep preempting each other.
            if r.vm == lead.vm or r.tl_start == self.now:
                continue
            rvm = self.vms[r.vm]
            if self.strict and rvm.multi:
                r = min((s for s in rvm.vcpus if s.state == RUN),
                        key=lambda s: (self.pol.running_key(s), s.idx))
            if self.pol.preempts(lead, r):
                victims.append(q)
        return idle, victims

    def _gang_start(self, vm: VMState, lead: VCpu, p: int, prev: VCpu | None) -> bool:
        """Co-start strict ``vm`` on ``p`` plus enough other pCPUs, if there are enough now."""
        members = self._gang_members(vm)
        need = len(members)
        idle, victims = self._free_pcpus_for(lead, {p})
        if 1 + len(idle) + len(victims) < need:
            return False
        chosen = self._take_pcpus([p] + idle[: need - 1], victims, need)
        self._launch_gang(vm, members, chosen, prev)
        return True

    def _preempt(self, r: VCpu, queued: bool = False) -> None:
        """Take running ``r`` off its pCPU: a member of a strict gang co-stops its whole VM,
        any other vCPU goes back on the run queue (``queued``: the policy already re-queued it)."""
        self.stop(r, RDY)
        rvm = self.vms[r.vm]
        if self.strict and rvm.multi:
            self._costop_gang(rvm)
        else:
            if not queued:
                self.pol.on_ready(r)
            self.ready.add(r)

    def _take_pcpus(self, chosen: list[int], victims: list[int], need: int) -> list[int]:
        """Add pCPUs from ``victims`` to ``chosen`` until ``need``, preempting what runs there."""
        for q in victims:
            if len(chosen) >= need:
                break
            r = self.cur[q]
            if r is not None:  # None: freed meanwhile by another gang's co-stop
                self._preempt(r)
            chosen.append(q)
        return chosen

    def _launch_gang(self, vm: VMState, members: list[VCpu], pcpus: list[int],
                     prev: VCpu | None) -> None:
        """Start all ``members`` at once on ``pcpus``."""
        vm.gang_wait = False
        members = sorted(members, key=lambda s: (s.key, s.idx))
        for i, (s, q) in enumerate(zip(members, pcpus)):
            self.idle.discard(q)
            self.start(s, q, R_COSTART, prev if i == 0 else None)

    def _reserve(self, vm: VMState, p: int, prev: VCpu | None) -> None:
        """Hold ``p`` (and every idle pCPU) idle for strict ``vm`` until it can be co-started."""
        self.reserve_vm = vm
        self.reserved = [p]
        self.idle.discard(p)
        self.cur[p] = None
        self._record(p, prev, None, R_RESERVE)
        for q in sorted(self.idle):
            self.idle.discard(q)
            self.reserved.append(q)
            self._record(q, None, None, R_RESERVE)
        self._check_reservation()

    def _join_reservation(self, p: int) -> None:
        """A pCPU that comes free while a gang waits is held for that gang too."""
        if p not in self.reserved:
            self.reserved.append(p)
            self.idle.discard(p)
            self.cur[p] = None
            self._record(p, None, None, R_RESERVE)
        self._check_reservation()

    def _check_reservation(self) -> None:
        """Co-start the waiting gang once enough pCPUs are held; drop the hold if moot."""
        vm = self.reserve_vm
        if vm is None:
            return
        members = self._gang_members(vm)
        if not members or any(s.limited for s in members) or not vm.gang_wait:
            self._release_reservation()
            return
        if len(self.reserved) >= len(members):
            pcpus = sorted(self.reserved)
            self.reserve_vm = None
            self.reserved = []
            use, spare = pcpus[: len(members)], pcpus[len(members):]
            self._launch_gang(vm, members, use, None)
            for q in spare:
                self.cur[q] = None
                self.request(q, R_RELEASE)

    def _release_reservation(self) -> None:
        """Give the held pCPUs back to the scheduler."""
        pcpus = self.reserved
        self.reserve_vm = None
        self.reserved = []
        for q in pcpus:
            self.cur[q] = None
            self.request(q, R_RELEASE)

    # ----------------------------------------------------------------------------------------
    # waking, blocking and guest events
    # ----------------------------------------------------------------------------------------
    def wake(self, v: VCpu) -> None:
        """``v``'s I/O completed (or its cap/quota lifted): make it runnable and find it a pCPU."""
        vm = self.vms[v.vm]
        if v.limited:
            self.set_state(v, RDY)
            return
        if self.relaxed and vm.multi and self._should_costop(vm, v):
            self.set_state(v, CSTP)
            return
        if self.strict and vm.multi:
            self._wake_gang_member(vm, v)
            return
        self.pol.on_wake(v)
        self.make_ready(v)
        self.tickle(v)

    def tickle(self, v: VCpu) -> None:
        """Run newly runnable ``v`` at once if a pCPU is idle, else preempt a worse vCPU."""
        if self.idle:
            p = min(self.idle)
            self.start(v, p, R_WAKE)
            return
        victim, vkey = -1, None
        for q in range(self.P):
            r = self.cur[q]
            if r is None:
                continue
            k = self.pol.running_key(r)
            if vkey is None or k > vkey:
                victim, vkey = q, k
        if victim >= 0 and self.pol.preempts(v, self.cur[victim]):
            self.request(victim, R_WAKE)

    def _wake_gang_member(self, vm: VMState, v: VCpu) -> None:
        """A vCPU of a strict VM wakes: it joins its running siblings or the co-stopped gang."""
        self.pol.on_wake(v)
        running = [s for s in vm.vcpus if s.state == RUN]
        if not running:
            waiting = any(s is not v and s.state in (RDY, CSTP) for s in vm.vcpus)
            self.set_state(v, CSTP if waiting else RDY)
            self.pol.on_ready(v)
            vm.gang_wait = True
            if self.reserve_vm is vm:
                self._check_reservation()
            elif self.reserve_vm is None:
                self._gang_tickle(vm)
            return
        # The gang is running: this member must join it now.
        if self.idle:
            self.set_state(v, RDY)
            self.pol.on_ready(v)
            self.start(v, min(self.idle), R_WAKE)
            return
        _, victims = self._free_pcpus_for(v, set())
        for q in victims[:1]:
            r = self.cur[q]
            if r is not None:
                self._preempt(r)
                self.set_state(v, RDY)
                self.pol.on_ready(v)
                self.start(v, q, R_WAKE, r)
                return
        # No pCPU for it: the whole VM is co-stopped until all its vCPUs can run together.
        self.set_state(v, CSTP)
        self.pol.on_ready(v)
        self._costop_gang(vm)

    def _gang_tickle(self, vm: VMState) -> None:
        """Co-start a waiting gang at once if idle or preemptible pCPUs suffice."""
        members = self._gang_members(vm)
        if not members or any(s.limited for s in members):
            return
        lead = min(members, key=lambda s: (s.key, s.idx))
        idle, victims = self._free_pcpus_for(lead, set())
        if len(idle) + len(victims) < len(members):
            return
        chosen = self._take_pcpus(idle[: len(members)], victims, len(members))
        self._launch_gang(vm, members, chosen, None)

    def guest_event(self, v: VCpu) -> None:
        """Running ``v`` finished its current guest phase."""
        self.charge(v)
        if v.wl == WL_IO:
            v.remaining = v.s_a.next()  # the next burst, after the I/O completes
            p = self.stop(v, WAIT)
            self.push(self.now + v.s_b.next(), self.EV_WAKE, v.idx, 0)
            self.request(p, R_BLOCK, v)
            return
        vm = self.vms[v.vm]
        if v.phase == PH_WORK:
            if vm.holder is None:
                self._acquire(vm, v, push=True)
                return
            else:
                self._lock_acc(vm)
                v.phase = PH_SPIN
                v.spin_since = self.now
                vm.spinners.append(v)
                self._lock_factor(vm)
                return
        else:  # end of the critical section: release and hand over
            self._lock_acc(vm)
            vm.holder = None
            v.phase = PH_WORK
            v.remaining = v.s_a.next()
            for s in vm.spinners:
                if s.state == RUN:
                    self._acquire(vm, s, push=True)
                    break
            self._lock_factor(vm)
        v.gstamp += 1
        self.push(self.now + v.remaining, self.EV_GUEST, v.idx, v.gstamp)

    def _acquire(self, vm: VMState, v: VCpu, push: bool = False) -> None:
        """``v`` takes its VM's guest spinlock and enters the critical section."""
        self._lock_acc(vm)
        if v.state == RUN:
            self.charge(v)  # time spent spinning must not count against the critical section
        if v.phase == PH_SPIN:
            v.spin_us += self.now - v.spin_since
            vm.spinners.remove(v)
        vm.holder = v
        vm.lock_acquires += 1
        v.phase = PH_CS
        v.remaining = v.s_b.next()
        self._lock_factor(vm)
        if push:
            v.gstamp += 1
            self.push(self.now + v.remaining, self.EV_GUEST, v.idx, v.gstamp)

    # ----------------------------------------------------------------------------------------
    # caps (credit) and quotas (CFS bandwidth control)
    # ----------------------------------------------------------------------------------------
    def limit(self, v: VCpu, reason: int) -> None:
        """A cap or quota stops ``v``: it stays runnable (READY) but may not run."""
        self.set_limited(v, True)
        vm = self.vms[v.vm]
        if v.state == RUN:
            p = self.stop(v, RDY)
            if self.strict and vm.multi:
                self._costop_gang(vm)
            self.request(p, reason, v)
        elif v.state == RDY:
            self.ready.discard(v)
        if self.strict and vm.multi and self.reserve_vm is vm:
            self._check_reservation()

    def unlimit(self, v: VCpu) -> None:
        """The cap or quota that held ``v`` back is lifted (no BOOST: credit.c unparks quietly)."""
        self.set_limited(v, False)
        vm = self.vms[v.vm]
        if v.state != RDY:
            if v.state == CSTP and vm.cos and not vm.cdirty:
                vm.cdirty = True
                self.cdirty.append(vm)
            return
        self.pol.on_unthrottle(v)
        self.pol.on_ready(v)
        if self.strict and vm.multi:
            vm.gang_wait = True
            if self.reserve_vm is vm:
                self._check_reservation()
            elif self.reserve_vm is None:
                self._gang_tickle(vm)
            return
        self.ready.add(v)
        self.tickle(v)

    def _refresh_quota(self, v: VCpu) -> None:
        """Refill ``v``'s CFS quota when a new period has begun (periods start at t = 0)."""
        pidx = self.now // v.period
        if pidx != v.pidx:
            v.pidx = pidx
            v.budget = v.quota

    def quota_event(self, v: VCpu) -> None:
        """Running ``v`` reached a period boundary or used up its quota (throttle it then)."""
        self.charge(v)
        self._refresh_quota(v)
        if v.budget <= 0:
            self.push((v.pidx + 1) * v.period, self.EV_PERIOD, v.idx, 0)
            self.limit(v, R_QUOTA)
            return
        v.qstamp += 1
        boundary = (v.pidx + 1) * v.period
        self.push(min(self.now + v.budget, boundary), self.EV_QUOTA, v.idx, v.qstamp)

    # ----------------------------------------------------------------------------------------
    # relaxed co-scheduling (skew)
    # ----------------------------------------------------------------------------------------
    def _progress(self, s: VCpu) -> int:
        """Co-scheduling progress: time spent running or idle (VMware counts idle as progress)."""
        p = s.acc[RUN] + s.acc[WAIT]
        if s.state == RUN or s.state == WAIT:
            p += self.now - s.since
        return p

    def _cos_view(self, vm: VMState) -> tuple[list[int], int, int, int, VCpu | None]:
        """Progress of every vCPU, the smallest among moving ones (RUN or WAIT), and the two
        smallest among stalled ones (RDY or CSTP) with the vCPU holding the smallest."""
        now = self.now
        prog = []
        m_mv = INF
        st1 = st2 = INF
        st1_v = None
        for s in vm.vcpus:
            st = s.state
            ps = s.acc[RUN] + s.acc[WAIT]
            if st == RUN or st == WAIT:
                ps += now - s.since
                if ps < m_mv:
                    m_mv = ps
            elif ps < st1:
                st2, st1, st1_v = st1, ps, s
            elif ps < st2:
                st2 = ps
            prog.append(ps)
        return prog, m_mv, st1, st2, st1_v

    @staticmethod
    def _may_costart(ps: int, s: VCpu, m_mv: int, st1: int, st2: int, st1_v) -> bool:
        """A co-stopped vCPU may run again once the slowest of its siblings is progressing
        (VMware: "once the slowest sibling vCPU starts progressing, the co-stopped vCPUs are
        eligible to co-start"), or once it is itself the slowest. A moving sibling tied with a
        stalled one does not count: the stalled one is then the slowest."""
        others = st2 if s is st1_v else st1
        return m_mv < others or ps <= min(m_mv, others)

    def _should_costop(self, vm: VMState, v: VCpu) -> bool:
        """Whether moving ``v`` leads its slowest sibling by the threshold while that sibling is
        stalled (when the slowest sibling progresses, the skew does not grow)."""
        prog, m_mv, st1, _, _ = self._cos_view(vm)
        return st1 <= m_mv and prog[v.n] - st1 >= self.skew

    def _skew_of(self, vm: VMState, v: VCpu) -> int:
        """How far ``v`` is ahead of its slowest sibling."""
        pv = self._progress(v)
        return pv - min(self._progress(s) for s in vm.vcpus)

    def _cosched_schedule(self, vm: VMState) -> None:
        """Push the next time the co-scheduler must act on ``vm`` (or nothing).

        Progress grows at rate 1 for RUN and WAIT vCPUs ("moving") and stays put for RDY and CSTP
        ("stalled"). A co-stopped vCPU may co-start as soon as the slowest sibling is moving (or
        it is itself the slowest): that changes only with a state change, so it is checked now.
        A running vCPU co-stops when the slowest sibling is stalled and the skew reaches the
        threshold: with st1 the smallest stalled progress and m_mv the smallest moving one, the
        slowest is stalled from dt = st1 - m_mv on, and the leader's skew p + dt - st1 reaches
        the threshold at dt = threshold - p + st1. Both times are exact integers.
        """
        vm.cstamp += 1
        prog, m_mv, st1, st2, st1_v = self._cos_view(vm)
        if st1 == INF:
            return  # nothing stalled: no skew can grow and nothing is co-stopped
        best = INF
        max_run = -1
        for s, ps in zip(vm.vcpus, prog):
            if s.state == RUN:
                if ps > max_run:
                    max_run = ps
            elif s.state == CSTP and self._may_costart(ps, s, m_mv, st1, st2, st1_v):
                best = 0
                break
        if best and max_run >= 0:
            best = max(0, st1 - m_mv, self.skew - max_run + st1)
        if best < INF:
            self.push(self.now + best, self.EV_COSCHED, vm.idx, vm.cstamp)

    def cosched_event(self, vm: VMState) -> None:
        """Co-stop leaders past the threshold; co-start vCPUs whose slowest sibling progresses."""
        prog, m_mv, st1, st2, st1_v = self._cos_view(vm)
        stop, go = [], []
        for s, ps in zip(vm.vcpus, prog):
            if s.state == RUN and st1 <= m_mv and ps - st1 >= self.skew:
                stop.append(s)
            elif s.state == CSTP and self._may_costart(ps, s, m_mv, st1, st2, st1_v):
                go.append(s)
        for s in stop:
            p = self.stop(s, CSTP)
            self.request(p, R_COSTOP, s)
        for s in go:
            # Co-started vCPUs queue like any ready vCPU and take an idle pCPU if there is one
            # ("scheduled depending on pCPU availability"); they preempt nobody, and in
            # particular not the slowest sibling whose progress let them go.
            self.set_state(s, RDY)
            if not s.limited:
                self.pol.on_ready(s)
                self.ready.add(s)
                if self.idle:
                    self.start(s, min(self.idle), R_COSTART)
        if not stop and not go and not vm.cdirty:
            vm.cdirty = True
            self.cdirty.append(vm)

    # ----------------------------------------------------------------------------------------
    # the main loop
    # ----------------------------------------------------------------------------------------
    def run(self) -> None:
        # Everything that has work starts READY at t=0, in VM order.
        for v in self.vcpus:
            if v.wl == WL_IDLE:
                continue
            self.make_ready(v)
        self.pol.start()
        for p in range(self.P):
            self.request(p, R_START)
        self.drain()
        for vm in self.cdirty:
            vm.cdirty = False
            self._cosched_schedule(vm)
        self.cdirty.clear()
        heap = self.heap
        end = self.end
        vcpus = self.vcpus
        pstamp = self.pstamp
        pop = heapq.heappop
        same, last = 0, -1
        limit_same = 100_000 + 1000 * self.P * len(self.vcpus)
        while heap:
            t, kind, _, a, b = heap[0]
            if t >= end:
                break
            pop(heap)
            if t == last:
                same += 1
                if same > limit_same:
                    raise RuntimeError(
                        f"the simulator handled {same} events at t={t} us without time moving on; "
                        "please report this configuration as a bug"
                    )
            else:
                same, last = 0, t
            self.now = t
            if kind == self.EV_SLICE:
                if b != pstamp[a] or self.cur[a] is None:
                    continue
                self.decide(a, R_SLICE)
            elif kind == self.EV_GUEST:
                v = vcpus[a]
                if b != v.gstamp or v.state != RUN:
                    continue
                self.guest_event(v)
            elif kind == self.EV_WAKE:
                v = vcpus[a]
                v.wake_at = t
                self.wake(v)
            elif kind == self.EV_TICK:
                self.pol.on_tick()
            elif kind == self.EV_ACCT:
                park, unpark = self.pol.on_acct()
                if self.detail:
                    self.notes.append((t, "acct: " + self.pol.acct_summary()))
                for v in park:
                    self.limit(v, R_CAP)
                for v in unpark:
                    self.unlimit(v)
            elif kind == self.EV_QUOTA:
                v = vcpus[a]
                if b != v.qstamp or v.state != RUN:
                    continue
                self.quota_event(v)
            elif kind == self.EV_PERIOD:
                v = vcpus[a]
                if v.limited:
                    self._refresh_quota(v)
                    self.unlimit(v)
            elif kind == self.EV_COSCHED:
                vm = self.vms[a]
                if b != vm.cstamp:
                    continue
                self.cosched_event(vm)
            if self.pending:
                self.drain()
            if self.cdirty:
                for vm in self.cdirty:
                    vm.cdirty = False
                    self._cosched_schedule(vm)
                self.cdirty.clear()
        self.now = end
        for v in self.vcpus:
            if v.state == RUN:
                self.charge(v)
                if v.wl == WL_SPIN and v.phase == PH_SPIN:
                    v.spin_us += end - v.spin_since
                self.timeline.append((v.pcpu, v.tl_start, end, v.idx))
            v.acc[v.state] += end - v.since
            v.since = end
        for vm in self.vms:
            self._lock_acc(vm)


def simulate(
    host: Host,
    vms: Sequence[VM],
    scheduler: str | SchedulerConfig = "credit",
    duration_ms: float = 10_000,
    seed: int = 0,
    *,
    coschedule: str = "none",
    skew_threshold_ms: float = 3.0,
    trace: bool = False,
) -> SimResult:
    """Simulate ``vms`` sharing ``host`` for ``duration_ms`` under ``scheduler``.

    ``scheduler`` is ``"rr"``, ``"credit"`` or ``"cfs"`` (defaults of :class:`RoundRobin`,
    :class:`Credit`, :class:`CFS`) or one of those objects with its own parameters, e.g.
    ``Credit(boost=False, ratelimit_us=0)``. ``coschedule`` is ``"none"``, ``"strict"`` or
    ``"relaxed"`` for multi-vCPU VMs (see :mod:`virtbook.cpu.engine`). ``seed`` drives every random
    draw of the guests through ``numpy.random.default_rng(seed)``: the same seed gives the same run.
    ``trace=True`` keeps a log of every scheduling decision, with each vCPU's scheduler state
    (credit, priority or vruntime), for :meth:`SimResult.trace`; without it only the metrics and
    the timeline are kept.

    The work is bounded: a run whose events (:func:`estimate_events`), weighted by how many
    vCPUs each event scans, exceed ``MAX_EVENTS`` (600,000, a few seconds), or with more than
    ``MAX_TOTAL_VCPUS`` vCPUs, is refused with a ValueError before it starts.

    >>> r = simulate(Host(pcpus=1), [VM("a"), VM("b", weight=512)], "credit", duration_ms=6000)
    >>> round(r.cpu_share["a"], 1), round(r.cpu_share["b"], 1)
    (0.3, 0.7)
    """
    if not isinstance(host, Host):
        raise ValueError(f"host must be a Host, got {host!r}")
    if isinstance(vms, VM):
        raise ValueError("vms must be a sequence of VM, got a single VM")
    if isinstance(vms, (str, bytes)) or not isinstance(vms, Iterable):
        raise ValueError(f"vms must be a sequence of VM, got {vms!r}")
    vms = list(vms)
    if not vms:
        raise ValueError("vms must contain at least 1 VM, got 0")
    names = set()
    for i, vm in enumerate(vms):
        if not isinstance(vm, VM):
            raise ValueError(f"vms[{i}] must be a VM, got {vm!r}")
        if vm.name in names:
            raise ValueError(f"vms must have unique names, got {vm.name!r} twice")
        names.add(vm.name)
    if isinstance(scheduler, str):
        check_choice("scheduler", scheduler, tuple(SCHEDULERS))
        config = SCHEDULERS[scheduler]()
    elif isinstance(scheduler, (RoundRobin, Credit, CFS)):
        config = scheduler
    else:
        raise ValueError(
            f"scheduler must be one of 'rr', 'credit', 'cfs' or a RoundRobin/Credit/CFS object, "
            f"got {scheduler!r}"
        )
    dur = check_real("duration_ms", duration_ms, 0.0, MAX_DURATION_MS, lo_open=True)
    duration_us = int(round(dur * 1000))
    if duration_us < 1:
        raise ValueError(f"duration_ms must be a number at least 0.001, got {duration_ms!r}")
    seed_v = check_int("seed", seed, 0)
    check_choice("coschedule", coschedule, COSCHEDULE_MODES)
    skew = check_real("skew_threshold_ms", skew_threshold_ms, 0.0, 1000.0, lo_open=True)
    check_bool("trace", trace)
    if coschedule == "strict":
        for vm in vms:
            if vm.vcpus > host.pcpus:
                raise ValueError(
                    f"vcpus of VM {vm.name!r} must be at most pcpus={host.pcpus} under strict "
                    f"co-scheduling (all its vCPUs must run at once), got {vm.vcpus}"
                )
    total_vcpus = sum(vm.vcpus for vm in vms)
    if total_vcpus > MAX_TOTAL_VCPUS:
        raise ValueError(f"vms must have at most {MAX_TOTAL_VCPUS} vCPUs in total, "
                         f"got {total_vcpus}")
    events = estimate_events(host, vms, config, dur, coschedule)
    events *= 1 + total_vcpus / VCPUS_PER_EVENT_COST  # each event scans the run queue
    if events > MAX_EVENTS:
        raise ValueError(
            f"duration_ms={dur:g} with these VMs would take about {events:,.0f} simulator events "
            f"(weighted by the {total_vcpus} vCPUs each event scans); the limit is "
            f"{MAX_EVENTS:,} (a few seconds of work): shorten duration_ms, use fewer vCPUs, or "
            f"lengthen the workloads' bursts (run_ms/block_ms, work_ms/critical_ms) or the "
            f"scheduler's slice; estimate_events() gives the count for a setup"
        )
    eng = Engine(host, vms, config, duration_us, seed_v, coschedule,
                 max(1, int(round(skew * 1000))), trace)
    eng.run()
    return SimResult.from_engine(eng, config, seed_v)


def _policy_rate_per_ms(config: SchedulerConfig, pcpus: int) -> float:
    """Slices and periodic events per millisecond that the scheduler itself causes, at most."""
    if isinstance(config, Credit):
        ticks = 3 if config.tslice_ms >= 3 else 1
        # a tick and an accounting pass for the host, a slice end per pCPU; a rate-limited
        # wake-up can cut a slice to ratelimit_us, which the workload terms below count.
        return ticks / config.tslice_ms + 1 / config.tslice_ms + pcpus / config.tslice_ms
    if isinstance(config, CFS):
        factor = 1 + int(np.log2(min(pcpus, 8)))
        gran = config.min_granularity_ms or 0.75 * factor
        return pcpus / gran
    return pcpus / config.quantum_ms


def estimate_events(
    host: Host,
    vms: Sequence[VM],
    scheduler: str | SchedulerConfig = "credit",
    duration_ms: float = 10_000,
    coschedule: str = "none",
) -> float:
    """An upper estimate of the events a :func:`simulate` run will process, before running it.

    Events come from the scheduler (credit's ticks and accounting, one slice end per pCPU per
    slice: ``tslice_ms``, CFS's ``min_granularity``, round robin's quantum) and from the guests:
    an I/O-bound vCPU changes phase twice per burst-and-wait cycle (``run_ms + block_ms``), a
    spinlock thread twice per ``work_ms + critical_ms``, and a CFS quota twice per
    ``period_us``. Each change queues at most ``EVENTS_PER_CHANGE`` events (re-armed slices, guest
    and quota events, co-scheduler checks). Cycles only get longer when a vCPU must wait for a
    pCPU, so the count is an upper estimate.

    >>> from virtbook.cpu import default_scenario
    >>> host, vms, kwargs = default_scenario()
    >>> round(estimate_events(host, vms, "credit", 10_000))
    44171
    """
    if isinstance(scheduler, str):
        check_choice("scheduler", scheduler, tuple(SCHEDULERS))
        config = SCHEDULERS[scheduler]()
    else:
        config = scheduler
    rate = _policy_rate_per_ms(config, host.pcpus)
    for vm in vms:
        wl = vm.workload
        per_vcpu = 0.0
        if isinstance(wl, IOBound):
            per_vcpu += 2.0 / (wl.run_ms + wl.block_ms)
        elif isinstance(wl, SpinLock):
            per_vcpu += 2.0 / (wl.work_ms + wl.critical_ms)
        if isinstance(config, CFS) and vm.quota_us > 0 and not isinstance(wl, Idle):
            per_vcpu += 2.0 / (vm.period_us / 1000.0)
        rate += vm.vcpus * per_vcpu
    return EVENTS_PER_CHANGE * rate * float(duration_ms)
