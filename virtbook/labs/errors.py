"""The labs' own exceptions, and :func:`explain`: any error a student can meet, in one sentence.

libvirt reports failures as ``libvirt.libvirtError`` carrying a numeric code (``virErrorNumber``),
the subsystem that raised it, and a message. The codes are listed in libvirt's API reference,
"virterror: error handling interfaces", https://libvirt.org/html/libvirt-virterror.html. The
messages below were observed on libvirt 9.0 (Debian 12) with both the test driver and the QEMU
driver, and checked against libvirt's sources (``src/qemu/qemu_snapshot.c``,
``src/test/test_driver.c``, ``src/libvirt.c``).

:func:`explain` turns such an error into a single sentence that says what happened and what to do,
so a lab cell can print it instead of a stack trace:

    >>> explain(NotLabOwned("web01", ["its name does not start with 'vblab-'"]))
    "web01 was not created by these labs (its name does not start with 'vblab-'), so the labs will not change or delete it: work on a lab VM made with labs.create_lab_vm()."
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "vblab-"


class LabError(Exception):
    """Base class of the labs' own errors; ``str(err)`` is already one explanatory sentence."""


class LibvirtMissing(LabError, ImportError):
    """libvirt-python cannot be imported."""

    def __init__(self) -> None:
        super().__init__(
            "libvirt-python is not installed, so the labs cannot talk to libvirt: install it with "
            "`pip install libvirt-python` (it compiles against libvirt's headers, so first "
            "`sudo apt install libvirt-dev pkg-config`); every chapter of the book still runs "
            "without it.")


class NotLabOwned(LabError):
    """A destructive operation was refused because the object is not lab-owned."""

    def __init__(self, what: str, reasons: list[str]) -> None:
        self.what = what
        self.reasons = list(reasons)
        super().__init__(
            f"{what} was not created by these labs ({'; '.join(reasons)}), so the labs will not "
            "change or delete it: work on a lab VM made with labs.create_lab_vm().")


class NameTaken(LabError):
    """A name the lab wants is already used by something the lab may not remove."""

    def __init__(self, kind: str, name: str, detail: str) -> None:
        self.kind, self.name = kind, name
        super().__init__(f"a {kind} named '{name}' already exists and {detail}.")


class WrongState(LabError):
    """The VM is in the wrong state for the requested operation (e.g. cloning a running VM)."""


class UuidInXML(LabError, ValueError):
    """A domain XML given to :func:`virtbook.labs.define` still contains a ``<uuid>``."""

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        super().__init__(
            f"xml must not contain <uuid> (it has {uuid}): libvirt's virDomainDefineXML silently "
            "replaces the definition of an existing VM with the same name and UUID, so remove the "
            "element and let libvirt generate a fresh UUID.")


class LabUnsupported(LabError):
    """The operation needs a real hypervisor (or a tool) that this connection does not have."""


@dataclass(frozen=True)
class _Rule:
    """One explanation: libvirt error-code names it applies to, an optional message pattern."""

    codes: tuple[str, ...]
    pattern: str | None
    sentence: str


