"""Lab-owned VMs, volumes and the labs' storage pool: create them safely, remove only them.

Creation goes through :func:`define` (a guarded ``virDomainDefineXML``) and :func:`created`
(which records a volume the student made), so that everything the labs make is recorded and
marked (see :mod:`virtbook.labs.ownership`). Every helper that removes something checks all three
ownership marks first and raises :class:`~virtbook.labs.errors.NotLabOwned` otherwise.

Two libvirt facts shape this module:

* ``virDomainDefineXML`` does not refuse a definition whose name and UUID match an existing VM:
  "A previous definition for this domain with the same UUID and name would be overridden if it
  already exists" (libvirt API reference, virDomainDefineXML,
  https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainDefineXML). A lab that copied a
  VM's XML and forgot to drop the ``<uuid>`` would silently rewrite that VM, so :func:`define`
  refuses any XML with a ``<uuid>``.
* Internal snapshots need every disk in qcow2 format and, on libvirt 9, BIOS rather than UEFI
  (pflash) firmware for a running VM (libvirt ``src/qemu/qemu_snapshot.c``: "internal snapshots
  of a VM with pflash based firmware are not supported"; "internal snapshot for disk %s
  unsupported for storage type %s"). So lab VMs get a qcow2 disk and SeaBIOS.

The MAC addresses of lab VMs use the prefix 52:54:00, the one QEMU/KVM guests use (virt-manager's
virtinst, ``virtinst/devices/interface.py``, ``_random_mac``: "52-54-00 used by qemu/kvm"; its
first octet 0x52 has the locally-administered bit set), with the last three octets taken from a
hash of the VM's name so that a lab prints the same address on every run.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .._validate import check_int
from . import _libvirt
from .connection import resolve
from .errors import PREFIX, LabError, LabUnsupported, NameTaken, UuidInXML, WrongState
from .ownership import (OWNER_NS, OWNER_PREFIX, POOL_NAME, is_lab_owned,
                        lab_name, owned, owner_element, ownership, record_for)

ET.register_namespace(OWNER_PREFIX, OWNER_NS)

#: Environment variable that chooses the directory of the labs' storage pool on a real host.
POOL_DIR_VARIABLE = "VIRTBOOK_LAB_POOL_DIR"
#: Directory given to the pool on the test driver (bookkeeping only: nothing is created there).
TEST_POOL_DIR = "/var/lib/libvirt/images/virtbook-labs"


# ----------------------------------------------------------------------------------------------
# Which domain type new lab VMs get
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DomainTypeChoice:
    """The ``<domain type=...>`` for lab VMs on a connection, and why it was chosen."""

    type: str
    reason: str


def _guest_arches(caps_xml: str) -> dict[str, set[str]]:
    """Map each guest architecture in a capabilities document to its domain types."""
    root = ET.fromstring(caps_xml)
    arches: dict[str, set[str]] = {}
    for arch in root.iter("arch"):
        name = arch.get("name")
        if name is None:
            continue
        arches.setdefault(name, set()).update(d.get("type") for d in arch.findall("domain"))
    return arches


#: Environment variable that forces the domain type of new lab VMs on a QEMU host ('kvm' or 'qemu').
DOMAIN_TYPE_VARIABLE = "VIRTBOOK_LAB_DOMAIN_TYPE"
#: CPU flags of hardware virtualization: Intel VT-x and AMD-V.
VIRT_FLAGS = ("vmx", "svm")


def _host_cpu_flags(caps_xml: str) -> set[str]:
    """The feature names of the host CPU in a capabilities document."""
    root = ET.fromstring(caps_xml)
    return {f.get("name") for f in root.findall("host/cpu/feature") if f.get("name")}


def domain_type(conn=None) -> DomainTypeChoice:
    """Choose the domain type for lab VMs: 'test' on the test driver; on QEMU 'kvm' only where
    KVM can really run a guest, else 'qemu' (TCG, software emulation).

    libvirt's capabilities may offer 'kvm' on a host where a kvm guest still cannot run: QEMU may
    not be allowed to open /dev/kvm, and on a CPU without hardware virtualization (no vmx or svm
    flag, as inside many cloud VMs) a kvm domain can start and then never execute a guest
    instruction. So 'kvm' is chosen only when the capabilities offer it *and* the host CPU they
    describe has the vmx or svm flag; nothing is started to find out. A kvm guest that still does
    not boot is switched to 'qemu' by :func:`virtbook.labs.boot_guest`, which then records that
    here. ``$VIRTBOOK_LAB_DOMAIN_TYPE`` forces the choice. The result is cached per connection.
    """
    conn = resolve(conn)
    cached = getattr(conn, "_virtbook_domain_type", None)
    if cached is not None:
        return cached
    if conn.getType() == "TEST":
        choice = DomainTypeChoice("test", "the test driver accepts only its own 'test' type")
    else:
        caps = conn.getCapabilities()
        types = _guest_arches(caps).get("x86_64", set())
        if not types:
            raise LabUnsupported(
                "this host offers no x86_64 guests, and the lab VMs need x86_64 with BIOS firmware "
                "(internal snapshots refuse UEFI): run the labs on an x86_64 host or on the test "
                "driver.")
        forced = os.environ.get(DOMAIN_TYPE_VARIABLE, "").strip()
        flags = sorted(_host_cpu_flags(caps) & set(VIRT_FLAGS))
        if forced:
            if forced not in ("kvm", "qemu"):
                raise ValueError(f"{DOMAIN_TYPE_VARIABLE} must be 'kvm' or 'qemu', got {forced!r}")
            if forced not in types:
                raise LabUnsupported(f"{DOMAIN_TYPE_VARIABLE} asks for '{forced}', but this host "
                                     f"offers only {sorted(types)}: unset it.")
            choice = DomainTypeChoice(forced, f"{DOMAIN_TYPE_VARIABLE} asks for it")
        elif "kvm" not in types:
            choice = DomainTypeChoice("qemu", "the host's capabilities offer no 'kvm' domain type")
        elif not flags:
            choice = DomainTypeChoice("qemu", "libvirt offers 'kvm', but the host CPU has no vmx "
                                      "or svm flag (no hardware virtualization), so a kvm guest "
                                      "would not run: TCG emulates the CPU instead")
        else:
            choice = DomainTypeChoice("kvm", f"libvirt offers 'kvm' and the host CPU has the "
                                      f"{flags[0]} flag (hardware virtualization)")
    conn._virtbook_domain_type = choice
    return choice


# ----------------------------------------------------------------------------------------------
# The labs' storage pool
# ----------------------------------------------------------------------------------------------

def pool_directory(conn) -> str:
    """Directory of the labs' pool: ``$VIRTBOOK_LAB_POOL_DIR``, else a per-daemon default."""
    if conn.getType() == "TEST":
        return TEST_POOL_DIR
    explicit = os.environ.get(POOL_DIR_VARIABLE)
    if explicit:
        return str(Path(explicit).expanduser().resolve())
    if conn.getURI().rstrip("/").endswith("/session"):
        data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return str(Path(data) / "libvirt" / "images" / "virtbook-labs")
    return "/var/lib/libvirt/images/virtbook-labs"


