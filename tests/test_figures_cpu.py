"""The CPU figures (virtbook.figures.cpu): timeline boxes, and the dashboard whose panels must show
exactly the numbers of the simulation they were given."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

matplotlib.use("Agg")

from virtbook.cpu import default_scenario, entitlement, simulate
from virtbook.figures import cpu as cpu_figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def default_run():
    host, vms, kwargs = default_scenario()
    kwargs = dict(kwargs, duration_ms=2000)
    result = simulate(host, vms, **kwargs)
    return host, vms, kwargs, result


# ---------------------------------------------------------------------------------------------
# timeline boxes, paths, ECDF
# ---------------------------------------------------------------------------------------------


def test_timeline_boxes_cover_exactly_the_vms_run_time_in_the_window(default_run):
    """The boxes the dashboard draws for each VM: inside the window, one pCPU row each, and
    together exactly the VM's run time in the window."""
    *_, result = default_run
    window = (100.0, 400.0)
    board = cpu_figures.SchedulerDashboard(result.vm_names, window_ms=window)
    board.update(result)
    for vm, patch in zip(result.vm_names, board._boxes):
        path = patch.get_path()
        boxes = [path.vertices[k:k + 4] for k in range(0, len(path.vertices), 5)
                 if path.codes[k] == path.MOVETO and len(path.vertices) > 1]
        covered = sum(b[1, 0] - b[0, 0] for b in boxes)
        expected = sum(max(0.0, min(s.end_ms, window[1]) - max(s.start_ms, window[0]))
                       for s in result.timeline if s.vm == vm)
        assert covered == pytest.approx(expected)
        for b in boxes:
            assert window[0] <= b[0, 0] <= b[1, 0] <= window[1]
            row = (b[0, 1] + b[2, 1]) / 2
            assert row == int(round(row)) and 0 <= row < result.pcpus


def test_dashboard_rejects_a_bad_window():
    with pytest.raises(ValueError, match="window_ms must have end > start"):
        cpu_figures.SchedulerDashboard(["web"], window_ms=(10, 10))
    with pytest.raises(ValueError, match="window_ms must be a pair"):
        cpu_figures.SchedulerDashboard(["web"], window_ms=5)


def test_boxes_path_has_one_closed_square_per_box():
    boxes = [np.array([[0, 0], [1, 0], [1, 1], [0, 1]]), np.array([[2, 0], [3, 0], [3, 1], [2, 1]])]
    path = cpu_figures.boxes_path(boxes)
    assert path.vertices.shape == (10, 2)
    assert list(path.codes).count(path.CLOSEPOLY) == 2
    assert len(cpu_figures.boxes_path([]).vertices) == 1


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=200))
def test_ecdf_is_sorted_monotone_and_ends_at_one(samples):
    x, y = cpu_figures.ecdf(np.array(samples))
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) > 0)
    assert y[-1] == pytest.approx(1.0) and y[0] == pytest.approx(1 / len(samples))


# ---------------------------------------------------------------------------------------------
# the dashboard
# ---------------------------------------------------------------------------------------------


def test_dashboard_panels_show_the_results_numbers(default_run):
    host, vms, kwargs, result = default_run
    ent = entitlement(host, vms, kwargs["scheduler"])
    board = cpu_figures.SchedulerDashboard(result.vm_names)
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
    board = cpu_figures.SchedulerDashboard(result.vm_names, blit=True)
    board.update(result)
    png = board.png()
    assert png.startswith(PNG_SIGNATURE)
    from PIL import Image
    import io

    w, h = Image.open(io.BytesIO(png)).size
    assert (w, h) == tuple(int(round(v * board.fig.dpi)) for v in board.fig.get_size_inches())
    board.update(result)
    assert board.png() == png  # the blitted frame equals the full frame for the same data
    assert board.full_draws == 1
    other = simulate(host.__class__(pcpus=2), vms[:3], "credit", duration_ms=500)
    small = cpu_figures.SchedulerDashboard(other.vm_names, blit=True)
    small.update(other)
    small.png()
    small.update(simulate(host.__class__(pcpus=3), vms[:3], "credit", duration_ms=500))
    small.png()
    assert small.full_draws == 2  # a new host size changes the axes: the background is rebuilt


