"""A function platform in miniature: cold starts, keep-alive, concurrency and the monthly bill.

Chapter 12 uses this module to make the serverless trade-off measurable. Requests arrive at one
function. Each request needs an *execution environment* (an instance) that serves one request at a
time. If an idle instance is still being kept warm, the request starts at once (a warm start);
otherwise the platform creates a new instance first (a cold start) and the request waits for the
initialisation. An instance that stays idle for longer than the keep-alive window is reclaimed.
The same run gives the cold-start fraction, the latency percentiles, the number of instances over
time and, from the billed duration, the monthly cost, which the module sets against an always-on
virtual machine.

The model is small, seeded and deterministic: the same seed gives the same run, and
:func:`trace` prints what happened to each request so a student can check it by hand.

    >>> fn = FunctionConfig(memory_mb=512, duration_ms=100.0, duration_sigma=0.0)
    >>> run = simulate(poisson_arrivals(0.001, 600_000.0, seed=1), fn, Platform(), seed=1)
    >>> 0.0 <= run.cold_start_fraction <= 1.0
    True
    >>> round(LambdaPricing().cost_per_request(memory_mb=128, billed_ms=1000) * 1e6, 3)
    2.283

Sources for the mechanisms and defaults
---------------------------------------
* One request per instance, and the default quota. AWS Lambda Developer Guide, "Understanding
  Lambda function scaling": "For each concurrent request, Lambda provisions a separate instance of
  your execution environment", and the account's default concurrency limit is 1,000 concurrent
  executions per Region; "Lambda scaling behavior": each function can add at most 1,000 execution
  environments every 10 seconds. Requests beyond the limit fail with a throttling error (HTTP 429).
  https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (checked 2026-11).
* Memory and time limits. AWS Lambda Developer Guide, "Lambda quotas" and "Configure Lambda
  function memory": memory 128 MB to 10,240 MB in 1-MB steps; a function can run for up to
  15 minutes (a 900-second timeout). https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
* Cold-start duration. AWS Lambda Developer Guide, "Understanding the Lambda execution environment
  lifecycle": "Cold starts typically occur in under 1% of invocations. The duration of a cold
  start varies from under 100 ms to over 1 second." The default ``init_ms_min``/``init_ms_max``
  (100 ms to 1,000 ms, drawn log-uniformly) spans that range; it is an assumption within it.
* Keep-alive. Shahrad et al., "Serverless in the Wild: Characterizing and Optimizing the
  Serverless Workload at a Large Cloud Provider", USENIX ATC 2020, Section 4: providers used a
  fixed keep-alive policy, about 10 minutes for AWS Lambda and 20 minutes for Azure Functions.
  AWS itself says only that it keeps an environment "for a non-deterministic period of time", so
  ``keep_alive_s`` is a parameter with 600 s as its default.
* Billing. AWS, "AWS Lambda pricing" and the whitepaper "How AWS Pricing Works" (Lambda):
  $0.20 per million requests and $0.0000166667 per GB-second (x86, US East (N. Virginia), first
  pricing tier), free tier of one million requests and 400,000 GB-seconds a month; duration is
  rounded up to the nearest 1 ms (since the December 2020 billing cycle: AWS News Blog, "New for
  AWS Lambda - 1ms Billing Granularity Adds Cost Savings", 1 December 2020). Since 1 August 2025
  the initialisation (INIT) phase of on-demand invocations is billed like the handler (AWS Compute
  Blog, "AWS Lambda standardizes billing for INIT Phase", 2025). Prices checked 2026-11.
* CPU per request. Lambda allocates CPU in proportion to memory, "at 1,769 MB, a function has the
  equivalent of one vCPU" (AWS Lambda Developer Guide, "Configure Lambda function memory"). A
  single-threaded handler that runs for ``d`` ms at ``m`` MB has therefore had at most
  ``d * min(1, m / 1769)`` ms of one vCPU (:attr:`FunctionConfig.vcpu_ms`); the VM is charged that
  much CPU per request, so both sides do the same work. A handler that waits on the network used
  less, which makes the VM's bill an upper estimate.
* The always-on VM. Its hourly price is an *assumption*: $0.0104 an hour is the on-demand price
  commonly quoted for a t3.micro (2 vCPUs, 1 GiB, Linux) in us-east-1; AWS's price page could not
  be read from the book's sources (checked 2026-12). A t3.micro is a *burstable* instance (AWS EC2
  User Guide, "Key concepts and definitions for burstable performance instances", credit table): it
  earns 12 CPU credits an hour, a baseline of 10 % of each of its 2 vCPUs, and T3 instances launch
  in ``unlimited`` mode by default; they receive no launch credits, which only T2 Standard
  instances get (EC2 User Guide, "Standard mode concepts", Launch credits), so the model has none
  (checked 2026-12). In that mode "if the average CPU usage over a 24-hour period
  exceeds the baseline, the instance is billed for the additional usage at a flat additional rate
  per vCPU-hour" (EC2 User Guide, "Unlimited mode concepts"), which the same page's worked example
  gives as $0.05 per vCPU-hour for T3 (us-east-1, Linux). In ``standard`` mode the instance is held
  to its baseline once its credits are spent. :class:`VMOffer` models both, in the steady state of
  a constant request rate (accrued credits, at most 288 for a t3.micro, last a day at most and are
  ignored over a month). The example's own prices, t3.large $0.0835 and m5.large $0.096 an hour,
  reproduce its break-even CPU usage of 42.5 % (a test checks it).
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from virtbook._validate import (check_array, check_bool, check_choice, check_int, check_name,
                                check_real)

__all__ = [
    "SECONDS_PER_MONTH",
    "FunctionConfig",
    "Platform",
    "LambdaPricing",
    "VMOffer",
    "VMBill",
    "M5_LARGE",
    "MB_PER_VCPU",
    "RequestRecord",
    "SimulationResult",
    "poisson_arrivals",
    "diurnal_arrivals",
    "simulate",
    "trace",
    "lambda_monthly_cost",
    "vm_monthly_cost",
    "break_even_rate",
    "SweepRow",
    "sweep",
]

#: A billing month of 30 days. AWS's own calculator uses 730 hours; 720 keeps the arithmetic
#: round and the difference (1.4%) is far below the uncertainty of any traffic forecast.
SECONDS_PER_MONTH = 30 * 24 * 3600

MAX_MEMORY_MB = 10_240
MIN_MEMORY_MB = 128
MAX_TIMEOUT_S = 900
#: Lambda memory that buys the equivalent of one vCPU; CPU is allocated in proportion to memory.
MB_PER_VCPU = 1769
#: Credit modes of a burstable EC2 instance (T2, T3, T3a, T4g).
CREDIT_MODES = ("unlimited", "standard")


@dataclass(frozen=True)
class FunctionConfig:
    """What one function is: its memory size and how long its handler runs.

    ``memory_mb`` and ``timeout_s`` carry Lambda's names and limits (128..10,240 MB, at most
    900 s). The handler's run time is drawn per request from a log-normal distribution with
    median ``duration_ms`` and shape ``duration_sigma`` (0 gives a fixed run time). Memory also
    sets the CPU share on Lambda, so a real function's duration depends on it; here the two are
    independent parameters.

    >>> FunctionConfig(memory_mb=1024).memory_gb
    1.0
    >>> FunctionConfig(memory_mb=64)
    Traceback (most recent call last):
    ...
    ValueError: memory_mb must be an integer in 128..10240, got 64
    """

    memory_mb: int = 512
    duration_ms: float = 100.0
    duration_sigma: float = 0.25
    timeout_s: float = 3.0

    def __post_init__(self) -> None:
        check_int("memory_mb", self.memory_mb, MIN_MEMORY_MB, MAX_MEMORY_MB)
        check_real("duration_ms", self.duration_ms, 0.0, MAX_TIMEOUT_S * 1000.0, lo_open=True)
        check_real("duration_sigma", self.duration_sigma, 0.0, 3.0)
        check_real("timeout_s", self.timeout_s, 1.0, float(MAX_TIMEOUT_S))

    @property
    def memory_gb(self) -> float:
        """Memory in GB as Lambda bills it (1,024 MB = 1 GB)."""
        return self.memory_mb / 1024.0

    @property
    def mean_duration_ms(self) -> float:
        """Mean handler time: the log-normal's mean, ``duration_ms * exp(sigma**2 / 2)``."""
        return self.duration_ms * math.exp(self.duration_sigma ** 2 / 2.0)

    @property
    def vcpu_share(self) -> float:
        """The vCPUs a single-threaded handler can use: ``memory_mb / 1769``, at most one."""
        return min(1.0, self.memory_mb / MB_PER_VCPU)

    @property
    def vcpu_ms(self) -> float:
        """The most vCPU time one request can have used: mean duration times :attr:`vcpu_share`.

        >>> round(FunctionConfig(memory_mb=1769, duration_ms=100.0, duration_sigma=0.0).vcpu_ms)
        100
        >>> round(FunctionConfig(memory_mb=512, duration_ms=100.0, duration_sigma=0.0).vcpu_ms, 1)
        28.9
        """
        return self.mean_duration_ms * self.vcpu_share