# Order matters: the first matching rule wins, so specific patterns come before generic codes.
_RULES: tuple[_Rule, ...] = (
    _Rule(("VIR_ERR_SYSTEM_ERROR", "VIR_ERR_NO_CONNECT", "VIR_ERR_INTERNAL_ERROR"),
          r"[Ff]ailed to connect socket to '([^']+)': (?:No such file or directory|Connection refused)",
          "No libvirt daemon is listening on {0}: start it (`sudo systemctl start libvirtd`, or "
          "`sudo tools/start_libvirt.sh` where there is no systemd) or unset VIRTBOOK_URI to use "
          "the built-in test driver."),
    _Rule(("VIR_ERR_SYSTEM_ERROR", "VIR_ERR_NO_CONNECT"),
          r"[Ff]ailed to connect socket to '([^']+)': Permission denied",
          "You may not open the daemon's socket {0}: join the 'libvirt' group "
          "(`sudo usermod -aG libvirt $USER`, then log in again) or use "
          "VIRTBOOK_URI=qemu:///session, which needs no privileges."),
    _Rule(("VIR_ERR_AUTH_UNAVAILABLE", "VIR_ERR_AUTH_FAILED", "VIR_ERR_AUTH_CANCELLED",
           "VIR_ERR_ACCESS_DENIED", "VIR_ERR_INTERNAL_ERROR"),
          r"polkit|system bus",
          "polkit refused (or could not be asked) whether you may manage VMs on this daemon: join "
          "the 'libvirt' group (`sudo usermod -aG libvirt $USER`, then log in again), run an "
          "authentication agent, or use VIRTBOOK_URI=qemu:///session."),
    _Rule(("VIR_ERR_NO_CONNECT",), r"no connection driver available for (\S+)",
          "No libvirt driver understands the URI {0}: set VIRTBOOK_URI to qemu:///session or "
          "qemu:///system, or unset it to use the built-in test driver."),
    _Rule(("VIR_ERR_OPERATION_DENIED",), r"(\w+) with secure flag",
          "A read-only connection may not read the security-sensitive parts of a definition "
          "(such as console passwords), so libvirt refused {0} with VIR_DOMAIN_XML_SECURE: drop "
          "the flag, or use a read-write connection."),
    _Rule(("VIR_ERR_OPERATION_DENIED",), r"read only access prevents (\w+)",
          "This connection is read-only, so libvirt refused {0}: a read-only connection can only "
          "look, so open a read-write one with labs.connect() to change anything."),
    _Rule(("VIR_ERR_OPERATION_FAILED", "VIR_ERR_DOM_EXIST"),
          r"domain '([^']+)' already exists",
          "A VM named '{0}' already exists: if an earlier attempt of this lab made it, remove it "
          "with labs.start_over('{0}') (it removes only what the labs created) and run the cell "
          "again; otherwise pick another name."),
    _Rule(("VIR_ERR_STORAGE_VOL_EXIST", "VIR_ERR_OPERATION_FAILED"),
          r"(?:storage volume '([^']+)' exists already|storage vol already exists)",
          "A storage volume with that name already exists in the pool: if an earlier attempt of "
          "this task made it, remove it with labs.start_over(NAME), NAME being the VM's name "
          "(the volume's without '.qcow2'; it removes only what the labs created), and run the "
          "cell again; otherwise pick another name."),
    _Rule(("VIR_ERR_OPERATION_FAILED", "VIR_ERR_INVALID_ARG"),
          r"domain (?:moment|snapshot) '?([^' ]+)'? already exists",
          "This VM already has a snapshot named '{0}', probably from an earlier run of the cell: "
          "delete the VM's snapshots with labs.remove_snapshots(dom) (lab VMs only) and run the "
          "cell again, or pick another name."),
    _Rule(("VIR_ERR_NO_DOMAIN",), None,
          "No such VM on this connection: list the names with "
          "[d.name() for d in conn.listAllDomains()] and check the spelling (lab VMs start with "
          "'" + PREFIX + "')."),
    _Rule(("VIR_ERR_NO_DOMAIN_SNAPSHOT",), r"does not have a current snapshot",
          "This VM has no current snapshot (it has none, or the current one was deleted): create "
          "one with dom.snapshotCreateXML() first."),
    _Rule(("VIR_ERR_NO_DOMAIN_SNAPSHOT",), None,
          "No such snapshot on this VM: list its snapshots with "
          "[s.getName() for s in dom.listAllSnapshots()] and check the name; if an earlier run "
          "of a cell deleted it, run the cells that made it again (in Lab L2, from Task 2 on)."),
    _Rule(("VIR_ERR_NO_STORAGE_VOL",), None,
          "No such storage volume: list the pool's volumes with "
          "[v.name() for v in pool.listAllVolumes()] (call pool.refresh() first if files were "
          "added behind libvirt's back)."),
    _Rule(("VIR_ERR_NO_STORAGE_POOL",), None,
          "No such storage pool: list them with [p.name() for p in conn.listAllStoragePools()]."),
    _Rule(("VIR_ERR_OPERATION_INVALID", "VIR_ERR_INTERNAL_ERROR"), r"already running",
          "The VM is already running, so it cannot be started again: check dom.isActive() "
          "first, or stop it with dom.destroy() before starting it."),
    _Rule(("VIR_ERR_OPERATION_INVALID",), r"(?:domain )?is not running",
          "The VM is shut off, and this operation needs a running VM: start it with dom.create() "
          "first, or use the VIR_DOMAIN_AFFECT_CONFIG flag to change its saved configuration."),
    _Rule(("VIR_ERR_OPERATION_INVALID",),
          r"cannot (?:delete inactive domain|undefine domain) with (\d+) snapshots",
          "libvirt will not undefine a VM that still has {0} snapshot(s), because their metadata "
          "would be orphaned: delete the snapshots first, or pass "
          "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA to dom.undefineFlags()."),
    _Rule(("VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_OPERATION_UNSUPPORTED"),
          r"internal snapshot for disk (\w+) unsupported for storage type (\w+)",
          "Disk {0} is in {1} format, and internal snapshots can only live inside qcow2 files: "
          "convert the disk to qcow2 (`qemu-img convert -O qcow2`) or take an external, "
          "disk-only snapshot instead."),
    _Rule(("VIR_ERR_OPERATION_UNSUPPORTED", "VIR_ERR_CONFIG_UNSUPPORTED"),
          r"pflash based firmware",
          "This VM boots UEFI firmware from pflash, whose variable store cannot hold an internal "
          "snapshot of a running VM: shut the VM down first or take an external snapshot (the lab "
          "VMs boot BIOS firmware for this reason)."),
    _Rule(("VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_OPERATION_UNSUPPORTED"),
          r"revert to external snapshot",
          "This libvirt is older than 9.9 and cannot revert to an external snapshot: revert by "
          "pointing the disk back at the snapshot's backing file by hand, upgrade libvirt, or use "
          "internal snapshots, which revert on any version."),
    _Rule(("VIR_ERR_SNAPSHOT_REVERT_RISKY",), r"revert requires force: (.*)",
          "libvirt refuses this revert because it could lose state ({0}): read the reason, and "
          "only if you accept the loss repeat it with VIR_DOMAIN_SNAPSHOT_REVERT_FORCE."),
    _Rule(("VIR_ERR_INTERNAL_ERROR", "VIR_ERR_OPERATION_FAILED", "VIR_ERR_SYSTEM_ERROR"),
          r"(?:failed to initialize kvm|Could not access KVM kernel module)",
          "QEMU could not use KVM on this host (no hardware virtualization, or no permission on "
          "/dev/kvm): use domain type 'qemu' (software emulation), which labs.create_lab_vm() "
          "picks when the host CPU shows no vmx/svm flag, or set VIRTBOOK_LAB_DOMAIN_TYPE=qemu."),
    _Rule(("VIR_ERR_OPERATION_FAILED",), r"Active console session exists",
          "Another client (perhaps a `virsh console` in a terminal, or a second notebook) holds "
          "this VM's console, and only one may: close that session (Ctrl+] in virsh console) and "
          "run the cell again; the labs never force another client off."),
    _Rule(("VIR_ERR_OPERATION_INVALID", "VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_OPERATION_FAILED",
           "VIR_ERR_OPERATION_UNSUPPORTED", "VIR_ERR_INTERNAL_ERROR"),
          r"(?:cgroup CPU controller is not mounted|CPU tuning is not available)",
          "CPU shares, period and quota live in the host's cgroup 'cpu' controller, which this "
          "daemon cannot use (qemu:///session has no cgroups, and some containers hide the "
          "controller): run this step against qemu:///system on a host with the cpu controller, "
          "or leave <cputune> out."),
    _Rule(("VIR_ERR_OPERATION_INVALID", "VIR_ERR_OPERATION_FAILED", "VIR_ERR_INTERNAL_ERROR"),
          r"cgroup CPUACCT controller is not mounted",
          "libvirt counts a VM's CPU time per host CPU in the host's cgroup 'cpuacct' controller, "
          "which this daemon cannot use (qemu:///session has no cgroups): run this step against "
          "qemu:///system, or read the total from dom.info()[4] instead."),
    _Rule(("VIR_ERR_INVALID_ARG",), r"cannot set memory higher than max memory",
          "The balloon can only shrink a VM below its <memory> maximum, never grow it past it: "
          "ask for at most dom.maxMemory() KiB, or raise <memory> while the VM is shut off."),
    _Rule(("VIR_ERR_INVALID_ARG",),
          r"(?:requested vcpus is greater than max|requested cpu amount exceeds maximum)",
          "A running VM can only hot-plug vCPUs up to the maximum in its <vcpu> element: ask for "
          "at most dom.vcpusFlags(VIR_DOMAIN_VCPU_MAXIMUM), or raise the maximum while it is "
          "shut off."),
    _Rule(("VIR_ERR_INVALID_ARG", "VIR_ERR_NO_SUPPORT", "VIR_ERR_ARGUMENT_UNSUPPORTED"),
          r"unsupported flags \((0x[0-9a-f]+)\) in function (\w+)",
          "This driver does not implement flags {0} for {1}: the test driver fakes only part of "
          "the API, so try the call without flags, or run the lab on a real host "
          "(VIRTBOOK_URI=qemu:///session)."),
    _Rule(("VIR_ERR_NO_SUPPORT",), r"this function is not supported by the connection driver: (\w+)",
          "This driver does not implement {0}: the test driver fakes only part of the API, so run "
          "this step on a real host (VIRTBOOK_URI=qemu:///session)."),
    _Rule(("VIR_ERR_XML_ERROR", "VIR_ERR_XML_DETAIL", "VIR_ERR_XML_INVALID_SCHEMA"), r"(.*)",
          "libvirt could not accept the XML ({0}): compare it with the format in "
          "https://libvirt.org/formatdomain.html and fix the element it names."),
)