def lab_pool(conn=None):
    """The labs' own directory storage pool, defined, built and started on first use.

    A pool of that name left by an earlier session is reused (reusing is harmless); it is only
    ever deleted by :func:`cleanup`, and only when it is in the record and empty.
    """
    conn = resolve(conn)
    libvirt = _libvirt.load()
    try:
        pool = conn.storagePoolLookupByName(POOL_NAME)
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise
        xml = (f"<pool type='dir'><name>{POOL_NAME}</name>"
               f"<target><path>{pool_directory(conn)}</path></target></pool>")
        pool = conn.storagePoolDefineXML(xml, 0)
        record_for(conn).add("pools", pool.UUIDString(), POOL_NAME)
        pool.build(0)
    if not pool.isActive():
        pool.create(0)
    elif conn.getType() != "TEST":
        pool.refresh(0)
    return pool


def created(vol):
    """Record a storage volume the student just created in the labs' pool, and return it.

    Use it around the call that creates the volume, e.g.
    ``new = labs.created(pool.createXMLFrom(xml, source_volume, 0))``, so that
    :func:`cleanup` may delete it later. Only volumes in the labs' pool whose names start with
    the lab prefix can be recorded.
    """
    if type(vol).__name__ != "virStorageVol":
        raise ValueError("vol must be a libvirt virStorageVol (the result of pool.createXML or "
                         f"pool.createXMLFrom), got {type(vol).__name__}")
    pool = vol.storagePoolLookupByVolume()
    if pool.name() != POOL_NAME:
        raise ValueError(f"vol must be in the labs' pool '{POOL_NAME}', got pool '{pool.name()}'")
    if not vol.name().startswith(PREFIX):
        raise ValueError(f"vol name must start with '{PREFIX}', got '{vol.name()}'")
    record_for(vol.connect()).add("volumes", vol.key(), vol.name())
    return vol


