"""The book's figure style, shared by every chapter, demo and lab.

One look for the whole book: a colour-blind-safe palette (Okabe and Ito's eight colours), and a
second channel for every colour (hatch patterns for areas and bars, markers and dash styles for
lines), so that no figure relies on colour alone. Figures are drawn at a size that reads well in
the HTML book's text column and stays small on the page.

    >>> from virtbook import plots
    >>> plots.PALETTE[0]
    '#0072B2'
    >>> len(plots.HATCHES) >= len(plots.PALETTE)
    True

A core simulator never imports this module; widgets and notebooks do.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision
#: deficiencies. Order chosen so that the first few colours also differ in lightness.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                            "#F0E442", "#000000")
#: A hatch pattern per palette entry, for stacked areas and bars.
HATCHES: tuple[str, ...] = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
#: A marker and a dash style per palette entry, for lines.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES: tuple = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), "-")

#: Width of the book's text column in inches at the default DPI.
COLUMN_WIDTH = 7.0
DPI = 100

STYLE = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": (COLUMN_WIDTH, 3.6),
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.family": "DejaVu Sans",
    "lines.linewidth": 1.8,
    "hatch.linewidth": 0.6,
    "savefig.bbox": "tight",
    "svg.hashsalt": "virtbook",
}

#: Type sizes for a demo's figure. JupyterLab shows a demo's figure at the size it is drawn, beside
#: the controls (about 550 px wide at ``DPI``, where a book figure is 700), so its text is set a
#: little smaller than a book figure's, and never below 7.5 pt (about 10 px).
DEMO_STYLE = {
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
}


def use_book_style() -> None:
    """Apply the book's style to every figure made after this call."""
    plt.rcParams.update(STYLE)


@contextmanager
def book_style() -> Iterator[None]:
    """Apply the book's style inside a ``with`` block only."""
    with plt.rc_context(STYLE):
        yield


def color(i: int) -> str:
    """The i-th palette colour (wrapping)."""
    return PALETTE[i % len(PALETTE)]


def hatch(i: int) -> str:
    """The hatch that goes with the i-th colour (wrapping)."""
    return HATCHES[i % len(HATCHES)]


def marker(i: int) -> str:
    """The marker that goes with the i-th colour (wrapping)."""
    return MARKERS[i % len(MARKERS)]


def linestyle(i: int):
    """The dash style that goes with the i-th colour (wrapping)."""
    return LINESTYLES[i % len(LINESTYLES)]


def figure(width: float = COLUMN_WIDTH, height: float = 3.6, dpi: int = DPI,
           **subplot_kw) -> tuple[Figure, object]:
    """A new figure in the book's style; returns (fig, axes) like ``plt.subplots``.

    ``dpi`` sets the pixels per inch of the rendered figure: ``DPI`` for the book, twice that for
    a high-DPI screen (the same figure, twice as many pixels each way).

    pyplot makes the figure (so that Jupyter knows how to display it) and forgets it at once:
    the figure is shown only where a notebook displays or glues it, never twice, and widgets can
    draw many figures without pyplot keeping them all alive.
    """
    with book_style():
        fig = plt.figure(figsize=(width, height), dpi=dpi, layout="constrained")
        axes = fig.subplots(**subplot_kw)
    plt.close(fig)
    return fig, axes


def glue_figure(name: str, fig: Figure) -> None:
    """Store ``fig`` under ``name`` for a ``{glue:figure}`` directive, and show it in the notebook.

    The Markdown cell that places the figure in the book gives its alt text and caption, so the
    figure is accessible and numbered in the HTML. A reader running the notebook in Jupyter does
    not see that directive rendered, so the figure is also displayed under the code cell; the cell
    carries the tag ``remove-output`` so the HTML shows the figure once, where the Markdown puts
    it (tests/test_notebook_standard.py checks the tag).
    """
    from myst_nb import glue

    glue(name, fig, display=True)


class BackgroundCache:
    """Rendered backgrounds of a blitting dashboard, by key; the least recently used goes first.

    A widget's figure keeps its axes, ticks and legends in a background image and draws only the
    data over it. Each key (host size, axis limits, VM names, ...) has its own background; this
    keeps the last ``size`` of them.

    >>> cache = BackgroundCache(2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
    1
    >>> "b" in cache, "a" in cache, len(cache)
    (False, True, 2)
    """

    def __init__(self, size: int) -> None:
        from ._validate import check_int

        self.size = check_int("size", size, 1)
        self._items: dict = {}

    def get(self, key):
        """The background for ``key`` (now the most recently used), or None."""
        item = self._items.pop(key, None)
        if item is not None:
            self._items[key] = item
        return item

    def put(self, key, item) -> None:
        """Keep ``item`` for ``key``, dropping the least recently used beyond ``size``."""
        self._items.pop(key, None)
        self._items[key] = item
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


