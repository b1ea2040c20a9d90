"""Limits of the cloud in numbers: what leaving costs and how a bill surprises.

Chapter 14 uses two small, deterministic models (its reading list is :mod:`virtbook.readinglist`).

*Egress and exit.* Cloud providers charge nothing for data coming in and charge by the gigabyte
for data going out to the internet, in monthly volume tiers (:class:`EgressPricing`). Leaving a
provider means copying everything you stored there out through a network link, so the exit has a
price (the egress bill) and a duration (the copy time). :func:`exit_cost` computes both, month by
month, with or without the free-exit programmes the large providers announced in 2024.

*Cost surprises.* A month's bill is planned, then reality adds to it: traffic grows, and someone
forgets a fleet of test machines. :func:`simulate_bill` replays one such month hour by hour and
asks when the forgotten fleet is found under three habits: nobody looks until the invoice comes,
an alert on actual month-to-date spend, or an alert on forecast spend. Budgets in the real tools
only notify (or run an action you configured); they see costs with a delay.

    >>> aws = EgressPricing()
    >>> aws.month_cost(100.0)                   # the first 100 GB a month are free
    0.0
    >>> round(aws.month_cost(100.0 + 1024.0), 2)  # then US$0.09 per GB
    92.16
    >>> run = exit_cost(ExitPlan(stored_tb=50.0, link_gbps=1.0))
    >>> round(run.days, 1), round(run.list_price)
    (5.9, 4395)
    >>> exit_cost(ExitPlan(stored_tb=50.0, link_gbps=1.0, waiver=True)).charged
    0.0

Sources for the mechanisms and defaults
---------------------------------------
* Egress pricing. Data transfer in from the internet is free; data transfer out to the internet
  (DTO) is charged, and "rate tiers take into account your aggregate DTO usage" across EC2, S3,
  RDS and other services (AWS, "AWS Global Network FAQs", https://aws.amazon.com/about-aws/
  global-infrastructure/global-network/faqs/). The first 100 GB a month are free, aggregated
  across services and regions (AWS News Blog, S. Stormacq, "Free data transfer out to internet
  when moving out of AWS", 5 March 2024; Amazon S3 pricing page). The default tiers, US East:
  US$0.09 per GB for the first 10 TB a month beyond the free 100 GB, US$0.085 for the next 40 TB,
  US$0.07 for the next 100 TB and US$0.05 above 150 TB. *Assumption to check*: these values were
  not read from AWS's price page itself, which the book's sources could not render; they are the
  line items of a published AWS invoice (public issue arriven/db1000n#153, March 2022, which also
  shows that AWS counts 1 TB as 1,024 GB) and agree with many public transcriptions of the page.
  Check https://aws.amazon.com/ec2/pricing/on-demand/ before relying on them.
* Free exit. Google Cloud (11 January 2024), AWS (5 March 2024) and Microsoft Azure (13 March 2024)
  announced that customers who move their data to another provider or on premises can have the
  egress charges credited, on request and under conditions (Google: "Applying for free data
  transfer when exiting Google Cloud", https://cloud.google.com/exit-cloud; AWS: the blog post
  above; Microsoft Learn, "Cancel and delete your Azure subscription", section "What data transfer
  fees are applied when moving all data off Azure?"). Microsoft gives 60 days from the announced
  start date, the default ``waiver_days``; AWS's programme, as reported at its launch, also asks
  for the move to be completed within 60 days; Google's current terms give a 30-day initiation
  period, after a 14-day review, and a migration period of at least 30 days. Data moved after the
  window is charged at list price here: an *assumption* (the providers handle it case by case).
* The EU Data Act, Regulation (EU) 2023/2854, Art. 29: from 11 January 2024 to 12 January 2027
  switching charges (which by Art. 2 include data egress charges) may not exceed the provider's
  costs; from 12 January 2027 none may be charged for switching.
* Link efficiency. A bulk copy does not run at the line rate all the time; ``efficiency`` =
  :data:`LINK_EFFICIENCY` = 0.8 is an *assumption*. One GB is taken as 8 gigabits.
* Budgets. AWS Budgets updates budget status several times a day and can notify on actual or
  forecast cost, or run a configured action (apply an IAM policy or SCP, or stop EC2 and RDS
  instances) (AWS Budgets API Reference; AWS Cost Management User Guide, "Configuring a budget
  action"). Google's alerts-only budgets notify and calculating actual spend "typically takes up
  to 24 hours"; spend-cap budgets exist only for a few services (Google Cloud, "Get started with
  the Cloud Billing Budget API"). Hence ``data_lag_h`` = 24 and ``refresh_h`` = 8 (three times a
  day). The response time of the people who read the alert (8 h) and the forecast rule (a
  straight-line extrapolation of month-to-date spend, used only after 72 h of data) are
  *assumptions*; AWS does not publish its forecasting method.
* Instance price: US$0.096 an hour, the same *assumption* as chapter 10's model
  (:class:`virtbook.cloudcost.CloudOffer`).
* Lock-in as an obstacle: Armbrust et al., "A View of Cloud Computing", Communications of the ACM
  53(4), 2010 (obstacles 2, data lock-in, and 4, data transfer bottlenecks).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from virtbook._validate import check_bool, check_choice, check_int, check_name, check_real
from virtbook.cloudcost import CloudOffer

#: AWS invoices count a terabyte of data transfer as 1,024 GB ("first 10 TB ... 10,240 GB").
GB_PER_TB = 1024.0
#: Gigabits in a gigabyte, for transfer times over a link rated in Gbit/s.
GBIT_PER_GB = 8.0
#: Days in a billing month: 8,760 hours a year / 12 / 24.
DAYS_PER_MONTH = 8760.0 / 12.0 / 24.0
#: Share of a link's line rate a long bulk copy achieves (an assumption; see the module docstring).
LINK_EFFICIENCY = 0.8
#: The three ways of noticing a forgotten resource that :func:`simulate_bill` compares.
POLICIES = ("invoice", "actual", "forecast")


# --------------------------------------------------------------------------------------------
# Egress pricing and the cost of leaving
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EgressPricing:
    """Internet egress prices of one provider and region, in monthly volume tiers.

    ``free_gb_per_month`` is not charged. The rest fills ``tier_gb`` in order (the sizes of the
    tiers, in GB) at ``price_per_gb`` (US$ per GB, one price a tier plus one for everything above
    the last tier). The tiers restart every month.
    """

    name: str = "AWS internet egress, US East (assumption: see the module docstring)"
    free_gb_per_month: float = 100.0
    tier_gb: tuple[float, ...] = (10 * GB_PER_TB, 40 * GB_PER_TB, 100 * GB_PER_TB)
    price_per_gb: tuple[float, ...] = (0.09, 0.085, 0.07, 0.05)

    def __post_init__(self) -> None:
        check_name("name", self.name, max_len=200)
        check_real("free_gb_per_month", self.free_gb_per_month, 0.0, 1e9)
        if len(self.price_per_gb) != len(self.tier_gb) + 1:
            raise ValueError(
                f"price_per_gb must have one price more than tier_gb has tiers "
                f"({len(self.tier_gb) + 1}), got {len(self.price_per_gb)}")
        for i, size in enumerate(self.tier_gb):
            check_real(f"tier_gb[{i}]", size, 0.0, 1e12, lo_open=True)
        for i, price in enumerate(self.price_per_gb):
            check_real(f"price_per_gb[{i}]", price, 0.0, 10.0)

    def month_cost(self, gb: float) -> float:
        """US$ for ``gb`` GB sent to the internet in one month."""
        remaining = check_real("gb", gb, 0.0, 1e12) - self.free_gb_per_month
        cost = 0.0
        for size, price in zip(self.tier_gb + (math.inf,), self.price_per_gb):
            if remaining <= 0.0:
                break
            step = min(remaining, size)
            cost += step * price
            remaining -= step
        return cost

    def lines(self) -> list[str]:
        """The price list, one line a tier, for a trace."""
        out = [f"first {self.free_gb_per_month:,.0f} GB a month: free"]
        start = 0.0
        for size, price in zip(self.tier_gb, self.price_per_gb):
            out.append(f"next {size / GB_PER_TB:,.0f} TB (from {start / GB_PER_TB:,.0f} TB): "
                       f"US${price:.3f}/GB")
            start += size
        out.append(f"above {start / GB_PER_TB:,.0f} TB: US${self.price_per_gb[-1]:.3f}/GB")
        return out


def transfer_days(gb: float, link_gbps: float, efficiency: float = LINK_EFFICIENCY) -> float:
    """Days to copy ``gb`` GB over a link of ``link_gbps`` Gbit/s used at ``efficiency``.

    >>> round(transfer_days(1024 * 100, 1.0, 1.0), 2)    # 100 TB over 1 Gbit/s at full rate
    9.48
    """
    gb = check_real("gb", gb, 0.0, 1e12)
    link_gbps = check_real("link_gbps", link_gbps, 0.0, 10_000.0, lo_open=True)
    efficiency = check_real("efficiency", efficiency, 0.0, 1.0, lo_open=True)
    return gb * GBIT_PER_GB / (link_gbps * efficiency) / 86400.0


def transfer_gb(days: float, link_gbps: float, efficiency: float = LINK_EFFICIENCY) -> float:
    """GB a link of ``link_gbps`` Gbit/s used at ``efficiency`` carries in ``days`` days.

    The inverse of :func:`transfer_days`.

    >>> round(transfer_gb(transfer_days(5000.0, 10.0), 10.0), 6)
    5000.0
    """
    days = check_real("days", days, 0.0, 1e6)
    link_gbps = check_real("link_gbps", link_gbps, 0.0, 10_000.0, lo_open=True)
    efficiency = check_real("efficiency", efficiency, 0.0, 1.0, lo_open=True)
    return days * 86400.0 * link_gbps * efficiency / GBIT_PER_GB


@dataclass(frozen=True)
class ExitPlan:
    """Moving ``stored_tb`` TB out of a provider over a link of ``link_gbps`` Gbit/s.

    With ``waiver`` the provider credits the egress of data moved within ``waiver_days`` of the
    start, as the 2024 free-exit programmes do on approval; later data is charged (an
    assumption). The copy starts at the beginning of a billing month.
    """

    stored_tb: float
    link_gbps: float = 1.0
    efficiency: float = LINK_EFFICIENCY
    waiver: bool = False
    waiver_days: float = 60.0

    def __post_init__(self) -> None:
        check_real("stored_tb", self.stored_tb, 0.0, 1e6)
        check_real("link_gbps", self.link_gbps, 0.0, 10_000.0, lo_open=True)
        check_real("efficiency", self.efficiency, 0.0, 1.0, lo_open=True)
        check_bool("waiver", self.waiver)
        check_real("waiver_days", self.waiver_days, 0.0, 3650.0)

    @property
    def window_gb(self) -> float:
        """GB this plan's link can move within the waiver window (whether or not it has one)."""
        return transfer_gb(self.waiver_days, self.link_gbps, self.efficiency)


