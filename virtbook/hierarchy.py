"""The memory hierarchy: published latencies, and a live measurement on the reader's machine.

Chapter 1 argues that "memory" is not one thing but a ladder of technologies, each level larger,
cheaper per byte and slower than the one above it. This module gives the chapter two kinds of
evidence for that claim:

* :data:`PUBLISHED_LEVELS`, a table of typical access latencies from registers down to a hard disk,
  each row carrying the BibTeX key of its source in the book's ``references.bib`` and a note saying
  where in the source the number is and how it was converted to nanoseconds;
* :func:`measure_access_times`, a small experiment the reader runs on their own computer: it times
  sequential and random gathers (``numpy.take``) over arrays from 16 KiB to 256 MiB and reports the
  median nanoseconds per access. As the array outgrows each cache the random curve climbs a step;
  the sequential curve stays flat because hardware prefetchers stream consecutive cache lines.

:func:`read_cpu_caches` reads the machine's cache sizes from Linux sysfs (the ABI documented in
``Documentation/ABI/testing/sysfs-devices-system-cpu``, "cache/index*" attributes), and returns an
empty list where that interface does not exist, so the figures degrade gracefully on other systems.

The table and the index patterns are deterministic: the same ``seed`` gives the same access order.
Only the timings vary, because they are measurements of real hardware.

    >>> from virtbook import hierarchy
    >>> round(hierarchy.latency_ratio("DRAM (main memory)", "L1 cache"))
    103
    >>> hierarchy.parse_cache_size("32K")
    32768

A core module: it never prints and draws nothing (:mod:`virtbook.figures.hierarchy` draws).

Sources (BibTeX keys of the book's references.bib in brackets):

* [tanenbaum2023modern] A. S. Tanenbaum and H. Bos, *Modern Operating Systems*, 5th ed., Pearson,
  2023, Fig. 1-9 (registers < 1 ns, < 1 KB).
* [degelas2019amd] J. De Gelas, "AMD Rome Second Generation EPYC Review: 2x 64-core Benchmarked",
  AnandTech, Aug. 2019, https://www.anandtech.com/show/14694/amd-rome-epyc-2nd-gen, page 7
  "Memory Subsystem: Latency" (EPYC 7742: L1 4, L2 13, L3 ~34 cycles / ~10.27 ns; DRAM ~122 ns
  full random over 128 MB, NPS1).
* [intel2017intel] Intel, *Intel SSD Data Center S4500/S4600 Series Product Specification*,
  feature summary (random read latency 110 us typical; sequential read up to 500 MB/s).
* [dean2009designs] J. Dean, "Designs, Lessons and Advice from Building Large Distributed
  Systems", LADIS 2009 keynote,
  https://www.cs.cornell.edu/projects/ladis2009/talks/dean-keynote-ladis2009.pdf
  (round trip within the same datacenter: 500,000 ns).
* [western2018ultrastar] Western Digital, *Ultrastar DC HC310 3.5 inch SATA Hard Disk Drive
  Specifications*, rev. 1.4, Sept. 2018, section 4.5.1 (average read seek 7.4 ms, without command
  overhead; average latency 4.16 ms at 7200 RPM).
* [linux2026sysfs] Linux kernel, ABI file testing/sysfs-devices-system-cpu,
  https://www.kernel.org/doc/Documentation/ABI/testing/sysfs-devices-system-cpu (cache/index*
  attributes level, type, size).
* [hennessy2017computer] J. L. Hennessy and D. A. Patterson, *Computer Architecture: A
  Quantitative Approach*, 6th ed., Morgan Kaufmann, 2017, chapter 2 (memory hierarchy, locality,
  prefetching, overlapping of independent misses).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ._validate import check_choice, check_int, check_ints

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

#: Where Linux publishes the first CPU's cache hierarchy (kernel ABI "sysfs-devices-system-cpu").
SYSFS_CACHE_DIR = "/sys/devices/system/cpu/cpu0/cache"

#: Clock rate used to turn the cycle counts of De Gelas (2019) into nanoseconds: the EPYC 7742's
#: 3.4 GHz, the clock at which that review states its own nanosecond figures.
REFERENCE_CLOCK_GHZ = 3.4


@dataclass(frozen=True)
class Level:
    """One level of the memory and storage hierarchy, with a published typical latency.

    name        what the level is (e.g. "L2 cache", "HDD random read")
    latency_ns  typical time for one access, in nanoseconds
    size        typical capacity, as the source states it
    source      BibTeX key of the source in the book's references.bib
    detail      where in the source the number is, and any conversion applied
    """

    name: str
    latency_ns: float
    size: str
    source: str
    detail: str


def _cycles(n: float) -> float:
    return n / REFERENCE_CLOCK_GHZ


#: The published hierarchy, fastest first. Each number is a typical figure for one product or
#: measurement, not a law of nature: the chapter's text discusses the spread.
PUBLISHED_LEVELS: tuple[Level, ...] = (
    Level("CPU register", round(_cycles(1), 2), "< 1 KB", "tanenbaum2023modern",
          "Tanenbaum & Bos, Fig. 1-9: registers < 1 ns; shown as one clock cycle at 3.4 GHz"),
    Level("L1 cache", round(_cycles(4), 2), "32 KB per core", "degelas2019amd",
          "De Gelas, memory subsystem latency table: 4 cycles on the EPYC 7742, at 3.4 GHz"),
    Level("L2 cache", round(_cycles(13), 2), "512 KB per core", "degelas2019amd",
          "De Gelas, memory subsystem latency table: 13 cycles on the EPYC 7742, at 3.4 GHz"),
    Level("L3 cache", 10.27, "16 MB per 4-core CCX", "degelas2019amd",
          "De Gelas, memory subsystem latency table: ~34 cycles, ~10.27 ns, EPYC 7742"),
    Level("DRAM (main memory)", 122.0, "16-64 GB (typical)", "degelas2019amd",
          "De Gelas: ~122 ns full random over 128 MB (NPS1); size from Tanenbaum & Bos, Fig. 1-9"),
    Level("SATA SSD random read", 110_000.0, "240 GB-7.68 TB", "intel2017intel",
          "Intel DC S4500 product specification: random read latency 110 us (typical)"),
    Level("Datacenter round trip", 500_000.0, "the whole datacenter", "dean2009designs",
          "Dean, LADIS 2009 keynote, 'numbers everyone should know': 500,000 ns"),
    Level("HDD random read", 11_560_000.0, "4-6 TB", "western2018ultrastar",
          "WD Ultrastar DC HC310 spec, 4.5.1: average read seek 7.4 ms + average latency "
          "4.16 ms at 7200 RPM"),
)


def published_levels() -> list[Level]:
    """The published hierarchy as a list, fastest level first."""
    return sorted(PUBLISHED_LEVELS, key=lambda lv: lv.latency_ns)


def level(name: str) -> Level:
    """The published level called ``name`` (exact match).

    >>> level("L3 cache").latency_ns
    10.27
    """
    by_name = {lv.name: lv for lv in PUBLISHED_LEVELS}
    return by_name[check_choice("name", name, by_name)]


def latency_ratio(slower: str, faster: str) -> float:
    """How many accesses to level ``faster`` fit in the time of one access to level ``slower``.

    >>> round(latency_ratio("HDD random read", "DRAM (main memory)"))
    94754
    """
    return level(slower).latency_ns / level(faster).latency_ns


# --------------------------------------------------------------------------------------------
# The live measurement
# --------------------------------------------------------------------------------------------

#: Array sizes the chapter measures: 16 KiB, 32 KiB, ..., 256 MiB (15 powers of two).
DEFAULT_SIZES: tuple[int, ...] = tuple(2 ** e for e in range(14, 29))
#: Bounds of the parameters of :func:`measure_access_times`.
SIZE_RANGE = (1 * KiB, 4 * GiB)
ACCESSES_RANGE = (1024, 2 ** 26)
REPEATS_RANGE = (1, 100)
ELEMENT_BYTES = 8  # int64 elements
PATTERNS = ("sequential", "random")
#: The timed runs of each size are spread over this many sweeps through all the sizes.
SWEEPS = 3
#: Elements gathered per timed run, and timed runs per size and pattern, by default.
DEFAULT_ACCESSES = 2 ** 17
DEFAULT_REPEATS = 21


@dataclass(frozen=True)
class AccessTimes:
    """Result of :func:`measure_access_times`: median nanoseconds per access for each array size.

    sizes_bytes     array sizes measured, strictly increasing
    sequential_ns   median ns per access when the gather walks consecutive elements
    random_ns       median ns per access when it visits positions in a seeded random order
    accesses        number of elements gathered per timed run
    repeats         timed runs per size and pattern (the median is reported)
    seed            seed of the random access order
    """

    sizes_bytes: tuple[int, ...]
    sequential_ns: tuple[float, ...]
    random_ns: tuple[float, ...]
    accesses: int
    repeats: int
    seed: int

    def slowdown(self) -> tuple[float, ...]:
        """Random over sequential time per access, for each size (1.0 = no difference)."""
        return tuple(r / s for r, s in zip(self.random_ns, self.sequential_ns))

    def trace(self) -> str:
        """A table a student can read and check by hand: one line per array size."""
        lines = [f"{'size':>10} {'sequential ns':>14} {'random ns':>10} {'random/seq':>11}"]
        for size, s, r in zip(self.sizes_bytes, self.sequential_ns, self.random_ns):
            lines.append(f"{format_bytes(size):>10} {s:14.2f} {r:10.2f} {r / s:11.2f}")
        return "\n".join(lines)


def format_bytes(n: int) -> str:
    """A byte count in the largest binary unit that divides it evenly ('16 KiB', '256 MiB')."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def _check_sizes(sizes_bytes: Iterable[int]) -> tuple[int, ...]:
    """The working-set sizes: integers in ``SIZE_RANGE``, whole elements, strictly increasing."""
    sizes = check_ints("sizes_bytes", sizes_bytes, *SIZE_RANGE)
    for i, s in enumerate(sizes):
        if s % ELEMENT_BYTES:
            raise ValueError(f"sizes_bytes[{i}] must be a multiple of {ELEMENT_BYTES} bytes "
                             f"(whole elements), got {s}")
    if any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"sizes_bytes must be strictly increasing, got {sizes}")
    return sizes


