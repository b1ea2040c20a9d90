"""Input checks shared by every virtbook model.

Every constructor and public function of the simulators and models checks its arguments with
these helpers, so a student who types a bad value gets one sentence that names the parameter, the
allowed range and the value given, for example ``mem_mb must be an integer in 1..4194304, got 0``.
One implementation serves the whole package, so the same mistake reads the same in every chapter.

>>> check_int("weight", 256, 1, 65535)
256
>>> check_int("weight", 0, 1, 65535)
Traceback (most recent call last):
...
ValueError: weight must be an integer in 1..65535, got 0
"""
from __future__ import annotations

import math
from collections.abc import Iterable as _IterableABC
from numbers import Integral, Real
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # numpy is imported by check_array only, so the scalar checks need no numpy
    import numpy as np


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``lo..hi`` (``hi=None``: no upper bound).

    Booleans are refused: ``True`` is an int to Python but never a sensible size or count.
    NumPy integers are accepted and returned as plain ``int``.
    """
    allowed = f"{lo}..{hi}" if hi is not None else f"{lo} or more"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer in {allowed}, got {value!r}")
    ivalue = int(value)
    if ivalue < lo or (hi is not None and ivalue > hi):
        raise ValueError(f"{name} must be an integer in {allowed}, got {ivalue}")
    return ivalue


def _real_range(lo: float, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    """The allowed range in words: 'at least 0', 'greater than 0 and less than 1', ..."""
    low = f"greater than {lo:g}" if lo_open else f"at least {lo:g}"
    if hi is None:
        return low
    return f"{low} and {'less than' if hi_open else 'at most'} {hi:g}"


def _in_range(x, lo: float, hi: float | None, lo_open: bool, hi_open: bool):
    """Whether ``x`` lies in the range: a bool for a number, a bool array for an array."""
    above = x > lo if lo_open else x >= lo
    below = True if hi is None else (x < hi if hi_open else x <= hi)
    return above & below


def check_real(
    name: str,
    value: object,
    lo: float,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite number in the range.

    ``lo_open=True`` makes the lower bound exclusive: ``check_real("dt_s", x, 0, lo_open=True)``
    means "a number greater than 0"; ``hi_open=True`` does the same for the upper bound.

    >>> check_real("headroom", 0.25, 0, 1, hi_open=True)
    0.25
    >>> check_real("headroom", 1, 0, 1, hi_open=True)
    Traceback (most recent call last):
    ...
    ValueError: headroom must be a number at least 0 and less than 1, got 1
    """
    allowed = _real_range(lo, hi, lo_open, hi_open)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")
    fvalue = float(value)
    if not math.isfinite(fvalue):
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    if not _in_range(fvalue, lo, hi, lo_open, hi_open):
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")
    return fvalue


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (case-sensitive)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_name(name: str, value: object, max_len: int | None = 64, *, spaces: bool = True) -> str:
    """Return ``value`` if it is a non-empty string of printable characters, at most ``max_len``
    (``None``: any length); ``spaces=False`` also refuses white space, for identifiers that end
    up in a command line or a table column.

    >>> check_name("name", "web-1", 63, spaces=False)
    'web-1'
    >>> check_name("name", "web 1", 63, spaces=False)
    Traceback (most recent call last):
    ...
    ValueError: name must be a non-empty printable string of 1..63 characters without spaces, got 'web 1'
    """
    ok = (isinstance(value, str) and value != "" and value.isprintable()
          and (max_len is None or len(value) <= max_len)
          and (spaces or not any(c.isspace() for c in value)))
    if not ok:
        length = "" if max_len is None else f" of 1..{max_len} characters"
        rule = "" if spaces else " without spaces"
        raise ValueError(f"{name} must be a non-empty printable string{length}{rule}, got {value!r}")
    return value


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is exactly ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_ints(
    name: str,
    values: object,
    lo: int,
    hi: int | None = None,
    *,
    min_len: int = 1,
) -> tuple[int, ...]:
    """Return ``values`` as a tuple of ints if it is a sequence of at least ``min_len`` integers,
    each in ``lo..hi``; an item out of range is named by its index.

    A lone number or a string is refused rather than iterated, the usual slip when a list of
    counts was meant.

    >>> check_ints("tickets", [100, 50], 1, 1000)
    (100, 50)
    >>> check_ints("tickets", [100, 0], 1, 1000)
    Traceback (most recent call last):
    ...
    ValueError: tickets[1] must be an integer in 1..1000, got 0
    >>> check_ints("tickets", [], 1, 1000)
    Traceback (most recent call last):
    ...
    ValueError: tickets must hold at least 1 integer in 1..1000, got none
    """
    allowed = f"{lo}..{hi}" if hi is not None else f"{lo} or more"
    if isinstance(values, (str, bytes)) or not isinstance(values, _IterableABC):
        raise ValueError(f"{name} must be a sequence of integers in {allowed}, got {values!r}")
    items = tuple(check_int(f"{name}[{i}]", v, lo, hi) for i, v in enumerate(values))
    if len(items) < min_len:
        plural = "" if min_len == 1 else "s"
        got = f"{len(items)}" if items else "none"
        raise ValueError(f"{name} must hold at least {min_len} integer{plural} in {allowed}, "
                         f"got {got}")
    return items


def check_array(
    name: str,
    values: object,
    lo: float,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    ndim: int | None = None,
) -> np.ndarray:
    """Return ``values`` as a float64 array if every entry is a finite number in the range
    (as :func:`check_real` states it) and, when ``ndim`` is given, it has that many dimensions.

    The first bad entry is named by its index, so a long trace does not hide where it went wrong.

    >>> check_array("utilization", [0.0, 0.5, 1.2], 0.0).tolist()
    [0.0, 0.5, 1.2]
    >>> check_array("utilization", [0.5, -0.1], 0.0)
    Traceback (most recent call last):
    ...
    ValueError: utilization must hold finite numbers at least 0, got -0.1 at index 1
    """
    import numpy as np

    allowed = _real_range(lo, hi, lo_open, hi_open)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold finite numbers {allowed}, got {values!r}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D sequence of numbers, got {arr.ndim}-D")
    good = np.isfinite(arr) & _in_range(arr, lo, hi, lo_open, hi_open)
    if not good.all():
        where = np.argwhere(~good)[0]
        index = int(where[0]) if arr.ndim == 1 else tuple(int(i) for i in where)
        raise ValueError(f"{name} must hold finite numbers {allowed}, "
                         f"got {float(arr[tuple(where)])!r} at index {index}")
    return arr