@dataclass(frozen=True)
class ExitCost:
    """The result of :func:`exit_cost`: how long the copy takes and what it costs, by month."""

    plan: ExitPlan
    pricing: EgressPricing
    days: float
    month_gb: tuple[float, ...]
    month_charged_gb: tuple[float, ...]
    list_price: float
    charged: float

    def explain(self) -> list[str]:
        """The arithmetic, one line a step, to check by hand."""
        p = self.plan
        gb = p.stored_tb * GB_PER_TB
        lines = [f"data      : {p.stored_tb:,.1f} TB = {gb:,.0f} GB",
                 f"copy time : {gb:,.0f} GB x {GBIT_PER_GB:g} Gbit/GB / ({p.link_gbps:g} Gbit/s "
                 f"x {p.efficiency:g}) = {self.days:,.1f} days"]
        for m, (moved, charged) in enumerate(zip(self.month_gb, self.month_charged_gb), 1):
            lines.append(f"month {m:>3}: {moved:>12,.0f} GB moved, {charged:>12,.0f} GB charged, "
                         f"US${self.pricing.month_cost(charged):,.2f}")
        lines.append(f"list price: US${self.list_price:,.2f}")
        if p.waiver:
            lines.append(f"waiver    : first {p.waiver_days:g} days credited; "
                         f"charged US${self.charged:,.2f}")
        return lines


