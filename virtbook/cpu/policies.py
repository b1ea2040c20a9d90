"""The scheduling policies the simulator can run: round robin, Xen credit1 and Linux CFS.

Each policy decides three things for the engine in :mod:`virtbook.cpu.engine`: the order of the
run queue (a numeric ``key`` per vCPU, smaller runs first), how long a vCPU may run once picked
(its slice), and whether a vCPU that wakes up may preempt one that is running. The engine keeps one
global run queue for all pCPUs; it stands in for the per-pCPU queues plus load balancing (credit1's
work stealing in ``csched_load_balance``, CFS's periodic balancing) that real hypervisors use.

Xen credit1 follows xen/common/sched/credit.c (Emmanuel Ackaouy, XenSource, 2005-2006):

* priorities BOOST (0) > UNDER (-1) > OVER (-2) (``CSCHED_PRI_TS_*``); within a priority the queue
  is FIFO (``__runq_insert`` puts a vCPU after all of equal priority);
* credits: 10 per ms of CPU (``CSCHED_CREDITS_PER_MSEC``), burned exactly from run time with a
  remainder carried over (``burn_credits``); every timeslice ``csched_acct`` shares
  ``credits_per_tslice x pCPUs`` among *active* vCPUs in proportion to their domain's weight, caps
  the share of capped domains, sets OVER when credit < 0 and UNDER otherwise, parks (pauses) a vCPU
  of a capped domain whose credit fell below minus its per-vCPU cap, unparks it when credit is
  back to 0 or more, and retires a vCPU whose credit exceeds one timeslice's worth (halving it);
* every tick (``csched_tick``, tslice / 3) the running vCPU is charged, loses BOOST, and becomes
  active if it was not;
* a vCPU that wakes while UNDER (and is not parked) becomes BOOST (``csched_unit_wake``) and is
  run at once if a pCPU is idle or runs something of lower priority (``__runq_tickle``);
* rate limiting (``csched_schedule``): a vCPU that has run for less than ``ratelimit_us`` keeps the
  pCPU until it has, so wake-up preemption waits at most that long.

Linux CFS follows Documentation/scheduler/sched-design-CFS.rst and kernel/sched/fair.c before
EEVDF (Linux 6.6 replaced the pick rule with EEVDF; the weights and bandwidth control are the same):

* each thread's vruntime grows by runtime x 1024 / weight, and the smallest vruntime runs next;
* a VM is a cgroup whose ``cpu.weight`` W maps to a scheduler weight W x 1024 / 100 and is shared by
  its runnable vCPU threads (group scheduling);
* a slice is ``sched_latency`` (or ``nr x min_granularity`` above ``sched_nr_latency`` = 8 threads
  per CPU) times the thread's share of the CPU's load, at least ``min_granularity``;
* a waking thread's vruntime is raised to at least ``min_vruntime - sched_latency / 2``
  (``place_entity`` with GENTLE_FAIR_SLEEPERS) and it preempts a running thread whose vruntime is
  larger by more than ``wakeup_granularity`` (``check_preempt_wakeup``).
"""
from __future__ import annotations

import math

from ._core import RDY, VCpu

# Credit priorities (xen/common/sched/credit.c).
BOOST, UNDER, OVER = 0, -1, -2
PRI_NAMES = {BOOST: "BOOST", UNDER: "UNDER", OVER: "OVER"}
CREDITS_PER_MSEC = 10
TICKS_PER_TSLICE = 3
_BIG = 1 << 44
#: Weight of a nice-0 task, sched_prio_to_weight[20] (kernel/sched/sched.h NICE_0_LOAD, before
#: the 64-bit fixed-point scaling): vruntime grows by runtime x NICE_0_LOAD / weight.
NICE_0_LOAD = 1024


