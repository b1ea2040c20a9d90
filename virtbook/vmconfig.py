"""A virtual machine's virtual hardware, read from a libvirt domain XML definition.

A virtual machine is, on disk, little more than a definition of virtual hardware plus one or more
disk images. This module reads the definition in libvirt's domain XML format, turns it into plain
dataclasses (vCPUs, memory, disks, NICs, input, graphics, video, controllers), compares two
definitions, and checks a definition for the conflicts that make libvirt refuse it or make the
guest awkward to use. Chapter 2 of the book uses it to show what a VM is made of.

Sources:

- libvirt, "Domain XML format", https://libvirt.org/formatdomain.html: sections "General
  metadata", "CPU Allocation", "Memory Allocation" (units and rounding), "Hard drives, floppy
  disks, CDROMs", "Device Addresses" (PCI slot 0x00-0x1f, function 0-7), "Controllers", "Network
  interfaces" ("Setting the NIC model"), "Input devices", "Graphical framebuffers", "Video devices".
- libvirt source, src/conf/domain_addr.c (virDomainPCIAddressReserveAddrInternal and
  virDomainPCIAddressBusSetModel): the message "Attempted double use of PCI Address" and the root
  buses' first usable slot, 1; and virPCIDeviceAddressIsEmpty: an address whose domain, bus and
  slot are all zero counts as "no address", whatever its function.
- Behaviour checked against libvirt 9.0 (test driver and QEMU driver): a duplicated disk target and
  a multicast MAC are rejected, a current vCPU count above the maximum is rejected, a
  currentMemory above memory is lowered to memory, a PCI address 0000:00:00.x is replaced by a
  free one, and USB input on a domain whose USB controller has model='none' is rejected.
- QEMU System Emulation, "-usbdevice tablet": a pointer with absolute coordinates lets QEMU report
  the mouse position without grabbing the mouse,
  https://www.qemu.org/docs/master/system/invocation.html

The parser and the checks are pure (standard library only); :mod:`virtbook.figures.vmconfig`
draws the diagram. ``read_test_driver_domain`` imports libvirt-python when it is called, so
importing this module does not need it.

    >>> hw = parse_domain_xml(
    ...     "<domain type='kvm'><name>demo</name><memory unit='GiB'>2</memory>"
    ...     "<vcpu current='1'>2</vcpu></domain>")
    >>> hw.name, hw.vcpus, hw.current_vcpus, hw.memory_mib
    ('demo', 2, 1, 2048.0)
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ._validate import check_int, check_real

__all__ = [
    "PciAddress", "Address", "Disk", "Nic", "Input", "Graphics", "Video", "Controller",
    "OtherDevice", "VirtualHardware", "Change", "Finding", "DomainSource", "MEMORY_UNITS",
    "parse_domain_xml", "diff", "validate", "hardware_rows", "hardware_markdown",
    "changes_markdown", "findings_markdown", "report_markdown", "read_test_driver_domain",
    "mib_text", "need_hardware", "TEST_DRIVER_HOST_CPUS", "TEST_DRIVER_HOST_MEMORY_MIB",
]

#: The fake host of libvirt's default test driver (``test:///default``), as ``virNodeGetInfo``
#: reports it (checked with libvirt 9.0): 16 CPUs and 3072 MiB of memory. Chapter 2's exercise
#: compares the test driver's VM with it; a test checks it against the live driver.
TEST_DRIVER_HOST_CPUS = 16
TEST_DRIVER_HOST_MEMORY_MIB = 3072

#: libvirt's memory units and their size in bytes (formatdomain, "Memory Allocation").
MEMORY_UNITS: dict[str, int] = {
    "b": 1, "bytes": 1,
    "KB": 10**3, "k": 2**10, "KiB": 2**10,
    "MB": 10**6, "M": 2**20, "MiB": 2**20,
    "GB": 10**9, "G": 2**30, "GiB": 2**30,
    "TB": 10**12, "T": 2**40, "TiB": 2**40,
}

#: Ranges of the PCI address attributes (formatdomain, "Device Addresses"; domain_addr.h:
#: VIR_PCI_ADDRESS_SLOT_LAST 31, VIR_PCI_ADDRESS_FUNCTION_LAST 7).
PCI_LIMITS: dict[str, tuple[int, int]] = {
    "domain": (0, 0xFFFF), "bus": (0, 0xFF), "slot": (0, 0x1F), "function": (0, 7),
}

_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


# --------------------------------------------------------------------------------------------
# The data model
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class PciAddress:
    """Where a device sits on the guest's PCI bus: domain, bus, slot (0-31), function (0-7).

    >>> str(PciAddress(0, 0, 3, 0))
    '0000:00:03.0'
    """

    domain: int
    bus: int
    slot: int
    function: int

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"

    @property
    def is_unset(self) -> bool:
        """libvirt reads an address whose domain, bus and slot are all zero as "no address given"
        (virPCIDeviceAddressIsEmpty ignores the function) and assigns a free one itself."""
        return (self.domain, self.bus, self.slot) == (0, 0, 0)


@dataclass(frozen=True)
class Address:
    """A device's ``<address>``: its bus type and position on that bus."""

    type: str
    attrs: tuple[tuple[str, str], ...] = ()
    pci: PciAddress | None = None

    def __str__(self) -> str:
        if self.pci is not None:
            return str(self.pci)
        a = dict(self.attrs)
        if self.type == "drive":
            keys = ("controller", "bus", "target", "unit")
            return "drive " + ":".join(a.get(k, "0") for k in keys)
        if self.type == "usb":
            return f"usb bus {a.get('bus', '?')} port {a.get('port', '?')}"
        inner = " ".join(f"{k}={v}" for k, v in self.attrs)
        return f"{self.type} {inner}".strip()


