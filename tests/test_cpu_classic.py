"""Classic single-CPU policies and proportional share, checked against hand-worked answers.

Every expected number below is worked out by hand in the comment next to it, OSTEP-style
(Arpaci-Dusseau, Operating Systems: Three Easy Pieces, chapters 7 and 9).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook.cpu import Job, classic, proportional


def averages(stats):
    return (
        round(stats.average("response"), 2),
        round(stats.average("turnaround"), 2),
        round(stats.average("wait"), 2),
    )


def test_rr_quantum_1_on_5_10_15():
    # Jobs A=5, B=10, C=15 at t=0, quantum 1: rounds of A,B,C.
    # Response: A 0, B 1, C 2 -> mean 1.00.
    # A's 5th unit is in round 5 (t=12..13): A done at 13. Then B and C alternate from t=15
    # (A,B,C each ran 5 by t=15): B runs at 15,17,19,21,23 -> done at 24; C runs alone 25..30.
    # Turnaround 13, 24, 30 -> mean 67/3 = 22.33. Wait = turnaround - length: 8, 14, 15 -> 12.33.
    stats = classic([Job(5), Job(10), Job(15)], policy="RR", quantum=1)
    assert [s.completion for s in stats] == [13, 24, 30]
    assert averages(stats) == (1.00, 22.33, 12.33)


def test_fifo_with_arrivals():
    # OSTEP 7.4: A=100 at t=0, B=10 and C=10 at t=10. FIFO: A 0..100, B 100..110, C 110..120.
    # Turnaround: 100, 100, 110 -> 103.33. Response: 0, 90, 100 -> 63.33.
    # Wait: 0, 90, 100 -> 63.33 (no I/O, so wait = response here).
    stats = classic([Job(100), Job(10, arrival=10), Job(10, arrival=10)], policy="FIFO")
    assert [s.completion for s in stats] == [100, 110, 120]
    assert averages(stats) == (63.33, 103.33, 63.33)


def test_sjf_with_arrivals_cannot_preempt():
    # SJF is non-preemptive: with the same jobs A already runs when B and C arrive,
    # so the schedule equals FIFO's (OSTEP 7.4, "SJF with late arrivals").
    stats = classic([Job(100), Job(10, arrival=10), Job(10, arrival=10)], policy="SJF")
    assert [s.completion for s in stats] == [100, 110, 120]
    assert averages(stats) == (63.33, 103.33, 63.33)


def test_sjf_picks_shortest_among_arrived():
    # A=8 at 0; B=4 at 1; C=2 at 2; D=1 at 3. A runs 0..8 (only job at t=0). At 8 all have
    # arrived: D (1) 8..9, C (2) 9..11, B (4) 11..15.
    # Turnaround: A 8, B 14, C 9, D 6 -> 37/4 = 9.25. Response: A 0, B 10, C 7, D 5 -> 5.5.
    jobs = [Job(8), Job(4, arrival=1), Job(2, arrival=2), Job(1, arrival=3)]
    stats = classic(jobs, policy="SJF")
    assert [s.completion for s in stats] == [8, 15, 11, 9]
    assert averages(stats) == (5.5, 9.25, 5.5)


def test_stcf_with_arrivals_preempts():
    # OSTEP 7.5: A=100 at 0, B, C = 10 at 10. STCF: A 0..10, B 10..20, C 20..30,
    # A 30..120. Turnaround: 120, 10, 20 -> 50. Response: 0, 0, 10 -> 3.33.
    # Wait: A 20, B 0, C 10 -> 10.
    stats = classic([Job(100), Job(10, arrival=10), Job(10, arrival=10)], policy="STCF")
    assert [s.completion for s in stats] == [120, 20, 30]
    assert averages(stats) == (3.33, 50.0, 10.0)


def test_rr_idles_until_first_arrival_and_orders_arrivals_first():
    # A=2 arrives at 1, B=1 at 2, quantum 1. CPU idle 0..1; A 1..2; at t=2 B arrives and
    # A's quantum expires: B queues first, so B 2..3, A 3..4.
    stats = classic([Job(2, arrival=1), Job(1, arrival=2)], policy="RR", quantum=1)
    assert stats.timeline == ((1, 2, 0), (2, 3, 1), (3, 4, 0))
    assert [s.response for s in stats] == [0, 0]


def test_trace_lists_every_slice():
    text = classic([Job(3), Job(1, arrival=1)], policy="STCF").trace()
    assert text.splitlines() == [
        "t=   0.00 ..    1.00  run job 0",
        "t=   1.00 ..    2.00  run job 1",
        "t=   2.00 ..    4.00  run job 0",
    ]


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 20), min_size=1, max_size=6),
    arrivals=st.lists(st.integers(0, 30), min_size=6, max_size=6),
    policy=st.sampled_from(["FIFO", "SJF", "STCF", "RR"]),
)
def test_metrics_are_consistent(lengths, arrivals, policy):
    jobs = [Job(n, arrival=a) for n, a in zip(lengths, arrivals)]
    stats = classic(jobs, policy=policy, quantum=2)
    busy = sum(e - s for s, e, _ in stats.timeline)
    assert busy == pytest.approx(sum(lengths))
    for s, job in zip(stats, jobs):
        assert s.response >= 0
        assert s.turnaround >= job.length - 1e-9
        assert s.wait == pytest.approx(s.turnaround - job.length)
    # STCF minimises mean turnaround among these policies (it is optimal for it).
    if policy == "STCF":
        for other in ("FIFO", "SJF", "RR"):
            worse = classic(jobs, other, 2).average("turnaround")
            assert stats.average("turnaround") <= worse + 1e-9


def test_stride_runs_2_1_5_per_cycle():
    # Strides 10000/100 = 100, 10000/50 = 200, 10000/250 = 40: every 8 steps all passes are equal
    # again (at 200) after A ran 2, B 1 and C 5 times (OSTEP's stride trace, section 9.6).
    r = proportional([100, 50, 250], policy="stride", steps=800)
    cycles = r.order.reshape(-1, 8)
    for cycle in cycles:
        assert np.bincount(cycle, minlength=3).tolist() == [2, 1, 5]
    assert r.order[:8].tolist() == [0, 1, 2, 2, 2, 0, 2, 2]


def test_lottery_converges_to_ticket_ratio():
    tickets = [100, 50, 250]
    target = np.array(tickets) / sum(tickets)
    err_short = np.abs(proportional(tickets, "lottery", steps=100, seed=3).shares - target).max()
    err_long = np.abs(proportional(tickets, "lottery", steps=200_000, seed=3).shares - target).max()
    assert err_long < 0.01
    assert err_long < err_short


def test_lottery_same_seed_same_run_different_seed_different_run():
    a = proportional([1, 2, 3], "lottery", steps=500, seed=7)
    b = proportional([1, 2, 3], "lottery", steps=500, seed=7)
    c = proportional([1, 2, 3], "lottery", steps=500, seed=8)
    assert np.array_equal(a.order, b.order)
    assert not np.array_equal(a.order, c.order)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: classic([Job(1)], policy="LIFO"), "policy must be one of"),
        (lambda: classic([Job(1)], policy="RR", quantum=0),
         "quantum must be a number greater than 0"),
        (lambda: classic([], policy="FIFO"), "jobs must contain at least 1"),
        (lambda: Job(0), "length must be a number greater than 0"),
        (lambda: Job(-1), "length must be a number greater than 0"),
        (lambda: Job(1, arrival=-2), "arrival must be a number at least 0"),
        (lambda: proportional([100, 0]), "tickets[1] must be an integer in 1..10000, got 0"),
        (lambda: proportional([100], steps=0), "steps must be an integer in 1..1000000, got 0"),
        (lambda: proportional([100], policy="fair"), "policy must be one of 'stride', 'lottery'"),
    ],
)
def test_bad_input_names_parameter_and_range(call, fragment):
    with pytest.raises(ValueError) as err:
        call()
    assert fragment in str(err.value)
