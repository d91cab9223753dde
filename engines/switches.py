"""The configurable Python engine: the baseline's four costs as switches, any combination.

The four suspected costs of the baseline are switches:

    queue       every event pushed into and popped from a priority heap
    lock        "event": a reader-writer lock taken per event (write to update the book, read per
                strategy, write to submit its orders); "batch": taken once per batch of records;
                "off": none
    allocation  an event object and its clone per record, a features dict with string keys, a
                fresh list of request objects per strategy call
    dispatch    strategies found per event through dicts by instrument and name, and reached by
                a dynamic (getattr) call; off: resolved once per instrument, called directly

A switch that is off must leave no trace in what runs: no null lock, no no-op call, no flag
tested per event. So the engine's loop is generated once per configuration from the template
below, in which every line that belongs to a cost carries a tag:

    #Q  only with the queue          #!Q  only without it
    #A  only with allocation         #!A  only without it
    #D  only with dynamic dispatch   #!D  only without it
    #L  only with the per-event lock #B   only with the batch lock

A line with several tags needs all of them. Untagged lines are the backtest itself (book,
fills, strategies, digest), identical in every configuration. `engine.source` is the generated
loop: read it to see exactly what a configuration runs.
"""

from __future__ import annotations

import copy
import heapq
import linecache
from collections.abc import Iterable

import numpy as np

from engines import SWITCHES, switch_label
from engines.baseline import CALLBACK, MarketEvent, PrioritizedEvent, ReadWriteLock
from engines.book import Book
from engines.events import F_LAST, FILL, rows
from engines.fills import FillSimulator
from engines.results import Results
from engines.strategies import STRATEGIES, Strategy, make_strategies

# The profile category of this module's own functions; the loops it generates carry markers.
COSTS = {"add_instrument": "other", "run": "other", "from_label": "other"}

DECIDE = "decide"  # the decision function's attribute, looked up by name with dispatch on
WHOLE_CHUNK = 1 << 62  # the "batch" of a configuration without the batch lock

TEMPLATE = """
def loop(chunks, engine):
    books = engine.books
    fills = engine.fills
    on_fill = fills.on_fill
    batch = engine.batch
    lock = engine.lock  #L
    lock = engine.lock  #B
    queue = []  #Q
    by_name = engine.by_name  #D
    names = engine.names  #D
    by_key = engine.by_key  #!D
    out = [0, 0, 0]  #!A
    arrival = 0
    event_ends = 0
    for chunk in chunks:
        for start in range(0, len(chunk), batch):
            lock.acquire_write()  #B
            for fields in rows(chunk[start : start + batch]):
                event = MarketEvent(*fields)  #A
                heappush(queue, PrioritizedEvent((event.ts_recv, arrival), copy(event)))  #A #Q
                event = heappop(queue).event  #A #Q
                ts, key, action, side, price, size, order_id, flags = (event.ts_recv, event.key, event.action, event.side, event.price, event.size, event.order_id, event.flags)  #A
                heappush(queue, (fields[0], arrival, fields))  #!A #Q
                fields = heappop(queue)[2]  #!A #Q
                ts, key, action, side, price, size, order_id, flags = fields  #!A
                arrival += 1
                lock.acquire_write()  #L
                book = books.get(key)
                if book is None:
                    book = engine.add_instrument(key)
                if action == FILL:
                    on_fill(key, book, side, price, size, order_id)
                book.apply(action, side, price, size, order_id, flags)
                lock.release_write()  #L
                if not flags & F_LAST:
                    continue
                event_ends += 1
                lock.acquire_read()  #L
                fills.digest, bid, ask, bid_size, ask_size = book.end_event(key, fills.digest)
                lock.release_read()  #L
                positions = fills.position[key]
                for name in names:  #D
                    strategy = by_name[key][name]  #D
                    s = strategy.index  #D
                for s, strategy, decide, state in by_key[key]:  #!D
                    lock.acquire_read()  #L
                    position = positions[s]
                    features = {"ts": ts, "best_bid": bid, "best_ask": ask, "bid_size": bid_size, "ask_size": ask_size, "position": position}  #A
                    lock.release_read()  #L
                    requests = getattr(strategy, CALLBACK)(features)  #A #D
                    requests = strategy.on_book(features)  #A #!D
                    getattr(strategy, DECIDE)(out, strategy.state, ts, bid, ask, bid_size, ask_size, position)  #!A #D
                    decide(out, state, ts, bid, ask, bid_size, ask_size, position)  #!A #!D
                    lock.acquire_write()  #L
                    for request in requests:  #A
                        fills.submit(s, key, book, request)  #A
                    fills.apply(s, key, book, out)  #!A
                    lock.release_write()  #L
            lock.release_write()  #B
    return arrival, event_ends
"""