def exit_cost(plan: ExitPlan, pricing: EgressPricing | None = None) -> ExitCost:
    """Copy time and egress bill for leaving a provider, month by month.

    The copy runs at a constant rate from the start of a billing month; each month's volume is
    priced with the month's tiers (they restart every month, and so does the free allowance).
    """
    pricing = EgressPricing() if pricing is None else pricing
    gb = plan.stored_tb * GB_PER_TB
    days = transfer_days(gb, plan.link_gbps, plan.efficiency)
    rate = gb / days if days > 0 else 0.0
    month_gb: list[float] = []
    month_charged: list[float] = []
    start = 0.0
    while start < days:
        end = min(start + DAYS_PER_MONTH, days)
        moved = rate * (end - start)
        waived = rate * max(0.0, min(end, plan.waiver_days) - start) if plan.waiver else 0.0
        month_gb.append(moved)
        month_charged.append(max(0.0, moved - waived))
        start = end
    return ExitCost(plan=plan, pricing=pricing, days=days, month_gb=tuple(month_gb),
                    month_charged_gb=tuple(month_charged),
                    list_price=sum(pricing.month_cost(v) for v in month_gb),
                    charged=sum(pricing.month_cost(v) for v in month_charged))


# --------------------------------------------------------------------------------------------
# A month with a surprise in it
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BillScenario:
    """One month of a small team's cloud bill, and the habits that watch it.

    The team runs ``vms`` instances all month at ``price_per_hour`` and serves traffic that
    starts at ``egress_gb_day1`` GB a day and grows by ``egress_growth_per_day`` a day, with
    day-to-day noise (a log-normal factor of spread ``egress_noise``, mean 1). At
    ``forgotten_start_h`` someone starts ``forgotten_vms`` more instances for a test and forgets
    them. The budget is ``budget`` US$ a month; an alert fires when actual (or forecast) spend
    reaches ``threshold`` times the budget, as the budget tool sees it: costs arrive
    ``data_lag_h`` hours late and are checked every ``refresh_h`` hours. People react within
    ``response_h`` hours. Without any alert, the fleet is found when the invoice arrives,
    ``invoice_delay_h`` hours after the month ends.
    """

    vms: int = 8
    price_per_hour: float = CloudOffer().price_per_hour
    egress_gb_day1: float = 150.0
    egress_growth_per_day: float = 0.01
    egress_noise: float = 0.2
    forgotten_vms: int = 20
    forgotten_start_h: float = 5 * 24 + 18
    budget: float = 1300.0
    threshold: float = 1.0
    data_lag_h: float = 24.0
    refresh_h: float = 8.0
    response_h: float = 8.0
    forecast_min_h: float = 72.0
    invoice_delay_h: float = 72.0
    days: int = 30
    pricing: EgressPricing = field(default_factory=EgressPricing)

    def __post_init__(self) -> None:
        check_int("vms", self.vms, 0, 100_000)
        check_real("price_per_hour", self.price_per_hour, 0.0, 1000.0)
        check_real("egress_gb_day1", self.egress_gb_day1, 0.0, 1e9)
        check_real("egress_growth_per_day", self.egress_growth_per_day, -0.5, 1.0)
        check_real("egress_noise", self.egress_noise, 0.0, 2.0)
        check_int("forgotten_vms", self.forgotten_vms, 0, 100_000)
        check_int("days", self.days, 1, 31)
        check_real("forgotten_start_h", self.forgotten_start_h, 0.0, self.days * 24.0)
        check_real("budget", self.budget, 0.0, 1e12, lo_open=True)
        check_real("threshold", self.threshold, 0.0, 10.0, lo_open=True)
        check_real("data_lag_h", self.data_lag_h, 0.0, 24.0 * 31)
        check_real("refresh_h", self.refresh_h, 1.0, 24.0 * 31)
        check_real("response_h", self.response_h, 0.0, 24.0 * 31)
        check_real("forecast_min_h", self.forecast_min_h, 1.0, self.days * 24.0)
        check_real("invoice_delay_h", self.invoice_delay_h, 0.0, 24.0 * 31)
        if not isinstance(self.pricing, EgressPricing):
            raise ValueError(f"pricing must be an EgressPricing, got {self.pricing!r}")

    @property
    def month_h(self) -> int:
        """Hours in the simulated billing month."""
        return self.days * 24


