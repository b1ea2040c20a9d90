"""Rent or buy with your own prices: controls wired to :mod:`virtbook.cloudcost`, and its figure.

This module holds no cost logic. :func:`draw_costs` draws the chapter's default figure (so the HTML
book can show it without a kernel), :func:`summary` says in one paragraph what the figure shows, and
:func:`rent_vs_buy` wires ipywidgets controls to both and redraws after every change.
"""
from __future__ import annotations

import ipywidgets as widgets
from IPython.display import Markdown
from matplotlib.figure import Figure

from virtbook import cloudcost, plots
from virtbook.cloudcost import CloudOffer, OwnedServer


def draw_costs(offer: CloudOffer, server: OwnedServer, vms: int, points: int = 101) -> Figure:
    """Monthly cost against utilization: on demand, committed and owned, break-evens marked."""
    curves = cloudcost.sweep(offer, server, vms, points)
    fig, ax = plots.figure(height=3.8)
    pct = [100 * u for u in curves.utilization]
    series = [
        (f"on demand ({offer.instance_type}, US${offer.price_per_hour:.3f}/h)", curves.on_demand),
        (f"committed ({offer.commitment_discount:.0%} off, paid every hour)", curves.committed),
        (f"owned ({curves_servers(server, vms)} server(s), fixed + energy)", curves.owned),
    ]
    for i, (label, values) in enumerate(series):
        ax.plot(pct, values, color=plots.color(i), linestyle=plots.linestyle(i), label=label,
                marker=plots.marker(i), markevery=max(1, (len(pct) - 1) // 10), markersize=5)
    top = max(max(curves.on_demand), max(curves.owned), curves.committed[0])
    if curves.break_even is not None:
        u = curves.break_even
        cost = cloudcost.on_demand_monthly(offer, vms, u)
        ax.axvline(100 * u, color=plots.color(7), linewidth=0.9, linestyle=":")
        ax.plot([100 * u], [cost], marker="o", markersize=9, markerfacecolor="white",
                markeredgecolor=plots.color(7), zorder=5)
        ax.annotate(f"break-even {u:.0%}\n(US${cost:,.0f}/month)", xy=(100 * u, cost),
                    xytext=(-10, 42), textcoords="offset points", fontsize=9, ha="right",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
                    arrowprops={"arrowstyle": "-", "color": plots.color(7), "linewidth": 0.7})
    else:
        ax.text(0.02, 0.95, "renting is cheaper at every utilization", transform=ax.transAxes,
                fontsize=9, va="top")
    uc = curves.commitment_break_even
    ax.axvline(100 * uc, color=plots.color(1), linewidth=0.8, linestyle=(0, (1, 2)))
    ax.annotate(f"commitment pays above {uc:.0%}", xy=(100 * uc, curves.committed[0]),
                xytext=(6, 8), textcoords="offset points", fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, top * 1.12)
    ax.set_xlabel("utilization: share of the month the VMs are needed (%)")
    ax.set_ylabel("US$ per month")
    ax.set_title(f"{vms} VMs: rent on demand, commit, or own")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.18), ncols=1, fontsize=8)
    return fig


def curves_servers(server: OwnedServer, vms: int) -> int:
    """How many servers the owned line stands for (shown in the legend)."""
    return server.servers_for(vms)


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


def update(values: dict) -> tuple[str, Figure | None]:
    """Everything one redraw needs: (Markdown summary, Figure or None) from the controls' values.

    A value the model refuses gives its one-line message instead of a traceback.
    """
    try:
        offer = CloudOffer(price_per_hour=values["price_per_hour"],
                           commitment_discount=values["commitment_discount"])
        server = OwnedServer(**{k: values[k] for k in (
            "purchase_price", "lifetime_years", "power_idle_w", "power_peak_w", "pue",
            "electricity_per_kwh", "admin_hours_per_month", "admin_hourly_rate", "vm_slots")})
        vms = values["vms"]
        return summary(offer, server, vms), draw_costs(offer, server, vms)
    except ValueError as err:
        return f"**Not a valid scenario:** {err}", None