def gather_indices(n_elements: int, accesses: int, pattern: str,
                   rng: np.random.Generator | None = None, start: int = 0) -> np.ndarray:
    """The element indices one timed gather visits, as an int64 array of length ``accesses``.

    ``"sequential"`` walks consecutive elements from ``start`` on and wraps around at the end of
    the array. ``"random"`` visits ``min(n_elements, accesses)`` distinct positions spread evenly
    over the whole array (one in each equal stratum, at a random offset inside it) in a random
    order, repeating that order if more accesses are needed. When the array has no more elements
    than there are accesses this is a true random permutation of all of them, so both patterns
    touch the same elements the same number of times and differ only in order. Each call draws a
    fresh order and fresh offsets from ``rng``.

    >>> gather_indices(4, 6, "sequential").tolist()
    [0, 1, 2, 3, 0, 1]
    >>> gather_indices(10, 4, "sequential", start=8).tolist()
    [8, 9, 0, 1]
    >>> sorted(gather_indices(8, 8, "random", np.random.default_rng(1)).tolist())
    [0, 1, 2, 3, 4, 5, 6, 7]
    """
    n = check_int("n_elements", n_elements, 1, SIZE_RANGE[1] // ELEMENT_BYTES)
    k = check_int("accesses", accesses, 1, ACCESSES_RANGE[1])
    if check_choice("pattern", pattern, PATTERNS) == "sequential":
        first = check_int("start", start, 0, n - 1)
        return (np.arange(k, dtype=np.int64) + first) % n
    if rng is None:
        raise ValueError("rng must be a numpy.random.Generator for the random pattern, got None")
    m = min(n, k)
    stride = n // m
    positions = rng.permutation(m).astype(np.int64) * stride
    if stride > 1:
        positions += rng.integers(0, stride, size=m, dtype=np.int64)
    return np.resize(positions, k)


def _split(total: int, parts: int) -> list[int]:
    """``total`` runs shared out over at most ``parts`` sweeps, as evenly as possible.

    >>> _split(21, 3), _split(5, 3), _split(1, 3)
    ([7, 7, 7], [2, 2, 1], [1])
    """
    parts = min(parts, total)
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure_access_times(sizes_bytes: Sequence[int] = DEFAULT_SIZES, *,
                         accesses: int = DEFAULT_ACCESSES, repeats: int = DEFAULT_REPEATS,
                         seed: int = 0,
                         timer: Callable[[], int] = time.perf_counter_ns) -> AccessTimes:
    """Time sequential and random gathers over arrays of growing size; median ns per access.

    For each size an int64 array of ``size // 8`` elements is allocated and filled (so that its
    pages exist before timing), then ``numpy.take(array, indices, out=buffer)`` is run once to warm
    up and then timed under ``timer``, ``repeats`` times in all for each access pattern of
    :func:`gather_indices`. The two patterns alternate, and every run draws fresh indices: the
    sequential window starts where the previous one ended, and the random positions are redrawn.
    The result is the median time divided by ``accesses``.

    What the numbers mean: a gather's accesses are independent, so an out-of-order CPU overlaps
    many cache misses at once and the random curve levels off below the DRAM latency of one
    isolated access (memory-level parallelism); the floor of both curves (about 1-2 ns) is the
    cost of NumPy's gather loop itself. The steps in the random curve appear where the array
    outgrows a cache level, and where the pages it touches outgrow the TLB's reach.

    Why many short runs, in sweeps: with the default 2**17 accesses a timed run lasts about a
    millisecond, so on a busy machine most runs finish inside one scheduling time slice, and the
    runs of each size are split over three sweeps through all the sizes, about a second apart.
    A burst of other work on the machine then spoils the runs of one sweep at most, and the median
    of the 21 runs ignores them. (Long runs taken back to back are all slowed by the same burst,
    and then the median is slow too.) The defaults take a few seconds and allocate at most
    256 MiB plus 3 MiB of index and output buffers. The same ``seed`` gives the same access
    orders; the timings are measurements and vary between runs.
    """
    sizes = _check_sizes(sizes_bytes)
    k = check_int("accesses", accesses, *ACCESSES_RANGE)
    reps = check_int("repeats", repeats, *REPEATS_RANGE)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    out = np.empty(k, dtype=np.int64)
    samples = {size: {p: [] for p in PATTERNS} for size in sizes}
    runs_done = dict.fromkeys(sizes, 0)
    for runs in _split(reps, SWEEPS):
        for size in sizes:
            data = np.ones(size // ELEMENT_BYTES, dtype=np.int64)
            for run in range(runs + 1):  # each sweep's first run warms up and is not timed
                # Fresh indices for every run: the sequential window moves on through the array
                # and the random positions change, so a large array cannot be served from the
                # cache by the lines that an earlier run left there.
                start = (runs_done[size] * k) % data.size
                runs_done[size] += 1
                orders = {"sequential": gather_indices(data.size, k, "sequential", start=start),
                          "random": gather_indices(data.size, k, "random", rng)}
                for pattern, idx in orders.items():  # alternate, so load bursts hit both alike
                    begin = timer() if run else 0
                    np.take(data, idx, out=out)
                    if run:
                        samples[size][pattern].append(timer() - begin)
            del data, orders
    sequential = tuple(float(np.median(samples[s]["sequential"])) / k for s in sizes)
    random = tuple(float(np.median(samples[s]["random"])) / k for s in sizes)
    return AccessTimes(sizes, sequential, random, k, reps, int(seed))


# --------------------------------------------------------------------------------------------
# The machine's caches, from Linux sysfs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cache:
    """One CPU cache as Linux describes it in sysfs (attributes level, type and size)."""

    level: int
    type: str
    size_bytes: int

    @property
    def label(self) -> str:
        """Short name as in ``lscpu``: 'L1d', 'L1i', 'L2', 'L3'."""
        suffix = {"Data": "d", "Instruction": "i"}.get(self.type, "")
        return f"L{self.level}{suffix}"


_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)\s*$")


def parse_cache_size(text: str) -> int:
    """A sysfs cache size such as '32K', '1024K' or '32768K' in bytes (K, M, G are binary units).

    >>> parse_cache_size("1024K") == MiB
    True
    """
    m = _SIZE.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"text must be a size like '32K', '8M' or '512', got {text!r}")
    return int(m.group(1)) * {"": 1, "K": KiB, "M": MiB, "G": GiB}[m.group(2)]