def delete_volume(vol) -> None:
    """Delete a lab-owned volume (refuses any other)."""
    owned(vol)
    conn = vol.connect()
    key = vol.key()
    vol.delete(0)
    record_for(conn).discard("volumes", key)


# ----------------------------------------------------------------------------------------------
# Defining VMs
# ----------------------------------------------------------------------------------------------

def _add_owner_metadata(root: ET.Element, lab: str) -> None:
    if root.find(f"metadata/{{{OWNER_NS}}}owner") is not None:
        return
    metadata = root.find("metadata")
    if metadata is None:
        metadata = ET.Element("metadata")
        # <metadata> goes after <name>/<uuid>/<title>/<description> by convention; libvirt accepts
        # it anywhere and re-orders on output.
        root.insert(1, metadata)
    metadata.append(ET.fromstring(owner_element(lab)))


def define(xml: str, *, conn=None, lab: str = "lab"):
    """Define a persistent lab VM from ``xml`` (a guarded ``conn.defineXML``).

    Refuses XML that contains a ``<uuid>`` (:class:`UuidInXML`) or whose name lacks the lab
    prefix (ValueError), and a name that is already taken (:class:`NameTaken`). Adds the owner
    metadata if the XML lacks it, and records the new VM's UUID.
    """
    conn = resolve(conn)
    libvirt = _libvirt.load()
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise ValueError(f"xml must be a well-formed <domain> document, got a parse error: {err}")
    if root.tag != "domain":
        raise ValueError(f"xml must have <domain> as its root element, got <{root.tag}>")
    uuid = root.find("uuid")
    if uuid is not None:
        raise UuidInXML((uuid.text or "").strip())
    name_el = root.find("name")
    name = (name_el.text or "").strip() if name_el is not None else ""
    if not name.startswith(PREFIX):
        raise ValueError(f"the VM name must start with '{PREFIX}' (use labs.lab_name()), "
                         f"got {name!r}")
    try:
        existing = conn.lookupByName(name)
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
    else:
        detail = (f"was created by an earlier run of the labs: remove it with "
                  f"labs.start_over('{name}') and run the cell again, or pick another name"
                  if is_lab_owned(existing) else "was not created by these labs, so they will "
                  "not replace it: pick another name")
        raise NameTaken("VM", name, detail)
    _add_owner_metadata(root, lab)
    text = ET.tostring(root, encoding="unicode")
    assert "<uuid" not in text  # the guarantee this function exists for
    dom = conn.defineXML(text)
    record_for(conn).add("domains", dom.UUIDString(), name)
    return dom


