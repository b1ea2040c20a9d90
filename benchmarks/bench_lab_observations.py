"""Measure on a real libvirt host what labs L1 to L4 tell a reader a real host shows.

The solutions of exercises ex-l1-5, ex-l2-6, ex-l3-5, ex-l4-4 and ex-l4-5 say "on a real host you
should see ..." and quote ranges; the ranges live in :mod:`virtbook.labs.observed`, each with the
date, the host and this command. This script repeats the labs' own steps, on lab VMs of its own,
``--runs`` times, and prints every quantity's values, its minimum and maximum, and whether each
value lies inside the range the book quotes:

- L1 Task 5: one guest (128 MiB, 1 vCPU) from start to its ready line; its boot lines; its
  ``MemTotal``;
- L2 Task 6: a snapshot of the running guest with its memory, taken as soon as the guest is
  ready: how much longer the guest's uptime was 2 s later, before the revert, and just after the
  revert, than at the snapshot;
- L3 Task 5: two guests started side by side, until both are ready;
- L4 Task 4: ``MemTotal`` with the balloon at 128 MiB and at 80 MiB;
- L4 Task 5: the share of a CPU a busy guest gets without a cap and with a 25 % quota.

:func:`measure_once` is also what ``tests/test_realhost.py`` runs once, to assert that a real run
lies inside each quoted range.

Usage (from the repository root; needs the guest, ``make guest``, and a daemon)::

    python benchmarks/bench_lab_observations.py              # 5 runs on qemu:///system
    python benchmarks/bench_lab_observations.py --runs 10
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from virtbook import labs
from virtbook.labs import observed

SNAPSHOT_XML = "<domainsnapshot><name>{name}</name></domainsnapshot>"


def measure_once(conn) -> dict[str, float]:
    """One run of every observation, {name in observed.RANGES: value}; removes what it made."""
    libvirt = labs.load_libvirt()
    live = libvirt.VIR_DOMAIN_AFFECT_LIVE
    out: dict[str, float] = {}
    try:
        labs.cleanup(conn)
        # L1 Task 5 (and the VM that L2's and L4's steps then use, as freshly booted as theirs)
        dom = labs.create_lab_vm("obs-one", conn=conn, lab="obs", memory_mib=128, guest=True)
        guest = labs.boot_guest(dom)
        out["l1_ready_s"] = guest.boot_seconds
        out["l1_boot_lines"] = len(guest.boot_lines)
        out["l1_memtotal_mib"] = guest.view.memtotal_kib / 1024
        # L2 Task 6: snapshot the running guest, let it run 2 s, revert
        guest.mark("before-snapshot")
        at_snapshot = guest.uptime()
        snap = dom.snapshotCreateXML(SNAPSHOT_XML.format(name="live"), 0)
        time.sleep(2)
        guest.mark("after-snapshot")
        out["l2_ran_before_revert_s"] = guest.uptime() - at_snapshot
        dom.revertToSnapshot(snap, 0)
        guest.reconnect()
        assert guest.mark() == "before-snapshot", "the revert did not bring the guest's memory back"
        out["l2_after_revert_s"] = guest.uptime() - at_snapshot
        # L4 Task 4: the balloon at 128 MiB, then at 80 MiB
        out["l4_memtotal_128_mib"] = guest.memtotal_kib() / 1024
        dom.setMemoryFlags(80 * 1024, live)
        labs.wait_for_balloon(dom, 80)
        out["l4_memtotal_80_mib"] = guest.memtotal_kib() / 1024
        dom.setMemoryFlags(128 * 1024, live)
        labs.wait_for_balloon(dom, 128)
        # L4 Task 5: a busy guest without a cap, then with 25,000 us per 100,000 us
        guest.spin(1)
        out["l4_share_free"] = labs.measure_cpu([dom], 3)[0].total_share
        labs.set_cpu_limits(dom, period=100_000, quota=25_000)
        out["l4_share_capped"] = labs.measure_cpu([dom], 3)[0].total_share
        guest.stop()
        guest.close()
        labs.stop(dom, conn=conn)
        # L3 Task 5: two guests started side by side
        pair = [labs.create_lab_vm(f"obs-pair{i}", conn=conn, lab="obs", memory_mib=128, guest=True)
                for i in range(2)]
        guests = labs.boot_guests(pair)
        out["l3_both_ready_s"] = max(g.boot_seconds for g in guests)
        for g in guests:
            g.close()
    finally:
        labs.cleanup(conn)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    args = parser.parse_args(argv)
    conn = labs.connect(os.environ.get(labs.URI_VARIABLE) or "qemu:///system", quiet=True)
    runs = []
    for i in range(args.runs):
        runs.append(measure_once(conn))
        print(f"run {i + 1}: load average {os.getloadavg()[0]:.2f}: "
              + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
    kind = labs.domain_type(conn)
    conn.close()
    print(f"{args.runs} runs, domain type {kind.type} ({kind.reason})")
    for name, rng in observed.RANGES.items():
        values = [r[name] for r in runs]
        inside = sum(v in rng for v in values)
        print(f"{name}: min {min(values):.2f} max {max(values):.2f} {rng.unit}; "
              f"quoted {rng.text()}: {inside}/{len(values)} inside")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
