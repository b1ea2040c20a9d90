"""The memory figures: what they draw adds up, redraws reuse the figure, and blitting matches a
full draw."""
from __future__ import annotations

import dataclasses
import io
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from virtbook.figures import memory as mp
from virtbook.figures import style
from virtbook.memory import VM, Host, Phase, default_scenario, simulate

from booklib import ROOT


@pytest.fixture(scope="module")
def default_run():
    host, vms, kw = default_scenario()
    return simulate(host, vms, **kw)


@pytest.fixture(scope="module")
def squeezed_run():
    """The default fleet without ballooning on a smaller host: swapping and compression act."""
    host, vms, kw = default_scenario()
    kw = dict(kw, techniques=("share", "compress", "swap"))
    return simulate(Host(ram_mb=12288, policy="vsphere5"), vms, **kw)


small_fleets = st.builds(
    lambda ram, sizes, used, act, techs, seed: (
        Host(ram_mb=ram),
        [VM(f"v{i}", m, phases=(Phase("p", 120, used_frac=used, active_frac=used * act),))
         for i, m in enumerate(sizes)],
        dict(duration_s=120.0, techniques=techs, seed=seed)),
    st.integers(1024, 6144),
    st.lists(st.integers(256, 3072), min_size=1, max_size=4),
    st.floats(0.3, 1.0), st.floats(0.0, 1.0),
    st.sets(st.sampled_from(["balloon", "share", "compress", "swap"])).map(sorted),
    st.integers(0, 2**32))


@settings(max_examples=15, deadline=None)
@given(small_fleets)
def test_host_layers_add_up_to_the_host_ram_at_every_step(fleet):
    host, vms, kw = fleet
    r = simulate(host, vms, **kw)
    layers = mp.host_layers(r)
    assert set(layers) == set(mp.HOST_LAYERS)
    total = sum(layers.values())
    assert np.allclose(total, host.ram_mb, atol=1e-9)
    for name, values in layers.items():
        assert (values >= -1e-9).all(), name


@settings(max_examples=15, deadline=None)
@given(small_fleets, st.integers(0, 119))
def test_vm_parts_add_up_to_each_vms_configured_memory(fleet, step):
    host, vms, kw = fleet
    r = simulate(host, vms, **kw)
    parts = mp.vm_parts(r, step)
    assert list(parts) == list(mp.VM_PARTS)
    assert np.allclose(sum(parts.values()), [vm.mem_mb for vm in vms])
    for name, values in parts.items():
        assert (values >= -1e-9).all(), name


def test_vm_parts_show_what_the_techniques_did(squeezed_run):
    parts = mp.vm_parts(squeezed_run)
    assert parts["ballooned"].sum() == 0  # no balloon in this run
    assert parts["swapped"].sum() > 0 and parts["compressed"].sum() > 0
    assert parts["shared"].sum() == pytest.approx(
        sum(squeezed_run.timeline[n]["shared_mb"][-1] for n in squeezed_run.names))


def test_smoothed_slowdown_is_window_length_over_useful_time(default_run):
    sd = mp.smoothed_slowdown(default_run, window_s=30)
    raw = default_run.timeline["batch"]["slowdown"]
    # useful time in a step is its length / its slowdown; a window's slowdown is 30 s / the sum
    assert sd["batch"][100] == pytest.approx(30 / np.sum(1 / raw[71:101]))
    assert sd["batch"][0] == pytest.approx(raw[0])
    assert all((v >= 1.0 - 1e-12).all() for v in sd.values())
    one = mp.smoothed_slowdown(default_run, window_s=1)
    assert np.allclose(one["batch"], raw)


def test_a_stretch_without_running_weighs_fully_in_the_window():
    from virtbook.memory import Host, Phase, VM, simulate
    vms = [VM(f"v{i}", 2048, phases=(Phase("grow", 600, 1.0, 0.5),), ramp_s=20) for i in range(3)]
    r = simulate(Host(ram_mb=4096), vms, duration_s=200, techniques=())
    sd = mp.smoothed_slowdown(r, window_s=30)
    for name in r.names:
        raw = r.timeline[name]["slowdown"]
        if (raw[-30:] >= 1000).all():          # blocked for the whole window
            assert sd[name][-1] == pytest.approx(1000)


def test_state_spans_cover_exactly_the_steps_outside_the_high_state(default_run):
    spans = mp.state_spans(default_run)
    assert spans, "the default scenario leaves the high state"
    covered = np.zeros(len(default_run.t_s), dtype=int)
    for a, b, s in spans:
        assert s in (1, 2, 3) and a < b
        sel = (default_run.t_s > a) & (default_run.t_s <= b)
        assert (default_run.state[sel] == s).all()
        covered[sel] += 1
    assert ((covered == 1) == (default_run.state > 0)).all()


