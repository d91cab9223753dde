"""The store read back as series: one per (machine, file, engine, preset, measure), a point per
commit in commit order, and the steps of each (`changepoints`).

Commit order is the order of the commits' own times, ties broken by the repository's
topological order when the repository is at hand (two commits made in the same second); a
result without a commit comes after those with one, in the order it was stored. Two machines
never share a series, nor two presets or measures.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean, stdev

from harness.history.changepoints import Step, find_steps
from harness.history.store import NO_COMMIT, Entry, Store
from harness.results.compare import COUNT_NOISE


@dataclass
class Point:
    """One commit of a series: the values of every stored result of it, pooled."""

    commit: str
    commit_time: int | None
    values: list[float]  # per pass: seconds, or instructions
    events: int
    ratios: list[float]  # to the ceiling measured beside it, one a result
    digests: set[str]

    @property
    def events_per_s(self) -> float:
        return self.events / fmean(self.values)

    @property
    def per_event(self) -> float:
        return fmean(self.values) / self.events

    @property
    def ratio_to_ceiling(self) -> float:
        return fmean(self.ratios)

    @property
    def rsd(self) -> float:
        """Relative standard deviation of the values (0 for one value)."""
        return stdev(self.values) / fmean(self.values) if len(self.values) > 1 else 0.0


@dataclass
class Series:
    machine: str
    file: str
    engine: str
    preset: str
    measure: str
    points: list[Point] = field(default_factory=list)

    def steps(self) -> list[Step]:
        floor = COUNT_NOISE if self.measure == "instructions" else 0.0
        return find_steps([p.values for p in self.points], floor)


def select(entries: list[Entry], engine: str | None = None, file: str | None = None,
           machine: str | None = None, commits: set[str] | None = None) -> list[Entry]:  # fmt: skip
    """The entries that match every filter given (a file by name or SHA-256 prefix)."""
    return [e for e in entries
            if (file is None or file in (e.file, e.sha256) or e.sha256.startswith(file))
            and (machine is None or e.machine == machine)
            and (commits is None or e.commit in commits)
            and (engine is None or engine in e.engines)]  # fmt: skip


def build(store: Store, entries: list[Entry], engine: str | None = None,
          repo: Path | None = None) -> list[Series]:  # fmt: skip
    """Every series the entries hold (of `engine` only, when given), points in commit order."""
    ordered = sorted(entries, key=order_key(repo))
    found: dict[tuple, Series] = {}
    for entry in ordered:
        result = store.load(entry)
        for row in result.rows:
            if row.is_ceiling or (engine is not None and row.engine != engine):
                continue
            key = (entry.machine, entry.file, row.engine, entry.preset, entry.measure)
            series = found.setdefault(key, Series(*key))
            point = series.points[-1] if series.points else None
            if point is None or point.commit != entry.commit or entry.commit == NO_COMMIT:
                point = Point(entry.commit, entry.commit_time, [], row.events, [], set())
                series.points.append(point)
            point.values += row.values_s
            point.ratios.append(row.ratio_to_ceiling)
            if row.digest:
                point.digests.add(row.digest)
    return list(found.values())


def order_key(repo: Path | None):
    """A sort key of entries in commit order (see the module's text)."""
    position = topological(repo) if repo else {}

    def key(entry: Entry) -> tuple:
        if entry.commit == NO_COMMIT:
            return (1, 0, 0, entry.stored)
        return (0, entry.commit_time or 0, position.get(entry.commit, 0), entry.stored)

    return key


def topological(repo: Path) -> dict[str, int]:
    """Every commit of the repository (its 12-digit short name) -> its place, oldest first.
    (Its own git call: the report reads series, and must not import the runner.)"""
    try:
        proc = subprocess.run(["git", "rev-list", "--topo-order", "--reverse", "--all"],
                              cwd=repo, capture_output=True, text=True, timeout=60)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
        return {}
    return {full[:12]: i for i, full in enumerate(proc.stdout.split())}