@dataclass(frozen=True)
class Platform:
    """How the provider runs the function: keep-alive window, cold-start range, concurrency.

    ``keep_alive_s`` is how long an idle instance stays warm (Shahrad et al. 2020 report a fixed
    10 minutes for Lambda). ``init_ms_min``..``init_ms_max`` is the range a cold start's
    initialisation is drawn from, log-uniformly (AWS: "from under 100 ms to over 1 second").
    ``concurrency_limit`` is the account quota (Lambda's default: 1,000); a request that would
    need instance number ``concurrency_limit + 1`` is throttled. ``bill_init`` says whether the
    initialisation time is billed (true for Lambda since August 2025).
    """

    keep_alive_s: float = 600.0
    init_ms_min: float = 100.0
    init_ms_max: float = 1000.0
    concurrency_limit: int = 1000
    bill_init: bool = True

    def __post_init__(self) -> None:
        check_real("keep_alive_s", self.keep_alive_s, 0.0, 7 * 24 * 3600.0)
        check_real("init_ms_min", self.init_ms_min, 0.0, 60_000.0, lo_open=True)
        check_real("init_ms_max", self.init_ms_max, self.init_ms_min, 60_000.0)
        check_int("concurrency_limit", self.concurrency_limit, 1, 1_000_000)
        check_bool("bill_init", self.bill_init)


