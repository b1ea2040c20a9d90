"""The vCPU schedulers reproduce the documented behaviour of Xen credit1 and Linux CFS."""
from __future__ import annotations

import numpy as np
import pytest

from virtbook.cpu import (
    VM, Credit, Host, Idle, IOBound, RoundRobin, cpu_weight_from_shares, simulate,
)


def test_credit_weights_256_512_share_one_pcpu_one_third_two_thirds():
    r = simulate(Host(pcpus=1), [VM("a", weight=256), VM("b", weight=512)], "credit",
                 duration_ms=10_000, seed=0)
    assert r.cpu_share["a"] == pytest.approx(1 / 3, abs=0.02)
    assert r.cpu_share["b"] == pytest.approx(2 / 3, abs=0.02)


@pytest.mark.parametrize("pcpus, vcpus", [(1, 1), (4, 1), (4, 2)])
def test_credit_cap_50_holds_even_alone_on_an_idle_host(pcpus, vcpus):
    duration = 10_000
    r = simulate(Host(pcpus), [VM("c", vcpus=vcpus, cap=50)], "credit", duration_ms=duration)
    # credit1 enforces the cap at accounting time, once per 30 ms timeslice, so each vCPU can
    # run at most one timeslice beyond cap x duration in a window.
    assert r.cpu_share["c"] <= 0.50 + vcpus * 30 / duration
    assert r.cpu_share["c"] >= 0.45
    # the capped vCPU is runnable the whole time: the rest is %RDY (esxtop's %MLMTD), not idle
    assert r.wait_pct["c"] == 0


def test_credit_uncapped_vm_alone_uses_the_whole_pcpu():
    r = simulate(Host(1), [VM("c")], "credit", duration_ms=2_000)
    assert r.cpu_share["c"] == pytest.approx(1.0)


def test_cfs_cpu_weight_100_200_shares_one_third_two_thirds():
    r = simulate(Host(1), [VM("a", cpu_weight=100), VM("b", cpu_weight=200)], "cfs",
                 duration_ms=10_000)
    assert r.cpu_share["a"] == pytest.approx(1 / 3, abs=0.02)
    assert r.cpu_share["b"] == pytest.approx(2 / 3, abs=0.02)


def test_libvirt_shares_map_to_the_same_cfs_split_on_both_cgroup_versions():
    w_v1 = [cpu_weight_from_shares(s, cgroup=1) for s in (1024, 2048)]
    w_v2 = [cpu_weight_from_shares(s, cgroup=2) for s in (100, 200)]
    assert w_v1 == w_v2 == [100, 200]
    r = simulate(Host(1), [VM("a", cpu_weight=w_v1[0]), VM("b", cpu_weight=w_v1[1])], "cfs",
                 duration_ms=5_000)
    assert r.cpu_share["b"] / r.cpu_share["a"] == pytest.approx(2.0, rel=0.05)


def test_cfs_quota_50000_per_100000_gives_half_a_pcpu():
    r = simulate(Host(1), [VM("a", quota_us=50_000, period_us=100_000)], "cfs",
                 duration_ms=10_000)
    assert r.cpu_share["a"] == pytest.approx(0.5, abs=0.01)


def test_cfs_quota_is_per_vcpu_as_libvirt_defines_it():
    # libvirt: "each vCPU of the domain will not be allowed to consume more than quota".
    r = simulate(Host(4), [VM("a", vcpus=2, quota_us=25_000, period_us=100_000)], "cfs",
                 duration_ms=5_000)
    assert r.cpu_share["a"] == pytest.approx(2 * 0.25, abs=0.01)


def test_cfs_group_weight_is_per_vm_not_per_vcpu():
    # A 2-vCPU VM and a 1-vCPU VM with equal cpu.weight split one pCPU evenly.
    r = simulate(Host(1), [VM("two", vcpus=2), VM("one")], "cfs", duration_ms=10_000)
    assert r.cpu_share["two"] == pytest.approx(0.5, abs=0.03)


