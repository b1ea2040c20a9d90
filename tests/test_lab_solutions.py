"""The numbers the labs' worked solutions quote, checked where they come from.

L1 to L4 describe what the test-driver fleet (labs/fleet.xml) and the labs' helpers give, and
what a real host shows; the labs' own check cells assert the real-host numbers when they run on
one. L5 and L6 quote their simulator numbers as inline expressions; the few they work out by hand,
and the models of their real-host tasks (L5's two guests on one CPU, L6's three guests under KSM),
are asserted here.
tests/test_solution_numbers.py lists each number against the test below that asserts it.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from booklib import ROOT, load_notebook, source
from virtbook import labs
from virtbook.cpu import VM as CpuVM
from virtbook.cpu import Host as CpuHost
from virtbook.cpu import IOBound, simulate as cpu_simulate
from virtbook.memory import PAGES_PER_MB, thresholds

libvirt = pytest.importorskip("libvirt")


def _checks(lab: str) -> str:
    """The lab's check cells ("# Check your work"), joined."""
    nb = load_notebook(ROOT / "labs" / lab)
    return "\n".join(source(c) for c in nb["cells"]
                     if c["cell_type"] == "code" and source(c).startswith("# Check your work"))


def test_l1_fleet_numbers():
    conn = labs.connect(quiet=True)
    try:
        model, memory_mib, cpus, _, nodes, sockets, cores, threads = conn.getInfo()
        assert (cpus, memory_mib) == (16, 65536)                      # ex-l1-1
        assert (nodes, sockets, cores, threads) == (1, 1, 8, 2)
        running = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        assert sorted(d.name() for d in running) == ["db01", "web01"]  # ex-l1-2
        assert sum(d.info()[3] for d in running) == 6
        assert sum(d.info()[2] for d in running) // 1024 == 10240     # KiB / 1024 = MiB
    finally:
        conn.close()


def test_l2_to_l4_lab_vm_defaults_and_checks():
    defaults = inspect.signature(labs.create_lab_vm).parameters
    # the lab VM has 1 vCPU and 128 MiB (ex-l1-5, ex-l2-3, ex-l4-4) on a 16 MiB disk (ex-l3-2)
    assert (defaults["memory_mib"].default, defaults["disk_mib"].default) == (128, 16)
    assert defaults["vcpus"].default == 1
    l2 = _checks("02-snapshots.ipynb")
    assert "assert memory_after_revert_mib == 128" in l2
    # ex-l2-3 and ex-l2-4: back at v1 the disk starts with 0x22 (four bytes); before the revert
    # it held 0x55; ex-l2-5: two snapshots (base, v1) remain, which undefine() refuses
    assert "bytes_after_revert == bytes([0x22] * 4)" in l2
    assert "bytes_after_delete == bytes([0x22] * 4)" in l2
    assert "bytes([0x55] * 4)" in l2 and "lab_vm.snapshotNum() == 2" in l2
    # ex-l3-3: the source disk starts with 0xab, the clone's with 0xcd
    l3 = _checks("03-clones.ipynb")
    assert "source_bytes == bytes([0xAB] * 4)" in l3 and "clone_bytes == bytes([0xCD] * 4)" in l3
    # ex-l4-1: one live vCPU, a maximum of 2, so asking for 2 + 1 = 3 is refused
    l4 = _checks("04-resource-controls.ipynb")
    assert "vcpus_before == 1" in l4 and "vcpus_max == 2" in l4 and "vcpus_after == 2" in l4
    # ex-l4-4: the balloon goes from 128 MiB to the lowest target, 80 MiB: 48 MiB less, and the
    # real-host check asserts that MemTotal falls by the same amount
    tasks = "\n".join(source(c) for c in load_notebook(ROOT / "labs" / "04-resource-controls.ipynb")["cells"])
    assert "targets_mib = [128, 112, 96, 80, 112, 128]" in tasks and 128 - 80 == 48
    # ex-l4-5: a quota of 25,000 us per period of 100,000 us is a quarter of a CPU
    assert "PERIOD, QUOTA = 100_000, 25_000" in tasks and 25_000 / 100_000 == 0.25
    assert 2 + 1 == 3


def test_l5_hand_numbers():
    # ex-l5-1: 3/4 against a default competitor needs three times its weight: 768 / (768 + 256)
    # under credit, 300 / (300 + 100) under CFS
    assert 3 * 256 == 768 and 768 / (768 + 256) == 0.75 == 3 / 4
    assert 3 * 100 == 300 and 300 / (300 + 100) == 0.75
    # ex-l5-3: IOBound(4, 6) demands 4 / (4 + 6) = 0.4 pCPU; three always-busy VMs on two pCPUs
    # (a ratio of 1.5) are each ready about 33 percent of the time
    assert 4 / (4 + 6) == 0.4 and 3 / 2 == 1.5
    r = cpu_simulate(CpuHost(pcpus=2), [CpuVM(f"v{i}") for i in range(3)], "credit",
                     duration_ms=6000)
    assert round(np.mean(list(r.vcpu_ready_pct.values()))) == 33
    assert IOBound(run_ms=4, block_ms=6).run_ms == 4


