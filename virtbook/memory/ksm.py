"""Content-based page sharing counted in aggregate, with KSM's counters.

Pages are not modelled one by one. Each VM has a number of *scanned* zero pages and a number of
*scanned* "OS" pages (pages whose content is the same in every VM that runs the same guest OS).
Which of them are merged, and how many host pages the merged ones need, follows from counting:

* **Zero pages** are identical everywhere. In a group of VMs that may share with each other, the
  ``Z`` scanned zero pages collapse into ``ceil(Z / max_page_sharing)`` KSM pages once ``Z >= 2``
  (mm/ksm.c caps the sharers of one KSM page at ``max_page_sharing``, default 256).
* **OS pages.** VMs with the same guest OS hold the same contents in the same order (a
  simplifying assumption: no address-space randomisation), so the ``s_i`` pages scanned so far in
  VM ``i`` are the first ``s_i`` contents of a common list. Content ``c`` is merged when at least
  two VMs hold it, that is for ``c`` below the second-largest ``s``. Hence, per group:
  ``pages_shared = s_(2)`` (the second largest) and ``pages_sharing = sum(min(s_i, s_(2))) - s_(2)``.

The counters mean what the kernel's sysfs files mean (Documentation/admin-guide/mm/ksm.rst):
``pages_shared`` - how many shared pages are being used; ``pages_sharing`` - how many more sites
are sharing them, i.e. how much is saved; ``pages_unshared`` - pages unique but repeatedly
checked for merging. Which pages are candidates at all is decided by the simulator's scan
(:func:`virtbook.memory.sim.scan_for_sharing`): as in mm/ksm.c, a page becomes one only on a
visit that finds the checksum ksmd recorded at its previous visit, and until then it counts in
``pages_volatile``.

N identical VMs that each hold ``O`` OS pages give ``pages_shared = O`` and
``pages_sharing = (N - 1) O``: the fraction of all their pages that sharing saves is
``(O / U) * (N - 1) / N``, the identity behind the page-sharing results of Waldspurger 2002
(section 4).

>>> acc = account([0, 0, 0], [100, 100, 100], [True] * 3, ((0, 1, 2),), ((0, 1, 2),), 256)
>>> acc.pages_shared, acc.pages_sharing
(100, 200)
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

from .._validate import check_int


class Accounting(NamedTuple):
    """Result of :func:`account` (all counts in pages)."""

    pages_shared: int      #: KSM pages in use (host pages holding merged content)
    pages_sharing: int     #: extra sites mapping them: the pages saved
    pages_unshared: int    #: scanned candidates with no partner yet
    merged_zero: list[int]  #: per VM, zero-page sites that are merged
    merged_os: list[int]    #: per VM, OS-page sites that are merged
    attributed: list[int]   #: per VM, KSM pages charged to it (each KSM page to exactly one VM)
    intra_vm: int           #: part of ``pages_sharing`` a VM would get from its own zero pages alone


def account(
    zs: Sequence[int],
    os_scanned: Sequence[int],
    part: Sequence[bool],
    zero_groups: Sequence[Sequence[int]],
    os_groups: Sequence[Sequence[int]],
    max_page_sharing: int,
) -> Accounting:
    """Merge state implied by the scanned counts.

    ``zs[i]``/``os_scanned[i]``: scanned zero/OS pages of VM ``i``; ``part[i]``: whether VM ``i``
    may merge at all (false while it is backed by unbroken large pages); ``zero_groups``: VMs
    that may share zero pages with each other (one group per salt); ``os_groups``: VMs that may
    share OS pages (same salt and same guest OS).

    Zero pages of three VMs in one group, 300 each, with at most 256 sharers per KSM page:

    >>> a = account([300, 300, 300], [0, 0, 0], [True] * 3, ((0, 1, 2),), (), 256)
    >>> a.pages_shared, a.pages_sharing, a.attributed
    (4, 896, [4, 0, 0])

    Salting puts each VM in its own group: zero pages still merge inside a VM, OS pages never.

    >>> a = account([10, 10], [50, 50], [True, True], ((0,), (1,)), ((0,), (1,)), 256)
    >>> a.pages_sharing, a.intra_vm, a.pages_unshared
    (18, 18, 100)
    """
    n = _check_counts(zs, os_scanned, part)
    zero_groups = _check_groups("zero_groups", zero_groups, n)
    os_groups = _check_groups("os_groups", os_groups, n)
    check_int("max_page_sharing", max_page_sharing, 2)
    zg = [tuple(i for i in g if part[i]) for g in zero_groups]
    og = [tuple(i for i in g if part[i]) for g in os_groups]
    out = account_groups(zs, os_scanned, zg, og, max_page_sharing)
    left = sum(zs[i] + os_scanned[i] for i in range(len(zs)) if not part[i])
    return out._replace(pages_unshared=out.pages_unshared + left)


def _check_counts(zs: object, os_scanned: object, part: object) -> int:
    """The number of VMs, once ``zs``, ``os_scanned`` and ``part`` are checked."""
    for name, seq in (("zs", zs), ("os_scanned", os_scanned), ("part", part)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
            raise ValueError(f"{name} must be a sequence with one entry per VM, got {seq!r}")
    n = len(zs)
    if len(os_scanned) != n or len(part) != n:
        raise ValueError(f"zs, os_scanned and part must have the same length, got {n}, "
                         f"{len(os_scanned)}, {len(part)}")
    for name, seq in (("zs", zs), ("os_scanned", os_scanned)):
        for v in seq:
            check_int(name, v, 0)
    return n


def _check_groups(name: str, groups: object, n: int) -> Sequence[Sequence[int]]:
    """``groups`` if it is a sequence of sequences of VM indices in ``0..n-1``."""
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
        raise ValueError(f"{name} must be a sequence of groups of VM indices, got {groups!r}")
    for g in groups:
        if isinstance(g, (str, bytes)) or not isinstance(g, Sequence):
            raise ValueError(f"{name} must be a sequence of groups of VM indices, got a group {g!r}")
        for i in g:
            check_int(name, i, 0, n - 1)
    return groups


def account_groups(
    zs: Sequence[int],
    os_scanned: Sequence[int],
    zero_groups: Sequence[Sequence[int]],
    os_groups: Sequence[Sequence[int]],
    max_page_sharing: int,
) -> Accounting:
    """:func:`account` for groups that hold only the VMs allowed to merge (the simulator's fast path).

    >>> account_groups([5, 0], [40, 60], [(0, 1)], [(0, 1)], 256).pages_sharing
    44
    """
    n = len(zs)
    mz = [0] * n
    mo = [0] * n
    attr = [0] * n
    kp = 0
    sharing = 0
    intra = 0
    unshared = 0
    mps = max_page_sharing
    for g in zero_groups:
        tot = 0
        best = -1
        bestv = -1
        for i in g:
            v = zs[i]
            tot += v
            if v > bestv:
                bestv = v
                best = i
        if tot >= 2:
            k = -(-tot // mps)
            kp += k
            sharing += tot - k
            attr[best] += k
            for i in g:
                v = zs[i]
                mz[i] = v
                if v >= 2:
                    intra += v - (-(-v // mps))
        else:
            unshared += tot
    for g in os_groups:
        s1 = s2 = 0
        for i in g:
            v = os_scanned[i]
            if v > s1:
                s2 = s1
                s1 = v
            elif v > s2:
                s2 = v
        if s2 <= 0:
            for i in g:
                unshared += os_scanned[i]
            continue
        kp += s2
        prev = 0
        tot = 0
        for i in g:
            v = os_scanned[i]
            m = v if v < s2 else s2
            mo[i] = m
            tot += m
            unshared += v - m
            if m > prev:
                attr[i] += m - prev
                prev = m
        sharing += tot - s2
    return Accounting(kp, sharing, unshared, mz, mo, attr, intra)
