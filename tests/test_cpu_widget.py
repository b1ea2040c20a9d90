"""The scheduling widget: its controls translate faithfully into the simulator's parameters, and a
control change re-simulates and redraws (or explains why it cannot)."""
from __future__ import annotations

from dataclasses import replace

import matplotlib
import pytest

matplotlib.use("Agg")

from virtbook.figures import cpu as cpu_figures
from virtbook.cpu import Credit, Host, RoundRobin, default_scenario, simulate
from virtbook.widgets import cpu as demo


def test_default_settings_rebuild_the_default_scenario_exactly():
    host, vms, kwargs = default_scenario()
    h2, vms2, kw2 = demo.scenario_from_settings(demo.default_settings())
    assert h2 == host
    assert vms2 == vms  # every parameter, including cpu_weight and quota, is the same
    assert kw2["duration_ms"] == kwargs["duration_ms"] and kw2["seed"] == kwargs["seed"]
    assert kw2["scheduler"] == Credit()
    short = dict(kwargs, duration_ms=1000)
    a = simulate(host, vms, **short)
    b = simulate(h2, vms2, **dict(kw2, duration_ms=1000))
    assert a.cpu_share == b.cpu_share


def test_cap_is_the_same_limit_under_credit_and_cfs():
    settings = demo.default_settings()
    rows = tuple(replace(v, cap=150, vcpus=2, workload="CPU-bound") if v.name == "big" else v
                 for v in settings.vms)
    for scheduler in ("credit", "cfs"):
        s = replace(settings, vms=rows, scheduler=scheduler, pcpus=8)
        host, vms, kwargs = demo.scenario_from_settings(s)
        r = simulate(host, vms, **dict(kwargs, duration_ms=3000))
        assert r.cpu_share["big"] == pytest.approx(1.5, abs=0.05), scheduler


def test_cap_above_what_the_vcpus_can_use_is_lowered():
    settings = demo.default_settings()
    rows = tuple(replace(v, cap=400) if v.name == "capped" else v for v in settings.vms)
    _, vms, _ = demo.scenario_from_settings(replace(settings, vms=rows))
    capped = next(vm for vm in vms if vm.name == "capped")
    assert capped.cap == 100 and capped.vcpus == 1


def test_windows_shrink_with_co_scheduling_and_busy_vcpus_and_the_title_says_so():
    default = demo.default_settings()
    assert demo.simulation_window_ms(default) == 10_000
    for scheduler in demo.SCHEDULERS:  # the scheduler alone never shortens the window
        assert demo.simulation_window_ms(replace(default, scheduler=scheduler)) == 10_000
    relaxed = demo.simulation_window_ms(replace(default, coschedule="relaxed"))
    strict = demo.simulation_window_ms(replace(default, coschedule="strict"))
    assert relaxed < strict < 10_000
    wide = replace(default, vms=tuple(replace(v, vcpus=8) for v in default.vms))
    assert demo.MIN_WINDOW_MS <= demo.simulation_window_ms(wide) < 10_000
    idle_ones = replace(default, vms=tuple(replace(v, vcpus=8, workload="idle")
                                           for v in default.vms))
    assert demo.simulation_window_ms(idle_ones) == 10_000  # idle vCPUs cost nothing
    assert demo.simulation_window_ms(replace(wide, coschedule="relaxed")) >= demo.MIN_WINDOW_MS
    with pytest.raises(ValueError, match="settings must be a DemoSettings"):
        demo.simulation_window_ms("credit")
    s = replace(demo.default_settings(), coschedule="relaxed")
    _, _, kwargs = demo.scenario_from_settings(s)
    title = demo.title_for(s, kwargs["duration_ms"])
    assert "first 3 s simulated" in title and "relaxed co-scheduling" in title
    assert "first" not in demo.title_for(demo.default_settings(), 10_000)
    assert "BOOST off" in demo.title_for(replace(demo.default_settings(), boost=False), 10_000)


def test_scheduler_choice_and_boost_reach_the_simulator():
    s = replace(demo.default_settings(), scheduler="rr")
    assert isinstance(demo.scenario_from_settings(s)[2]["scheduler"], RoundRobin)
    s = replace(demo.default_settings(), boost=False)
    assert demo.scenario_from_settings(s)[2]["scheduler"] == Credit(boost=False)


def test_settings_validate_their_values():
    with pytest.raises(ValueError, match="pcpus must be an integer in 1..8"):
        replace(demo.default_settings(), pcpus=0)
    with pytest.raises(ValueError, match="coschedule must be one of"):
        replace(demo.default_settings(), coschedule="gang")
    with pytest.raises(ValueError, match="workload must be one of"):
        demo.VMSettings("x", workload="gpu")
    with pytest.raises(ValueError, match="vms must have unique names"):
        demo.DemoSettings((demo.VMSettings("a"), demo.VMSettings("a")))
    with pytest.raises(ValueError, match="settings must be a DemoSettings"):
        demo.scenario_from_settings({"pcpus": 4})


