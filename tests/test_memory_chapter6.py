"""Chapter 6's solutions: the numbers they work out by hand are the model's.

The simulator numbers the solutions quote are glued by the chapter's hidden cell (nbval runs it
and compares its output). The few numbers a solution derives by hand from the model's parameters
are asserted here; tests/test_solution_numbers.py lists each one against this file.
"""
from __future__ import annotations

import pytest

from booklib import ROOT, load_notebook, source
from virtbook.memory import Host, default_scenario
from virtbook.memory.config import PAGE_KIB

PAGE = ROOT / "chapters" / "06-sharing-memory.ipynb"


def _chapter_functions() -> dict:
    """Run the chapter's cells that define ``walk_references``, ``idle_fleet`` and ``saved_pct``
    (without running their demos) in one fresh namespace."""
    namespace: dict = {"__name__": "__chapter__"}
    cells = [source(c) for c in load_notebook(PAGE)["cells"] if c["cell_type"] == "code"]
    exec(compile(cells[0], "imports", "exec"), namespace)  # our own notebook
    for name in ("walk_references", "idle_fleet", "saved_pct"):
        cell = next(c for c in cells if f"def {name}(" in c)
        definition = cell.split(f"def {name}(", 1)[1]
        body = "def " + name + "(" + definition.split("\n\n\n", 1)[0]
        exec(compile(body, name, "exec"), namespace)
    return namespace


def test_ex_06_1_walk_lengths():
    walk = _chapter_functions()["walk_references"]
    # (n + 1)(m + 1) - 1 with n = m = 4 is 5 x 5 - 1; with m = 3 it is 5 x 4 - 1
    assert walk(4, 4) == 5 * 5 - 1 == 24 and walk(4, 3) == 5 * 4 - 1 == 19
    assert all(walk(n, m) == (n + 1) * (m + 1) - 1 for n in range(1, 6) for m in range(1, 6))


def test_ex_06_2_prediction_from_the_fleets_parameters():
    ns = _chapter_functions()
    fleet = ns["idle_fleet"](10)
    vm = fleet[0]
    assert (vm.zero_frac, vm.os_frac) == (0.05, 0.20)
    assert vm.phases[0].used_frac == 0.80                       # "80 % of 2 GiB each"
    assert (len(fleet) - 1, round(0.20 * 9 / 10, 2)) == (9, 0.18)
    assert Host(ram_mb=1024).max_page_sharing == 256          # mm/ksm.c's default


def test_ex_06_3_to_5_parameters_of_the_default_scenario():
    host, vms, _ = default_scenario()
    batch = next(v for v in vms if v.name == "batch")
    assert batch.shares == 5 * batch.mem_mb                     # ex-06-3: Low, 5 shares per MB
    slow = Host(ram_mb=1024, pages_to_scan=100, sleep_millisecs=20)
    assert 1000 / 20 == 50 and slow.ksm_scan_rate == 100 * 50   # ex-06-4: 100 pages x 50 wakes
    assert PAGE_KIB == 4                                        # ex-06-4: 4 KiB pages
    assert host.ram_mb == 16 * 1024                             # ex-06-5: a 16 GiB host


@pytest.mark.parametrize("n", [1, 10])
def test_ex_06_2_simulated_saving_matches_the_prediction(n):
    ns = _chapter_functions()
    roomy = Host(ram_mb=65536, ksm_thres_coef=100, pages_to_scan=4000, sleep_millisecs=10)
    predicted = 100 * (0.05 + 0.20 * (n - 1) / n)
    assert ns["saved_pct"](roomy, ns["idle_fleet"](n)) == pytest.approx(predicted, abs=0.5)
