"""A test-only engine: the compiled engine with injected extra work per event, to test the gate.

`MBOBENCH_SLOWDOWN` (default 0.10) is the extra work as a fraction of the engine's own: after
each pass, a jitted loop does a fixed number of dependent multiply-xorshift steps for every
event the pass processed (a fraction of a step per event where a step costs more than the
slowdown asks), so that the extra work grows with the events, as a real regression in the
engine's loop does, and an instruction count sees it in proportion. How many steps make the
fraction is calibrated once, in the engine's first pass over a whole file (a worker's untimed
warm-up; not a slow engine's warm-up on a prefix): the fastest of three more passes, per event,
against a step's time, measured on the spot; or given as `MBOBENCH_SLOWDOWN_STEPS` (steps per
event), as the trust experiment does, calibrated once for all its runs, so that every slowed run
gets the same extra work. The results are exactly the engine's.
"""

from __future__ import annotations

import os
import time

import numba
import numpy as np

from engines.compiled import CompiledEngine
from harness.dbn.reader import Reader


@numba.njit(cache=True, nogil=True)
def extra_work(steps: int) -> np.uint64:
    """`steps` dependent integer steps; the result keeps them from being dropped."""
    acc = np.uint64(steps)
    for _ in range(steps):
        acc = (acc * np.uint64(0x9E3779B97F4A7C15)) ^ (acc >> np.uint64(29))
    return acc


class SlowedEngine(CompiledEngine):
    name = "slowed"

    def __init__(self) -> None:
        super().__init__()
        self.slowdown = float(os.environ.get("MBOBENCH_SLOWDOWN", "0.10"))
        steps = os.environ.get("MBOBENCH_SLOWDOWN_STEPS")  # given: no calibration by time
        self.steps_per_event: float | None = float(steps) if steps else None
        self.sink = np.uint64(0)
        extra_work(1)  # compiled before any timing

    def run(self, chunks, strict=False):
        results = super().run(chunks, strict)
        if self.steps_per_event is None and isinstance(chunks, Reader):
            # The first (untimed) pass over the file: calibrate on warm ones.
            passes = []
            for _ in range(3):
                start = time.perf_counter()
                super().run(chunks, strict)  # the harness's reader reads again when asked
                passes.append(time.perf_counter() - start)
            self.steps_per_event = self._calibrate(min(passes) / max(results.events, 1))
        if self.steps_per_event:
            self.sink ^= extra_work(round(results.events * self.steps_per_event))
        results.engine = self.name
        return results

    def _calibrate(self, engine_s_per_event: float) -> float:
        """Steps per event that cost `slowdown` of the engine's time per event."""
        if self.slowdown <= 0:
            return 0.0
        probe = 2_000_000
        best = float("inf")
        for _ in range(3):  # the fastest of three: the loop's cost, not the machine's noise
            start = time.perf_counter()
            self.sink ^= extra_work(probe)
            best = min(best, (time.perf_counter() - start) / probe)
        return self.slowdown * engine_s_per_event / best