def test_prewarmed_backgrounds_give_the_same_frames_without_full_draws(default_run):
    host, vms, kwargs, result = default_run
    runs = {p: simulate(host.__class__(pcpus=p), vms[:3], "credit", duration_ms=500)
            for p in (2, 3, 5)}
    cold = cpu_figures.SchedulerDashboard(runs[2].vm_names, blit=True)
    warm = cpu_figures.SchedulerDashboard(runs[2].vm_names, blit=True)
    for board in (cold, warm):
        board.update(runs[2])
        board.png()
    assert warm.prewarm(range(1, 7)) == 5            # 2 pCPUs was drawn by the first frame
    assert warm.prewarm([3, 5]) == 0                 # already there: nothing drawn twice
    for p in (5, 3, 2):
        cold.update(runs[p])
        warm.update(runs[p])
        assert warm.png() == cold.png(), f"{p} pCPUs: the prewarmed frame differs"
    assert (cold.full_draws, warm.full_draws, warm.prewarmed) == (3, 1, 5)
    assert warm.ax_tl.get_ylim()[1] == pytest.approx(2 - 0.4)  # the current host is restored


def test_prewarm_refuses_a_plain_figure_and_bad_host_sizes(default_run):
    host, vms, kwargs, result = default_run
    with pytest.raises(ValueError, match="prewarm needs a dashboard made with blit=True"):
        cpu_figures.SchedulerDashboard(result.vm_names).prewarm([2])
    with pytest.raises(ValueError, match="pcpus must be an integer in 1..1024"):
        cpu_figures.SchedulerDashboard(result.vm_names, blit=True).prewarm([0])


def test_dashboard_rejects_mismatched_input(default_run):
    host, vms, kwargs, result = default_run
    board = cpu_figures.SchedulerDashboard(["a", "b"])
    with pytest.raises(ValueError, match="result must have the dashboard's VMs"):
        board.update(result)
    board = cpu_figures.SchedulerDashboard(result.vm_names)
    with pytest.raises(ValueError, match="entitled must give a share for every VM"):
        board.update(result, {"web": 1.0})
    with pytest.raises(ValueError, match="result must be a SimResult"):
        board.update("not a result")
    with pytest.raises(ValueError, match="vm_names must be unique"):
        cpu_figures.SchedulerDashboard(["a", "a"])
    with pytest.raises(ValueError, match="blit must be True or False"):
        cpu_figures.SchedulerDashboard(["a"], blit="yes")
    with pytest.raises(ValueError, match="compress_level must be an integer in 0..9"):
        cpu_figures.SchedulerDashboard(["a"]).png(compress_level=11)


def test_static_dashboard_function_draws_a_figure(default_run):
    *_, result = default_run
    fig = cpu_figures.dashboard(result, title="a title")
    assert fig._suptitle.get_text() == "a title"
    assert len(fig.axes) == 4


def test_ready_vs_ratio_plots_the_given_points_and_keeps_every_series_in_view():
    fig, ax = cpu_figures.plot_ready_vs_ratio([1, 2, 3], [0.5, 12.0, 30.0],
                                            more={"busy": [0.0, 50.0, 66.7]})
    light, busy = ax.get_lines()[:2]
    assert list(light.get_xdata()) == [1, 2, 3] and list(light.get_ydata()) == [0.5, 12.0, 30.0]
    assert list(busy.get_ydata()) == [0.0, 50.0, 66.7]
    assert ax.get_ylim()[1] >= 66.7
    assert light.get_linestyle() != busy.get_linestyle() and light.get_marker() != busy.get_marker()
    with pytest.raises(ValueError, match="same, non-zero length"):
        cpu_figures.plot_ready_vs_ratio([1, 2], [1.0])
    with pytest.raises(ValueError, match="same, non-zero length"):
        cpu_figures.plot_ready_vs_ratio([1, 2], [1.0, 2.0], more={"x": [1.0]})


def test_proportional_bars_one_group_per_series():
    fig, ax = cpu_figures.plot_proportional({"stride": [0.25, 0.125, 0.625]}, [0.25, 0.125, 0.625],
                                          ["A", "B", "C"])
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == sorted([0.25, 0.125, 0.625] * 2)
    assert ax.get_ylim()[1] > 0.625 * 1.2  # room above the tallest bar for the legend
    with pytest.raises(ValueError, match="one value per label"):
        cpu_figures.plot_proportional({"x": [1.0]}, [0.5, 0.5], ["A", "B"])
    assert math.isclose(sum(p.get_height() for p in ax.patches[:3]), 1.0)