def _used_macs(conn) -> set[str]:
    macs = set()
    for dom in conn.listAllDomains(0):
        for mac in ET.fromstring(dom.XMLDesc(0)).iter("mac"):
            if mac.get("address"):
                macs.add(mac.get("address").lower())
    return macs


def lab_mac(conn, name: str) -> str:
    """A 52:54:00 MAC address derived from ``name``, unused by any VM on ``conn``."""
    used = _used_macs(conn)
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:3], "big")
    for step in range(1 << 24):
        value = (digest + step) % (1 << 24)
        mac = "52:54:00:{:02x}:{:02x}:{:02x}".format(value >> 16, (value >> 8) & 255, value & 255)
        if mac not in used:
            return mac
    raise LabError("every 52:54:00 MAC address is in use on this host, which should not happen: "
                   "remove unused VMs.")


def _lab_vm_size(memory_mib: int, current_memory_mib: int | None, vcpus: int,
                 max_vcpus: int | None) -> tuple[int, int, int, int]:
    """A lab VM's checked (memory_mib, current_memory_mib, vcpus, max_vcpus); the current
    memory defaults to ``memory_mib`` and the vCPU maximum to ``vcpus`` (one check for both
    :func:`lab_vm_xml` and :func:`create_lab_vm`, which must refuse before it changes anything)."""
    memory_mib = check_int("memory_mib", memory_mib, 32, 4096)
    current = memory_mib if current_memory_mib is None else current_memory_mib
    current = check_int("current_memory_mib", current, 16, memory_mib)
    vcpus = check_int("vcpus", vcpus, 1, 16)
    top = check_int("max_vcpus", vcpus if max_vcpus is None else max_vcpus, vcpus, 16)
    return memory_mib, current, vcpus, top


def _cputune_xml(shares: int | None, period: int | None, quota: int | None,
                 pin: str | None, vcpus: int) -> str:
    """A ``<cputune>`` element for the given settings, or '' when there are none."""
    parts = []
    if pin is not None:
        if not re.match(r"^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$", pin):
            raise ValueError(f"pin must be a host CPU set such as '0' or '0-1,3', got {pin!r}")
        parts += [f"<vcpupin vcpu='{v}' cpuset='{pin}'/>" for v in range(vcpus)]
        parts.append(f"<emulatorpin cpuset='{pin}'/>")
    if shares is not None:
        parts.append(f"<shares>{check_int('shares', shares, 2, 262144)}</shares>")
    if period is not None:
        parts.append(f"<period>{check_int('period', period, 1000, 1000000)}</period>")
    if quota is not None:
        if quota != -1:
            check_int("quota", quota, 1000, 17592186044415)
        parts.append(f"<quota>{quota}</quota>")
    return "<cputune>" + "".join(parts) + "</cputune>" if parts else ""