class Policy:
    """Interface the engine calls; the default methods describe a policy with no extras."""

    name = "policy"
    ratelimit_us = 0

    def __init__(self, eng) -> None:
        self.eng = eng

    def start(self) -> None:
        """Schedule the policy's own periodic events (credit's tick and accounting)."""

    def on_ready(self, v: VCpu) -> None:
        """``v`` joins the run queue (after waking or being preempted): set its ``key``."""
        raise NotImplementedError

    def on_wake(self, v: VCpu) -> None:
        """``v`` woke from I/O: adjust its priority or virtual time before it is queued."""

    def on_unthrottle(self, v: VCpu) -> None:
        """The cap or quota that held ``v`` back was lifted: adjust it before it is queued.

        Xen's credit1 unparks a capped vCPU quietly (no BOOST), so the default does nothing.
        """

    def on_run(self, v: VCpu) -> int:
        """``v`` is about to run: return its slice in microseconds."""
        raise NotImplementedError

    def charge(self, v: VCpu, ran: int) -> None:
        """``v`` ran for ``ran`` microseconds since it was last charged."""

    def running_key(self, v: VCpu) -> float:
        """The key ``v`` would have if it were queued now (used to compare with running vCPUs)."""
        return v.key

    def preempts(self, new: VCpu, running: VCpu) -> bool:
        """May ``new`` (waking, or a gang being co-started) take the pCPU of ``running``?"""
        return False

    def describe(self, v: VCpu) -> str:
        """A short note on ``v``'s scheduler state for the trace."""
        return ""


class RoundRobinPolicy(Policy):
    """One FIFO queue, a fixed quantum, no priorities and no wake-up preemption."""

    name = "rr"

    def __init__(self, eng, cfg) -> None:
        super().__init__(eng)
        self.quantum = int(round(cfg.quantum_ms * 1000))
        self.seq = 0

    def on_ready(self, v: VCpu) -> None:
        self.seq += 1
        v.key = self.seq

    def on_run(self, v: VCpu) -> int:
        return self.quantum


