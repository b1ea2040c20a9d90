"""The book's figure style, at its old path (it lives in :mod:`virtbook.figures.style` now)."""
# Transitional: labs L1-L4 still import this (another branch is rewriting them); removed after
from virtbook.figures.style import (
    COLUMN_WIDTH, DEMO_STYLE, DPI, HATCHES, LINESTYLES, MARKERS, PALETTE, STYLE, book_style, color,
    figure, glue_figure, hatch, linestyle, marker,
)

__all__ = ["COLUMN_WIDTH", "DEMO_STYLE", "DPI", "HATCHES", "LINESTYLES", "MARKERS", "PALETTE", "STYLE",
           "book_style", "color", "figure", "glue_figure", "hatch", "linestyle", "marker"]