def lab_vm_xml(name: str, disk_path: str | None = None, *, conn=None, lab: str = "lab",
               memory_mib: int = 128, current_memory_mib: int | None = None, vcpus: int = 1,
               max_vcpus: int | None = None, guest: bool = False, shares: int | None = None,
               period: int | None = None, quota: int | None = None,
               pin: str | None = None) -> str:
    """The domain XML of a small lab VM for the connection's driver: no ``<uuid>``, the owner
    metadata, BIOS firmware, a qcow2 disk at ``disk_path`` (no disk when None), one user-mode
    virtio NIC and a virtio balloon. ``name`` gets the lab prefix if it lacks it.

    With ``guest=True`` (real hosts only) the VM boots the lab guest by direct kernel boot and
    gets a serial console (see :mod:`virtbook.labs.guest`); the kernel and initramfs are first
    uploaded into the labs' pool as lab-owned volumes. ``shares``, ``period``, ``quota`` and
    ``pin`` (a host CPU set for every vCPU and the emulator threads) go into ``<cputune>``.

    Nothing is defined: pass the text (changed as you like) to :func:`define`.
    """
    conn = resolve(conn)
    name = lab_name(name)
    memory_mib, current_memory_mib, vcpus, max_vcpus = _lab_vm_size(
        memory_mib, current_memory_mib, vcpus, max_vcpus)
    cputune = _cputune_xml(shares, period, quota, pin, max_vcpus)
    choice = domain_type(conn)
    if guest and choice.type == "test":
        raise LabUnsupported("the test driver cannot run an operating system, so guest=True "
                             "needs a real host (VIRTBOOK_URI=qemu:///system or qemu:///session).")
    extra = ""
    if choice.type == "test":
        os_xml = "<os><type>hvm</type><boot dev='hd'/></os>"
    elif guest:
        from .guest import GUEST_DEVICES_XML, boot_files, guest_os_xml

        os_xml = guest_os_xml(*boot_files(conn))
        extra = GUEST_DEVICES_XML
    else:
        os_xml = "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
    mac = lab_mac(conn, name)
    disk = "" if disk_path is None else f"""
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk_path}'/>
      <target dev='vda' bus='virtio'/>
    </disk>"""
    return f"""<domain type='{choice.type}'>
  <name>{name}</name>
  <title>virtbook lab VM ({lab})</title>
  <metadata>{owner_element(lab)}</metadata>
  <memory unit='MiB'>{memory_mib}</memory>
  <currentMemory unit='MiB'>{current_memory_mib}</currentMemory>
  <vcpu placement='static' current='{vcpus}'>{max_vcpus}</vcpu>{cputune}
  {os_xml}
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>{'destroy' if guest else 'restart'}</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>{disk}
    <interface type='user'>
      <mac address='{mac}'/>
      <model type='virtio'/>
    </interface>{extra}
    <memballoon model='virtio'/>
  </devices>
</domain>"""


def create_lab_vm(name: str, *, conn=None, lab: str = "lab", memory_mib: int = 128,
                  current_memory_mib: int | None = None, vcpus: int = 1,
                  max_vcpus: int | None = None, disk_mib: int = 16, replace: bool = True,
                  guest: bool = False, shares: int | None = None, period: int | None = None,
                  quota: int | None = None, pin: str | None = None):
    """Create (define, not start) a small lab-owned VM that is valid on the current driver.

    The VM gets a qcow2 disk of ``disk_mib`` MiB in the labs' pool, BIOS firmware, ``memory_mib``
    MiB of RAM (``current_memory_mib`` initially, for ballooning), ``vcpus`` of ``max_vcpus``
    vCPUs, one user-mode virtio NIC and a virtio memory balloon. Its domain type comes from
    :func:`domain_type`. With ``guest=True`` (real hosts only) it boots the lab guest, a small
    Linux, by direct kernel boot: start it with :func:`virtbook.labs.boot_guest`. ``shares``,
    ``period``, ``quota`` and ``pin`` set its ``<cputune>`` (see :func:`lab_vm_xml`). With
    ``replace=True`` a lab-owned VM of the same name (left by an earlier or interrupted run) is
    removed first; a VM of that name that the labs did not create is never touched
    (:class:`NameTaken`).
    """
    conn = resolve(conn)
    libvirt = _libvirt.load()
    full = lab_name(name)
    memory_mib, current, vcpus, top = _lab_vm_size(memory_mib, current_memory_mib, vcpus,
                                                   max_vcpus)
    check_int("disk_mib", disk_mib, 1, 1024)
    _cputune_xml(shares, period, quota, pin, top)           # refuse bad values before any change
    if guest and conn.getType() == "TEST":
        raise LabUnsupported("the test driver cannot run an operating system, so guest=True "
                             "needs a real host (VIRTBOOK_URI=qemu:///system or qemu:///session).")
    try:
        existing = conn.lookupByName(full)
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
    else:
        if replace and is_lab_owned(existing):
            remove_vm(existing)
        else:
            raise NameTaken("VM", full, "was not created by these labs, so they will not replace "
                            "it: pick another name" if not is_lab_owned(existing)
                            else "replace=False was given: pick another name")
    pool = lab_pool(conn)
    vol_name = f"{full}.qcow2"
    try:
        old = pool.storageVolLookupByName(vol_name)
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise
    else:
        if is_lab_owned(old):
            delete_volume(old)
        else:
            raise NameTaken("volume", vol_name, "was not created by these labs, so they will not "
                            "delete it: pick another name")
    vol = created(pool.createXML(
        f"<volume><name>{vol_name}</name><capacity unit='MiB'>{disk_mib}</capacity>"
        "<target><format type='qcow2'/></target></volume>", 0))
    try:
        xml = lab_vm_xml(full, vol.path(), conn=conn, lab=lab, memory_mib=memory_mib,
                         current_memory_mib=current, vcpus=vcpus, max_vcpus=top, guest=guest,
                         shares=shares, period=period, quota=quota, pin=pin)
        return define(xml, conn=conn, lab=lab)
    except Exception:
        delete_volume(vol)
        raise


