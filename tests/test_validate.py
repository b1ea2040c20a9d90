"""The shared argument checks in virtbook._validate: what they accept, what they refuse, and that
every refusal names the parameter and the allowed range."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtbook._validate import (check_array, check_bool, check_choice, check_int, check_ints,
                                check_name, check_real)


# --- check_int ---------------------------------------------------------------------------------

@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(0, 1000))
def test_check_int_accepts_exactly_the_range(value, lo, width):
    hi = lo + width
    if lo <= value <= hi:
        assert check_int("n", value, lo, hi) == value
    else:
        with pytest.raises(ValueError, match=rf"^n must be an integer in {lo}\.\.{hi}, got {value}$"):
            check_int("n", value, lo, hi)


def test_check_int_returns_plain_ints_and_refuses_bools_and_floats():
    assert type(check_int("n", np.int64(3), 0, 5)) is int
    for bad in (True, 2.0, "2", None):
        with pytest.raises(ValueError, match=r"^n must be an integer in 0\.\.5"):
            check_int("n", bad, 0, 5)
    with pytest.raises(ValueError, match=r"seed must be an integer in 0 or more, got -1"):
        check_int("seed", -1, 0)


# --- check_real --------------------------------------------------------------------------------

@given(st.floats(-10, 10, allow_nan=False), st.booleans(), st.booleans())
def test_check_real_bounds_are_open_or_closed_as_asked(value, lo_open, hi_open):
    inside = (value > 0 if lo_open else value >= 0) and (value < 1 if hi_open else value <= 1)
    if inside:
        assert check_real("x", value, 0, 1, lo_open=lo_open, hi_open=hi_open) == value
    else:
        low = "greater than 0" if lo_open else "at least 0"
        high = "less than 1" if hi_open else "at most 1"
        with pytest.raises(ValueError, match=f"^x must be a number {low} and {high}, got "):
            check_real("x", value, 0, 1, lo_open=lo_open, hi_open=hi_open)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_real_refuses_non_finite_numbers(bad):
    with pytest.raises(ValueError, match="x must be a finite number at least 0"):
        check_real("x", bad, 0)


# --- check_choice, check_name, check_bool ------------------------------------------------------

def test_check_choice_lists_the_options():
    assert check_choice("mode", "strict", ("none", "strict")) == "strict"
    with pytest.raises(ValueError, match="mode must be one of 'none', 'strict', got 'lax'"):
        check_choice("mode", "lax", ("none", "strict"))


@given(st.text(max_size=80))
def test_check_name_without_spaces_refuses_any_white_space(text):
    ok = 0 < len(text) <= 63 and text.isprintable() and not any(c.isspace() for c in text)
    if ok:
        assert check_name("name", text, 63, spaces=False) == text
    else:
        with pytest.raises(ValueError, match="name must be a non-empty printable string of "
                                             "1..63 characters without spaces"):
            check_name("name", text, 63, spaces=False)


def test_check_name_without_a_length_limit_says_so():
    assert check_name("name", "x" * 1000, None) == "x" * 1000
    with pytest.raises(ValueError, match=r"^name must be a non-empty printable string, got ''$"):
        check_name("name", "", None)


def test_check_bool_takes_only_true_and_false():
    assert check_bool("blit", False) is False
    for bad in (0, 1, "yes", None):
        with pytest.raises(ValueError, match="blit must be True or False"):
            check_bool("blit", bad)


# --- check_ints --------------------------------------------------------------------------------

@given(st.lists(st.integers(-5, 20), max_size=8))
def test_check_ints_names_the_first_bad_item_by_index(values):
    bad = [i for i, v in enumerate(values) if not 1 <= v <= 16]
    if not values:
        with pytest.raises(ValueError, match=r"counts must hold at least 1 integer in 1\.\.16"):
            check_ints("counts", values, 1, 16)
    elif bad:
        i = bad[0]
        with pytest.raises(ValueError, match=rf"^counts\[{i}\] must be an integer in 1\.\.16, "
                                             rf"got {values[i]}$"):
            check_ints("counts", values, 1, 16)
    else:
        assert check_ints("counts", values, 1, 16) == tuple(values)


@pytest.mark.parametrize("bad", [5, "123", None])
def test_check_ints_refuses_a_lone_value(bad):
    with pytest.raises(ValueError, match=r"counts must be a sequence of integers in 1\.\.16"):
        check_ints("counts", bad, 1, 16)


def test_check_ints_can_allow_an_empty_sequence():
    assert check_ints("values", [], 0, 9, min_len=0) == ()
    with pytest.raises(ValueError, match="values must hold at least 2 integers in 0..9, got 1"):
        check_ints("values", [3], 0, 9, min_len=2)


# --- check_array -------------------------------------------------------------------------------

@given(st.lists(st.floats(-2, 2, allow_nan=False), max_size=10))
def test_check_array_finds_the_first_entry_out_of_range(values):
    bad = [i for i, v in enumerate(values) if v < 0]
    if bad:
        with pytest.raises(ValueError, match=rf"u must hold finite numbers at least 0, got .* "
                                             rf"at index {bad[0]}$"):
            check_array("u", values, 0.0)
    else:
        out = check_array("u", values, 0.0)
        assert out.dtype == np.float64 and out.tolist() == [float(v) for v in values]


def test_check_array_refuses_nan_shape_and_text():
    with pytest.raises(ValueError, match=r"u must hold finite numbers greater than 0, got nan "
                                         r"at index \(1, 0\)"):
        check_array("u", [[1.0, 2.0], [math.nan, 3.0]], 0.0, lo_open=True)
    with pytest.raises(ValueError, match="u must be a 1-D sequence of numbers, got 2-D"):
        check_array("u", [[1.0]], 0.0, ndim=1)
    with pytest.raises(ValueError, match="u must hold finite numbers at least 0"):
        check_array("u", ["a"], 0.0)
