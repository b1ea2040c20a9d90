"""The shared figure style, PNG bytes and sweeps of virtbook.figures, and the widgets' LiveView: every
colour has a second channel, and figures are not kept by pyplot."""
import matplotlib.pyplot as plt

from virtbook.figures import style as plots
from virtbook.figures.sweep import png_bytes, sweep_html
from virtbook.widgets.common import LiveView


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
    assert png_bytes(fig) == png_bytes(fig)
    assert png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_html_embeds_every_frame_and_checks_its_input():
    import re

    import pytest

    html = sweep_html([b"one", b"two", b"three"], ["a", "b", "c"], ["A", "B", "C"],
                            name="t", parameter="level", start=1)
    assert html.count("data:image/png;base64,") == 3  # the shown frame, and the other two in JS
    assert 'alt="B"' in html and 'value="1"' in html and 'max="2"' in html
    assert re.search(r'<label for="vb-sweep-t-range">level: ', html)
    assert "http" not in html  # nothing is fetched
    with pytest.raises(ValueError, match="equally long"):
        sweep_html([b"x"], ["a", "b"], ["A"], name="t", parameter="p")
    with pytest.raises(ValueError, match="name must be"):
        sweep_html([b"x"], ["a"], ["A"], name="Bad Name", parameter="p")
    with pytest.raises(ValueError, match="start must be"):
        sweep_html([b"x"], ["a"], ["A"], name="t", parameter="p", start=3)


def test_png_bytes_with_a_palette_keeps_the_picture_and_is_smaller():
    import io

    import numpy as np
    import pytest
    from PIL import Image

    fig, ax = plots.figure(4, 3)
    for i in range(5):
        ax.bar([i], [i + 1], color=plots.color(i), hatch=plots.hatch(i), edgecolor="#333333")
    ax.set_title("bars")
    full, small = png_bytes(fig, dpi=100), png_bytes(fig, dpi=100, colors=256)
    assert len(small) < len(full) / 2
    a = np.asarray(Image.open(io.BytesIO(full)).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), dtype=int)
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < 2  # on average, under 2 of 255 per channel
    assert png_bytes(fig, dpi=100, colors=256) == small  # deterministic
    with pytest.raises(ValueError, match="colors must be an integer in 2..256"):
        png_bytes(fig, colors=1)


def test_sweep_html_with_a_note_shows_the_slider_only_where_its_script_runs():
    import re

    html = sweep_html([b"one", b"two"], ["a", "b"], ["A", "B"], name="t", parameter="p",
                            note="Run the cell for the live demo.")
    assert '<p class="vb-sweep-note"><em>Run the cell for the live demo.</em></p>' in html
    # without the script (JupyterLab before the cell runs) the slider is hidden ...
    assert re.search(r'<input type="range"[^>]*style="display:none;', html)
    # ... and the script removes the note and shows the slider
    script = html.split("<script>", 1)[1]
    assert "note.remove()" in script and "range.style.display = ''" in script
    plain = sweep_html([b"one", b"two"], ["a", "b"], ["A", "B"], name="t", parameter="p")
    assert "vb-sweep-note" not in plain and "display:none" not in plain  # as before, for others
    import pytest

    with pytest.raises(ValueError, match="note must be None or a non-empty string"):
        sweep_html([b"x"], ["a"], ["A"], name="t", parameter="p", note=" ")


def test_live_view_offers_the_widget_and_the_kernel_free_view_in_one_output():
    import ipywidgets
    import pytest

    box = ipywidgets.VBox([ipywidgets.Label("live")])
    view = LiveView(box, "<figure>kernel-free</figure>", "a demo")
    bundle = view._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert bundle["text/html"] == "<figure>kernel-free</figure>"
    assert bundle["text/plain"] == "a demo"  # not "VBox(children=..."
    with pytest.raises(ValueError, match="widget must be an ipywidgets widget"):
        LiveView("not a widget", "<p>x</p>", "x")
    with pytest.raises(ValueError, match="html must be a non-empty string"):
        LiveView(box, "", "x")