def test_credit_weight_is_per_active_vcpu():
    # credit1 adds a domain's weight once per active vCPU (csched_acct): the 2-vCPU VM gets 2/3.
    r = simulate(Host(1), [VM("two", vcpus=2), VM("one")], "credit", duration_ms=10_000)
    assert r.cpu_share["two"] == pytest.approx(2 / 3, abs=0.03)


@pytest.mark.parametrize("scheduler", ["rr", "credit", "cfs"])
def test_two_busy_vms_on_one_pcpu_each_see_half_steal_and_idle_sees_none(scheduler):
    r = simulate(Host(1), [VM("a"), VM("b"), VM("quiet", workload=Idle())], scheduler,
                 duration_ms=10_000)
    assert r.steal_pct["a"] == pytest.approx(50, abs=2)
    assert r.steal_pct["b"] == pytest.approx(50, abs=2)
    assert r.steal_pct["quiet"] == 0
    assert r.wait_pct["quiet"] == 100


def _io_among_hogs(config, io):
    vms = [VM("hog1"), VM("hog2"), VM("io", workload=io)]
    return simulate(Host(1), vms, config, duration_ms=10_000, seed=0)


def test_boost_keeps_wake_latency_within_the_ratelimit():
    # The I/O vCPU blocks for ~0.5 ms, so when it wakes the hog that replaced it has run for
    # less than the 1 ms ratelimit: the BOOSTed vCPU waits for the rest of the ratelimit.
    r = _io_among_hogs(Credit(), IOBound(run_ms=0.1, block_ms=0.5))
    lat = r.wake_latency_ms["io"]
    assert len(lat) > 1000
    assert 0.2 < np.median(lat) <= 1.0
    assert np.percentile(lat, 90) <= 1.0


def test_ratelimit_sets_the_wake_latency_scale():
    io = IOBound(run_ms=0.1, block_ms=0.5)
    medians = [
        np.median(_io_among_hogs(Credit(ratelimit_us=rl), io).wake_latency_ms["io"])
        for rl in (0, 1000, 3000)
    ]
    assert medians[0] < 0.05  # no ratelimit: a BOOSTed vCPU preempts at once
    assert medians[0] < medians[1] < medians[2] <= 3.0


def test_without_boost_an_io_vcpu_waits_tens_of_ms():
    io = IOBound(run_ms=0.5, block_ms=5.0)
    with_boost = np.median(_io_among_hogs(Credit(boost=True), io).wake_latency_ms["io"])
    without = np.median(_io_among_hogs(Credit(boost=False), io).wake_latency_ms["io"])
    assert with_boost <= 1.0
    assert without >= 10.0


def test_cfs_wakes_io_vcpu_quickly():
    # CFS places a waking thread near min_vruntime and preempts: latency stays small.
    r = _io_among_hogs("cfs", IOBound(run_ms=0.5, block_ms=5.0))
    assert np.median(r.wake_latency_ms["io"]) < 1.0


def test_round_robin_rotates_through_quantum():
    r = simulate(Host(1), [VM("a"), VM("b"), VM("c")], RoundRobin(quantum_ms=10), duration_ms=90)
    order = [(s.vm, s.start_ms, s.end_ms) for s in r.timeline]
    assert order == [
        ("a", 0, 10), ("b", 10, 20), ("c", 20, 30),
        ("a", 30, 40), ("b", 40, 50), ("c", 50, 60),
        ("a", 60, 70), ("b", 70, 80), ("c", 80, 90),
    ]


