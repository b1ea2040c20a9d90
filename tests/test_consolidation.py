"""Behaviour of the consolidation model behind chapter 3: traces, packing, cost and recovery."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook.consolidation import (FAILURES, CostModel, ProtectionScheme, ServerTrace,
                                    annual_cost, best_recovery, consolidate, cost_comparison,
                                    default_schemes, diurnal_shape, host_sweep, pack, power_watts,
                                    recover, small_business_traces)
from solutions import check_printed, run_solution, solution, solution_code, unglued_prose

matplotlib.use("Agg")
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)


# ---------------------------------------------------------------- traces

def test_same_seed_same_traces_and_another_seed_differs():
    a = small_business_traces(6, 0.4, seed=3)
    b = small_business_traces(6, 0.4, seed=3)
    c = small_business_traces(6, 0.4, seed=4)
    assert all(np.array_equal(x.utilization, y.utilization) for x, y in zip(a, b))
    assert not all(np.array_equal(x.utilization, z.utilization) for x, z in zip(a, c))


@pytest.mark.parametrize("step", [1, 5, 15, 60])
def test_one_sample_per_step_for_a_whole_day(step):
    traces = small_business_traces(3, 0.5, step_minutes=step)
    assert {t.utilization.size for t in traces} == {1440 // step}
    assert traces[0].hours[-1] == pytest.approx(24 - step / 60)


def test_the_lectures_pair_peaks_exactly_at_peak_load_and_later_servers_lower():
    traces = small_business_traces(8, 0.5, seed=7)
    assert [t.role for t in traces[:4]] == ["web", "database", "web", "database"]
    assert traces[0].peak == pytest.approx(0.5) and traces[1].peak == pytest.approx(0.5)
    assert all(0.3 - 1e-9 <= t.peak <= 0.5 + 1e-9 for t in traces[2:])
    assert all(t.utilization.min() >= 0 for t in traces)


def test_web_peaks_in_the_evening_and_database_at_night():
    web, db = small_business_traces(2, 0.45, noise=0.0)
    assert 17 <= web.hours[web.utilization.argmax()] <= 23
    assert 0 <= db.hours[db.utilization.argmax()] <= 5


def test_phase_shifts_the_shape_in_time():
    hours = np.arange(0, 24, 0.25)
    shifted = diurnal_shape("web", hours, phase_hours=2.0)
    assert hours[shifted.argmax()] == pytest.approx(hours[diurnal_shape("web", hours).argmax()] + 2)


def test_averages_fall_in_the_published_ranges():
    """Servers bought for their peak idle most of the day: the default pair averages 10-25 %."""
    r = consolidate()
    assert 0.10 <= r.mean_utilization_before <= 0.25
    assert all(t.mean < t.peak / 2 for t in r.traces)


# ---------------------------------------------------------------- packing

def _flat(name: str, values) -> ServerTrace:
    return ServerTrace(name, "web", np.asarray(values, dtype=float))


def test_peaks_that_do_not_coincide_share_a_host_only_when_packing_on_traces():
    day = np.zeros(24)
    evening, night = day.copy(), day.copy()
    evening[20], night[2] = 0.5, 0.5
    traces = [_flat("web", evening + 0.1), _flat("db", night + 0.1)]
    assert pack(traces, headroom=0.2, method="peak").n_hosts == 2
    assert pack(traces, headroom=0.2, method="trace").n_hosts == 1


def test_peaks_that_coincide_need_two_hosts_either_way():
    same = np.full(24, 0.1)
    same[20] = 0.5
    traces = [_flat("a", same), _flat("b", same)]
    assert pack(traces, 0.2, "peak").n_hosts == pack(traces, 0.2, "trace").n_hosts == 2


def test_more_headroom_never_needs_fewer_hosts_for_the_default_fleet():
    counts = [consolidate(8, 0.4, h).by_trace.n_hosts for h in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)]
    assert counts == sorted(counts)


def test_a_server_bigger_than_a_host_gets_a_host_of_its_own():
    big, small = _flat("big", np.full(4, 0.9)), _flat("small", np.full(4, 0.05))
    placement = pack([small, big], headroom=0.2)
    assert placement.hosts == ((1,), (0,))
    assert "alone it exceeds 80%" in placement.log[0]


def test_the_log_replays_every_decision_in_decreasing_order_of_peak():
    r = consolidate(6, 0.4, 0.2, seed=2)
    log = r.by_trace.log
    assert len(log) == r.servers
    named = [line.split(" ")[0] for line in log]
    assert sorted(named) == sorted(t.name for t in r.traces)
    peaks = [next(t.peak for t in r.traces if t.name == n) for n in named]
    assert peaks == sorted(peaks, reverse=True)


@PROPERTY
@given(servers=st.integers(1, 12), peak=st.floats(0.05, 1.0), headroom=st.floats(0.0, 0.6),
       seed=st.integers(0, 10_000))
def test_packing_invariants(servers, peak, headroom, seed):
    r = consolidate(servers, peak, headroom, seed=seed)
    for placement in (r.by_peak, r.by_trace):
        members = sorted(i for host in placement.hosts for i in host)
        assert members == list(range(servers))                       # everyone placed once
        for host, load in zip(placement.hosts, placement.host_load):
            assert np.allclose(load, sum(r.traces[i].utilization for i in host))
            if len(host) > 1:                                         # shared hosts fit
                assert load.max() <= placement.capacity + 1e-9
        assert placement.n_hosts <= servers
    total = sum(t.utilization for t in r.traces)
    lower_trace = math.ceil(total.max() / (1 - headroom) - 1e-9)
    lower_peak = math.ceil(sum(t.peak for t in r.traces) / (1 - headroom) - 1e-9)
    assert r.by_trace.n_hosts >= min(lower_trace, servers)
    assert r.by_peak.n_hosts >= min(lower_peak, servers)
    assert r.mean_utilization_after >= r.mean_utilization_before - 1e-12


def test_the_sweep_follows_one_growing_fleet():
    sweep = host_sweep(range(1, 11), 0.45, 0.2, seed=0)
    assert list(sweep["servers"]) == list(range(1, 11))
    assert all(np.diff(sweep["by_trace"]) >= 0) and all(np.diff(sweep["by_peak"]) >= 0)
    assert sweep["by_trace"][-1] < sweep["by_peak"][-1] < 10


def test_spare_hosts_count_as_hosts_and_lower_utilization():
    plain, spared = consolidate(6, 0.4, 0.2), consolidate(6, 0.4, 0.2, spare_hosts=1)
    assert spared.hosts_after == plain.hosts_after + 1
    assert spared.mean_utilization_after < plain.mean_utilization_after
    assert spared.host_loads_after().shape[0] == spared.hosts_after


# ---------------------------------------------------------------- cost

def test_power_is_linear_from_idle_to_peak():
    model = CostModel(peak_watts=400, idle_fraction=0.6)
    watts = power_watts([0.0, 0.25, 1.0, 1.5], model)
    assert watts[0] == pytest.approx(240) and watts[2] == pytest.approx(400)
    assert watts[1] == pytest.approx(240 + 0.25 * 160)
    assert watts[3] == pytest.approx(400)                                    # capped at 100 %


def test_annual_cost_adds_up_its_parts():
    model = CostModel(server_price=3000, host_price=5000, lifetime_years=3, price_per_kwh=0.2,
                      licence_per_host_year=700)
    loads = np.full((2, 288), 0.5)
    servers, hosts = annual_cost(loads, model), annual_cost(loads, model, hosts=True)
    assert servers.hardware == pytest.approx(2 * 3000 / 3) and servers.licences == 0
    assert hosts.hardware == pytest.approx(2 * 5000 / 3) and hosts.licences == 1400
    assert servers.kwh == pytest.approx(2 * power_watts(0.5, model) * 8760 / 1000)
    assert servers.energy == pytest.approx(servers.kwh * 0.2)
    assert hosts.total == pytest.approx(hosts.hardware + hosts.energy + hosts.licences)


@PROPERTY
@given(servers=st.integers(2, 12), peak=st.floats(0.05, 0.6), headroom=st.floats(0.0, 0.4),
       seed=st.integers(0, 10_000))
def test_energy_saved_is_the_idle_power_of_the_machines_switched_off(servers, peak, headroom,
                                                                     seed):
    """Same work, fewer machines: under the linear model only the idle power goes away."""
    model = CostModel()
    r = consolidate(servers, peak, headroom, seed=seed)
    cost = cost_comparison(r, model)
    idle_kwh = model.idle_fraction * model.peak_watts * 8760 / 1000
    saved = cost["before"].kwh - cost["after"].kwh
    assert saved == pytest.approx((r.servers - r.hosts_after) * idle_kwh, rel=1e-9, abs=1e-6)


def test_a_licence_can_eat_the_savings():
    r = consolidate(2, 0.45, 0.2)
    free = cost_comparison(r, CostModel())
    paid = cost_comparison(r, CostModel(licence_per_host_year=2000))
    assert free["after"].total < free["before"].total
    assert paid["after"].total > paid["before"].total


# ---------------------------------------------------------------- recovery

def test_snapshots_do_not_survive_the_loss_of_their_storage():
    backup, snapshot, replica = default_schemes()
    assert recover(snapshot, "logical").survives and not recover(snapshot, "hardware").survives
    assert recover(replica, "hardware").survives and not recover(replica, "logical").survives
    assert all(recover(backup, f).survives for f in FAILURES)
    assert math.isinf(recover(snapshot, "hardware").rpo_hours)


def test_recovery_point_is_the_interval_and_mean_loss_half_of_it():
    scheme = ProtectionScheme("every 6 h", 6.0, 0.5, off_host=True, point_in_time=True)
    outcome = recover(scheme, "hardware")
    assert (outcome.rpo_hours, outcome.rto_hours) == (6.0, 0.5)
    # A failure at a uniformly random moment loses the time since the last copy.
    rng = np.random.default_rng(0)
    losses = rng.uniform(0, 1000 * 6.0, 200_000) % 6.0
    assert losses.max() <= outcome.rpo_hours
    assert losses.mean() == pytest.approx(outcome.mean_loss_hours, rel=0.01)


def test_restoring_a_backup_takes_longer_for_a_bigger_disk():
    small = default_schemes(disk_gb=100)[0].restore_hours
    large = default_schemes(disk_gb=400)[0].restore_hours
    boot = 5 / 60
    assert large - boot == pytest.approx(4 * (small - boot))


def test_combined_schemes_take_the_freshest_surviving_copy():
    schemes = default_schemes()
    assert best_recovery(schemes, "logical").scheme == "hourly snapshot"
    assert best_recovery(schemes, "hardware").scheme == "replication"
    assert best_recovery(schemes[:2], "hardware").scheme == "nightly backup"


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: small_business_traces(0), "servers"),
    (lambda: small_business_traces(2, 0.0), "peak_load"),
    (lambda: small_business_traces(2, 1.5), "peak_load"),
    (lambda: small_business_traces(2, 0.5, step_minutes=7), "step_minutes"),
    (lambda: small_business_traces(2, 0.5, noise=-0.1), "noise"),
    (lambda: consolidate(2, 0.5, 1.0), "headroom"),
    (lambda: consolidate(2, 0.5, 0.2, spare_hosts=-1), "spare_hosts"),
    (lambda: pack(small_business_traces(2), 0.2, "average"), "method"),
    (lambda: pack([], 0.2), "traces"),
    (lambda: diurnal_shape("mail", np.arange(3)), "role"),
    (lambda: CostModel(idle_fraction=1.2), "idle_fraction"),
    (lambda: CostModel(lifetime_years=0), "lifetime_years"),
    (lambda: recover(default_schemes()[0], "fire"), "failure"),
    (lambda: default_schemes(disk_gb=0), "disk_gb"),
    (lambda: ProtectionScheme("x", -1.0, 1.0, True, True), "interval_hours"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------- widget and figures

def test_figure_draws_three_panels_for_the_chosen_fleet():
    from virtbook.figures.consolidation import draw_consolidation

    fig = draw_consolidation(consolidate(6, 0.4, 0.25))
    assert len(fig.axes) == 3
    hosts = consolidate(6, 0.4, 0.25).by_trace.n_hosts
    assert fig.axes[2].get_title().startswith(f"(a) Host 1 of {hosts}")


def test_widget_render_returns_the_figure_and_says_what_it_shows():
    from virtbook.widgets.consolidation import render

    png, summary = render(6, 0.4, 0.25)
    result = consolidate(6, 0.4, 0.25)
    assert png.startswith(b"\x89PNG")
    assert f"{result.by_peak.n_hosts} hosts when packed on peaks" in summary
    assert f"{result.hosts_after} when packed on daily traces" in summary


def test_recovery_figure_marks_the_two_schemes_without_a_usable_copy():
    from virtbook.figures.consolidation import draw_recovery

    fig = draw_recovery(default_schemes())
    marks = [t for ax in fig.axes for t in ax.texts if t.get_text() == "no usable copy"]
    assert len(marks) == 2


def test_widget_has_the_four_controls():
    pytest.importorskip("ipywidgets")
    from virtbook.widgets.consolidation import consolidation_widget

    box = consolidation_widget()
    sliders = [w for row in box.children[:2] for w in row.children]
    assert [s.description for s in sliders] == ["servers", "peak load", "headroom", "spare hosts"]
    summary, image = box.children[2:]
    first = bytes(image.value)
    sliders[0].value = 6
    assert bytes(image.value) != first and "6 servers" in summary.value
    assert len(box.update_times) == 1


# ---------------------------------------------------------------- the chapter's own numbers

CH3 = Path(__file__).resolve().parents[1] / "chapters" / "03-why-virtualize.ipynb"


def test_exercise_labels_are_consecutive_and_every_reference_resolves():
    text = "".join("".join(c["source"]) for c in json.loads(CH3.read_text())["cells"])
    labels = re.findall(r":label: (ex-03-\d+)", text)
    assert labels == [f"ex-03-{i}" for i in range(1, len(labels) + 1)]
    assert set(re.findall(r"\{ref\}`(ex-03-\d+)`", text)) <= set(labels)
    assert re.findall(r":::\{solution\} (ex-03-\d+)", text) == labels


@pytest.mark.parametrize("label", ["ex-03-1", "ex-03-2", "ex-03-3", "ex-03-4"])
def test_chapter_3_solution_code_prints_what_the_solution_claims(label):
    for code in solution_code(CH3, label):
        printed, claimed = check_printed(code)
        assert claimed and printed == claimed


def test_chapter_3_solution_prose_numbers_are_the_models_inputs_or_outputs():
    """Numbers typed by hand in the solutions, checked against the model's defaults."""
    backup, snapshot, replica = default_schemes()
    assert (backup.interval_hours, snapshot.interval_hours) == (24, 1)          # ex-03-1, ex-03-4
    assert (replica.interval_hours * 60, replica.restore_hours * 60) == (5, 5)  # ex-03-4
    model = CostModel()                                                         # ex-03-5
    assert (model.peak_watts, model.idle_fraction) == (300, 0.5)
    idle_kwh = model.peak_watts * model.idle_fraction * 8760 / 1000
    assert idle_kwh == 1314
    r = consolidate(2, 0.45, 0.2)
    c = cost_comparison(r)
    assert math.isclose(c["before"].kwh - c["after"].kwh, idle_kwh)
    for label in ("ex-03-1", "ex-03-2", "ex-03-3", "ex-03-4", "ex-03-5"):
        typed = set(re.findall(r"\d+(?:[.,]\d+)*", unglued_prose(solution(CH3, label))))
        allowed = {"1", "2", "5", "10", "15", "24", "0", "20", "80", "45", "90", "100", "150",
                   "300", "0.5", "0.20", "8,760", "1,314", "11", "9", "6", "3"}
        assert typed <= allowed, f"{label} types {sorted(typed - allowed)} by hand"