@pytest.mark.parametrize("call, message", [
    (lambda r: mp.host_layers("not a result"), "result must be a virtbook.memory Result"),
    (lambda r: mp.vm_parts(r, 600), r"step must be an integer in -600\.\.599, got 600"),
    (lambda r: mp.smoothed_slowdown(r, window_s=0), "window_s must be a number greater than 0"),
    (lambda r: mp.Dashboard(r, dpi=10), r"dpi must be an integer in 30\.\.600, got 10"),
    (lambda r: mp.Dashboard(r, blit="yes"), "blit must be True or False"),
    (lambda r: mp.Dashboard(r).png(compress_level=10), r"compress_level must be an integer in 0\.\.9"),
])
def test_bad_input_names_the_parameter_and_range(default_run, call, message):
    with pytest.raises(ValueError, match=message):
        call(default_run)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_dashboard_redraws_in_place_without_growing(default_run, squeezed_run):
    d = mp.Dashboard(default_run)
    fig, axes = d.fig, list(d.fig.axes)
    counts = [len(ax.get_children()) for ax in axes]
    first = d.png()
    for r in (squeezed_run, default_run, squeezed_run):
        d.update(r)
    assert d.fig is fig and list(d.fig.axes) == axes
    assert [len(ax.get_children()) for ax in axes] == counts  # artists replaced, not added
    assert _pixels(d.png()).shape == _pixels(first).shape
    assert not np.array_equal(_pixels(d.png()), _pixels(first))  # it shows the new run


def test_a_new_set_of_vms_gets_its_own_labels_and_lines(default_run):
    host, vms, kw = default_scenario()
    r = simulate(host, vms[:3], **kw)
    d = mp.Dashboard(default_run, blit=True)
    d.png()
    d.update(r)
    d.png()
    assert [t.get_text() for t in d.ax_vms.get_yticklabels()] == ["web1", "web2", "db"]
    assert [line.get_label() for line in d.ax_slow.get_lines()] == ["web1", "web2", "db"]
    assert [t.get_text() for t in d.ax_slow.get_legend().get_texts()] == ["web1", "web2", "db"]


def test_blitting_draws_what_a_full_draw_draws(default_run, squeezed_run):
    blit = mp.Dashboard(default_run, dpi=60, blit=True)
    blit.png()
    blit.update(squeezed_run)
    blit.png()
    blit.update(default_run)
    redrawn = _pixels(blit.png())
    assert blit.blit_draws >= 1  # the default run's background came from the cache
    full = _pixels(mp.Dashboard(default_run, dpi=60, blit=True).png())
    assert redrawn.shape == full.shape
    assert (np.abs(redrawn - full).max(axis=2) > 24).mean() < 0.002


def test_a_data_only_change_reuses_the_cached_background(default_run):
    host, vms, kw = default_scenario()
    other = simulate(dataclasses.replace(host, idle_tax=0.5), vms, **kw)
    d = mp.Dashboard(default_run, dpi=60, blit=True)
    d.png()
    assert (d.full_draws, d.blit_draws) == (1, 0)
    d.update(other)  # another tax moves memory between VMs but keeps every axis limit
    d.png()
    assert (d.full_draws, d.blit_draws) == (1, 1)
    d.update(simulate(dataclasses.replace(host, ram_mb=40960), vms, **kw))
    d.png()  # a larger host changes the host axis: the background is drawn anew
    assert (d.full_draws, d.blit_draws) == (2, 1)


def test_overview_figure_is_an_ordinary_figure_with_legends(default_run):
    fig = mp.overview_figure(default_run)
    texts = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    texts += [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    for label in list(mp.HOST_LABELS.values()) + list(mp.VM_LABELS.values()):
        assert label in texts
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # not animated: an ordinary save shows the data
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_every_filled_layer_has_a_second_channel_besides_colour(default_run):
    d = mp.Dashboard(default_run)
    styles = {(str(p.get_facecolor()[0]), p.get_hatch()) for p in d._layers.values()}
    assert len(styles) == len(mp.HOST_LAYERS)
    hatches = [p.get_hatch() for p in d._bars.values()]
    faces = [tuple(p.get_facecolor()[0]) for p in d._bars.values()]
    # each VM part differs from every other one in its hatch, or is the only unfilled (white) one
    white = [f for f in faces if f[:3] == (1.0, 1.0, 1.0)]
    assert len(white) == 1
    filled = [h for h, f in zip(hatches, faces) if f[:3] != (1.0, 1.0, 1.0)]
    assert len(set(filled)) == len(filled)


def test_sharing_and_slowdown_plots(default_run, squeezed_run):
    fig, ax = style.figure()
    lines = mp.plot_sharing_savings(ax, [1, 2, 4], {"a": [0, 10, 15], "b": [0, 5, 7]})
    assert [ln.get_label() for ln in lines] == ["a", "b"]
    assert lines[0].get_marker() != lines[1].get_marker()
    with pytest.raises(ValueError, match=r"series\['a'\] must have one value per entry of n_vms"):
        mp.plot_sharing_savings(ax, [1, 2], {"a": [1.0]})
    fig, ax = style.figure()
    bars = mp.plot_slowdown_bars(ax, {"on": default_run, "off": squeezed_run})
    assert len(bars) == 2 and len(bars[0]) == len(default_run.names)
    assert [b.get_height() for b in bars[1]] == [squeezed_run.slowdown[n] for n in default_run.names]
    host, vms, kw = default_scenario()
    other = simulate(host, vms[:2], **kw)
    with pytest.raises(ValueError, match=r"results\['x'\] must have the VMs"):
        mp.plot_slowdown_bars(ax, {"on": default_run, "x": other})


def test_the_simulator_stays_free_of_plotting_and_widgets():
    code = ("import sys, virtbook.memory; "
            "bad = [m for m in ('matplotlib', 'ipywidgets') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "", f"virtbook.memory imports {out}"