class CreditPolicy(Policy):
    """Xen credit1 (see the module docstring for what is modelled and where it comes from)."""

    name = "credit"

    def __init__(self, eng, cfg) -> None:
        super().__init__(eng)
        self.tslice = cfg.tslice_ms * 1000
        ticks = TICKS_PER_TSLICE if cfg.tslice_ms >= TICKS_PER_TSLICE else 1
        self.tick = cfg.tslice_ms * 1000 // ticks
        self.credits_per_tslice = CREDITS_PER_MSEC * cfg.tslice_ms
        self.ratelimit_us = cfg.ratelimit_us
        self.boost = cfg.boost
        self.seq = 0
        self.weight_total = 0  # prv->weight: domain weight summed over active vCPUs
        self.credit_balance = 0
        self.active_sdom: list[int] = []  # domains with active vCPUs, most recently added first
        self.dom_active: list[list[VCpu]] = [[] for _ in eng.vms]

    # -- queue order ------------------------------------------------------------------------
    def _set_key(self, v: VCpu) -> None:
        v.key = (-v.pri) * _BIG + v.seq

    def on_ready(self, v: VCpu) -> None:
        self.seq += 1
        v.seq = self.seq
        self._set_key(v)

    def on_wake(self, v: VCpu) -> None:
        if self.boost and v.pri == UNDER and not v.parked:
            v.pri = BOOST

    def on_run(self, v: VCpu) -> int:
        return self.tslice

    def charge(self, v: VCpu, ran: int) -> None:
        if ran > 0:
            val = ran * CREDITS_PER_MSEC + v.residual
            v.credit -= val // 1000
            v.residual = val % 1000

    def running_key(self, v: VCpu) -> float:
        return (-v.pri) * _BIG

    def preempts(self, new: VCpu, running: VCpu) -> bool:
        return new.pri > running.pri

    def describe(self, v: VCpu) -> str:
        flags = "" if v.active else " inactive"
        if v.parked:
            flags += " parked"
        return f"{v.name} {PRI_NAMES[v.pri]} credit={v.credit}{flags}"

    # -- periodic events ----------------------------------------------------------------------
    def start(self) -> None:
        self.eng.push(self.tick, self.eng.EV_TICK, 0, 0)
        self.eng.push(self.tslice, self.eng.EV_ACCT, 0, 0)

    def _acct_start(self, v: VCpu) -> None:
        v.active = True
        dom = self.dom_active[v.vm]
        dom.append(v)
        self.weight_total += self.eng.vms[v.vm].spec.weight
        if len(dom) == 1:
            self.active_sdom.insert(0, v.vm)

    def _acct_stop(self, v: VCpu) -> None:
        v.active = False
        dom = self.dom_active[v.vm]
        dom.remove(v)
        self.weight_total -= self.eng.vms[v.vm].spec.weight
        if not dom:
            self.active_sdom.remove(v.vm)

    def on_tick(self) -> None:
        """``csched_tick`` on every busy pCPU: charge, drop BOOST, make the vCPU active."""
        eng = self.eng
        for v in eng.cur:
            if v is None:
                continue
            if v.pri == BOOST:
                v.pri = UNDER
            eng.charge(v)
            if not v.active:
                self._acct_start(v)
        eng.push(eng.now + self.tick, eng.EV_TICK, 0, 0)

    def on_acct(self) -> tuple[list[VCpu], list[VCpu]]:
        """``csched_acct``: hand out credits; return the vCPUs to park and to unpark."""
        eng = self.eng
        eng.push(eng.now + self.tslice, eng.EV_ACCT, 0, 0)
        park: list[VCpu] = []
        unpark: list[VCpu] = []
        cpt = self.credits_per_tslice
        weight_total = self.weight_total
        credit_total = cpt * eng.P
        if self.credit_balance < 0:
            credit_total -= self.credit_balance
        if weight_total == 0:
            self.credit_balance = 0
            return park, unpark
        weight_left = weight_total
        credit_balance = 0
        credit_xtra = False
        credit_cap = 0
        for d in list(self.active_sdom):
            spec = eng.vms[d].spec
            active = self.dom_active[d]
            n = len(active)
            weight_left -= spec.weight * n
            credit_peak = n * cpt
            if self.credit_balance < 0:
                credit_peak += _ceil_div(-self.credit_balance * spec.weight * n, weight_total)
            if spec.cap:
                credit_cap = _ceil_div(spec.cap * cpt, 100)
                if credit_cap < credit_peak:
                    credit_peak = credit_cap
                credit_cap = _ceil_div(credit_cap, n)
            credit_fair = _ceil_div(credit_total * spec.weight * n, weight_total)
            if credit_fair < credit_peak:
                credit_xtra = True
            else:
                if weight_left:
                    spare = (credit_fair - credit_peak) * weight_total
                    credit_total += _ceil_div(spare, weight_left)
                if credit_xtra:
                    self.active_sdom.remove(d)
                    self.active_sdom.insert(0, d)
                credit_fair = credit_peak
            credit_fair = _ceil_div(credit_fair, n)
            for v in list(active):
                v.credit += credit_fair
                if v.credit < 0:
                    v.pri = OVER
                    if spec.cap and v.credit < -credit_cap and not v.parked:
                        v.parked = True
                        park.append(v)
                    if v.credit < -cpt:
                        v.credit = -cpt
                else:
                    v.pri = UNDER
                    if v.parked:
                        v.parked = False
                        unpark.append(v)
                    if v.credit > cpt:
                        self._acct_stop(v)
                        v.credit //= 2
                credit_balance += v.credit
                if v.state == RDY:
                    self._set_key(v)
        self.credit_balance = credit_balance
        return park, unpark

    def acct_summary(self) -> str:
        parts = []
        for vm in self.eng.vms:
            for v in vm.vcpus:
                parts.append(self.describe(v))
        return "; ".join(parts)


