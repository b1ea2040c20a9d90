"""Chapter 5's CPU figures, at their old path (they live in :mod:`virtbook.figures.cpu` now)."""
# Transitional: labs/*.ipynb still import this; removed in the next round
from virtbook.figures.cpu import plot_ready_vs_ratio

__all__ = ["plot_ready_vs_ratio"]
