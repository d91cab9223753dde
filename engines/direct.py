"""Phase 1 of the plan, `direct`: no event queue; each record is processed as it is read.

Relative to the baseline: records no longer go through the priority heap (no push, no pop, no
prioritized wrapper). Everything else stays: the per-event reader-writer lock, the event object
and its clone, string-keyed features and request lists, and the dynamic dispatch to strategies.
The plan expected 30-40% faster. The loop is `engines.switches.TEMPLATE` without its `#Q` lines:
`DirectEngine().source` shows it.
"""

from __future__ import annotations

from engines.switches import SwitchEngine


class DirectEngine(SwitchEngine):
    name = "direct"

    def __init__(self) -> None:
        super().__init__(queue=False, lock="event", allocation=True, dispatch=True)
