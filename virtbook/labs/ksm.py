"""Kernel Samepage Merging on the lab host: read its counters, and switch it on only on request.

KSM is the Linux kernel's page deduplication: the ``ksmd`` thread scans memory that processes
marked mergeable (QEMU marks guest RAM so by default) and replaces pages of identical content by
one write-protected copy. It is controlled through ``/sys/kernel/mm/ksm`` (Linux kernel
documentation, "Kernel Samepage Merging", https://docs.kernel.org/admin-guide/mm/ksm.html, and
ABI file ``testing/sysfs-kernel-mm-ksm``): ``run`` is 0 (stopped), 1 (running) or 2 (stop and
unmerge every merged page); ``pages_to_scan`` pages are scanned before ksmd sleeps
``sleep_millisecs``; ``pages_shared`` counts the shared pages in use and ``pages_sharing`` "how
many more sites are sharing them i.e. how much saved".

These are settings of the whole host, not of a lab VM, so the labs change them only when the
reader opts in by setting the environment variable ``VIRTBOOK_LAB_KSM=1``, and only on the
machine that runs the VMs (a local ``qemu:///system`` or ``qemu:///session``, as root). Before
changing a knob, :class:`KsmSession` writes its previous value into the labs' record
(:mod:`virtbook.labs.ownership`), and :func:`restore_ksm` puts every recorded value back: when
the session ends, at interpreter exit, and in :func:`virtbook.labs.cleanup`, so the next run of
any lab restores the host after an interrupted one. A host where KSM was stopped is unmerged
(``run`` 2) before ``run`` goes back to 0, so no page stays merged because of a lab.
"""
from __future__ import annotations

import atexit
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .._validate import check_int, check_real
from .connection import resolve
from .errors import LabUnsupported
from .ownership import record_for

#: The environment variable a reader sets to 1 to let a lab switch KSM on.
KSM_VARIABLE = "VIRTBOOK_LAB_KSM"
#: Where KSM's files are; ``$VIRTBOOK_LAB_KSM_DIR`` overrides it (the tests use a fake folder).
KSM_DIR_VARIABLE = "VIRTBOOK_LAB_KSM_DIR"
#: The knobs a session changes, restored in this order (``run`` last).
KNOBS = ("pages_to_scan", "sleep_millisecs", "run")
COUNTERS = ("pages_shared", "pages_sharing", "pages_unshared", "pages_volatile", "full_scans")


def ksm_dir() -> Path:
    return Path(os.environ.get(KSM_DIR_VARIABLE) or "/sys/kernel/mm/ksm")


def opted_in() -> bool:
    """True when the reader allowed the labs to change KSM (``VIRTBOOK_LAB_KSM=1``)."""
    return os.environ.get(KSM_VARIABLE, "").strip() == "1"


def _local_problem(conn) -> str | None:
    """None when ``conn``'s VMs run on this machine, else why KSM cannot be reached from here."""
    if conn.getType() == "TEST":
        return "the test driver runs no VMs, so there is no memory for KSM to merge"
    parsed = urlparse(conn.getURI())
    if parsed.hostname or "+" in parsed.scheme:
        return (f"the VMs of {conn.getURI()} run on another machine, whose KSM the lab cannot "
                "read or change from here")
    return None


def unavailable(conn=None) -> str | None:
    """None when KSM's counters can be read for ``conn``'s host, else the reason (one clause)."""
    conn = resolve(conn)
    problem = _local_problem(conn)
    if problem:
        return problem
    if not (ksm_dir() / "run").is_file():
        return (f"this kernel has no KSM ({ksm_dir()} is missing: it was built without "
                "CONFIG_KSM)")
    return None


def _read(name: str) -> int:
    return int((ksm_dir() / name).read_text().split()[0])


def _write(name: str, value: int) -> None:
    (ksm_dir() / name).write_text(f"{value}\n")


def settings() -> dict[str, int]:
    """The current values of the knobs a session changes."""
    return {knob: _read(knob) for knob in KNOBS}


@dataclass(frozen=True)
class KsmSample:
    """KSM's counters at ``t`` seconds after sampling began."""

    t: float
    pages_shared: int
    pages_sharing: int
    pages_unshared: int
    pages_volatile: int
    full_scans: int

    @property
    def saved_mib(self) -> float:
        """Memory saved, from pages_sharing (4 KiB pages)."""
        return self.pages_sharing * 4096 / 2**20


