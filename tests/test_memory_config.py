"""Bad input raises ValueError naming the parameter and the allowed range; defaults are the cited ones."""
from __future__ import annotations

import re

import pytest

from virtbook.memory import Host, Phase, VM, idle_tax_targets, next_state, simulate, thresholds
from virtbook.memory.policy import Thresholds

HOST = Host(ram_mb=1024)
ONE = [VM("a", 256)]


def _raises(fn, pattern: str) -> None:
    with pytest.raises(ValueError) as info:
        fn()
    assert re.search(pattern, str(info.value)), str(info.value)


@pytest.mark.parametrize(
    "fn, pattern",
    [
        (lambda: VM("a", 0), r"mem_mb must be an integer in 1\.\.4194304, got 0"),
        (lambda: VM("a", True), r"mem_mb must be an integer in 1\.\.4194304, got True"),
        (lambda: VM("a", 1.5), r"mem_mb must be an integer"),
        (lambda: VM("", 10), r"name must be a non-empty printable string"),
        (lambda: VM("a", 100, reservation_mb=200), r"reservation_mb must be an integer in 0\.\.100, got 200"),
        (lambda: VM("a", 100, reservation_mb=50, limit_mb=40), r"limit_mb must be an integer in 50\.\.100, got 40"),
        (lambda: VM("a", 100, soft_limit_mb=0), r"soft_limit_mb must be an integer in 1\.\.100, got 0"),
        (lambda: VM("a", 100, shares=0), r"shares must be an integer in 1\.\."),
        (lambda: VM("a", 100, zero_frac=-0.1), r"zero_frac must be a number at least 0 and at most 1"),
        (lambda: VM("a", 100, zero_frac=0.6, os_frac=0.6), r"os_frac must be a number at least 0 and at most 1 - zero_frac \(0\.4\)"),
        (lambda: VM("a", 100, jitter=0.9), r"jitter must be a number at least 0 and at most 0\.5"),
        (lambda: VM("a", 100, cow_rate=float("nan")), r"cow_rate must be a finite number"),
        (lambda: VM("a", 100, large_pages=1), r"large_pages must be True or False"),
        (lambda: VM("a", 100, phases=()), r"phases must be a sequence of 1\.\.1000 Phase objects"),
        (lambda: VM("a", 100, phases=("boot",)), r"phases must be a sequence of 1\.\.1000 Phase objects"),
        (lambda: Phase("p", 0, 0.5, 0.1), r"duration_s must be a number greater than 0"),
        (lambda: Phase("p", 10, 0.5, 0.7), r"active_frac must be a number at least 0 and at most used_frac \(0\.5\)"),
        (lambda: Phase("p", 10, 1.5, 0.1), r"used_frac must be a number at least 0 and at most 1"),
        (lambda: Host(ram_mb=0), r"ram_mb must be an integer in 1\.\.16777216, got 0"),
        (lambda: Host(ram_mb=1024, policy="esx"), r"policy must be one of 'esx2002', 'vsphere5', got 'esx'"),
        (lambda: Host(ram_mb=1024, pages_to_scan=0), r"pages_to_scan must be an integer in 1\.\.10000000, got 0"),
        (lambda: Host(ram_mb=1024, sleep_millisecs=0), r"sleep_millisecs must be an integer in 1\.\."),
        (lambda: Host(ram_mb=1024, max_page_sharing=1), r"max_page_sharing must be an integer in 2\.\.1000000, got 1"),
        (lambda: Host(ram_mb=1024, ksm_thres_coef=101), r"ksm_thres_coef must be an integer in 0\.\.100, got 101"),
        (lambda: Host(ram_mb=1024, share_force_salting=3), r"share_force_salting must be an integer in 0\.\.2, got 3"),
        (lambda: Host(ram_mb=1024, idle_tax=1.0), r"idle_tax must be a number at least 0 and at most 0\.99, got 1\.0"),
        (lambda: Host(ram_mb=1024, ctl_max_percent=-1), r"ctl_max_percent must be an integer in 0\.\.100, got -1"),
        (lambda: Host(ram_mb=1024, swap_out_mb_s=0), r"swap_out_mb_s must be a number greater than 0"),
        (lambda: Host(ram_mb=1024, sample_period_s=0), r"sample_period_s must be a number greater than 0"),
        (lambda: simulate(HOST, ONE, duration_s=0), r"duration_s must be a number greater than 0"),
        (lambda: simulate(HOST, ONE, duration_s=10, dt_s=20), r"dt_s must be a number greater than 0 and at most duration_s \(10\)"),
        (lambda: simulate(HOST, ONE, duration_s=10, techniques=("ballon",)), r"techniques must be a collection of names from"),
        (lambda: simulate(HOST, ONE, duration_s=10, techniques="balloon"), r"techniques must be a collection"),
        (lambda: simulate(HOST, [], duration_s=10), r"vms must be a list of 1\.\.64 VM objects"),
        (lambda: simulate(HOST, [VM("a", 10), VM("a", 20)], duration_s=10), r"vms must have distinct names"),
        (lambda: simulate(HOST, ONE, duration_s=10, seed=-1), r"seed must be an integer in 0\.\."),
        (lambda: simulate("host", ONE, duration_s=10), r"host must be a Host"),
        (lambda: thresholds(1024, "linux"), r"policy must be one of"),
        (lambda: next_state(7, 100, Thresholds(4, 3, 2, 1)), r"state must be an integer in 0\.\.3, got 7"),
        (lambda: idle_tax_targets([1, 2], [1], [1, 1], [0, 0], 0.5, 1), r"must have the same length"),
        (lambda: idle_tax_targets([10], [1], [0], [0], 0.5, 1), r"shares must hold finite numbers greater than 0, got 0\.0 at index 0"),
        (lambda: idle_tax_targets([10], [1], [1], [0], 1.5, 1), r"tau must be a number at least 0 and at most 0\.99"),
        (lambda: idle_tax_targets([10], [1], [1], [0], 0.5, -1), r"reclaim must be a number at least 0"),
    ],
)
def test_bad_input_names_parameter_and_range(fn, pattern):
    _raises(fn, pattern)