@dataclass(frozen=True)
class LambdaPricing:
    """Lambda's prices in one Region, with where and when they were seen.

    Defaults: x86, US East (N. Virginia), first tier; AWS Lambda pricing page and the "How AWS
    Pricing Works" whitepaper, checked 2026-11. ``billing_granularity_ms`` is 1 since December
    2020 (it was 100 before).

    >>> p = LambdaPricing()
    >>> p.billed_ms(27.4), LambdaPricing(billing_granularity_ms=100).billed_ms(27.4)
    (28, 100)
    """

    region: str = "us-east-1"
    usd_per_million_requests: float = 0.20
    usd_per_gb_second: float = 0.0000166667
    billing_granularity_ms: int = 1
    free_requests: int = 1_000_000
    free_gb_seconds: float = 400_000.0
    seen: str = "2026-11"

    def __post_init__(self) -> None:
        check_name("region", self.region)
        check_real("usd_per_million_requests", self.usd_per_million_requests, 0.0, 100.0)
        check_real("usd_per_gb_second", self.usd_per_gb_second, 0.0, 1.0)
        check_int("billing_granularity_ms", self.billing_granularity_ms, 1, 60_000)
        check_int("free_requests", self.free_requests, 0)
        check_real("free_gb_seconds", self.free_gb_seconds, 0.0)

    def billed_ms(self, duration_ms: float) -> int:
        """Round a duration up to the billing granularity (at least one unit)."""
        check_real("duration_ms", duration_ms, 0.0)
        g = self.billing_granularity_ms
        return max(g, int(math.ceil(duration_ms / g - 1e-9)) * g)

    def cost_per_request(self, memory_mb: int, billed_ms: float) -> float:
        """Dollars for one request of ``billed_ms`` at ``memory_mb``, ignoring the free tier."""
        gb_s = (memory_mb / 1024.0) * billed_ms / 1000.0
        return self.usd_per_million_requests / 1e6 + gb_s * self.usd_per_gb_second


@dataclass(frozen=True)
class VMBill:
    """A month of always-on VMs at a steady request rate, item by item (see :meth:`VMOffer.bill`)."""

    vms: int
    busy_vcpus_per_vm: float       # mean vCPUs in use on each VM
    baseline_vcpus_per_vm: float   # vCPUs' worth of baseline the instance price covers
    instance_usd: float            # the hourly price for every hour of the month
    surplus_usd: float             # surplus CPU credits above the baseline (unlimited mode)

    @property
    def total(self) -> float:
        return self.instance_usd + self.surplus_usd


