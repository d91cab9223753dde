"""Welch's two-sample t-test at 95%: do two sets of timings differ by more than their spread?
(And the paired test, for timings measured side by side.)

Welch's test does not assume that both sets have the same variance (an engine's values on a
loaded machine spread more than on a quiet one). The statistic is the difference of the means
over the square root of the sum of each set's variance of the mean; its degrees of freedom are
Welch-Satterthwaite's. The two-sided 95% critical values of Student's t come from the standard
table, interpolated linearly in 1/df between its rows (exact at the rows, and within 0.2%
between them), so that no statistics library is needed.

Timings measured interleaved (`harness.measure.interleave`: value i of each side in the same
round) are paired: the test is then Student's one-sample t-test on the log of each round's
ratio, whose spread is the rounds' own noise, not the machine's drift from round to round. The
rounds of one process are not independent, though: each side's process runs in a mode of its
own for seconds (on the 2-core VM the mean ratio of a process's rounds spread 4-6% from process
to process, when the rounds of a process gave it a standard error of 2-3%), so with several
processes the test is over the processes (`paired_by_process`): one mean log ratio each.
"""

from __future__ import annotations

import math
from statistics import fmean, variance

# Student's t, two-sided 95% (the 97.5th percentile), by degrees of freedom.
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
         17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 22: 2.074, 24: 2.064, 26: 2.056,
         28: 2.048, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}  # fmt: skip
_NORMAL_975 = 1.960  # df -> infinity


def critical_t(df: float) -> float:
    """The two-sided 95% critical value of Student's t with `df` (>= 1) degrees of freedom."""
    rows = sorted(_T975)
    if df <= rows[0]:
        return _T975[rows[0]]
    for low, high in zip(rows, rows[1:] + [math.inf], strict=True):
        if df <= high:
            t_high = _T975[high] if high != math.inf else _NORMAL_975
            x, x_low, x_high = 1 / df, 1 / low, 1 / high if high != math.inf else 0.0
            return t_high + (_T975[low] - t_high) * (x - x_high) / (x_low - x_high)
    return _NORMAL_975


def welch(a: list[float], b: list[float]) -> tuple[float, float]:
    """Welch's t statistic of mean(b) - mean(a), and its degrees of freedom (each set >= 2)."""
    va, vb = variance(a) / len(a), variance(b) / len(b)
    diff = fmean(b) - fmean(a)
    if va + vb == 0:
        return (0.0 if diff == 0 else math.copysign(math.inf, diff)), math.inf
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return diff / math.sqrt(va + vb), df


def significant(a: list[float], b: list[float]) -> tuple[bool, float]:
    """Whether the means of `a` and `b` differ at 95% by Welch's test, and its t statistic."""
    t, df = welch(a, b)
    return abs(t) > critical_t(df), t


def paired(a: list[float], b: list[float]) -> tuple[bool, float]:
    """Whether b differs from a at 95%, value by value (as many of each, >= 2, in the same
    order): the t statistic of the mean log ratio log(b_i / a_i)."""
    return _one_sample([math.log(y / x) for x, y in zip(a, b, strict=True)])


def paired_by_process(a_runs: list[list[float]], b_runs: list[list[float]]) -> tuple[bool, float]:
    """Whether b differs from a at 95%, process by process (as many processes, >= 2, each with
    as many values of each in the same order): the t statistic of the processes' mean log
    ratios, with one degree of freedom fewer than processes."""
    return _one_sample([fmean(math.log(y / x) for x, y in zip(a, b, strict=True))
                        for a, b in zip(a_runs, b_runs, strict=True)])  # fmt: skip


def _one_sample(logs: list[float]) -> tuple[bool, float]:
    """Whether the mean of `logs` (>= 2) differs from 0 at 95%, and Student's t statistic."""
    mean = fmean(logs)
    spread = math.sqrt(variance(logs) / len(logs))
    if spread == 0:
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        t = mean / spread
    return abs(t) > critical_t(len(logs) - 1), t
