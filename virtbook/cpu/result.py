"""The outcome of one :func:`virtbook.cpu.simulate` run, with esxtop-style metrics.

State percentages follow esxtop's CPU panel (Broadcom KB 382249 "Using ESXTop and Interpreting
ESXTop Statistics"; Broadcom KB 387750 "Understanding the CPU ready values in the vSphere Client
advanced performance charts"): every vCPU is always in exactly one of

* %RUN  - running on a pCPU;
* %RDY  - runnable but waiting for a pCPU; this includes time held back by a cap (credit) or a
  quota (CFS bandwidth control), which esxtop breaks out as %MLMTD inside %RDY;
* %CSTP - runnable but co-stopped by the co-scheduler, waiting for its siblings;
* %WAIT - blocked on I/O or idle,

so "%RUN + %RDY + %CSTP + %WAIT = 100%" for each vCPU. esxtop's row for a whole VM adds its vCPUs
up (up to 100 x vCPUs); the per-VM dictionaries here average them instead, so each stays in 0..100
and the four still sum to 100. Multiply by ``vcpus`` to compare with an esxtop group row.

Steal time is what the guest itself sees: the time its vCPU was runnable but did not run. Xen's
guest steal clock is RUNSTATE_runnable + RUNSTATE_offline (Linux arch/x86/xen/time.c,
``xen_steal_clock``); KVM reports the vCPU thread's run delay on the host (``record_steal_time``
in arch/x86/kvm/x86.c, ``sched_info.run_delay``). KVM and Xen do not co-schedule, so for them it
corresponds to %RDY; the simulator's ``steal_pct`` is %RDY + %CSTP, counting co-stopped time, which
a co-scheduling hypervisor takes from the guest in the same way.
"""
from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np

from .._validate import check_int
from ._core import CSTP, RDY, REASONS, RUN, STATE_NAMES, WAIT


class Slice(NamedTuple):
    """One stretch of time a vCPU spent on a pCPU (times in ms)."""

    pcpu: int
    start_ms: float
    end_ms: float
    vm: str
    vcpu: int


