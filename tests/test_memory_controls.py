"""Every control of chapter 6's overcommit explorer changes the behaviour it names.

``test_memory_widget.py`` checks that each control maps onto the model's parameters; these tests
check that the change reaches the simulated result, one test per control, each with the
quantity the control is about.
"""
from __future__ import annotations

import pytest

from virtbook.memory import TECHNIQUES
from virtbook.widgets.memory import Controls, run

PRESSURE = ("balloon", "compress", "swap")


def reclaimed(r) -> float:
    """Memory taken from the guests by ballooning, compression and swapping at the end (MB)."""
    return sum(r.reclaimed_mb[t] for t in PRESSURE)


def mean_active_mb(r) -> float:
    return float(sum(r.timeline[n]["active_mb"] for n in r.names).mean())


@pytest.fixture(scope="module")
def base():
    return run(Controls())


def test_host_ram_decides_how_much_must_be_reclaimed(base):
    small, large = run(Controls(ram_gib=12)), run(Controls(ram_gib=20))
    assert small.host.ram_mb == 12 * 1024 and large.host.ram_mb == 20 * 1024
    assert reclaimed(small) > reclaimed(base) > reclaimed(large)
    assert max(small.slowdown.values()) > max(large.slowdown.values())


def test_more_vms_means_more_memory_wanted_and_reclaimed(base):
    few, many = run(Controls(n_vms=4)), run(Controls(n_vms=8))
    assert (len(few.names), len(many.names)) == (4, 8)
    assert reclaimed(few) < reclaimed(base) < reclaimed(many)


def test_vm_size_scales_what_the_guests_touch(base):
    small, big = run(Controls(size_scale=0.75)), run(Controls(size_scale=1.25))
    touched = {label: float(sum(r.timeline[n]["footprint_mb"][-1] for n in r.names))
               for label, r in (("small", small), ("base", base), ("big", big))}
    assert touched["small"] < touched["base"] < touched["big"]
    assert reclaimed(small) < reclaimed(base) < reclaimed(big)


def test_activity_scales_the_memory_guests_touch_per_sampling_period(base):
    calm, busy = run(Controls(activity=0.5)), run(Controls(activity=1.5))
    assert mean_active_mb(calm) < 0.6 * mean_active_mb(base) < mean_active_mb(busy) * 0.6
    # the idle memory tax sees it: busier guests keep more of their memory
    kept = {label: sum(r.dommemstat(n)["rss"] for n in r.names) for label, r in (("calm", calm),
                                                                               ("busy", busy))}
    assert kept["busy"] > kept["calm"]
    assert calm.slowdown != busy.slowdown


def test_guest_os_decides_what_can_be_shared(base):
    linux, windows = run(Controls(guest_os="linux")), run(Controls(guest_os="windows"))
    # one OS for all six: their kernel and library pages are shared between more VMs
    assert int(linux.ksm["inter_vm_sharing"][-1]) > int(base.ksm["inter_vm_sharing"][-1])
    # Windows guests zero their free memory: many more zero pages to merge
    assert windows.reclaimed_mb["share"] > base.reclaimed_mb["share"]


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_each_technique_switch_turns_that_technique_off(base, technique):
    off = run(Controls(**{technique: False}))
    assert base.reclaimed_mb[technique] > 0 == off.reclaimed_mb[technique]
    assert technique not in off.techniques
    field = {"balloon": "balloon_mb", "share": "shared_mb", "compress": "compressed_mb",
             "swap": "swapped_mb"}[technique]
    assert all((off.timeline[n][field] == 0).all() for n in off.names)
    assert off.slowdown != base.slowdown


def test_the_idle_tax_takes_memory_from_the_idle_windows_vms(base):
    """Over the last five minutes, as Waldspurger 2002's Figure 7 shows allocations over time: the
    final second alone depends on which VM the host happened to be reclaiming from just then."""
    no_tax = run(Controls(tau=0.0))

    def held(r, name):
        return r.dommemstat_timeline[name]["rss"][-300:].mean()

    for name in ("win1", "win2"):           # the mostly idle VMs of the scenario
        assert held(no_tax, name) > held(base, name)
    assert held(no_tax, "batch") < held(base, "batch")   # the busy VM they take it from


def test_salting_stops_sharing_between_vms(base):
    salted = run(Controls(salting=True))
    assert int(salted.ksm["inter_vm_sharing"][-1]) == 0 < int(base.ksm["inter_vm_sharing"][-1])
    assert salted.reclaimed_mb["share"] < base.reclaimed_mb["share"]
    assert salted.reclaimed_mb["share"] > 0    # each VM still shares with itself
