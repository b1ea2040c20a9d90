"""The labs' figures draw what they are given, with a second channel besides colour, and refuse
inputs they cannot draw."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from virtbook.figures import labs as figures


def test_fleet_figure_hatches_states_differently():
    fig = figures.fleet_figure([("a", "running", 2, 2048), ("b", "shut off", 1, 512)])
    mem_axis = fig.axes[0]
    hatches = {patch.get_hatch() for patch in mem_axis.patches}
    assert len(hatches) == 2, "running and shut-off bars need different hatches"
    widths = sorted(round(p.get_width()) for p in mem_axis.patches)
    assert widths == [512, 2048]
    with pytest.raises(ValueError, match="rows must hold"):
        figures.fleet_figure([])


def tree_edges(draw_depths):
    """A random tree: node i > 0 hangs under a random earlier node."""
    edges = [(None, "n0")]
    for i, parent in enumerate(draw_depths, start=1):
        edges.append((f"n{parent % i}", f"n{i}"))
    return edges


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=100), max_size=12))
def test_tree_layout_puts_children_one_level_right_and_parents_among_them(parents):
    edges = tree_edges(parents)
    pos = figures._tree_layout(edges)
    assert set(pos) == {child for _, child in edges}
    for parent, child in edges:
        if parent is None:
            assert pos[child][0] == 0
            continue
        assert pos[child][0] == pos[parent][0] + 1
    for parent in {p for p, _ in edges if p is not None}:
        ys = [pos[c][1] for p, c in edges if p == parent]
        assert min(ys) <= pos[parent][1] <= max(ys)
    leaves = [n for n in pos if n not in {p for p, _ in edges}]
    assert sorted(pos[n][1] for n in leaves) == list(range(len(leaves)))


def test_snapshot_tree_marks_the_current_snapshot():
    edges = [(None, "base"), ("base", "v1"), ("base", "exp")]
    fig = figures.snapshot_tree_figure(edges, current="v1")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "v1\n(current)" in texts and "base" in texts
    widths = sorted(p.get_linewidth() for p in fig.axes[0].patches)
    assert widths[-1] > widths[0], "the current snapshot's box has a thicker border"
    with pytest.raises(ValueError, match="not snapshots themselves"):
        figures.snapshot_tree_figure([("ghost", "a")])


def test_clone_figure_marks_differences_and_hides_random_values():
    source = {"name": "a", "UUID": "1111", "memory": "128"}
    clone = {"name": "b", "UUID": "2222", "memory": "128"}
    fig = figures.clone_figure(source, clone, hidden=("UUID",))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("≠") == 2 and texts.count("=") == 1
    assert "1111" not in texts and texts.count("(random)") == 2
    with pytest.raises(ValueError, match="same, non-empty set of fields"):
        figures.clone_figure({"a": "1"}, {"b": "1"})
    with pytest.raises(ValueError, match="unknown"):
        figures.clone_figure(source, clone, hidden=("MAC",))


def test_balloon_and_share_figures():
    fig = figures.balloon_figure([128, 64, 128], [128, 128, 128], 128)
    assert isinstance(fig, Figure)
    lines = fig.axes[0].get_lines()
    assert any(list(line.get_ydata()) == [128, 64, 128] for line in lines)
    assert any(list(line.get_ydata()) == [128, 128, 128] for line in lines)
    with pytest.raises(ValueError, match="equal length"):
        figures.balloon_figure([1, 2], [1], 128)
    fig = figures.cpu_share_figure(["gold", "bronze"], [0.8, 0.2], [None, 0.5])
    heights = sorted(round(p.get_height()) for p in fig.axes[0].patches)
    assert heights == [0, 20, 50, 80]
    with pytest.raises(ValueError, match="equal length"):
        figures.cpu_share_figure(["a"], [1.0, 0.0], [None])


def test_cpu_model_check_figure_tops_a_measured_bar_up_with_other_work():
    predicted = {"shares": {"hi": 2 / 3, "lo": 1 / 3}, "quota": {"hi": 0.25, "lo": 0.75}}
    measured = {"shares": {"hi": 0.4, "lo": 0.2}, "quota": {"hi": 0.25, "lo": 0.5}}
    labels = {"shares": "shares", "quota": "quota"}
    fig = figures.cpu_model_check_figure(predicted, measured, labels, cap=0.25)
    bars = [p for p in fig.axes[0].patches if p.get_height() > 0]
    assert len(bars) == 2 * 2 + 2 * 3, "model: two parts; measured: two parts and other work"
    tops = sorted(round(p.get_y() + p.get_height(), 6) for p in bars)
    assert tops[-4:] == [1.0] * 4, "every stack fills the one CPU"
    assert {p.get_hatch() for p in bars} == {"", "//", ".."}, "each part has its own hatch"
    empty = figures.cpu_model_check_figure(predicted, None, labels)
    assert "real host\nonly" in [t.get_text() for t in empty.axes[0].texts]
    with pytest.raises(ValueError, match="same configurations"):
        figures.cpu_model_check_figure(predicted, {"shares": measured["shares"]}, labels)
    with pytest.raises(ValueError, match="cap must"):
        figures.cpu_model_check_figure(predicted, measured, labels, cap=25)


def test_ksm_model_check_figure_draws_the_band_and_the_measured_scans():
    t = [0.0, 0.5, 1.0, 1.5]
    model = {"low": [0, 10, 20, 20], "high": [0, 30, 60, 60]}
    fig = figures.ksm_model_check_figure(t, model, [0.0, 1.0, 2.0], [0, 5, 40], [1.0, 2.0],
                                         marked_scans=1)
    ax = fig.axes[0]
    assert len(ax.lines) == 3 + 1, "two model curves, the measurement, one marked scan"
    assert len({line.get_linestyle() for line in ax.lines[:3]}) == 3
    assert ax.get_xlim()[1] == 2.0 and ax.get_ylim()[1] >= 60
    bare = figures.ksm_model_check_figure(t, model)
    assert any("VIRTBOOK_LAB_KSM=1" in x.get_text() for x in bare.axes[0].texts)
    with pytest.raises(ValueError, match="measured and measured_t"):
        figures.ksm_model_check_figure(t, model, [0.0], None)
    with pytest.raises(ValueError, match="as long as model_t"):
        figures.ksm_model_check_figure(t, {"low": [0, 1]})
