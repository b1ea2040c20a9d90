"""The benchmark scripts' shared timing module, and each script run once with the fewest runs.

The numbers themselves depend on the machine, so nothing here asserts on a duration; what is
checked is the statistics, the report's shape (command, median, p95, budget) and the arguments.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import _timing

ROOT = Path(__file__).resolve().parent.parent


@given(st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=1, max_size=50))
def test_summary_is_numpy_median_and_95th_percentile_in_ms(seconds):
    s = _timing.Summary.of(seconds)
    ms = np.asarray(seconds) * 1000.0
    assert s.n == len(seconds)
    assert s.median_ms == pytest.approx(np.median(ms))
    assert s.p95_ms == pytest.approx(np.percentile(ms, 95))
    assert s.min_ms <= s.median_ms <= s.p95_ms <= s.max_ms
    assert f"median {s.median_ms:6.1f} ms  p95 {s.p95_ms:6.1f} ms" in s.line()


def test_summary_refuses_no_timings():
    with pytest.raises(ValueError, match="seconds must be a non-empty 1-D sequence"):
        _timing.Summary.of([])


@pytest.mark.parametrize("median_s, verdict", [(0.039, "within"), (0.040, "within"),
                                               (0.041, "OVER")])
def test_budget_line_compares_the_median(median_s, verdict):
    line = _timing.budget_line("x", _timing.Summary.of([median_s]), 40)
    assert line.endswith(f"{verdict} the 40 ms budget")


def test_time_calls_counts_runs_and_warmups():
    calls = []
    wall, cpu = _timing.time_calls(lambda: calls.append(1), runs=4, warmup=2)
    assert len(calls) == 6 and len(wall) == len(cpu) == 4
    assert all(w >= 0 for w in wall) and all(c >= 0 for c in cpu)


def test_command_line_is_relative_to_the_repository():
    script = ROOT / "benchmarks" / "bench_cpu.py"
    assert _timing.command_line([str(script), "--runs", "5"]) == \
        "python benchmarks/bench_cpu.py --runs 5"


@pytest.mark.parametrize("text, minimum, ok", [("3", 1, True), ("0", 1, False), ("0", 0, True),
                                               ("-1", 0, False), ("two", 1, False)])
def test_count_accepts_whole_numbers_from_the_minimum(text, minimum, ok):
    parse = _timing.count(minimum)
    if ok:
        assert parse(text) == int(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=f"integer of {minimum} or more"):
            parse(text)


@pytest.mark.parametrize("script, args", [
    ("bench_cpu.py", ["--runs", "1"]),
    ("bench_memory.py", ["--runs", "1"]),
    ("bench_cpu_widget.py", ["--changes", "1"]),
    ("bench_memory_widget.py", ["--runs", "1"]),
])
def test_each_benchmark_reports_command_median_p95_and_budget(script, args):
    run = subprocess.run([sys.executable, f"benchmarks/{script}", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"command: python benchmarks/{script} {' '.join(args)}"
    assert any("median" in line and "p95" in line for line in lines)
    assert "ms budget" in lines[-1]


def test_a_benchmark_refuses_zero_runs():
    run = subprocess.run([sys.executable, "benchmarks/bench_memory.py", "--runs", "0"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "must be an integer of 1 or more" in run.stderr