@dataclass(frozen=True)
class Disk:
    """A ``<disk>``: what the guest sees (device, bus, target name) and what backs it on the host
    (the image ``source`` and its ``format``, libvirt's ``<driver type=...>``)."""

    device: str
    bus: str
    target: str
    format: str
    source: str
    readonly: bool = False
    address: Address | None = None

    @property
    def label(self) -> str:
        return f"{'CD-ROM' if self.device == 'cdrom' else self.device} {self.target}"


@dataclass(frozen=True)
class Nic:
    """An ``<interface>``: the NIC ``model`` the guest sees, its MAC, and the host-side
    ``source`` (a libvirt network or a bridge) it is plugged into."""

    type: str
    model: str
    mac: str
    source: str
    address: Address | None = None

    @property
    def label(self) -> str:
        return f"NIC {self.mac or '(MAC chosen by libvirt)'}"


@dataclass(frozen=True)
class Input:
    """An ``<input>``: ``type`` mouse (relative), tablet (absolute), keyboard, ...; ``bus`` ps2,
    usb, virtio or xen."""

    type: str
    bus: str
    address: Address | None = None

    @property
    def label(self) -> str:
        return f"input {self.type} ({self.bus})"


@dataclass(frozen=True)
class Graphics:
    """A ``<graphics>`` framebuffer: how the host exports the guest's screen (vnc, spice, ...).
    It lives on the host side; the guest sees only the video device."""

    type: str
    listen: str = ""
    port: str = ""
    autoport: bool = False

    @property
    def label(self) -> str:
        return f"graphics {self.type}"


@dataclass(frozen=True)
class Video:
    """A ``<video>`` device: the display adapter the guest drives (vga, qxl, virtio, ...)."""

    model: str
    heads: int = 1
    vram_kib: int | None = None
    primary: bool = False
    address: Address | None = None

    @property
    def label(self) -> str:
        return f"video {self.model}"


@dataclass(frozen=True)
class Controller:
    """A ``<controller>``: a bus the guest's devices hang off (pci, usb, ide, sata, scsi, ...)."""

    type: str
    index: int
    model: str = ""
    address: Address | None = None

    @property
    def label(self) -> str:
        return f"controller {self.type} {self.index}"


@dataclass(frozen=True)
class OtherDevice:
    """Any other device element (memballoon, serial, rng, ...), kept so its address is checked."""

    tag: str
    model: str = ""
    address: Address | None = None

    @property
    def label(self) -> str:
        return f"{self.tag} {self.model}".strip()


Device = Disk | Nic | Input | Video | Controller | OtherDevice


