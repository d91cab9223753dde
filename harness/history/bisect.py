"""Bisecting a regression: the first commit between GOOD and BAD where an engine is slower (or
computes another digest).

GOOD and BAD are measured first (or read from the store); BAD must differ from GOOD: another
digest, or slower by the gate's rule (for wall time, Welch's test at 95% and more than the
noise bound `max_slowdown`; for counts, more instructions than `max_instructions_increase`).
Each step measures the middle commit of those left on the ancestry path GOOD..BAD (`git
rev-list --ancestry-path`) and calls it bad when its digest is not GOOD's (a digest
regression), or when its time (or count) a pass is nearer BAD's than GOOD's (a slowdown:
halfway, which a step between two levels crosses once); the range halves until one commit is
left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from harness.errors import InputError
from harness.history.commits import git, resolve
from harness.history.series import Point
from harness.results import stats


@dataclass
class Verdict:
    commit: str
    point: Point
    bad: bool
    change: float  # time (or instructions) a pass against GOOD's: +0.10 is 10% more


def bisect(
    repo: Path,
    good: str,
    bad: str,
    point_of: Callable[[str], Point],
    noise: float,
    counted: bool,
    echo: Callable[[str], None],
) -> tuple[Verdict, list[Verdict]]:
    """The first bad commit's verdict, and every step's. `point_of(commit)` measures a commit
    (or reads it from the store); `echo` prints a line a step."""
    good, bad = resolve(repo, [good])[0], resolve(repo, [bad])[0]
    try:
        git(repo, "merge-base", "--is-ancestor", good, bad)
    except InputError:
        raise InputError(f"{repo}: {good} is not an ancestor of {bad}: nothing to bisect") from None
    path = [c[:12] for c in git(repo, "rev-list", "--reverse", "--ancestry-path",
                                f"{good}..{bad}").split()]  # fmt: skip
    first, last = point_of(good), point_of(bad)
    regressed, why = _differs(first, last, noise, counted)
    if not regressed:
        raise InputError(f"{bad} is not worse than {good} ({why}): nothing to bisect")
    echo(f"good {good}: {_figure(first, counted)}; bad {bad}: {_figure(last, counted)} ({why})")
    by_digest = first.digests != last.digests
    middle = (fmean(first.values) + fmean(last.values)) / 2
    steps: list[Verdict] = []
    low, high = -1, len(path) - 1  # path[high] is bad; path[low] good (-1: GOOD itself)
    final = Verdict(bad, last, True, fmean(last.values) / fmean(first.values) - 1)
    while high - low > 1:
        at = (low + high) // 2
        commit = path[at]
        point = point_of(commit)
        change = fmean(point.values) / fmean(first.values) - 1
        is_bad = (point.digests != first.digests) if by_digest else fmean(point.values) > middle
        verdict = Verdict(commit, point, is_bad, change)
        steps.append(verdict)
        if is_bad:
            high, final = at, verdict
        else:
            low = at
        left = high - low  # the commits that may still be the first bad one
        echo(f"step {len(steps)}: {commit} {_figure(point, counted)}, {change:+.1%} a pass "
             f"against good: {'bad' if is_bad else 'good'} (the first bad one is among "
             f"{left} commit{'s' if left != 1 else ''})")  # fmt: skip
    return final, steps


def _differs(first: Point, last: Point, noise: float, counted: bool) -> tuple[bool, str]:
    """Whether `last` is worse than `first` by the gate's rule, and what was measured."""
    if first.digests != last.digests:
        return True, "another digest"
    change = fmean(last.values) / fmean(first.values) - 1
    if counted:
        return change > noise, f"{change:+.2%} instructions a pass, limit {noise:+.2%}"
    if len(first.values) < 2 or len(last.values) < 2:
        return change > noise, f"{change:+.1%} a pass, noise bound {noise:.0%}"
    significant, t = stats.significant(first.values, last.values)
    return (significant and change > noise,
            f"{change:+.1%} a pass, t {t:.1f}, noise bound {noise:.0%}")  # fmt: skip


def _figure(point: Point, counted: bool) -> str:
    if counted:
        return f"{point.per_event:,.1f} instructions an event"
    return f"{point.events_per_s:,.0f} events/s"
