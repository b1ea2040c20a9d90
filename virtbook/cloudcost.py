"""Rent or buy: what a month of computing costs on an on-demand VM and on a server you own.

Chapter 10 uses this model to make "pay as you go" quantitative. A cloud instance rented on demand
costs its hourly price for every hour it runs and nothing when it is stopped, so its monthly bill
grows in proportion to the fraction of the month you need it (the *utilization* here). A server you
own costs nearly the same whether it is busy or idle: its purchase price is written off over its
life, somebody has to look after it, and it draws power even when it does nothing. Somewhere the two
lines cross; below that *break-even utilization* renting is cheaper, above it owning is. A
commitment (an AWS Savings Plan or Reserved Instance) sits between the two: a lower hourly price,
paid for every hour whether you use it or not.

The model is deliberately small and deterministic: every number follows from the parameters by
arithmetic a student can check by hand, and :func:`explain` prints that arithmetic.

    >>> offer = CloudOffer()                     # m5.large, us-east-1, US$0.096 an hour
    >>> round(on_demand_monthly(offer, vms=8, utilization=1.0), 2)
    560.64
    >>> server = OwnedServer()                   # US$4,000 over 5 years, 150-300 W, PUE 1.58
    >>> round(owned_monthly(server, vms=8, utilization=1.0).total, 2)
    198.69
    >>> round(break_even_utilization(offer, server, vms=8), 3)
    0.327

Sources for the mechanisms and defaults
---------------------------------------
* Billing. On-demand EC2 instances are billed per hour or per second with no commitment: AWS,
  "How AWS Pricing Works" (whitepaper), section "Amazon EC2"; Linux instances have been billed per
  second, with a 60-second minimum, since 2 October 2017 (AWS What's New, "Announcing Amazon EC2
  per second billing", 2017). A month is taken as 8,760 / 12 = 730 hours.
* Default price. m5.large (2 vCPUs, 8 GiB), Linux, US East (N. Virginia): US$0.096 per hour. This
  is an *assumption*, dated 2026-12, the reader should replace: AWS's own price page could not be
  read from the book's sources. It is the price AWS's EC2 User Guide uses for an m5.large
  (us-east-1, Linux) in its worked example on unlimited mode, and the on-demand price recorded on
  2017-12-01 in a public dataset (riceissa/computing-data-project, sql/cloud-instance-costs.sql).
  Check the current price on https://aws.amazon.com/ec2/pricing/on-demand/ before relying on it.
* Commitments. Savings Plans offer "savings of up to 72 percent" in exchange for a one- or
  three-year commitment to an hourly spend (AWS, "How AWS Pricing Works", "Savings Plans"). The
  default ``commitment_discount`` of 0.40 is an *assumption* inside that range; the discount
  actually offered depends on the term, the payment option and the instance family.
* Owned server. Purchase price US$4,000 written off over 5 years (an *assumption*, the same as
  chapter 3's consolidation model). Power follows the linear model of Fan, Weber and Barroso,
  "Power Provisioning for a Warehouse-sized Computer", ISCA 2007, Section 4: power rises linearly
  from its idle value to its peak with utilization. Idle at half of peak: Barroso and Hoelzle, "The
  Case for Energy-Proportional Computing", IEEE Computer 40(12), 2007 ("even an energy-efficient
  server still consumes about half its full power when doing virtually no work"). The 300 W peak is
  an *assumption*.
* Facility overhead. Power usage effectiveness (PUE) = total facility power / IT power; the
  industry-average PUE in Uptime Institute's 2023 survey was 1.58 (Davis and O'Brien, "Large data
  centers are mostly more efficient, analysis confirms", Uptime Institute Intelligence, 2023).
* Electricity. US$0.13 per kWh, inside the range of US commercial averages by state in 2024 (U.S.
  Energy Information Administration, Electric Power Monthly, Table 5.6.B).
* Administration. 2 hours a month per server (an *assumption*) at US$43.52 an hour, the May 2022
  median pay of US network and computer systems administrators (U.S. Bureau of Labor Statistics,
  Occupational Outlook Handbook, 2023). Wages are not the whole cost of an employee, so this is low.
* The comparison itself follows Armbrust et al., "A View of Cloud Computing", Communications of the
  ACM 53(4), 2010, section "Economics": an owned machine's cost per *useful* hour is its cost divided
  by its utilization, which is why low utilization favours paying per use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from virtbook._validate import check_int, check_name, check_real

#: Hours in an average month: 8,760 hours a year / 12.
HOURS_PER_MONTH = 8760.0 / 12.0

#: The largest utilization: the VMs are needed every hour of the month.
FULL = 1.0


@dataclass(frozen=True)
class CloudOffer:
    """The price of one on-demand VM, and the discount a commitment would bring.

    ``price_per_hour`` is the on-demand list price in US dollars. ``commitment_discount`` is the
    fraction a one- or three-year commitment (Savings Plan, Reserved Instance) takes off that
    price; the committed price is paid for every hour of the term, used or not.
    """

    instance_type: str = "m5.large"
    region: str = "us-east-1"
    price_per_hour: float = 0.096
    commitment_discount: float = 0.40
    price_seen: str = "2026-12 (assumption; see the module docstring)"

    def __post_init__(self) -> None:
        check_name("instance_type", self.instance_type)
        check_name("region", self.region)
        check_real("price_per_hour", self.price_per_hour, 0.0, 1000.0, lo_open=True)
        check_real("commitment_discount", self.commitment_discount, 0.0, 0.9)
        check_name("price_seen", self.price_seen, max_len=200)

    @property
    def committed_price_per_hour(self) -> float:
        """The hourly price under a commitment."""
        return self.price_per_hour * (1.0 - self.commitment_discount)


@dataclass(frozen=True)
class OwnedServer:
    """A server you buy, power and look after, hosting ``vm_slots`` VMs of the rented size.

    Parameters are named as a data-centre cost model names them: the purchase price is written off
    (amortised) evenly over ``lifetime_years``; power follows a straight line from
    ``power_idle_w`` at zero utilization to ``power_peak_w`` at full utilization, multiplied by the
    facility's ``pue`` to include cooling and power distribution; administration is
    ``admin_hours_per_month`` at ``admin_hourly_rate``.
    """

    purchase_price: float = 4000.0
    lifetime_years: float = 5.0
    power_idle_w: float = 150.0
    power_peak_w: float = 300.0
    pue: float = 1.58
    electricity_per_kwh: float = 0.13
    admin_hours_per_month: float = 2.0
    admin_hourly_rate: float = 43.52
    vm_slots: int = 8

    def __post_init__(self) -> None:
        check_real("purchase_price", self.purchase_price, 0.0, 10_000_000.0)
        check_real("lifetime_years", self.lifetime_years, 0.25, 20.0)
        check_real("power_idle_w", self.power_idle_w, 0.0, 100_000.0)
        check_real("power_peak_w", self.power_peak_w, 0.0, 100_000.0, lo_open=True)
        if self.power_idle_w > self.power_peak_w:
            raise ValueError(
                f"power_idle_w must be at most power_peak_w ({self.power_peak_w:g}), "
                f"got {self.power_idle_w:g}")
        check_real("pue", self.pue, 1.0, 5.0)
        check_real("electricity_per_kwh", self.electricity_per_kwh, 0.0, 10.0)
        check_real("admin_hours_per_month", self.admin_hours_per_month, 0.0, HOURS_PER_MONTH)
        check_real("admin_hourly_rate", self.admin_hourly_rate, 0.0, 10_000.0)
        check_int("vm_slots", self.vm_slots, 1, 4096)

    def servers_for(self, vms: int) -> int:
        """How many servers it takes to host ``vms`` VMs."""
        return math.ceil(check_int("vms", vms, 1, 100_000) / self.vm_slots)


@dataclass(frozen=True)
class MonthlyCost:
    """One month of owning: the three parts of the bill and the energy behind one of them."""

    servers: int
    hardware: float
    energy: float
    admin: float
    kwh: float

    @property
    def total(self) -> float:
        return self.hardware + self.energy + self.admin


def _check_utilization(utilization: object) -> float:
    return check_real("utilization", utilization, 0.0, FULL)


def on_demand_monthly(offer: CloudOffer, vms: int, utilization: float) -> float:
    """US$ a month for ``vms`` on-demand instances that run a fraction ``utilization`` of the time.

    Stopped instances cost nothing for compute (their disks still do; the model leaves storage
    out on both sides of the comparison).
    """
    vms = check_int("vms", vms, 1, 100_000)
    return vms * offer.price_per_hour * HOURS_PER_MONTH * _check_utilization(utilization)


def committed_monthly(offer: CloudOffer, vms: int) -> float:
    """US$ a month for ``vms`` instances under a commitment: every hour is paid, used or not."""
    vms = check_int("vms", vms, 1, 100_000)
    return vms * offer.committed_price_per_hour * HOURS_PER_MONTH


def _owned_parts(server: OwnedServer, vms: int) -> tuple[int, float, float, float, float]:
    """(servers, hardware US$/month, admin US$/month, kWh/month at idle, extra kWh/month at u=1)."""
    servers = server.servers_for(vms)
    load = vms / (servers * server.vm_slots)          # how full the servers are when in use
    hardware = servers * server.purchase_price / (server.lifetime_years * 12.0)
    admin = servers * server.admin_hours_per_month * server.admin_hourly_rate
    kwh_idle = servers * server.power_idle_w * server.pue * HOURS_PER_MONTH / 1000.0
    kwh_per_util = (servers * (server.power_peak_w - server.power_idle_w) * load * server.pue
                    * HOURS_PER_MONTH / 1000.0)
    return servers, hardware, admin, kwh_idle, kwh_per_util


def owned_monthly(server: OwnedServer, vms: int, utilization: float) -> MonthlyCost:
    """The monthly cost of enough owned servers to host ``vms`` VMs busy ``utilization`` of the time.

    The servers stay powered all month; only the energy above idle depends on utilization.
    """
    utilization = _check_utilization(utilization)
    servers, hardware, admin, kwh_idle, kwh_per_util = _owned_parts(server, vms)
    kwh = kwh_idle + kwh_per_util * utilization
    return MonthlyCost(servers=servers, hardware=hardware, energy=kwh * server.electricity_per_kwh,
                       admin=admin, kwh=kwh)


def break_even_utilization(offer: CloudOffer, server: OwnedServer, vms: int) -> float | None:
    """The utilization at which on-demand and owning cost the same, or None if renting always wins.

    Both costs are straight lines in the utilization u: on demand ``a * u``, owned ``F + b * u``.
    They cross at ``u* = F / (a - b)``; below u* renting is cheaper. If the lines do not cross
    inside 0..1, renting on demand is cheaper even at full use and the function returns None.
    """
    vms = check_int("vms", vms, 1, 100_000)
    _, hardware, admin, kwh_idle, kwh_per_util = _owned_parts(server, vms)
    fixed = hardware + admin + kwh_idle * server.electricity_per_kwh
    energy_slope = kwh_per_util * server.electricity_per_kwh
    rent_slope = vms * offer.price_per_hour * HOURS_PER_MONTH
    if rent_slope <= energy_slope:
        return None
    crossing = fixed / (rent_slope - energy_slope)
    return crossing if crossing <= FULL else None


def commitment_break_even(offer: CloudOffer) -> float:
    """The utilization above which a commitment costs less than paying on demand: 1 - discount."""
    return FULL - offer.commitment_discount


@dataclass(frozen=True)
class CostCurves:
    """Monthly costs sampled over utilization, for a figure or a table."""

    utilization: tuple[float, ...]
    on_demand: tuple[float, ...]
    committed: tuple[float, ...]
    owned: tuple[float, ...]
    break_even: float | None
    commitment_break_even: float


def sweep(offer: CloudOffer, server: OwnedServer, vms: int, points: int = 101) -> CostCurves:
    """Sample the three monthly costs at ``points`` evenly spaced utilizations from 0 to 1."""
    points = check_int("points", points, 2, 10_001)
    us = tuple(i / (points - 1) for i in range(points))
    committed = committed_monthly(offer, vms)
    return CostCurves(
        utilization=us,
        on_demand=tuple(on_demand_monthly(offer, vms, u) for u in us),
        committed=tuple(committed for _ in us),
        owned=tuple(owned_monthly(server, vms, u).total for u in us),
        break_even=break_even_utilization(offer, server, vms),
        commitment_break_even=commitment_break_even(offer),
    )


def explain(offer: CloudOffer, server: OwnedServer, vms: int, utilization: float) -> list[str]:
    """The arithmetic behind one comparison, one line a step, to check by hand."""
    utilization = _check_utilization(utilization)
    hours = HOURS_PER_MONTH * utilization
    rent = on_demand_monthly(offer, vms, utilization)
    own = owned_monthly(server, vms, utilization)
    lines = [
        f"on demand : {vms} x {offer.instance_type} x US${offer.price_per_hour:.4f}/h "
        f"x {hours:.1f} h = US${rent:,.2f}",
        f"committed : {vms} x US${offer.committed_price_per_hour:.4f}/h x "
        f"{HOURS_PER_MONTH:.0f} h = US${committed_monthly(offer, vms):,.2f}",
        f"owned     : {own.servers} server(s) for {vms} VMs ({server.vm_slots} per server)",
        f"  hardware  {own.servers} x US${server.purchase_price:,.0f} / "
        f"({server.lifetime_years:g} y x 12) = US${own.hardware:,.2f}",
        f"  energy    {own.kwh:,.1f} kWh (PUE {server.pue:g}) x US${server.electricity_per_kwh:.3f}"
        f" = US${own.energy:,.2f}",
        f"  admin     {own.servers} x {server.admin_hours_per_month:g} h x "
        f"US${server.admin_hourly_rate:.2f} = US${own.admin:,.2f}",
        f"  total     US${own.total:,.2f}",
    ]
    u_star = break_even_utilization(offer, server, vms)
    lines.append("break-even: renting is cheaper at every utilization" if u_star is None
                 else f"break-even: {u_star:.1%} utilization ({u_star * HOURS_PER_MONTH:.0f} h a month)")
    return lines
