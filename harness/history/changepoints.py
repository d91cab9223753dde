"""Where a series of measurements across commits steps to another level, and by how much.

The method is a penalized piecewise-constant least-squares fit, solved exactly by optimal
partitioning (Jackson et al., "An algorithm for optimal partitioning of data on an interval",
2005; the same family as asv's step detection, which fits in L1):

1. Each commit is one point: the mean of its values (seconds or instructions per pass), over
   the series' median, so that a level and its steps are relative.
2. The noise of a point, sigma, is the largest of: the robust estimate from the series itself,
   the median absolute difference of neighbouring points / (0.6745 * sqrt 2) (a step is one
   difference among many, and moves the median little); the median standard error of a point
   from its own values; and `floor` (an instruction count's repeatability).
3. The fit chooses the segments that minimize the squared deviations from each segment's mean
   plus a penalty of 4 sigma^2 ln(n) for every step (twice BIC's: on simulated series with 2%
   noise a point, it found a step in 1% of 30-point series without one, and found 97% of 10%
   steps; 2 sigma^2 ln(n) found steps in 17% of those without one).
4. Each step is the difference of the means of the segments either side of it, with its standard
   error sigma * sqrt(1/n_left + 1/n_right); it is kept when it exceeds the two-sided 95%
   critical value of Student's t with the degrees of freedom the fit leaves (points less
   segments: sigma comes from the series, and a few points estimate it loosely), and reported
   with that 95% interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, median, stdev

from harness.results.stats import critical_t

Z95 = 1.96
PENALTY = 4  # times sigma^2 ln(n), a step (see 3. above)


@dataclass
class Step:
    """The level changes at point `index` (the first point of the new level)."""

    index: int
    before: float  # the mean per pass of the segment before it, and after it (as measured)
    after: float
    stderr: float  # of after - before, in the same unit
    cut: float = Z95  # the critical value it passed, and that makes its 95% interval

    @property
    def change(self) -> float:
        """Relative change per pass: +0.10 is 10% more time (or instructions) a pass."""
        return self.after / self.before - 1

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% interval of `change`."""
        half = self.cut * self.stderr
        return (self.after - half) / self.before - 1, (self.after + half) / self.before - 1

    @property
    def z(self) -> float:
        return (self.after - self.before) / self.stderr if self.stderr else math.inf


def find_steps(points: list[list[float]], floor: float = 0.0) -> list[Step]:
    """The steps of a series, one list of values a point, in order (see the module's text)."""
    means = [fmean(values) for values in points]
    n = len(means)
    if n < 2:
        return []
    level = median(means)
    y = [m / level for m in means]
    sigma = noise(y, points, level, floor)
    if sigma == 0:  # identical points: no step can be told from another
        sigma = 1e-12
    penalty = PENALTY * sigma**2 * math.log(n)
    sums, squares = [0.0], [0.0]
    for value in y:
        sums.append(sums[-1] + value)
        squares.append(squares[-1] + value * value)

    def cost(start: int, end: int) -> float:  # squared deviations of y[start:end] from its mean
        total = sums[end] - sums[start]
        return squares[end] - squares[start] - total * total / (end - start)

    best = [0.0] + [math.inf] * n  # best[t]: the least cost of y[:t]
    last = [0] * (n + 1)  # where the last segment of that best fit starts
    for end in range(1, n + 1):
        for start in range(end):
            total = best[start] + cost(start, end) + (penalty if start else 0.0)
            if total < best[end]:
                best[end], last[end] = total, start
    bounds, end = [], n
    while end > 0:
        bounds.append(last[end])
        end = last[end]
    edges = sorted(bounds) + [n]  # segment starts, then the end
    # sigma is estimated from the series itself: on few points, Student's t (with the degrees of
    # freedom the fit leaves) is the honest cut, not the normal's 1.96.
    cut = critical_t(max(n - (len(edges) - 1), 1))
    steps = []
    for left, at, right in zip(edges, edges[1:], edges[2:], strict=False):
        before, after = fmean(means[left:at]), fmean(means[at:right])
        stderr = sigma * level * math.sqrt(1 / (at - left) + 1 / (right - at))
        step = Step(at, before, after, stderr, cut)
        if abs(step.z) > cut:
            steps.append(step)
    return steps


def noise(y: list[float], points: list[list[float]], level: float, floor: float) -> float:
    """sigma of a point, relative to the level (see the module's text)."""
    diffs = [abs(b - a) for a, b in zip(y, y[1:], strict=False)]
    from_series = median(diffs) / (0.6745 * math.sqrt(2)) if len(diffs) >= 2 else 0.0
    errors = [stdev(v) / math.sqrt(len(v)) / level for v in points if len(v) > 1]
    from_values = median(errors) if errors else 0.0
    return max(from_series, from_values, floor)
