"""The shared figure style: every colour has a second channel, and figures are not kept by pyplot."""
import matplotlib.pyplot as plt

from virtbook import plots


def test_every_colour_has_its_own_hatch_marker_and_dash():
    n = len(plots.PALETTE)
    assert len(set(plots.PALETTE)) == n
    assert len(set(plots.HATCHES[:n])) == n
    assert len(set(plots.MARKERS[:n])) == n
    assert len({str(s) for s in plots.LINESTYLES[:n]}) >= n - 1  # the 8th repeats solid, as black


def test_accessors_wrap_around():
    n = len(plots.PALETTE)
    assert plots.color(n + 1) == plots.color(1)
    assert plots.hatch(n) == plots.hatch(0)


def test_figure_uses_book_style_and_is_not_left_open():
    before = len(plt.get_fignums())
    fig, ax = plots.figure(5, 3)
    assert len(plt.get_fignums()) == before
    assert tuple(round(v, 1) for v in fig.get_size_inches()) == (5.0, 3.0)
    line, = ax.plot([0, 1], [0, 1])
    assert line.get_color().lower() == plots.PALETTE[0].lower()
    assert not ax.spines["top"].get_visible()


def test_figure_with_several_axes():
    fig, axes = plots.figure(nrows=1, ncols=2)
    assert len(axes) == 2


def test_png_bytes_are_the_same_for_the_same_figure():
    fig, ax = plots.figure(3, 2)
    ax.plot([0, 1], [1, 0])
    assert plots.png_bytes(fig) == plots.png_bytes(fig)
    assert plots.png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_html_embeds_every_frame_and_checks_its_input():
    import re

    import pytest

    html = plots.sweep_html([b"one", b"two", b"three"], ["a", "b", "c"], ["A", "B", "C"],
                            name="t", parameter="level", start=1)
    assert html.count("data:image/png;base64,") == 3  # the shown frame, and the other two in JS
    assert 'alt="B"' in html and 'value="1"' in html and 'max="2"' in html
    assert re.search(r'<label for="vb-sweep-t-range">level: ', html)
    assert "http" not in html  # nothing is fetched
    with pytest.raises(ValueError, match="equally long"):
        plots.sweep_html([b"x"], ["a", "b"], ["A"], name="t", parameter="p")
    with pytest.raises(ValueError, match="name must be"):
        plots.sweep_html([b"x"], ["a"], ["A"], name="Bad Name", parameter="p")
    with pytest.raises(ValueError, match="start must be"):
        plots.sweep_html([b"x"], ["a"], ["A"], name="t", parameter="p", start=3)