@dataclass(frozen=True)
class VMOffer:
    """An always-on virtual machine: its price, its vCPUs and, if burstable, its CPU credits.

    ``baseline`` is the share of each vCPU the hourly price covers (0.10 for a t3.micro; 1.0 for a
    fixed-performance instance such as an m5.large, which has no credits). In ``unlimited`` mode
    the instance may run above the baseline, and average use above it costs
    ``surplus_usd_per_vcpu_hour`` per vCPU-hour; in ``standard`` mode it is held to the baseline.
    The VMs are sized to run at most at ``target_utilization`` of their vCPUs so that queues stay
    short. Prices and credits: see the module docstring; the price is an assumption.

    >>> t3 = VMOffer()
    >>> t3.credits_per_hour, round(t3.capacity_rps(100.0), 1), round(t3.baseline_rps(100.0), 1)
    (12.0, 10.0, 2.0)
    >>> round(t3.hourly_cost(busy_vcpus=1.0), 4)   # 0.8 vCPU above the 0.2 baseline at $0.05
    0.0504
    """

    name: str = "t3.micro"
    usd_per_hour: float = 0.0104
    vcpus: int = 2
    baseline: float = 0.10
    surplus_usd_per_vcpu_hour: float = 0.05
    credit_mode: str = "unlimited"
    target_utilization: float = 0.5

    def __post_init__(self) -> None:
        check_name("name", self.name)
        check_real("usd_per_hour", self.usd_per_hour, 0.0, 1000.0, lo_open=True)
        check_int("vcpus", self.vcpus, 1, 512)
        check_real("baseline", self.baseline, 0.0, 1.0, lo_open=True)
        check_real("surplus_usd_per_vcpu_hour", self.surplus_usd_per_vcpu_hour, 0.0, 100.0)
        check_choice("credit_mode", self.credit_mode, CREDIT_MODES)
        check_real("target_utilization", self.target_utilization, 0.0, 1.0, lo_open=True)

    @property
    def burstable(self) -> bool:
        """True when the hourly price covers less than the whole of every vCPU."""
        return self.baseline < 1.0

    @property
    def credits_per_hour(self) -> float:
        """CPU credits earned per hour: baseline x vCPUs x 60 (one credit = one vCPU-minute)."""
        return self.baseline * self.vcpus * 60.0

    @property
    def baseline_vcpus(self) -> float:
        """vCPUs' worth of CPU the hourly price covers."""
        return self.baseline * self.vcpus

    @property
    def usable_vcpus(self) -> float:
        """vCPUs one VM may keep busy on average: the target, or the baseline in standard mode."""
        share = self.target_utilization
        if self.credit_mode == "standard":
            share = min(share, self.baseline)
        return self.vcpus * share

    def capacity_rps(self, vcpu_ms: float) -> float:
        """Requests per second one VM carries when each needs ``vcpu_ms`` of one vCPU."""
        check_real("vcpu_ms", vcpu_ms, 0.0, 3_600_000.0, lo_open=True)
        return self.usable_vcpus / (vcpu_ms / 1000.0)

    def baseline_rps(self, vcpu_ms: float) -> float:
        """Requests per second one VM carries without using more than its baseline."""
        check_real("vcpu_ms", vcpu_ms, 0.0, 3_600_000.0, lo_open=True)
        return self.baseline_vcpus / (vcpu_ms / 1000.0)

    def vms_needed(self, peak_rps: float, vcpu_ms: float) -> int:
        """VMs needed for ``peak_rps`` (at least one: an always-on service never scales to zero)."""
        check_real("peak_rps", peak_rps, 0.0)
        return max(1, int(math.ceil(peak_rps / self.capacity_rps(vcpu_ms) - 1e-12)))

    def hourly_cost(self, busy_vcpus: float) -> float:
        """Dollars an hour for one VM whose vCPUs are busy ``busy_vcpus`` on average (24-hour mean).

        Unlimited mode bills the average use above the baseline at the surplus rate; standard mode
        never does (the instance is throttled to its baseline instead).
        """
        check_real("busy_vcpus", busy_vcpus, 0.0, float(self.vcpus))
        surplus = max(0.0, busy_vcpus - self.baseline_vcpus)
        if self.credit_mode == "standard":
            surplus = 0.0
        return self.usd_per_hour + surplus * self.surplus_usd_per_vcpu_hour

    def bill(self, rate_rps: float, vcpu_ms: float, hours: float = SECONDS_PER_MONTH / 3600.0
             ) -> VMBill:
        """A month of enough VMs for a steady ``rate_rps``, the load spread evenly over them."""
        check_real("hours", hours, 0.0, lo_open=True)
        n = self.vms_needed(rate_rps, vcpu_ms)
        busy = rate_rps / n * vcpu_ms / 1000.0
        per_vm = self.hourly_cost(min(busy, float(self.vcpus)))
        return VMBill(vms=n, busy_vcpus_per_vm=busy, baseline_vcpus_per_vm=self.baseline_vcpus,
                      instance_usd=n * self.usd_per_hour * hours,
                      surplus_usd=n * (per_vm - self.usd_per_hour) * hours)


