"""Reading a result file back: a pyperf benchmark suite written by `mbobench run`.

Every later stage (the table, compare, check, the report) starts here, from the file alone.
A file that is missing, not JSON, not pyperf's, or pyperf's but not mbobench's is an
`InputError` that names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError

CEILING = "ceiling"  # the reading ceiling's benchmark, measured beside every engine
BASELINE = "baseline"


def run_value(bench, name: str):
    """A metadata value of the benchmark's runs with values (they all carry the same one)."""
    for run in bench.get_runs():
        if run.values and name in run.get_metadata():
            return run.get_metadata()[name]
    return bench.get_metadata().get(name)


def events_of(bench) -> int:
    return int(run_value(bench, "mbobench_events"))


@dataclass
class Row:
    """One engine on one file, as measured."""

    file: str
    engine: str
    name: str  # the pyperf benchmark's name
    events: int
    mean_s: float  # seconds per pass over the file (pyperf's mean)
    stdev_s: float
    runs_s: list[list[float]]  # the values, by pyperf process (run)
    digest: str | None
    digest_ok: bool | None  # None: no baseline in the run
    ceiling_events_per_s: float
    peak_rss: int | None
    compile_s: float | None
    startup_s: float | None = None  # a command engine's process start, timed apart
    setup_s: float | None = None  # loading it in mbobench's process: a first compilation
    unknown_orders: int | None = None
    fills: int | None = None
    baseline_events_per_s: float | None = None  # the reference engine's, on the same file
    reference: str = BASELINE  # the engine whose digest this one's is held against
    measure: str = "time"  # or "instructions": then the values are instructions per pass
    family: str | None = None  # a switch configuration's family (`mbobench attribute`)...
    switches: str | None = None  # ... and the costs it keeps, as a label
    machine: str | None = None  # where it was measured (older results: the host pyperf noted)
    commit: str | None = None  # the commit of the engines under test, and its time
    commit_time: int | None = None
    preset: str | None = None
    sha256: str | None = None  # of the data file
    interleaved: str | None = None  # the interleaved job it was measured in (interleave.py)
    steal: float | None = None  # the host's share of the CPU time meanwhile (measure/steal.py)

    @property
    def values_s(self) -> list[float]:
        """Every value, seconds (or instructions) a pass, as pyperf's `get_values` gives them."""
        return [value for run in self.runs_s for value in run]

    @property
    def events_per_s(self) -> float:
        """Events per second; of an instruction count, events per instruction (so that every
        ratio below reads the same way: higher is faster)."""
        return self.events / self.mean_s

    @property
    def instructions_per_event(self) -> float:
        return self.mean_s / self.events

    @property
    def rsd(self) -> float:
        """Relative standard deviation of the values."""
        return self.stdev_s / self.mean_s if self.mean_s else 0.0

    @property
    def ratio_to_ceiling(self) -> float:
        return self.events_per_s / self.ceiling_events_per_s

    @property
    def speedup(self) -> float | None:
        base = self.baseline_events_per_s
        return self.events_per_s / base if base else None

    @property
    def is_ceiling(self) -> bool:
        return self.engine == CEILING


@dataclass
class Result:
    path: Path
    suite: object  # pyperf.BenchmarkSuite
    rows: list[Row]

    def row(self, file: str, engine: str) -> Row | None:
        return next((r for r in self.rows if r.file == file and r.engine == engine), None)

    @property
    def wrong(self) -> list[Row]:
        return [r for r in self.rows if r.digest_ok is False]

    @property
    def measure(self) -> str:
        """What the result measured: "time" or "instructions" (every row the same)."""
        return self.rows[0].measure if self.rows else "time"


def load_result(path: Path) -> Result:
    """Load and check an mbobench result file."""
    import pyperf

    if not path.is_file():
        raise InputError(f"{path}: no such result file")
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON result ({exc})") from None
    if not isinstance(document, dict) or "benchmarks" not in document:
        raise InputError(f"{path}: not a pyperf result file")
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a valid pyperf result ({exc})") from None
    rows = []
    for bench in suite.get_benchmarks():
        meta = bench.get_metadata()
        if "mbobench_engine" not in meta or "mbobench_ceiling_events_per_s" not in meta:
            raise InputError(f"{path}: benchmark {bench.get_name()!r} was not written by mbobench")
        ok = meta.get("mbobench_digest_ok")
        rows.append(Row(
            file=Path(meta["mbobench_file"]).name, engine=meta["mbobench_engine"],
            name=bench.get_name(), events=events_of(bench), mean_s=bench.mean(),
            stdev_s=bench.stdev() if bench.get_nvalue() > 1 else 0.0,
            runs_s=[list(run.values) for run in bench.get_runs() if run.values],
            digest=run_value(bench, "mbobench_digest"),
            digest_ok=None if ok is None else ok == "yes",
            ceiling_events_per_s=float(meta["mbobench_ceiling_events_per_s"]),
            peak_rss=meta.get("mbobench_peak_rss"),
            compile_s=max((run.get_metadata().get("mbobench_compile_seconds", 0.0)
                           for run in bench.get_runs()), default=0.0) or None,  # fmt: skip
            startup_s=meta.get("mbobench_startup_seconds"),
            setup_s=meta.get("mbobench_setup_seconds"),
            unknown_orders=run_value(bench, "mbobench_unknown_orders"),
            fills=run_value(bench, "mbobench_fills"),
            reference=meta.get("mbobench_reference", BASELINE),
            family=meta.get("mbobench_family"), switches=meta.get("mbobench_switches"),
            measure=meta.get("mbobench_measure", "time"),
            machine=meta.get("mbobench_machine") or run_value(bench, "hostname"),
            commit=meta.get("mbobench_engine_commit"),
            commit_time=meta.get("mbobench_engine_commit_time"),
            preset=meta.get("mbobench_preset"), sha256=meta.get("mbobench_sha256"),
            interleaved=run_value(bench, "mbobench_interleaved"),
            steal=meta.get("mbobench_steal"),
        ))  # fmt: skip
    for row in rows:  # the reference measured on the same file, on the same machine
        base = next((r for r in rows if r.file == row.file and r.engine == row.reference
                     and r.machine == row.machine), None)  # fmt: skip
        if base is not None:
            row.baseline_events_per_s = base.events_per_s
    return Result(path, suite, rows)
