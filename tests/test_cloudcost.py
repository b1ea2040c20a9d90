"""The rent-or-buy model of chapter 10: its costs, its break-even point and its input checks."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booklib import ROOT, load_notebook, source
from solutions import printed, solution
from virtbook.cloudcost import (HOURS_PER_MONTH, CloudOffer, OwnedServer, break_even_utilization,
                                commitment_break_even, committed_monthly, explain,
                                on_demand_monthly, owned_monthly, sweep)

prices = st.floats(min_value=0.005, max_value=5.0)
utils = st.floats(min_value=0.0, max_value=1.0)
vm_counts = st.integers(min_value=1, max_value=64)
servers = st.builds(
    OwnedServer,
    purchase_price=st.floats(min_value=0.0, max_value=50_000.0),
    lifetime_years=st.floats(min_value=1.0, max_value=8.0),
    power_idle_w=st.floats(min_value=0.0, max_value=200.0),
    power_peak_w=st.floats(min_value=200.0, max_value=1000.0),
    pue=st.floats(min_value=1.0, max_value=2.5),
    electricity_per_kwh=st.floats(min_value=0.0, max_value=0.5),
    admin_hours_per_month=st.floats(min_value=0.0, max_value=20.0),
    vm_slots=st.integers(min_value=1, max_value=32),
)


def test_on_demand_pays_only_for_the_hours_used():
    offer = CloudOffer(price_per_hour=0.25)
    assert on_demand_monthly(offer, 4, 0.0) == 0.0
    full = on_demand_monthly(offer, 4, 1.0)
    assert full == pytest.approx(4 * 0.25 * HOURS_PER_MONTH)
    assert on_demand_monthly(offer, 4, 0.5) == pytest.approx(full / 2)


def test_a_commitment_costs_the_same_whatever_the_use():
    offer = CloudOffer(price_per_hour=0.2, commitment_discount=0.3)
    assert committed_monthly(offer, 3) == pytest.approx(3 * 0.2 * 0.7 * HOURS_PER_MONTH)
    curves = sweep(offer, OwnedServer(), 3, points=11)
    assert len(set(curves.committed)) == 1


def test_owned_servers_cost_the_idle_bill_when_unused():
    server = OwnedServer(purchase_price=6000, lifetime_years=5, power_idle_w=100, power_peak_w=300,
                         pue=1.5, electricity_per_kwh=0.2, admin_hours_per_month=1,
                         admin_hourly_rate=50, vm_slots=4)
    idle = owned_monthly(server, 4, 0.0)
    assert idle.servers == 1
    assert idle.hardware == pytest.approx(100.0)
    assert idle.admin == pytest.approx(50.0)
    assert idle.kwh == pytest.approx(100 * 1.5 * HOURS_PER_MONTH / 1000)
    busy = owned_monthly(server, 4, 1.0)
    assert busy.kwh == pytest.approx(300 * 1.5 * HOURS_PER_MONTH / 1000)
    assert busy.hardware == idle.hardware and busy.admin == idle.admin


def test_more_vms_than_slots_need_more_servers():
    server = OwnedServer(vm_slots=8)
    assert owned_monthly(server, 8, 1.0).servers == 1
    assert owned_monthly(server, 9, 1.0).servers == 2
    # A half-full second server draws less than a full one: load scales the dynamic power.
    assert owned_monthly(server, 12, 1.0).kwh < owned_monthly(server, 16, 1.0).kwh


@settings(max_examples=200, deadline=None)
@given(price=prices, server=servers, vms=vm_counts)
def test_break_even_is_where_the_two_bills_are_equal(price, server, vms):
    offer = CloudOffer(price_per_hour=price)
    u_star = break_even_utilization(offer, server, vms)
    if u_star is None:
        # Renting is no dearer anywhere in 0..1.
        for u in (0.0, 0.25, 0.5, 0.75, 1.0):
            assert on_demand_monthly(offer, vms, u) <= owned_monthly(server, vms, u).total + 1e-6
        return
    assert 0.0 <= u_star <= 1.0
    rent, own = on_demand_monthly(offer, vms, u_star), owned_monthly(server, vms, u_star).total
    assert rent == pytest.approx(own, rel=1e-9, abs=1e-9)
    if u_star > 0.01:
        u = u_star / 2
        assert on_demand_monthly(offer, vms, u) < owned_monthly(server, vms, u).total
    if u_star < 0.99:
        u = (u_star + 1) / 2
        assert on_demand_monthly(offer, vms, u) > owned_monthly(server, vms, u).total


@settings(max_examples=100, deadline=None)
@given(price=prices, factor=st.floats(min_value=1.01, max_value=4.0), vms=vm_counts)
def test_dearer_rent_makes_owning_pay_off_sooner(price, factor, vms):
    server = OwnedServer()
    cheap = break_even_utilization(CloudOffer(price_per_hour=price), server, vms)
    dear = break_even_utilization(CloudOffer(price_per_hour=price * factor), server, vms)
    if cheap is not None:
        assert dear is not None and dear < cheap


@settings(max_examples=100, deadline=None)
@given(cost=st.floats(min_value=0.0, max_value=20_000.0), extra=st.floats(min_value=1.0, max_value=5000.0))
def test_a_dearer_server_moves_the_break_even_up(cost, extra):
    offer = CloudOffer(price_per_hour=1.0)
    low = break_even_utilization(offer, OwnedServer(purchase_price=cost), 8)
    high = break_even_utilization(offer, OwnedServer(purchase_price=cost + extra), 8)
    if high is not None:
        assert low is not None and low < high


def test_small_fleets_are_cheaper_to_rent_with_the_defaults():
    # The fixed cost of one server (write-off, admin, idle power) exceeds two VMs' rent.
    assert break_even_utilization(CloudOffer(), OwnedServer(), 1) is None
    assert break_even_utilization(CloudOffer(), OwnedServer(), 2) is None
    assert break_even_utilization(CloudOffer(), OwnedServer(), 3) is not None
    assert break_even_utilization(CloudOffer(), OwnedServer(), 8) is not None


def test_the_chapter_summary_states_what_the_model_computes():
    # Chapter 10's summary words "about a third of the month" and "a fleet of one or two VMs".
    page = "\n".join(source(c) for c in load_notebook(ROOT / CH10)["cells"]
                      if c["cell_type"] == "markdown")
    summary = page.split("## Summary", 1)[1].split("## Exercises", 1)[0]
    flat = " ".join(summary.split())
    assert "about a third of the month for one full server" in flat
    assert 0.30 < break_even_utilization(CloudOffer(), OwnedServer(), 8) < 0.37
    assert "no break-even at all for a fleet of one or two VMs" in flat


@given(discount=st.floats(min_value=0.0, max_value=0.9), vms=vm_counts)
def test_commitment_break_even_is_one_minus_the_discount(discount, vms):
    offer = CloudOffer(price_per_hour=0.1, commitment_discount=discount)
    u = commitment_break_even(offer)
    assert u == pytest.approx(1 - discount)
    assert on_demand_monthly(offer, vms, u) == pytest.approx(committed_monthly(offer, vms))


def test_sweep_samples_evenly_and_agrees_with_the_functions():
    offer, server = CloudOffer(), OwnedServer()
    curves = sweep(offer, server, 8, points=5)
    assert curves.utilization == (0.0, 0.25, 0.5, 0.75, 1.0)
    for u, rent, own in zip(curves.utilization, curves.on_demand, curves.owned):
        assert rent == pytest.approx(on_demand_monthly(offer, 8, u))
        assert own == pytest.approx(owned_monthly(server, 8, u).total)
    assert curves.break_even == break_even_utilization(offer, server, 8)


def test_explain_prints_the_same_numbers_as_the_model():
    offer, server = CloudOffer(), OwnedServer()
    lines = explain(offer, server, 8, 0.5)
    text = "\n".join(lines)
    assert f"US${on_demand_monthly(offer, 8, 0.5):,.2f}" in text
    assert f"US${owned_monthly(server, 8, 0.5).total:,.2f}" in text
    assert f"{break_even_utilization(offer, server, 8):.1%}" in lines[-1]
    assert "renting is cheaper" in explain(offer, server, 1, 0.5)[-1]


@pytest.mark.parametrize("kwargs, message", [
    ({"price_per_hour": 0}, "price_per_hour must be a number greater than 0"),
    ({"price_per_hour": math.nan}, "price_per_hour must be a finite number"),
    ({"commitment_discount": 0.95}, "commitment_discount must be a number at least 0"),
    ({"instance_type": ""}, "instance_type must be a non-empty printable string"),
])
def test_bad_offers_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CloudOffer(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lifetime_years": 0}, "lifetime_years must be a number at least 0.25"),
    ({"pue": 0.9}, "pue must be a number at least 1 and at most 5"),
    ({"power_idle_w": 400, "power_peak_w": 300}, "power_idle_w must be at most power_peak_w"),
    ({"vm_slots": 0}, r"vm_slots must be an integer in 1\.\.4096, got 0"),
    ({"vm_slots": 2.5}, "vm_slots must be an integer"),
])
def test_bad_servers_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OwnedServer(**kwargs)


def test_bad_workloads_name_the_parameter():
    with pytest.raises(ValueError, match=r"utilization must be a number at least 0 and at most 1"):
        on_demand_monthly(CloudOffer(), 2, 1.5)
    with pytest.raises(ValueError, match=r"vms must be an integer in 1\.\.100000, got 0"):
        owned_monthly(OwnedServer(), 0, 0.5)
    with pytest.raises(ValueError, match=r"points must be an integer in 2\.\.10001"):
        sweep(CloudOffer(), OwnedServer(), 2, points=1)


def test_the_widget_front_end_redraws_or_explains():
    from virtbook.widgets import cloudcost as front

    values = {"price_per_hour": 0.096, "commitment_discount": 0.4, "vms": 8,
              "purchase_price": 4000, "lifetime_years": 5, "power_idle_w": 150,
              "power_peak_w": 300, "pue": 1.58, "electricity_per_kwh": 0.13,
              "admin_hours_per_month": 2, "admin_hourly_rate": 43.52, "vm_slots": 8}
    png, text = front.render(values)
    assert png.startswith(b"\x89PNG")
    u_star = break_even_utilization(CloudOffer(), OwnedServer(), 8)
    assert f"<strong>{u_star:.0%}</strong>" in text
    png, text = front.render({**values, "power_idle_w": 500})
    assert png is None and "power_idle_w must be at most power_peak_w" in text
    box = front.rent_vs_buy()
    controls, summary, image = box.children
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG") and f"{u_star:.0%}" in summary.value
    left = controls.children[0]
    left.children[3].value = 16  # the VMs slider: the figure and the summary follow
    assert bytes(image.value) != first and "For 16 VMs" in summary.value


# --- the chapter's solutions quote what their code prints -----------------------------------

CH10 = "chapters/10-cloud-computing.ipynb"


def test_solution_10_2_quotes_the_model():
    text = " ".join(solution(CH10, "ex-10-2").split())
    out = printed(CH10, "ex-10-2")
    offer, server, u = CloudOffer(), OwnedServer(), 50 / 168
    own = owned_monthly(server, 6, u)
    assert f"{u:.3f}" in text
    assert f"USD {on_demand_monthly(offer, 6, u):.1f}" in text and "US$125.14" in out
    assert f"USD {committed_monthly(offer, 6):.1f}" in text and "US$252.29" in out
    assert f"USD {own.hardware:.2f}" in text and f"USD {own.admin:.2f}" in text
    watts = server.power_idle_w + (server.power_peak_w - server.power_idle_w) * 6 / 8 * u
    assert f"{watts:.1f} W" in text
    assert f"{own.kwh:.1f} kWh" in text and f"{own.kwh:.1f} kWh" in out
    assert f"USD {own.energy:.1f}" in text and f"USD {own.total:.1f}" in text
    be = break_even_utilization(offer, server, 6)
    assert f"returns {be:.3f}" in text and f"about {be:.0%}" in text
    assert f"{be:.1%}" in out
    assert f"about {u * HOURS_PER_MONTH:.0f} are used" in text
    assert f"{commitment_break_even(offer):.0%} utilization" in text


def test_ex_10_2_and_10_3_hand_numbers():
    """Every number ex-10-2 and ex-10-3 work out by hand, from the model's defaults (registered
    in tests/test_solution_numbers.py)."""
    offer, server = CloudOffer(), OwnedServer()
    # (a) a week has 168 hours, 50 of them are business hours
    u = 50 / 168
    assert 7 * 24 == 168 and round(u, 3) == 0.298
    # (b) on demand: 6 x 0.096 x 730 x 0.298
    assert (offer.price_per_hour, HOURS_PER_MONTH) == (0.096, 730)
    assert round(on_demand_monthly(offer, 6, u), 1) == 125.1
    # (c) committed: 0.096 x (1 - 0.40) = 0.0576 per hour, 6 x 0.0576 x 730
    assert offer.commitment_discount == 0.40
    assert round(offer.price_per_hour * (1 - offer.commitment_discount), 4) == 0.0576
    assert round(committed_monthly(offer, 6), 1) == 252.3
    # (d) owned: 4,000 / 60 months, 2 h x 43.52, energy 150 + 150 x 0.75 x 0.298 W at PUE 1.58
    # over 730 h at 0.13 per kWh
    assert (server.purchase_price, server.lifetime_years * 12) == (4000, 60)
    assert (server.admin_hours_per_month, server.admin_hourly_rate) == (2, 43.52)
    assert (server.vm_slots, 6 / server.vm_slots, 100 * 6 // server.vm_slots) == (8, 0.75, 75)
    assert (server.power_idle_w, server.power_peak_w - server.power_idle_w) == (150, 150)
    assert (server.pue, server.electricity_per_kwh) == (1.58, 0.13)
    assert round(150 + 150 * 0.75 * u, 1) == 183.5
    own = owned_monthly(server, 6, u)
    assert (round(own.hardware, 2), round(own.admin, 2)) == (66.67, 87.04)
    assert (round(own.kwh, 1), round(own.energy, 1), round(own.total, 1)) == (211.6, 27.5, 181.2)
    be = break_even_utilization(offer, server, 6)
    assert round(be, 3) == 0.437 and round(100 * be) == 44
    assert round(u * HOURS_PER_MONTH) == 217
    assert commitment_break_even(offer) == pytest.approx(1 - 0.40) == pytest.approx(0.60)
    # ex-10-3: what the solution's code prints, and the hand numbers beside it
    assert printed(CH10, "ex-10-3").split() == ["32.7%", "81.3%", "31.1%", "41.4%"]
    assert round(6 * server.admin_hourly_rate) == 261
    assert round(owned_monthly(server, 8, 1.0).energy) == 45
    assert 1 - 0.20 == 0.8


def test_solution_10_3_quotes_the_model():
    text = " ".join(solution(CH10, "ex-10-3").split())
    out = printed(CH10, "ex-10-3").split()
    assert " ".join(out) in text.replace(" and ", " ").replace(",", "")
    base = owned_monthly(OwnedServer(), 8, 1.0)
    assert f"USD {6 * OwnedServer().admin_hourly_rate:.0f}" in text
    assert f"about USD {base.energy:.0f} a month at full use" in text