def test_render_returns_the_run_and_a_png_of_it():
    s = replace(demo.default_settings(), coschedule="relaxed")
    board = cpu_figures.SchedulerDashboard([v.name for v in s.vms], blit=True)
    result, png = demo.render(s, board)
    assert png.startswith(b"\x89PNG")
    assert result.duration_ms == demo.simulation_window_ms(s)
    assert result.coschedule == "relaxed"
    assert board._share[0].get_height() == pytest.approx(result.cpu_share["web"])


def test_strict_co_scheduling_of_a_vm_wider_than_the_host_is_refused():
    s = replace(demo.default_settings(), coschedule="strict", pcpus=2)
    board = cpu_figures.SchedulerDashboard([v.name for v in s.vms], blit=True)
    with pytest.raises(ValueError, match="under strict co-scheduling"):
        demo.render(s, board)


def _controls(box):
    controls, image = box.children  # the controls' column beside the figure
    top, grid, status = controls.children
    pcpus, scheduler, coschedule, boost = top.children
    return pcpus, scheduler, coschedule, boost, grid, status, image


def test_widget_redraws_on_a_control_change_and_explains_a_refusal():
    box = demo.scheduler_demo()
    pcpus, scheduler, coschedule, boost, grid, status, image = _controls(box)
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG") and "pCPUs" in status.value
    scheduler.value = "cfs"
    assert bytes(image.value) != first
    after_cfs = bytes(image.value)
    pcpus.value = 2
    two = bytes(image.value)
    assert two != after_cfs
    # Strict co-scheduling on 2 pCPUs cannot run the 4-vCPU database VM: the figure stays.
    coschedule.value = "strict"
    assert "Not simulated" in status.value and "strict" in status.value
    assert bytes(image.value) == two
    # Back to the same settings: the same (seeded) run, the same picture.
    coschedule.value = "none"
    assert "Not simulated" not in status.value and bytes(image.value) == two


def test_widget_rows_control_their_vm():
    box = demo.scheduler_demo()
    *_, grid, status, image = _controls(box)
    # Header (5 cells), then per VM: label, vCPUs, weight, cap, workload.
    cells = grid.children
    names = [c.value for c in cells[5::5]]
    assert names == [v.name for v in demo.default_settings().vms]
    web_cap = cells[5 + 3]
    before = bytes(image.value)
    web_cap.value = 10
    assert bytes(image.value) != before


def test_widget_rejects_wrong_settings_type():
    with pytest.raises(ValueError, match="settings must be a DemoSettings or None"):
        demo.scheduler_demo(settings=Host(pcpus=2))


def test_widget_shows_its_figure_at_the_size_it_is_drawn_beside_the_controls():
    """No upscaling: the image's CSS size is the PNG's size (pixel ratio 1), or half of it
    (pixel ratio 2, for high-DPI screens); and controls plus figure fit a JupyterLab output
    about 930 px wide at 1366 x 768 (the browser test measures the real layout)."""
    import io

    from PIL import Image

    for ratio in (1, 2):
        box = demo.scheduler_demo(pixel_ratio=ratio)
        *_, grid, status, image = _controls(box)
        width, height = Image.open(io.BytesIO(bytes(image.value))).size
        assert image.layout.width == f"{width // ratio}px"
        assert image.layout.height == f"{height // ratio}px"
    controls, _ = box.children
    assert int(controls.layout.width[:-2]) + width // 2 + 12 <= 930
    assert box.layout.flex_flow == "row wrap"  # on a narrower screen the figure goes below
    with pytest.raises(ValueError, match="pixel_ratio must be an integer in 1..2"):
        demo.scheduler_demo(pixel_ratio=3)


def test_titles_and_labels_count_pcpus_in_the_singular_and_plural():
    one = replace(demo.default_settings(), pcpus=1)
    assert "on 1 pCPU," in demo.title_for(replace(one, coschedule="relaxed"), 3000)
    assert "on 1 pCPU\n" in demo.title_for(one, 10_000) and "pCPUs" not in demo.title_for(one, 1)
    box = demo.scheduler_demo(settings=one)
    *_, status, image = _controls(box)
    assert "of 1 pCPU<br>" in status.value
    html = demo.pcpu_sweep(pcpus=(1, 2), start=1)
    assert '"1 pCPU"' in html and '"2 pCPUs"' in html


def test_the_chapter_demo_is_one_output_with_a_kernel_free_view():
    bundle = demo.scheduler_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].count("data:image/png;base64,") == 5  # 2 to 6 pCPUs
    assert "vb-sweep-note" in bundle["text/html"] and "VBox" not in bundle["text/plain"]


def test_widget_records_the_kernels_time_per_control_change():
    box = demo.scheduler_demo()
    pcpus, scheduler, *_ = _controls(box)
    assert box.update_times == []  # the first drawing is not a control change
    pcpus.value = 3
    scheduler.value = "rr"
    assert len(box.update_times) == 2 and all(0 < s < 60 for s in box.update_times)
