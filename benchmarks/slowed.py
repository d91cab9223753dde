"""A test-only engine: the compiled engine with injected extra work, to test the gate.

`MBOBENCH_SLOWDOWN` (default 0.10) is the extra work as a fraction of the engine's own time.
Measured by time, the extra work is more of the engine's own work: after each pass over a file,
a second compiled engine (its own state: the results are exactly the engine's) makes a pass
over the file's first records, a copy of them kept in mbobench's cache
(`harness.datasets.heads`) and read the same way (a `.dbn.zst` read ahead on a native thread).
The extra time then changes with the machine as the engine's does: on a 2-core VM whose host
takes a core away now and then, reading and processing, which overlap, serialise in both passes
alike. (A spin on one thread after the pass, as this engine once did, measured +4% to +17% for
10% of extra work: the spin keeps its time when the pass, not it, slows down.)

How many records make the fraction is calibrated once, in the engine's first pass over a whole
file (a worker's untimed warm-up), in place (`_calibrate`); or given as
`MBOBENCH_SLOWDOWN_RECORDS`, as the trust experiment does, calibrated once for all its runs, so
that every slowed run gets the same extra work. Counted in instructions, where there is no
machine state to follow, `MBOBENCH_SLOWDOWN_STEPS` (steps per event) is the extra work instead:
a jitted loop of dependent multiply-xorshift steps for every event the pass processed.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numba
import numpy as np

from engines.compiled import CompiledEngine
from harness.datasets.heads import head_of
from harness.dbn.reader import Reader

BLOCK = 512  # the prefix's records are a multiple of this


@numba.njit(cache=True, nogil=True)
def extra_work(steps: int) -> np.uint64:
    """`steps` dependent integer steps; the result keeps them from being dropped."""
    acc = np.uint64(steps)
    for _ in range(steps):
        acc = (acc * np.uint64(0x9E3779B97F4A7C15)) ^ (acc >> np.uint64(29))
    return acc


def in_blocks(records: int, events: int) -> int:
    """`records` to the nearest whole number of blocks, at least one and at most `events`."""
    return max(BLOCK, min(events, round(records / BLOCK) * BLOCK))


class SlowedEngine(CompiledEngine):
    name = "slowed"

    def __init__(self) -> None:
        super().__init__()
        self.slowdown = float(os.environ.get("MBOBENCH_SLOWDOWN", "0.10"))
        steps = os.environ.get("MBOBENCH_SLOWDOWN_STEPS")  # counting: steps per event
        self.steps_per_event: float | None = float(steps) if steps else None
        records = os.environ.get("MBOBENCH_SLOWDOWN_RECORDS")  # given: no calibration by time
        self.head_records: int | None = int(records) if records else None
        self.head: Path | None = None
        self.extra = CompiledEngine()  # the extra passes' engine: its own book and fills
        self.sink = np.uint64(0)
        extra_work(1)  # compiled before any timing

    def run(self, chunks, strict=False):
        results = super().run(chunks, strict)
        if self.steps_per_event is not None:
            self.sink ^= extra_work(round(results.events * self.steps_per_event))
        elif self.slowdown > 0 and isinstance(chunks, Reader):
            if self.head is None:  # the first (untimed) pass over the file
                self.head_records = self.head_records or self._calibrate(chunks, results.events)
                self.head = head_of(chunks.path, self.head_records)
            self.extra.run(Reader(self.head, chunks.chunk_records), strict)
        results.engine = self.name
        return results

    def _calibrate(self, reader: Reader, events: int) -> int:
        """Records of the file whose extra pass makes a pass over it `slowdown` slower: from a
        first guess (that fraction of its records), corrected three times by the slowdown
        measured in place, the engine's passes with and without the extra one in turn (the
        extra pass leaves the engine's own arrays out of the caches, which a pass over the
        prefix alone would not see). Whole blocks of `BLOCK` records: a few files serve every
        process."""
        records = round(self.slowdown * events)
        for _ in range(3):
            records = in_blocks(records, events)
            head = Reader(head_of(reader.path, records), reader.chunk_records)
            plain, slowed = [], []
            for _ in range(15):
                start = time.perf_counter()
                super().run(reader)  # the harness's reader reads again when asked
                plain.append(time.perf_counter() - start)
                start = time.perf_counter()
                super().run(reader)
                self.extra.run(head)
                slowed.append(time.perf_counter() - start)
            measured = statistics.median(slowed) / statistics.median(plain) - 1
            records = round(records * self.slowdown / max(measured, 1e-3))
        return in_blocks(records, events)
