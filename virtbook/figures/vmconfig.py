"""Chapter 2's diagram of a VM's virtual hardware: boxes on the guest's buses.

The parsed definition, its PCI addresses and the checks that find conflicts are
:mod:`virtbook.vmconfig`'s; this module draws them, marking a device in conflict with a thick
outline, a cross hatch and the word CONFLICT, so that the problem is visible without colour.
"""
from __future__ import annotations

from collections import defaultdict

from matplotlib.patches import FancyBboxPatch

from virtbook.figures import style
from virtbook.vmconfig import (Controller, Device, Disk, Finding, Graphics, Input, Nic,
                               PciAddress, Video, VirtualHardware, mib_text, need_hardware,
                               validate)


def _short(text: str, width: int = 22) -> str:
    return text if len(text) <= width else text[:width - 1] + "~"


def _kind(dev: Device) -> tuple[str, str, int]:
    """(short name, model, palette index) of a device, for the diagram's boxes."""
    if isinstance(dev, Disk):
        return ("CD-ROM " if dev.device == "cdrom" else "disk ") + dev.target, dev.bus, 2
    if isinstance(dev, Nic):
        return "NIC", dev.model or "default", 3
    if isinstance(dev, Video):
        return "video", dev.model, 4
    if isinstance(dev, Input):
        return dev.type, dev.bus or "default", 6
    if isinstance(dev, Controller):
        return f"{dev.type.upper()} ctrl", dev.model or dev.type, 7
    return dev.tag, dev.model, 7


def _short_pci(addr: PciAddress) -> str:
    return str(addr) if addr.domain else str(addr)[5:]


