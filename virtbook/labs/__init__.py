"""Scaffolding for the libvirt labs: connect, make lab-owned VMs, explain errors, clean up.

The labs teach the libvirt Python API (libvirt-python), so the students write the libvirt calls
themselves; this package only does what would distract from them or what must never go wrong:

* :func:`connect` opens ``$VIRTBOOK_URI`` or, by default, libvirt's in-process test driver on
  the lab fleet (``labs/fleet.xml``), prints what it connected to, and silences libvirt's own
  stderr error printing;
* :func:`create_lab_vm` makes a small VM that is valid on the current driver (qcow2 disk in the
  labs' own pool, BIOS firmware, 128 MiB, type kvm only where a kvm guest really starts);
* :func:`define` and :func:`created` record what a student creates, and every destructive
  helper (:func:`remove_vm`, :func:`delete_volume`, :func:`disk_write`, :func:`cleanup`) and the
  guard :func:`owned` check three marks first: the ``vblab-`` name prefix, the owner metadata,
  and the record (see :mod:`virtbook.labs.ownership`);
* :func:`explain` turns any libvirt error into one sentence: what happened and what to do, and
  in a notebook :func:`connect` has IPython add that sentence under the traceback of any
  ``libvirtError`` a cell raises;
* :func:`start_over`, :func:`stop` and :func:`remove_snapshots` undo a task's own earlier
  attempt (lab-owned objects only), so that a task cell can simply be run again;
* on a real host, ``create_lab_vm(..., guest=True)`` and :func:`boot_guest` run a small Linux
  guest whose serial console the labs read and write through libvirt (:mod:`.guest`);
  :func:`measure_cpu`, :func:`set_cpu_limits` and :func:`start_contending_guests` measure and
  steer its CPU time (:mod:`.measure`); :class:`KsmSession` switches the host's page sharing on
  only when ``VIRTBOOK_LAB_KSM=1`` allows it, and puts it back (:mod:`.ksm`).

It imports without libvirt-python installed; the first call that needs libvirt raises
:class:`LibvirtMissing` with instructions, and the rest of the book is unaffected.
"""
from .connection import (FLEET_VARIABLE, URI_VARIABLE, HostSummary, connect, current,
                         display_uri, fixture_path, is_test_driver, summary, uri)
from ._libvirt import available as libvirt_available
from ._libvirt import load as load_libvirt
from .disks import disk_read, disk_write
from .errors import (PREFIX, LabError, LabUnsupported, LibvirtMissing, NameTaken, NotLabOwned,
                     UuidInXML, WrongState, explain)
from .ownership import (OWNER_NS, POOL_NAME, Ownership, has_owner_metadata, is_lab_owned,
                        lab_name, owned, owner_element, ownership, record_for)
from .guest import (BOOT_TIMEOUT, ConsoleUnavailable, Guest, GuestError, GuestMissing, GuestView,
                    ModuleMissing, attach_guest, boot_guest, boot_guests, guest_files, is_guest_vm,
                    wait_for_balloon)
from .ksm import KSM_VARIABLE, KsmSample, KsmSession, restore_ksm
from .ksm import counters as ksm_counters
from .ksm import opted_in as ksm_opted_in
from .ksm import sample as ksm_sample
from .ksm import unavailable as ksm_unavailable
from .measure import CpuUse, cpu_times, measure_cpu, set_cpu_limits, start_contending_guests
from .vms import (CleanupReport, DomainTypeChoice, cleanup, create_lab_vm, created, define,
                  delete_volume, domain_type, fingerprint, host_summary_rows, is_mac, lab_mac,
                  lab_pool, lab_vm_xml, remove_snapshots, remove_vm, require_shut_off,
                  start_over, stop)

__all__ = [
    "FLEET_VARIABLE", "URI_VARIABLE", "HostSummary", "connect", "current", "display_uri",
    "fixture_path", "is_test_driver", "summary", "uri", "libvirt_available", "load_libvirt",
    "disk_read", "disk_write", "PREFIX",
    "LabError", "LabUnsupported", "LibvirtMissing", "NameTaken", "NotLabOwned", "UuidInXML",
    "WrongState", "explain", "OWNER_NS", "POOL_NAME", "Ownership", "has_owner_metadata",
    "is_lab_owned", "lab_name", "owned", "owner_element", "ownership", "record_for",
    "CleanupReport", "DomainTypeChoice", "cleanup", "create_lab_vm", "created", "define",
    "delete_volume", "domain_type", "fingerprint", "host_summary_rows", "is_mac", "lab_mac",
    "lab_pool", "lab_vm_xml", "remove_snapshots", "remove_vm", "require_shut_off", "start_over",
    "stop",
    "BOOT_TIMEOUT", "ConsoleUnavailable", "Guest", "GuestError", "GuestMissing", "GuestView",
    "ModuleMissing", "attach_guest", "boot_guest", "boot_guests", "guest_files", "is_guest_vm",
    "wait_for_balloon",
    "KSM_VARIABLE", "KsmSample", "KsmSession", "restore_ksm", "ksm_counters", "ksm_opted_in",
    "ksm_sample", "ksm_unavailable", "CpuUse", "cpu_times", "measure_cpu", "set_cpu_limits",
    "start_contending_guests",
]
