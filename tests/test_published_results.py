"""The simulators reproduce the published results the Validation page lists.

Each row of ``virtbook.validation.all_results()`` is a number stated by a primary source and a
simulator run on the source's setup; the test named in the row (and linked from the page) is the
one below, so every number on the page is asserted here.
"""
from __future__ import annotations

import re

import pytest

from booklib import load_notebook, source
from virtbook.validation import PublishedResult, all_results

ROWS = all_results()
PAGE = "validation.ipynb"


def test_the_cpu_and_memory_simulators_have_rows():
    assert sum(r.model == "cpu" for r in ROWS) >= 7
    memory = {r.key for r in ROWS if r.model == "memory"}
    # Waldspurger's idle tax (tax 0 and 0.75), ballooning, page-sharing savings, KSM scan timing
    # and the kernel's two-scan rule for merging
    assert {"waldspurger-tax-0", "waldspurger-tax-75", "waldspurger-balloon", "ksm-pages-sharing",
            "ksm-scan-rate", "ksm-first-merge", "ksm-merged-by-second-scan"} <= memory


@pytest.mark.parametrize("row", ROWS, ids=[r.key for r in ROWS])
def test_simulator_reproduces_published_result(row: PublishedResult):
    measured = row.check()
    assert row.agrees(measured), (
        f"{row.system}: {row.quantity}: the source ({row.source}, {row.where}) states "
        f"{row.published} {row.unit}; the simulator gives {measured:.6g} {row.unit}, outside "
        f"the tolerance of {row.tolerance}")


def test_row_ids_name_this_file():
    for row in ROWS:
        file, _, name = row.test_id.partition("::")
        assert file == f"tests/{__name__.rpartition('.')[2]}.py"
        assert name == f"test_simulator_reproduces_published_result[{row.key}]"


def test_every_source_is_in_the_bibliography_and_cited_on_the_page(root):
    keys = set(re.findall(r"^@\w+\{\s*([^,\s]+)\s*,", (root / "references.bib").read_text(), re.M))
    nb = load_notebook(root / PAGE)
    prose = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    cited = {k.strip() for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", prose)
             for k in group.split(",")}
    for row in ROWS:
        assert row.source in keys, f"{row.key}: source {row.source!r} is not in references.bib"
        assert row.source in cited, f"{row.key}: source {row.source!r} is not cited on {PAGE}"


def test_page_shows_every_row_with_the_simulators_number(root):
    nb = load_notebook(root / PAGE)
    shown = "\n".join(
        "".join(out.get("data", {}).get("text/markdown", ""))
        for c in nb["cells"] if c["cell_type"] == "code" for out in c.get("outputs", []))
    for row in ROWS:
        assert f"`{row.key}`" in shown, f"{PAGE} does not show row {row.key}; run make outputs"
    assert "**NO**" not in shown, f"{PAGE} shows a row that disagrees with its source"


def test_a_wrong_published_number_is_caught():
    row = ROWS[0]
    wrong = PublishedResult(
        key="wrong", model=row.model, system=row.system, quantity=row.quantity,
        source=row.source, where=row.where, published=row.published + 10 * row.tolerance + 1,
        unit=row.unit, tolerance=row.tolerance, measure=row.measure)
    assert not wrong.agrees(wrong.check())


@pytest.mark.parametrize("field, value, message", [
    ("key", "has space", "key must be a non-empty identifier"),
    ("model", "disk", "model must be one of 'cpu', 'memory'"),
    ("tolerance", -1, "tolerance must be a finite number at least 0"),
    ("measure", 3, "measure must be a function of no arguments"),
])
def test_bad_rows_are_refused(field, value, message):
    fields = dict(key="k", model="cpu", system="s", quantity="q", source="x", where="w",
                  published=1.0, unit="u", tolerance=0.1, measure=lambda: 1.0)
    fields[field] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        PublishedResult(**fields)