def test_result_accessors_reject_bad_input():
    r = simulate(HOST, ONE, duration_s=5)
    _raises(lambda: r.trace(every_s=0), r"every_s must be a number greater than 0")
    _raises(lambda: r.dommemstat("nope"), r"name must be one of 'a', got 'nope'")
    _raises(lambda: r.dommemstat("a", step=5), r"step must be an integer in -5\.\.4, got 5")


def test_defaults_are_the_documented_ones():
    host = Host(ram_mb=4096)
    # kernel ksm.rst and mm/ksm.c
    assert (host.pages_to_scan, host.sleep_millisecs, host.max_page_sharing) == (100, 20, 256)
    assert host.ksm_scan_rate == 100 * 1000 / 20
    # ksmtuned, Waldspurger 2002 sections 5.2/5.3, vSphere advanced settings, vmw_balloon.c
    assert (host.ksm_thres_coef, host.ksm_thres_const_mb) == (20, 2048)
    assert host.idle_tax == 0.75 and (host.sample_period_s, host.sample_pages) == (30.0, 100)
    assert (host.ctl_max_percent, host.mem_zip_max_pct) == (65, 10)
    assert (host.balloon_rate_nosleep, host.balloon_rate_alloc_max, host.balloon_rate_free_max) == (16384, 2048, 16384)
    # VMware "Normal" shares: 10 per MB of configured memory
    for mb in (1, 512, 3000):
        assert VM("v", mb).shares == 10 * mb


def test_phases_accept_a_single_phase_and_lists():
    p = Phase("only", 10, 0.5, 0.2)
    assert VM("a", 64, phases=p).phases == (p,)
    assert VM("a", 64, phases=[p, p]).phases == (p, p)
