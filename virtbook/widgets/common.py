"""What every widget shares: the one idiom, and one output for a live demo and its static view.

Each widget of the book follows one idiom, :class:`Demo`: **controls -> pure render -> Image**.
The controls (ipywidgets) are read into the model's settings; a render step that touches no
widget runs the model and draws the figure with :mod:`virtbook.figures`, returning what the view
shows (PNG bytes, and a summary as HTML); :class:`Demo` puts them into an ``ipywidgets.Image`` and
an ``ipywidgets.HTML``. A widget never uses an ``Output`` widget: nbclient can hang for minutes
on one that clears itself while a notebook is executed (jupyter/nbclient#312), and an ``Image``
shows exactly the bytes that the render step returned, which the tests and benchmarks check.

:class:`LiveView` shows a widget where a kernel runs it and a kernel-free HTML view elsewhere.
"""
from __future__ import annotations

import html as _html
import time
from typing import Any, Mapping

import ipywidgets as widgets
from markdown_it import MarkdownIt

#: Markdown to HTML for a widget's text (CommonMark and tables), as JupyterLab would render it.
_MARKDOWN = MarkdownIt("commonmark").enable("table")


def markdown_html(text: str) -> str:
    """``text`` (Markdown, as the book's cells display it) as HTML for an ``ipywidgets.HTML``.

    >>> markdown_html("**4** VMs")
    '<p><strong>4</strong> VMs</p>\\n'
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string of Markdown, got {text!r}")
    return _MARKDOWN.render(text)


def error_html(err: Exception, what: str) -> str:
    """A refused input as one line of HTML: ``what`` in bold, then the model's message.

    >>> error_html(ValueError("vms must be at least 1"), "Not a valid scenario")
    '<p><strong>Not a valid scenario:</strong> vms must be at least 1</p>'
    """
    return f"<p><strong>{_html.escape(what)}:</strong> {_html.escape(str(err))}</p>"


class Demo:
    """The one shape of the book's widgets: controls -> pure render -> Image (and a summary).

    A widget is a subclass that

    * passes its controls to ``__init__`` as ``inputs`` (name -> ipywidget with a ``value``);
    * says how their values become the model's settings (:meth:`read`);
    * renders settings into what the view shows (:meth:`render`): PNG bytes, or None to keep
      the picture shown (a refused input), and a summary as HTML (what the figure shows, or why
      nothing was drawn); the work is done by pure functions of the model and of
      :mod:`virtbook.figures`, never by reading or changing a widget;
    * lays its controls, :attr:`image` and :attr:`summary` out in one box (:meth:`layout`).

    Every change of a control calls :meth:`apply` with the settings read; the seconds each
    change took in the kernel are kept in :attr:`update_times` (also reachable as
    ``widget.update_times``, for the JupyterLab test, which sets them against what the browser
    measures). The first picture is drawn by ``__init__`` and is not a change. A ``Demo``
    displays as its :attr:`widget`.
    """

    def __init__(self, inputs: Mapping[str, widgets.ValueWidget], *,
                 image_layout: widgets.Layout | None = None,
                 summary_layout: widgets.Layout | None = None) -> None:
        self.inputs = dict(inputs)
        self.image = widgets.Image(format="png", layout=image_layout or widgets.Layout())
        self.summary = widgets.HTML(layout=summary_layout or widgets.Layout())
        self.update_times: list[float] = []
        self._syncing = False
        self.apply(self.read())
        self.widget = self.layout()
        self.widget.update_times = self.update_times
        for control in self.inputs.values():
            control.observe(self._on_change, names="value")

    # -- what a widget says ---------------------------------------------------------------------
    def read(self) -> Any:
        """The model's settings from the controls' values."""
        raise NotImplementedError

    def render(self, settings: Any) -> tuple[bytes | None, str]:
        """(PNG or None, summary HTML) for ``settings``; changes no widget."""
        raise NotImplementedError

    def layout(self) -> widgets.Box:
        """The controls, :attr:`image` and :attr:`summary` in one box."""
        raise NotImplementedError

    def show_settings(self, settings: Any) -> None:
        """Set the controls to ``settings`` after :meth:`apply` (by default they already are)."""

    # -- the one callback -------------------------------------------------------------------------
    def apply(self, settings: Any) -> float:
        """Render ``settings`` and show the result; returns the seconds it took."""
        start = time.perf_counter()
        png, html = self.render(settings)
        self._syncing = True
        try:  # show the values applied, without triggering another update
            self.show_settings(settings)
        finally:
            self._syncing = False
        if png is not None:
            self.image.value = png
        self.summary.value = html
        return time.perf_counter() - start

    def _on_change(self, _change=None) -> None:
        if not self._syncing:
            self.update_times.append(self.apply(self.read()))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return self.widget._repr_mimebundle_(include=include, exclude=exclude)


class LiveView:
    """One output for a demo: the live widget where the reader's kernel ran the cell, a kernel-free
    view everywhere else.

    A notebook cell whose value is a ``LiveView`` stores a single output with three forms: the
    widget's view, ``html`` (for example :func:`virtbook.figures.sweep.sweep_html` with a
    ``note``) and ``text``. Each
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
