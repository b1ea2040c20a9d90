"""Chapter 10's figure: the monthly bill against utilization, rented on demand, committed, owned.

The costs are :mod:`virtbook.cloudcost`'s; this module draws them, each line with its own marker
and dash besides its colour, with the break-even points marked.
"""
from __future__ import annotations

from matplotlib.figure import Figure

from virtbook import cloudcost
from virtbook.cloudcost import CloudOffer, OwnedServer
from virtbook.figures import style

__all__ = ["draw_costs"]


def draw_costs(offer: CloudOffer, server: OwnedServer, vms: int, points: int = 101) -> Figure:
    """Monthly cost against utilization: on demand, committed and owned, break-evens marked."""
    curves = cloudcost.sweep(offer, server, vms, points)
    fig, ax = style.figure(height=3.8)
    pct = [100 * u for u in curves.utilization]
    series = [
        (f"on demand ({offer.instance_type}, US${offer.price_per_hour:.3f}/h)", curves.on_demand),
        (f"committed ({offer.commitment_discount:.0%} off, paid every hour)", curves.committed),
        (f"owned ({server.servers_for(vms)} server(s), fixed + energy)", curves.owned),
    ]
    for i, (label, values) in enumerate(series):
        ax.plot(pct, values, color=style.color(i), linestyle=style.linestyle(i), label=label,
                marker=style.marker(i), markevery=max(1, (len(pct) - 1) // 10), markersize=5)
    top = max(max(curves.on_demand), max(curves.owned), curves.committed[0])
    if curves.break_even is not None:
        u = curves.break_even
        cost = cloudcost.on_demand_monthly(offer, vms, u)
        ax.axvline(100 * u, color=style.color(7), linewidth=0.9, linestyle=":")
        ax.plot([100 * u], [cost], marker="o", markersize=9, markerfacecolor="white",
                markeredgecolor=style.color(7), zorder=5)
        ax.annotate(f"break-even {u:.0%}\n(US${cost:,.0f}/month)", xy=(100 * u, cost),
                    xytext=(-10, 42), textcoords="offset points", fontsize=9, ha="right",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
                    arrowprops={"arrowstyle": "-", "color": style.color(7), "linewidth": 0.7})
    else:
        ax.text(0.02, 0.95, "renting is cheaper at every utilization", transform=ax.transAxes,
                fontsize=9, va="top")
    uc = curves.commitment_break_even
    ax.axvline(100 * uc, color=style.color(1), linewidth=0.8, linestyle=(0, (1, 2)))
    ax.annotate(f"commitment pays above {uc:.0%}", xy=(100 * uc, curves.committed[0]),
                xytext=(6, 8), textcoords="offset points", fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, top * 1.12)
    ax.set_xlabel("utilization: share of the month the VMs are needed (%)")
    ax.set_ylabel("US$ per month")
    ax.set_title(f"{vms} VMs: rent on demand, commit, or own")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.18), ncols=1, fontsize=8)
    return fig
