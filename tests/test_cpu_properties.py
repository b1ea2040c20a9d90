"""Invariants of the vCPU simulator over random configurations (hypothesis)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from virtbook.cpu import (
    CFS, VM, CPUBound, Credit, Host, Idle, IOBound, RoundRobin, SpinLock, default_scenario,
    simulate,
)

workloads = st.one_of(
    st.just(CPUBound()),
    st.just(Idle()),
    st.builds(IOBound, run_ms=st.floats(0.05, 20), block_ms=st.floats(0.05, 50),
              distribution=st.sampled_from(["exponential", "constant", "uniform"])),
    st.builds(SpinLock, work_ms=st.floats(0.1, 20), critical_ms=st.floats(0.05, 5),
              distribution=st.sampled_from(["exponential", "constant", "uniform"])),
)

schedulers = st.one_of(
    st.sampled_from(["rr", "credit", "cfs"]),
    st.builds(RoundRobin, quantum_ms=st.floats(0.5, 50)),
    st.builds(Credit, tslice_ms=st.integers(1, 60), ratelimit_us=st.sampled_from([0, 100, 1000]),
              boost=st.booleans()),
    st.builds(CFS, sched_latency_ms=st.one_of(st.none(), st.floats(1, 24))),
)


@st.composite
def configs(draw):
    pcpus = draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["none", "relaxed", "strict"]))
    n_vms = draw(st.integers(1, 5))
    vms = []
    for i in range(n_vms):
        vcpus = draw(st.integers(1, pcpus if mode == "strict" else 4))
        cap = draw(st.sampled_from([0, 0, 25, 50, 100 * vcpus]))
        quota = draw(st.sampled_from([-1, -1, 2_000, 30_000]))
        vms.append(VM(
            f"vm{i}", vcpus=vcpus,
            weight=draw(st.integers(1, 65535)),
            cap=cap,
            cpu_weight=draw(st.integers(1, 10000)),
            quota_us=quota,
            period_us=draw(st.sampled_from([10_000, 100_000])),
            workload=draw(workloads),
        ))
    return dict(
        host=Host(pcpus),
        vms=vms,
        scheduler=draw(schedulers),
        duration_ms=draw(st.floats(1, 400)),
        seed=draw(st.integers(0, 2**32)),
        coschedule=mode,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_states_sum_to_100_and_cpu_time_is_conserved(cfg):
    r = simulate(cfg["host"], cfg["vms"], cfg["scheduler"], cfg["duration_ms"], cfg["seed"],
                 coschedule=cfg["coschedule"])
    # esxtop: %RUN + %RDY + %CSTP + %WAIT = 100 for every vCPU
    assert np.allclose(r.state_pct.sum(axis=1), 100.0)
    assert (r.state_ms >= -1e-9).all()
    for name in r.vm_names:
        total = r.run_pct[name] + r.ready_pct[name] + r.costop_pct[name] + r.wait_pct[name]
        assert abs(total - 100.0) < 1e-6
        assert 0 <= r.steal_pct[name] <= 100 + 1e-9
    # no more CPU than the host has, and no vCPU runs more than wall-clock time
    assert r.total_run_ms <= cfg["host"].pcpus * r.duration_ms + 1e-6
    assert (r.state_ms[:, 0] <= r.duration_ms + 1e-9).all()
    # the timeline agrees with %RUN, and no pCPU runs two vCPUs at once
    per_vcpu = defaultdict(float)
    per_pcpu = defaultdict(list)
    for s in r.timeline:
        assert 0 <= s.pcpu < cfg["host"].pcpus
        assert 0 <= s.start_ms < s.end_ms <= r.duration_ms + 1e-9
        per_vcpu[f"{s.vm}.{s.vcpu}"] += s.end_ms - s.start_ms
        per_pcpu[s.pcpu].append((s.start_ms, s.end_ms))
    for i, name in enumerate(r.vcpu_names):
        assert abs(per_vcpu[name] - r.state_ms[i, 0]) < 1e-6
    for slices in per_pcpu.values():
        slices.sort()
        for (_, e1), (s2, _) in zip(slices, slices[1:]):
            assert s2 >= e1 - 1e-9
    # a vCPU never co-stops without co-scheduling, and idle guests never run
    if cfg["coschedule"] == "none":
        assert (r.state_ms[:, 2] == 0).all()
    for vm in cfg["vms"]:
        if isinstance(vm.workload, Idle):
            assert r.cpu_share[vm.name] == 0
            assert r.steal_pct[vm.name] == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_same_seed_gives_identical_results(cfg):
    a = simulate(cfg["host"], cfg["vms"], cfg["scheduler"], cfg["duration_ms"], cfg["seed"],
                 coschedule=cfg["coschedule"], trace=True)
    b = simulate(cfg["host"], cfg["vms"], cfg["scheduler"], cfg["duration_ms"], cfg["seed"],
                 coschedule=cfg["coschedule"], trace=True)
    assert a.timeline == b.timeline
    assert np.array_equal(a.state_ms, b.state_ms)
    assert a.trace() == b.trace()


def test_different_seeds_give_different_io_traces():
    vms = [VM("io", vcpus=2, workload=IOBound(run_ms=1, block_ms=4)), VM("hog")]
    a = simulate(Host(2), vms, "credit", 2_000, seed=1)
    b = simulate(Host(2), vms, "credit", 2_000, seed=2)
    assert a.timeline != b.timeline
    assert not np.array_equal(a.wake_latency_ms["io"], b.wake_latency_ms["io"])


def test_default_scenario_runs_and_is_overcommitted():
    host, vms, kwargs = default_scenario()
    r = simulate(host, vms, **kwargs)
    assert sum(vm.vcpus for vm in vms) > host.pcpus
    assert r.total_run_ms <= host.pcpus * r.duration_ms
    assert r.total_run_ms > 0.95 * host.pcpus * r.duration_ms  # work-conserving: pCPUs stay busy
    assert r.steal_pct["idle"] == 0
    assert r.cpu_share["capped"] <= 0.5 + 30 / r.duration_ms
    assert r.wake_latency_ms["web"].size > 100