@dataclass(frozen=True)
class VirtualHardware:
    """Everything a domain XML says about a VM's virtual hardware.

    ``vcpus`` is the maximum (the text of ``<vcpu>``), ``current_vcpus`` the number enabled at
    boot. Memory is kept in KiB, as libvirt stores it; ``memory_mib`` and
    ``current_memory_mib`` convert.
    """

    name: str
    domain_type: str
    vcpus: int
    current_vcpus: int
    memory_kib: int
    current_memory_kib: int
    uuid: str = ""
    arch: str = ""
    machine: str = ""
    cpu_mode: str = ""
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = ()
    inputs: tuple[Input, ...] = ()
    graphics: tuple[Graphics, ...] = ()
    videos: tuple[Video, ...] = ()
    controllers: tuple[Controller, ...] = ()
    others: tuple[OtherDevice, ...] = ()

    @property
    def memory_mib(self) -> float:
        return self.memory_kib / 1024

    @property
    def current_memory_mib(self) -> float:
        return self.current_memory_kib / 1024

    @property
    def devices(self) -> tuple[Device, ...]:
        """Every guest-visible device, in a fixed order."""
        return (*self.disks, *self.nics, *self.inputs, *self.videos, *self.controllers,
                *self.others)

    @property
    def pci_devices(self) -> list[tuple[PciAddress, Device]]:
        """(address, device) of every device with an explicit PCI address, in address order."""
        found = [(d.address.pci, d) for d in self.devices
                 if d.address is not None and d.address.pci is not None]
        return sorted(found, key=lambda pair: pair[0])


@dataclass(frozen=True)
class Change:
    """One difference between two definitions: ``kind`` is added, removed or changed."""

    kind: str
    component: str
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Finding:
    """One problem ``validate`` found. ``severity`` "error" means libvirt refuses the definition;
    "warning" means libvirt accepts it but the guest will not behave as the author expects."""

    severity: str
    rule: str
    message: str
    devices: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class DomainSource:
    """A domain XML and where it came from (``origin`` is "libvirt" or "shipped")."""

    xml: str
    origin: str
    note: str


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

def _int(text: str | None, what: str, lo: int, hi: int | None = None) -> int:
    """An integer (decimal, or hex with 0x) in lo..hi, or a ValueError naming ``what``."""
    raw = (text or "").strip()
    try:
        value = int(raw, 16) if raw.lower().startswith("0x") else int(raw, 10)
    except ValueError:
        value = None
    rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
    if value is None or value < lo or (hi is not None and value > hi):
        raise ValueError(f"{what} must be an integer {rng}, got {raw!r}")
    return value


def _memory_kib(el: ET.Element, what: str) -> int:
    """A memory element in KiB, rounded up to a whole KiB as libvirt does."""
    unit = el.get("unit", "KiB")
    if unit not in MEMORY_UNITS:
        raise ValueError(f"{what} unit must be one of {', '.join(MEMORY_UNITS)}, got {unit!r}")
    amount = _int(el.text, f"<{what}>", 1)
    return math.ceil(amount * MEMORY_UNITS[unit] / 1024)


def _address(parent: ET.Element) -> Address | None:
    el = parent.find("address")
    if el is None:
        return None
    kind = el.get("type", "")
    if not kind:
        raise ValueError(f"<address> of <{parent.tag}> needs a type attribute "
                         "(pci, drive, usb, ...)")
    attrs = tuple((k, v) for k, v in el.attrib.items() if k != "type")
    pci = None
    if kind == "pci" and any(k in el.attrib for k in PCI_LIMITS):
        values = {}
        for key, (lo, hi) in PCI_LIMITS.items():
            if key in el.attrib:
                values[key] = _int(el.get(key), f"PCI {key} of <{parent.tag}>", lo, hi)
            else:
                values[key] = 0
        pci = PciAddress(**values)
    return Address(kind, attrs, pci)


def _mac(text: str | None) -> str:
    if text is None:
        return ""
    if not _MAC.match(text):
        raise ValueError(f"mac address must be six hex octets like 52:54:00:12:34:56, got {text!r}")
    return text.lower()