#: A fixed-performance instance with the same 2 vCPUs (price from AWS's own example; assumption).
M5_LARGE = VMOffer(name="m5.large", usd_per_hour=0.096, baseline=1.0,
                   surplus_usd_per_vcpu_hour=0.0)


@dataclass(frozen=True)
class RequestRecord:
    """What happened to one request."""

    index: int
    arrival_s: float
    instance: int          # -1 when throttled
    cold: bool
    throttled: bool
    init_ms: float         # 0 for warm starts
    run_ms: float
    idle_before_s: float   # how long the instance had been idle (nan for cold or throttled)

    @property
    def latency_ms(self) -> float:
        """Initialisation plus handler time (nan for a throttled request)."""
        return math.nan if self.throttled else self.init_ms + self.run_ms


@dataclass
class SimulationResult:
    """The outcome of :func:`simulate`: per-request records and the summary numbers."""

    horizon_s: float
    records: list[RequestRecord]
    instance_times_s: np.ndarray = field(repr=False)
    instance_counts: np.ndarray = field(repr=False)
    function: FunctionConfig = field(default_factory=FunctionConfig)
    platform: Platform = field(default_factory=Platform)

    @property
    def requests(self) -> int:
        return len(self.records)

    @property
    def served(self) -> int:
        return sum(1 for r in self.records if not r.throttled)

    @property
    def cold_starts(self) -> int:
        return sum(1 for r in self.records if r.cold)

    @property
    def throttled(self) -> int:
        return sum(1 for r in self.records if r.throttled)

    @property
    def cold_start_fraction(self) -> float:
        """Cold starts per served request (0 when nothing was served)."""
        return self.cold_starts / self.served if self.served else 0.0

    def latencies_ms(self) -> np.ndarray:
        """Latency of every served request, in arrival order."""
        return np.array([r.latency_ms for r in self.records if not r.throttled], dtype=float)

    def percentile_ms(self, q: float) -> float:
        """The q-th percentile of latency (``q`` in 0..100; nan when nothing was served)."""
        check_real("q", q, 0.0, 100.0)
        lat = self.latencies_ms()
        return float(np.percentile(lat, q)) if lat.size else math.nan

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p95_ms(self) -> float:
        return self.percentile_ms(95)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def peak_instances(self) -> int:
        """Most instances alive (busy or kept warm) at any moment."""
        return int(self.instance_counts.max()) if self.instance_counts.size else 0

    def billed_ms_total(self, pricing: LambdaPricing) -> int:
        """Billed milliseconds of all served requests (INIT included if the platform bills it)."""
        total = 0
        for r in self.records:
            if r.throttled:
                continue
            ms = r.run_ms + (r.init_ms if self.platform.bill_init else 0.0)
            total += pricing.billed_ms(ms)
        return total

    def gb_seconds(self, pricing: LambdaPricing) -> float:
        """GB-seconds billed for the run."""
        return self.function.memory_gb * self.billed_ms_total(pricing) / 1000.0

    def monthly_cost(self, pricing: LambdaPricing, free_tier: bool = False) -> float:
        """This run's bill scaled to a 30-day month (the run is taken as a typical stretch)."""
        scale = SECONDS_PER_MONTH / self.horizon_s
        return lambda_monthly_cost(self.served * scale, self.gb_seconds(pricing) * scale,
                                   pricing, free_tier=free_tier)


# --- arrivals --------------------------------------------------------------------------------

def poisson_arrivals(rate_per_s: float, horizon_s: float, seed: int = 0) -> np.ndarray:
    """Arrival times of a Poisson process with ``rate_per_s`` over ``0..horizon_s``, seeded.

    >>> a = poisson_arrivals(2.0, 1000.0, seed=3)
    >>> bool(np.all(np.diff(a) >= 0)), 1800 < a.size < 2200
    (True, True)
    """
    check_real("rate_per_s", rate_per_s, 0.0, 1e6)
    check_real("horizon_s", horizon_s, 0.0, 1e9, lo_open=True)
    check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    n = rng.poisson(rate_per_s * horizon_s)
    return np.sort(rng.uniform(0.0, horizon_s, size=n))


