"""The CPU figures: entitlement (weighted max-min fair share), timeline boxes, and the dashboard
whose panels must show exactly the numbers of the simulation they were given."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

from virtbook import cpu_plots  # noqa: E402
from virtbook.cpu import (  # noqa: E402
    CFS, VM, CPUBound, Credit, Host, Idle, IOBound, SpinLock, default_scenario, simulate,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def default_run():
    host, vms, kwargs = default_scenario()
    kwargs = dict(kwargs, duration_ms=2000)
    result = simulate(host, vms, **kwargs)
    return host, vms, kwargs, result


# ---------------------------------------------------------------------------------------------
# entitlement
# ---------------------------------------------------------------------------------------------


def test_credit_weights_split_one_pcpu_by_ratio():
    ent = cpu_plots.entitlement(Host(pcpus=1), [VM("a", weight=256), VM("b", weight=768)], "credit")
    assert ent["a"] == pytest.approx(0.25)
    assert ent["b"] == pytest.approx(0.75)


def test_credit_counts_weight_per_vcpu_but_cfs_per_vm():
    vms = [VM("wide", vcpus=2), VM("narrow", vcpus=1)]
    credit = cpu_plots.entitlement(Host(pcpus=1), vms, "credit")
    cfs = cpu_plots.entitlement(Host(pcpus=1), vms, "cfs")
    assert credit["wide"] == pytest.approx(2 * credit["narrow"])
    assert cfs["wide"] == pytest.approx(cfs["narrow"])


def test_cap_and_quota_limit_the_entitlement_even_on_an_idle_host():
    capped = VM("c", cap=30, quota_us=30_000, period_us=100_000)
    assert cpu_plots.entitlement(Host(pcpus=4), [capped], "credit")["c"] == pytest.approx(0.3)
    assert cpu_plots.entitlement(Host(pcpus=4), [capped], "cfs")["c"] == pytest.approx(0.3)
    # Round robin has no caps: the VM may use its whole vCPU.
    assert cpu_plots.entitlement(Host(pcpus=4), [capped], "rr")["c"] == pytest.approx(1.0)


def test_leftover_of_a_light_vm_goes_to_the_others():
    light = VM("io", workload=IOBound(run_ms=1, block_ms=9))
    hogs = [VM("h1"), VM("h2")]
    ent = cpu_plots.entitlement(Host(pcpus=1), [light, *hogs], "credit")
    assert ent["io"] == pytest.approx(0.1)
    assert ent["h1"] == pytest.approx(0.45) and ent["h2"] == pytest.approx(0.45)


def test_idle_vm_is_entitled_to_nothing_and_a_vm_never_to_more_than_its_vcpus():
    ent = cpu_plots.entitlement(Host(pcpus=8), [VM("idle", vcpus=4, workload=Idle()), VM("one")],
                                Credit())
    assert ent["idle"] == 0.0
    assert ent["one"] == pytest.approx(1.0)


def test_demand_by_workload():
    assert cpu_plots.demand(VM("a", vcpus=3)) == 3.0
    assert cpu_plots.demand(VM("s", vcpus=2, workload=SpinLock())) == 2.0
    assert cpu_plots.demand(VM("i", workload=Idle())) == 0.0
    assert cpu_plots.demand(VM("o", vcpus=2, workload=IOBound(run_ms=1, block_ms=3))) == 0.5


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
    ent = cpu_plots.entitlement(Host(pcpus=pcpus), vms, scheduler)
    kind = scheduler
    uppers = {}
    for vm in vms:
        w, limit = cpu_plots._weight_and_limit(vm, kind)
        uppers[vm.name] = (min(cpu_plots.demand(vm), vm.vcpus, limit), w)
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
    ent = cpu_plots.entitlement(host, vms, scheduler)
    r = simulate(host, vms, scheduler, duration_ms=6000, seed=1)
    for vm in vms:
        assert r.cpu_share[vm.name] == pytest.approx(ent[vm.name], abs=0.06), vm.name


def test_entitlement_rejects_bad_input():
    with pytest.raises(ValueError, match="scheduler must be one of"):
        cpu_plots.entitlement(Host(), [VM("a")], "fifo")
    with pytest.raises(ValueError, match="host must be a Host"):
        cpu_plots.entitlement(4, [VM("a")], "credit")
    with pytest.raises(ValueError, match="vms must be a non-empty sequence"):
        cpu_plots.entitlement(Host(), [], "credit")
    with pytest.raises(ValueError, match="scheduler must be"):
        cpu_plots.entitlement(Host(), [VM("a")], object())
    assert cpu_plots.entitlement(Host(), [VM("a")], CFS())["a"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# timeline boxes, paths, ECDF
# ---------------------------------------------------------------------------------------------


def test_timeline_boxes_cover_exactly_the_vms_run_time_in_the_window(default_run):
    *_, result = default_run
    window = (100.0, 400.0)
    for vm in result.vm_names:
        boxes = cpu_plots.timeline_rectangles(result, vm, window)
        covered = sum(b[1, 0] - b[0, 0] for b in boxes)
        expected = sum(max(0.0, min(s.end_ms, window[1]) - max(s.start_ms, window[0]))
                       for s in result.timeline if s.vm == vm)
        assert covered == pytest.approx(expected)
        for b in boxes:
            assert window[0] <= b[0, 0] <= b[1, 0] <= window[1]
            row = (b[0, 1] + b[2, 1]) / 2
            assert row == int(round(row)) and 0 <= row < result.pcpus


def test_timeline_rejects_unknown_vm_and_bad_window(default_run):
    *_, result = default_run
    with pytest.raises(ValueError, match="vm must be one of"):
        cpu_plots.timeline_rectangles(result, "nope", (0, 10))
    with pytest.raises(ValueError, match="window_ms must have end > start"):
        cpu_plots.timeline_rectangles(result, "web", (10, 10))
    with pytest.raises(ValueError, match="window_ms must be a pair"):
        cpu_plots.timeline_rectangles(result, "web", 5)


def test_boxes_path_has_one_closed_square_per_box():
    boxes = [np.array([[0, 0], [1, 0], [1, 1], [0, 1]]), np.array([[2, 0], [3, 0], [3, 1], [2, 1]])]
    path = cpu_plots.boxes_path(boxes)
    assert path.vertices.shape == (10, 2)
    assert list(path.codes).count(path.CLOSEPOLY) == 2
    assert len(cpu_plots.boxes_path([]).vertices) == 1


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=200))
def test_ecdf_is_sorted_monotone_and_ends_at_one(samples):
    x, y = cpu_plots.ecdf(np.array(samples))
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) > 0)
    assert y[-1] == pytest.approx(1.0) and y[0] == pytest.approx(1 / len(samples))


# ---------------------------------------------------------------------------------------------
# the dashboard
# ---------------------------------------------------------------------------------------------


def test_dashboard_panels_show_the_results_numbers(default_run):
    host, vms, kwargs, result = default_run
    ent = cpu_plots.entitlement(host, vms, kwargs["scheduler"])
    board = cpu_plots.SchedulerDashboard(result.vm_names)
    board.update(result, ent)
    for bar, name in zip(board._share, result.vm_names):
        assert bar.get_height() == pytest.approx(result.cpu_share[name])
    for seg, name in zip(board._ent.get_segments(), result.vm_names):
        assert seg[0][1] == pytest.approx(ent[name])
    for r_bar, c_bar, name in zip(board._rdy, board._cstp, result.vm_names):
        assert r_bar.get_height() == pytest.approx(result.ready_pct[name])
        assert c_bar.get_y() == pytest.approx(result.ready_pct[name])
        assert c_bar.get_height() == pytest.approx(result.costop_pct[name])
    web = list(result.vm_names).index("web")
    xs, ys = board._lat[web].get_data()
    assert len(xs) == len(result.wake_latency_ms["web"]) + 1 and ys[-1] == pytest.approx(1.0)
    idle = list(result.vm_names).index("idle")
    assert len(board._lat[idle].get_data()[0]) == 0
    assert board.ax_tl.get_ylim()[1] == pytest.approx(host.pcpus - 0.4)
    assert "credit" in board._title.get_text()


def test_dashboard_png_has_the_figures_size_and_blits_after_the_first_draw(default_run):
    host, vms, kwargs, result = default_run
    board = cpu_plots.SchedulerDashboard(result.vm_names, blit=True)
    board.update(result)
    png = board.png()
    assert png.startswith(PNG_SIGNATURE)
    from PIL import Image
    import io

    w, h = Image.open(io.BytesIO(png)).size
    assert (w, h) == tuple(int(round(v * board.fig.dpi)) for v in board.fig.get_size_inches())
    board.update(result)
    assert board.png() == png  # the blitted frame equals the full frame for the same data
    assert board.full_redraws == 1
    other = simulate(host.__class__(pcpus=2), vms[:3], "credit", duration_ms=500)
    small = cpu_plots.SchedulerDashboard(other.vm_names, blit=True)
    small.update(other)
    small.png()
    small.update(simulate(host.__class__(pcpus=3), vms[:3], "credit", duration_ms=500))
    small.png()
    assert small.full_redraws == 2  # a new host size changes the axes: the background is rebuilt


def test_prewarmed_backgrounds_give_the_same_frames_without_full_draws(default_run):
    host, vms, kwargs, result = default_run
    runs = {p: simulate(host.__class__(pcpus=p), vms[:3], "credit", duration_ms=500)
            for p in (2, 3, 5)}
    cold = cpu_plots.SchedulerDashboard(runs[2].vm_names, blit=True)
    warm = cpu_plots.SchedulerDashboard(runs[2].vm_names, blit=True)
    for board in (cold, warm):
        board.update(runs[2])
        board.png()
    assert warm.prewarm(range(1, 7)) == 5            # 2 pCPUs was drawn by the first frame
    assert warm.prewarm([3, 5]) == 0                 # already there: nothing drawn twice
    for p in (5, 3, 2):
        cold.update(runs[p])
        warm.update(runs[p])
        assert warm.png() == cold.png(), f"{p} pCPUs: the prewarmed frame differs"
    assert (cold.full_redraws, warm.full_redraws, warm.prewarmed) == (3, 1, 5)
    assert warm.ax_tl.get_ylim()[1] == pytest.approx(2 - 0.4)  # the current host is restored


def test_prewarm_refuses_a_plain_figure_and_bad_host_sizes(default_run):
    host, vms, kwargs, result = default_run
    with pytest.raises(ValueError, match="prewarm needs a dashboard made with blit=True"):
        cpu_plots.SchedulerDashboard(result.vm_names).prewarm([2])
    with pytest.raises(ValueError, match="pcpus must be an integer in 1..1024"):
        cpu_plots.SchedulerDashboard(result.vm_names, blit=True).prewarm([0])


def test_dashboard_rejects_mismatched_input(default_run):
    host, vms, kwargs, result = default_run
    board = cpu_plots.SchedulerDashboard(["a", "b"])
    with pytest.raises(ValueError, match="result must have the dashboard's VMs"):
        board.update(result)
    board = cpu_plots.SchedulerDashboard(result.vm_names)
    with pytest.raises(ValueError, match="entitled must give a share for every VM"):
        board.update(result, {"web": 1.0})
    with pytest.raises(ValueError, match="result must be a SimResult"):
        board.update("not a result")
    with pytest.raises(ValueError, match="vm_names must be unique"):
        cpu_plots.SchedulerDashboard(["a", "a"])
    with pytest.raises(ValueError, match="blit must be True or False"):
        cpu_plots.SchedulerDashboard(["a"], blit="yes")
    with pytest.raises(ValueError, match="compress_level must be an integer in 0..9"):
        cpu_plots.SchedulerDashboard(["a"]).png(compress_level=11)


def test_static_dashboard_function_draws_a_figure(default_run):
    *_, result = default_run
    fig = cpu_plots.dashboard(result, title="a title")
    assert fig._suptitle.get_text() == "a title"
    assert len(fig.axes) == 4


def test_ready_vs_ratio_plots_the_given_points_and_keeps_every_series_in_view():
    fig, ax = cpu_plots.plot_ready_vs_ratio([1, 2, 3], [0.5, 12.0, 30.0],
                                            more={"busy": [0.0, 50.0, 66.7]})
    light, busy = ax.get_lines()[:2]
    assert list(light.get_xdata()) == [1, 2, 3] and list(light.get_ydata()) == [0.5, 12.0, 30.0]
    assert list(busy.get_ydata()) == [0.0, 50.0, 66.7]
    assert ax.get_ylim()[1] >= 66.7
    assert light.get_linestyle() != busy.get_linestyle() and light.get_marker() != busy.get_marker()
    with pytest.raises(ValueError, match="same, non-zero length"):
        cpu_plots.plot_ready_vs_ratio([1, 2], [1.0])
    with pytest.raises(ValueError, match="same, non-zero length"):
        cpu_plots.plot_ready_vs_ratio([1, 2], [1.0, 2.0], more={"x": [1.0]})


def test_proportional_bars_one_group_per_series():
    fig, ax = cpu_plots.plot_proportional({"stride": [0.25, 0.125, 0.625]}, [0.25, 0.125, 0.625],
                                          ["A", "B", "C"])
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == sorted([0.25, 0.125, 0.625] * 2)
    assert ax.get_ylim()[1] > 0.625 * 1.2  # room above the tallest bar for the legend
    with pytest.raises(ValueError, match="one value per label"):
        cpu_plots.plot_proportional({"x": [1.0]}, [0.5, 0.5], ["A", "B"])
    assert math.isclose(sum(p.get_height() for p in ax.patches[:3]), 1.0)
