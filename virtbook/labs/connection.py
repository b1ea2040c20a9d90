"""Open the labs' libvirt connection: the built-in test driver by default, a real host on request.

The labs run unchanged on two kinds of connection (libvirt, "Connection URIs",
https://libvirt.org/uri.html):

* the **test driver** (``test:///<path to an XML file>``), a fake hypervisor that lives inside
  the Python process and keeps all its state in memory ("Test 'mock' driver",
  https://libvirt.org/drvtest.html). The labs open the fleet described by ``labs/fleet.xml``;
  every connection starts from that file again, so nothing is ever written anywhere.
* a **real host**, chosen by setting the environment variable ``VIRTBOOK_URI`` to
  ``qemu:///session`` (your own unprivileged daemon) or ``qemu:///system`` (the system daemon).

:func:`connect` prints one line saying what it connected to, and remembers the connection so the
other helpers can use it without being passed it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import _libvirt
from .errors import LabError, explain

#: Environment variable that switches the labs to a real host.
URI_VARIABLE = "VIRTBOOK_URI"
#: Environment variable that may point at a different test-driver fleet file.
FLEET_VARIABLE = "VIRTBOOK_LAB_FLEET"

_CURRENT = None


def fixture_path() -> Path:
    """The test-driver fleet file (``labs/fleet.xml`` next to the book's notebooks).

    ``$VIRTBOOK_LAB_FLEET`` overrides it. The path is computed at run time from this package's
    location, so no machine path is ever stored in a notebook.
    """
    explicit = os.environ.get(FLEET_VARIABLE)
    if explicit:
        return Path(explicit).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "labs" / "fleet.xml"


def uri() -> str:
    """The URI the labs use: ``$VIRTBOOK_URI`` if set, else the test driver on the lab fleet."""
    chosen = os.environ.get(URI_VARIABLE, "").strip()
    if chosen:
        return chosen
    fleet = fixture_path()
    if not fleet.is_file():
        raise LabError(f"the lab fleet file {fleet.name} is missing next to the labs, so the test "
                       f"driver has nothing to load: restore labs/fleet.xml from the book's "
                       f"repository or set {FLEET_VARIABLE} to its location.")
    return "test://" + fleet.as_posix()


def display_uri(text: str) -> str:
    """``text`` with the fleet file's absolute directory shortened, for printing.

    >>> display_uri("qemu:///system")
    'qemu:///system'
    """
    fleet = fixture_path()
    full = "test://" + fleet.as_posix()
    if text == full:
        return "test:///…/labs/" + fleet.name
    return text


def _version(number: int) -> str:
    """libvirt packs versions as major * 1,000,000 + minor * 1,000 + release.

    >>> _version(9000000)
    '9.0.0'
    """
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


@dataclass(frozen=True)
class HostSummary:
    """What :func:`connect` reports: the driver, the URI as shown, and the versions."""

    driver: str
    uri: str
    libvirt_version: str
    hypervisor_version: str | None
    readonly: bool

    @property
    def is_test(self) -> bool:
        return self.driver == "TEST"

    def sentence(self) -> str:
        mode = "read-only " if self.readonly else ""
        if self.is_test:
            return (f"Connected {mode}to libvirt's test driver (TEST) at {self.uri}, libvirt "
                    f"{self.libvirt_version}: a fake hypervisor inside this Python process, so "
                    "nothing here touches a real VM.")
        hv = f" {self.hypervisor_version}" if self.hypervisor_version else ""
        return (f"Connected {mode}to {self.driver}{hv} at {self.uri}, libvirt "
                f"{self.libvirt_version}: lab VMs here are real {self.driver} guests.")


def summary(conn) -> HostSummary:
    """Describe an open connection (reads only)."""
    driver = conn.getType()
    try:
        hv = _version(conn.getVersion()) if driver != "TEST" else None
    except Exception:  # some drivers cannot report a hypervisor version
        hv = None
    readonly = bool(getattr(conn, "_virtbook_readonly", False))
    return HostSummary(driver, display_uri(conn.getURI()), _version(conn.getLibVersion()), hv,
                       readonly)


def _advice_handler(shell, etype, value, tb, tb_offset=None):
    """IPython's custom handler for ``libvirtError``: the usual traceback, then the advice."""
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    stb = list(stb) + ["", f"What to do (labs.explain): {explain(value)}"]
    show = getattr(shell, "_showtraceback", None)
    if show is not None:
        show(etype, value, stb)
        return None
    return stb


def show_advice(libvirt) -> bool:
    """In IPython (a notebook), print :func:`explain`'s sentence under the traceback of every
    ``libvirtError`` a cell raises, so that the advice is there without calling explain().

    Uses IPython's ``set_custom_exc`` (InteractiveShell.set_custom_exc: the handler formats the
    traceback itself). Returns False outside IPython, where nothing changes.
    """
    try:
        from IPython import get_ipython  # only inside a notebook
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc((libvirt.libvirtError,), _advice_handler)
    return True


def connect(uri_: str | None = None, *, readonly: bool = False, quiet: bool = False):
    """Open the labs' connection and print one line saying where it went.

    ``uri_`` overrides ``$VIRTBOOK_URI``; with neither, the test driver opens the lab fleet.
    ``readonly=True`` opens a read-only connection (it can look but not change anything). In a
    notebook it also has every ``libvirtError`` a cell raises end with :func:`explain`'s advice
    (:func:`show_advice`). Failures raise :class:`LabError` whose text is :func:`explain`'s one sentence.
    """
    libvirt = _libvirt.load()
    show_advice(libvirt)
    target = uri_ or uri()
    if not target.startswith("test:"):
        _libvirt.event_loop()      # before opening: a guest's console needs the event loop
    try:
        conn = libvirt.openReadOnly(target) if readonly else libvirt.open(target)
    except libvirt.libvirtError as err:
        raise LabError(explain(err)) from err
    conn._virtbook_readonly = readonly
    conn._virtbook_events = _libvirt.event_loop_running()
    global _CURRENT
    if not readonly:
        _CURRENT = conn
    if not quiet:
        print(summary(conn).sentence())
    return conn


def current():
    """The connection most recently opened read-write by :func:`connect`."""
    if _CURRENT is None:
        raise LabError("no lab connection is open yet: run conn = labs.connect() first.")
    return _CURRENT


def resolve(conn=None):
    """``conn`` itself, or the current lab connection when it is None."""
    return conn if conn is not None else current()


def is_test_driver(conn=None) -> bool:
    """True when the connection is libvirt's test driver (no real hypervisor behind it)."""
    return resolve(conn).getType() == "TEST"