def _disk(el: ET.Element) -> Disk:
    target = el.find("target")
    if target is None or not target.get("dev"):
        raise ValueError("every <disk> needs <target dev='...'/> "
                         "(the name the guest sees, e.g. vda)")
    driver = el.find("driver")
    source = el.find("source")
    src = ""
    if source is not None:
        src = (source.get("file") or source.get("dev") or source.get("name")
               or source.get("volume") or source.get("dir") or "")
    dev = target.get("dev")
    bus = target.get("bus") or _bus_from_name(dev)
    return Disk(device=el.get("device", "disk"), bus=bus, target=dev,
                format=driver.get("type", "") if driver is not None else "",
                source=src, readonly=el.find("readonly") is not None or el.get("device") == "cdrom",
                address=_address(el))


def _bus_from_name(dev: str) -> str:
    """libvirt infers a missing disk bus from the target name (formatdomain, "target")."""
    prefixes = (("vd", "virtio"), ("sd", "scsi"), ("hd", "ide"), ("xvd", "xen"), ("fd", "fdc"))
    for prefix, bus in prefixes:
        if dev.startswith(prefix):
            return bus
    return ""


def _nic(el: ET.Element) -> Nic:
    mac = el.find("mac")
    model = el.find("model")
    source = el.find("source")
    src = ""
    if source is not None:
        src = (source.get("network") or source.get("bridge") or source.get("dev") or "")
        if source.get("network"):
            src = f"network {src}"
        elif source.get("bridge"):
            src = f"bridge {src}"
    return Nic(type=el.get("type", ""), model=model.get("type", "") if model is not None else "",
               mac=_mac(mac.get("address") if mac is not None else None), source=src,
               address=_address(el))


def parse_domain_xml(xml: str) -> VirtualHardware:
    """Parse a libvirt domain XML document into a :class:`VirtualHardware`.

    Raises ValueError, naming the element or attribute and its allowed values, when the text is
    not well-formed XML, is not a ``<domain>``, lacks a name, memory or vCPU count, uses an
    unknown memory unit, or has a PCI address or MAC address libvirt's parser would reject.
    Conflicts between otherwise valid devices are left to :func:`validate`.
    """
    if not isinstance(xml, str) or not xml.strip():
        raise ValueError("xml must be a non-empty string holding a <domain> document")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise ValueError(f"xml is not well-formed XML: {err}") from None
    if root.tag != "domain":
        raise ValueError(f"the root element must be <domain>, got <{root.tag}>")
    name = (root.findtext("name") or "").strip()
    if not name:
        raise ValueError("<name> is required and must not be empty")
    mem_el = root.find("memory")
    if mem_el is None:
        raise ValueError("<memory> is required (the maximum memory at boot, default unit KiB)")
    memory = _memory_kib(mem_el, "memory")
    cur_el = root.find("currentMemory")
    current_memory = _memory_kib(cur_el, "currentMemory") if cur_el is not None else memory
    vcpu_el = root.find("vcpu")
    if vcpu_el is None:
        raise ValueError("<vcpu> is required (the maximum number of virtual CPUs, >= 1)")
    vcpus = _int(vcpu_el.text, "<vcpu>", 1)
    current = (_int(vcpu_el.get("current"), "<vcpu current=...>", 1)
               if vcpu_el.get("current") else vcpus)
    os_type = root.find("os/type")
    cpu = root.find("cpu")
    devices = root.find("devices")
    disks, nics, inputs, graphics, videos, controllers, others = [], [], [], [], [], [], []
    for el in (devices if devices is not None else []):
        if el.tag == "disk":
            disks.append(_disk(el))
        elif el.tag == "interface":
            nics.append(_nic(el))
        elif el.tag == "input":
            if not el.get("type"):
                raise ValueError("<input> needs a type "
                                 "(mouse, tablet, keyboard, passthrough, evdev)")
            inputs.append(Input(el.get("type"), el.get("bus", ""), _address(el)))
        elif el.tag == "graphics":
            listen = el.get("listen", "")
            lst = el.find("listen")
            if not listen and lst is not None:
                listen = lst.get("address", "") or lst.get("type", "")
            graphics.append(Graphics(el.get("type", ""), listen, el.get("port", ""),
                                     el.get("autoport") == "yes"))
        elif el.tag == "video":
            model = el.find("model")
            m = model if model is not None else ET.Element("model")
            vram = m.get("vram")
            videos.append(Video(m.get("type", ""), _int(m.get("heads", "1"), "video heads", 1),
                                _int(vram, "video vram", 0) if vram else None,
                                m.get("primary") == "yes", _address(el)))
        elif el.tag == "controller":
            controllers.append(Controller(el.get("type", ""),
                                          _int(el.get("index", "0"), "controller index", 0),
                                          el.get("model", ""), _address(el)))
        elif el.tag not in ("emulator",):
            model = el.get("model") or (el.find("model").get("type", "")
                                        if el.find("model") is not None else "")
            others.append(OtherDevice(el.tag, model, _address(el)))
    return VirtualHardware(
        name=name, domain_type=root.get("type", ""), vcpus=vcpus, current_vcpus=current,
        memory_kib=memory, current_memory_kib=current_memory,
        uuid=(root.findtext("uuid") or "").strip(),
        arch=os_type.get("arch", "") if os_type is not None else "",
        machine=os_type.get("machine", "") if os_type is not None else "",
        cpu_mode=cpu.get("mode", "custom") if cpu is not None else "",
        disks=tuple(disks), nics=tuple(nics), inputs=tuple(inputs), graphics=tuple(graphics),
        videos=tuple(videos), controllers=tuple(controllers), others=tuple(others))


