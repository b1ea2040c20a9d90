"""Classic single-CPU scheduling policies: the baseline every operating-systems course starts from.

Two families live here.

* :func:`classic` runs FIFO, SJF, STCF and Round Robin over a list of :class:`Job` and reports the
  metrics of Arpaci-Dusseau & Arpaci-Dusseau, *Operating Systems: Three Easy Pieces* (OSTEP),
  chapter 7 "Scheduling: Introduction" (https://pages.cs.wisc.edu/~remzi/OSTEP/cpu-sched.pdf):

  - turnaround = completion - arrival   (OSTEP section 7.2)
  - response   = first run - arrival    (OSTEP section 7.6)
  - wait       = time ready but not running = turnaround - length for jobs without I/O
    (the "wait" column of OSTEP's ``scheduler.py`` homework simulator).

* :func:`proportional` runs the proportional-share schedulers of OSTEP chapter 9 "Scheduling:
  Proportional Share": lottery scheduling (Waldspurger & Weihl, "Lottery Scheduling: Flexible
  Proportional-Share Resource Management", OSDI 1994) and stride scheduling (Waldspurger & Weihl,
  "Stride Scheduling: Deterministic Proportional-Share Resource Management", MIT LCS technical
  report, 1995). As in OSTEP section 9.6, a job's stride is a large constant (10,000) divided by
  its tickets, and each step runs the job with the lowest pass value.

Like OSTEP's homework simulators, a run is deterministic and can print a trace a student checks by
hand:

>>> stats = classic([Job(5), Job(10), Job(15)], policy="RR", quantum=1)
>>> [s.response for s in stats]
[0.0, 1.0, 2.0]
>>> round(stats.average("turnaround"), 2), round(stats.average("wait"), 2)
(22.33, 12.33)
>>> print(classic([Job(3), Job(1, arrival=1)], policy="STCF").trace())
t=   0.00 ..    1.00  run job 0
t=   1.00 ..    2.00  run job 1
t=   2.00 ..    4.00  run job 0
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np

from .._validate import check_choice, check_int, check_ints, check_real

POLICIES = ("FIFO", "SJF", "STCF", "RR")
PROPORTIONAL_POLICIES = ("stride", "lottery")
STRIDE_CONSTANT = 10_000
"""The "large number" OSTEP divides by a job's tickets to get its stride (OSTEP section 9.6)."""

#: Most jobs :func:`classic` accepts, and most CPU slices it will record: every slice is one step
#: of a Python loop and one row of the timeline, and 200,000 of them take well under a second on
#: the book's 2-core machine. A run that would need more is refused before it starts.
MAX_JOBS = 10_000
MAX_SLICES = 200_000
#: Most steps :func:`proportional` runs (stride: one heap operation each; lottery: one draw each).
MAX_STRIDE_STEPS = 1_000_000
MAX_LOTTERY_STEPS = 10_000_000

_EPS = 1e-9


@dataclass(frozen=True)
class Job:
    """A CPU burst that arrives at ``arrival`` and needs ``length`` units of CPU time.

    Units are whatever the student chooses (OSTEP uses seconds); they only have to agree.
    """

    length: float
    arrival: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", check_real("length", self.length, 0.0, lo_open=True))
        object.__setattr__(self, "arrival", check_real("arrival", self.arrival, 0.0))


@dataclass(frozen=True)
class JobStats:
    """What happened to one job: the OSTEP chapter 7 metrics and the raw times behind them."""

    index: int
    length: float
    arrival: float
    first_run: float
    completion: float

    @property
    def response(self) -> float:
        """First run minus arrival (OSTEP 7.6)."""
        return self.first_run - self.arrival

    @property
    def turnaround(self) -> float:
        """Completion minus arrival (OSTEP 7.2)."""
        return self.completion - self.arrival

    @property
    def wait(self) -> float:
        """Time spent ready but not running: turnaround minus the CPU time the job needed."""
        return self.turnaround - self.length


@dataclass(frozen=True)
class ClassicResult(Sequence[JobStats]):
    """One :class:`JobStats` per job, in input order, plus the run's timeline.

    It behaves like a tuple of records (``len``, indexing, iteration), so
    ``[s.turnaround for s in result]`` works, and adds :meth:`average` and :meth:`trace`.
    """

    policy: str
    quantum: float | None
    jobs: tuple[JobStats, ...]
    timeline: tuple[tuple[float, float, int], ...] = field(repr=False)
    """Slices ``(start, end, job index)`` in time order; gaps are idle CPU."""

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i):  # type: ignore[override]
        return self.jobs[i]

    def __iter__(self) -> Iterator[JobStats]:
        return iter(self.jobs)

    def average(self, metric: str) -> float:
        """Mean of ``"response"``, ``"turnaround"`` or ``"wait"`` over the jobs."""
        check_choice("metric", metric, ("response", "turnaround", "wait"))
        return float(np.mean([getattr(s, metric) for s in self.jobs]))

    def trace(self) -> str:
        """One line per slice of CPU time, in the style of OSTEP's ``scheduler.py -c``."""
        return "\n".join(f"t={s:7.2f} .. {e:7.2f}  run job {j}" for s, e, j in self.timeline)