def vms_sweep(vms: tuple[int, ...] = (1, 2, 4, 8, 16, 32), start: int = 8, *,
              offer: CloudOffer | None = None, server: OwnedServer | None = None) -> str:
    """The kernel-free view for the HTML book: the rent-or-buy figure for each fleet size in
    ``vms``, behind a slider (:func:`virtbook.plots.sweep_html`)."""
    offer = offer or CloudOffer()
    server = server or OwnedServer()
    if not vms or start not in vms:
        raise ValueError(f"start must be one of vms {vms!r}, got {start!r}")
    frames, labels, alts = [], [], []
    for n in vms:
        frames.append(plots.png_bytes(draw_costs(offer, server, n)))
        labels.append(f"{n} VMs")
        u_star = cloudcost.break_even_utilization(offer, server, n)
        where = ("renting on demand is cheaper at every utilization" if u_star is None
                 else f"owning is cheaper above {u_star:.0%} utilization")
        owned = server.servers_for(n)
        alts.append(f"Monthly cost against utilization for {n} VMs on {owned} owned "
                    f"server{'s' if owned != 1 else ''}: {where}; a commitment beats on demand above "
                    f"{cloudcost.commitment_break_even(offer):.0%}.")
    return plots.sweep_html(frames, labels, alts, name="cloudcost-vms", parameter="VMs",
                            start=vms.index(start))


def rent_vs_buy(offer: CloudOffer | None = None, server: OwnedServer | None = None,
                vms: int = 8) -> widgets.VBox:
    """Controls for every price and size, and an Output with the summary and figure."""
    offer = offer or CloudOffer()
    server = server or OwnedServer()
    style = {"description_width": "14em"}
    layout = widgets.Layout(width="30em")

    def number(description: str, value: float, lo: float, hi: float, step: float):
        return widgets.BoundedFloatText(value=value, min=lo, max=hi, step=step,
                                        description=description, style=style, layout=layout)

    controls = {
        "price_per_hour": number("cloud US$ per hour", offer.price_per_hour, 0.001, 100, 0.001),
        "commitment_discount": widgets.FloatSlider(
            value=offer.commitment_discount, min=0.0, max=0.9, step=0.01,
            description="commitment discount", style=style, layout=layout),
        "vms": widgets.IntSlider(value=vms, min=1, max=64, description="VMs needed", style=style,
                                 layout=layout),
        "purchase_price": number("server price US$", server.purchase_price, 0, 1_000_000, 100),
        "lifetime_years": number("written off over (years)", server.lifetime_years, 0.25, 20, 0.5),
        "vm_slots": widgets.IntSlider(value=server.vm_slots, min=1, max=64,
                                      description="VMs per server", style=style, layout=layout),
        "power_idle_w": number("idle power (W)", server.power_idle_w, 0, 10_000, 10),
        "power_peak_w": number("peak power (W)", server.power_peak_w, 1, 10_000, 10),
        "pue": number("PUE", server.pue, 1.0, 5.0, 0.01),
        "electricity_per_kwh": number("US$ per kWh", server.electricity_per_kwh, 0, 10, 0.01),
        "admin_hours_per_month": number("admin hours per month", server.admin_hours_per_month,
                                        0, 730, 0.5),
        "admin_hourly_rate": number("admin US$ per hour", server.admin_hourly_rate, 0, 10_000, 1),
    }
    out = widgets.Output()

    def redraw(change=None) -> None:
        text, fig = update({k: c.value for k, c in controls.items()})
        # Replace the Output's contents directly instead of capturing display() calls, so nothing
        # leaks into the cell's own output when no widget front end is listening.
        out.outputs = ()
        out.append_display_data(Markdown(text))
        if fig is not None:
            out.append_display_data(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    left = widgets.VBox([widgets.HTML("<b>Cloud</b>")] +
                        [controls[k] for k in ("price_per_hour", "commitment_discount", "vms")])
    right = widgets.VBox([widgets.HTML("<b>Owned server</b>")] +
                         [c for k, c in controls.items()
                          if k not in ("price_per_hour", "commitment_discount", "vms")])
    return widgets.VBox([widgets.HBox([left, right]), out])