# --------------------------------------------------------------------------------------------
# Describing, comparing and checking
# --------------------------------------------------------------------------------------------

def mib_text(kib: int) -> str:
    """A size in KiB as MiB for a table or a diagram: whole MiB without decimals.

    >>> mib_text(2 * 1024 * 1024), mib_text(1536)
    ('2048 MiB', '1.5 MiB')
    """
    mib = kib / 1024
    return f"{mib:.0f} MiB" if mib == int(mib) else f"{mib:.1f} MiB"


def _describe(d: Device | Graphics) -> tuple[str, str, str]:
    """(model or bus, details, guest address) of one device, for tables and diffs."""
    addr = str(d.address) if getattr(d, "address", None) is not None else ""
    if isinstance(d, Disk):
        ro = ", read-only" if d.readonly else ""
        return d.bus, f"{d.format or 'format ?'}{ro}, image {d.source or '(none)'}", addr
    if isinstance(d, Nic):
        mac = d.mac or "MAC chosen by libvirt"
        return d.model or "(hypervisor default)", f"{mac} on {d.source or d.type}", addr
    if isinstance(d, Input):
        how = {"tablet": "absolute pointer", "mouse": "relative pointer"}.get(d.type, d.type)
        return d.bus or "(default)", how, addr
    if isinstance(d, Graphics):
        where = f"listens on {d.listen}" if d.listen else "listen address from host config"
        port = "port chosen at start" if d.autoport or d.port == "-1" else f"port {d.port}"
        return d.type, f"{where}, {port} (host side)", ""
    if isinstance(d, Video):
        extra = f", {d.vram_kib} KiB VRAM" if d.vram_kib else ""
        heads = f"{d.heads} head{'s' if d.heads != 1 else ''}"
        return d.model, f"{heads}{', primary' if d.primary else ''}{extra}", addr
    if isinstance(d, Controller):
        return d.model or "(default)", "bus for other devices", addr
    return d.model or "", "", addr


def hardware_rows(hw: VirtualHardware) -> list[tuple[str, str, str, str]]:
    """The virtual hardware as (component, model or bus, details, guest address) rows."""
    need_hardware(hw, "hw")
    cur = f" ({hw.current_vcpus} enabled at boot)" if hw.current_vcpus != hw.vcpus else ""
    rows = [("vCPUs", hw.cpu_mode or "(hypervisor default)", f"{hw.vcpus}{cur}", ""),
            ("memory", "", f"{mib_text(hw.memory_kib)} (current {mib_text(hw.current_memory_kib)})", "")]
    for d in (*hw.disks, *hw.nics, *hw.inputs, *hw.graphics, *hw.videos, *hw.controllers,
              *hw.others):
        rows.append((d.label, *_describe(d)))
    return rows


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(head: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_escape(c) if c else "-" for c in r) + " |" for r in rows]
    return "\n".join(lines)


