"""The book's figure style, at its old path (it lives in :mod:`virtbook.figures.style` now)."""
# Transitional: labs/*.ipynb still import this; removed in the next round
from virtbook.figures.style import (
    COLUMN_WIDTH, DEMO_STYLE, DPI, HATCHES, LINESTYLES, MARKERS, PALETTE, STYLE, book_style, color,
    figure, glue_figure, hatch, linestyle, marker,
)

__all__ = ["COLUMN_WIDTH", "DEMO_STYLE", "DPI", "HATCHES", "LINESTYLES", "MARKERS", "PALETTE", "STYLE",
           "book_style", "color", "figure", "glue_figure", "hatch", "linestyle", "marker"]
