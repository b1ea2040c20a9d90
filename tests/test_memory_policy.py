"""Free-memory states, the techniques each state allows, and share-based targets with the idle tax."""
from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from virtbook.memory import (
    HARD, HIGH, LOW, SOFT, TECHNIQUES_BY_STATE, adjusted_ratio, idle_tax_targets, min_free_mb,
    next_state, state_for_free, thresholds,
)
from virtbook.memory.policy import Thresholds

RAM = st.integers(min_value=1, max_value=2 * 1024 * 1024)


@given(RAM)
def test_esx2002_thresholds_are_6_4_2_1_percent(ram_mb):
    th = thresholds(ram_mb, "esx2002")
    pages = ram_mb * 256
    for got, pct in zip(th.as_tuple(), (6, 4, 2, 1)):
        assert got == max(1, round(pages * pct / 100))


@given(RAM)
def test_thresholds_are_ordered(ram_mb):
    for policy in ("esx2002", "vsphere5"):
        th = thresholds(ram_mb, policy)
        assert th.high >= th.soft >= th.hard >= th.low >= 1
        if ram_mb >= 64:
            assert th.high > th.soft > th.hard > th.low


@given(st.floats(min_value=0, max_value=4096))
def test_min_free_is_six_percent_of_a_small_host(ram_mb):
    assert math.isclose(min_free_mb(ram_mb), 0.06 * ram_mb, rel_tol=1e-12, abs_tol=1e-9)


@given(st.floats(min_value=28 * 1024, max_value=1e6), st.floats(min_value=0, max_value=1e5))
def test_min_free_grows_by_one_percent_beyond_28_gb(ram_mb, extra):
    assert math.isclose(min_free_mb(ram_mb + extra) - min_free_mb(ram_mb), 0.01 * extra, rel_tol=1e-9, abs_tol=1e-6)


@given(st.floats(min_value=0, max_value=1e6), st.floats(min_value=0, max_value=1e5))
def test_min_free_never_decreases(ram_mb, extra):
    assert min_free_mb(ram_mb + extra) >= min_free_mb(ram_mb)


@given(st.integers(min_value=1024, max_value=2 * 1024 * 1024))
def test_vsphere5_states_sit_at_64_32_16_percent_of_min_free(ram_mb):
    th = thresholds(ram_mb, "vsphere5")
    assert abs(th.high - min_free_mb(ram_mb) * 256) <= 1
    for got, frac in ((th.soft, 0.64), (th.hard, 0.32), (th.low, 0.16)):
        assert abs(got - frac * min_free_mb(ram_mb) * 256) <= 1


def test_falling_free_memory_visits_states_in_the_documented_order():
    for policy in ("esx2002", "vsphere5"):
        th = thresholds(16384, policy)
        state, first = HIGH, {}
        for free in range(th.high * 2, -1, -50):
            state = next_state(state, free, th)
            first.setdefault(state, free)
        assert list(first) == [HIGH, SOFT, HARD, LOW]
        # each state is entered only once free memory is below its threshold
        assert first[SOFT] < th.soft and first[HARD] < th.hard and first[LOW] < th.low


def test_climbing_back_needs_free_memory_clearly_above_the_higher_threshold():
    th = Thresholds(600, 400, 200, 100)
    state = next_state(HIGH, 390, th, hysteresis=0.1)
    assert state == SOFT
    # oscillating between just under soft and just over high does not leave soft ...
    for free in (399, 610, 390, 655, 380):
        state = next_state(state, free, th, hysteresis=0.1)
        assert state == SOFT
    # ... until free memory exceeds the high threshold by the hysteresis margin
    assert next_state(state, 661, th, hysteresis=0.1) == HIGH
    # several levels at once when memory comes back fast
    assert next_state(LOW, 10_000, th) == HIGH


@given(st.integers(0, 5000), st.integers(0, 5000))
def test_state_for_free_is_monotone(a, b):
    th = Thresholds(600, 400, 200, 100)
    lo, hi = sorted((a, b))
    assert state_for_free(lo, th) >= state_for_free(hi, th)


def test_techniques_enter_in_the_documented_order():
    for policy, table in TECHNIQUES_BY_STATE.items():
        assert table[HIGH] == {"share"}
        assert "balloon" in table[SOFT] and "swap" not in table[SOFT]
        assert "swap" in table[HARD] and "swap" in table[LOW]
        assert all("block" not in table[s] for s in (HIGH, SOFT, HARD)) and "block" in table[LOW]
    assert "compress" in TECHNIQUES_BY_STATE["vsphere5"][HARD]
    assert "balloon" not in TECHNIQUES_BY_STATE["vsphere5"][HARD]
    assert "swap_if_no_balloon" in TECHNIQUES_BY_STATE["esx2002"][SOFT]


