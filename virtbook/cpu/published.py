"""Published results the CPU simulators reproduce (rows of the book's Validation page).

Each row is a number stated by a primary source and the run of :mod:`virtbook.cpu` that
reproduces it; ``tests/test_published_results.py`` asserts every row and ``validation.ipynb``
prints them. See :mod:`virtbook.validation` for the fields.

The first rows are the worked examples of OSTEP's chapter 7 (Arpaci-Dusseau and
Arpaci-Dusseau, *Operating Systems: Three Easy Pieces*, "Scheduling: Introduction"), whose
figures 7.1-7.7 state each average in the text; the jobs are the chapter's own.
"""
from __future__ import annotations

from virtbook.cpu.classic import Job, classic
from virtbook.validation import PublishedResult

OSTEP = "arpacidusseau2018operating"


def _average(jobs, policy: str, metric: str, quantum: float = 1.0) -> float:
    return classic(jobs, policy=policy, quantum=quantum).average(metric)


def _three(a: float, b: float, c: float, late: float = 0.0) -> list[Job]:
    return [Job(a), Job(b, arrival=late), Job(c, arrival=late)]


RESULTS: tuple[PublishedResult, ...] = (
    PublishedResult(
        key="ostep-fifo-equal", model="cpu", system="FIFO (OSTEP)",
        quantity="Average turnaround of three 10 s jobs", source=OSTEP,
        where="ch. 7, Figure 7.1", published=20.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(10, 10, 10), "FIFO", "turnaround")),
    PublishedResult(
        key="ostep-fifo-convoy", model="cpu", system="FIFO (OSTEP)",
        quantity="Average turnaround, a 100 s job ahead of two 10 s jobs (convoy effect)",
        source=OSTEP, where="ch. 7, Figure 7.2", published=110.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(100, 10, 10), "FIFO", "turnaround")),
    PublishedResult(
        key="ostep-sjf", model="cpu", system="SJF (OSTEP)",
        quantity="Average turnaround of the same three jobs", source=OSTEP,
        where="ch. 7, Figure 7.3", published=50.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(100, 10, 10), "SJF", "turnaround")),
    PublishedResult(
        key="ostep-sjf-late", model="cpu", system="SJF (OSTEP)",
        quantity="Average turnaround when the 10 s jobs arrive at t = 10 s", source=OSTEP,
        where="ch. 7, Figure 7.4", published=103.33, unit="s", tolerance=0.005,
        measure=lambda: _average(_three(100, 10, 10, late=10), "SJF", "turnaround")),
    PublishedResult(
        key="ostep-stcf", model="cpu", system="STCF (OSTEP)",
        quantity="Average turnaround with preemption of the 100 s job", source=OSTEP,
        where="ch. 7, Figure 7.5", published=50.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(100, 10, 10, late=10), "STCF", "turnaround")),
    PublishedResult(
        key="ostep-rr-response", model="cpu", system="Round robin (OSTEP)",
        quantity="Average response time of three 5 s jobs, 1 s time slice", source=OSTEP,
        where="ch. 7, Figure 7.7", published=1.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(5, 5, 5), "RR", "response", quantum=1)),
    PublishedResult(
        key="ostep-sjf-response", model="cpu", system="SJF (OSTEP)",
        quantity="Average response time of the same jobs under SJF", source=OSTEP,
        where="ch. 7, Figure 7.6", published=5.0, unit="s", tolerance=0.0,
        measure=lambda: _average(_three(5, 5, 5), "SJF", "response")),
)
