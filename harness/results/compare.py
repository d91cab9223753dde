"""Two result files to per-engine changes in events/s, with Welch's significance test.

No printing here: `render` shows the changes as a rich table or markdown. Two results compare
on the (file, engine) pairs both measured, when a file of one name is the same file (SHA-256)
in both; the pairs only one of them has are listed. A change that is significant but smaller
than the noise bound (the machine's run-to-run spread, `max_slowdown` of the gate) is "within
noise", neither faster nor slower. Two benchmarks of one interleaved job (`run --interleave`)
are paired: tested process by process (each process's mean ratio of its rounds; with fewer
than 3 processes, round by round); others by Welch's test.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import InputError
from harness.results import stats
from harness.results.resultfile import Result, Row

NOISE = 0.06  # the default noise bound: the trust experiment's run-to-run spread (trust.py)
COUNT_NOISE = 0.001  # an instruction count's: the same code counted twice differs by less
# Processes an interleaved job needs for the test over processes: two leave it one degree of
# freedom (t 12.7 to pass), which passed a 93% slowdown as not significant; with fewer, the
# rounds are tested, as if independent, and the verdict says so ("rounds").
MIN_PROCESSES = 3


@dataclass
class Change:
    """One engine on one file, old against new."""

    file: str
    engine: str
    old: Row
    new: Row
    significant: bool  # Welch's two-sample t-test at 95% (harness.results.stats), or paired
    t_score: float
    noise: float = NOISE  # a change smaller than this is within the machine's noise
    # "paired": both of one interleaved job, by process ("rounds": under 3 processes, by round);
    # "count"; "none" (one value each)
    test: str = "Welch"

    @property
    def change(self) -> float:
        """Relative change in events/s (of a count, in events per instruction): +0.10 is 10%
        faster, -0.10 is 10% slower."""
        return self.new.events_per_s / self.old.events_per_s - 1.0

    @property
    def instructions_change(self) -> float:
        """Of instruction counts: the relative change in instructions per event (+0.01 is 1%
        more)."""
        return self.new.instructions_per_event / self.old.instructions_per_event - 1.0

    @property
    def verdict(self) -> str:
        """faster, slower, within noise (significant but inside the bound), not significant."""
        if not self.significant:
            return "not significant"
        if abs(self.change) <= self.noise:
            return "within noise"
        return "faster" if self.change > 0 else "slower"


@dataclass
class Comparison:
    """The changes of every (file, engine) both results measured, and those only one did."""

    changes: list[Change]
    only_old: list[str]  # "file / engine"
    only_new: list[str]
    noise: float

    @property
    def tests(self) -> str:
        """The significance tests the changes used, said as a sentence's start."""
        said = {"Welch": "Welch's t-test at 95%",
                "paired": "a paired t-test at 95% (one interleaved job: each process's mean "
                          "ratio of its rounds)",
                "rounds": "a paired t-test at 95% (one interleaved job of fewer than 3 "
                          "processes: round by round, as if independent)",
                "count": "counts (exact)", "none": "no test (one value)"}  # fmt: skip
        used = dict.fromkeys(c.test for c in self.changes) or {"Welch": None}
        return "; ".join(said[t] for t in used)

    @property
    def mixed(self) -> list[str]:
        """The pairs of which one was measured interleaved and the other not: a pass taken in
        turn with other processes' runs slower than one after its own, so their change is not
        the engines' alone."""
        return [f"{c.file} / {c.engine}" for c in self.changes
                if bool(c.old.interleaved) != bool(c.new.interleaved)]  # fmt: skip


def compare(old: Result, new: Result, noise: float = NOISE) -> Comparison:
    """Per (file, engine) that both results measured, its change from the old one. Refused
    when they share none, or when a file of the same name is not the same file in both."""
    if old.measure != new.measure:
        raise InputError(f"{old.path} measured {old.measure} and {new.path} {new.measure}: "
                         "results of different measures are never compared")  # fmt: skip
    old_keys = {(r.file, r.engine) for r in old.rows}
    new_keys = {(r.file, r.engine) for r in new.rows}
    shared = old_keys & new_keys
    if not shared:
        raise InputError(f"{old.path} and {new.path} measured no file and engine in common")
    changes = []
    for row in new.rows:
        if (row.file, row.engine) not in shared:
            continue
        before = old.row(row.file, row.engine)
        old_sha, new_sha = _sha(old, before), _sha(new, row)
        if old_sha != new_sha or before.events != row.events:
            raise InputError(f"{old.path} and {new.path}: {row.file} is not the same file in both "
                             "(SHA-256 or event count differ)")  # fmt: skip
        test = "Welch"
        if row.measure == "instructions":  # a count is exact: any change beyond the bound
            significant, t_score = abs(row.mean_s / before.mean_s - 1) > COUNT_NOISE, 0.0
            test = "count"
        elif _paired(before, row) and len(row.runs_s) >= MIN_PROCESSES:
            significant, t_score = stats.paired_by_process(before.runs_s, row.runs_s)
            test = "paired"
        elif _paired(before, row):
            significant, t_score = stats.paired(before.values_s, row.values_s)
            test = "rounds"
        elif len(before.values_s) > 1 and len(row.values_s) > 1:
            significant, t_score = stats.significant(before.values_s, row.values_s)
        else:
            significant, t_score = False, 0.0  # one value each: no test is possible
            test = "none"
        changes.append(Change(row.file, row.engine, before, row, bool(significant), t_score,
                              noise, test))  # fmt: skip
    return Comparison(changes, _names(old_keys - new_keys), _names(new_keys - old_keys), noise)


def _paired(old: Row, new: Row) -> bool:
    """Whether the two were measured in one interleaved job, process for process and value for
    value."""
    shape = [len(run) for run in new.runs_s]
    return (bool(old.interleaved) and old.interleaved == new.interleaved
            and [len(run) for run in old.runs_s] == shape and sum(shape) > 1)  # fmt: skip


def _names(keys: set[tuple[str, str]]) -> list[str]:
    return sorted(f"{file} / {engine}" for file, engine in keys)


def _sha(result: Result, row: Row) -> str | None:
    bench = next(b for b in result.suite.get_benchmarks() if b.get_name() == row.name)
    return bench.get_metadata().get("mbobench_sha256")