def diurnal_arrivals(mean_rate_per_s: float, horizon_s: float, amplitude: float = 0.8,
                     period_s: float = 86_400.0, peak_at_s: float = 50_400.0,
                     seed: int = 0) -> np.ndarray:
    """A day-shaped Poisson process: rate ``mean * (1 + amplitude * cos(...))``, peak at 14:00.

    Built by thinning (Lewis and Shedler, "Simulation of nonhomogeneous Poisson processes by
    thinning", Naval Research Logistics Quarterly 26(3), 1979): draw at the peak rate and keep
    each arrival with probability rate(t) / peak rate. Shahrad et al. (2020, Section 3) show
    this daily pattern in the total load on Azure Functions.
    """
    check_real("mean_rate_per_s", mean_rate_per_s, 0.0, 1e6)
    check_real("amplitude", amplitude, 0.0, 1.0)
    check_real("period_s", period_s, 0.0, 1e9, lo_open=True)
    check_real("peak_at_s", peak_at_s, 0.0, 1e9)
    peak = mean_rate_per_s * (1.0 + amplitude)
    candidates = poisson_arrivals(peak, horizon_s, seed=seed)
    rng = np.random.default_rng([seed, 1])
    rate = mean_rate_per_s * (1.0 + amplitude * np.cos(2 * np.pi * (candidates - peak_at_s)
                                                        / period_s))
    keep = rng.uniform(0.0, peak, size=candidates.size) < rate if peak > 0 else np.zeros(0, bool)
    return candidates[keep]


# --- the simulator ---------------------------------------------------------------------------

def _check_arrivals(arrivals: Sequence[float]) -> np.ndarray:
    a = check_array("arrivals", arrivals, 0.0, ndim=1)
    if a.size > 1 and np.any(np.diff(a) < 0):
        raise ValueError("arrivals must be sorted in increasing order")
    return a


def simulate(arrivals: Sequence[float], function: FunctionConfig | None = None,
             platform: Platform | None = None, seed: int = 0,
             horizon_s: float | None = None) -> SimulationResult:
    """Serve ``arrivals`` (seconds, sorted) and record every request's fate.

    The platform reuses the most recently freed warm instance (so the others can age out), as
    a stack of idle environments would; an instance idle for longer than ``keep_alive_s`` is gone
    before the next request can use it. A new instance costs a cold start drawn from the
    platform's range. Per-request run times and initialisation times are drawn up front from
    ``numpy.random.default_rng(seed)``, so two runs that differ only in a platform parameter
    see the same requests.
    """
    fn = function or FunctionConfig()
    pf = platform or Platform()
    check_int("seed", seed, 0)
    a = _check_arrivals(arrivals)
    horizon = float(horizon_s) if horizon_s is not None else max(float(a[-1]) if a.size else 0.0,
                                                                   1.0)
    check_real("horizon_s", horizon, 0.0, lo_open=True)
    if a.size and horizon < a[-1]:
        raise ValueError(f"horizon_s must be at least the last arrival ({a[-1]:g} s), "
                         f"got {horizon:g}")

    rng = np.random.default_rng(seed)
    n = a.size
    run_ms = fn.duration_ms * np.exp(fn.duration_sigma * rng.standard_normal(n))
    run_ms = np.minimum(run_ms, fn.timeout_s * 1000.0)
    log_lo, log_hi = math.log(pf.init_ms_min), math.log(pf.init_ms_max)
    init_ms = np.exp(rng.uniform(log_lo, log_hi, size=n))

    busy: list[tuple[float, int]] = []          # heap of (free_at_s, instance id)
    idle: deque[tuple[float, int]] = deque()    # (free_since_s, id), oldest on the left
    alive_events: list[tuple[float, int]] = []  # (+1 at creation, -1 at expiry)
    records: list[RequestRecord] = []
    next_id = 0
    keep = pf.keep_alive_s

    def expire_until(t: float) -> None:
        while idle and idle[0][0] + keep < t:
            since, _ = idle.popleft()
            alive_events.append((since + keep, -1))

    for i in range(n):
        t = float(a[i])
        while busy and busy[0][0] <= t:
            free_at, inst = heapq.heappop(busy)
            # an instance that freed up and expired before t never becomes usable
            idle.append((free_at, inst))
        expire_until(t)
        if idle:
            since, inst = idle.pop()                 # most recently freed
            rec = RequestRecord(i, t, inst, False, False, 0.0, float(run_ms[i]), t - since)
            heapq.heappush(busy, (t + run_ms[i] / 1000.0, inst))
        elif len(busy) >= pf.concurrency_limit:
            rec = RequestRecord(i, t, -1, False, True, 0.0, 0.0, math.nan)
        else:
            inst = next_id
            next_id += 1
            alive_events.append((t, +1))
            start = float(init_ms[i])
            rec = RequestRecord(i, t, inst, True, False, start, float(run_ms[i]), math.nan)
            heapq.heappush(busy, (t + (start + run_ms[i]) / 1000.0, inst))
        records.append(rec)

    # let everything finish and age out so the timeline ends cleanly
    while busy:
        free_at, inst = heapq.heappop(busy)
        idle.append((free_at, inst))
    for since, _ in idle:
        alive_events.append((since + keep, -1))
    alive_events.sort(key=lambda e: (e[0], e[1]))
    times = np.array([e[0] for e in alive_events], dtype=float)
    counts = np.cumsum([e[1] for e in alive_events]) if alive_events else np.zeros(0, int)
    return SimulationResult(horizon, records, times, np.asarray(counts, dtype=int), fn, pf)