def draw_diagram(hw: VirtualHardware, ax=None, findings: list[Finding] | None = None,
                 title: str | None = None):
    """Draw the virtual hardware as boxes on buses; return the matplotlib Figure.

    vCPUs, memory and the host bridge sit above the guest's PCI bus; every PCI device hangs
    below it in address order, labelled with its slot; devices on a controller's own bus (USB,
    IDE/SATA/SCSI, the chipset's PS/2 port) hang below that controller, and the host-side
    display server (vnc, spice) is drawn dashed below the video card. Devices named in an error
    finding (``findings``, by default ``validate(hw)``) get a thick outline, a cross hatch and
    the word CONFLICT, so the problem is visible without colour. ``title`` defaults to
    "Virtual hardware of <name>".
    """
    need_hardware(hw, "hw")
    if findings is None:
        findings = validate(hw)
    conflicted = {label for f in findings if f.severity == "error" for label in f.devices}
    if ax is None:
        _, ax = style.figure(style.COLUMN_WIDTH, 4.2)
    fig = ax.figure
    ax.set_axis_off()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)

    def box(x, y, w, h, text, kind=0, dashed=False, conflict=False):
        shape = dict(boxstyle="round,pad=0,rounding_size=1.0")
        # the hatch is drawn in a light tint of the box's colour, the outline on top in dark grey
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, **shape, linewidth=0,
                                    facecolor=style.color(kind) + "2e",
                                    edgecolor=(style.color(5) if conflict
                                               else style.color(kind) + "99"),
                                    hatch="xxx" if conflict else style.hatch(kind)))
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, **shape, facecolor="none",
                                    linewidth=2.6 if conflict else 0.9,
                                    edgecolor=style.color(5) if conflict else "#333333",
                                    linestyle="--" if dashed else "-"))
        ax.text(x, y, ("CONFLICT\n" if conflict else "") + text, ha="center", va="center",
                fontsize=6.4, linespacing=1.15, fontweight="bold" if conflict else "normal",
                bbox=dict(boxstyle="round,pad=0.15", facecolor="white", alpha=0.8,
                          edgecolor="none"))

    def line(x0, y0, x1, y1, dashed=False):
        ax.plot([x0, x1], [y0, y1], color="#333333", linewidth=0.9,
                linestyle="--" if dashed else "-", zorder=0)

    bus_y = 64
    box(13, 88, 20, 11, f"{hw.vcpus} vCPU{'s' if hw.vcpus != 1 else ''}\n"
        f"{hw.cpu_mode or 'default model'}", kind=0)
    box(38, 88, 20, 11, f"memory\n{mib_text(hw.memory_kib)}", kind=1)
    box(66, 88, 26, 11, f"host bridge\n{hw.machine or hw.domain_type or 'machine'}", kind=7)
    for x in (13, 38, 66):
        line(x, 82.5, x, bus_y)
    ax.plot([2, 98], [bus_y, bus_y], color="#333333", linewidth=3.0, solid_capstyle="butt")
    root = next((c.model for c in hw.controllers if c.type == "pci" and c.index == 0), "")
    ax.text(98, bus_y + 1.5, "PCI bus 0" + (f" ({root})" if root else ""), ha="right",
            va="bottom", fontsize=7, fontstyle="italic")

    # one column per PCI device (address order), then implicit buses, then unaddressed devices
    columns: list[tuple[str, Device | None, str]] = [
        (_short_pci(a), d, _kind(d)[0]) for a, d in hw.pci_devices]
    col_of: dict[tuple[str, int], int] = {
        (d.type, d.index): i for i, (_, d, _) in enumerate(columns) if isinstance(d, Controller)}
    children: dict[int, list] = defaultdict(list)

    def hang(key: tuple[str, int], header: str, child) -> None:
        if key not in col_of:
            col_of[key] = len(columns)
            columns.append((header, None, f"{key[0]} bus"))
        children[col_of[key]].append(child)

    for d in hw.disks:
        if d.address is None or d.address.pci is None:
            if d.bus in ("ide", "sata", "scsi", "fdc"):
                ctl = int(dict(d.address.attrs).get("controller", "0")) if d.address else 0
                hang((d.bus, ctl), "implicit", d)
            elif d.bus == "usb":
                hang(("usb", 0), "implicit", d)
    for inp in hw.inputs:
        if inp.bus == "usb":
            hang(("usb", 0), "implicit", inp)
        elif inp.bus in ("ps2", ""):
            hang(("ps2", 0), "chipset", inp)
    for dev in (*hw.disks, *hw.nics, *hw.videos):
        if dev.address is None and not (isinstance(dev, Disk) and dev.bus != "virtio"):
            columns.append(("(auto)", dev, _kind(dev)[0]))

    n = max(len(columns), 1)
    width = min(96 / n, 15)
    left = 2 + (96 - width * n) / 2
    for i, (where, dev, name) in enumerate(columns):
        x = left + width * (i + 0.5)
        line(x, bus_y, x, 52)
        if dev is not None:
            _, model, kind = _kind(dev)
            text = f"{where}\n{name}\n{_short(model, 12)}"
            box(x, 46, width - 1.4, 12, text, kind=kind,
                conflict=dev.label in conflicted)
        else:
            label = "PS/2 (i8042)" if where == "chipset" else name.replace(" bus", " ctrl")
            box(x, 46, width - 1.4, 12, f"{where}\n{label}", kind=7, dashed=where != "chipset")
        stack = list(children.get(i, []))
        if isinstance(dev, Video) and hw.graphics:
            stack.append(hw.graphics[0])
        for j, child in enumerate(stack):
            cy = 27 - j * 14
            if isinstance(child, Graphics):
                line(x, 40, x, cy + 5.5, dashed=True)
                box(x, cy, width - 1.4, 11, f"{child.type} server\n(on the host)", kind=7,
                    dashed=True)
                continue
            line(x, 40 if j == 0 else cy + 19.5, x, cy + 5.5)
            cname, cmodel, ckind = _kind(child)
            box(x, cy, width - 1.4, 11, f"{cname}\n{cmodel}", kind=ckind,
                conflict=child.label in conflicted)
    ax.set_title(title if title is not None else f"Virtual hardware of {hw.name}", fontsize=10)
    return fig
