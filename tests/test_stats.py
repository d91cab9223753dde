"""Welch's t-test, on figures worked by hand and on the table it interpolates."""

from __future__ import annotations

import math

import pytest

from harness.results.stats import critical_t, significant, welch


def test_welch_by_hand():
    # Means 3 and 4, variances 2.5 each, five values each: t = 1 / sqrt(0.5 + 0.5) = 1, df 8.
    t, df = welch([1, 2, 3, 4, 5], [2, 3, 4, 5, 6])
    assert t == pytest.approx(1.0) and df == pytest.approx(8.0)
    assert significant([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]) == (False, pytest.approx(1.0))


def test_unequal_variances_use_welch_satterthwaite():
    a, b = [10.0, 10.2, 9.8, 10.1], [12.0, 14.0, 10.0, 13.0, 11.0, 12.5]
    va, vb = 0.0291667 / 4, 2.0416667 / 6  # each set's variance of its mean, by hand
    t, df = welch(a, b)
    assert t == pytest.approx((12.0833 - 10.025) / math.sqrt(va + vb), rel=1e-3)
    assert df == pytest.approx((va + vb) ** 2 / (va**2 / 3 + vb**2 / 5), rel=1e-3)
    assert significant(a, b)[0]


@pytest.mark.parametrize("df,t", [(1, 12.706), (8, 2.306), (30, 2.042), (120, 1.980),
                                  (1e9, 1.960)])  # fmt: skip
def test_critical_values(df, t):
    assert critical_t(df) == pytest.approx(t, abs=1e-3)


def test_critical_values_fall_between_rows():
    assert 2.021 > critical_t(50) > 2.000 and 2.042 > critical_t(35) > 2.021


def test_identical_sets_and_constant_sets():
    assert significant([1.0, 1.0], [1.0, 1.0]) == (False, 0.0)
    assert significant([1.0, 1.0], [2.0, 2.0])[0]  # no spread at all: any difference counts
