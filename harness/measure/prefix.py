"""How long a whole pass of an engine would take, judged by a run over the file's first records:
the worker's warm-up of a slow engine, and the runner's choice of loops, without a whole pass."""

from __future__ import annotations

import time
from pathlib import Path

PREFIX_RECORDS = 4_096  # the warm-up of a slow engine, and what a pass's time is judged by
SLOW_VALUES = 1  # values a process of an engine whose pass takes a second or more (worker.py)


def pass_estimate(run, path: Path, chunk_records: int, records: int, tries: int = 1) -> float:
    """Seconds a whole pass of `run(chunks)` over `path` (`records` long) would take, from the
    fastest of `tries` runs over its first `PREFIX_RECORDS` records (a first run may pay for
    what every later run reuses: its arrays, its threads)."""
    from harness.dbn.reader import Reader

    first = next(iter(Reader(path, chunk_records)), None)
    prefix = [] if first is None else [first[:PREFIX_RECORDS]]
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        run(prefix)
        best = min(best, time.perf_counter() - start)
    return best / max(sum(map(len, prefix)), 1) * records