def hardware_markdown(hw: VirtualHardware) -> str:
    """The virtual hardware as a Markdown table.

    >>> print(hardware_markdown(parse_domain_xml(
    ...     "<domain><name>t</name><memory>1024</memory><vcpu>1</vcpu></domain>")))
    | component | model / bus | details | guest address |
    |---|---|---|---|
    | vCPUs | (hypervisor default) | 1 | - |
    | memory | - | 1 MiB (current 1 MiB) | - |
    """
    return _md_table(("component", "model / bus", "details", "guest address"), hardware_rows(hw))


def need_hardware(value, name: str) -> None:
    """Students often pass the XML text itself; say what is expected instead of failing later."""
    if not isinstance(value, VirtualHardware):
        raise ValueError(f"{name} must be a VirtualHardware from parse_domain_xml(), "
                         f"got {type(value).__name__}")


def _keyed(items: Iterable, key) -> dict[str, object]:
    """Items keyed by ``key(item)``, with #2, #3 ... appended to repeated keys."""
    seen: Counter = Counter()
    out: dict[str, object] = {}
    for item in items:
        k = key(item)
        seen[k] += 1
        out[k if seen[k] == 1 else f"{k} #{seen[k]}"] = item
    return out


def _inventory(hw: VirtualHardware) -> dict[str, str]:
    """Component name -> one-line description, for :func:`diff`."""
    inv = {
        "name": hw.name, "hypervisor type": hw.domain_type, "architecture": hw.arch,
        "machine type": hw.machine, "vCPU model": hw.cpu_mode,
        "vCPUs (max)": str(hw.vcpus), "vCPUs (at boot)": str(hw.current_vcpus),
        "memory": mib_text(hw.memory_kib), "current memory": mib_text(hw.current_memory_kib),
    }
    groups = (
        (hw.disks, lambda d: f"disk {d.target}"),
        (hw.nics, lambda n: f"NIC {n.mac}" if n.mac else "NIC (MAC chosen by libvirt)"),
        (hw.inputs, lambda i: f"input {i.type} ({i.bus or 'default'})"),
        (hw.graphics, lambda g: f"graphics {g.type}"),
        (hw.videos, lambda v: "video"),
        (hw.controllers, lambda c: f"controller {c.type} {c.index}"),
        (hw.others, lambda o: o.tag),
    )
    for items, key in groups:
        for k, d in _keyed(items, key).items():
            model, details, addr = _describe(d)
            inv[k] = ", ".join(p for p in (model, details, f"at {addr}" if addr else "") if p)
    return inv


def diff(before: VirtualHardware, after: VirtualHardware) -> list[Change]:
    """What changed from ``before`` to ``after``: added, removed and changed components.

    Devices are matched by what identifies them to libvirt: disks by target name, NICs by MAC,
    controllers by type and index; a device whose description differs is "changed".

    >>> a = parse_domain_xml("<domain><name>a</name><memory>1024</memory><vcpu>1</vcpu></domain>")
    >>> b = parse_domain_xml("<domain><name>a</name><memory>1024</memory><vcpu>2</vcpu></domain>")
    >>> [(c.kind, c.component, c.before, c.after) for c in diff(a, b)]
    [('changed', 'vCPUs (max)', '1', '2'), ('changed', 'vCPUs (at boot)', '1', '2')]
    """
    need_hardware(before, "before")
    need_hardware(after, "after")
    old, new = _inventory(before), _inventory(after)
    changes = []
    for key, value in new.items():
        if key not in old:
            changes.append(Change("added", key, "", value))
        elif old[key] != value:
            changes.append(Change("changed", key, old[key], value))
    changes += [Change("removed", key, value, "") for key, value in old.items() if key not in new]
    return changes


def changes_markdown(changes: list[Change]) -> str:
    """Changes as a Markdown table (or a sentence when there are none)."""
    if not changes:
        return "No differences: both definitions describe the same virtual hardware."
    return _md_table(("change", "component", "before", "after"),
                     ((c.kind, c.component, c.before, c.after) for c in changes))


