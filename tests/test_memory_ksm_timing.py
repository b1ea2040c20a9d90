"""When KSM merges: the kernel's two-visit rule, reproduced by the memory model.

mm/ksm.c, ``cmp_and_merge_page()``: a page that is not yet a KSM page has its checksum compared
with the one ksmd recorded at its previous visit (a new page's record starts at zero); if they
differ, ksmd records the checksum and moves on, leaving the page in neither tree (it counts in
``pages_volatile``). Only a page whose checksum did not change since the previous pass goes on to
the stable tree and the unstable tree, which is emptied at the start of every full scan; two
identical pages that meet there become one KSM page. ``full_scans`` is ``ksm_scan.seqnr``, raised
when ksmd finishes a pass over every mergeable area (Documentation/admin-guide/mm/ksm.rst: "how
many times all mergeable areas have been scanned").
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook.memory import VM, Host, Phase, simulate


def identical_guests(n, mib, zero_frac, os_frac, seconds):
    """``n`` guests that hold all their memory from the start and never write a shared page."""
    return [VM(f"g{i}", mib, zero_frac=zero_frac, os_frac=os_frac, ramp_s=0, jitter=0.0,
               cow_rate=0.0, phases=(Phase("booted", seconds, 1.0, 0.0),)) for i in range(n)]


def expected_sharing(n, pages, zero_frac, os_frac, max_page_sharing=256):
    """``pages_sharing`` once every zero and OS page of ``n`` identical guests has merged."""
    zeros = n * int(zero_frac * pages)
    os_pages = int(os_frac * pages)
    return zeros - math.ceil(zeros / max_page_sharing) + (n - 1) * os_pages


def test_nothing_merges_in_the_first_full_scan_and_everything_by_the_end_of_the_second():
    """Three identical guests of 128 MiB, KSM at ``pages_to_scan`` 1000 and ``sleep_millisecs`` 10.

    The guests hold U = 3 x 128 MiB = 3 x 32,768 = 98,304 pages of 4 KiB. ksmd examines
    R = pages_to_scan x 1000 / sleep_millisecs = 100,000 pages a second, so a full scan takes
    T = U / R = 0.98304 s. In the first scan every page is new: ksmd only records its checksum,
    so ``pages_sharing`` stays 0 and every zero and OS page it has passed counts in
    ``pages_volatile``. In the second scan each of them has the checksum ksmd recorded, goes into
    the trees and merges with its twins, so sharing appears after T and is complete at 2T =
    1.96608 s: Z zero pages of all guests become ceil(Z / 256) KSM pages (``max_page_sharing``)
    and each OS page is saved N - 1 = 2 times. With 25 % zero and 50 % OS pages that is
    24,576 - 96 + 2 x 16,384 = 57,248 pages. The model steps every 50 ms, so each moment below
    holds to within one step.
    """
    n, mib, dt = 3, 128, 0.05
    pages = mib * 256
    rate = 1000 * 1000 / 10
    scan_s = n * pages / rate
    assert scan_s == pytest.approx(0.98304)
    host = Host(ram_mb=1024, pages_to_scan=1000, sleep_millisecs=10, ksm_thres_coef=100)
    r = simulate(host, identical_guests(n, mib, 0.25, 0.5, 4), duration_s=4, dt_s=dt,
                 techniques=("share",))
    t = np.asarray(r.t_s)
    sharing = np.asarray(r.ksm["pages_sharing"])
    shared = np.asarray(r.ksm["pages_shared"])
    volatile = np.asarray(r.ksm["pages_volatile"])
    scans = np.asarray(r.ksm["full_scans"])
    final = expected_sharing(n, pages, 0.25, 0.5)
    assert final == 57_248 == sharing[-1]

    first_pass = t <= scan_s
    assert (sharing[first_pass] == 0).all() and (shared[first_pass] == 0).all()
    assert (scans[first_pass] == 0).all() and scans[~first_pass].min() >= 1
    # the first scan records checksums: what it has passed is volatile, growing with it
    assert (np.diff(volatile[first_pass]) > 0).all()
    shareable = n * (int(0.25 * pages) + int(0.5 * pages))
    assert volatile[first_pass][-1] == pytest.approx(shareable * t[first_pass][-1] / scan_s, rel=0.01)

    # sharing starts in the step after the first scan ended and is complete by the second's end
    first_merge = t[np.argmax(sharing > 0)]
    steady = t[np.argmax(sharing == final)]
    assert scan_s < first_merge <= scan_s + dt
    assert 2 * scan_s <= steady < 2 * scan_s + dt
    assert (np.diff(sharing[t <= steady]) >= 0).all()
    assert (sharing[t >= steady] == final).all()
    assert scans[t >= 2 * scan_s + dt].min() >= 2
    # then every shareable page sits in the stable tree: nothing is volatile or unshared
    assert volatile[-1] == 0 and int(r.ksm["pages_unshared"][-1]) == 0
    assert shared[-1] + sharing[-1] == shareable


def test_the_counters_add_up_as_the_kernel_computes_pages_volatile():
    """mm/ksm.c: pages_volatile = rmap_items - pages_shared - pages_sharing - pages_unshared.

    The model's rmap_items are the zero and OS pages ksmd has visited at least once; with guests
    that differ (two operating systems) some candidates stay unshared, and the identity holds
    in every step, during and after the first two scans.
    """
    vms = [VM(f"g{i}", 128, zero_frac=0.1, os_frac=0.4, ramp_s=0, jitter=0.0, cow_rate=0.0,
              guest_os=("linux", "linux", "windows")[i], phases=(Phase("booted", 4, 1.0, 0.0),))
           for i in range(3)]
    host = Host(ram_mb=1024, pages_to_scan=1000, sleep_millisecs=10, ksm_thres_coef=100)
    r = simulate(host, vms, duration_s=4, dt_s=0.05, techniques=("share",))
    k = {key: np.asarray(r.ksm[key]) for key in ("pages_shared", "pages_sharing",
                                                 "pages_unshared", "pages_volatile")}
    rmap_items = k["pages_shared"] + k["pages_sharing"] + k["pages_unshared"] + k["pages_volatile"]
    shareable = 3 * (int(0.1 * 128 * 256) + int(0.4 * 128 * 256))
    assert (np.diff(rmap_items) >= 0).all() and rmap_items[-1] == shareable
    assert k["pages_unshared"][-1] == int(0.4 * 128 * 256)   # the Windows guest's OS pages
    assert k["pages_volatile"][:19].min() > 0 == k["pages_sharing"][:19].max()  # first scan
    assert k["pages_volatile"][-1] == 0


@settings(max_examples=12, deadline=None)
@given(n=st.integers(2, 4), mib=st.sampled_from([64, 128, 256]),
       pages_to_scan=st.sampled_from([200, 500, 1000, 2500]),
       sleep_ms=st.sampled_from([5, 10, 20]), dt=st.sampled_from([0.05, 0.1, 0.25]),
       reverse=st.booleans())
def test_merging_waits_one_full_scan_whatever_the_rate_step_and_order(n, mib, pages_to_scan,
                                                                        sleep_ms, dt, reverse):
    """For any scan rate, step and order of the VM list: no sharing before the first full scan
    ends (T = guest pages / rate), all of it within one step after the second ends (2T)."""
    pages = mib * 256
    scan_s = n * pages / (pages_to_scan * 1000 / sleep_ms)
    duration = round(max(2.0, 2 * scan_s + 4 * dt) / dt) * dt
    if duration / dt > 2000:
        duration = 2000 * dt
    vms = identical_guests(n, mib, 0.1, 0.3, duration)
    if reverse:
        vms = vms[::-1]
    host = Host(ram_mb=4096, pages_to_scan=pages_to_scan, sleep_millisecs=sleep_ms,
                ksm_thres_coef=100)
    r = simulate(host, vms, duration_s=duration, dt_s=dt, techniques=("share",))
    t = np.asarray(r.t_s)
    sharing = np.asarray(r.ksm["pages_sharing"])
    assert (sharing[t <= scan_s * (1 - 1e-9)] == 0).all()
    if t[-1] >= 2 * scan_s + dt:
        final = expected_sharing(n, pages, 0.1, 0.3)
        assert (sharing[t >= 2 * scan_s + dt] == final).all()
        assert (sharing[t < 2 * scan_s - dt] < final).all()


def test_pages_written_after_merging_wait_two_passes_again():
    """A guest's write to a KSM page gives it a private copy with new contents (copy-on-write);
    the kernel's record of the old checksum no longer matches, so ksmd merges the page again only
    after it has seen the new contents twice. With writes, sharing stays below the quiet
    guests' and the written pages show in ``pages_volatile``."""
    quiet = identical_guests(2, 256, 0.0, 0.4, 120)
    busy = [VM(v.name, 256, zero_frac=0.0, os_frac=0.4, ramp_s=0, jitter=0.0, cow_rate=0.02,
               phases=(Phase("busy", 120, 1.0, 0.8),)) for v in quiet]
    host = Host(ram_mb=4096, pages_to_scan=1000, sleep_millisecs=20, ksm_thres_coef=100)
    q = simulate(host, quiet, duration_s=120, techniques=("share",))
    b = simulate(host, busy, duration_s=120, techniques=("share",))
    assert 0 < b.ksm["pages_sharing"][-1] < q.ksm["pages_sharing"][-1]
    assert b.ksm["pages_volatile"][-30:].min() > 0 == q.ksm["pages_volatile"][-1]
