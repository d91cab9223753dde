"""A test engine whose pass takes over a second: the compiled engine, then a sleep (the
worker's rule for slow engines is by the time a pass takes, whatever fills it). Each run says
on stderr how many records it was given, so that a test can see the worker's passes."""

import sys
import time

from engines.compiled import CompiledEngine


class SlowEngine(CompiledEngine):
    def run(self, chunks, strict=False):
        results = super().run(chunks, strict)
        print(f"slow engine: a run over {results.events} records", file=sys.stderr, flush=True)
        time.sleep(1.05)
        return results
