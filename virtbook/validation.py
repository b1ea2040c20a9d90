"""Published results that the simulators reproduce, one row each, for the Validation page.

The book's demos run simulators of real hypervisors; a reader should be able to see how we know
they are right. Each :class:`PublishedResult` names a number stated by a primary source (a paper's
text or figure, a kernel or hypervisor manual), the function that measures the same quantity with
the simulator, and the tolerance within which the two must agree. ``tests/test_published_results.py``
asserts every row, and ``validation.ipynb`` draws its table from the same rows, so the page cannot
show a number that no test checks.

Rows are contributed by the modules that own the models (``virtbook.cpu.published`` and
``virtbook.memory.published``), each listing a module-level ``RESULTS`` tuple; :func:`all_results`
gathers them in that order.

>>> row = PublishedResult(
...     key="example", model="cpu", system="Toy", quantity="Share of the heavier VM",
...     source="ostep", where="chapter 9", published=0.5, unit="of a pCPU",
...     tolerance=0.01, measure=lambda: 0.504)
>>> row.check()
0.504
>>> row.agrees(0.504), row.agrees(0.52)
(True, False)
"""
from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from typing import Callable

#: The modules that contribute rows, in the order the page lists them.
SOURCES = ("virtbook.cpu.published", "virtbook.memory.published")

#: Where each row's assertion lives (the page links each row to it).
TEST_FILE = "tests/test_published_results.py"


@dataclass(frozen=True)
class PublishedResult:
    """One published number and how the simulator reproduces it.

    ``published`` is the source's number as the source states it (in ``unit``); ``measure`` runs the
    simulator on the source's setup and returns the same quantity; the two agree when
    ``abs(measured - published) <= tolerance``. ``where`` locates the number in the source (section,
    figure or table), and ``source`` is its key in ``references.bib``. ``note`` says, where needed,
    how the setup was read from the source.
    """

    key: str
    model: str
    system: str
    quantity: str
    source: str
    where: str
    published: float
    unit: str
    tolerance: float
    measure: Callable[[], float] = field(repr=False, compare=False)
    note: str = ""

    def __post_init__(self) -> None:
        if not self.key or not self.key.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"key must be a non-empty identifier of letters, digits, - and _, "
                             f"got {self.key!r}")
        if self.model not in ("cpu", "memory"):
            raise ValueError(f"model must be one of 'cpu', 'memory', got {self.model!r}")
        if not (isinstance(self.tolerance, (int, float)) and math.isfinite(self.tolerance)
                and self.tolerance >= 0):
            raise ValueError(f"tolerance must be a finite number at least 0, got {self.tolerance!r}")
        if not callable(self.measure):
            raise ValueError(f"measure must be a function of no arguments, got {self.measure!r}")

    def check(self) -> float:
        """Run the simulator and return its number (a float)."""
        return float(self.measure())

    def agrees(self, measured: float) -> bool:
        """True when ``measured`` lies within ``tolerance`` of the published number."""
        return abs(float(measured) - self.published) <= self.tolerance

    @property
    def test_id(self) -> str:
        """The pytest node id of the test that asserts this row."""
        return f"{TEST_FILE}::test_simulator_reproduces_published_result[{self.key}]"


def all_results() -> list[PublishedResult]:
    """Every row from every contributing module, in :data:`SOURCES` order; keys are unique."""
    rows: list[PublishedResult] = []
    for name in SOURCES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        rows.extend(module.RESULTS)
    keys = [r.key for r in rows]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"published results must have unique keys; repeated: {duplicates}")
    return rows


def _number(value: float) -> str:
    """A number as the table prints it: up to three significant decimals, no trailing zeros."""
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


def bib_labels(bibtex: str) -> dict[str, str]:
    r"""Short "Author Year" labels for the entries of a BibTeX text, by key.

    >>> bib_labels("@book{k1,\n author = {Doe, Jane and Roe, Rick},\n year = {2018},\n}")
    {'k1': 'Doe and Roe 2018'}
    >>> bib_labels("@misc{k2,\n author = {{Xen Project}},\n year = {2024},\n}")
    {'k2': 'Xen Project 2024'}
    """
    labels: dict[str, str] = {}
    for match in re.finditer(r"^@\w+\{\s*([^,\s]+)\s*,(.*?)^\}", bibtex, re.M | re.S):
        key, body = match.group(1), match.group(2)
        author = re.search(r"\bauthor\s*=\s*\{(.*?)\},?\s*$", body, re.M)
        year = re.search(r"\byear\s*=\s*\{?(\d{4})", body)
        names = []
        if author:
            raw = author.group(1)
            if raw.startswith("{") and raw.endswith("}"):
                names = [raw[1:-1]]
            else:
                names = [part.split(",")[0].strip() for part in raw.split(" and ")]
        who = names[0] if len(names) == 1 else (
            f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al.") if names else key
        labels[key] = f"{who} {year.group(1)}" if year else who
    return labels


def table(rows: list[PublishedResult], measured: dict[str, float], source_url: str = "",
          labels: dict[str, str] | None = None) -> str:
    """A Markdown table of the rows beside the simulator's numbers (``measured``, by key).

    ``source_url`` (the book's source tree, e.g. ``https://github.com/o/r/blob/main``) turns each
    row's test into a link to the test file;
    ``labels`` (from :func:`bib_labels`) names each source by author and year instead of its key.
    """
    missing = [r.key for r in rows if r.key not in measured]
    if missing:
        raise ValueError(f"measured must have a number for every row; missing: {missing}")
    head = ("| System | What is reproduced | Source | Published | Simulator | Tolerance | Agrees | "
            "Asserted by |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        value = measured[r.key]
        where = f"{(labels or {}).get(r.source, r.source)}, {r.where}"
        test = f"`{r.key}`"
        if source_url:
            test = f"[`{r.key}`]({source_url.rstrip('/')}/{TEST_FILE})"
        verdict = "yes" if r.agrees(value) else "**NO**"
        quantity = r.quantity + (f" ({r.note})" if r.note else "")
        lines.append(f"| {r.system} | {quantity} | {where} | {_number(r.published)} {r.unit} | "
                     f"{_number(value)} {r.unit} | ± {_number(r.tolerance)} | {verdict} | {test} |")
    return "\n".join(lines)