_SRC_ADDR = "libvirt src/conf/domain_addr.c; formatdomain 'Device Addresses'"
_SRC_LIBVIRT9 = "behaviour of libvirt 9.0 (test and QEMU drivers)"
_SRC_TABLET = "QEMU docs, -usbdevice tablet; formatdomain 'Input devices'"


def validate(hw: VirtualHardware, host_cpus: int | None = None,
             host_memory_mib: float | None = None) -> list[Finding]:
    """Check a definition for conflicts; return the findings, errors first.

    Errors are what libvirt itself refuses: two devices on one PCI address ("Attempted double
    use of PCI Address"), two disks with one target name, a multicast MAC, more vCPUs at boot
    than the maximum, USB devices with USB disabled. Warnings are accepted by libvirt but surprise
    the user: a PCI address 0000:00:00.x (libvirt ignores it and picks a slot), two NICs with one
    MAC, currentMemory above memory (libvirt lowers it), a graphical console with only a relative
    mouse (the viewer must grab the pointer), and, when the host's size is given, a guest larger
    than its host.

    ``host_cpus`` and ``host_memory_mib``, when given, must be positive.
    """
    need_hardware(hw, "hw")
    if host_cpus is not None:
        check_int("host_cpus", host_cpus, 1)
    if host_memory_mib is not None:
        check_real("host_memory_mib", host_memory_mib, 0.0, lo_open=True)
    found: list[Finding] = []
    by_addr: dict[PciAddress, list[str]] = defaultdict(list)
    for addr, dev in hw.pci_devices:
        by_addr[addr].append(dev.label)
    for addr, labels in by_addr.items():
        if addr.is_unset:
            found.append(Finding(
                "warning", "pci-address-unset",
                f"{', '.join(labels)}: address {addr} has domain, bus and slot 0, which libvirt "
                "reads as 'no address given'; it will pick a free slot itself", tuple(labels),
                _SRC_LIBVIRT9))
        elif len(labels) > 1:
            found.append(Finding(
                "error", "pci-double-use",
                f"Attempted double use of PCI Address {addr}: {' and '.join(labels)}",
                tuple(labels), _SRC_ADDR))
    for target, disks in _group(hw.disks, lambda d: d.target).items():
        if len(disks) > 1:
            found.append(Finding(
                "error", "disk-target-duplicate",
                f"target '{target}' duplicated for disk sources "
                + " and ".join(f"'{d.source}'" for d in disks),
                tuple(d.label for d in disks), _SRC_LIBVIRT9))
    for nic in hw.nics:
        if nic.mac and int(nic.mac[:2], 16) & 1:
            found.append(Finding(
                "error", "mac-multicast",
                f"expected unicast mac address, found multicast '{nic.mac}' (lowest bit of the "
                "first octet set)", (nic.label,), _SRC_LIBVIRT9))
    for mac, nics in _group([n for n in hw.nics if n.mac], lambda n: n.mac).items():
        if len(nics) > 1:
            found.append(Finding(
                "warning", "mac-duplicate",
                f"{len(nics)} NICs share MAC {mac}: on one network their frames and ARP replies "
                "collide", tuple(n.label for n in nics), _SRC_LIBVIRT9))
    if hw.current_vcpus > hw.vcpus:
        found.append(Finding(
            "error", "vcpu-current",
            f"maximum vCPU count ({hw.vcpus}) must not be less than current vCPU count "
            f"({hw.current_vcpus})", ("vCPUs",), _SRC_LIBVIRT9))
    if hw.current_memory_kib > hw.memory_kib:
        found.append(Finding(
            "warning", "memory-current",
            f"currentMemory {mib_text(hw.current_memory_kib)} is above memory "
            f"{mib_text(hw.memory_kib)}; libvirt lowers it to {mib_text(hw.memory_kib)}",
            ("memory",), _SRC_LIBVIRT9))
    usb_off = any(c.type == "usb" and c.model == "none" for c in hw.controllers)
    usb_devs = [d.label for d in (*hw.inputs, *hw.disks) if d.bus == "usb"]
    if usb_off and usb_devs:
        found.append(Finding(
            "error", "usb-disabled",
            f"Can't add USB device ({', '.join(usb_devs)}): the USB bus is disabled "
            "(controller model='none')", tuple(usb_devs), _SRC_LIBVIRT9))
    pointers = [i for i in hw.inputs if i.type in ("mouse", "tablet")]
    if hw.graphics and not any(i.type == "tablet" for i in pointers):
        found.append(Finding(
            "warning", "pointer-relative-only",
            "graphical console with only a relative mouse: the viewer must grab the host's "
            "pointer and the two cursors drift apart; add <input type='tablet' bus='usb'/> for "
            "absolute pointing", tuple(i.label for i in pointers) or ("input",), _SRC_TABLET))
    if host_cpus is not None and hw.current_vcpus > host_cpus:
        found.append(Finding(
            "warning", "vcpus-exceed-host",
            f"{hw.current_vcpus} vCPUs on a host with {host_cpus} CPUs: they cannot all run at "
            "the same time, so they take turns", ("vCPUs",), "arithmetic"))
    if host_memory_mib is not None and hw.memory_mib > host_memory_mib:
        found.append(Finding(
            "warning", "memory-exceeds-host",
            f"{mib_text(hw.memory_kib)} of guest memory on a host with {host_memory_mib:g} MiB: the "
            "guest can only run if the host overcommits memory (chapter 6)", ("memory",),
            "arithmetic"))
    return sorted(found, key=lambda f: f.severity != "error")


