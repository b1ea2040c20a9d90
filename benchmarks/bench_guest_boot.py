"""Time the labs' guest from start to its ready line, on a real libvirt host.

Boots one lab VM (``create_lab_vm(..., guest=True)``) ``--runs`` times with
:func:`virtbook.labs.boot_guest` and reports the median and the 95th percentile of two times: from
the start (the VM is started paused, its console opened, then resumed) to the ready line, and the
guest kernel's own uptime at its ready line. Then it removes what it made (``labs.cleanup``).

Usage (from the repository root; needs the guest, ``make guest``, and a daemon)::

    python benchmarks/bench_guest_boot.py                      # 10 boots on qemu:///system
    VIRTBOOK_URI=qemu:///session python benchmarks/bench_guest_boot.py --runs 3
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import Summary, count, header

from virtbook import labs


def measure(runs: int, memory_mib: int = 128) -> tuple[list[float], list[float], str]:
    """(seconds to the ready line, guest uptime at ready, domain type and reason) of ``runs`` boots."""
    conn = labs.connect(os.environ.get(labs.URI_VARIABLE) or "qemu:///system", quiet=True)
    try:
        labs.cleanup(conn)
        dom = labs.create_lab_vm("bench-boot", conn=conn, lab="bench", memory_mib=memory_mib,
                                 guest=True)
        ready, uptime = [], []
        for _ in range(runs):
            guest = labs.boot_guest(dom)
            ready.append(guest.boot_seconds)
            uptime.append(guest.view.uptime)
            guest.close()
            dom.destroy()
        choice = labs.domain_type(conn)
        return ready, uptime, f"{choice.type} ({choice.reason})"
    finally:
        labs.cleanup(conn)
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=count(1), default=10, help="boots (default 10)")
    args = parser.parse_args(argv)
    ready, uptime, kind = measure(args.runs)
    print("\n".join(header()))
    print(f"lab guest, 128 MiB, 1 vCPU, domain type {kind}; {args.runs} boots")
    print(f"start to ready line: {Summary.of(ready).line()}")
    print(f"guest uptime at ready: {Summary.of(uptime).line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
