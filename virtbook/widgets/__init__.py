"""Thin ipywidgets front ends over virtbook's pure models and figures.

Every widget follows one idiom, :class:`virtbook.widgets.common.Demo`: controls -> pure render
-> Image. A widget module holds no model logic and draws nothing itself: the model is a core's,
the figure :mod:`virtbook.figures`'.
"""
