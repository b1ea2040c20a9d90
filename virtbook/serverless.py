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
* The always-on VM. Its hourly price and capacity are *assumptions*: $0.0104 an hour is the
  on-demand price commonly quoted for a t3.micro (2 vCPUs, 1 GiB) in us-east-1, which this book
  could not check against AWS's own price list; change :class:`VMOffer` to your own quote.
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from virtbook._validate import check_array, check_bool, check_int, check_name, check_real

__all__ = [
    "SECONDS_PER_MONTH",
    "FunctionConfig",
    "Platform",
    "LambdaPricing",
    "VMOffer",
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
class VMOffer:
    """An always-on virtual machine and how much load one of them carries.

    ``usd_per_hour`` and the capacity are assumptions (see the module docstring). One VM serves
    ``vcpus * target_utilization / (service_ms / 1000)`` requests per second: each request needs
    ``service_ms`` of one vCPU, and the VM is sized to run at ``target_utilization`` so that
    queues stay short. Burstable instances (the t family) can sustain full speed only while they
    have CPU credits, which makes the default capacity optimistic.

    >>> VMOffer().capacity_rps
    10.0
    """

    name: str = "t3.micro (assumed price)"
    usd_per_hour: float = 0.0104
    vcpus: int = 2
    service_ms: float = 100.0
    target_utilization: float = 0.5

    def __post_init__(self) -> None:
        check_name("name", self.name)
        check_real("usd_per_hour", self.usd_per_hour, 0.0, 1000.0, lo_open=True)
        check_int("vcpus", self.vcpus, 1, 512)
        check_real("service_ms", self.service_ms, 0.0, 3_600_000.0, lo_open=True)
        check_real("target_utilization", self.target_utilization, 0.0, 1.0, lo_open=True)

    @property
    def capacity_rps(self) -> float:
        """Requests per second one VM carries at the target utilisation."""
        return self.vcpus * self.target_utilization / (self.service_ms / 1000.0)

    def vms_needed(self, peak_rps: float) -> int:
        """VMs needed for ``peak_rps`` (at least one: an always-on service never scales to zero)."""
        check_real("peak_rps", peak_rps, 0.0)
        return max(1, int(math.ceil(peak_rps / self.capacity_rps - 1e-12)))


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


def vm_monthly_cost(peak_rps: float, vm: VMOffer | None = None) -> float:
    """Dollars a month for enough always-on VMs to carry ``peak_rps`` (30 days of 24 hours).

    >>> round(vm_monthly_cost(5.0), 3), round(vm_monthly_cost(25.0), 3)
    (7.488, 22.464)
    """
    v = vm or VMOffer()
    return v.vms_needed(peak_rps) * v.usd_per_hour * SECONDS_PER_MONTH / 3600.0


def break_even_rate(function: FunctionConfig | None = None, pricing: LambdaPricing | None = None,
                    vm: VMOffer | None = None, cold_start_fraction: float = 0.0,
                    mean_init_ms: float = 0.0) -> float:
    """The steady request rate (per second) at which the function costs as much as one VM.

    Per request the function costs the request charge plus its billed GB-seconds (with
    ``cold_start_fraction`` of requests also paying ``mean_init_ms`` of initialisation). The
    answer assumes the rate fits on one VM; beyond ``vm.capacity_rps`` the VM bill steps up.

    >>> round(break_even_rate(FunctionConfig(duration_sigma=0.0)), 2)
    2.8
    """
    fn = function or FunctionConfig()
    p = pricing or LambdaPricing()
    v = vm or VMOffer()
    check_real("cold_start_fraction", cold_start_fraction, 0.0, 1.0)
    check_real("mean_init_ms", mean_init_ms, 0.0)
    mean_run = fn.duration_ms * math.exp(fn.duration_sigma ** 2 / 2.0)  # log-normal mean
    billed = mean_run + cold_start_fraction * mean_init_ms
    per_request = p.cost_per_request(fn.memory_mb, billed)
    return vm_monthly_cost(0.0, v) / (per_request * SECONDS_PER_MONTH)


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
                             vm_monthly_cost(float(rate), v)))
    return rows
