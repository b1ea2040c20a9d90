"""Bad input raises ValueError naming the parameter and the allowed range."""
from __future__ import annotations

import pytest

from virtbook.cpu import (
    CFS, VM, Credit, Host, IOBound, RoundRobin, SpinLock, cpu_weight_from_shares, simulate,
)

CASES = [
    (lambda: Host(pcpus=0), "pcpus must be an integer in 1..1024, got 0"),
    (lambda: Host(pcpus=2.5), "pcpus must be an integer in 1..1024, got 2.5"),
    (lambda: VM("a", weight=0), "weight must be an integer in 1..65535, got 0"),
    (lambda: VM("a", weight=-5), "weight must be an integer in 1..65535, got -5"),
    (lambda: VM("a", weight=70000), "weight must be an integer in 1..65535, got 70000"),
    (lambda: VM("a", vcpus=2, cap=201), "cap must be an integer in 0..200, got 201"),
    (lambda: VM("a", cap=-1), "cap must be an integer in 0..100, got -1"),
    (lambda: VM("a", vcpus=0), "vcpus must be an integer in 1..256, got 0"),
    (lambda: VM("a", cpu_weight=0), "cpu_weight must be an integer in 1..10000, got 0"),
    (lambda: VM("a", cpu_weight=10001), "cpu_weight must be an integer in 1..10000, got 10001"),
    (lambda: VM("a", period_us=999), "period_us must be an integer in 1000..1000000, got 999"),
    (lambda: VM("a", period_us=1000001), "period_us must be an integer in 1000..1000000"),
    (lambda: VM("a", quota_us=999), "quota_us must be -1 (unlimited) or an integer in "
                                    "1000..17592186044415, got 999"),
    (lambda: VM("a", quota_us=17592186044416), "quota_us must be -1 (unlimited)"),
    (lambda: VM("", vcpus=1), "name must be a non-empty printable string without spaces"),
    (lambda: VM("a", workload="cpu"), "workload must be one of"),
    (lambda: IOBound(run_ms=0), "run_ms must be a number at least 0.001"),
    (lambda: IOBound(block_ms=-1), "block_ms must be a number at least 0.001"),
    (lambda: IOBound(distribution="pareto"), "distribution must be one of"),
    (lambda: SpinLock(critical_ms=0), "critical_ms must be a number at least 0.001"),
    (lambda: Credit(tslice_ms=0), "tslice_ms must be an integer in 1..1000, got 0"),
    (lambda: Credit(ratelimit_us=50), "ratelimit_us must be 0 (off) or an integer in 100..500000"),
    (lambda: Credit(tslice_ms=1, ratelimit_us=2000), "ratelimit_us must be at most"),
    (lambda: Credit(boost="yes"), "boost must be True or False"),
    (lambda: RoundRobin(quantum_ms=0), "quantum_ms must be a number at least 0.1"),
    (lambda: CFS(sched_latency_ms=-1), "sched_latency_ms must be a number at least 0.01"),
    (lambda: cpu_weight_from_shares(1, cgroup=1), "shares must be an integer in 2..262144, got 1"),
    (lambda: cpu_weight_from_shares(20000), "shares must be an integer in 1..10000, got 20000"),
    (lambda: cpu_weight_from_shares(100, cgroup=3), "cgroup must be an integer in 1..2, got 3"),
    (lambda: simulate(Host(1), [VM("a")], "xen"), "scheduler must be one of 'rr', 'credit', 'cfs'"),
    (lambda: simulate(Host(1), [VM("a")], duration_ms=-5), "duration_ms must be a number greater "
                                                           "than 0"),
    (lambda: simulate(Host(1), [VM("a")], duration_ms=0), "duration_ms must be a number greater"),
    (lambda: simulate(Host(1), [VM("a")], seed=-1), "seed must be an integer in 0 or more"),
    (lambda: simulate(Host(1), [VM("a")], coschedule="gang"), "coschedule must be one of"),
    (lambda: simulate(Host(1), [VM("a")], skew_threshold_ms=0), "skew_threshold_ms must be"),
    (lambda: simulate(Host(1), []), "vms must contain at least 1 VM, got 0"),
    (lambda: simulate(Host(1), [VM("a"), VM("a")]), "vms must have unique names"),
    (lambda: simulate(4, [VM("a")]), "host must be a Host"),
    (lambda: simulate(Host(2), [VM("a", vcpus=3)], coschedule="strict"),
     "vcpus of VM 'a' must be at most pcpus=2 under strict co-scheduling"),
]


@pytest.mark.parametrize("call, message", CASES)
def test_bad_input_raises_value_error_with_parameter_and_range(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


def test_libvirt_zero_means_not_set():
    # libvirt: "A period with value 0 means no value", "A quota with value 0 means no value".
    vm = VM("a", period_us=0, quota_us=0)
    assert vm.period_us == 100_000
    assert vm.quota_us == -1
    assert VM("b", quota_us=-7).quota_us == -1  # any negative quota is unlimited