def test_l6_hand_numbers():
    # ex-l6-1: each guest touches 80 % of 2 GiB, 1638 MB; the soft threshold is 4 percent of the
    # 16384 MB host, 655 MB; the cliff is shown at 16 VMs, the largest fleet the lab runs
    assert int(0.80 * 2048) == 1638
    soft_mb = thresholds(16384).soft / PAGES_PER_MB
    assert round(soft_mb) == 655 and round(100 * soft_mb / 16384) == 4
    nb = "\n".join(source(c) for c in load_notebook(ROOT / "labs" / "06-overcommit-experiments.ipynb")["cells"])
    assert "HOST_MB = 16384" in nb and "fleet_sizes = list(range(1, 17))" in nb
    # ex-l6-4: at tau = 0.75 an idle page costs 1 / (1 - 0.75) = 4 active ones
    assert "taus = (0.0, 0.25, 0.5, 0.75)" in nb and 1 / (1 - 0.75) == 4


def test_l5_task6_model_of_two_guests_on_one_cpu():
    # ex-l5-6: libvirt's <shares> 1024 and 2048 are weights 100 and 200 on the simulator's scale;
    # on one pCPU CFS gives them 1/3 and 2/3, and a quota of 25,000 us per 100,000 us holds
    # l5-high to 0.25 while l5-low gets the rest, 0.75
    from virtbook.cpu import cpu_weight_from_shares

    assert cpu_weight_from_shares(1024, cgroup=1) == 100
    assert cpu_weight_from_shares(2048, cgroup=1) == 200
    shares = cpu_simulate(CpuHost(pcpus=1), [CpuVM("l5-low", cpu_weight=100),
                                             CpuVM("l5-high", cpu_weight=200)],
                          "cfs", duration_ms=3000).cpu_share
    assert abs(shares["l5-high"] / shares["l5-low"] - 2.00) < 0.01
    capped = cpu_simulate(CpuHost(pcpus=1), [CpuVM("l5-low", cpu_weight=100),
                                             CpuVM("l5-high", cpu_weight=200, quota_us=25_000,
                                                   period_us=100_000)],
                          "cfs", duration_ms=3000).cpu_share
    assert round(capped["l5-high"], 2) == 0.25 and round(capped["l5-low"], 2) == 0.75
    assert 25_000 / 100_000 == 0.25


def test_l6_task5_model_counts_what_identical_pages_save():
    # ex-l6-5: 3 guests x 32 MiB filled = 24,576 pages of one content, kept as one KSM page per
    # 256 sharers (96 pages): 24,480 saved; with the other 96 MiB of each guest identical as well,
    # two more copies of it are saved: 24,480 + 2 x 24,576 = 73,632. ksmd's nominal rate is
    # 1000 pages per 10 ms = 100,000 pages/s, so the 98,304 pages of the three guests take 0.98 s
    # a full scan, and a page merges on its second (mm/ksm.c).
    from virtbook.memory import VM as MemVM
    from virtbook.memory import Host as MemHost
    from virtbook.memory import Phase
    from virtbook.memory import simulate as mem_simulate

    fill = 3 * 32 * 256
    assert fill == 24_576 and fill - fill // 256 == 24_480
    assert 24_480 + 2 * 96 * 256 == 73_632 and 3 * 128 * 256 / (1000 * 1000 / 10) == 0.98304
    assert MemHost(ram_mb=1024).max_page_sharing == 256
    for identical, saved in ((0.0, 24_480), (1.0, 73_632)):
        vms = [MemVM(f"l6-{i}", 128, zero_frac=0.25, os_frac=identical * 0.75,
                     phases=(Phase("booted", 15, 1.0, 0.0),), ramp_s=0, jitter=0, cow_rate=0)
               for i in range(3)]
        r = mem_simulate(MemHost(ram_mb=1024, pages_to_scan=1000, sleep_millisecs=10,
                                 ksm_thres_coef=100), vms, duration_s=15, dt_s=0.5,
                         techniques=("share",))
        assert int(r.ksm["pages_sharing"][-1]) == saved
        assert int(r.ksm["pages_sharing"][0]) == 0           # the first full scan records checksums
        assert int(r.ksm["pages_sharing"][3]) == saved       # merged by the second's end, 1.97 s
    # the lab's fill text repeats every 16 bytes with its newline, so every page of it is alike
    assert len("virtbook-lab-l6") + 1 == 16 and 4096 % 16 == 0
