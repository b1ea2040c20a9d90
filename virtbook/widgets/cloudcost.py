"""Rent or buy with your own prices: controls wired to :mod:`virtbook.cloudcost` and its figure.

This module holds no cost logic. :func:`summary` says in one paragraph what the figure
(:func:`virtbook.figures.cloudcost.draw_costs`) shows; :func:`render` turns the controls' values
into the figure and the summary; :class:`RentVsBuy` wires ipywidgets controls to it in the book's
one widget idiom (:class:`virtbook.widgets.common.Demo`), and :func:`vms_sweep` makes the
kernel-free view of the HTML book from the same figure.
"""
from __future__ import annotations

import ipywidgets as widgets

from virtbook import cloudcost
from virtbook.cloudcost import CloudOffer, OwnedServer
from virtbook.figures import style
from virtbook.figures.cloudcost import draw_costs
from virtbook.figures.sweep import png_bytes, sweep_html
from virtbook.widgets.common import Demo, error_html, markdown_html

#: The controls that set the owned server (:class:`OwnedServer`'s parameters).
SERVER_FIELDS = ("purchase_price", "lifetime_years", "power_idle_w", "power_peak_w", "pue",
                 "electricity_per_kwh", "admin_hours_per_month", "admin_hourly_rate", "vm_slots")


def summary(offer: CloudOffer, server: OwnedServer, vms: int) -> str:
    """One Markdown paragraph: the break-even points and the bills at full use."""
    u_star = cloudcost.break_even_utilization(offer, server, vms)
    rent = cloudcost.on_demand_monthly(offer, vms, 1.0)
    own = cloudcost.owned_monthly(server, vms, 1.0).total
    commit = cloudcost.committed_monthly(offer, vms)
    where = ("renting on demand is cheaper at every utilization" if u_star is None else
             f"owning is cheaper once the VMs are needed more than **{u_star:.0%}** of the month "
             f"({u_star * cloudcost.HOURS_PER_MONTH:.0f} hours)")
    return (f"For {vms} VMs, {where}. At full use a month costs US${rent:,.0f} on demand, "
            f"US${commit:,.0f} committed and US${own:,.0f} owned; a commitment beats on demand above "
            f"{cloudcost.commitment_break_even(offer):.0%} utilization.")


def render(values: dict) -> tuple[bytes | None, str]:
    """The widget's render step: (PNG of the figure or None, summary HTML) from the controls'
    values. A value the model refuses gives its one-line message instead of a traceback.

    Pure: no widget, no display, no state.
    """
    try:
        offer = CloudOffer(price_per_hour=values["price_per_hour"],
                           commitment_discount=values["commitment_discount"])
        server = OwnedServer(**{k: values[k] for k in SERVER_FIELDS})
        vms = values["vms"]
        text, fig = summary(offer, server, vms), draw_costs(offer, server, vms)
    except ValueError as err:
        return None, error_html(err, "Not a valid scenario")
    return png_bytes(fig, dpi=style.DPI, settle=False), markdown_html(text)


def vms_sweep(vms: tuple[int, ...] = (1, 2, 4, 8, 16, 32), start: int = 8, *,
              offer: CloudOffer | None = None, server: OwnedServer | None = None) -> str:
    """The kernel-free view for the HTML book: the rent-or-buy figure for each fleet size in
    ``vms``, behind a slider (:func:`virtbook.sweep_html`)."""
    offer = offer or CloudOffer()
    server = server or OwnedServer()
    if not vms or start not in vms:
        raise ValueError(f"start must be one of vms {vms!r}, got {start!r}")
    frames, labels, alts = [], [], []
    for n in vms:
        frames.append(png_bytes(draw_costs(offer, server, n)))
        labels.append(f"{n} VMs")
        u_star = cloudcost.break_even_utilization(offer, server, n)
        where = ("renting on demand is cheaper at every utilization" if u_star is None
                 else f"owning is cheaper above {u_star:.0%} utilization")
        owned = server.servers_for(n)
        alts.append(f"Monthly cost against utilization for {n} VMs on {owned} owned "
                    f"server{'s' if owned != 1 else ''}: {where}; a commitment beats on demand above "
                    f"{cloudcost.commitment_break_even(offer):.0%}.")
    return sweep_html(frames, labels, alts, name="cloudcost-vms", parameter="VMs",
                      start=vms.index(start))


class RentVsBuy(Demo):
    """Controls for every price and size beside the bill's figure and its summary."""

    def __init__(self, offer: CloudOffer | None = None, server: OwnedServer | None = None,
                 vms: int = 8) -> None:
        offer = offer or CloudOffer()
        server = server or OwnedServer()
        label = {"description_width": "14em"}
        lay = widgets.Layout(width="30em")

        def number(description: str, value: float, lo: float, hi: float, step: float):
            return widgets.BoundedFloatText(value=value, min=lo, max=hi, step=step,
                                            description=description, style=label, layout=lay)

        super().__init__({
            "price_per_hour": number("cloud US$ per hour", offer.price_per_hour, 0.001, 100,
                                     0.001),
            "commitment_discount": widgets.FloatSlider(
                value=offer.commitment_discount, min=0.0, max=0.9, step=0.01,
                description="commitment discount", style=label, layout=lay),
            "vms": widgets.IntSlider(value=vms, min=1, max=64, description="VMs needed",
                                     style=label, layout=lay),
            "purchase_price": number("server price US$", server.purchase_price, 0, 1_000_000,
                                     100),
            "lifetime_years": number("written off over (years)", server.lifetime_years, 0.25,
                                     20, 0.5),
            "vm_slots": widgets.IntSlider(value=server.vm_slots, min=1, max=64,
                                          description="VMs per server", style=label, layout=lay),
            "power_idle_w": number("idle power (W)", server.power_idle_w, 0, 10_000, 10),
            "power_peak_w": number("peak power (W)", server.power_peak_w, 1, 10_000, 10),
            "pue": number("PUE", server.pue, 1.0, 5.0, 0.01),
            "electricity_per_kwh": number("US$ per kWh", server.electricity_per_kwh, 0, 10,
                                          0.01),
            "admin_hours_per_month": number("admin hours per month",
                                            server.admin_hours_per_month, 0, 730, 0.5),
            "admin_hourly_rate": number("admin US$ per hour", server.admin_hourly_rate, 0,
                                        10_000, 1),
        })

    def read(self) -> dict:
        return {name: control.value for name, control in self.inputs.items()}

    def render(self, values: dict) -> tuple[bytes | None, str]:
        return render(values)

    def layout(self) -> widgets.Box:
        cloud = ("price_per_hour", "commitment_discount", "vms")
        left = widgets.VBox([widgets.HTML("<b>Cloud</b>")] + [self.inputs[k] for k in cloud])
        right = widgets.VBox([widgets.HTML("<b>Owned server</b>")] +
                             [c for k, c in self.inputs.items() if k not in cloud])
        return widgets.VBox([widgets.HBox([left, right]), self.summary, self.image])


def rent_vs_buy(offer: CloudOffer | None = None, server: OwnedServer | None = None,
                vms: int = 8) -> widgets.VBox:
    """The box of a :class:`RentVsBuy`, as chapter 10 shows it."""
    return RentVsBuy(offer, server, vms).widget
