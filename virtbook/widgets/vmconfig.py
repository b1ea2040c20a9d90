"""An XML editor for a VM definition: edit the domain XML, see the hardware, changes and conflicts.

This module only wires an ipywidgets Textarea to the pure functions of :mod:`virtbook.vmconfig`
(parse, diff, validate, report) and :mod:`virtbook.figures.vmconfig` (the diagram), in the book's
one widget idiom (:class:`virtbook.widgets.common.Demo`); it holds no model logic. The notebook
shows the same report as static output first, for readers of the HTML book, who have no kernel.
"""
from __future__ import annotations

import ipywidgets as widgets

from virtbook import vmconfig
from virtbook._validate import check_int
from virtbook.figures import style
from virtbook.figures.sweep import png_bytes
from virtbook.figures.vmconfig import draw_diagram
from virtbook.widgets.common import Demo, error_html, markdown_html

__all__ = ["VMEditor", "render", "vm_editor"]


def render(xml: str, reference: vmconfig.VirtualHardware | None = None,
           diagram: bool = True) -> tuple[bytes | None, str]:
    """The editor's render step: (PNG of the diagram or None, the report as HTML).

    Invalid XML gives a one-line report naming the problem instead of raising, so a half-typed
    edit in the editor shows a message rather than a traceback. Pure: no widget, no display.
    """
    try:
        hw = vmconfig.parse_domain_xml(xml)
    except ValueError as err:
        return None, error_html(err, "Not a valid definition")
    png = png_bytes(draw_diagram(hw), dpi=style.DPI, settle=False) if diagram else None
    return png, markdown_html(vmconfig.report_markdown(hw, reference))


class VMEditor(Demo):
    """A Textarea holding the domain XML, the report under it, and the diagram (if asked for).

    ``reference_xml`` (by default the starting ``xml``) is what the changes are measured
    against. The report refreshes when the text area loses focus (``continuous_update`` is off),
    not on every keystroke. Without ``diagram`` there is no image; a definition that does not
    parse leaves the last diagram in place, under the report that says why.
    """

    def __init__(self, xml: str, reference_xml: str | None = None, rows: int = 18,
                 diagram: bool = True) -> None:
        rows = check_int("rows", rows, 3)
        self._reference = vmconfig.parse_domain_xml(reference_xml if reference_xml is not None
                                                    else xml)
        self._diagram = diagram
        super().__init__({"xml": widgets.Textarea(
            value=xml, rows=rows, continuous_update=False, layout=widgets.Layout(width="100%"),
            description="", placeholder="<domain> ... </domain>")})

    def read(self) -> str:
        return self.inputs["xml"].value

    def render(self, xml: str) -> tuple[bytes | None, str]:
        return render(xml, self._reference, self._diagram)

    def layout(self) -> widgets.Box:
        children = [self.inputs["xml"], self.summary]
        return widgets.VBox(children + ([self.image] if self._diagram else []))


def vm_editor(xml: str, reference_xml: str | None = None, rows: int = 18,
              diagram: bool = True) -> widgets.VBox:
    """The box of a :class:`VMEditor`: the XML, its report and (with ``diagram``) its diagram."""
    return VMEditor(xml, reference_xml, rows, diagram).widget