vm_alloc = st.lists(
    st.tuples(
        st.integers(1, 100_000),        # allocation
        st.floats(0, 1),                # active fraction
        st.integers(1, 1000),           # shares
        st.floats(0, 1),                # floor fraction
    ),
    min_size=1, max_size=6,
)


@settings(max_examples=200)
@given(vm_alloc, st.floats(0, 0.99), st.floats(0, 1.2))
def test_targets_reclaim_what_was_asked_within_floors(vms, tau, frac):
    P = [v[0] for v in vms]
    A = [v[0] * v[1] for v in vms]
    S = [v[2] for v in vms]
    F = [v[0] * v[3] for v in vms]
    reclaim = frac * sum(P)
    new = idle_tax_targets(P, A, S, F, tau, reclaim)
    for p, f, x in zip(P, F, new):
        assert f - 1e-6 <= x <= p + 1e-6
    expected = min(reclaim, sum(p - f for p, f in zip(P, F)))
    assert math.isclose(sum(P) - sum(new), expected, rel_tol=1e-6, abs_tol=1e-3)


@settings(max_examples=200)
@given(vm_alloc, st.floats(0, 0.99), st.floats(0.01, 0.9))
def test_losers_end_with_equal_adjusted_ratio(vms, tau, frac):
    """Min-funding revocation: every VM that lost pages but is above its floor has the same rho,
    and no VM that kept everything has a lower rho than them (Waldspurger 2002 section 5.2)."""
    P = [float(v[0]) for v in vms]
    A = [v[0] * v[1] for v in vms]
    S = [float(v[2]) for v in vms]
    F = [v[0] * v[3] for v in vms]
    new = idle_tax_targets(P, A, S, F, tau, frac * sum(P))
    losing = [i for i in range(len(P)) if new[i] < P[i] - 1e-6 and new[i] > F[i] + 1e-6]
    rhos = [adjusted_ratio(S[i], new[i], min(A[i], new[i]), tau) for i in losing]
    if len(rhos) >= 2:
        assert max(rhos) <= min(rhos) * (1 + 1e-6) + 1e-12
    keepers = [i for i in range(len(P)) if new[i] >= P[i] - 1e-6 and F[i] < P[i] - 1e-6]
    for i in keepers:
        for r in rhos:
            assert adjusted_ratio(S[i], P[i], A[i], tau) >= r * (1 - 1e-6)


def test_without_tax_memory_follows_shares_only():
    # two VMs, shares 1:3, both fully idle or fully active: allocations end in a 1:3 ratio
    for act in (0.0, 1.0):
        new = idle_tax_targets([1000, 1000], [1000 * act] * 2, [1, 3], [0, 0], 0.0, 1000)
        assert math.isclose(new[1] / new[0], 3.0, rel_tol=1e-9)


@given(st.floats(0.0, 0.99), st.floats(0.0, 0.99))
def test_higher_tax_takes_more_from_the_idle_vm(t1, t2):
    assume(abs(t1 - t2) > 1e-3)
    lo, hi = sorted((t1, t2))
    args = ([1000, 1000], [50, 950], [1, 1], [0, 0])
    idle_lo, busy_lo = idle_tax_targets(*args, lo, 500)
    idle_hi, busy_hi = idle_tax_targets(*args, hi, 500)
    assert idle_hi <= idle_lo + 1e-9 and busy_hi >= busy_lo - 1e-9


def test_idle_page_costs_k_active_pages():
    # tau = 0.75: k = 4, an idle page is charged like four active ones
    assert adjusted_ratio(400, 100, 100, 0.75) == pytest.approx(4 * adjusted_ratio(400, 100, 0, 0.75))
    assert adjusted_ratio(10, 0, 0, 0.5) == math.inf


def test_esx2002_states_use_the_techniques_the_paper_names():
    """Waldspurger 2002, section 6.3: no reclamation in high; soft balloons and pages only where
    ballooning is not possible; hard relies on paging; low pages and blocks VMs above target.
    Sharing is a background scan in every state (section 4.2)."""
    from virtbook.memory import TECHNIQUES_BY_STATE
    high, soft, hard, low = TECHNIQUES_BY_STATE["esx2002"]
    assert high == {"share"}
    assert soft == {"share", "balloon", "swap_if_no_balloon"}
    assert hard == {"share", "swap"}
    assert low == {"share", "swap", "block"}


def test_vsphere_states_use_the_techniques_vmware_tabulates():
    """vSphere 5.5/6.0 as VMware's engineers tabulate it: high shares, soft shares and balloons,
    hard shares, compresses and swaps (no balloon), low compresses, swaps and blocks."""
    from virtbook.memory import TECHNIQUES_BY_STATE
    high, soft, hard, low = TECHNIQUES_BY_STATE["vsphere5"]
    assert (high, soft) == ({"share"}, {"share", "balloon"})
    assert hard == {"share", "compress", "swap"} and low == {"compress", "swap", "block"}