def test_chapter_3_solution_hand_numbers_are_the_models():
    """The numbers ex-03-1 to ex-03-5 work out by hand, from the model (registered in
    tests/test_solution_numbers.py)."""
    backup, snapshot, replica = default_schemes()
    # ex-03-1: the nightly backup loses at most 24 hours after either failure
    for failure in FAILURES:
        assert recover(backup, failure).rpo_hours == 24
    # ex-03-2: hosts are filled to 1 - 0.20 = 80 percent; each server peaks at 45 percent, and
    # packing on peaks adds 45 + 45 = 90 > 80, so it needs two hosts
    r = consolidate(servers=2, peak_load=0.45, headroom=0.20, seed=0)
    assert r.by_peak.capacity == pytest.approx(0.80)
    assert [round(100 * t.peak) for t in r.traces] == [45, 45] and 45 + 45 == 90 > 80
    assert r.by_peak.n_hosts == 2
    # ex-03-4: replication keeps RPO and RTO at 5 minutes; the proposed history replica loses
    # at most 5 minutes and is back in 10
    assert (recover(replica, "hardware").rpo_hours * 60,
            recover(replica, "hardware").rto_hours * 60) == pytest.approx((5, 5))
    _, out = run_solution(CH3, "ex-03-4")
    assert "logical replication with history 5.0 min 10.0 min" in out
    # ex-03-5: P_idle = 0.5 x 300 W = 150 W; 150 W x 8,760 h = 1,314 kWh; with P_idle = 0 nothing
    model = CostModel()
    assert (model.idle_fraction, model.peak_watts) == (0.5, 300)
    assert model.idle_fraction * model.peak_watts == 150 and 150 * 8760 / 1000 == 1314
    c = cost_comparison(r, model)
    assert c["before"].kwh - c["after"].kwh == pytest.approx(1314)
    proportional = cost_comparison(r, CostModel(idle_fraction=0))
    assert proportional["before"].kwh - proportional["after"].kwh == pytest.approx(0, abs=1e-6)