def counters(t: float = 0.0) -> KsmSample:
    """One reading of KSM's counters (reads only)."""
    return KsmSample(t, *(_read(name) for name in COUNTERS))


def sample(seconds: float, interval: float = 0.5, conn=None) -> list[KsmSample]:
    """Read KSM's counters every ``interval`` seconds for ``seconds`` (reads only)."""
    check_real("seconds", seconds, 0, 600)
    check_real("interval", interval, 0.05, 60)
    conn = resolve(conn)
    problem = unavailable(conn)
    if problem:
        raise LabUnsupported(f"KSM cannot be measured here: {problem}.")
    start = time.monotonic()
    samples = [counters(0.0)]
    while True:
        left = seconds - (time.monotonic() - start)
        if left <= 1e-9:
            return samples
        time.sleep(min(interval, left))
        samples.append(counters(round(time.monotonic() - start, 3)))


def restore_ksm(conn=None) -> list[str]:
    """Put back every KSM knob a lab changed on this host (from the record); return what changed.

    Safe to call at any time: with nothing recorded it does nothing.
    """
    conn = resolve(conn)
    rec = record_for(conn)
    saved = rec.items("settings")
    ksm_saved = {Path(path): int(value) for path, value in saved.items()
                 if Path(path).parent == ksm_dir()}
    restored = []
    for knob in KNOBS:
        path = ksm_dir() / knob
        if path not in ksm_saved:
            continue
        before = ksm_saved[path]
        now = _read(knob)
        if knob == "run" and before == 0 and now == 1:
            _write("run", 2)       # stop ksmd and unmerge what it merged while the lab ran
        if now != before:
            _write(knob, before)
            restored.append(f"ksm {knob} {now} -> {before}")
        rec.discard("settings", str(path))
    return restored


class KsmSession:
    """Switch KSM on for a lab, and back to what it was afterwards.

    Use it as a context manager::

        with labs.KsmSession(conn, pages_to_scan=1000, sleep_millisecs=10):
            samples = labs.ksm_sample(20)

    It refuses (:class:`~virtbook.labs.errors.LabUnsupported`, one sentence) unless
    ``VIRTBOOK_LAB_KSM=1`` is set, the VMs run on this machine, the kernel has KSM and the knobs
    are writable (root).
    """

    def __init__(self, conn=None, *, pages_to_scan: int = 1000, sleep_millisecs: int = 10) -> None:
        self.conn = resolve(conn)
        self.pages_to_scan = check_int("pages_to_scan", pages_to_scan, 1, 100000)
        self.sleep_millisecs = check_int("sleep_millisecs", sleep_millisecs, 1, 10000)
        self.active = False

    def start(self) -> "KsmSession":
        if not opted_in():
            raise LabUnsupported(
                f"KSM is a setting of the whole host, so the lab changes it only if you allow it: "
                f"set {KSM_VARIABLE}=1 before starting Jupyter (the lab puts the old values back "
                "when it ends, or at the next labs.cleanup() after an interruption).")
        problem = unavailable(self.conn)
        if problem:
            raise LabUnsupported(f"KSM cannot be used here: {problem}.")
        if not os.access(ksm_dir() / "run", os.W_OK):
            raise LabUnsupported(f"only root may change KSM's settings in {ksm_dir()}: run the "
                                 "lab as root (as CI does), or read the counters without "
                                 "changing them.")
        rec = record_for(self.conn)
        for knob, value in settings().items():      # record first: an interruption is restorable
            ident = str(ksm_dir() / knob)
            if not rec.has("settings", ident):
                rec.add("settings", ident, str(value))
        _write("pages_to_scan", self.pages_to_scan)
        _write("sleep_millisecs", self.sleep_millisecs)
        _write("run", 1)
        self.active = True
        atexit.register(self.stop)
        return self

    def stop(self) -> list[str]:
        if not self.active:
            return []
        self.active = False
        atexit.unregister(self.stop)
        return restore_ksm(self.conn)

    def __enter__(self) -> "KsmSession":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