# ----------------------------------------------------------------------------------------------
# Removing what the labs made
# ----------------------------------------------------------------------------------------------

def require_shut_off(dom, action: str) -> None:
    """Raise :class:`WrongState` when ``dom`` is running (``action`` names what needs it off).

    virt-clone has the same rule: the original guest "must be shut off" (virt-clone(1),
    option --original), because a running guest keeps writing to the disk being copied.
    """
    if dom.isActive():
        raise WrongState(f"VM '{dom.name()}' is running, and {action} needs it shut off (a "
                         "running guest keeps writing to its disk, and QEMU locks the image): "
                         "shut it down with dom.shutdown() or stop it with dom.destroy() first.")


def _disk_paths(dom) -> list[str]:
    root = ET.fromstring(dom.XMLDesc(0))
    paths = []
    for disk in root.iter("disk"):
        src = disk.find("source")
        if src is not None and src.get("file"):
            paths.append(src.get("file"))
    return paths


def _undefine_flags(conn) -> int:
    libvirt = _libvirt.load()
    flags = (libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
             | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    if conn.getType() != "TEST":  # the test driver rejects the NVRAM flag
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    return flags


def remove_vm(dom, *, delete_disks: bool = True) -> list[str]:
    """Stop, undefine (with its snapshots' metadata) and, by default, delete the disks of a
    lab-owned VM. Refuses any VM that is not lab-owned. Returns the names removed."""
    owned(dom)
    libvirt = _libvirt.load()
    conn, name, uuid = dom.connect(), dom.name(), dom.UUIDString()
    paths = _disk_paths(dom)
    if dom.isActive():
        dom.destroy()
    dom.undefineFlags(_undefine_flags(conn))
    record_for(conn).discard("domains", uuid)
    removed = [name]
    if delete_disks:
        for path in paths:
            try:
                vol = conn.storageVolLookupByPath(path)
            except libvirt.libvirtError:
                continue
            if is_lab_owned(vol):
                removed.append(vol.name())
                delete_volume(vol)
    return removed


def _lab_domain(conn, vm):
    """``vm`` as a domain object: itself, or the domain named ``vm`` (with or without the lab
    prefix); None when no such domain exists."""
    if not isinstance(vm, str):
        return vm
    libvirt = _libvirt.load()
    try:
        return conn.lookupByName(vm if vm.startswith(PREFIX) else lab_name(vm))
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def stop(*vms, conn=None) -> list[str]:
    """Stop (``destroy``) each lab-owned VM of ``vms`` that is running, so that a task that starts
    VMs can be run again from a known state; return the names stopped.

    Each VM is a domain object or a name (``"l3-clone"`` or ``"vblab-l3-clone"``); a name with no
    VM behind it is skipped, a running VM the labs did not create is refused (NotLabOwned).
    """
    conn = resolve(conn)
    stopped = []
    for vm in vms:
        dom = _lab_domain(conn, vm)
        if dom is None or not dom.isActive():
            continue
        owned(dom).destroy()
        stopped.append(dom.name())
    return stopped


def start_over(*names: str, conn=None) -> list[str]:
    """Remove what an earlier attempt at a task made, so that the task can be run again: for
    each name (``"l3-clone"``), the lab-owned VM ``vblab-l3-clone`` with its snapshots and disks,
    and a volume ``vblab-l3-clone.qcow2`` left in the labs' pool. Return the names removed.

    Only lab-owned objects are removed; a VM or volume of such a name that the labs did not
    create is refused (NotLabOwned), and a name with nothing behind it is skipped.
    """
    conn = resolve(conn)
    libvirt = _libvirt.load()
    removed: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"names must be lab VM names such as 'l3-clone', got {name!r}")
        dom = _lab_domain(conn, name)
        if dom is not None:
            removed += remove_vm(dom)
        full = name if name.startswith(PREFIX) else lab_name(name)
        try:
            pool = conn.storagePoolLookupByName(POOL_NAME)
            vol = pool.storageVolLookupByName(f"{full}.qcow2")
        except libvirt.libvirtError as err:
            if err.get_error_code() not in (libvirt.VIR_ERR_NO_STORAGE_POOL,
                                            libvirt.VIR_ERR_NO_STORAGE_VOL):
                raise
        else:
            owned(vol)
            removed.append(vol.name())
            delete_volume(vol)
    return removed


