"""Chapter 3's consolidation demo: sliders for servers, peak load, headroom and spare hosts.

The model is :mod:`virtbook.consolidation` and the figure :mod:`virtbook.figures.consolidation`;
this module wires four sliders to :func:`render` (consolidate, draw, encode) in the book's one
widget idiom (:class:`virtbook.widgets.common.Demo`), and makes the kernel-free view of the HTML
book (:func:`servers_sweep`) from the same figure.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from virtbook.consolidation import CostModel, consolidate
from virtbook.figures import style
from virtbook.figures.consolidation import describe_consolidation, draw_consolidation
from virtbook.figures.sweep import png_bytes, sweep_html
from virtbook.widgets.common import Demo

__all__ = ["ConsolidationDemo", "consolidation_widget", "render", "servers_sweep"]


def render(servers: int = 2, peak_load: float = 0.45, headroom: float = 0.2, *,
           spare_hosts: int = 0, seed: int = 0,
           model: CostModel = CostModel()) -> tuple[bytes, str]:
    """The widget's render step: consolidate, draw and encode; (PNG, summary HTML).

    Pure: no widget, no display, no state; the summary is the figure's alt text.
    """
    result = consolidate(servers, peak_load, headroom, spare_hosts=spare_hosts, seed=seed)
    fig = draw_consolidation(result, model)
    return (png_bytes(fig, dpi=style.DPI, settle=False),
            html.escape(describe_consolidation(result, peak_load, headroom)))


def servers_sweep(servers: tuple[int, ...] = (2, 4, 8, 12), start: int = 2, *,
                  peak_load: float = 0.45, headroom: float = 0.2, seed: int = 0,
                  model: CostModel = CostModel()) -> str:
    """The kernel-free view for the HTML book: the consolidation figure for each number of
    servers in ``servers``, behind a slider (:func:`virtbook.figures.sweep.sweep_html`)."""
    if not servers or start not in servers:
        raise ValueError(f"start must be one of servers {servers!r}, got {start!r}")
    frames, labels, alts = [], [], []
    for n in servers:
        result = consolidate(n, peak_load, headroom, seed=seed)
        frames.append(png_bytes(draw_consolidation(result, model)))
        labels.append(f"{n} servers")
        alts.append(describe_consolidation(result, peak_load, headroom))
    return sweep_html(frames, labels, alts, name="consolidation-servers",
                      parameter="Servers to consolidate", start=servers.index(start))


class ConsolidationDemo(Demo):
    """Sliders for servers, peak load, headroom and spare hosts over the figure of :func:`render`."""

    def __init__(self, servers: int = 2, peak_load: float = 0.45, headroom: float = 0.2, *,
                 seed: int = 0, model: CostModel = CostModel()) -> None:
        self._seed, self._model = seed, model
        label = {"description_width": "initial"}
        super().__init__({
            "servers": widgets.IntSlider(value=servers, min=1, max=12, step=1,
                                         description="servers", style=label),
            "peak_load": widgets.FloatSlider(value=peak_load, min=0.05, max=1.0, step=0.05,
                                             description="peak load", readout_format=".0%",
                                             style=label),
            "headroom": widgets.FloatSlider(value=headroom, min=0.0, max=0.5, step=0.05,
                                            description="headroom", readout_format=".0%",
                                            style=label),
            "spare_hosts": widgets.IntSlider(value=0, min=0, max=2, step=1,
                                             description="spare hosts", style=label),
        })

    def read(self) -> dict:
        return {name: control.value for name, control in self.inputs.items()}

    def render(self, settings: dict) -> tuple[bytes, str]:
        return render(settings["servers"], settings["peak_load"], settings["headroom"],
                      spare_hosts=settings["spare_hosts"], seed=self._seed, model=self._model)

    def layout(self) -> widgets.Box:
        i = self.inputs
        return widgets.VBox([widgets.HBox([i["servers"], i["peak_load"]]),
                             widgets.HBox([i["headroom"], i["spare_hosts"]]),
                             self.summary, self.image])


def consolidation_widget(servers: int = 2, peak_load: float = 0.45, headroom: float = 0.2, *,
                         seed: int = 0, model: CostModel = CostModel()) -> widgets.VBox:
    """The box of a :class:`ConsolidationDemo`, as chapter 3 shows it."""
    return ConsolidationDemo(servers, peak_load, headroom, seed=seed, model=model).widget
