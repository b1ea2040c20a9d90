"""Internal building blocks of the vCPU simulator: states, per-vCPU records and samplers.

Times inside the simulator are integers in microseconds, so every event time is exact and a trace
can be checked by hand; results are reported in milliseconds.
"""
from __future__ import annotations

import numpy as np

# vCPU states, with esxtop's names (Broadcom KB 382249 "Using ESXTop and Interpreting ESXTop
# Statistics"; Broadcom KB 387750 on CPU ready: "%RUN + %RDY + %CSTP + %WAIT = 100%"):
RUN = 0  # on a pCPU
RDY = 1  # runnable, waiting for a pCPU (includes time held back by a cap or quota: esxtop %MLMTD)
CSTP = 2  # runnable, held back by the co-scheduler until its siblings catch up (co-stop)
WAIT = 3  # blocked on I/O or idle (halted)
STATE_NAMES = ("RUN", "RDY", "CSTP", "WAIT")

# Guest workload kinds.
WL_CPU, WL_IDLE, WL_IO, WL_SPIN = 0, 1, 2, 3
# Phases of a spinlock thread.
PH_WORK, PH_SPIN, PH_CS = 0, 1, 2

# Reasons recorded with each scheduling decision (shown by SimResult.trace()).
R_START, R_SLICE, R_BLOCK, R_WAKE, R_RATELIMIT, R_CAP, R_QUOTA, R_COSTOP, R_COSTART, R_RESERVE, \
    R_RELEASE = range(11)
REASONS = ("start", "slice", "block", "wake", "ratelimit", "cap", "quota", "costop", "costart",
           "reserve", "release")

INF = 1 << 62


class Sampler:
    """Draws positive integer durations (microseconds) with a given mean from one generator.

    Draws come in batches so a long run does not pay numpy's per-call overhead on every burst.
    """

    __slots__ = ("_rng", "_mean", "_kind", "_buf", "_i")

    BATCH = 256

    def __init__(self, rng: np.random.Generator, mean_us: float, kind: str) -> None:
        self._rng = rng
        self._mean = float(mean_us)
        self._kind = kind
        self._buf: list[int] = []
        self._i = 0

    def next(self) -> int:
        if self._kind == "constant":
            return max(1, int(round(self._mean)))
        if self._i >= len(self._buf):
            if self._kind == "exponential":
                raw = self._rng.exponential(self._mean, size=self.BATCH)
            else:  # uniform on 0..2 x mean
                raw = self._rng.uniform(0.0, 2.0 * self._mean, size=self.BATCH)
            self._buf = np.maximum(1, np.rint(raw)).astype(np.int64).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value


class VCpu:
    """Everything the simulator tracks about one vCPU (a plain record, for speed)."""

    __slots__ = (
        # identity
        "idx", "vm", "n", "name",
        # state accounting
        "state", "since", "acc", "pcpu", "run_start", "tl_start", "switches", "wake_at",
        "key", "limited",
        # guest workload
        "wl", "remaining", "phase", "gstamp", "s_a", "s_b", "spin_since", "spin_us",
        # credit scheduler
        "credit", "residual", "pri", "active", "parked", "seq",
        # CFS
        "vruntime",
        # CFS bandwidth control
        "quota", "period", "budget", "pidx", "qstamp",
    )

    def __init__(self, idx: int, vm: int, n: int, name: str) -> None:
        self.idx = idx
        self.vm = vm
        self.n = n
        self.name = name
        self.state = WAIT
        self.since = 0
        self.acc = [0, 0, 0, 0]
        self.pcpu = -1
        self.run_start = 0
        self.tl_start = 0
        self.switches = 0
        self.wake_at = -1
        self.key = 0
        self.limited = False
        self.wl = WL_CPU
        self.remaining = -1
        self.phase = PH_WORK
        self.gstamp = 0
        self.s_a: Sampler | None = None
        self.s_b: Sampler | None = None
        self.spin_since = 0
        self.spin_us = 0
        self.credit = 0
        self.residual = 0
        self.pri = -1
        self.active = False
        self.parked = False
        self.seq = 0
        self.vruntime = 0.0
        self.quota = -1
        self.period = 100_000
        self.budget = 0
        self.pidx = -1
        self.qstamp = 0

    def __repr__(self) -> str:
        return f"<vCPU {self.name} {STATE_NAMES[self.state]}>"


class VMState:
    """Per-VM simulator state: its vCPUs, co-scheduling bookkeeping and its guest spinlock."""

    __slots__ = (
        "idx", "name", "spec", "vcpus", "multi", "cstamp", "gang_wait", "nrun", "spin", "cos",
        "cdirty",
        "holder", "spinners", "lock_last", "lhp_factor", "lhp_us", "lock_acquires",
        "latencies",
    )

    def __init__(self, idx: int, spec) -> None:  # spec: model.VM
        self.idx = idx
        self.name = spec.name
        self.spec = spec
        self.vcpus: list[VCpu] = []
        self.multi = spec.vcpus > 1
        self.cstamp = 0
        self.gang_wait = False
        self.nrun = 0  # vCPUs running or queued (not held by a cap/quota): CFS shares the weight
        self.spin = False  # guest runs a SpinLock workload
        self.cos = False  # relaxed co-scheduling applies (more than one vCPU)
        self.cdirty = False
        self.holder: VCpu | None = None
        self.spinners: list[VCpu] = []
        self.lock_last = 0
        self.lhp_factor = 0
        self.lhp_us = 0
        self.lock_acquires = 0
        self.latencies: list[int] = []
