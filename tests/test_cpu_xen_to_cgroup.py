"""One weight and one cap drive both schedulers: Xen's weight and cap become the cgroup v2
cpu.weight and libvirt's per-vCPU quota at the same ratio (virtbook.cpu.cfs_weight, quota_us), and
a VM given only Xen's parameters derives CFS's with them."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtbook.cpu import DEFAULT_PERIOD_US, VM, cfs_weight, quota_us


def test_one_weight_keeps_the_ratio_for_cfs():
    assert cfs_weight(256) == 100
    assert cfs_weight(1024) == 4 * cfs_weight(256)
    assert cfs_weight(65535) == 10000  # 65535 x 100 / 256 is above cgroup v2's maximum
    assert cfs_weight(1) == 1  # and 1 x 100 / 256 rounds below its minimum
    with pytest.raises(ValueError, match="weight must be an integer in 1..65535"):
        cfs_weight(0)


@given(vcpus=st.integers(1, 8), data=st.data())
def test_quota_per_vcpu_adds_up_to_the_cap(vcpus, data):
    cap = data.draw(st.integers(1, 100 * vcpus))
    q = quota_us(cap, vcpus)
    assert 1000 <= q
    total_pct = q * vcpus / DEFAULT_PERIOD_US * 100
    if q > 1000:
        assert total_pct == pytest.approx(cap, abs=vcpus * 0.001 + 0.01)
    else:
        assert total_pct >= cap  # libvirt's minimum quota can only loosen a tiny cap


def test_no_cap_means_unlimited_quota_and_a_cap_above_the_vcpus_is_refused():
    assert quota_us(0, 3) == -1
    with pytest.raises(ValueError, match="cap must be an integer in 0..300"):
        quota_us(301, 3)


@given(weight=st.integers(1, 65535), vcpus=st.integers(1, 8), data=st.data())
def test_a_vm_given_xens_parameters_derives_cfs_ones_with_the_same_conversions(weight, vcpus,
                                                                                data):
    cap = data.draw(st.integers(0, 100 * vcpus))
    vm = VM("v", vcpus=vcpus, weight=weight, cap=cap)
    assert vm.cpu_weight == cfs_weight(weight)
    assert vm.quota_us == quota_us(cap, vcpus, vm.period_us)