def test_credit_trace_matches_hand_worked_example():
    # One pCPU, two CPU-bound VMs, weight 256 each, credit defaults (30 ms slice, 10 ms tick,
    # 300 credits per slice). By hand:
    #  0 ms  a runs (nobody is active yet, both UNDER, a is first in the queue).
    # 10 ms  tick: a is running, so a becomes active.
    # 30 ms  tick charges a 300 credits (30 ms x 10). acct: only a is active, gets all 300 -> 0,
    #        UNDER. Slice ends; a re-queues behind b (equal priority), so b runs.
    # 40 ms  tick: b becomes active.
    # 60 ms  acct: two active vCPUs share 300 -> 150 each. a: 0 + 150 = 150 UNDER;
    #        b: -300 + 150 = -150 OVER. a runs.
    # 90 ms  a: 150 - 300 + 150 = 0 UNDER; b: -150 + 150 = 0 UNDER. b queued earlier: b runs.
    r = simulate(Host(1), [VM("a"), VM("b")], "credit", duration_ms=100, trace=True)
    assert r.trace().splitlines() == [
        "     0.000 ms  pCPU0      idle -> a.0      start  [a.0 UNDER credit=0 inactive]",
        "    30.000 ms  acct: a.0 UNDER credit=0; b.0 UNDER credit=0 inactive",
        "    30.000 ms  pCPU0       a.0 -> b.0      slice  "
        "[a.0 UNDER credit=0 | b.0 UNDER credit=0 inactive]",
        "    60.000 ms  acct: a.0 UNDER credit=150; b.0 OVER credit=-150",
        "    60.000 ms  pCPU0       b.0 -> a.0      slice  "
        "[b.0 OVER credit=-150 | a.0 UNDER credit=150]",
        "    90.000 ms  acct: a.0 UNDER credit=0; b.0 UNDER credit=0",
        "    90.000 ms  pCPU0       a.0 -> b.0      slice  "
        "[a.0 UNDER credit=0 | b.0 UNDER credit=0]",
    ]


def test_trace_has_one_line_per_decision_and_is_kept_only_when_asked():
    plain = simulate(Host(2), [VM("a"), VM("b"), VM("c")], "rr", duration_ms=50)
    with pytest.raises(ValueError, match=r"trace=True"):
        plain.trace()
    r = simulate(Host(2), [VM("a"), VM("b"), VM("c")], "rr", duration_ms=50, trace=True)
    assert r.timeline == plain.timeline
    lines = r.trace().splitlines()
    assert len(lines) == len(r._decisions)
    assert lines[0].split()[2:6] == ["pCPU0", "idle", "->", "a.0"]
    assert lines[1].split()[2:6] == ["pCPU1", "idle", "->", "b.0"]


def test_metrics_dictionaries_are_keyed_by_vm_name():
    r = simulate(Host(2), [VM("web", vcpus=2, workload=IOBound()), VM("db")], "credit",
                 duration_ms=500)
    for metric in (r.cpu_share, r.run_pct, r.ready_pct, r.costop_pct, r.wait_pct, r.steal_pct,
                   r.wake_latency_ms, r.context_switches):
        assert set(metric) == {"web", "db"}
    assert set(r.vcpu_run_pct) == {"web.0", "web.1", "db.0"}
    assert isinstance(r.wake_latency_ms["web"], np.ndarray)
    assert r.wake_latency_ms["db"].size == 0  # a CPU hog never waits for I/O


def test_cfs_unthrottled_group_is_placed_like_a_waking_task():
    """In the kernel, unthrottle_cfs_rq() enqueues with ENQUEUE_WAKEUP, so place_entity() keeps a
    group that sat out its period from returning far behind min_vruntime. Capping a noisy
    8-vCPU VM at 0.5 pCPU must then leave an I/O-bound neighbour's wake-up latency short and the
    CPU-bound neighbour near a full pCPU (without the placement, the capped VM ran its whole
    quota in one burst at every refill: p99 latency ~24 ms, api ~0.75)."""
    from virtbook.cpu import CPUBound, IOBound

    vms = [VM("web", vcpus=1, cpu_weight=100, workload=IOBound(run_ms=1.0, block_ms=5.0)),
           VM("api", vcpus=1, cpu_weight=100, workload=CPUBound()),
           VM("miner", vcpus=8, cpu_weight=100, workload=CPUBound(), quota_us=6250,
              period_us=100000)]
    r = simulate(Host(pcpus=2), vms, scheduler="cfs", duration_ms=5000, seed=0)
    assert abs(r.cpu_share["miner"] - 0.5) < 0.01
    assert np.percentile(r.wake_latency_ms["web"], 99) < 6.0
    assert r.cpu_share["api"] > 0.85