def trace(result: SimulationResult, limit: int = 10) -> list[str]:
    """One line per request (the first ``limit``): when, which instance, warm or cold, how long.

    >>> fn = FunctionConfig(duration_ms=50.0, duration_sigma=0.0)
    >>> pf = Platform(keep_alive_s=600.0, init_ms_min=150.0, init_ms_max=150.0)
    >>> for line in trace(simulate([0.0, 1.0, 900.0], fn, pf, seed=0)): print(line)
    t=     0.000 s  req 0 -> instance 0  COLD  init 150 ms + run 50 ms = latency 200 ms
    t=     1.000 s  req 1 -> instance 0  warm  (idle 0.8 s)  latency 50 ms
    t=   900.000 s  req 2 -> instance 1  COLD  init 150 ms + run 50 ms = latency 200 ms
    """
    check_int("limit", limit, 0)
    lines = []
    for r in result.records[:limit]:
        head = f"t={r.arrival_s:10.3f} s  req {r.index}"
        if r.throttled:
            lines.append(f"{head} -> THROTTLED (429): {result.platform.concurrency_limit} "
                         "instances busy")
        elif r.cold:
            lines.append(f"{head} -> instance {r.instance}  COLD  init {r.init_ms:.0f} ms + run "
                         f"{r.run_ms:.0f} ms = latency {r.latency_ms:.0f} ms")
        else:
            lines.append(f"{head} -> instance {r.instance}  warm  (idle {r.idle_before_s:.1f} s)"
                         f"  latency {r.latency_ms:.0f} ms")
    return lines


# --- money -----------------------------------------------------------------------------------

def lambda_monthly_cost(requests: float, gb_seconds: float, pricing: LambdaPricing | None = None,
                        free_tier: bool = False) -> float:
    """Dollars for a month with ``requests`` requests and ``gb_seconds`` of billed compute.

    >>> round(lambda_monthly_cost(60e6, 60e6 * 0.028 * 1.0), 2)   # the AWS News Blog example
    40.0
    """
    p = pricing or LambdaPricing()
    check_real("requests", requests, 0.0)
    check_real("gb_seconds", gb_seconds, 0.0)
    billable_req = max(0.0, requests - p.free_requests) if free_tier else requests
    billable_gbs = max(0.0, gb_seconds - p.free_gb_seconds) if free_tier else gb_seconds
    return billable_req / 1e6 * p.usd_per_million_requests + billable_gbs * p.usd_per_gb_second


def vm_monthly_cost(peak_rps: float, vm: VMOffer | None = None,
                    function: FunctionConfig | None = None) -> float:
    """Dollars a month for enough always-on VMs to carry ``peak_rps`` of ``function``'s requests.

    Each request costs the VM :attr:`FunctionConfig.vcpu_ms` of CPU; above the baseline a
    burstable VM in unlimited mode adds surplus-credit charges (see :meth:`VMOffer.bill`).

    >>> round(vm_monthly_cost(5.0), 3), round(vm_monthly_cost(20.0), 2)
    (7.488, 21.79)
    """
    v = vm or VMOffer()
    fn = function or FunctionConfig()
    return v.bill(peak_rps, fn.vcpu_ms).total


