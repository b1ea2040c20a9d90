"""Memory overcommit, simulated: ballooning, page sharing (KSM/TPS), compression and swapping.

A pure model (no plotting, no widgets) of one host whose virtual machines are configured with
more memory than the host has. Pages are counted in aggregate, per content class and per VM, in
one-second steps, so a ten-minute run of six VMs takes a few tens of milliseconds.

Modules: :mod:`~virtbook.memory.config` (Host, VM, Phase), :mod:`~virtbook.memory.policy`
(free-memory states, idle memory tax), :mod:`~virtbook.memory.ksm` (sharing counters),
:mod:`~virtbook.memory.workload`, :mod:`~virtbook.memory.sim` (the step loop),
:mod:`~virtbook.memory.result` (outputs, trace), :mod:`~virtbook.memory.scenarios`.

Sources (each module cites the sections it uses):

* C. A. Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI 2002,
  https://www.usenix.org/legacy/event/osdi02/tech/waldspurger/waldspurger_html/ - ballooning
  (3.2), content-based page sharing (4.2), idle memory tax (5.2), working-set sampling (5.3),
  free-memory states (6.3).
* Linux kernel, Documentation/admin-guide/mm/ksm.rst and mm/ksm.c - KSM's sysfs knobs
  (pages_to_scan, sleep_millisecs, max_page_sharing) and counters (pages_shared,
  pages_sharing, pages_unshared, pages_volatile, full_scans).
* libvirt, "Domain XML format" (https://libvirt.org/formatdomain.html): ``<memtune>``
  ``hard_limit``/``soft_limit``/``min_guarantee`` and the ``<memballoon>`` device (``virtio``,
  ``autodeflate``); virsh ``dommemstat`` fields ``actual``, ``rss``, ``swap_in``, ``swap_out``,
  ``major_fault``, ``unused``, ``available`` (https://libvirt.org/manpages/virsh.html).
* VMware vSphere Resource Management guide - shares (20/10/5 per MB), reservations and limits,
  ``Mem.CtlMaxPercent``, memory compression (2 KB pages, cache 10 % of VM memory); VMware KB
  2097593 and 2080735 (salting, inter-VM TPS off by default since 2014/2015 updates and ESXi
  6.0); KB 1021095 (large pages and TPS); "Understanding Memory Resource Management in VMware
  vSphere 5.0" white paper, with the minFree states as tabulated by F. Denneman and D. Epping.
* D. Gupta et al., "Difference Engine: Harnessing Memory Redundancy in Virtual Machines",
  OSDI 2008 - sub-page sharing and compression save up to 90 % of memory for similar VMs and up
  to 65 % for disparate workloads, 1.5x (homogeneous) to 1.6-2.5x (heterogeneous) more than
  ESX's whole-page sharing, for under 7 % overhead: the yardstick for this model's sharing.

>>> from virtbook.memory import Host, VM, simulate
>>> r = simulate(Host(ram_mb=16384), [VM("web", mem_mb=4096), VM("db", mem_mb=8192)],
...              duration_s=600, techniques=("balloon", "share", "compress", "swap"), seed=0)
>>> sorted(r.reclaimed_mb)
['balloon', 'compress', 'share', 'swap']
"""
from .config import DEFAULT_PHASES, PAGE_KIB, PAGES_PER_MB, Host, Phase, VM
from .ksm import Accounting, account
from .policy import (
    HARD, HIGH, LOW, SOFT, STATE_NAMES, TECHNIQUES_BY_STATE, Thresholds, adjusted_ratio,
    idle_tax_targets, min_free_mb, next_state, state_for_free, thresholds,
)
from .result import DOMMEMSTAT_FIELDS, VM_FIELDS, Result
from .scenarios import default_scenario
from .sim import TECHNIQUES, simulate

__all__ = [
    "Accounting", "DEFAULT_PHASES", "DOMMEMSTAT_FIELDS", "HARD", "HIGH", "Host", "LOW", "PAGES_PER_MB",
    "PAGE_KIB", "Phase", "Result", "SOFT", "STATE_NAMES", "TECHNIQUES", "TECHNIQUES_BY_STATE",
    "Thresholds", "VM", "VM_FIELDS", "account", "adjusted_ratio", "default_scenario",
    "idle_tax_targets", "min_free_mb", "next_state", "simulate", "state_for_free", "thresholds",
]