@dataclass(frozen=True)
class PolicyOutcome:
    """When one habit noticed the forgotten fleet, and what the fleet cost until it was stopped."""

    policy: str
    alert_h: float | None
    stop_h: float
    fleet_cost: float
    month_total: float


@dataclass(frozen=True)
class BillRun:
    """An hour-by-hour replay of :class:`BillScenario` (hours 0 .. horizon)."""

    scenario: BillScenario
    seed: int
    daily_egress_gb: np.ndarray
    hourly_planned: np.ndarray
    outcomes: dict[str, PolicyOutcome]

    @property
    def planned_month(self) -> float:
        """The month's bill without the forgotten fleet."""
        return float(self.hourly_planned[: self.scenario.month_h].sum())

    def cumulative(self, policy: str | None = None) -> np.ndarray:
        """Spend since hour 0 at the end of each hour; ``None`` for the plan without the fleet."""
        hourly = self.hourly_planned.copy()
        if policy is not None:
            hourly += self._fleet_hourly(self.outcomes[_check_policy(policy)].stop_h)
        return np.cumsum(hourly)

    def _fleet_hourly(self, stop_h: float) -> np.ndarray:
        s = self.scenario
        t = np.arange(self.hourly_planned.size, dtype=float)
        running = np.clip(np.minimum(t + 1.0, stop_h) - np.maximum(t, s.forgotten_start_h), 0, 1)
        return running * s.forgotten_vms * s.price_per_hour

    def trace(self) -> list[str]:
        """One line per habit: when it noticed and what the forgotten fleet cost."""
        s = self.scenario
        lines = [f"plan: {s.vms} VMs + egress = US${self.planned_month:,.2f} this month; "
                 f"budget US${s.budget:,.2f}; {s.forgotten_vms} VMs forgotten from day "
                 f"{s.forgotten_start_h / 24:.2f}"]
        for name in POLICIES:
            o = self.outcomes[name]
            seen = "at the invoice" if o.alert_h is None else f"alert on day {o.alert_h / 24:.2f}"
            lines.append(f"{name:<8}: {seen}, stopped on day {o.stop_h / 24:.2f}, fleet cost "
                         f"US${o.fleet_cost:,.2f}, month's bill US${o.month_total:,.2f}")
        return lines


