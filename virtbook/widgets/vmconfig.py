"""An XML editor for a VM definition: edit the domain XML, see the hardware, changes and conflicts.

This module only wires an ipywidgets Textarea to the pure functions of :mod:`virtbook.vmconfig`
(parse, diff, validate, draw) and redraws; it holds no model logic. The notebook shows the same
report as static output first, for readers of the HTML book, who have no kernel.
"""
from __future__ import annotations

import ipywidgets as widgets
from IPython.display import Markdown

from virtbook import vmconfig
from virtbook._validate import check_int


def update(xml: str, reference: vmconfig.VirtualHardware | None = None,
           diagram: bool = True) -> tuple[str, object | None]:
    """Everything one redraw needs: (Markdown report, diagram Figure or None).

    Invalid XML gives a one-line report naming the problem instead of raising, so a half-typed
    edit in the editor shows a message rather than a traceback.
    """
    try:
        hw = vmconfig.parse_domain_xml(xml)
    except ValueError as err:
        return f"**Not a valid definition:** {err}", None
    fig = vmconfig.draw_diagram(hw) if diagram else None
    return vmconfig.report_markdown(hw, reference), fig


def vm_editor(xml: str, reference_xml: str | None = None, rows: int = 18,
              diagram: bool = True) -> widgets.VBox:
    """A Textarea holding ``xml`` and an Output that shows the report after every edit.

    ``reference_xml`` (by default the starting ``xml``) is what the changes are measured
    against. The report refreshes when the text area loses focus (``continuous_update`` is off),
    not on every keystroke.
    """
    rows = check_int("rows", rows, 3)
    reference = vmconfig.parse_domain_xml(reference_xml if reference_xml is not None else xml)
    editor = widgets.Textarea(value=xml, rows=rows, continuous_update=False,
                              layout=widgets.Layout(width="100%"),
                              description="", placeholder="<domain> ... </domain>")
    out = widgets.Output()

    def redraw(change=None) -> None:
        report, fig = update(editor.value, reference, diagram)
        # Set the Output widget's contents directly rather than capturing display() calls: the
        # result is the same in JupyterLab, and nothing leaks into the cell's own output when no
        # widget front end is listening (nbval, plain scripts).
        out.outputs = ()
        out.append_display_data(Markdown(report))
        if fig is not None:
            out.append_display_data(fig)

    editor.observe(redraw, names="value")
    redraw()
    return widgets.VBox([editor, out])
