"""What each VM is entitled to (virtbook.cpu.entitlement): weighted max-min fair sharing of the
host's pCPUs, limited by each VM's demand, vCPUs and cap, as the scheduler's weights promise."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook.cpu import (
    CFS, VM, CPUBound, Credit, Host, Idle, IOBound, SpinLock, demand, entitlement, simulate,
)
from virtbook.cpu.entitlement import _weight_and_limit


def test_credit_weights_split_one_pcpu_by_ratio():
    ent = entitlement(Host(pcpus=1), [VM("a", weight=256), VM("b", weight=768)], "credit")
    assert ent["a"] == pytest.approx(0.25)
    assert ent["b"] == pytest.approx(0.75)


def test_credit_counts_weight_per_vcpu_but_cfs_per_vm():
    vms = [VM("wide", vcpus=2), VM("narrow", vcpus=1)]
    credit = entitlement(Host(pcpus=1), vms, "credit")
    cfs = entitlement(Host(pcpus=1), vms, "cfs")
    assert credit["wide"] == pytest.approx(2 * credit["narrow"])
    assert cfs["wide"] == pytest.approx(cfs["narrow"])


def test_cap_and_quota_limit_the_entitlement_even_on_an_idle_host():
    capped = VM("c", cap=30, quota_us=30_000, period_us=100_000)
    assert entitlement(Host(pcpus=4), [capped], "credit")["c"] == pytest.approx(0.3)
    assert entitlement(Host(pcpus=4), [capped], "cfs")["c"] == pytest.approx(0.3)
    # Round robin has no caps: the VM may use its whole vCPU.
    assert entitlement(Host(pcpus=4), [capped], "rr")["c"] == pytest.approx(1.0)


def test_leftover_of_a_light_vm_goes_to_the_others():
    light = VM("io", workload=IOBound(run_ms=1, block_ms=9))
    hogs = [VM("h1"), VM("h2")]
    ent = entitlement(Host(pcpus=1), [light, *hogs], "credit")
    assert ent["io"] == pytest.approx(0.1)
    assert ent["h1"] == pytest.approx(0.45) and ent["h2"] == pytest.approx(0.45)


def test_idle_vm_is_entitled_to_nothing_and_a_vm_never_to_more_than_its_vcpus():
    ent = entitlement(Host(pcpus=8), [VM("idle", vcpus=4, workload=Idle()), VM("one")],
                                Credit())
    assert ent["idle"] == 0.0
    assert ent["one"] == pytest.approx(1.0)


def test_demand_by_workload():
    assert demand(VM("a", vcpus=3)) == 3.0
    assert demand(VM("s", vcpus=2, workload=SpinLock())) == 2.0
    assert demand(VM("i", workload=Idle())) == 0.0
    assert demand(VM("o", vcpus=2, workload=IOBound(run_ms=1, block_ms=3))) == 0.5


vm_strategy = st.builds(
    lambda i, vcpus, weight, cap_frac, kind: VM(
        f"vm{i}", vcpus=vcpus, weight=weight, cap=int(cap_frac * 100 * vcpus),
        cpu_weight=max(1, weight // 3),
        quota_us=-1 if cap_frac == 0 else max(1000, int(cap_frac * 100_000)),
        workload=[CPUBound(), Idle(), IOBound(run_ms=2, block_ms=6), SpinLock()][kind]),
    st.just(0), st.integers(1, 4), st.integers(1, 2048), st.sampled_from([0, 0, 0.25, 0.5, 1.0]),
    st.integers(0, 3),
)


@settings(max_examples=80, deadline=None)
@given(pcpus=st.integers(1, 8), specs=st.lists(vm_strategy, min_size=1, max_size=6),
       scheduler=st.sampled_from(["rr", "credit", "cfs"]))
def test_entitlement_is_feasible_and_weighted_fair(pcpus, specs, scheduler):
    vms = [VM(f"vm{i}", vcpus=v.vcpus, weight=v.weight, cap=v.cap, cpu_weight=v.cpu_weight,
              quota_us=v.quota_us, workload=v.workload) for i, v in enumerate(specs)]
    ent = entitlement(Host(pcpus=pcpus), vms, scheduler)
    kind = scheduler
    uppers = {}
    for vm in vms:
        w, limit = _weight_and_limit(vm, kind)
        uppers[vm.name] = (min(demand(vm), vm.vcpus, limit), w)
    assert sum(ent.values()) <= pcpus + 1e-9
    for name, (upper, _) in uppers.items():
        assert -1e-12 <= ent[name] <= upper + 1e-9
    if sum(u for u, _ in uppers.values()) <= pcpus:
        for name, (upper, _) in uppers.items():
            assert ent[name] == pytest.approx(upper, abs=1e-9)
    else:
        # The host is full, and two VMs below their limits share in proportion to weight.
        assert sum(ent.values()) == pytest.approx(pcpus)
        below = [(n, w) for n, (u, w) in uppers.items() if ent[n] < u - 1e-9]
        for (a, wa), (b, wb) in zip(below, below[1:]):
            assert ent[a] / wa == pytest.approx(ent[b] / wb, rel=1e-6)


@pytest.mark.parametrize("scheduler", ["credit", "cfs"])
def test_entitlement_predicts_the_simulated_share_of_cpu_bound_vms(scheduler):
    host = Host(pcpus=2)
    vms = [VM("a", vcpus=2, weight=512, cpu_weight=200), VM("b", vcpus=1), VM("c", vcpus=2),
           VM("d", cap=40, quota_us=40_000)]
    ent = entitlement(host, vms, scheduler)
    r = simulate(host, vms, scheduler, duration_ms=6000, seed=1)
    for vm in vms:
        assert r.cpu_share[vm.name] == pytest.approx(ent[vm.name], abs=0.06), vm.name


def test_entitlement_rejects_bad_input():
    with pytest.raises(ValueError, match="scheduler must be one of"):
        entitlement(Host(), [VM("a")], "fifo")
    with pytest.raises(ValueError, match="host must be a Host"):
        entitlement(4, [VM("a")], "credit")
    with pytest.raises(ValueError, match="vms must be a non-empty sequence"):
        entitlement(Host(), [], "credit")
    with pytest.raises(ValueError, match="scheduler must be"):
        entitlement(Host(), [VM("a")], object())
    assert entitlement(Host(), [VM("a")], CFS())["a"] == pytest.approx(1.0)
