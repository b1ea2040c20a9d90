"""The memory-hierarchy module: the published table, the live measurement, the sysfs reader.

Timing tests assert only what holds on any machine with caches smaller than the array (random
access over 256 MiB is slower than sequential access by a wide margin); everything else is
checked with a fake timer or on structure, so the suite never flakes on a busy machine.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtbook import hierarchy as h
from virtbook.figures import hierarchy as hierarchy_figures
from virtbook.hierarchy import KiB, MiB

NAMES = [lv.name for lv in h.PUBLISHED_LEVELS]


# ---- the published table --------------------------------------------------------------------

def test_published_levels_get_slower_down_the_hierarchy():
    levels = h.published_levels()
    latencies = [lv.latency_ns for lv in levels]
    assert all(x > 0 for x in latencies)
    assert latencies == sorted(latencies) and len(set(latencies)) == len(latencies)
    assert levels[0].name == "CPU register" and levels[-1].name == "HDD random read"
    assert len(set(NAMES)) == len(NAMES)


def test_every_source_is_a_key_of_the_bibliography(root):
    bib = (root / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", bib, re.M))
    missing = {lv.source for lv in h.PUBLISHED_LEVELS} - keys
    assert not missing, f"sources not in references.bib: {missing}"
    assert all(lv.detail and lv.size for lv in h.PUBLISHED_LEVELS)


def test_hdd_row_is_seek_plus_half_a_rotation():
    # 7200 RPM: one turn takes 60/7200 s = 8.33 ms, on average half a turn = 4.17 ms
    half_turn_ms = 60_000 / 7200 / 2
    assert h.level("HDD random read").latency_ns == pytest.approx((7.4 + half_turn_ms) * 1e6,
                                                                   rel=1e-3)


@given(st.sampled_from(NAMES), st.sampled_from(NAMES))
def test_latency_ratio_is_a_quotient(a, b):
    assert h.latency_ratio(a, b) * h.latency_ratio(b, a) == pytest.approx(1.0)
    assert (h.latency_ratio(a, b) > 1) == (h.level(a).latency_ns > h.level(b).latency_ns)


def test_unknown_level_names_the_parameter_and_the_choices():
    with pytest.raises(ValueError, match=r"name must be one of .*'L1 cache'.*got 'L4 cache'"):
        h.level("L4 cache")


# ---- access patterns ------------------------------------------------------------------------

@given(n=st.integers(1, 5000), k=st.integers(1, 5000), data=st.data())
def test_sequential_walks_consecutive_elements_and_wraps(n, k, data):
    start = data.draw(st.integers(0, n - 1))
    idx = h.gather_indices(n, k, "sequential", start=start)
    assert idx.dtype == np.int64 and idx.shape == (k,)
    assert np.array_equal(idx, (start + np.arange(k)) % n)


@given(n=st.integers(1, 3000), k=st.integers(1, 3000), seed=st.integers(0, 2**32))
def test_random_visits_each_stratum_once_per_round(n, k, seed):
    idx = h.gather_indices(n, k, "random", np.random.default_rng(seed))
    assert idx.shape == (k,) and idx.min() >= 0 and idx.max() < n
    m = min(n, k)
    first_round = idx[:m]
    # one position in each of m equal strata of the array, each stratum exactly once
    assert sorted((first_round // (n // m)).tolist()) == list(range(m))
    if n <= k:  # a true permutation of the whole array, repeated
        counts = np.bincount(idx, minlength=n)
        assert counts.max() - counts.min() <= 1


def test_random_order_is_reproducible_from_the_seed():
    a = h.gather_indices(1 << 16, 1 << 12, "random", np.random.default_rng(7))
    b = h.gather_indices(1 << 16, 1 << 12, "random", np.random.default_rng(7))
    c = h.gather_indices(1 << 16, 1 << 12, "random", np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_random_order_is_not_sequential():
    idx = h.gather_indices(1 << 14, 1 << 14, "random", np.random.default_rng(0))
    steps = np.diff(idx)
    assert np.mean(steps == 1) < 0.01


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_elements=16, accesses=16, pattern="strided"), "pattern must be one of"),
    (dict(n_elements=16, accesses=16, pattern="random", rng=None), "rng must be"),
    (dict(n_elements=0, accesses=16, pattern="sequential"), "n_elements must be an integer in 1.."),
    (dict(n_elements=16, accesses=0, pattern="sequential"), "accesses must be an integer in 1.."),
    (dict(n_elements=16, accesses=4, pattern="sequential", start=16),
     r"start must be an integer in 0\.\.15, got 16"),
])
def test_gather_indices_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        h.gather_indices(**kwargs)


# ---- the measurement ------------------------------------------------------------------------

SMALL = (16 * KiB, 32 * KiB, 64 * KiB)


def test_measurement_has_one_value_per_size_and_records_its_settings():
    r = h.measure_access_times(SMALL, accesses=4096, repeats=3, seed=5)
    assert r.sizes_bytes == SMALL
    assert len(r.sequential_ns) == len(r.random_ns) == len(SMALL)
    assert all(t > 0 for t in r.sequential_ns + r.random_ns)
    assert (r.accesses, r.repeats, r.seed) == (4096, 3, 5)
    assert r.slowdown() == pytest.approx([x / y for x, y in zip(r.random_ns, r.sequential_ns)])
    lines = r.trace().splitlines()
    assert len(lines) == len(SMALL) + 1 and lines[1].split()[:2] == ["16", "KiB"]


def test_every_run_gets_fresh_indices(monkeypatch):
    """The sequential window moves on and the random positions are redrawn for every run, so a
    large array is not served from lines that an earlier run left in the cache."""
    calls = []
    real = h.gather_indices

    def spy(n, k, pattern, rng=None, start=0):
        calls.append((pattern, start))
        return real(n, k, pattern, rng, start)

    monkeypatch.setattr(h, "gather_indices", spy)
    h.measure_access_times((64 * KiB,), accesses=1024, repeats=4)  # 8192 elements
    # three sweeps of 2, 1 and 1 timed runs, each after one warm-up run: seven runs in all
    assert [s for p, s in calls if p == "sequential"] == [1024 * i for i in range(7)]
    assert sum(p == "random" for p, _ in calls) == 7


def test_median_time_is_divided_by_the_number_of_accesses():
    ticks = iter(range(0, 10**9, 1000))  # every timed run lasts exactly 1000 ns
    r = h.measure_access_times(SMALL, accesses=2000, repeats=4, timer=lambda: next(ticks))
    assert r.sequential_ns == r.random_ns == (0.5, 0.5, 0.5)


def test_median_ignores_one_slow_outlier():
    durations = [10, 10_000, 10, 10, 10] * 2  # per pattern, one run in five was interrupted
    stamps, t = [], 0
    for d in durations:  # the timer is read once before and once after each timed run
        stamps += [t, t + d]
        t += d + 1
    ticks = iter(stamps)
    r = h.measure_access_times((16 * KiB,), accesses=1024, repeats=5, timer=lambda: next(ticks))
    assert r.sequential_ns[0] == r.random_ns[0] == pytest.approx(10 / 1024)


def test_random_access_over_a_large_array_is_slower_than_sequential():
    """The one real timing assertion: 256 MiB exceeds every cache and the TLB's reach, so random
    gathers miss where sequential ones stream; measured 5-10x here, asserted with a wide margin."""
    r = h.measure_access_times((256 * MiB,), accesses=1 << 17, repeats=15, seed=0)
    assert r.random_ns[0] > 1.5 * r.sequential_ns[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(sizes_bytes=()), r"sizes_bytes must hold at least 1 integer in 1024\.\.4294967296, got none"),
    (dict(sizes_bytes=(64 * KiB, 32 * KiB)), "sizes_bytes must be strictly increasing"),
    (dict(sizes_bytes=(16 * KiB, 16 * KiB)), "sizes_bytes must be strictly increasing"),
    (dict(sizes_bytes=(1000 + 4,)), r"sizes_bytes\[0\] must be an integer in 1024\.\.4294967296"),
    (dict(sizes_bytes=(1024 + 4,)), r"sizes_bytes\[0\] must be a multiple of 8 bytes"),
    (dict(sizes_bytes=(512,)), r"sizes_bytes\[0\] must be an integer in 1024\.\."),
    (dict(sizes_bytes=(8 * 2**30,)), r"sizes_bytes\[0\] must be an integer in 1024\.\."),
    (dict(accesses=100), r"accesses must be an integer in 1024\.\.67108864, got 100"),
    (dict(accesses=2.5e6), "accesses must be an integer"),
    (dict(repeats=0), r"repeats must be an integer in 1\.\.100, got 0"),
    (dict(repeats=True), "repeats must be an integer"),
    (dict(seed=-1), "seed must be an integer in 0 or more, got -1"),
])
def test_measurement_rejects_bad_input(kwargs, message):
    args = dict(sizes_bytes=SMALL, accesses=1024, repeats=1) | kwargs
    with pytest.raises(ValueError, match=message):
        h.measure_access_times(**args)


def test_default_sizes_span_16_kib_to_256_mib_in_doublings():
    s = h.DEFAULT_SIZES
    assert s[0] == 16 * KiB and s[-1] == 256 * MiB
    assert all(b == 2 * a for a, b in zip(s, s[1:]))


# ---- the machine's caches -------------------------------------------------------------------

@given(n=st.integers(1, 10**6), unit=st.sampled_from(["", "K", "M", "G"]))
def test_parse_cache_size_uses_binary_units(n, unit):
    scale = {"": 1, "K": KiB, "M": MiB, "G": 1024 * MiB}[unit]
    assert h.parse_cache_size(f"{n}{unit}\n") == n * scale


@pytest.mark.parametrize("text", ["", "K", "32 KB", "-1K", "3.5M", None])
def test_parse_cache_size_rejects_malformed_text(text):
    with pytest.raises(ValueError, match="text must be a size like"):
        h.parse_cache_size(text)


def _fake_sysfs(base, entries):
    for i, (level, kind, size) in enumerate(entries):
        d = base / f"index{i}"
        d.mkdir(parents=True)
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")


def test_read_cpu_caches_keeps_data_and_unified_caches(tmp_path):
    _fake_sysfs(tmp_path, [(3, "Unified", "32768K"), (1, "Data", "48K"), (1, "Instruction", "32K"),
                           (2, "Unified", "2048K"), (4, "Unified", "garbage")])
    caches = h.read_cpu_caches(tmp_path)
    assert [(c.label, c.size_bytes) for c in caches] == [
        ("L1d", 48 * KiB), ("L2", 2 * MiB), ("L3", 32 * MiB)]


def test_read_cpu_caches_returns_nothing_where_sysfs_is_missing(tmp_path):
    assert h.read_cpu_caches(tmp_path / "no-such-dir") == []


CACHES = [h.Cache(1, "Data", 32 * KiB), h.Cache(2, "Unified", MiB), h.Cache(3, "Unified", 32 * MiB)]


@given(st.integers(1, 256 * MiB))
def test_smallest_holder_is_the_smallest_cache_that_fits(size):
    label = h.smallest_holder(size, CACHES)
    fitting = [c for c in CACHES if c.size_bytes >= size]
    assert label == (min(fitting, key=lambda c: c.size_bytes).label if fitting else "memory")


def test_format_bytes():
    assert [h.format_bytes(n) for n in (512, 16 * KiB, 3 * MiB, 2**30, 1536)] == [
        "512 B", "16 KiB", "3 MiB", "1 GiB", "1536 B"]


# ---- figures --------------------------------------------------------------------------------

def test_published_figure_has_one_labelled_bar_per_level_with_a_second_channel():
    fig = hierarchy_figures.plot_published()
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == len(h.PUBLISHED_LEVELS)
    assert sum(1 for b in bars if b.get_hatch()) >= len(bars) - 1  # all but the plain first one
    names = [lv.name for lv in h.published_levels()]
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert ax.get_xscale() == "log"
    assert any(t.get_text() == "11.6 ms" for t in ax.texts)


def test_measurement_figure_marks_each_cache_and_degrades_without_them():
    r = h.AccessTimes((16 * KiB, 1 * MiB, 64 * MiB), (2.0, 2.0, 2.0), (2.0, 4.0, 10.0), 1024, 1, 0)
    with_caches = hierarchy_figures.plot_measurement(r, CACHES).axes[0]
    lines = [ln for ln in with_caches.get_lines() if ln.get_marker() not in (None, "None", "")]
    assert len(lines) == 2 and lines[0].get_marker() != lines[1].get_marker()
    assert len(with_caches.get_lines()) == 2 + len(CACHES)
    assert {t.get_text().split()[0] for t in with_caches.texts} == {"L1d", "L2", "L3"}
    without = hierarchy_figures.plot_measurement(r, []).axes[0]
    assert len(without.get_lines()) == 2 and not without.texts