def _group(items: Iterable, key) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


def findings_markdown(findings: list[Finding]) -> str:
    """Findings as a Markdown list (or a sentence when there are none)."""
    if not findings:
        return "No conflicts found."
    return "\n".join(f"- **{f.severity}** `{f.rule}`: {_md_escape(f.message)}" for f in findings)


def report_markdown(hw: VirtualHardware, reference: VirtualHardware | None = None) -> str:
    """Table, changes against ``reference`` (if given) and findings, as one Markdown text."""
    parts = [f"**{hw.name}**: {hw.vcpus} vCPUs, {mib_text(hw.memory_kib)}, "
             f"{len(hw.devices)} devices", hardware_markdown(hw)]
    if reference is not None:
        parts += [f"**Changes against {reference.name}**", changes_markdown(diff(reference, hw))]
    parts += ["**Checks**", findings_markdown(validate(hw))]
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------------
# Reading a live definition from libvirt's test driver
# --------------------------------------------------------------------------------------------

def read_test_driver_domain(fallback: str | Path, name: str = "test",
                            uri: str = "test:///default") -> DomainSource:
    """Read domain ``name`` from libvirt's in-memory test driver, or the shipped ``fallback``.

    The test driver is a fake hypervisor that keeps all state in the calling process
    (https://libvirt.org/drvtest.html), so this touches no real VM. When libvirt-python is not
    installed, or the connection fails, the shipped copy of the same definition is returned and
    ``note`` says so. A silent error handler is registered before any libvirt call, because
    libvirt's default handler writes to the process's stderr.
    """
    if not isinstance(uri, str) or not uri.startswith("test:///"):
        raise ValueError(f"uri must be a libvirt test driver URI (test:///...), got {uri!r}")
    path = Path(fallback)
    if not path.is_file():
        raise ValueError(f"fallback must be an existing domain XML file, got {str(fallback)!r}")
    shipped = path.read_text(encoding="utf-8")
    try:
        import libvirt  # type: ignore[import-not-found]
    except ImportError:
        return DomainSource(shipped, "shipped",
                            "libvirt-python is not installed: showing the shipped copy "
                            f"{path.name}")
    libvirt.registerErrorHandler(lambda *args: None, None)
    try:
        conn = libvirt.open(uri)
        try:
            xml = conn.lookupByName(name).XMLDesc(0)
            version = conn.getLibVersion()
        finally:
            conn.close()
    except libvirt.libvirtError as err:
        return DomainSource(shipped, "shipped",
                            f"libvirt could not read {name!r} from {uri} "
                            f"({err.get_error_message()}): "
                            f"showing the shipped copy {path.name}")
    v = f"{version // 1_000_000}.{version // 1000 % 1000}.{version % 1000}"
    return DomainSource(xml, "libvirt", f"read live from the libvirt {v} test driver ({uri})")
