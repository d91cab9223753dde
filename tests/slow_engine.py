"""A test engine whose pass takes over a second: the compiled engine, then a sleep (the
worker's rule for slow engines is by the warm-up pass's time, whatever fills it)."""

import time

from engines.compiled import CompiledEngine


class SlowEngine(CompiledEngine):
    def run(self, chunks, strict=False):
        results = super().run(chunks, strict)
        time.sleep(1.05)
        return results