class CFSPolicy(Policy):
    """Linux CFS with group scheduling (see the module docstring)."""

    name = "cfs"

    def __init__(self, eng, cfg) -> None:
        super().__init__(eng)
        factor = 1 + int(math.log2(min(eng.P, 8)))
        self.latency = _us(cfg.sched_latency_ms, 6000 * factor)
        self.min_gran = _us(cfg.min_granularity_ms, 750 * factor)
        self.wake_gran = _us(cfg.wakeup_granularity_ms, 1000 * factor)
        self.nr_latency = max(1, self.latency // max(1, self.min_gran))
        self.kweight = eng.kweight
        self.min_vruntime = 0.0

    def eff_weight(self, v: VCpu) -> float:
        vm = self.eng.vms[v.vm]
        return self.kweight[v.vm] / (vm.nrun if vm.nrun > 1 else 1)

    def on_ready(self, v: VCpu) -> None:
        v.key = v.vruntime

    def on_unthrottle(self, v: VCpu) -> None:
        """Place ``v`` as a waking task: in the kernel, unthrottle_cfs_rq() enqueues the group
        entity with ENQUEUE_WAKEUP, so place_entity() limits how far behind min_vruntime a
        group that sat out its period can be. Without this a throttled group would come back
        with the vruntime it had before, run its whole quota in one burst at every refill and
        lock its neighbours out (kernel/sched/fair.c, unthrottle_cfs_rq and place_entity)."""
        self.on_wake(v)

    def _current_vr(self, v: VCpu) -> float:
        return v.vruntime + (self.eng.now - v.run_start) * NICE_0_LOAD / self.eff_weight(v)

    def on_wake(self, v: VCpu) -> None:
        eng = self.eng
        lowest = math.inf
        for r in eng.cur:
            if r is not None:
                lowest = min(lowest, self._current_vr(r))
        for r in eng.ready:
            if r.vruntime < lowest:
                lowest = r.vruntime
        if lowest != math.inf and lowest > self.min_vruntime:
            self.min_vruntime = lowest
        floor = self.min_vruntime - self.latency / 2
        if v.vruntime < floor:
            v.vruntime = floor

    def on_run(self, v: VCpu) -> int:
        eng = self.eng
        total_w = eng.w_active
        per_cpu_nr = max(1, -(-eng.nrun // eng.P))
        period = self.latency if per_cpu_nr <= self.nr_latency else per_cpu_nr * self.min_gran
        share = self.eff_weight(v) * eng.P / total_w if total_w else 1.0
        return int(max(self.min_gran, min(period, period * share)))

    def charge(self, v: VCpu, ran: int) -> None:
        if ran > 0:
            v.vruntime += ran * NICE_0_LOAD / self.eff_weight(v)
            v.key = v.vruntime

    def running_key(self, v: VCpu) -> float:
        return self._current_vr(v)

    def preempts(self, new: VCpu, running: VCpu) -> bool:
        gran = self.wake_gran * NICE_0_LOAD / self.eff_weight(new)
        return self._current_vr(running) - new.vruntime > gran

    def describe(self, v: VCpu) -> str:
        return f"{v.name} vruntime={v.vruntime / 1000:.3f}ms"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _us(value_ms: float | None, default_us: int) -> int:
    return default_us if value_ms is None else max(1, int(round(value_ms * 1000)))


def make_policy(eng, cfg) -> Policy:
    """Build the policy object for a scheduler configuration from :mod:`virtbook.cpu.model`."""
    from .model import CFS, Credit, RoundRobin

    if isinstance(cfg, Credit):
        return CreditPolicy(eng, cfg)
    if isinstance(cfg, CFS):
        return CFSPolicy(eng, cfg)
    if isinstance(cfg, RoundRobin):
        return RoundRobinPolicy(eng, cfg)
    raise ValueError(f"scheduler must be 'rr', 'credit', 'cfs' or a config object, got {cfg!r}")
