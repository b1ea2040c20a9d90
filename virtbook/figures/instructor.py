"""The instructor guide's figure: where each page of the book runs, and what a reader sees there.

Drawn from plain data (a label and a status per place for each page), which
:func:`virtbook.booktools.teaching.runs_where` reads from the book's own pages.
"""
from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from virtbook.figures import style


def runs_where_figure(labels: Sequence[str], statuses: Sequence[Sequence[str]],
                      places: Sequence[str], legend: Sequence[str]) -> Figure:
    """A grid: one row per page (``labels``), one column per place; each cell hatched and labelled.

    ``statuses[i][j]`` is what page i does at ``places[j]``, one of ``legend``, whose order gives
    each status its colour and hatch. Colour is never the only signal: each status has its own
    hatch and its name in the cell.
    """
    if not labels:
        raise ValueError("pages must hold at least one chapter or lab, got none")
    if len(statuses) != len(labels) or any(len(row) != len(places) for row in statuses):
        raise ValueError("statuses must hold one status per place for each label")
    unknown = {s for row in statuses for s in row} - set(legend)
    if unknown:
        raise ValueError(f"statuses must be among legend {list(legend)}, got {sorted(unknown)}")
    looks = {s: (style.color(k), style.hatch(k)) for k, s in enumerate(legend)}
    fig, ax = style.figure(height=0.28 * len(labels) + 1.3)
    for row, page_statuses in enumerate(statuses):
        for col, status in enumerate(page_statuses):
            colour, hatch = looks[status]
            ax.add_patch(Rectangle((col, row), 0.96, 0.9, facecolor=colour, alpha=0.35,
                                   hatch=hatch, edgecolor="#333333", linewidth=0.6))
            ax.text(col + 0.48, row + 0.45, status, ha="center", va="center", fontsize=7.5,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.9})
    ax.set_xlim(0, len(places))
    ax.set_ylim(len(labels), 0)
    ax.set_xticks([c + 0.48 for c in range(len(places))], list(places))
    ax.xaxis.tick_top()
    ax.set_yticks([r + 0.45 for r in range(len(labels))], list(labels), fontsize=7.5)
    ax.grid(False)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    return fig