def read_cpu_caches(root: str | Path = SYSFS_CACHE_DIR) -> list[Cache]:
    """The data and unified caches of the first CPU, smallest level first; [] if unavailable.

    Instruction caches are left out because a data gather never touches them. Entries that
    cannot be read or parsed are skipped rather than raising: the chapter must run on any system.
    """
    base = Path(root)
    caches = []
    for index in sorted(base.glob("index*")):
        try:
            lvl = int((index / "level").read_text().strip())
            kind = (index / "type").read_text().strip()
            size = parse_cache_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        if kind != "Instruction":
            caches.append(Cache(lvl, kind, size))
    return sorted(caches, key=lambda c: (c.level, c.size_bytes))


def smallest_holder(size_bytes: int, caches: Sequence[Cache]) -> str:
    """Label of the smallest cache that can hold ``size_bytes``, or 'memory' if none can.

    >>> smallest_holder(48 * KiB, [Cache(1, "Data", 32 * KiB), Cache(2, "Unified", MiB)])
    'L2'
    """
    for cache in sorted(caches, key=lambda c: c.size_bytes):
        if size_bytes <= cache.size_bytes:
            return cache.label
    return "memory"


# --------------------------------------------------------------------------------------------
# Formatting (the figures are in virtbook.figures.hierarchy)
# --------------------------------------------------------------------------------------------

def format_ns(ns: float) -> str:
    """A duration in nanoseconds in the largest fitting unit, three significant digits.

    >>> format_ns(11_560_000), format_ns(110_000), format_ns(1.176)
    ('11.6 ms', '110 µs', '1.18 ns')
    """
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"
