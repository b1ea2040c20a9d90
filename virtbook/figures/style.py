"""The book's figure style, shared by every chapter, demo and lab.

One look for the whole book: a colour-blind-safe palette (Okabe and Ito's eight colours), and a
second channel for every colour (hatch patterns for areas and bars, markers and dash styles for
lines), so that no figure relies on colour alone. Figures are drawn at a size that reads well in
the HTML book's text column and stays small on the page.

    >>> from virtbook.figures import style
    >>> style.PALETTE[0]
    '#0072B2'
    >>> len(style.HATCHES) >= len(style.PALETTE)
    True

A core simulator never imports this module; figures, widgets and notebooks do.
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
    from myst_nb import glue  # the book's tool, not a dependency of the library: needed here only

    glue(name, fig, display=True)