def render(queue: bool, lock: str, allocation: bool, dispatch: bool) -> str:
    """The loop's source for one configuration: the template's lines whose tags all hold."""
    holds = {"Q": queue, "A": allocation, "D": dispatch, "L": lock == "event", "B": lock == "batch"}
    lines = []
    for line in TEMPLATE.strip("\n").splitlines():
        code, _, tags = line.partition("  #")
        if tags and not all(
            holds[tag[1]] is False if tag.startswith("!") else holds[tag]
            for tag in tags.replace("#", "").split()
        ):
            continue
        lines.append(code.rstrip() + _marker(tags) if tags else line)
    return "\n".join(lines) + "\n"


def _marker(tags: str) -> str:
    """The profile category a tagged line keeps as a `# cost:` marker (harness/results/categories.py)."""
    on = [t for t in tags.replace("#", "").split() if not t.startswith("!")]
    for tag, category in (("Q", "queue"), ("L", "lock"), ("B", "lock"), ("D", "dispatch"),
                          ("A", "allocation")):  # fmt: skip
        if tag in on:
            return f"  # cost: {category}"
    return ""


class SwitchEngine:
    """The Python backtest with the chosen costs in its loop, and no trace of the others."""

    name = "switches"

    def __init__(
        self,
        queue: bool = True,
        lock: str = "event",
        allocation: bool = True,
        dispatch: bool = True,
        batch: int = 1000,
        *,
        name: str | None = None,
        hooks: dict | None = None,
    ) -> None:
        if lock not in ("event", "batch", "off"):
            raise ValueError(f"lock must be 'event', 'batch' or 'off', not {lock!r}")
        self.switches = {"queue": queue, "lock": lock, "allocation": allocation,
                         "dispatch": dispatch}  # fmt: skip
        self.batch_size = batch
        if name is not None:
            self.name = name
        elif type(self) is SwitchEngine:
            self.name = "switches:" + label(queue, lock, allocation, dispatch)
        self.source = render(queue, lock, allocation, dispatch)
        filename = f"<mbobench {self.name}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        namespace = {
            "rows": rows, "F_LAST": F_LAST, "FILL": FILL,
            "heappush": heapq.heappush, "heappop": heapq.heappop, "copy": copy.copy,
            "MarketEvent": MarketEvent, "PrioritizedEvent": PrioritizedEvent,
            "CALLBACK": CALLBACK, "DECIDE": DECIDE,
        }  # fmt: skip
        namespace.update(hooks or {})  # tests swap in counting or raising stand-ins
        self.lock_factory = namespace.pop("ReadWriteLock", ReadWriteLock)
        exec(compile(self.source, filename, "exec"), namespace)
        self._loop = namespace["loop"]

    def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results:
        self.strict = strict
        self.books: dict[int, Book] = {}
        self.fills = FillSimulator()
        self.by_name: dict[int, dict[str, Strategy]] = {}  # key -> name -> strategy
        # key -> (index, strategy, decision function, state) per strategy, in their order:
        # resolved once per instrument, for static dispatch
        self.by_key: dict[int, list[tuple]] = {}
        self.names = [strategy[0] for strategy in STRATEGIES]
        if self.switches["lock"] != "off":
            self.lock = self.lock_factory()
        self.batch = self.batch_size if self.switches["lock"] == "batch" else WHOLE_CHUNK
        events, event_ends = self._loop(chunks, self)
        return self.fills.results(self.name, events, event_ends, self.books)

    def add_instrument(self, key: int) -> Book:
        book = self.books[key] = Book(self.strict)
        strategies = make_strategies()
        self.by_key[key] = [(st.index, st, st.decide, st.state) for st in strategies]
        self.by_name[key] = {strategy.name: strategy for strategy in strategies}
        self.fills.add_instrument(key)
        return book


def label(queue: bool, lock: str, allocation: bool, dispatch: bool) -> str:
    """A configuration's short name: the costs it keeps, e.g. "queue+lock+alloc+dispatch"."""
    kept = {"queue": queue, "lock" if lock == "event" else "batchlock": lock != "off",
            "alloc": allocation, "dispatch": dispatch}  # fmt: skip
    return switch_label(name for name, on in kept.items() if on)


def from_label(text: str) -> SwitchEngine:
    """The configuration a label names: "queue+lock+alloc+dispatch" (all on) ... "none"."""
    kept = set() if text == "none" else set(text.split("+"))
    unknown = kept - set(SWITCHES) - {"batchlock"}
    if unknown:
        known = ", ".join(SWITCHES)
        raise ValueError(f"unknown costs {sorted(unknown)} in {text!r} (known: {known})")
    lock = "event" if "lock" in kept else "batch" if "batchlock" in kept else "off"
    return SwitchEngine("queue" in kept, lock, "alloc" in kept, "dispatch" in kept)