def png_bytes(fig: Figure, dpi: int = 72, colors: int | None = None) -> bytes:
    """The figure as PNG bytes, without the timestamp and software tags that change per run.

    The figure is rendered twice and the second rendering kept: constrained layout settles during
    the first rendering at a given resolution, so the first PNG of a figure differs slightly from
    every later one.

    ``colors`` (2 to 256) stores the image with a palette of at most that many colours, without
    dithering: a chart's flat colours, hatches and text look the same, and the file is about a
    third of the size (80 kB against 29 kB for chapter 5's demo figure), which matters where a
    page embeds several frames (:func:`sweep_html`).
    """
    import io

    fig.savefig(io.BytesIO(), format="png", dpi=dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    if colors is None:
        return buf.getvalue()
    from PIL import Image

    from ._validate import check_int

    n = check_int("colors", colors, 2, 256)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    small = image.quantize(colors=n, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="png", optimize=True)
    return out.getvalue()


def sweep_html(frames: "list[bytes]", labels: "list[str]", alts: "list[str]", *, name: str,
               parameter: str, start: int = 0, note: str | None = None) -> str:
    """A kernel-free view of a parameter sweep: a slider over precomputed figure frames.

    The HTML book has no Python kernel, so a live widget cannot run there. This shows the same
    figure for several values of one parameter, with a slider (a labelled range input, usable
    from the keyboard) that swaps in the frame and its alt text in the reader's browser. Frames are
    PNG bytes (see :func:`png_bytes`); everything is inline, so the page loads nothing else.

    ``note`` is a line for readers whose view does not run the script: JupyterLab shows a stored
    HTML output it did not produce itself without its scripts (and with its inputs disabled), so
    a notebook opened but not yet run shows the first frame, this note (for example "run the
    cell for the live demo") and no slider. Where the script runs, as in the HTML book, it
    removes the note and shows the slider.

    >>> html = sweep_html([b"a", b"b"], ["1 pCPU", "2 pCPUs"], ["one", "two"], name="demo",
    ...                   parameter="pCPUs")
    >>> 'type="range"' in html and 'alt="one"' in html and "2 pCPUs" in html
    True
    """
    import base64
    import html as _html
    import json
    import re

    n = len(frames)
    if n == 0 or len(labels) != n or len(alts) != n:
        raise ValueError(f"frames, labels and alts must be non-empty and equally long, got "
                         f"{n}, {len(labels)} and {len(alts)}")
    if not re.fullmatch(r"[a-z0-9-]{1,40}", name):
        raise ValueError(f"name must be 1..40 characters of a-z, 0-9 and '-', got {name!r}")
    if not 0 <= start < n:
        raise ValueError(f"start must be an integer in 0..{n - 1}, got {start!r}")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise ValueError(f"note must be None or a non-empty string, got {note!r}")
    uris = ["data:image/png;base64," + base64.b64encode(f).decode("ascii") for f in frames]
    # The first frame shown is in the <img> already; the script takes it from there rather than
    # carrying a second copy.
    others = [u if i != start else "" for i, u in enumerate(uris)]
    ident = f"vb-sweep-{name}"
    esc = _html.escape
    # With a note, the slider stays hidden until the script (which removes the note) shows it.
    hidden = "display:none;" if note is not None else ""
    note_html = f'<p class="vb-sweep-note"><em>{esc(note)}</em></p>\n' if note is not None else ""
    show = ("  var note = fig.querySelector('.vb-sweep-note'); if (note) note.remove();\n"
            "  range.style.display = '';\n") if note is not None else ""
    return (
        f'<figure class="vb-sweep" id="{ident}">\n'
        f'{note_html}'
        f'<img src="{uris[start]}" alt="{esc(alts[start])}" style="max-width:100%;height:auto">\n'
        f'<figcaption><label for="{ident}-range">{esc(parameter)}: '
        f'<output id="{ident}-value">{esc(labels[start])}</output></label><br>\n'
        f'<input type="range" id="{ident}-range" min="0" max="{n - 1}" step="1" value="{start}" '
        f'aria-valuetext="{esc(labels[start])}" style="{hidden}width:100%;max-width:28em">\n'
        f'</figcaption></figure>\n'
        f"<script>(function () {{\n"
        f"  var src = {json.dumps(others)}, alt = {json.dumps(alts)}, lab = {json.dumps(labels)};\n"
        f"  var fig = document.getElementById({json.dumps(ident)});\n"
        f"  var img = fig.querySelector('img'), out = fig.querySelector('output'),"
        f" range = fig.querySelector('input');\n"
        f"{show}"
        f"  src[{start}] = img.getAttribute('src');\n"
        f"  range.addEventListener('input', function () {{\n"
        f"    var i = Number(range.value);\n"
        f"    img.src = src[i]; img.alt = alt[i]; out.textContent = lab[i];\n"
        f"    range.setAttribute('aria-valuetext', lab[i]);\n"
        f"  }});\n"
        f"}})();</script>\n"
    )


class LiveView:
    """One output for a demo: the live widget where the reader's kernel ran the cell, a kernel-free
    view everywhere else.

    A notebook cell whose value is a ``LiveView`` stores a single output with three forms: the
    widget's view, ``html`` (for example :func:`sweep_html` with a ``note``) and ``text``. Each
    reader gets one demo, never two:

    * JupyterLab, once the cell has run in the reader's kernel, shows the widget;
    * JupyterLab, before that (a notebook just opened, outputs it did not produce itself), shows
      only safe forms: the HTML view, sanitised, instead of the widget's text repr
      (``VBox(children=...``);
    * the HTML book, which keeps no widget state, shows the HTML view: ``_config.yml`` ranks HTML
      above widget views (``nb_mime_priority_overrides``).

    >>> import ipywidgets
    >>> view = LiveView(ipywidgets.Label("live"), "<p>kernel-free</p>", "a demo")
    >>> sorted(view._repr_mimebundle_())
    ['application/vnd.jupyter.widget-view+json', 'text/html', 'text/plain']
    """

    def __init__(self, widget, html: str, text: str) -> None:
        bundle = getattr(widget, "_repr_mimebundle_", None)
        if bundle is None or "application/vnd.jupyter.widget-view+json" not in (bundle() or {}):
            raise ValueError(f"widget must be an ipywidgets widget with a view, got {widget!r}")
        for name, value in (("html", html), ("text", text)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        self.widget, self.html, self.text = widget, html, text

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.widget._repr_mimebundle_())
        bundle["text/html"] = self.html
        bundle["text/plain"] = self.text
        return bundle
