"""Content-based page sharing: KSM's counters, the (N-1)/N identity, salting, large pages, scan rate."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtbook.memory import Host, Phase, VM, account, simulate, thresholds


# --- counting (no simulation) ------------------------------------------------------------------

@given(st.integers(2, 40), st.integers(0, 10**6))
def test_identical_vms_share_everything_but_one_copy(n, pages):
    acc = account([0] * n, [pages] * n, [True] * n, (tuple(range(n)),), (tuple(range(n)),), 256)
    assert acc.pages_shared == (pages if pages else 0)
    assert acc.pages_sharing == (n - 1) * pages


@given(st.lists(st.integers(0, 10**5), min_size=2, max_size=10))
def test_os_pages_need_one_host_copy_per_distinct_content(scanned):
    n = len(scanned)
    acc = account([0] * n, scanned, [True] * n, (tuple(range(n)),), (tuple(range(n)),), 256)
    # contents are nested prefixes: the host keeps max(scanned) pages, shared or not
    assert acc.pages_shared + acc.pages_unshared == max(scanned)
    # every site beyond the first copy of a content is saved
    assert acc.pages_sharing == sum(scanned) - max(scanned)
    assert sum(acc.attributed) == acc.pages_shared
    assert all(m <= s for m, s in zip(acc.merged_os, scanned))


@given(st.lists(st.integers(0, 5000), min_size=1, max_size=8), st.integers(2, 300))
def test_zero_pages_collapse_up_to_max_page_sharing(zeros, mps):
    n = len(zeros)
    acc = account(zeros, [0] * n, [True] * n, (tuple(range(n)),), (), mps)
    tot = sum(zeros)
    if tot >= 2:
        assert acc.pages_shared == -(-tot // mps)
        assert acc.pages_sharing == tot - acc.pages_shared
    else:
        assert acc.pages_shared == 0 and acc.pages_sharing == 0


def test_salted_vms_share_only_with_themselves():
    acc = account([100, 100], [500, 500], [True, True], ((0,), (1,)), ((0,), (1,)), 256)
    assert acc.pages_sharing == acc.intra_vm == 2 * 99
    assert acc.merged_os == [0, 0]


def test_vms_that_may_not_merge_are_left_out():
    acc = account([100, 100], [500, 500], [True, False], ((0, 1),), ((0, 1),), 256)
    assert acc.merged_os == [0, 0] and acc.merged_zero == [100, 0]
    assert acc.pages_unshared == 500 + 500 + 100


# --- simulation ---------------------------------------------------------------------------------

def idle_vms(n, os_frac=0.3, zero_frac=0.0, **kw):
    return [
        VM(f"vm{i}", 1024, zero_frac=zero_frac, os_frac=os_frac, jitter=0.0, cow_rate=0.0,
           phases=(Phase("idle", 3600, used_frac=0.8, active_frac=0.0),), **kw)
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_reclaimed_fraction_is_shared_times_n_minus_1_over_n(n):
    """Waldspurger 2002 section 4: sharing reclaims shared*(N-1)/N of N identical VMs."""
    host = Host(ram_mb=16384, ksm_thres_coef=100, pages_to_scan=2000, sleep_millisecs=10)
    r = simulate(host, idle_vms(n), duration_s=300, techniques=("share",))
    assert r.ksm["full_scans"][-1] >= 2  # every page has been examined
    guest_pages = sum(r.dommemstat(name)["rss"] for name in r.names) / 4  # KiB -> pages
    saved = r.ksm["pages_sharing"][-1]
    assert saved / guest_pages == pytest.approx(0.3 * (n - 1) / n, abs=1e-4)
    assert r.reclaimed_mb["share"] == pytest.approx(saved / 256)


def test_sharing_saves_memory_the_host_can_see():
    host = Host(ram_mb=16384, ksm_thres_coef=100, pages_to_scan=2000, sleep_millisecs=10)
    on = simulate(host, idle_vms(4), duration_s=300, techniques=("share",))
    off = simulate(host, idle_vms(4), duration_s=300, techniques=())
    assert on.host_free_mb[-1] - off.host_free_mb[-1] == pytest.approx(on.reclaimed_mb["share"])


def test_sharing_grows_no_faster_than_ksm_scans():
    rates = {}
    for pages_to_scan in (50, 400):
        host = Host(ram_mb=16384, ksm_thres_coef=100, pages_to_scan=pages_to_scan, sleep_millisecs=20)
        r = simulate(host, idle_vms(3, zero_frac=0.1), duration_s=120, techniques=("share",))
        per_step = pages_to_scan * 1000 / 20 * r.dt_s
        growth = np.diff(np.concatenate(([0], r.ksm["pages_sharing"])))
        assert growth.max() <= per_step
        assert (r.ksm["pages_sharing"] <= per_step * np.arange(1, len(r.t_s) + 1)).all()
        rates[pages_to_scan] = r.ksm["pages_sharing"][29]
    assert rates[400] > rates[50]


def test_salting_keeps_sharing_inside_each_vm():
    """VMware KB 2097593: with Mem.ShareForceSalting on, VMs share only with equal salts."""
    host = Host(ram_mb=4096, ksm_thres_coef=100, pages_to_scan=2000, sleep_millisecs=10,
                share_force_salting=2)
    r = simulate(host, idle_vms(3, zero_frac=0.1), duration_s=200, techniques=("share",))
    assert (r.ksm["inter_vm_sharing"] == 0).all()
    assert r.ksm["pages_sharing"][-1] > 0  # zero pages still merge within each VM
    same = simulate(host, idle_vms(3, zero_frac=0.1, pshare_salt="team"), duration_s=200,
                    techniques=("share",))
    assert same.ksm["inter_vm_sharing"][-1] > 0


def test_salting_holds_under_memory_pressure():
    vms = [VM(f"v{i}", 2048, zero_frac=0.1, os_frac=0.3, phases=(Phase("grow", 900, 1.0, 0.2),),
              ramp_s=300) for i in range(3)]
    host = Host(ram_mb=4096, share_force_salting=1, ksm_thres_coef=100, pages_to_scan=2000)
    r = simulate(host, vms, duration_s=600)
    assert r.state.max() >= 1
    assert (r.ksm["inter_vm_sharing"] == 0).all()


def test_large_pages_are_not_shared_until_memory_pressure():
    """VMware KB 1021095: 2 MB pages are shared only once the host breaks them."""
    vms = [VM(f"v{i}", 2048, zero_frac=0.05, os_frac=0.3, large_pages=True, cow_rate=0.0,
              phases=(Phase("quiet", 200, 0.3, 0.1), Phase("grow", 1000, 1.0, 0.2)), ramp_s=200)
           for i in range(3)]
    host = Host(ram_mb=5120, ksm_thres_coef=100, pages_to_scan=2000, sleep_millisecs=10)
    r = simulate(host, vms, duration_s=700, techniques=("share", "balloon", "swap"))
    high = thresholds(host.ram_mb, host.policy).high / 256
    demand = sum(r.timeline[n]["footprint_mb"] for n in r.names)
    calm = demand < host.ram_mb - high      # the guests cannot push free memory below high
    split = r.ksm["large_pages_split"] > 0
    assert calm[:150].all() and split[-1] and split.sum() < len(split)
    assert not (split & calm).any()          # large pages are broken only under pressure
    assert r.ksm["full_scans"][np.argmax(split) - 1] >= 1   # pages were scanned before ...
    assert (r.ksm["pages_sharing"][~split] == 0).all()      # ... yet nothing was shared
    assert r.ksm["inter_vm_sharing"][-1] > 0                # after the break, sharing starts
    small = simulate(host, [VM(v.name, v.mem_mb, zero_frac=0.05, os_frac=0.3, cow_rate=0.0,
                               phases=v.phases, ramp_s=200) for v in vms],
                     duration_s=700, techniques=("share", "balloon", "swap"))
    assert small.ksm["inter_vm_sharing"][100] > 0           # small pages share from the start


def test_copy_on_write_breaks_sharing_and_ksm_rescans():
    vms = [VM(f"v{i}", 1024, zero_frac=0.0, os_frac=0.4, jitter=0.0, cow_rate=0.05,
              phases=(Phase("busy", 3600, 0.8, 0.8),)) for i in range(2)]
    host = Host(ram_mb=8192, ksm_thres_coef=100, pages_to_scan=2000, sleep_millisecs=10)
    r = simulate(host, vms, duration_s=300, techniques=("share",))
    quiet = simulate(host, [VM(v.name, 1024, zero_frac=0.0, os_frac=0.4, jitter=0.0, cow_rate=0.0,
                               phases=v.phases) for v in vms], duration_s=300, techniques=("share",))
    assert r.ksm["pages_volatile"][100:].sum() > 0
    assert 0 < r.ksm["pages_sharing"][-1] < quiet.ksm["pages_sharing"][-1]