class SimResult:
    """Metrics, timeline and trace of one simulation.

    Dictionaries are keyed by VM name (``r.cpu_share["web"]``) or, for ``vcpu_*``, by vCPU name
    (``"web.0"``). Arrays and dictionaries are computed on first access.
    """

    def __init__(
        self,
        *,
        scheduler: str,
        config,
        coschedule: str,
        seed: int,
        duration_us: int,
        pcpus: int,
        vm_names: tuple[str, ...],
        vm_vcpus: tuple[int, ...],
        vcpu_names: tuple[str, ...],
        vcpu_vm: np.ndarray,
        state_us: np.ndarray,
        switches: np.ndarray,
        spin_us: np.ndarray,
        lhp_us: np.ndarray,
        lock_acquires: np.ndarray,
        latencies_us: list[list[int]],
        timeline_raw: list[tuple[int, int, int, int]],
        decisions: list[tuple],
        notes: list[tuple[int, str]],
    ) -> None:
        self.scheduler = scheduler
        self.config = config
        self.coschedule = coschedule
        self.seed = seed
        self.duration_ms = duration_us / 1000.0
        self.pcpus = pcpus
        self.vm_names = vm_names
        self.vm_vcpus = vm_vcpus
        self.vcpu_names = vcpu_names
        self.vcpu_vm = vcpu_vm
        self._state_us = state_us
        self.state_ms = state_us / 1000.0
        """Array (n_vcpus, 4): milliseconds each vCPU spent in RUN, RDY, CSTP, WAIT."""
        self.switches = switches
        self._spin_us = spin_us
        self._lhp_us = lhp_us
        self._lock_acquires = lock_acquires
        self._latencies_us = latencies_us
        self._timeline_raw = timeline_raw
        self._decisions = decisions
        self._notes = notes

    @classmethod
    def from_engine(cls, eng, config, seed: int) -> "SimResult":
        vcpus = eng.vcpus
        return cls(
            scheduler=eng.pol.name,
            config=config,
            coschedule=eng.coschedule,
            seed=seed,
            duration_us=eng.end,
            pcpus=eng.P,
            vm_names=tuple(vm.name for vm in eng.vms),
            vm_vcpus=tuple(len(vm.vcpus) for vm in eng.vms),
            vcpu_names=tuple(v.name for v in vcpus),
            vcpu_vm=np.fromiter((v.vm for v in vcpus), dtype=np.int64, count=len(vcpus)),
            state_us=np.array([v.acc for v in vcpus], dtype=np.int64).reshape(len(vcpus), 4),
            switches=np.fromiter((v.switches for v in vcpus), dtype=np.int64, count=len(vcpus)),
            spin_us=np.fromiter((v.spin_us for v in vcpus), dtype=np.float64, count=len(vcpus)),
            lhp_us=np.array([vm.lhp_us for vm in eng.vms], dtype=np.float64),
            lock_acquires=np.array([vm.lock_acquires for vm in eng.vms], dtype=np.int64),
            latencies_us=[vm.latencies for vm in eng.vms],
            timeline_raw=eng.timeline,
            decisions=eng.decisions,
            notes=eng.notes,
        )

    # -- per-vCPU percentages ----------------------------------------------------------------
    @cached_property
    def state_pct(self) -> np.ndarray:
        """Array (n_vcpus, 4): %RUN, %RDY, %CSTP, %WAIT of each vCPU (rows sum to 100)."""
        return 100.0 * self.state_ms / self.duration_ms

    def _per_vcpu(self, col: int) -> dict[str, float]:
        return {n: float(x) for n, x in zip(self.vcpu_names, self.state_pct[:, col])}

    @cached_property
    def vcpu_run_pct(self) -> dict[str, float]:
        return self._per_vcpu(RUN)

    @cached_property
    def vcpu_ready_pct(self) -> dict[str, float]:
        return self._per_vcpu(RDY)

    @cached_property
    def vcpu_costop_pct(self) -> dict[str, float]:
        return self._per_vcpu(CSTP)

    @cached_property
    def vcpu_wait_pct(self) -> dict[str, float]:
        return self._per_vcpu(WAIT)

    @cached_property
    def vcpu_cpu_share(self) -> dict[str, float]:
        """CPU time of each vCPU as a fraction of one pCPU."""
        share = self.state_ms[:, RUN] / self.duration_ms
        return {n: float(x) for n, x in zip(self.vcpu_names, share)}

    @cached_property
    def vcpu_context_switches(self) -> dict[str, int]:
        """How many times each vCPU was switched onto a pCPU."""
        return {n: int(x) for n, x in zip(self.vcpu_names, self.switches)}

    @cached_property
    def vcpu_steal_pct(self) -> dict[str, float]:
        pct = self.state_pct
        return {n: float(x) for n, x in zip(self.vcpu_names, pct[:, RDY] + pct[:, CSTP])}

    # -- per-VM metrics ------------------------------------------------------------------------
    @cached_property
    def _vm_mean_pct(self) -> np.ndarray:
        n_vms = len(self.vm_names)
        sums = np.zeros((n_vms, 4))
        np.add.at(sums, self.vcpu_vm, self.state_pct)
        return sums / np.asarray(self.vm_vcpus, dtype=float)[:, None]

    def _per_vm(self, values) -> dict[str, float]:
        return {n: float(x) for n, x in zip(self.vm_names, values)}

    @cached_property
    def cpu_share(self) -> dict[str, float]:
        """CPU time each VM got, as a fraction of one pCPU (a 2-vCPU VM can reach 2.0)."""
        run = np.zeros(len(self.vm_names))
        np.add.at(run, self.vcpu_vm, self.state_ms[:, RUN])
        return self._per_vm(run / self.duration_ms)

    @cached_property
    def run_pct(self) -> dict[str, float]:
        """Mean %RUN over the VM's vCPUs."""
        return self._per_vm(self._vm_mean_pct[:, RUN])

    @cached_property
    def ready_pct(self) -> dict[str, float]:
        """Mean %RDY over the VM's vCPUs (includes time held back by a cap or quota)."""
        return self._per_vm(self._vm_mean_pct[:, RDY])

    @cached_property
    def costop_pct(self) -> dict[str, float]:
        """Mean %CSTP over the VM's vCPUs."""
        return self._per_vm(self._vm_mean_pct[:, CSTP])

    @cached_property
    def wait_pct(self) -> dict[str, float]:
        """Mean %WAIT over the VM's vCPUs."""
        return self._per_vm(self._vm_mean_pct[:, WAIT])

    @cached_property
    def steal_pct(self) -> dict[str, float]:
        """Steal time as the guest sees it (its ``top`` %st): mean %RDY + %CSTP over its vCPUs."""
        m = self._vm_mean_pct
        return self._per_vm(m[:, RDY] + m[:, CSTP])

    @cached_property
    def wake_latency_ms(self) -> dict[str, np.ndarray]:
        """Wake-to-run latency samples (ms): from an I/O completion until the vCPU runs."""
        return {
            n: np.asarray(lat, dtype=np.float64) / 1000.0
            for n, lat in zip(self.vm_names, self._latencies_us)
        }

    @cached_property
    def context_switches(self) -> dict[str, int]:
        """How many times a vCPU of the VM was switched onto a pCPU."""
        out = np.zeros(len(self.vm_names), dtype=np.int64)
        np.add.at(out, self.vcpu_vm, self.switches)
        return {n: int(x) for n, x in zip(self.vm_names, out)}

    @cached_property
    def spin_ms(self) -> dict[str, float]:
        """CPU time the VM's threads burned spinning on its guest lock (SpinLock workloads)."""
        out = np.zeros(len(self.vm_names))
        np.add.at(out, self.vcpu_vm, self._spin_us / 1000.0)
        return self._per_vm(out)

    @cached_property
    def lhp_spin_ms(self) -> dict[str, float]:
        """Spinning done while the lock holder was descheduled (lock-holder preemption's cost)."""
        return self._per_vm(self._lhp_us / 1000.0)

    @cached_property
    def lock_acquisitions(self) -> dict[str, int]:
        """How many critical sections the VM's threads entered (its useful work)."""
        return {n: int(x) for n, x in zip(self.vm_names, self._lock_acquires)}

    @property
    def total_run_ms(self) -> float:
        """CPU time used by all vCPUs together; never more than pCPUs x duration."""
        return int(self._state_us[:, RUN].sum()) / 1000.0

    # -- timeline and trace --------------------------------------------------------------------
    @cached_property
    def timeline(self) -> list[Slice]:
        """Every stretch a vCPU ran: ``Slice(pcpu, start_ms, end_ms, vm, vcpu)``, by start time."""
        names = self.vm_names
        vm_of = self.vcpu_vm
        n_of = [int(name.rsplit(".", 1)[1]) for name in self.vcpu_names]
        rows = sorted(self._timeline_raw, key=lambda r: (r[1], r[0]))
        return [
            Slice(p, s / 1000.0, e / 1000.0, names[vm_of[i]], n_of[i]) for p, s, e, i in rows
        ]

    def timeline_array(self) -> np.ndarray:
        """The timeline as an array (n, 5) of pcpu, start_ms, end_ms, vm index, vcpu index."""
        if not self._timeline_raw:
            return np.zeros((0, 5))
        raw = np.array(sorted(self._timeline_raw, key=lambda r: (r[1], r[0])), dtype=np.float64)
        vm_idx = self.vcpu_vm[raw[:, 3].astype(np.int64)]
        n_idx = np.array([int(n.rsplit(".", 1)[1]) for n in self.vcpu_names])[
            raw[:, 3].astype(np.int64)
        ]
        return np.column_stack([raw[:, 0], raw[:, 1] / 1000, raw[:, 2] / 1000, vm_idx, n_idx])

    def trace(self, limit: int | None = None) -> str:
        """One line per scheduling decision: time, pCPU, who leaves, who runs next, and why.

        Reasons: start (t=0), slice (timeslice over), block (guest waits for I/O), wake (a
        waking vCPU preempts), ratelimit (credit keeps the current vCPU until it has run
        ``ratelimit_us``), cap / quota (a cap or CFS quota stops the vCPU), costop,
        costart, reserve (strict co-scheduling holds the pCPU idle for a VM), release. Each line
        ends with the scheduler's view of the vCPUs
        involved, and credit accounting adds an ``acct`` line every timeslice. The log is kept only
        when the run was asked for it (``simulate(..., trace=True)``); otherwise this raises a
        ValueError that says so.
        """
        if limit is not None:
            limit = check_int("limit", limit, 0)
        if not self._decisions:
            raise ValueError(
                "this run kept no trace: run simulate(..., trace=True) to log every decision"
            )
        names = self.vcpu_names
        events: list[tuple[int, int, str]] = []
        for t, p, prev, nxt, reason, note in self._decisions:
            a = names[prev] if prev >= 0 else "idle"
            b = names[nxt] if nxt >= 0 else "idle"
            line = f"{t / 1000:10.3f} ms  pCPU{p}  {a:>8} -> {b:<8} {REASONS[reason]}"
            if note:
                line += f"  [{note}]"
            events.append((t, 1, line))
        for t, text in self._notes:
            events.append((t, 0, f"{t / 1000:10.3f} ms  {text}"))
        events.sort(key=lambda e: (e[0], e[1]))
        lines = [e[2] for e in events]
        if limit is not None:
            lines = lines[:limit]
        return "\n".join(lines)

    def summary(self) -> str:
        """An esxtop-like table: one row per VM (means over its vCPUs), as text."""
        head = f"{'VM':<12}{'share':>7}{'%RUN':>7}{'%RDY':>7}{'%CSTP':>7}{'%WAIT':>7}{'%steal':>8}"
        rows = [head]
        for n in self.vm_names:
            rows.append(
                f"{n:<12}{self.cpu_share[n]:7.2f}{self.run_pct[n]:7.1f}{self.ready_pct[n]:7.1f}"
                f"{self.costop_pct[n]:7.1f}{self.wait_pct[n]:7.1f}{self.steal_pct[n]:8.1f}"
            )
        return "\n".join(rows)

    def __repr__(self) -> str:
        return (
            f"<SimResult {self.scheduler} {len(self.vm_names)} VMs on {self.pcpus} pCPUs, "
            f"{self.duration_ms:g} ms, coschedule={self.coschedule}>"
        )


__all__ = ["SimResult", "Slice", "STATE_NAMES"]