def _check_policy(policy: object) -> str:
    return check_choice("policy", policy, POLICIES)


def _egress_hourly(daily_gb: np.ndarray, pricing: EgressPricing, month_h: int,
                   hours: int) -> np.ndarray:
    """US$ per hour for the day's traffic spread evenly, with tiers restarting each month."""
    gb_hourly = np.repeat(daily_gb / 24.0, 24)[:hours]
    cost = np.empty(hours)
    cum_before = 0.0
    for h in range(hours):
        if h % month_h == 0:
            cum_before = 0.0
        cum_after = cum_before + gb_hourly[h]
        cost[h] = pricing.month_cost(cum_after) - pricing.month_cost(cum_before)
        cum_before = cum_after
    return cost


def simulate_bill(scenario: BillScenario | None = None, seed: int = 14) -> BillRun:
    """Replay one month hour by hour and find when each habit stops the forgotten fleet.

    The traffic noise comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
    month. The replay runs past the month's end for as long as the invoice habit needs.
    """
    s = BillScenario() if scenario is None else scenario
    seed = check_int("seed", seed, 0, 2**32 - 1)
    rng = np.random.default_rng(seed)
    horizon = s.month_h + int(math.ceil(s.invoice_delay_h + s.response_h)) + 1
    n_days = int(math.ceil(horizon / 24))
    trend = s.egress_gb_day1 * (1.0 + s.egress_growth_per_day) ** np.arange(n_days)
    noise = rng.lognormal(mean=-0.5 * s.egress_noise**2, sigma=s.egress_noise, size=n_days)
    daily = trend * noise
    hourly_planned = s.vms * s.price_per_hour + _egress_hourly(daily, s.pricing, s.month_h,
                                                               horizon)
    fleet_rate = s.forgotten_vms * s.price_per_hour

    def fleet_cost_until(stop_h: float) -> float:
        return max(0.0, stop_h - s.forgotten_start_h) * fleet_rate if s.forgotten_vms else 0.0

    # What the budget tool knows: month-to-date spend (plan plus fleet, never stopped yet).
    t = np.arange(s.month_h + 1, dtype=float)
    fleet_cum = np.clip(t - s.forgotten_start_h, 0.0, None) * fleet_rate
    known = np.concatenate(([0.0], np.cumsum(hourly_planned[: s.month_h]))) + fleet_cum
    limit = s.threshold * s.budget
    alerts: dict[str, float | None] = {"invoice": None, "actual": None, "forecast": None}
    check = s.refresh_h
    while check <= s.month_h:
        seen_h = check - s.data_lag_h
        if seen_h > 0:
            spent = float(np.interp(seen_h, t, known))
            if alerts["actual"] is None and spent >= limit:
                alerts["actual"] = check
            if (alerts["forecast"] is None and seen_h >= s.forecast_min_h
                    and spent / seen_h * s.month_h >= limit):
                alerts["forecast"] = check
        check += s.refresh_h

    invoice_stop = s.month_h + s.invoice_delay_h + s.response_h
    outcomes = {}
    for name in POLICIES:
        alert = alerts[name]
        stop = invoice_stop if alert is None else alert + s.response_h
        stop = max(stop, s.forgotten_start_h)
        fleet = fleet_cost_until(stop)
        in_month = fleet_cost_until(min(stop, float(s.month_h)))
        outcomes[name] = PolicyOutcome(policy=name, alert_h=alert, stop_h=stop, fleet_cost=fleet,
                                       month_total=float(hourly_planned[: s.month_h].sum())
                                       + in_month)
    return BillRun(scenario=s, seed=seed, daily_egress_gb=daily, hourly_planned=hourly_planned,
                   outcomes=outcomes)
