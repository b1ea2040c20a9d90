"""Read and write a lab VM's disk from the host with ``qemu-io``, to see what snapshots capture.

A lab VM has no operating system, so there is no guest to write a file. ``qemu-io`` ("QEMU disk
exerciser", https://www.qemu.org/docs/master/tools/qemu-io.html) opens a disk image through
QEMU's own block layer and reads or writes guest-visible bytes: ``write -P 0xab 0 64k`` fills the
first 64 KiB the guest would see with the byte 0xab, whatever the image format, and
``read -v 0 16`` dumps 16 bytes in hex. Going through the qcow2 driver matters: the file itself
holds qcow2 metadata and clusters in an order of its own, and an internal snapshot lives in that
same file.

This only works on a real host (the test driver has no disks, only bookkeeping), with the VM
shut off (QEMU locks an image that a running guest uses), from a process that may read the image
file (the same host as the daemon, and enough permissions), and only on lab-owned VMs.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from xml.etree import ElementTree as ET

from .._validate import check_int
from .errors import LabUnsupported
from .ownership import owned
from .vms import require_shut_off

_HEX_LINE = re.compile(r"^[0-9a-f]{8}:\s+((?:[0-9a-f]{2} )+)")
MAX_WRITE = 1 << 20
MAX_READ = 4096


def _lab_disk(dom) -> tuple[str, str]:
    """(path, format) of the VM's first disk, after checking that the VM and its volume are
    lab-owned and that the VM is shut off."""
    owned(dom)
    conn = dom.connect()
    if conn.getType() == "TEST":
        raise LabUnsupported(
            "the test driver has no disk contents (its snapshots are bookkeeping only): run this "
            "step on a real host with VIRTBOOK_URI=qemu:///session or qemu:///system.")
    if shutil.which("qemu-io") is None:
        raise LabUnsupported("qemu-io is not installed, so the disk cannot be read from the "
                             "host: install it with `sudo apt install qemu-utils`.")
    require_shut_off(dom, "reading or writing its disk from the host")
    for disk in ET.fromstring(dom.XMLDesc(0)).iter("disk"):
        if disk.get("device", "disk") != "disk":
            continue
        src, drv = disk.find("source"), disk.find("driver")
        if src is not None and src.get("file"):
            owned(conn.storageVolLookupByPath(src.get("file")))
            return src.get("file"), (drv.get("type") if drv is not None else "raw") or "raw"
    raise LabUnsupported(f"VM '{dom.name()}' has no file-backed disk to read or write.")


def _run(args: list[str]) -> str:
    run = subprocess.run(args, capture_output=True, text=True, timeout=60)
    out = run.stdout + run.stderr
    if run.returncode != 0 or "failed" in out.lower():
        raise LabUnsupported(f"qemu-io could not access the disk ({out.strip().splitlines()[-1] if out.strip() else 'no output'}): "
                             "run the lab as a user that may read the image file, or use "
                             "VIRTBOOK_URI=qemu:///session.")
    return run.stdout


def disk_write(dom, byte: int, offset: int = 0, length: int = 65536) -> None:
    """Fill ``length`` bytes of the VM's disk, from ``offset``, with ``byte`` (guest view)."""
    check_int("byte", byte, 0, 255)
    check_int("offset", offset, 0, 1 << 40)
    check_int("length", length, 1, MAX_WRITE)
    path, fmt = _lab_disk(dom)
    _run(["qemu-io", "-f", fmt, "-c", f"write -P {byte} {offset} {length}", path])


def disk_read(dom, offset: int = 0, length: int = 16) -> bytes:
    """Read ``length`` bytes of the VM's disk from ``offset`` (guest view), without changing it."""
    check_int("offset", offset, 0, 1 << 40)
    check_int("length", length, 1, MAX_READ)
    path, fmt = _lab_disk(dom)
    out = _run(["qemu-io", "-r", "-f", fmt, "-c", f"read -v {offset} {length}", path])
    data = bytearray()
    for line in out.splitlines():
        match = _HEX_LINE.match(line)
        if match:
            data.extend(bytes.fromhex(match.group(1)))
    return bytes(data[:length])
