"""Turn each VM's phases into per-step page counts, all at once with numpy.

For every step ``k`` (time ``k * dt_s``) and every VM this module computes

* the guest *footprint* ``D`` - pages the guest has touched and holds: the running maximum of
  ``used_frac * mem`` (a guest does not return memory to the hypervisor by itself; Waldspurger
  2002 section 3), and
* the *active* pages ``W`` - pages touched within one sampling period: ``active_frac * mem`` plus
  Gaussian noise of standard deviation ``jitter``, clipped to ``0..D``.

Each VM draws its noise from a stream of its own, seeded by the run's seed and the VM's name
(:func:`vm_stream`), so a seed reproduces a run, the order in which the VMs are listed changes
nothing, and adding a VM leaves the other VMs' workloads as they were.
"""
from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

from .config import PAGES_PER_MB, VM


def phase_fractions(vm: VM, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``used_frac``, ``active_frac`` and the phase index of ``vm`` at each time in ``t_s``.

    The phase list repeats; ``phase_offset_s`` shifts the VM's clock forward. At the start of
    each phase the fractions move linearly from the previous phase's values to the new ones over
    ``vm.ramp_s`` seconds (from 0 at power-on), so that memory demand does not jump.

    >>> from virtbook.memory.config import Phase
    >>> vm = VM("a", 1024, phases=(Phase("x", 10, 0.5, 0.1), Phase("y", 5, 0.8, 0.4)), ramp_s=0)
    >>> u, a, idx = phase_fractions(vm, np.array([0.0, 9.9, 10.0, 14.9, 15.0]))
    >>> idx.tolist(), u.tolist()
    ([0, 0, 1, 1, 0], [0.5, 0.5, 0.8, 0.8, 0.5])
    >>> vm = VM("b", 1024, phases=(Phase("x", 10, 0.5, 0.1), Phase("y", 10, 0.8, 0.4)), ramp_s=4)
    >>> [round(float(x), 3) for x in phase_fractions(vm, np.array([0.0, 2.0, 4.0, 12.0]))[0]]
    [0.0, 0.25, 0.5, 0.65]
    """
    durs = np.array([p.duration_s for p in vm.phases])
    ends = np.cumsum(durs)
    starts = ends - durs
    clock = t_s + vm.phase_offset_s
    pos = np.mod(clock, ends[-1])
    idx = np.searchsorted(ends, pos, side="right")
    idx = np.minimum(idx, len(vm.phases) - 1)
    used_p = np.array([p.used_frac for p in vm.phases])
    act_p = np.array([p.active_frac for p in vm.phases])
    prev = np.where(idx == 0, len(vm.phases) - 1, idx - 1)
    first = clock < ends[0]  # the first phase of the first cycle starts from power-on (0)
    used0 = np.where(first, 0.0, used_p[prev])
    act0 = np.where(first, 0.0, act_p[prev])
    if vm.ramp_s >= 1e-6:
        w = np.clip((pos - starts[idx]) / vm.ramp_s, 0.0, 1.0)
    else:
        w = np.ones_like(pos)
    used = used0 + (used_p[idx] - used0) * w
    active = act0 + (act_p[idx] - act0) * w
    return used, active, idx


def vm_stream(seed: int, name: str, purpose: int) -> np.random.Generator:
    """The random stream of VM ``name`` for one ``purpose`` (0: workload noise, 1: sampling).

    Seeded by the run's seed, a checksum of the name and the purpose, so two VMs never share a
    stream and a VM's stream does not depend on which other VMs run or in what order.

    >>> a = vm_stream(0, "web", 0).standard_normal(2)
    >>> b = vm_stream(0, "web", 0).standard_normal(2)
    >>> bool((a == b).all()), bool((a == vm_stream(0, "db", 0).standard_normal(2)).all())
    (True, False)
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8")), purpose])


def build(
    vms: Sequence[VM], n_steps: int, dt_s: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Footprint and active pages, shape ``(len(vms), n_steps)`` each, plus phase indices.

    >>> from virtbook.memory.config import Phase
    >>> vm = VM("a", 1, phases=(Phase("p", 5, 0.5, 0.25),), jitter=0.0, ramp_s=0)
    >>> D, W, _ = build([vm], 3, 1.0, seed=0)
    >>> D.tolist(), W.tolist()   # 1 MB = 256 pages
    ([[128, 128, 128]], [[64, 64, 64]])
    """
    t_s = np.arange(n_steps, dtype=float) * dt_s
    n = len(vms)
    D = np.zeros((n, n_steps), dtype=np.int64)
    W = np.zeros((n, n_steps), dtype=np.int64)
    P = np.zeros((n, n_steps), dtype=np.int64)
    for i, vm in enumerate(vms):
        pages = vm.mem_mb * PAGES_PER_MB
        used, active, idx = phase_fractions(vm, t_s)
        foot = np.maximum.accumulate(used)
        noise = vm_stream(seed, vm.name, 0).standard_normal(n_steps) if vm.jitter else 0.0
        act = np.clip(active + vm.jitter * noise, 0.0, foot)
        D[i] = np.floor(foot * pages).astype(np.int64)
        W[i] = np.minimum(np.floor(act * pages).astype(np.int64), D[i])
        P[i] = idx
    return D, W, P
