"""A real, tiny Linux guest for the labs on a real host, and its serial console through libvirt.

On a real host (``VIRTBOOK_URI=qemu:///system`` or ``qemu:///session``) a lab VM made with
``create_lab_vm(..., guest=True)`` boots the lab guest that ``tools/lab_guest.py`` builds from
Debian packages: the cloud kernel and a busybox initramfs, started by QEMU's *direct kernel boot*
(libvirt's ``<os><kernel/><initrd/><cmdline/></os>``, "Domain XML format", section "Direct
kernel boot", https://libvirt.org/formatdomain.html#direct-kernel-boot), so no boot loader and no
disk image with an operating system are needed. The VM still gets a qcow2 disk (unused by the
guest), because libvirt stores an internal snapshot, memory included, in the VM's qcow2 disks.

The guest's ``/init`` prints one ready line with its own view of the hardware and then answers
line commands on its serial port (see ``tools/lab_guest/init``). The labs reach that port the
way ``virsh console`` does: ``virDomainOpenConsole`` connects the VM's console to a libvirt
*stream* (libvirt API reference, virDomainOpenConsole and virStreamRecv,
https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainOpenConsole), so it works through
the daemon, with no access to the host's pseudo-terminals. Only one client may hold a console at
a time: a second ``openConsole`` fails with "Active console session exists for this domain"
unless it forces the first one off, which the labs never do (``labs.explain`` says what to do).

On the test driver there is no guest to boot: ``guest=True`` is refused there
(:class:`~virtbook.labs.errors.LabUnsupported`), and the labs take their test-driver path.
"""
from __future__ import annotations

import importlib.util
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .._validate import check_int, check_real
from . import _libvirt
from .errors import PREFIX, LabError, LabUnsupported, NameTaken
from .ownership import is_lab_owned, owned

#: Seconds a guest may take from start to its ready line before the labs give up. The guest is
#: ready after about 3 s under TCG on a 2-core machine; the margin covers a loaded host.
BOOT_TIMEOUT = 60.0
#: Seconds a console command may take (touching 64 MiB under TCG takes about a second).
COMMAND_TIMEOUT = 30.0
#: The kernel command line: the console on the first serial port; reboot at once on a panic
#: (and the VM's <on_reboot>destroy</on_reboot> then stops it, instead of a boot loop).
CMDLINE = "console=ttyS0 panic=-1"
READY = re.compile(r"VBGUEST READY vcpus=(\d+) memtotal_kib=(\d+) mac=(\S+) balloon=(\S+) "
                   r"kernel=(\S+) uptime=([\d.]+)")


class GuestError(LabError):
    """A lab guest did not boot, stopped, or did not answer a command."""


class GuestMissing(LabUnsupported):
    """The lab guest has not been built on this machine."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The lab guest (a small Linux kernel and initramfs) is not built on this machine"
            + (f" ({detail})" if detail else "") + ", so no lab VM can boot an operating system: "
            "run `make guest` (or `python3 tools/lab_guest.py build`) once, which downloads two "
            "Debian packages, then run the cell again.")


class ConsoleUnavailable(LabError):
    """The guest's console cannot be opened from this connection."""


class ModuleMissing(GuestError):
    """A driver the lab needs did not load inside the guest."""


# ----------------------------------------------------------------------------------------------
# The files: built by tools/lab_guest.py, uploaded into the labs' pool
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GuestFiles:
    """The cached build of the lab guest: kernel, initramfs and what went into them."""

    folder: Path
    kernel: Path
    initrd: Path
    manifest: dict

    @property
    def key(self) -> str:
        return self.manifest["key"]


