"""A test-only engine: the compiled engine with injected extra work, to test the gate.

`MBOBENCH_SLOWDOWN` (default 0.10) is the extra work as a fraction of the engine's own time:
after each run it spins for that fraction of the run's duration, so that a run takes
(1 + slowdown) times as long while computing exactly the same results. The trust experiments
(`benchmarks/trust.py`) and the gate's tests use it to check that a real slowdown is caught.
"""

from __future__ import annotations

import os
import time

from engines.compiled import CompiledEngine


class SlowedEngine(CompiledEngine):
    name = "slowed"

    def run(self, chunks, strict=False):
        start = time.perf_counter()
        results = super().run(chunks, strict)
        extra = float(os.environ.get("MBOBENCH_SLOWDOWN", "0.10")) * (time.perf_counter() - start)
        until = time.perf_counter() + extra
        while time.perf_counter() < until:  # extra work, not sleep: the CPU stays busy
            pass
        results.engine = self.name
        return results