def classic(jobs: Sequence[Job], policy: str = "FIFO", quantum: float = 1.0) -> ClassicResult:
    """Run ``jobs`` on one CPU under ``policy`` and return one record per job, in input order.

    Policies (OSTEP chapter 7): ``"FIFO"`` runs jobs in arrival order to completion; ``"SJF"``
    (shortest job first) picks the shortest arrived job and runs it to completion; ``"STCF"``
    (shortest time-to-completion first) re-decides at every arrival and runs the job with the least
    remaining work, preempting if needed; ``"RR"`` runs each ready job for ``quantum`` then moves it
    to the back of the queue.

    Ties are broken by arrival time, then by position in ``jobs``. In RR a job that arrives at the
    same instant another job's quantum expires joins the queue first. The CPU idles when no job has
    arrived yet. ``quantum`` is used only by RR.
    """
    check_choice("policy", policy, POLICIES)
    q = check_real("quantum", quantum, 0.0, lo_open=True)
    if isinstance(jobs, Job):
        raise ValueError("jobs must be a sequence of Job, got a single Job")
    if isinstance(jobs, (str, bytes)) or not isinstance(jobs, Iterable):
        raise ValueError(f"jobs must be a sequence of Job, got {jobs!r}")
    jobs = list(jobs)
    if not jobs:
        raise ValueError("jobs must contain at least 1 Job, got 0")
    if len(jobs) > MAX_JOBS:
        raise ValueError(f"jobs must hold at most {MAX_JOBS} Job, got {len(jobs)}")
    for i, job in enumerate(jobs):
        if not isinstance(job, Job):
            raise ValueError(f"jobs[{i}] must be a Job, got {job!r}")
    if policy == "RR":
        slices = estimate_slices(jobs, q)
        if slices > MAX_SLICES:
            raise ValueError(
                f"quantum={q:g} with jobs of total length {sum(j.length for j in jobs):g} would "
                f"need about {slices:.3g} round-robin slices; the limit is {MAX_SLICES:,}: "
                f"raise quantum or shorten the jobs"
            )
    if policy == "RR":
        timeline = _round_robin(jobs, q)
    else:
        timeline = _by_priority(jobs, policy)
    first: dict[int, float] = {}
    done: dict[int, float] = {}
    for start, end, j in timeline:
        first.setdefault(j, start)
        done[j] = end
    stats = tuple(
        JobStats(i, job.length, job.arrival, first[i], done[i]) for i, job in enumerate(jobs)
    )
    return ClassicResult(policy, q if policy == "RR" else None, stats, tuple(timeline))


def estimate_slices(jobs: Sequence[Job], quantum: float) -> float:
    """How many slices round robin records for ``jobs``: each job's length in quanta, rounded up.

    This is exact for jobs that never wait; a job that arrives while the CPU is idle adds no slice.

    >>> estimate_slices([Job(5), Job(10)], 1)
    15.0
    """
    return float(sum(math.ceil(j.length / quantum - _EPS) for j in jobs))


def _by_priority(jobs: list[Job], policy: str) -> list[tuple[float, float, int]]:
    """FIFO, SJF and STCF: pick by a priority key at each decision point."""
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].arrival, i))
    remaining = [job.length for job in jobs]
    ready: list[tuple[float, float, int]] = []
    timeline: list[tuple[float, float, int]] = []
    now = 0.0
    nxt = 0  # next job in arrival order not yet admitted

    def key(i: int) -> tuple[float, float, int]:
        if policy == "FIFO":
            return (jobs[i].arrival, 0.0, i)
        if policy == "SJF":
            return (jobs[i].length, jobs[i].arrival, i)
        return (remaining[i], jobs[i].arrival, i)  # STCF

    while nxt < len(order) or ready:
        while nxt < len(order) and jobs[order[nxt]].arrival <= now + _EPS:
            heapq.heappush(ready, key(order[nxt]))
            nxt += 1
        if not ready:
            now = jobs[order[nxt]].arrival
            continue
        _, _, j = heapq.heappop(ready)
        run_until = now + remaining[j]
        if policy == "STCF" and nxt < len(order):
            run_until = min(run_until, jobs[order[nxt]].arrival)
        ran = run_until - now
        if timeline and timeline[-1][2] == j and abs(timeline[-1][1] - now) < _EPS:
            timeline[-1] = (timeline[-1][0], run_until, j)
        else:
            timeline.append((now, run_until, j))
        remaining[j] -= ran
        now = run_until
        if remaining[j] > _EPS:
            heapq.heappush(ready, key(j))
    return timeline


