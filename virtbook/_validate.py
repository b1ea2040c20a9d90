"""Input checks shared by every virtbook model.

Every constructor and public function of the simulators and models checks its arguments with
these helpers, so a student who types a bad value gets one sentence that names the parameter, the
allowed range and the value given, for example ``mem_mb must be an integer in 1..4194304, got 0``.

>>> check_int("weight", 256, 1, 65535)
256
>>> check_int("weight", 0, 1, 65535)
Traceback (most recent call last):
...
ValueError: weight must be an integer in 1..65535, got 0
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Iterable


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``lo..hi`` (``hi=None``: no upper bound).

    Booleans are refused: ``True`` is an int to Python but never a sensible size or count.
    """
    allowed = f"{lo}..{hi}" if hi is not None else f"{lo} or more"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer in {allowed}, got {value!r}")
    ivalue = int(value)
    if ivalue < lo or (hi is not None and ivalue > hi):
        raise ValueError(f"{name} must be an integer in {allowed}, got {ivalue}")
    return ivalue


def check_real(
    name: str,
    value: object,
    lo: float,
    hi: float | None = None,
    *,
    lo_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite number in the range.

    ``lo_open=True`` makes the lower bound exclusive: ``check_real("dt_s", x, 0, lo_open=True)``
    means "a number greater than 0".
    """
    low = f"greater than {lo:g}" if lo_open else f"at least {lo:g}"
    allowed = low if hi is None else f"{low} and at most {hi:g}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")
    fvalue = float(value)
    if not math.isfinite(fvalue):
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    if (lo_open and fvalue <= lo) or (not lo_open and fvalue < lo) or (hi is not None and fvalue > hi):
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")
    return fvalue


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (case-sensitive)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_name(name: str, value: object, max_len: int = 64) -> str:
    """Return ``value`` if it is a non-empty string of printable characters, at most ``max_len``."""
    if not isinstance(value, str) or not value or len(value) > max_len or not value.isprintable():
        raise ValueError(
            f"{name} must be a non-empty printable string of 1..{max_len} characters, got {value!r}"
        )
    return value


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is exactly ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value
