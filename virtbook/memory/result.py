"""What a run returns: time series per VM and for the host, summaries, and a printable trace.

Memory is reported in MB (1 MB = 256 pages of 4 KiB, so every value is an exact binary
fraction and sums add up exactly). The libvirt-like counters are in KiB, as ``virsh dommemstat``
prints them.

Two notions of "resident" appear, on purpose:

* ``timeline[vm]["rss_mb"]`` charges every host page to exactly one VM (a KSM page to one of the
  VMs mapping it), so that ``sum(rss_mb) + host_free_mb == host RAM`` at every step;
* ``dommemstat[...]["rss"]`` is what Linux reports as the QEMU process's resident set: a merged
  page counts once in *every* process that maps it, so these values can add up to more than the
  host's RAM. libvirt documents ``rss`` as "Resident Set Size of the running domain's process".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .._validate import check_choice, check_int, check_real
from .config import Host, VM
from .policy import STATE_NAMES

#: Per-VM series in ``Result.timeline`` (all MB except ``slowdown``).
VM_FIELDS = (
    "rss_mb", "balloon_mb", "shared_mb", "compressed_mb", "swapped_mb", "swap_in_mb",
    "footprint_mb", "active_mb", "slowdown",
)
#: Fields of the libvirt-like memory statistics (KiB, except ``major_fault``, a count).
DOMMEMSTAT_FIELDS = ("actual", "rss", "swap_in", "swap_out", "major_fault", "unused", "available")


@dataclass
class Result:
    """Everything a run of :func:`virtbook.memory.simulate` produced.

    Series are numpy arrays over ``t_s`` (one entry per time step, taken at the end of the step).

    * ``timeline[vm]`` - per-VM series in MB: ``rss_mb`` (host memory charged to the VM),
      ``balloon_mb`` (balloon size: guest pages pinned by the driver), ``shared_mb`` (guest pages
      mapped to shared KSM pages), ``compressed_mb`` and ``swapped_mb`` (guest pages held
      compressed / in the hypervisor's swap file), ``swap_in_mb`` (pages brought back from the
      swap file in the step), ``footprint_mb`` and ``active_mb`` (what the workload wanted), and
      ``slowdown`` (how much longer the step's work took than it would have without waiting
      for memory: step length / useful running time in the step, capped at
      :data:`~virtbook.memory.sim.SLOWDOWN_CAP` for a VM that could not run at all).
    * ``host_free_mb``, ``state`` (0 high, 1 soft, 2 hard, 3 low; names in ``state_names``).
    * ``ksm`` - ``pages_shared``, ``pages_sharing``, ``pages_unshared``, ``pages_volatile`` and
      ``full_scans`` as in the kernel's sysfs (``pages_volatile``: zero and OS pages ksmd has
      visited that are in neither of its trees, because it has seen their contents only once
      since they last changed; the model leaves a guest's private pages out of these counters), ``run`` (1 while ksmd runs), ``inter_vm_sharing`` (the part of
      ``pages_sharing`` that needs pages of two different VMs), ``large_pages_split`` (VMs whose
      large pages the host has broken).
    * ``reclaimed_mb`` - memory reclaimed at the end, per technique: ``balloon`` (guest footprint
      the balloons keep out: ``max(0, footprint + balloon - mem)`` summed over VMs; pinned pages
      that only cover unused guest memory reclaim nothing), ``share`` (KSM's ``pages_sharing``),
      ``compress`` (compressed pages minus the cache pages holding them), ``swap`` (swapped pages).
    * ``shared_pct`` - guest pages mapped to shared pages, as a percentage of all guest pages.
    * ``swap_in_mb``/``slowdown`` - per VM, over the run; ``slowdown`` is run length / useful
      running time, i.e. how many times longer the VM's work took (1.0: the VM never waited for
      memory). A VM waits for page faults (swap-ins, decompressions, its own swap when its balloon
      squeezes it) and, when the host has no memory to give it, it cannot run at all: that work
      is missing too, so a starved host never looks faster than a swapping one.
    * ``starved_s`` - per VM, seconds it could not run because the host gave it no memory (it
      was blocked, or its new pages were not there), reported apart from the faults.
    * ``min_free_mb``, ``worst_state`` - the lowest free memory and the worst state of the run
      (exact even when ``simulate(..., timeline=False)`` keeps only the last step of the series).

    Per-VM dictionaries are keyed by VM name; ``vms`` keeps the order the caller gave.
    """

    host: Host
    vms: tuple[VM, ...]
    techniques: tuple[str, ...]
    seed: int
    dt_s: float
    t_s: np.ndarray
    timeline: dict[str, dict[str, np.ndarray]]
    host_free_mb: np.ndarray
    state: np.ndarray
    ksm: dict[str, np.ndarray]
    dommemstat_timeline: dict[str, dict[str, np.ndarray]]
    thresholds_mb: dict[str, float]
    reclaimed_mb: dict[str, float] = field(default_factory=dict)
    shared_pct: float = 0.0
    swap_in_mb: dict[str, float] = field(default_factory=dict)
    slowdown: dict[str, float] = field(default_factory=dict)
    starved_s: dict[str, float] = field(default_factory=dict)
    min_free_mb: float = 0.0
    worst_state: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """VM names in the order they were given."""
        return tuple(vm.name for vm in self.vms)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Free-memory state of the host at each step, as names (``"high"`` ... ``"low"``)."""
        return tuple(STATE_NAMES[int(s)] for s in self.state)

    def dommemstat(self, name: str, step: int = -1) -> dict[str, int]:
        """``virsh dommemstat``-like values for VM ``name`` at ``step`` (default: the end).

        Fields, as in libvirt's documentation of ``dommemstat``: ``actual`` - current balloon
        value, i.e. the memory the guest now has (KiB); ``rss`` - resident set of the VM's
        process on the host (KiB); ``swap_in``/``swap_out`` - data the *guest* read from / wrote
        to its own swap (KiB, cumulative); ``major_fault`` - page faults that needed disk I/O in
        the guest (cumulative); ``unused`` - memory the guest leaves unused (KiB);
        ``available`` - memory usable by the guest (KiB). Hypervisor-level swapping is invisible
        here: the guest does not know about it (compare ``timeline[name]["swapped_mb"]``).
        """
        check_choice("name", name, self.dommemstat_timeline)
        n = len(self.t_s)
        step = check_int("step", step, -n, n - 1)
        return {k: int(v[step]) for k, v in self.dommemstat_timeline[name].items()}

    def summary(self) -> dict[str, object]:
        """The headline numbers of the run in one dict (handy for a notebook's ``glue``)."""
        return {
            "reclaimed_mb": dict(self.reclaimed_mb),
            "shared_pct": self.shared_pct,
            "swap_in_mb": dict(self.swap_in_mb),
            "slowdown": dict(self.slowdown),
            "starved_s": dict(self.starved_s),
            "min_free_mb": float(self.min_free_mb),
            "worst_state": STATE_NAMES[int(self.worst_state)],
        }

    def trace(self, every_s: float = 60.0) -> str:
        """A plain-text table of the run, one row every ``every_s`` seconds.

        Each row shows the host's free memory and state, then for every VM its resident memory,
        balloon, shared, compressed and swapped MB, and finally KSM's ``pages_shared`` and
        ``pages_sharing``. A student can check conservation by hand: the ``rss`` column summed
        over the VMs plus ``free`` equals the host's RAM on every row.
        """
        every_s = check_real("every_s", every_s, 0.0, lo_open=True)
        stride = max(1, int(round(every_s / self.dt_s)))
        idx = list(range(stride - 1, len(self.t_s), stride))
        if not idx or idx[-1] != len(self.t_s) - 1:
            idx.append(len(self.t_s) - 1)
        lines = [
            f"host RAM {self.host.ram_mb} MB, policy {self.host.policy}, techniques "
            f"{','.join(self.techniques) or 'none'}, seed {self.seed}",
            "thresholds (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in self.thresholds_mb.items()),
            "per VM: rss/balloon/shared/compressed/swapped in MB",
        ]
        head = f"{'t_s':>6} {'state':>5} {'free':>8} " + " ".join(f"{n[:24]:>24}" for n in self.names)
        head += f" {'shared':>9} {'sharing':>9}"
        lines.append(head)
        for k in idx:
            cells = []
            for n in self.names:
                tl = self.timeline[n]
                cells.append(
                    f"{tl['rss_mb'][k]:.0f}/{tl['balloon_mb'][k]:.0f}/{tl['shared_mb'][k]:.0f}/"
                    f"{tl['compressed_mb'][k]:.0f}/{tl['swapped_mb'][k]:.0f}"
                )
            lines.append(
                f"{self.t_s[k]:>6.0f} {STATE_NAMES[int(self.state[k])]:>5} {self.host_free_mb[k]:>8.1f} "
                + " ".join(f"{c:>24}" for c in cells)
                + f" {int(self.ksm['pages_shared'][k]):>9d} {int(self.ksm['pages_sharing'][k]):>9d}"
            )
        return "\n".join(lines)


def frozen_view(d: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copy of ``d`` whose arrays are read-only, so results cannot be changed by accident."""
    out = {}
    for k, v in d.items():
        a = np.asarray(v)
        a.setflags(write=False)
        out[k] = a
    return out
