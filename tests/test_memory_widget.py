"""The overcommit explorer: controls map onto the simulator as documented, and a control change
re-simulates and redraws."""
from __future__ import annotations

import dataclasses
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from virtbook.memory import TECHNIQUES, default_scenario, simulate
from virtbook.widgets import memory as wm


@pytest.fixture(scope="module")
def explorer():
    return wm.OvercommitExplorer()


def test_default_controls_are_the_default_scenario():
    host, vms, kw = wm.scenario(wm.Controls())
    h0, v0, k0 = default_scenario()
    assert host == h0 and vms == v0 and kw == k0
    a, b = simulate(host, vms, **kw), simulate(h0, v0, **k0)
    assert a.summary() == b.summary()


@pytest.mark.parametrize("kwargs, message", [
    ({"ram_gib": 0}, r"ram_gib must be an integer in 1\.\.1024, got 0"),
    ({"n_vms": 25}, r"n_vms must be an integer in 1\.\.24, got 25"),
    ({"size_scale": 0.1}, r"size_scale must be a number at least 0\.125 and at most 4"),
    ({"activity": -1}, r"activity must be a number at least 0 and at most 4"),
    ({"tau": 0.99}, r"tau must be a number at least 0 and at most 0\.95"),
    ({"guest_os": "bsd"}, r"guest_os must be one of 'mixed', 'linux', 'windows', got 'bsd'"),
    ({"swap": 1}, r"swap must be True or False, got 1"),
    ({"seed": -1}, r"seed must be an integer in 0\.\.\d+, got -1"),
])
def test_bad_controls_name_the_parameter_and_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wm.Controls(**kwargs)


def test_scenario_and_apply_refuse_other_objects(explorer):
    with pytest.raises(ValueError, match="controls must be a Controls"):
        wm.scenario({"ram_gib": 16})
    with pytest.raises(ValueError, match="controls must be a Controls"):
        explorer.apply({"ram_gib": 16})


@settings(max_examples=40, deadline=None)
@given(ram=st.integers(4, 64), n=st.integers(1, 12), size=st.sampled_from([0.25, 0.5, 1.0, 1.75, 2.0]),
       act=st.sampled_from([0.0, 0.25, 1.0, 2.0, 4.0]), os_=st.sampled_from(wm.GUEST_OS),
       tau=st.sampled_from([0.0, 0.3, 0.75, 0.95]), salting=st.booleans(),
       techs=st.lists(st.booleans(), min_size=4, max_size=4))
def test_controls_map_onto_the_model_as_documented(ram, n, size, act, os_, tau, salting, techs):
    c = wm.Controls(ram_gib=ram, n_vms=n, size_scale=size, activity=act, guest_os=os_, tau=tau,
                    salting=salting, **dict(zip(TECHNIQUES, techs)))
    host, vms, kw = wm.scenario(c)
    _, templates, _ = default_scenario()
    assert host.ram_mb == ram * 1024 and host.idle_tax == tau
    assert host.share_force_salting == (2 if salting else 0)
    assert kw["techniques"] == tuple(t for t, on in zip(TECHNIQUES, techs) if on)
    assert len(vms) == n and len({vm.name for vm in vms}) == n
    for k, vm in enumerate(vms):
        t = templates[k % len(templates)]
        assert vm.mem_mb == max(1, round(t.mem_mb * size))
        assert vm.reservation_mb <= vm.mem_mb
        assert vm.guest_os == (t.guest_os if os_ == "mixed" else os_)
        for p, q in zip(vm.phases, t.phases):
            assert p.used_frac == q.used_frac
            assert p.active_frac == pytest.approx(min(q.used_frac, q.active_frac * act))
        # a VM keeps its share class (High, Normal, Low) when it is resized
        assert vm.shares / vm.mem_mb == pytest.approx(t.shares / t.mem_mb, rel=0.01)


