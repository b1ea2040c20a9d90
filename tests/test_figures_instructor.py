"""The instructor guide's runs-where grid draws each status with its own hatch and its name, and
refuses data it cannot draw."""
from __future__ import annotations

import pytest
from matplotlib.patches import Rectangle

from virtbook.figures.instructor import runs_where_figure

LEGEND = ("same", "varies", "test driver")


def test_each_cell_shows_its_status_with_a_hatch_of_its_own():
    fig = runs_where_figure(["Ch. 1", "Lab L1"], [("same", "varies"), ("test driver", "same")],
                            ("Binder", "laptop"), LEGEND)
    ax = fig.axes[0]
    cells = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() < 1]
    assert len(cells) == 4
    hatch = {}
    for cell in cells:
        x, y = cell.get_xy()
        text = [t.get_text() for t in ax.texts
                if abs(t.get_position()[0] - (x + 0.48)) < 1e-9 and abs(t.get_position()[1] - (y + 0.45)) < 1e-9]
        assert len(text) == 1
        hatch.setdefault(text[0], set()).add(cell.get_hatch())
    assert set(hatch) == set(LEGEND)
    assert all(len(h) == 1 for h in hatch.values()) and len({h.pop() for h in hatch.values()}) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ch. 1", "Lab L1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Binder", "laptop"]


@pytest.mark.parametrize("labels, statuses, match", [
    ([], [], "pages must hold at least one"),
    (["a"], [("same",)], "one status per place"),
    (["a"], [("same", "gone")], "statuses must be among legend"),
])
def test_bad_input_is_refused(labels, statuses, match):
    with pytest.raises(ValueError, match=match):
        runs_where_figure(labels, statuses, ("Binder", "laptop"), LEGEND)
