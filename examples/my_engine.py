"""A minimal engine of your own: the book, strategies and fills of mbobench, your loop.

Run it beside the built-in ones (the digest column checks it computes the baseline's results):

    mbobench run --engine baseline --engine examples.my_engine:MyEngine
"""

from collections.abc import Iterable

import numpy as np

from engines.book import Book
from engines.events import F_LAST, FILL, rows
from engines.fills import FillSimulator
from engines.results import Results
from engines.strategies import make_strategies


class MyEngine:
    name = "mine"

    def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results:
        books: dict[int, Book] = {}
        strategies = {}
        fills = FillSimulator()
        out = [0, 0, 0]
        events = event_ends = 0
        for chunk in chunks:
            for ts, key, action, side, price, size, order_id, flags in rows(chunk):
                events += 1
                book = books.get(key)
                if book is None:
                    book = books[key] = Book(strict)
                    strategies[key] = make_strategies()
                    fills.add_instrument(key)
                if action == FILL:
                    fills.on_fill(key, book, side, price, size, order_id)
                book.apply(action, side, price, size, order_id, flags)
                if flags & F_LAST:  # the book is consistent: strategies read it
                    event_ends += 1
                    fills.digest, bid, ask, bid_size, ask_size = book.end_event(key, fills.digest)
                    for strategy in strategies[key]:
                        position = fills.position[key][strategy.index]
                        strategy.decide(out, strategy.state, ts, bid, ask, bid_size, ask_size,
                                        position)  # fmt: skip
                        fills.apply(strategy.index, key, book, out)
        return fills.results(self.name, events, event_ends, books)
