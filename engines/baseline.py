"""The baseline: the queue-based, event-driven design the rest of the project measures against.

Written as its owner wrote it, with every one of the four suspected costs in place:
- queue: every record becomes an event, goes into a priority heap (`heapq` of prioritized
  events, ordered by receive time and arrival) and is popped again;
- locking: the market state sits behind a reader-writer lock, taken for writing to update the
  book and for reading per strategy, then for writing again to submit its orders;
- allocation: an event object per record and a cloned copy of it for the queue, a features dict
  with string keys and a fresh list of request objects per strategy call;
- dispatch: strategies are found per event through dicts by instrument and by name, and reached
  by dynamic method calls (`getattr`).
Nothing is slowed on purpose: each of these is the ordinary way to write that design in Python.
"""

from __future__ import annotations

import copy
import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from engines.book import Book
from engines.events import F_LAST, FILL, rows
from engines.fills import FillSimulator
from engines.results import Results
from engines.strategies import Strategy, make_strategies

CALLBACK = "on_book"  # the strategies' callback, looked up by name per event
# The profile category of this module's functions; loop lines carry `# cost:` markers.
COSTS = {"acquire_read": "lock", "release_read": "lock", "acquire_write": "lock",
         "release_write": "lock", "add_instrument": "other"}  # fmt: skip


@dataclass
class MarketEvent:
    ts_recv: int
    key: int
    action: int
    side: int
    price: int
    size: int
    order_id: int
    flags: int


@dataclass(order=True)
class PrioritizedEvent:
    priority: tuple[int, int]
    event: MarketEvent = field(compare=False)


class ReadWriteLock:
    """Many readers or one writer, on a condition variable."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False

    def acquire_read(self) -> None:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True

    def release_write(self) -> None:
        with self._cond:
            self._writing = False
            self._cond.notify_all()


class BaselineEngine:
    """Event queue, reader-writer lock, per-event allocation and dynamic dispatch."""

    name = "baseline"

    def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results:
        self.strict = strict
        self.books: dict[int, Book] = {}
        self.strategies: dict[int, dict[str, Strategy]] = {}  # key -> name -> strategy
        self.fills = FillSimulator()
        self.lock = ReadWriteLock()
        self.event_ends = 0
        queue: list[PrioritizedEvent] = []
        arrival = 0
        for chunk in chunks:
            for fields in rows(chunk):  # cost: reading
                event = MarketEvent(*fields)  # cost: allocation
                heapq.heappush(  # cost: queue
                    queue, PrioritizedEvent((event.ts_recv, arrival), copy.copy(event))
                )
                arrival += 1
                while queue:  # the event loop: drain whatever is due  # cost: queue
                    event = heapq.heappop(queue).event  # cost: queue
                    self.on_market_event(event)
        return self.fills.results(self.name, arrival, self.event_ends, self.books)

    def on_market_event(self, event: MarketEvent) -> None:
        self.lock.acquire_write()
        try:
            book = self.books.get(event.key)
            if book is None:
                book = self.add_instrument(event.key)
            if event.action == FILL:
                self.fills.on_fill(
                    event.key, book, event.side, event.price, event.size, event.order_id
                )
            book.apply(event.action, event.side, event.price, event.size, event.order_id,
                       event.flags)  # fmt: skip
        finally:
            self.lock.release_write()
        if event.flags & F_LAST:
            self.on_event_end(event, book)

    def on_event_end(self, event: MarketEvent, book: Book) -> None:
        self.event_ends += 1
        self.lock.acquire_read()
        try:
            fills = self.fills
            fills.digest, bid, ask, bid_size, ask_size = book.end_event(event.key, fills.digest)
        finally:
            self.lock.release_read()
        for name in list(self.strategies[event.key]):  # cost: dispatch
            strategy = self.strategies[event.key][name]  # cost: dispatch
            s = strategy.index
            self.lock.acquire_read()
            try:
                features = {  # cost: allocation
                    "ts": event.ts_recv,
                    "best_bid": bid,
                    "best_ask": ask,
                    "bid_size": bid_size,
                    "ask_size": ask_size,
                    "position": self.fills.position[event.key][s],
                }
            finally:
                self.lock.release_read()
            requests = getattr(strategy, CALLBACK)(features)  # cost: dispatch
            self.lock.acquire_write()
            try:
                for request in requests:
                    self.fills.submit(s, event.key, book, request)
            finally:
                self.lock.release_write()

    def add_instrument(self, key: int) -> Book:
        book = self.books[key] = Book(self.strict)
        self.strategies[key] = {}
        for strategy in make_strategies():
            self.strategies[key][strategy.name] = strategy
        self.fills.add_instrument(key)
        return book