#: virErrorLevel values share the VIR_ERR_ prefix with the error codes; they are not codes.
_LEVELS = ("VIR_ERR_NONE", "VIR_ERR_WARNING", "VIR_ERR_ERROR")


def _code_names(libvirt_module) -> dict[int, str]:
    """Map each virErrorNumber to its name, for the libvirt version installed."""
    return {getattr(libvirt_module, n): n for n in sorted(dir(libvirt_module))
            if n.startswith(("VIR_ERR_", "VIR_WAR_")) and n not in _LEVELS
            and isinstance(getattr(libvirt_module, n), int)}


def _explain_libvirt(err, libvirt_module) -> str:
    code = err.get_error_code()
    message = err.get_error_message() or str(err)
    name = _code_names(libvirt_module).get(code, f"error {code}")
    for rule in _RULES:
        if code not in {getattr(libvirt_module, n, None) for n in rule.codes}:
            continue
        if rule.pattern is None:
            return rule.sentence
        match = re.search(rule.pattern, message)
        if match:
            return rule.sentence.format(*[g or "" for g in match.groups()])
    return (f"libvirt reported \"{message}\" ({name}): look the code up in libvirt's error list "
            "(https://libvirt.org/html/libvirt-virterror.html) and check the object's state.")


def explain(error: BaseException) -> str:
    """One sentence about ``error``: what happened, and what to do next.

    Accepts a ``libvirt.libvirtError``, one of this package's :class:`LabError` subclasses, an
    ImportError for libvirt itself, or any other exception (whose text is returned as is).
    """
    if isinstance(error, LabError):
        return str(error)
    if isinstance(error, ImportError) and getattr(error, "name", None) in (None, "libvirt",
                                                                             "libvirtmod"):
        if "libvirt" in str(error) or getattr(error, "name", None) in ("libvirt", "libvirtmod"):
            return str(LibvirtMissing())
    if hasattr(error, "get_error_code") and hasattr(error, "get_error_message"):
        import libvirt  # a libvirtError implies libvirt is imported already

        return _explain_libvirt(error, libvirt)
    text = str(error).strip() or type(error).__name__
    return text if text.endswith(".") else text + "."