def _tool():
    path = Path(__file__).resolve().parents[2] / "tools" / "lab_guest.py"
    if not path.is_file():
        raise GuestMissing("its build tool tools/lab_guest.py is not next to the labs")
    spec = importlib.util.spec_from_file_location("virtbook_lab_guest_tool", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def guest_files() -> GuestFiles:
    """The cached guest build for the current inputs; :class:`GuestMissing` when there is none."""
    import json

    folder = _tool().cached()
    if folder is None:
        raise GuestMissing()
    manifest = json.loads((folder / "manifest.json").read_text())
    return GuestFiles(folder, folder / "vmlinuz", folder / "initrd.gz", manifest)


def _upload(conn, pool, name: str, path: Path):
    """A lab-owned raw volume ``name`` in the labs' pool holding the bytes of ``path``."""
    from .vms import created, delete_volume  # vms imports this module lazily

    libvirt = _libvirt.load()
    size = path.stat().st_size
    try:
        vol = pool.storageVolLookupByName(name)
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise
    else:
        if not is_lab_owned(vol):
            raise NameTaken("volume", name, "was not created by these labs, so they will not "
                            "replace it: pick another name")
        if vol.info()[1] == size:
            return vol
        delete_volume(vol)
    vol = created(pool.createXML(
        f"<volume><name>{name}</name><capacity unit='bytes'>{size}</capacity>"
        "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target>"
        "</volume>", 0))
    stream = conn.newStream(0)
    vol.upload(stream, 0, size, 0)
    with path.open("rb") as handle:
        stream.sendAll(lambda _st, nbytes, fh: fh.read(nbytes), handle)
    stream.finish()
    return vol


def boot_files(conn) -> tuple[str, str]:
    """(kernel path, initrd path) on the host behind ``conn``, uploaded into the labs' pool.

    The files go through libvirt (``virStorageVolUpload``) rather than by path, so the daemon and
    QEMU need no access to this user's cache, and a remote daemon works too. Volumes left by an
    earlier run with the same build are reused.
    """
    from .vms import lab_pool

    files = guest_files()
    pool = lab_pool(conn)
    kernel = _upload(conn, pool, f"{PREFIX}guest-{files.key}-vmlinuz", files.kernel)
    initrd = _upload(conn, pool, f"{PREFIX}guest-{files.key}-initrd.gz", files.initrd)
    return kernel.path(), initrd.path()


def guest_os_xml(kernel: str, initrd: str) -> str:
    """The ``<os>`` element of a guest VM (BIOS, then the kernel straight from the host), and
    ``<features>`` with ACPI, without which libvirt starts QEMU with no ACPI tables and the guest's
    ``poweroff`` can only halt, never switch the VM off."""
    return ("<os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<kernel>{kernel}</kernel><initrd>{initrd}</initrd>"
            f"<cmdline>{CMDLINE}</cmdline></os><features><acpi/><apic/></features>")


GUEST_DEVICES_XML = """
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>"""


def is_guest_vm(dom) -> bool:
    """True when a VM's definition boots a kernel directly (a lab guest)."""
    return ET.fromstring(dom.XMLDesc(0)).find("os/kernel") is not None


# ----------------------------------------------------------------------------------------------
# The console
# ----------------------------------------------------------------------------------------------

class Console:
    """A VM's serial console as a libvirt stream: bytes in, lines out.

    Reading happens in libvirt's event loop (a callback appends to a buffer); :meth:`wait_for`
    waits on that buffer with a timeout.
    """

    def __init__(self, dom) -> None:
        libvirt = _libvirt.load()
        conn = dom.connect()
        if not getattr(conn, "_virtbook_events", False):
            raise ConsoleUnavailable(
                "this connection was opened without libvirt's event loop, so a guest's console "
                "cannot deliver its output: open the connection with labs.connect().")
        self.dom = dom
        self._libvirt = libvirt
        self._cond = threading.Condition()
        self._data = bytearray()
        self.closed = False
        self._stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        try:
            dom.openConsole(None, self._stream, 0)
        except libvirt.libvirtError:
            try:
                self._stream.abort()
            except libvirt.libvirtError:
                pass
            raise
        events = (libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR
                  | libvirt.VIR_STREAM_EVENT_HANGUP)
        self._stream.eventAddCallback(events, self._on_event, None)

    def _on_event(self, stream, events, _opaque) -> None:
        libvirt = self._libvirt
        if events & libvirt.VIR_STREAM_EVENT_READABLE:
            while True:
                try:
                    chunk = stream.recv(65536)
                except libvirt.libvirtError:
                    self._hangup()
                    return
                if isinstance(chunk, int):         # -2: nothing more to read for now
                    break
                if not chunk:                      # end of stream: the VM stopped
                    self._hangup()
                    return
                with self._cond:
                    self._data.extend(chunk)
                    self._cond.notify_all()
        if events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP):
            self._hangup()

    def _hangup(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        try:
            self._stream.eventRemoveCallback()
        except self._libvirt.libvirtError:
            pass

    def text(self) -> str:
        with self._cond:
            return self._data.decode(errors="replace")

    def send(self, line: str) -> None:
        data = (line + "\n").encode()
        deadline = time.monotonic() + 10
        while data:
            if self.closed:
                raise GuestError(f"the console of VM '{self.dom.name()}' closed (the VM stopped).")
            sent = self._stream.send(data)
            if sent == -2:
                if time.monotonic() > deadline:
                    raise GuestError(f"the console of VM '{self.dom.name()}' accepts no input.")
                time.sleep(0.01)
                continue
            data = data[sent:]

    def wait_for(self, pattern: re.Pattern, timeout: float, start: int = 0):
        """Wait until ``pattern`` matches the console text from offset ``start``; return the
        match, or None on timeout or when the console closed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                match = pattern.search(self._data.decode(errors="replace"), start)
                if match:
                    return match
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._cond.wait(min(left, 0.5))

    def mark(self) -> int:
        """The current length of the console text (to wait only for what comes next)."""
        with self._cond:
            return len(self._data.decode(errors="replace"))

    def close(self) -> None:
        if self.closed:
            return
        with self._cond:
            self.closed = True
        try:
            self._stream.eventRemoveCallback()
        except self._libvirt.libvirtError:
            pass
        try:
            self._stream.abort()
        except self._libvirt.libvirtError:
            pass


# ----------------------------------------------------------------------------------------------
# The guest
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GuestView:
    """What the guest itself reports: vCPUs, MemTotal, its NIC's MAC, the balloon driver."""

    vcpus: int
    memtotal_kib: int
    mac: str
    balloon: str
    kernel: str
    uptime: float

    @classmethod
    def parse(cls, match: re.Match) -> "GuestView":
        return cls(int(match.group(1)), int(match.group(2)), match.group(3), match.group(4),
                   match.group(5), float(match.group(6)))


@dataclass
class Guest:
    """A running lab guest, reached through its console. Make one with :func:`boot_guest`."""

    dom: object
    console: Console
    view: GuestView
    boot_lines: list[str] = field(default_factory=list)
    boot_seconds: float | None = None
    warnings: list[str] = field(default_factory=list)
    _counter: int = 0

    @property
    def name(self) -> str:
        return self.dom.name()

    def command(self, *words: object, timeout: float = COMMAND_TIMEOUT) -> list[str]:
        """Send one command line to the guest and return its output lines."""
        check_real("timeout", timeout, 0.1, 600)
        self._counter += 1
        ident = f"c{self._counter}"
        if self.console.closed and self.dom.isActive():
            raise GuestError(f"the console of guest '{self.name}' closed although the VM runs "
                             "(a revert or a restart started a new QEMU process): call "
                             "guest.reconnect() and repeat the command.")
        start = self.console.mark()
        self.console.send(" ".join([ident, *map(str, words)]))
        end = re.compile(rf"VBGUEST {ident} (OK|ERR[^\r\n]*)\r?\n")
        match = self.console.wait_for(end, timeout, start)
        if match is None:
            state = "stopped" if self.console.closed or not self.dom.isActive() else "still running"
            raise GuestError(f"guest '{self.name}' did not answer '{words[0]}' within {timeout:g} s "
                             f"(the VM is {state}): look at the console text with "
                             "guest.console.text(), or boot it again.")
        text = self.console.text()[start:match.start()]
        begin = text.find(f"VBGUEST {ident} BEGIN")
        body = text[begin:].splitlines()[1:] if begin >= 0 else text.splitlines()
        lines = [line.rstrip("\r") for line in body if line.strip()]
        if match.group(1) != "OK":
            raise GuestError(f"guest '{self.name}' refused '{' '.join(map(str, words))}': "
                             f"{match.group(1)[4:]}.")
        return lines

    def info(self) -> GuestView:
        """The guest's view again (MemTotal changes when the balloon moves)."""
        for line in self.command("info"):
            match = READY.search(line)
            if match:
                return GuestView.parse(match)
        raise GuestError(f"guest '{self.name}' answered 'info' without its view.")

    def meminfo(self) -> dict[str, int]:
        """/proc/meminfo as a dict of kB values (counts without a unit as they are)."""
        values = {}
        for line in self.command("meminfo"):
            match = re.match(r"(\S+):\s+(\d+)", line)
            if match:
                values[match.group(1)] = int(match.group(2))
        return values

    def memtotal_kib(self) -> int:
        return self.meminfo()["MemTotal"]

    def uptime(self) -> float:
        return float(self.command("uptime")[0].split()[0])

    def mark(self, text: str | None = None) -> str:
        """Keep ``text`` in the guest's RAM (when given) and return what the guest holds."""
        if text is not None and not re.match(r"^[A-Za-z0-9_.:=-]{1,64}$", text):
            raise ValueError("text must be 1..64 characters A-Z, a-z, 0-9, '_', '.', ':', '=' "
                             f"or '-', got {text!r}")
        words = ("mark",) if text is None else ("mark", text)
        for line in self.command(*words):
            if line.startswith("MARKER"):
                return line[len("MARKER"):].strip()
        raise GuestError(f"guest '{self.name}' answered 'mark' without its marker.")

    def spin(self, loops: int | None = None) -> None:
        """Start CPU loops in the guest (one per vCPU by default) that run until :meth:`stop`."""
        if loops is not None:
            check_int("loops", loops, 1, 64)
        self.command("spin", *(() if loops is None else (loops,)))

    def stop(self) -> None:
        self.command("stop")

    def touch(self, mib: int, text: str | None = None, timeout: float = 120.0) -> None:
        """Fill ``mib`` MiB of the guest's RAM (with zeros, or with ``text`` repeated)."""
        check_int("mib", mib, 1, 4096)
        if text is not None and not re.match(r"^[A-Za-z0-9_.-]{1,32}$", text):
            raise ValueError(f"text must be 1..32 characters A-Z, a-z, 0-9, '_', '.' or '-', got {text!r}")
        self.command("touch", mib, *(() if text is None else (text,)), timeout=timeout)

    def release(self) -> None:
        self.command("release")

    def require_balloon(self) -> None:
        """Raise :class:`ModuleMissing` unless the guest's balloon driver is bound."""
        if self.view.balloon == "loaded":
            raise ModuleMissing(
                f"VM '{self.name}' has no balloon device (its XML says <memballoon model='none'/> "
                "or has none), so the guest's virtio_balloon driver has nothing to drive and "
                "setMemory cannot move: give the VM a <memballoon model='virtio'/> while it is "
                "shut off.")
        if self.view.balloon != "bound":
            raise ModuleMissing(
                f"guest '{self.name}' has no working balloon driver (virtio_balloon is "
                f"{self.view.balloon}), so setMemory would ask a balloon that nobody inflates: "
                "rebuild the guest with `make guest`, which packs the module "
                "(its boot warnings: " + ("; ".join(self.warnings) or "none") + ").")

    def poweroff(self, timeout: float = 30.0) -> None:
        """Power the guest off from inside and wait until libvirt sees the VM shut off."""
        try:
            self.command("poweroff", timeout=5)
        except GuestError:
            pass
        deadline = time.monotonic() + timeout
        while self.dom.isActive():
            if time.monotonic() > deadline:
                raise GuestError(f"guest '{self.name}' did not power off within {timeout:g} s: "
                                 "stop it with dom.destroy().")
            time.sleep(0.1)
        self.console.close()

    def reconnect(self) -> "Guest":
        """Open the console again, after something restarted the VM's QEMU process.

        Reverting to a snapshot of a running VM may start a new QEMU process (libvirt 9.0 did so
        here for internal snapshots), which ends the old console stream; the guest inside is the
        one the snapshot saved, and this reaches it.
        """
        self.console.close()
        if not self.dom.isActive():
            raise GuestError(f"VM '{self.name}' is not running: boot it with labs.boot_guest(dom).")
        self.console = Console(self.dom)
        self.view = self.info()
        return self

    def close(self) -> None:
        """Let go of the console (the guest keeps running)."""
        self.console.close()

    def __enter__(self) -> "Guest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _boot_problem(dom, console: Console, timeout: float) -> str:
    text = console.text().strip().splitlines()
    last = text[-1].strip() if text else ""
    state = "running" if dom.isActive() else "stopped"
    shown = f"the last console line was {last[:120]!r}" if last else "the console stayed silent"
    return (f"VM '{dom.name()}' did not print the lab guest's ready line within {timeout:g} s "
            f"(it is {state}; {shown})")


def _retype(dom, new_type: str) -> None:
    """Change a lab-owned, shut-off VM's domain type in its own definition (same UUID)."""
    owned(dom)
    libvirt = _libvirt.load()
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    root.set("type", new_type)
    dom.connect().defineXML(ET.tostring(root, encoding="unicode"))  # an update of the lab's own VM


def _stop(dom) -> None:
    """Destroy a VM that may be stopping by itself (a panicking guest reboots, and its
    <on_reboot>destroy</on_reboot> ends the VM): "domain is not running" is then success."""
    libvirt = _libvirt.load()
    try:
        dom.destroy()
    except libvirt.libvirtError as err:
        if dom.isActive() or err.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
            raise


def _start(dom) -> tuple[Console, float]:
    """Start a VM paused, open its console, let it run; return the console and the start time."""
    libvirt = _libvirt.load()
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    try:
        console = Console(dom)
    except Exception:
        _stop(dom)
        raise
    started = time.monotonic()
    dom.resume()
    return console, started


def _wait_ready(dom, console: Console, started: float, timeout: float) -> Guest:
    """Wait for the ready line of a guest started by :func:`_start`."""
    match = console.wait_for(READY, max(0.0, started + timeout - time.monotonic()))
    if match is None:
        problem = _boot_problem(dom, console, timeout)
        console.close()
        _stop(dom)
        raise GuestError(problem)
    seconds = time.monotonic() - started
    text = console.text()[:match.start()]
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    warnings = [line for line in lines if line.startswith("VBGUEST WARN")]
    return Guest(dom, console, GuestView.parse(match), lines, seconds, warnings)


def _start_and_wait(dom, timeout: float) -> Guest:
    console, started = _start(dom)
    return _wait_ready(dom, console, started, timeout)


def _check_bootable(dom) -> bool:
    """Refuse what boot_guest cannot boot; return True when the VM is of type 'kvm'."""
    owned(dom)
    if dom.connect().getType() == "TEST":
        raise LabUnsupported("the test driver runs no guest: boot a lab guest on a real host "
                             "(VIRTBOOK_URI=qemu:///system or qemu:///session).")
    if not is_guest_vm(dom):
        raise GuestError(f"VM '{dom.name()}' has no lab guest to boot (it was not made with "
                         "labs.create_lab_vm(..., guest=True)).")
    if dom.isActive():
        raise GuestError(f"VM '{dom.name()}' is already running: reach its guest with "
                         "labs.attach_guest(dom), or stop it with dom.destroy() first.")
    return ET.fromstring(dom.XMLDesc(0)).get("type") == "kvm"


def boot_guest(dom, timeout: float = BOOT_TIMEOUT) -> Guest:
    """Start a lab guest VM and wait for its ready line; return the running :class:`Guest`.

    The VM is started paused, its console opened, then resumed, so no boot line is missed. If the
    VM is of type 'kvm' and the guest does not come up, KVM does not really work on this host
    (a domain can start and never run): the VM is switched to 'qemu' (TCG), the connection
    remembers it (:func:`virtbook.labs.domain_type`), and the guest is booted once more.
    """
    check_real("timeout", timeout, 1, 600)
    kvm = _check_bootable(dom)
    libvirt = _libvirt.load()
    try:
        return _start_and_wait(dom, min(timeout, 20.0) if kvm else timeout)
    except (GuestError, libvirt.libvirtError) as err:
        if not kvm:
            raise
        reason = (err.get_error_message() if isinstance(err, libvirt.libvirtError) else str(err))
    from .vms import DomainTypeChoice

    conn = dom.connect()
    conn._virtbook_domain_type = DomainTypeChoice(
        "qemu", "a kvm guest did not boot here (" + reason.rstrip(".") + "), so TCG is used")
    _retype(dom, "qemu")
    return _start_and_wait(dom, timeout)


def boot_guests(doms, timeout: float = BOOT_TIMEOUT) -> list[Guest]:
    """Boot several lab guests at once (they start together and boot side by side); on a failure
    stop every one of them. A 'kvm' VM is booted on its own, by :func:`boot_guest`."""
    check_real("timeout", timeout, 1, 600)
    doms = list(doms)
    kvm = [_check_bootable(dom) for dom in doms]
    started: list[tuple[object, Console, float] | None] = []
    guests: list[Guest] = []
    try:
        for dom, is_kvm in zip(doms, kvm):
            started.append(None if is_kvm else (dom, *_start(dom)))
        for dom, entry in zip(doms, started):
            guests.append(boot_guest(dom, timeout) if entry is None
                          else _wait_ready(entry[0], entry[1], entry[2], timeout))
    except Exception:
        for entry in started:
            if entry is not None:
                entry[1].close()
        for dom in doms:
            _stop(dom)
        raise
    return guests


def wait_for_balloon(dom, target_mib: float, timeout: float = 10.0) -> float:
    """Wait until a VM's balloon reaches ``target_mib`` or stops moving for a second; return the
    ``actual`` memory (MiB) that ``memoryStats`` then reports.

    A guest driver inflates the balloon page by page, so ``actual`` follows a new target within a
    moment; when the guest has no free pages left it stops short, and this returns that value.
    """
    check_real("target_mib", target_mib, 1, 1 << 20)
    check_real("timeout", timeout, 0, 600)
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        actual = dom.memoryStats().get("actual", 0)
        now = time.monotonic()
        if actual == round(target_mib * 1024) or now > deadline:
            return actual / 1024
        if actual != last:
            last, since = actual, now
        elif now - since >= 1.0:
            return actual / 1024
        time.sleep(0.05)


def attach_guest(dom, timeout: float = COMMAND_TIMEOUT) -> Guest:
    """Reach the guest of a lab VM that is already running (its boot lines are gone)."""
    owned(dom)
    if not dom.isActive():
        raise GuestError(f"VM '{dom.name()}' is not running: boot it with labs.boot_guest(dom).")
    console = Console(dom)
    guest = Guest(dom, console, GuestView(0, 0, "none", "missing", "", 0.0))
    try:
        guest.view = guest.info()
    except GuestError:
        console.close()
        raise
    return guest
