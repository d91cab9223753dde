"""Two result files to per-engine changes in events/s, with Welch's significance test.

No printing here: `cli` renders the changes as a rich table or markdown. Two results compare
only when they measured the same files (same name and SHA-256) with the same engines.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import InputError
from harness.results import stats
from harness.results.resultfile import Result, Row


@dataclass
class Change:
    """One engine on one file, old against new."""

    file: str
    engine: str
    old: Row
    new: Row
    significant: bool  # Welch's two-sample t-test at 95% (harness.results.stats)
    t_score: float

    @property
    def change(self) -> float:
        """Relative change in events/s: +0.10 is 10% faster, -0.10 is 10% slower."""
        return self.new.events_per_s / self.old.events_per_s - 1.0


def compare(old: Result, new: Result) -> list[Change]:
    """Per (file, engine) of the new result, its change from the old one."""
    old_keys = {(r.file, r.engine) for r in old.rows}
    new_keys = {(r.file, r.engine) for r in new.rows}
    if old_keys != new_keys:
        only_old = sorted(f"{f}/{e}" for f, e in old_keys - new_keys)
        only_new = sorted(f"{f}/{e}" for f, e in new_keys - old_keys)
        raise InputError(f"{old.path} and {new.path} measured different files or engines "
                         f"(only in old: {', '.join(only_old) or '-'}; "
                         f"only in new: {', '.join(only_new) or '-'})")  # fmt: skip
    changes = []
    for row in new.rows:
        before = old.row(row.file, row.engine)
        old_sha, new_sha = _sha(old, before), _sha(new, row)
        if old_sha != new_sha or before.events != row.events:
            raise InputError(f"{old.path} and {new.path}: {row.file} is not the same file in both "
                             "(SHA-256 or event count differ)")  # fmt: skip
        if len(before.values_s) > 1 and len(row.values_s) > 1:
            significant, t_score = stats.significant(before.values_s, row.values_s)
        else:
            significant, t_score = False, 0.0  # one value each: no test is possible
        changes.append(Change(row.file, row.engine, before, row, bool(significant), t_score))
    return changes


def _sha(result: Result, row: Row) -> str | None:
    bench = next(b for b in result.suite.get_benchmarks() if b.get_name() == row.name)
    return bench.get_metadata().get("mbobench_sha256")