def _round_robin(jobs: list[Job], quantum: float) -> list[tuple[float, float, int]]:
    """Round Robin with a fixed quantum; new arrivals queue ahead of the job just preempted."""
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].arrival, i))
    remaining = [job.length for job in jobs]
    queue: deque[int] = deque()
    timeline: list[tuple[float, float, int]] = []
    now = 0.0
    nxt = 0
    while nxt < len(order) or queue:
        while nxt < len(order) and jobs[order[nxt]].arrival <= now + _EPS:
            queue.append(order[nxt])
            nxt += 1
        if not queue:
            now = jobs[order[nxt]].arrival
            continue
        j = queue.popleft()
        ran = min(quantum, remaining[j])
        timeline.append((now, now + ran, j))
        now += ran
        remaining[j] -= ran
        while nxt < len(order) and jobs[order[nxt]].arrival <= now + _EPS:
            queue.append(order[nxt])
            nxt += 1
        if remaining[j] > _EPS:
            queue.append(j)
    return timeline


@dataclass(frozen=True)
class ProportionalResult:
    """The outcome of :func:`proportional`: which job ran at each step, and how often each ran."""

    policy: str
    tickets: tuple[int, ...]
    order: np.ndarray
    """Index of the job that ran at each step (``steps`` entries)."""
    counts: np.ndarray
    """How many steps each job ran."""

    @property
    def shares(self) -> np.ndarray:
        """Fraction of steps each job ran; compare with :attr:`ticket_shares`."""
        return self.counts / max(1, int(self.counts.sum()))

    @property
    def ticket_shares(self) -> np.ndarray:
        """Each job's fraction of all tickets: the share both policies aim for."""
        t = np.asarray(self.tickets, dtype=float)
        return t / t.sum()

    def trace(self, limit: int = 50) -> str:
        """The first ``limit`` steps, one line each, as OSTEP's chapter 9 tables show them."""
        names = [chr(ord("A") + i) if i < 26 else f"J{i}" for i in range(len(self.tickets))]
        return "\n".join(f"step {s:4d}: run {names[j]}" for s, j in enumerate(self.order[:limit]))


def proportional(
    tickets: Sequence[int],
    policy: str = "stride",
    steps: int = 1000,
    seed: int = 0,
) -> ProportionalResult:
    """Run ``steps`` equal quanta among jobs holding ``tickets`` under stride or lottery scheduling.

    Stride (deterministic): stride = 10,000 / tickets; each step runs the job with the lowest pass
    value (ties go to the lowest index) and adds its stride to its pass. With tickets 100:50:250 the
    strides are 100, 200 and 40, and every 8 steps the jobs run 2, 1 and 5 times (the stride trace
    in OSTEP section 9.6).

    Lottery (randomised): each step draws a winning ticket uniformly from all tickets, using
    ``numpy.random.default_rng(seed)``, so the same seed repeats the run exactly. Shares converge to
    the ticket ratio as ``steps`` grows.

    >>> r = proportional([100, 50, 250], policy="stride", steps=8)
    >>> r.counts.tolist()
    [2, 1, 5]
    """
    check_choice("policy", policy, PROPORTIONAL_POLICIES)
    limit = MAX_LOTTERY_STEPS if policy == "lottery" else MAX_STRIDE_STEPS
    n_steps = check_int("steps", steps, 1, limit)
    seed_v = check_int("seed", seed, 0)
    t = check_ints("tickets", tickets, 1, STRIDE_CONSTANT)
    if policy == "lottery":
        rng = np.random.default_rng(seed_v)
        cum = np.cumsum(t)
        winners = rng.integers(0, int(cum[-1]), size=n_steps)
        order = np.searchsorted(cum, winners, side="right")
    else:
        # Exact integer strides proportional to 10,000 / tickets: the same schedule as OSTEP's,
        # without floating-point rounding deciding ties.
        scale = math.lcm(*t)
        strides = [scale // x for x in t]
        heap = [(0, i) for i in range(len(t))]
        heapq.heapify(heap)
        out = np.empty(n_steps, dtype=np.int64)
        for s in range(n_steps):
            pass_value, i = heapq.heappop(heap)
            out[s] = i
            heapq.heappush(heap, (pass_value + strides[i], i))
        order = out
    counts = np.bincount(order, minlength=len(t))
    return ProportionalResult(policy, t, np.asarray(order, dtype=np.int64), counts)
