"""Phase 2 of the plan, `batch`: records processed in batches, the state lock taken once a batch.

Relative to `direct`: the write lock is taken once per batch of records (default 1000,
`MBOBENCH_BATCH` or `BatchEngine(batch=N)`), and the book updates and the strategies of every
event in the batch run under it; no read or write lock per event or per strategy. Allocation and
dynamic dispatch stay. The plan expected 20-30% faster. The loop is `engines.switches.TEMPLATE`
with its `#B` lines instead of its `#L` and `#Q` lines: `BatchEngine().source` shows it.
"""

from __future__ import annotations

import os

from engines.switches import SwitchEngine

DEFAULT_BATCH = 1000


class BatchEngine(SwitchEngine):
    name = "batch"

    def __init__(self, batch: int | None = None) -> None:
        batch = batch or int(os.environ.get("MBOBENCH_BATCH", DEFAULT_BATCH))
        super().__init__(queue=False, lock="batch", allocation=True, dispatch=True, batch=batch)
