"""Every public entry point of the memory simulator refuses ``None`` and other wrong types with a
``ValueError`` that names the parameter, and refuses unbounded work before doing any."""
from __future__ import annotations

import dataclasses
import re

import pytest

from virtbook.figures import memory as mp
from virtbook.memory import (
    VM, Host, Phase, account, adjusted_ratio, idle_tax_targets, min_free_mb, next_state, simulate,
    state_for_free, thresholds,
)
from virtbook.memory.policy import proportional_grants
from virtbook.widgets import memory as wm

OPTIONAL = {"limit_mb", "soft_limit_mb", "shares", "pshare_salt"}   # None means "not set"


def refuses(call, parameter: str) -> None:
    with pytest.raises(ValueError, match=rf"^{re.escape(parameter)} must "):
        call()


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Host)])
def test_host_fields(field):
    kwargs = {"ram_mb": 1024, field: None}
    refuses(lambda: Host(**kwargs), field)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(VM) if f.name not in OPTIONAL])
def test_vm_fields(field):
    kwargs = {"name": "a", "mem_mb": 512, field: None}
    expected = {"guest_os": "guest_os", "phases": "phases"}.get(field, field)
    refuses(lambda: VM(**kwargs), expected)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Phase)])
def test_phase_fields(field):
    kwargs = {"name": "p", "duration_s": 10, "used_frac": 0.5, "active_frac": 0.1, field: None}
    refuses(lambda: Phase(**kwargs), "phase name" if field == "name" else field)


@pytest.mark.parametrize("parameter", ["host", "vms", "duration_s", "techniques", "seed", "dt_s",
                                       "timeline"])
def test_simulate_parameters(parameter):
    kwargs = {"host": Host(1024), "vms": [VM("a", 512)], parameter: None}
    refuses(lambda: simulate(**kwargs), parameter)


def test_policy_and_counting_functions():
    th = thresholds(1024)
    refuses(lambda: idle_tax_targets(None, [1], [1], [0], 0.5, 1), "alloc")
    refuses(lambda: idle_tax_targets([1], [1], [1], [0], None, 1), "tau")
    refuses(lambda: thresholds(None), "ram_mb")
    refuses(lambda: min_free_mb(None), "ram_mb")
    refuses(lambda: state_for_free(None, th), "free_pages")
    refuses(lambda: state_for_free(5, None), "th")
    refuses(lambda: next_state(None, 5, th), "state")
    refuses(lambda: next_state(0, None, th), "free_pages")
    refuses(lambda: adjusted_ratio(None, 1, 1, 0.5), "shares")
    refuses(lambda: account(None, [1], [True], ((0,),), ((0,),), 256), "zs")
    refuses(lambda: account([1], [1], [True], None, ((0,),), 256), "zero_groups")
    refuses(lambda: proportional_grants(None, [1], [1]), "amount")
    refuses(lambda: proportional_grants(1, None, [1]), "demands")


def test_results_figures_and_widget():
    r = simulate(Host(1024), [VM("a", 512)], duration_s=10)
    refuses(lambda: r.trace(None), "every_s")
    refuses(lambda: r.dommemstat(None), "name")
    refuses(lambda: r.dommemstat("a", None), "step")
    refuses(lambda: mp.smoothed_slowdown(r, None), "window_s")
    refuses(lambda: mp.smoothed_slowdown(None), "result")
    refuses(lambda: mp.plot_idle_tax_runs(None, {}), "runs")
    for field in dataclasses.fields(wm.Controls):
        refuses(lambda f=field.name: wm.Controls(**{f: None}), field.name)
    refuses(lambda: wm.scenario(None), "controls")
    refuses(lambda: wm.ram_sweep(None), "ram_gib")
    refuses(lambda: wm.ram_sweep(tuple(range(4, 30))), "ram_gib")