def test_figure_alt_texts_quote_the_models_numbers():
    text = "".join("".join(c["source"]) for c in json.loads(CH3.read_text())["cells"])
    alts = dict(re.findall(r":alt: (.*)\n:name: (fig-03-[a-z]+)", text)[i][::-1]
                for i in range(3))
    r = consolidate(servers=2, peak_load=0.45, headroom=0.2, seed=0)
    c = cost_comparison(r, CostModel())
    a = alts["fig-03-consolidation"]
    assert f"peaks at {round(100 * r.by_trace.host_peaks[0])} percent" in a
    assert (f"{round(100 * r.mean_utilization_before)} to "
            f"{round(100 * r.mean_utilization_after)} percent") in a
    assert f"{round(c['before'].total, -3):,.0f} to about {round(c['after'].total, -1):,.0f}" in a
    sweep = host_sweep(range(1, 13), peak_load=0.45, headroom=0.2, seed=0)
    s = alts["fig-03-sweep"]
    assert f"in steps to {int(sweep['by_peak'][-1])}" in s
    assert f"reaches {int(sweep['by_trace'][-1])} at 12 servers" in s
    backup, snapshot, replica = default_schemes(disk_gb=200, restore_mb_per_s=100, boot_minutes=5)
    assert f"about {round(backup.restore_hours * 60)} minutes" in alts["fig-03-recovery"]
