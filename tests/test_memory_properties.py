"""Property tests over random hosts and VMs: conservation and sanity at every step."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from virtbook.memory import Host, Phase, VM, simulate, thresholds

fracs = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def phases(draw):
    out = []
    for j in range(draw(st.integers(1, 3))):
        used = draw(fracs)
        active = draw(st.floats(min_value=0.0, max_value=used)) if used > 0 else 0.0
        out.append(Phase(f"p{j}", draw(st.floats(5, 200)), used, active))
    return tuple(out)


@st.composite
def vm(draw, i, reserve_mb):
    """A VM whose reservation fits in ``reserve_mb`` (its part of what admission control allows)."""
    mem = draw(st.integers(16, 4096))
    zero = draw(st.floats(0, 0.5))
    os_ = draw(st.floats(0, 1 - zero))
    reservation = min(mem, int(draw(st.floats(0, 1)) * reserve_mb))
    limit = draw(st.one_of(st.none(), st.integers(max(1, reservation), mem)))
    soft = draw(st.one_of(st.none(), st.integers(max(1, reservation), mem)))
    return VM(
        f"vm{i}", mem, reservation_mb=reservation, limit_mb=limit, soft_limit_mb=soft,
        shares=draw(st.one_of(st.none(), st.integers(1, 100_000))),
        guest_os=draw(st.sampled_from(["linux", "windows"])), zero_frac=zero, os_frac=os_,
        large_pages=draw(st.booleans()), pshare_salt=draw(st.one_of(st.none(), st.sampled_from(["a", "b"]))),
        phases=draw(phases()), phase_offset_s=draw(st.floats(0, 300)), ramp_s=draw(st.floats(0, 60)),
        jitter=draw(st.floats(0, 0.2)), cow_rate=draw(st.floats(0, 0.05)),
        compressible_frac=draw(fracs),
    )


@st.composite
def scenario(draw):
    n = draw(st.integers(1, 4))
    host = Host(
        ram_mb=draw(st.integers(64, 8192)),
        policy=draw(st.sampled_from(["esx2002", "vsphere5"])),
        pages_to_scan=draw(st.integers(1, 5000)),
        sleep_millisecs=draw(st.integers(1, 100)),
        max_page_sharing=draw(st.integers(2, 512)),
        ksm_thres_coef=draw(st.integers(0, 100)),
        ksm_thres_const_mb=draw(st.integers(0, 4096)),
        share_force_salting=draw(st.integers(0, 2)),
        idle_tax=draw(st.floats(0, 0.99)),
        ctl_max_percent=draw(st.integers(0, 100)),
        mem_zip_max_pct=draw(st.integers(0, 100)),
        swap_out_mb_s=draw(st.floats(1, 1000)),
        state_hysteresis=draw(st.floats(0, 0.5)),
    )
    # ESX's admission control: the reservations must fit below the free-memory reserve
    allowed = (host.ram_pages - thresholds(host.ram_mb, host.policy).high) // 256
    vms = [draw(vm(i, allowed // n)) for i in range(n)]
    techniques = draw(st.lists(st.sampled_from(["balloon", "share", "compress", "swap"]), unique=True))
    kw = {
        "duration_s": draw(st.floats(5, 240)),
        "dt_s": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "techniques": techniques,
        "seed": draw(st.integers(0, 2**32)),
    }
    return host, vms, kw


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_every_page_is_somewhere_and_nothing_is_negative(case):
    host, vms, kw = case
    r = simulate(host, vms, **kw)
    event(f"worst state {int(r.state.max())}")
    event(f"swapped {any(r.timeline[v.name]['swapped_mb'].max() > 0 for v in vms)}")
    pages = lambda a: np.rint(np.asarray(a) * 256).astype(np.int64)  # noqa: E731
    free = pages(r.host_free_mb)
    resident = sum(pages(r.timeline[v.name]["rss_mb"]) for v in vms)
    # conservation at every step: resident pages of all VMs + host free = host RAM
    assert (resident + free == host.ram_pages).all()
    assert (free >= 0).all()
    assert set(np.unique(r.state)) <= {0, 1, 2, 3}
    for v in vms:
        tl = r.timeline[v.name]
        for f in ("rss_mb", "balloon_mb", "shared_mb", "compressed_mb", "swapped_mb", "swap_in_mb"):
            assert (tl[f] >= 0).all(), f
        assert (tl["slowdown"] >= 1.0).all()
        assert (pages(tl["balloon_mb"]) <= host.ctl_max_percent * v.mem_mb * 256 // 100).all()
        assert (pages(tl["compressed_mb"]) <= host.mem_zip_max_pct * v.mem_mb * 256 // 100).all()
        d = r.dommemstat_timeline[v.name]
        assert (d["unused"] >= 0).all() and (d["actual"] <= v.mem_mb * 1024).all()
        guest = d["rss"] // 4 + pages(tl["compressed_mb"]) + pages(tl["swapped_mb"])
        assert (guest + pages(tl["balloon_mb"]) <= v.mem_mb * 256).all()
        for f in ("swap_in", "swap_out", "major_fault"):
            assert (np.diff(d[f]) >= 0).all()
        assert r.slowdown[v.name] >= 1.0 and r.swap_in_mb[v.name] >= 0
    ksm = r.ksm
    assert (ksm["pages_sharing"] >= ksm["inter_vm_sharing"]).all() and (ksm["inter_vm_sharing"] >= 0).all()
    assert (np.diff(ksm["full_scans"]) >= 0).all()
    assert all(x >= 0 for x in r.reclaimed_mb.values())
    if "share" not in kw["techniques"]:
        assert (ksm["pages_sharing"] == 0).all()
    if "swap" not in kw["techniques"]:
        assert sum(r.timeline[v.name]["swapped_mb"].max() for v in vms) == 0
    if "balloon" not in kw["techniques"]:
        assert sum(r.timeline[v.name]["balloon_mb"].max() for v in vms) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_a_seed_reproduces_a_run(case):
    host, vms, kw = case
    a, b = simulate(host, vms, **kw), simulate(host, vms, **kw)
    assert np.array_equal(a.host_free_mb, b.host_free_mb) and np.array_equal(a.state, b.state)
    for v in vms:
        for f, arr in a.timeline[v.name].items():
            assert np.array_equal(arr, b.timeline[v.name][f])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_limits_are_hard_and_reservations_are_never_reclaimed(case):
    """ESX never lets a VM hold more than its limit, and never reclaims below its reservation
    (vSphere Resource Management: a VM gets memory between its reservation and its limit)."""
    host, vms, kw = case
    r = simulate(host, vms, **kw)
    pages = lambda a: np.rint(np.asarray(a) * 256).astype(np.int64)  # noqa: E731
    for v in vms:
        resident = r.dommemstat_timeline[v.name]["rss"] // 4
        cache = (pages(r.timeline[v.name]["compressed_mb"]) + 1) // 2
        limit = (v.limit_mb if v.limit_mb is not None else v.mem_mb) * 256
        assert (resident + cache <= limit).all(), v.name
        floor = np.minimum(resident[:-1], v.reservation_mb * 256)
        assert (resident[1:] >= floor).all(), v.name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.randoms(use_true_random=False))
def test_the_order_of_the_vm_list_changes_nothing(case, rnd):
    """Tolerance: none. Free memory is shared out in proportion to demand and shares, and the VMs
    are kept in name order inside, so a permuted list gives every VM the very same run."""
    host, vms, kw = case
    shuffled = list(vms)
    rnd.shuffle(shuffled)
    a, b = simulate(host, vms, **kw), simulate(host, shuffled, **kw)
    assert [v.name for v in b.vms] == [v.name for v in shuffled]
    assert np.array_equal(a.host_free_mb, b.host_free_mb) and np.array_equal(a.state, b.state)
    for v in vms:
        for f, arr in a.timeline[v.name].items():
            assert np.array_equal(arr, b.timeline[v.name][f]), (v.name, f)
        assert a.slowdown[v.name] == b.slowdown[v.name]
        assert a.dommemstat(v.name) == b.dommemstat(v.name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_slowdown_counts_the_work_a_starved_vm_could_not_do(case):
    """A VM that cannot run for want of memory is never reported as faster than one that waits
    for its pages: its slowdown is at least run length / (run length - time it could not run)."""
    from virtbook.memory.sim import SLOWDOWN_CAP
    host, vms, kw = case
    r = simulate(host, vms, **kw)
    length = len(r.t_s) * r.dt_s
    for v in vms:
        assert (r.timeline[v.name]["slowdown"] >= 1.0).all()
        assert (r.timeline[v.name]["slowdown"] <= SLOWDOWN_CAP).all()
        starved = r.starved_s[v.name]
        assert 0.0 <= starved <= length + 1e-9
        bound = SLOWDOWN_CAP if starved >= length * (1 - 1 / SLOWDOWN_CAP) else length / (length - starved)
        assert r.slowdown[v.name] >= min(bound, SLOWDOWN_CAP) * (1 - 1e-9)
