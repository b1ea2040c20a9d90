"""The function-platform model behaves like the mechanisms it follows, and the prices add up."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import numbers, run_code, solution
from virtbook.serverless import (M5_LARGE, MB_PER_VCPU, SECONDS_PER_MONTH, FunctionConfig, LambdaPricing,
                                 Platform, VMOffer, break_even_rate, diurnal_arrivals,
                                 lambda_monthly_cost, poisson_arrivals, simulate, sweep, trace,
                                 vm_monthly_cost)

FIXED = FunctionConfig(memory_mb=512, duration_ms=100.0, duration_sigma=0.0)
seeds = st.integers(min_value=0, max_value=10_000)
rates = st.floats(min_value=1e-3, max_value=5.0)


# --- arrivals --------------------------------------------------------------------------------

@given(rates, seeds)
@settings(max_examples=30, deadline=None)
def test_poisson_arrivals_are_sorted_in_range_and_reproducible(rate, seed):
    a = poisson_arrivals(rate, 2000.0, seed=seed)
    assert np.all(np.diff(a) >= 0) and (a.size == 0 or (a[0] >= 0 and a[-1] <= 2000.0))
    assert np.array_equal(a, poisson_arrivals(rate, 2000.0, seed=seed))


def test_poisson_count_matches_the_rate():
    counts = [poisson_arrivals(3.0, 1000.0, seed=s).size for s in range(40)]
    assert abs(np.mean(counts) - 3000) < 4 * math.sqrt(3000 / 40)


def test_diurnal_traffic_peaks_in_the_afternoon_and_keeps_the_mean():
    a = diurnal_arrivals(1.0, 86_400.0, amplitude=0.8, seed=2)
    assert abs(a.size - 86_400) < 5 * math.sqrt(86_400)
    hours = np.bincount((a // 3600).astype(int), minlength=24)
    assert hours.argmax() in (12, 13, 14, 15)
    assert hours[14] > 5 * hours[2], "the 02:00 trough should be far below the 14:00 peak"


# --- the simulator ---------------------------------------------------------------------------

@given(rates, seeds)
@settings(max_examples=25, deadline=None)
def test_same_seed_same_run(rate, seed):
    a = poisson_arrivals(rate, 3000.0, seed=seed)
    r1, r2 = simulate(a, seed=seed), simulate(a, seed=seed)
    assert [x.latency_ms for x in r1.records if not x.throttled] == \
           [x.latency_ms for x in r2.records if not x.throttled]
    assert r1.cold_starts == r2.cold_starts


@given(st.lists(st.floats(min_value=0, max_value=5000), min_size=1, max_size=60), seeds)
@settings(max_examples=40, deadline=None)
def test_every_request_is_served_or_throttled_and_first_is_cold(times, seed):
    run = simulate(sorted(times), seed=seed)
    assert run.served + run.throttled == run.requests == len(times)
    assert run.records[0].cold
    assert 0.0 <= run.cold_start_fraction <= 1.0
    for r in run.records:
        if not r.throttled:
            assert r.latency_ms >= r.run_ms > 0
            assert (r.init_ms > 0) == r.cold


@given(st.lists(st.floats(min_value=0, max_value=20_000), min_size=2, max_size=80), seeds)
@settings(max_examples=40, deadline=None)
def test_an_instance_serves_one_request_at_a_time(times, seed):
    run = simulate(sorted(times), FunctionConfig(duration_ms=800.0), seed=seed)
    spans = {}
    for r in run.records:
        if not r.throttled:
            spans.setdefault(r.instance, []).append((r.arrival_s,
                                                     r.arrival_s + r.latency_ms / 1000.0))
    for busy in spans.values():
        for (s0, e0), (s1, _) in zip(busy, busy[1:]):
            assert s1 >= e0 - 1e-9, "an instance started a request before finishing the last"


@pytest.mark.parametrize("rate,keep", [(0.002, 600.0), (0.001, 1200.0), (0.004, 300.0)])
def test_cold_fraction_at_low_rate_is_the_chance_the_gap_exceeds_keep_alive(rate, keep):
    # With requests far apart and short, one instance serves everything; a request is cold
    # exactly when the gap since the previous one exceeds the keep-alive: P = exp(-rate*keep).
    a = poisson_arrivals(rate, 4000.0 / rate, seed=11)
    run = simulate(a, FIXED, Platform(keep_alive_s=keep), seed=11)
    expected = math.exp(-rate * keep)
    assert abs(run.cold_start_fraction - expected) < 4 * math.sqrt(expected * (1 - expected)
                                                                   / a.size) + 2 / a.size


@given(st.sampled_from([0.002, 0.02, 0.5, 3.0]), seeds)
@settings(max_examples=25, deadline=None)
def test_longer_keep_alive_never_adds_cold_starts(rate, seed):
    a = poisson_arrivals(rate, 3000.0 + 20.0 / rate, seed=seed)
    colds = [simulate(a, FIXED, Platform(keep_alive_s=k), seed=seed).cold_starts
             for k in (0.0, 30.0, 300.0, 600.0, 1800.0)]
    assert colds == sorted(colds, reverse=True)


def test_zero_keep_alive_makes_every_non_overlapping_request_cold():
    run = simulate([0.0, 10.0, 20.0, 30.0], FIXED, Platform(keep_alive_s=0.0), seed=0)
    assert run.cold_starts == 4


def test_surplus_environments_age_out_when_the_load_drops():
    # A burst needs five environments; afterwards one request every 100 s needs only one. The
    # platform reuses the most recently freed environment, so the other four sit idle and are
    # reclaimed after the keep-alive window instead of being kept alive in rotation.
    arrivals = [0.0] * 5 + [100.0 * k for k in range(1, 21)]
    run = simulate(arrivals, FIXED, Platform(keep_alive_s=600.0), seed=0)
    alive = run.instance_counts[np.searchsorted(run.instance_times_s, 1500.0, side="right") - 1]
    assert run.cold_starts == 5 and alive == 1
    assert len({r.instance for r in run.records[5:]}) == 1


def test_concurrency_limit_throttles_the_excess():
    burst = [0.0] * 10 + [0.05] * 10          # 20 requests inside one 100 ms handler time
    run = simulate(burst, FIXED, Platform(concurrency_limit=5), seed=0)
    assert run.throttled == 15 and run.served == 5 and run.peak_instances == 5
    assert any("THROTTLED" in line for line in trace(run, limit=20))


def test_warm_instances_match_littles_law():
    # Little's law: mean number busy = arrival rate x time in service (0.1 s). With a long
    # keep-alive almost every request is warm, so the instances the platform keeps are only a
    # few more than that mean (Poisson bursts above it), not one per request.
    rate, horizon = 20.0, 2000.0
    a = poisson_arrivals(rate, horizon, seed=4)
    run = simulate(a, FIXED, Platform(keep_alive_s=600.0), seed=4, horizon_s=horizon)
    busy_s = sum(r.latency_ms for r in run.records) / 1000.0
    assert abs(busy_s / horizon - rate * 0.1) < 0.05 * rate * 0.1
    assert rate * 0.1 < run.peak_instances < 6 * rate * 0.1 + 5
    assert run.cold_start_fraction < 0.001


def test_cold_starts_fill_the_tail_of_the_latency_distribution():
    a = poisson_arrivals(0.0005, 2_000_000.0, seed=5)   # exp(-0.3): three in four are cold
    run = simulate(a, FIXED, Platform(keep_alive_s=600.0), seed=5)
    assert run.p50_ms > FIXED.duration_ms + Platform().init_ms_min
    warm = simulate(poisson_arrivals(2.0, 5000.0, seed=5), FIXED, seed=5)
    assert warm.p50_ms == pytest.approx(100.0) and warm.p99_ms == pytest.approx(100.0)


def test_timeline_counts_are_never_negative_and_end_at_zero():
    run = simulate(diurnal_arrivals(0.5, 86_400.0, seed=3), seed=3, horizon_s=86_400.0)
    assert run.instance_counts.min() >= 0 and run.instance_counts[-1] == 0
    assert run.peak_instances >= 1


def test_trace_reports_warm_idle_time():
    pf = Platform(init_ms_min=200.0, init_ms_max=200.0)
    lines = trace(simulate([0.0, 5.0], FIXED, pf, seed=0))
    assert "COLD" in lines[0] and "init 200 ms" in lines[0]
    assert "warm" in lines[1] and "idle 4.7 s" in lines[1]


# --- money -----------------------------------------------------------------------------------

@given(st.floats(min_value=0.1, max_value=5000.0))
def test_billing_rounds_up_to_the_granularity(ms):
    p = LambdaPricing()
    assert ms <= p.billed_ms(ms) < ms + 1 + 1e-6
    old = LambdaPricing(billing_granularity_ms=100)
    assert old.billed_ms(ms) % 100 == 0 and old.billed_ms(ms) >= p.billed_ms(ms)


def test_aws_blog_example_is_reproduced():
    # 60 million invocations of 28 ms at 1,024 MB: $12 of requests + $28 of duration
    assert lambda_monthly_cost(60e6, 60e6 * 0.028) == pytest.approx(40.0, abs=0.01)
    assert lambda_monthly_cost(60e6, 60e6 * 0.100) == pytest.approx(112.0, abs=0.01)


def test_free_tier_only_lowers_the_bill():
    for req, gbs in [(5e5, 1e5), (3e6, 5e5), (1e8, 1e7)]:
        assert lambda_monthly_cost(req, gbs, free_tier=True) <= lambda_monthly_cost(req, gbs)
    assert lambda_monthly_cost(1e6, 4e5, free_tier=True) == 0.0


def test_monthly_cost_scales_with_traffic():
    cheap = simulate(poisson_arrivals(1.0, 3600.0, seed=1), FIXED, seed=1, horizon_s=3600.0)
    busy = simulate(poisson_arrivals(4.0, 3600.0, seed=1), FIXED, seed=1, horizon_s=3600.0)
    ratio = busy.monthly_cost(LambdaPricing()) / cheap.monthly_cost(LambdaPricing())
    assert 3.5 < ratio < 4.5


def test_a_t3_micro_earns_its_documented_credits_and_baseline():
    # AWS EC2 User Guide, credit table: t3.micro earns 12 credits an hour = 10 % of 2 vCPUs.
    t3 = VMOffer()
    assert t3.credits_per_hour == pytest.approx(12.0) and t3.baseline_vcpus == pytest.approx(0.2)
    assert t3.hourly_cost(0.2) == pytest.approx(0.0104), "at the baseline the price covers all"
    assert t3.hourly_cost(2.0) == pytest.approx(0.0104 + 1.8 * 0.05)


def test_aws_t3_large_versus_m5_large_break_even_is_reproduced():
    # AWS EC2 User Guide, "Unlimited mode concepts": t3.large $0.0835/h, baseline 30 %, surplus
    # $0.05 per vCPU-hour, against m5.large $0.096/h: the two cost the same at 42.5 % CPU.
    t3_large = VMOffer(name="t3.large", usd_per_hour=0.0835, baseline=0.30)
    at = [u / 1000 for u in range(0, 1001)]
    gap = [abs(t3_large.hourly_cost(2 * u) - M5_LARGE.hourly_cost(2 * u)) for u in at]
    assert at[gap.index(min(gap))] == pytest.approx(0.425, abs=1e-3)
    assert M5_LARGE.hourly_cost(2.0) == pytest.approx(0.096), "a fixed instance has no surplus"


def test_standard_mode_holds_the_vm_to_its_baseline_and_never_bills_surplus():
    std = VMOffer(credit_mode="standard")
    assert std.capacity_rps(100.0) == pytest.approx(std.baseline_rps(100.0)) == pytest.approx(2.0)
    assert std.bill(5.0, 100.0).surplus_usd == 0.0 and std.bill(5.0, 100.0).vms == 3


def test_vm_bill_is_flat_to_the_baseline_then_adds_surplus_and_steps_with_capacity():
    fn, vm = FIXED, VMOffer()
    knee, cap = vm.baseline_rps(fn.vcpu_ms), vm.capacity_rps(fn.vcpu_ms)
    flat = 0.0104 * SECONDS_PER_MONTH / 3600
    assert vm_monthly_cost(0.0, vm, fn) == vm_monthly_cost(0.99 * knee, vm, fn) == pytest.approx(flat)
    mid = (knee + cap) / 2
    assert vm_monthly_cost(mid, vm, fn) == pytest.approx(
        flat + (mid * fn.vcpu_ms / 1000 - 0.2) * 0.05 * SECONDS_PER_MONTH / 3600)
    two = vm.bill(1.01 * cap, fn.vcpu_ms)
    assert two.vms == 2 and two.busy_vcpus_per_vm == pytest.approx(1.01 * cap / 2 * fn.vcpu_ms / 1000)


def test_cpu_per_request_is_what_lambda_gave_the_handler():
    # One vCPU at 1,769 MB (AWS "Configure Lambda function memory"); a single thread uses one.
    assert FunctionConfig(memory_mb=1769, duration_sigma=0.0).vcpu_ms == pytest.approx(100.0)
    assert FunctionConfig(memory_mb=4096, duration_sigma=0.0).vcpu_ms == pytest.approx(100.0)
    assert FunctionConfig(memory_mb=512, duration_sigma=0.0).vcpu_ms == pytest.approx(
        100.0 * 512 / 1769)


@given(st.integers(min_value=128, max_value=10_240), st.floats(min_value=1.0, max_value=2000.0),
       st.sampled_from([VMOffer(), M5_LARGE, VMOffer(credit_mode="standard")]))
@settings(max_examples=60, deadline=None)
def test_below_the_break_even_the_function_is_cheaper_and_at_it_the_bills_are_equal(
        memory, duration, vm):
    fn = FunctionConfig(memory_mb=memory, duration_ms=duration, duration_sigma=0.0)
    per_request = LambdaPricing().cost_per_request(memory, duration) * SECONDS_PER_MONTH
    rate = break_even_rate(fn, vm=vm)
    probe = [rate * k / 20 for k in range(1, 20)] if math.isfinite(rate) else \
        [vm.capacity_rps(fn.vcpu_ms) * k / 7 for k in range(1, 40)]
    for r in probe:
        assert r * per_request < vm_monthly_cost(r, vm, fn) + 1e-9
    if math.isfinite(rate):
        assert rate * per_request == pytest.approx(vm_monthly_cost(rate, vm, fn))


def test_a_vm_charged_more_cpu_than_the_function_had_may_never_break_even():
    # The trap this model avoids: charge the t3.micro 100 ms of a whole vCPU per request while
    # the 512 MB function has only 0.29 of one. Surplus credits then cost more per request than
    # the function, and the machine never catches up.
    lopsided = FunctionConfig(memory_mb=1769, duration_ms=100.0, duration_sigma=0.0)
    cheap = LambdaPricing().cost_per_request(512, 100.0) * SECONDS_PER_MONTH
    vm = VMOffer()
    assert 0.1 * 0.05 * SECONDS_PER_MONTH / 3600 > cheap            # surplus slope > function's
    assert vm.usd_per_hour * SECONDS_PER_MONTH / 3600 > cheap * vm.baseline_rps(lopsided.vcpu_ms)
    assert math.isfinite(break_even_rate(lopsided))                  # consistent: it does cross


def test_sweep_crosses_over_near_the_break_even_rate():
    rows = sweep([0.5, 1.0, 2.0, 4.0, 8.0, 40.0], FIXED, seed=3, max_requests=4000)
    cheaper = [r.lambda_usd_month < r.vm_usd_month for r in rows]
    assert cheaper == [True, True, True, False, False, False]
    assert 2.0 < break_even_rate(FIXED) < 4.0


# --- the chapter's solutions run as printed ------------------------------------------------

CH12 = "chapters/12-serverless.ipynb"


def test_solution_12_1_prints_what_it_claims():
    text = solution(CH12, "ex-12-1")
    timer, poisson = numbers(run_code(text)[1])
    assert timer == 1.0 and "100% cold" in text
    assert poisson == pytest.approx(math.exp(-2 / 3), abs=0.03) and "0.51" in text


def test_solution_12_2_quotes_the_model():
    text = solution(CH12, "ex-12-2")
    be, cpu, vm = numbers(run_code(text)[1])
    assert (be, cpu, vm) == (0.82, 116, 8.33)
    for quoted in ("0.82 requests per", "116 ms of CPU", "$8.33", "1.73"):
        assert quoted in " ".join(text.split())
    fn = FunctionConfig(memory_mb=1024, duration_ms=200.0, duration_sigma=0.0)
    assert VMOffer().baseline_rps(fn.vcpu_ms) == pytest.approx(1.73, abs=0.005)
    assert lambda_monthly_cost(5e6, 5e6 * 0.2) == pytest.approx(17.67, abs=0.005)
    # The hand calculation's intermediate numbers are the model's too.
    flat = " ".join(text.split())
    per_request = LambdaPricing().cost_per_request(fn.memory_mb, fn.duration_ms)
    machine = VMOffer().usd_per_hour * SECONDS_PER_MONTH / 3600
    rate = 5e6 / SECONDS_PER_MONTH
    busy = rate * fn.vcpu_ms / 1000
    bill = VMOffer().bill(rate, fn.vcpu_ms)
    assert f"{per_request * 1e6:.2f} \\times 10^{{-6}}" in flat
    assert f"\\${machine:.2f}" in flat
    assert f"{machine / per_request / 1e6:.2f}$ million" in flat
    assert f"about {rate:.2f} per second" in flat
    assert f"= {fn.vcpu_share:.2f}$ of a vCPU" in flat
    assert f"uses {busy:.4f} of a vCPU, {busy - bill.baseline_vcpus_per_vm:.4f} above" in flat
    assert f"\\approx \\${bill.surplus_usd:.2f}$" in flat
    assert bill.total == pytest.approx(8.33, abs=0.005)


def test_solution_12_3_quotes_the_model():
    text = solution(CH12, "ex-12-3")
    printed = run_code(text)[1].split()
    rates = [float(x) for x in printed[2::3]]
    assert rates == [2.8, 0.82, 2.8]
    assert "about 2.8" in text and "about 0.82" in text
    flat = " ".join(text.split())
    for mb in (512, 2048):
        per_request = LambdaPricing().cost_per_request(mb, 100.0)
        assert f"{per_request * 1e6:.2f} \\times 10^{{-6}}" in flat
    assert 512 / 1769 == pytest.approx(0.29, abs=0.005) and 1769 / 512 == pytest.approx(3.5, abs=0.05)


def test_ex_12_hand_numbers():
    """Every number ex-12-1 to ex-12-4 work out by hand, from the model's prices and rules
    (registered in tests/test_solution_numbers.py)."""
    fn, pf = FunctionConfig(), Platform(keep_alive_s=600.0)
    # ex-12-1: a timer every 15 minutes is 100% cold; Poisson at 4 per hour is cold with
    # probability e^(-(4/3600) x 600) = e^(-2/3), about 0.51; a timer every 5 minutes is cold once
    assert simulate([k * 900.0 for k in range(200)], fn, pf).cold_start_fraction * 100 == 100
    assert 10 * 60 == 600 and 4 / 3600 * 600 == pytest.approx(2 / 3)
    assert round(math.exp(-2 / 3), 2) == 0.51
    every_5 = simulate([k * 5 * 60.0 for k in range(200)], fn, pf)
    assert every_5.cold_start_fraction == pytest.approx(1 / 200)
    # ex-12-2: 5,000,000 requests x 0.2 GB-s = 1,000,000 GB-s at 0.0000166667: 16.67, plus 1.00
    # for requests: 17.67; one request 0.0000002 + 0.2 x 0.0000166667 = 3.53e-6; the machine
    # 0.0104 x 720 = 7.49 a month, break-even 7.49 / 3.53e-6 = 2.12 million a month, 0.82 per s
    price = LambdaPricing()
    assert price.usd_per_million_requests / 1e6 == pytest.approx(0.0000002)
    assert price.usd_per_gb_second == 0.0000166667
    assert 5_000_000 * 0.2 == 1_000_000 and round(1_000_000 * price.usd_per_gb_second, 2) == 16.67
    assert round(lambda_monthly_cost(5e6, 5e6 * 0.2), 2) == 17.67
    per_request = price.cost_per_request(1024, 200.0)
    assert round(per_request * 1e6, 2) == 3.53
    vm = VMOffer()
    assert round(vm.usd_per_hour * 720, 2) == 7.49 and SECONDS_PER_MONTH / 3600 == 720
    assert round(7.49 / 3.53e-6 / 1e6, 2) == 2.12
    fn2 = FunctionConfig(memory_mb=1024, duration_ms=200.0, duration_sigma=0.0)
    assert round(break_even_rate(fn2), 2) == 0.82
    rate = 5e6 / SECONDS_PER_MONTH
    assert round(rate, 2) == 1.93
    # 1,024 / 1,769 = 0.58 of a vCPU for 200 ms: 116 ms of CPU; the baseline 0.2 of a vCPU covers
    # 0.2 / 0.1158, about 1.73 images a second; 1.93 a second use 0.2233, 0.0233 above the baseline, at
    # 0.05 per vCPU-hour for 720 hours: 0.84 of credits, 8.33 in all
    assert (MB_PER_VCPU, round(1024 / 1769, 2), round(fn2.vcpu_ms)) == (1769, 0.58, 116)
    assert vm.baseline * vm.vcpus == 0.2 and round(fn2.vcpu_ms / 1000, 4) == 0.1158
    assert round(0.2 / 0.1158, 2) == 1.73 == round(vm.baseline_rps(fn2.vcpu_ms), 2)
    busy = rate * fn2.vcpu_ms / 1000
    assert (round(busy, 4), round(busy - 0.2, 4)) == (0.2233, 0.0233)
    assert vm.surplus_usd_per_vcpu_hour == 0.05 and round(0.0233 * 0.05 * 720, 2) == 0.84
    assert round(vm_monthly_cost(rate, function=fn2), 2) == 8.33
    # ex-12-3: 2 GB x 0.1 s = 0.2 GB-s instead of 0.05; 1.03e-6 per request at 512 MB, 0.2e-6 +
    # 0.2 x 1.66667e-5 = 3.53e-6 at 2,048 MB; break-even 2.8, then 0.82, and 2.8 again at 25 ms
    # (2 x 0.025 = 0.05 GB-s); 512 MB buys 0.29 of a vCPU, 2,048 MB one, a factor of 3.5
    assert 2 * 0.1 == 0.2 and 0.5 * 0.1 == 0.05 and 2 * 0.025 == 0.05 and 100 / 4 == 25
    assert round(price.cost_per_request(512, 100.0) * 1e6, 2) == 1.03
    assert round(price.cost_per_request(2048, 100.0) * 1e6, 2) == 3.53
    assert round(price.usd_per_gb_second * 1e5, 5) == 1.66667
    rates = [round(break_even_rate(FunctionConfig(memory_mb=mb, duration_ms=ms,
                                                  duration_sigma=0.0)), 2)
             for mb, ms in ((512, 100.0), (2048, 100.0), (2048, 25.0))]
    assert rates == [2.8, 0.82, 2.8]
    assert round(512 / 1769, 2) == 0.29 and round(1769 / 512, 1) == 3.5
    # ex-12-4: Little's law, 2,500 per second x 0.3 s = 750 environments
    assert 300 / 1000 == 0.3 and 2500 * 0.3 == 750


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("make,message", [
    (lambda: FunctionConfig(memory_mb=20_000), "memory_mb must be an integer in 128..10240"),
    (lambda: FunctionConfig(timeout_s=901), "timeout_s must be a number"),
    (lambda: Platform(keep_alive_s=-1), "keep_alive_s must be a number at least 0"),
    (lambda: Platform(init_ms_min=500, init_ms_max=100), "init_ms_max must be a number"),
    (lambda: Platform(concurrency_limit=0), "concurrency_limit must be an integer in 1.."),
    (lambda: VMOffer(target_utilization=1.5), "target_utilization must be a number"),
    (lambda: VMOffer(baseline=0.0), "baseline must be a number"),
    (lambda: VMOffer(credit_mode="turbo"), "credit_mode must be one of"),
    (lambda: VMOffer().capacity_rps(0.0), "vcpu_ms must be a number"),
    (lambda: poisson_arrivals(-1.0, 10.0), "rate_per_s must be a number at least 0"),
    (lambda: simulate([3.0, 1.0]), "arrivals must be sorted"),
    (lambda: simulate([1.0, 5.0], horizon_s=2.0), "horizon_s must be at least the last arrival"),
    (lambda: LambdaPricing(billing_granularity_ms=0), "billing_granularity_ms must be an integer"),
])
def test_bad_input_names_the_parameter(make, message):
    with pytest.raises(ValueError, match=message):
        make()