def test_copies_beyond_the_template_fleet_are_staggered():
    _, vms, _ = wm.scenario(wm.Controls(n_vms=12))
    assert [vm.name for vm in vms[6:]] == ["web1-2", "web2-2", "db-2", "batch-2", "win1-2", "win2-2"]
    assert vms[6].phase_offset_s == vms[0].phase_offset_s + wm.COPY_OFFSET_S


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_the_explorer_starts_with_the_default_scenario(explorer):
    assert explorer.controls == wm.Controls()
    assert explorer.image.format == "png" and explorer.image.value[:4] == b"\x89PNG"
    r = simulate(*default_scenario()[:2], **default_scenario()[2])
    assert explorer.result.summary() == r.summary()
    assert "worst state</b> " + r.summary()["worst_state"] in explorer.summary.value
    names = {"ram_gib", "n_vms", "size_scale", "activity", "guest_os", "tau", "salting", *TECHNIQUES}
    assert set(explorer.inputs) == names
    for name, widget in explorer.inputs.items():
        assert widget.value == getattr(wm.Controls(), name)


def test_moving_a_control_resimulates_and_redraws():
    e = wm.OvercommitExplorer()
    before_png, before = e.image.value, e.result
    e.inputs["balloon"].value = False  # what a reader's click does
    assert e.controls.balloon is False
    assert e.result.reclaimed_mb["balloon"] == 0 < before.reclaimed_mb["balloon"]
    assert e.result.reclaimed_mb["swap"] > before.reclaimed_mb["swap"]
    assert not np.array_equal(_pixels(e.image.value), _pixels(before_png))
    assert e.summary.value != wm.summary_html(before)
    sim_s, draw_s = e.last_timing
    assert sim_s > 0 and draw_s > 0


def test_apply_shows_the_values_it_applied_without_a_second_update():
    e = wm.OvercommitExplorer()
    calls = []
    original = e.apply

    def counting(c):
        calls.append(c)
        return original(c)

    e.apply = counting
    c = wm.Controls(n_vms=8, tau=0.3, guest_os="linux")
    e.apply(c)
    assert calls == [c]  # syncing the inputs did not trigger more updates
    assert e.inputs["n_vms"].value == 8 and e.inputs["guest_os"].value == "linux"
    assert len(e.result.names) == 8


def test_update_reuses_the_dashboard_and_mostly_blits():
    e = wm.OvercommitExplorer()
    fig = e.dashboard.fig
    for tau in (0.5, 0.6, 0.75, 0.5):
        e.apply(dataclasses.replace(e.controls, tau=tau))
    assert e.dashboard.fig is fig
    assert e.dashboard.full_draws == 1 and e.dashboard.blit_draws == 4


def test_the_widget_box_holds_controls_summary_and_image(explorer):
    import ipywidgets as w

    box = explorer.widget
    assert isinstance(box, w.VBox)
    leaves = []

    def walk(node):
        for child in getattr(node, "children", ()):
            walk(child)
        leaves.append(node)

    walk(box)
    assert explorer.image in leaves and explorer.summary in leaves
    assert all(widget in leaves for widget in explorer.inputs.values())


def test_the_figure_is_shown_at_the_size_it_is_drawn_beside_the_controls():
    """No upscaling: the image's CSS size is the PNG's size (pixel ratio 1), or half of it
    (pixel ratio 2, for high-DPI screens); and controls plus figure fit a JupyterLab output
    about 930 px wide at 1366 x 768 (the browser test measures the real layout)."""
    for ratio in (1, 2):
        e = wm.OvercommitExplorer(pixel_ratio=ratio)
        height, width = _pixels(e.image.value).shape[:2]
        assert e.image.layout.width == f"{width // ratio}px"
        assert e.image.layout.height == f"{height // ratio}px"
    (row,) = e.widget.children
    controls, image = row.children
    assert image is e.image and row.layout.flex_flow == "row wrap"
    assert int(controls.layout.width[:-2]) + width // 2 + 12 <= 930
    with pytest.raises(ValueError, match="pixel_ratio must be an integer in 1..2"):
        wm.OvercommitExplorer(pixel_ratio=0)


def test_the_chapter_demo_is_one_output_with_a_kernel_free_view():
    bundle = wm.overcommit_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].count("data:image/png;base64,") == 5  # 12 to 28 GiB
    assert "vb-sweep-note" in bundle["text/html"] and "VBox" not in bundle["text/plain"]


def test_the_explorer_records_the_kernels_time_per_control_change():
    e = wm.OvercommitExplorer()
    assert e.update_times == [] and e.widget.update_times is e.update_times
    e.inputs["tau"].value = 0.5
    e.apply(wm.Controls())  # a direct call is not a control change
    assert len(e.update_times) == 1 and 0 < e.update_times[0] < 60