def remove_snapshots(dom) -> list[str]:
    """Delete every snapshot of a lab-owned VM (leaves first), so that a task that builds a
    snapshot tree can be run again from a VM without snapshots; return the names deleted."""
    owned(dom)
    deleted = []
    snaps = {s.getName(): s for s in dom.listAllSnapshots()}
    while snaps:
        leaves = [n for n, s in snaps.items() if s.numChildren() == 0]
        for name in sorted(leaves):
            snaps.pop(name).delete(0)
            deleted.append(name)
        snaps = {s.getName(): s for s in dom.listAllSnapshots()}
    return deleted


@dataclass
class CleanupReport:
    """What :func:`cleanup` removed, and what lab-looking objects it left alone, and why."""

    removed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"removed {len(self.removed)}: " + (", ".join(self.removed) or "nothing")]
        if self.restored:
            lines.append(f"restored {len(self.restored)} host setting(s): "
                         + ", ".join(self.restored))
        for what, why in self.kept:
            lines.append(f"left alone {what}: {why}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


def _prune_record(conn) -> None:
    """Forget recorded objects that no longer exist (removed by hand, or an old test driver)."""
    libvirt = _libvirt.load()
    rec = record_for(conn)
    for uuid in rec.items("domains"):
        try:
            conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError:
            rec.discard("domains", uuid)
    for key in rec.items("volumes"):
        try:
            conn.storageVolLookupByKey(key)
        except libvirt.libvirtError:
            rec.discard("volumes", key)
    for uuid in rec.items("pools"):
        try:
            conn.storagePoolLookupByUUIDString(uuid)
        except libvirt.libvirtError:
            rec.discard("pools", uuid)


def cleanup(conn=None) -> CleanupReport:
    """Remove every VM, volume and pool the labs created on this host, and nothing else, and put
    back every host-wide setting a lab changed (KSM, see :mod:`virtbook.labs.ksm`).

    Objects whose names start with the lab prefix but fail an ownership check are left alone
    and listed in the report with the reason. Safe to run at any time, any number of times.
    """
    conn = resolve(conn)
    libvirt = _libvirt.load()
    report = CleanupReport()
    _prune_record(conn)
    for dom in sorted(conn.listAllDomains(0), key=lambda d: d.name()):
        if not dom.name().startswith(PREFIX):
            continue
        check = ownership(dom)
        if check.owned:
            report.removed += remove_vm(dom)
        else:
            report.kept.append((check.what, "; ".join(check.reasons)))
    if record_for(conn).items("settings"):
        from .ksm import restore_ksm

        report.restored = restore_ksm(conn)
    try:
        pool = conn.storagePoolLookupByName(POOL_NAME)
    except libvirt.libvirtError:
        return report
    if pool.isActive() and conn.getType() != "TEST":
        pool.refresh(0)
    foreign = []
    if pool.isActive():
        for vol in sorted(pool.listAllVolumes(0), key=lambda v: v.name()):
            check = ownership(vol)
            if check.owned:
                delete_volume(vol)
                report.removed.append(vol.name())
            else:
                foreign.append(vol.name())
                report.kept.append((check.what, "; ".join(check.reasons)))
    check = ownership(pool)
    if not check.owned:
        report.kept.append((check.what, "; ".join(check.reasons)))
    elif foreign:
        report.kept.append((check.what, "it still holds volumes the labs did not create ("
                            + ", ".join(foreign) + ")"))
    else:
        uuid = pool.UUIDString()
        if pool.isActive():
            pool.destroy()
        try:
            pool.delete(0)  # removes the (now empty) directory
        except libvirt.libvirtError:
            pass  # the directory may already be gone; the definition still goes
        pool.undefine()
        record_for(conn).discard("pools", uuid)
        report.removed.append(POOL_NAME)
    return report


# ----------------------------------------------------------------------------------------------
# Proving that nothing else changed
# ----------------------------------------------------------------------------------------------

def fingerprint(conn=None) -> dict[str, str]:
    """A digest of every VM (inactive XML, snapshot names, current snapshot) and every volume
    outside the labs' pool that the labs do not own, and, on a host whose KSM is reachable, the
    KSM settings a lab may change.

    Take one at the start of a lab and compare at the end: equal digests show that the lab left
    everything else exactly as it found it.
    """
    conn = resolve(conn)
    libvirt = _libvirt.load()
    prints: dict[str, str] = {}
    for dom in conn.listAllDomains(0):
        if is_lab_owned(dom):
            continue
        snaps = sorted(s.getName() for s in dom.listAllSnapshots(0))
        try:
            current = dom.snapshotCurrent(0).getName() if snaps else ""
        except libvirt.libvirtError:
            current = ""
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        blob = "\n".join([xml, ",".join(snaps), current]).encode()
        prints["vm:" + dom.name()] = hashlib.sha256(blob).hexdigest()
    for pool in conn.listAllStoragePools(0):
        if pool.name() == POOL_NAME or not pool.isActive():
            continue
        for vol in pool.listAllVolumes(0):
            prints["volume:" + vol.key()] = str(vol.info()[1])
    from . import ksm

    if ksm.unavailable(conn) is None:          # host-wide settings a lab may change (Lab L6)
        for knob, value in ksm.settings().items():
            prints["host:ksm/" + knob] = str(value)
    return prints


def host_summary_rows(conn=None) -> list[tuple[str, str, int, int]]:
    """(name, state, vCPUs, memory MiB) of every VM, sorted by name: the data of L1's figure."""
    conn = resolve(conn)
    states = {0: "no state", 1: "running", 2: "blocked", 3: "paused", 4: "shutting down",
              5: "shut off", 6: "crashed", 7: "suspended"}
    rows = []
    for dom in sorted(conn.listAllDomains(0), key=lambda d: d.name()):
        state, _max_kib, mem_kib, nvcpu, _cpu = dom.info()
        rows.append((dom.name(), states.get(state, str(state)), nvcpu, mem_kib // 1024))
    return rows


_MAC = re.compile(r"^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$")


def is_mac(text: str) -> bool:
    """True for a lower-case colon-separated MAC address.

    >>> is_mac("52:54:00:3a:10:01"), is_mac("52-54-00-3a-10-01")
    (True, False)
    """
    return bool(_MAC.match(text or ""))

