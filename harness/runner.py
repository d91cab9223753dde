"""Measuring the reading ceiling and engines on one file, in one run, and saving the result.

Each measurement opens and reads the file inside the timed region (reading is part of an
engine's end-to-end time, as it is of the ceiling's). Numba kernels are loaded before any timing.
The result is a JSON document written to a temporary file and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engines import load_engine
from engines.book import Book, UnknownOrder
from engines.events import rows
from engines.results import Results
from harness.ceiling import read_ceiling
from harness.errors import InputError
from harness.reader import DEFAULT_CHUNK_RECORDS, Reader

CEILING = "ceiling"
FORMAT_VERSION = 1

Progress = Callable[[int], None]  # called with the number of records just delivered


@dataclass
class Measurement:
    """One timed pass of the ceiling or an engine over the file."""

    name: str
    events: int
    seconds: float
    results: Results | None = None  # None for the ceiling
    digest_ok: bool | None = None  # None when there is no baseline to compare with
    peak_rss_bytes: int | None = None  # the process's peak RSS during this pass (Linux only)
    compile_seconds: float | None = None  # the engine's compilation, never in `seconds`

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Run:
    """The ceiling and every engine measured on one file."""

    path: Path
    records: int
    sha256: str
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def ceiling(self) -> Measurement:
        return next(m for m in self.measurements if m.name == CEILING)

    @property
    def wrong(self) -> list[str]:
        return [m.name for m in self.measurements if m.digest_ok is False]


def run_file(
    path: Path,
    engine_specs: list[str],
    *,
    strict: bool = False,
    chunk_records: int = DEFAULT_CHUNK_RECORDS,
    repeat: int = 1,
    on_start: Callable[[str, int | None], Progress] | None = None,
) -> Run:
    """Measure the ceiling and each engine on `path`; the best of `repeat` passes each."""
    engines = [load_engine(spec) for spec in engine_specs]
    reader = Reader(path, chunk_records)  # checks the file before anything is timed
    _warm_up()
    first = next(iter(reader), None)
    for engine in engines:  # an untimed pass over the first chunk: first-call costs go here
        if first is not None:
            _run_engine(engine, [first], path, strict)
    run = Run(path, 0, sha256_of(path))
    for name, job in [(CEILING, None)] + [(e.name, e) for e in engines]:
        best: Measurement | None = None
        for _ in range(repeat):
            progress = on_start(name, reader.record_count) if on_start else None
            m = _measure(name, job, path, chunk_records, strict, progress)
            if best is None or m.seconds < best.seconds:
                best = m
        run.measurements.append(best)
    run.records = run.ceiling.events
    _check_digests(run)
    return run


def _measure(name, engine, path, chunk_records, strict, progress) -> Measurement:
    _reset_peak_rss()
    chunks = _tracked(Reader(path, chunk_records).chunks(), progress)
    if engine is None:
        start = time.perf_counter()
        events, _ = read_ceiling(chunks)
        m = Measurement(name, events, time.perf_counter() - start)
    else:
        start = time.perf_counter()
        results = _run_engine(engine, chunks, path, strict)
        m = Measurement(name, results.events, time.perf_counter() - start, results)
        m.compile_seconds = getattr(engine, "compile_seconds", None)
    m.peak_rss_bytes = _peak_rss()
    return m


def _run_engine(engine, chunks, path: Path, strict: bool) -> Results:
    try:
        return engine.run(chunks, strict)
    except UnknownOrder as exc:
        raise InputError(_locate_unknown(path, exc)) from None


def _reset_peak_rss() -> None:
    """Start a new RSS high-water mark for this process (Linux: /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss() -> int | None:
    """The process's RSS high-water mark since the last reset, in bytes (VmHWM)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _tracked(chunks: Iterator[np.ndarray], progress: Progress | None) -> Iterator[np.ndarray]:
    for chunk in chunks:
        yield chunk
        if progress is not None:
            progress(len(chunk))


def _check_digests(run: Run) -> None:
    reference = next((m for m in run.measurements if m.name == "baseline"), None)
    if reference is None:
        return
    for m in run.measurements:
        if m.results is not None:
            m.digest_ok = m.results.digest == reference.results.digest and (
                m.results.events == reference.results.events
            )


def _locate_unknown(path: Path, exc: UnknownOrder) -> str:
    """The message for a strict run's unknown order id, with the record that named it."""
    books: dict[int, Book] = {}
    index = 0
    for chunk in Reader(path):
        for _, key, action, side, price, size, order_id, flags in rows(chunk):
            book = books.get(key) or books.setdefault(key, Book(strict=True))
            try:
                book.apply(action, side, price, size, order_id, flags)
            except UnknownOrder:
                return f"{path}: record {index}: {exc} (--strict)"
            if flags & 0x80:
                book.in_snapshot = False
            index += 1
    return f"{path}: {exc} (--strict)"


def _warm_up() -> None:
    """Load the reader's jitted kernels (from numba's cache) before anything is timed."""
    from engines.events import MBO_DTYPE
    from harness._kernels import first_bad_record, touch_fields

    writable = np.zeros(1, MBO_DTYPE)
    readonly = np.frombuffer(writable.tobytes(), MBO_DTYPE)  # numba types these apart
    for chunk in (writable, readonly):
        first_bad_record(chunk, 14, np.zeros(256, np.bool_), np.zeros(256, np.bool_))
        touch_fields(chunk)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_json(run: Run) -> dict:
    """The result document: the file, the machine, and each measurement."""
    ceiling = run.ceiling.events_per_s
    baseline = next((m for m in run.measurements if m.name == "baseline"), None)
    rows_out = []
    for m in run.measurements:
        row = {
            "name": m.name,
            "events": m.events,
            "seconds": m.seconds,
            "events_per_s": m.events_per_s if m.digest_ok is not False else None,
            "ratio_to_ceiling": m.events_per_s / ceiling if ceiling and m.digest_ok is not False
            else None,
            "speedup_over_baseline": m.events_per_s / baseline.events_per_s
            if baseline and m.digest_ok is not False else None,
            "digest_ok": m.digest_ok,
            "peak_rss_bytes": m.peak_rss_bytes,
            "compile_seconds": m.compile_seconds,
        }  # fmt: skip
        if m.results is not None:
            row["results"] = m.results.to_dict()
        rows_out.append(row)
    return {
        "mbobench_result": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": {"path": str(run.path), "sha256": run.sha256, "records": run.records},
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
        },
        "measurements": rows_out,
    }


def write_json_atomic(document: dict, path: Path) -> Path:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