def break_even_rate(function: FunctionConfig | None = None, pricing: LambdaPricing | None = None,
                    vm: VMOffer | None = None, cold_start_fraction: float = 0.0,
                    mean_init_ms: float = 0.0) -> float:
    """The lowest steady request rate (per second) at which the VMs cost no more than the function.

    Per request the function costs the request charge plus its billed GB-seconds (with
    ``cold_start_fraction`` of requests also paying ``mean_init_ms`` of initialisation). The VM
    costs its hourly price plus, on a burstable VM in unlimited mode, surplus credits for the CPU
    above its baseline. With ``n`` VMs the VM bill is ``n`` times one VM's bill at ``rate / n``,
    and the function's bill is linear, so a crossing exists only if it exists within one VM's
    capacity. Returns ``math.inf`` when the function stays cheaper at every rate.

    >>> round(break_even_rate(FunctionConfig(duration_sigma=0.0)), 2)
    2.8
    """
    fn = function or FunctionConfig()
    p = pricing or LambdaPricing()
    v = vm or VMOffer()
    check_real("cold_start_fraction", cold_start_fraction, 0.0, 1.0)
    check_real("mean_init_ms", mean_init_ms, 0.0)
    billed = fn.mean_duration_ms + cold_start_fraction * mean_init_ms
    a = p.cost_per_request(fn.memory_mb, billed) * SECONDS_PER_MONTH   # $/month per request/s
    hours = SECONDS_PER_MONTH / 3600.0
    c = fn.vcpu_ms / 1000.0                                              # vCPUs busy per request/s
    flat = v.usd_per_hour * hours
    surplus = v.surplus_usd_per_vcpu_hour * hours if v.credit_mode == "unlimited" else 0.0
    cap = v.capacity_rps(fn.vcpu_ms)
    knee = v.baseline_vcpus / c            # the rate at which one VM leaves its baseline
    r_flat = flat / a
    if r_flat <= min(knee, cap):
        return r_flat
    if knee < cap and a > c * surplus:
        r_burst = (flat - v.baseline_vcpus * surplus) / (a - c * surplus)
        if knee < r_burst <= cap:
            return r_burst
    return math.inf


@dataclass(frozen=True)
class SweepRow:
    """One traffic level of :func:`sweep`."""

    rate_per_s: float
    requests: int
    cold_start_fraction: float
    p50_ms: float
    p99_ms: float
    peak_instances: int
    lambda_usd_month: float
    vm_usd_month: float


def sweep(rates_per_s: Iterable[float], function: FunctionConfig | None = None,
          platform: Platform | None = None, pricing: LambdaPricing | None = None,
          vm: VMOffer | None = None, seed: int = 0, max_requests: int = 20_000,
          min_horizon_s: float = 6 * 3600.0, min_requests: int = 200) -> list[SweepRow]:
    """Simulate Poisson traffic at each rate and price it both ways.

    A rate runs for ``min_horizon_s``, stretched at low rates until about ``min_requests``
    requests arrive and cut at high rates to about ``max_requests`` (a busy function reaches its
    steady state quickly), so every row rests on enough requests and the sweep stays fast. Each rate gets its own seed derived from
    ``seed`` so the rows are independent and reproducible.
    """
    fn = function or FunctionConfig()
    pf = platform or Platform()
    p = pricing or LambdaPricing()
    v = vm or VMOffer()
    check_int("max_requests", max_requests, 10, 10_000_000)
    check_real("min_horizon_s", min_horizon_s, 0.0, 1e9, lo_open=True)
    check_int("min_requests", min_requests, 1, max_requests)
    rows = []
    for k, rate in enumerate(rates_per_s):
        check_real("rate_per_s", rate, 0.0, 1e6, lo_open=True)
        horizon = max(min_horizon_s, min_requests / rate) if rate * min_horizon_s <= max_requests \
            else max_requests / rate
        arr = poisson_arrivals(rate, horizon, seed=seed * 1000 + k)
        run = simulate(arr, fn, pf, seed=seed * 1000 + k, horizon_s=horizon)
        rows.append(SweepRow(float(rate), run.requests, run.cold_start_fraction, run.p50_ms,
                             run.p99_ms, run.peak_instances, float(run.monthly_cost(p)),
                             vm_monthly_cost(float(rate), v, fn)))
    return rows
