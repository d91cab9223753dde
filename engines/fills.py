"""The fill simulator: strategies' orders filled against the real flow, with L3 queue position.

A strategy holds at most one resting order per side and instrument: a quote. A quote joins the
tail of its price level, taking the book's next queue stamp, so every real order already there
is ahead of it and every order added later is behind it. It fills only from the real flow:

- a fill (F) of a resting real order on its side, at its price, that is *behind* it (a larger
  stamp): the venue has matched past the quote, so everything ahead of it has traded or been
  cancelled; the quote fills by that quantity, up to its own;
- a fill on its side at a price worse than its own (a sweep through its level): it fills too.

A fill of an order ahead of it, or of an order the book does not know, does not fill it. Quotes
do not change the real book (no market impact) and do not see each other.

A take fills at once at the opposite best price, up to the size shown there, and not beyond.
"""

from __future__ import annotations

from engines.book import Book
from engines.events import ASK, BID, NO_ASK, NO_BID
from engines.results import FNV_OFFSET, Results, StrategyResult, mix, wrap64
from engines.strategies import QUOTE, STRATEGIES, OrderRequest

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "fills"}


class Quote:
    """A strategy's resting order: price, remaining quantity and queue stamp."""

    __slots__ = ("price", "quantity", "stamp")

    def __init__(self, price: int, quantity: int, stamp: int) -> None:
        self.price = price
        self.quantity = quantity
        self.stamp = stamp


class FillSimulator:
    """Quotes and takes of every strategy on every instrument, their fills, positions and cash."""

    def __init__(self) -> None:
        self.digest = FNV_OFFSET  # the shared FNV-1a state; engines fold book tops in
        # Per instrument key: per strategy index, [bid quote, ask quote] (None when not quoting).
        self.quotes: dict[int, list[list[Quote | None]]] = {}
        # Per instrument key, per strategy index: net quantity, and cash (price units x qty).
        self.position: dict[int, list[int]] = {}
        self.cash: dict[int, list[int]] = {}
        self.fills = [0] * len(STRATEGIES)

    def add_instrument(self, key: int) -> None:
        self.quotes[key] = [[None, None] for _ in STRATEGIES]
        self.position[key] = [0] * len(STRATEGIES)
        self.cash[key] = [0] * len(STRATEGIES)

    # -- strategy side ----------------------------------------------------------------------

    def apply(self, s: int, key: int, book: Book, out: list[int]) -> None:
        """Carry out strategy s's decision (`out` as `decide` wrote it): quotes, then a take."""
        if STRATEGIES[s][2]:
            self.quote(s, key, book, BID, out[0])
            self.quote(s, key, book, ASK, out[1])
        if out[2]:
            self.take(s, key, book, out[2])

    def submit(self, s: int, key: int, book: Book, request: OrderRequest) -> None:
        """Carry out one request object (the baseline's form of the same decisions)."""
        if request.kind == QUOTE:
            self.quote(s, key, book, request.side, request.price)
        else:
            self.take(s, key, book, request.quantity if request.side == BID else -request.quantity)

    def quote(self, s: int, key: int, book: Book, side: int, price: int) -> None:
        """Hold a one-lot quote at `price` (NO_BID / NO_ASK: hold none); a new price re-queues."""
        pair = self.quotes[key][s]
        i = 0 if side == BID else 1
        current = pair[i]
        if current is not None and current.price == price:
            return
        if price == NO_BID or price == NO_ASK:
            pair[i] = None
            return
        pair[i] = Quote(price, 1, book.next_stamp)
        book.next_stamp += 1

    def take(self, s: int, key: int, book: Book, quantity: int) -> None:
        """Buy (quantity > 0) at the best ask or sell at the best bid, up to the size shown."""
        bid, ask, bid_size, ask_size = book.top()
        if quantity > 0 and ask != NO_ASK:
            self._fill(s, key, BID, ask, min(quantity, ask_size))
        elif quantity < 0 and bid != NO_BID:
            self._fill(s, key, ASK, bid, min(-quantity, bid_size))

    # -- market side ------------------------------------------------------------------------

    def on_fill(self, key: int, book: Book, side: int, price: int, size: int, order_id: int):
        """A real resting order on `side` was filled: fill the quotes it proves were matched."""
        quotes = self.quotes.get(key)
        if quotes is None or (side != BID and side != ASK):
            return
        i = 0 if side == BID else 1
        for s, pair in enumerate(quotes):
            quote = pair[i]
            if quote is None:
                continue
            if price == quote.price:
                order = book.orders.get(order_id)
                if order is None or order.stamp < quote.stamp:
                    continue  # an order ahead of the quote, or one the book cannot place
            elif (price > quote.price) if side == BID else (price < quote.price):
                continue  # a better price than the quote's: its level has not been reached
            quantity = min(size, quote.quantity)
            self._fill(s, key, side, quote.price, quantity)
            quote.quantity -= quantity
            if quote.quantity == 0:
                pair[i] = None

    def _fill(self, s: int, key: int, side: int, price: int, quantity: int) -> None:
        if quantity <= 0:
            return
        self.fills[s] += 1
        signed = quantity if side == BID else -quantity
        self.position[key][s] += signed
        # Cash wraps at 64 bits as the compiled engine's int64 does (only prices near 2**63 can
        # reach it), so that every engine reports the same figures for everything accepted.
        self.cash[key][s] = wrap64(self.cash[key][s] - signed * price)
        h = self.digest
        for word in (s, key, side, price, quantity):
            h = mix(h, word)
        self.digest = h

    # -- results ----------------------------------------------------------------------------

    def results(self, engine: str, events: int, event_ends: int, books: dict[int, Book]) -> Results:
        """The run's results: counts, per-strategy outcomes and the digest."""
        strategies, digest = self.finish(events, books)
        unknown = sum(book.unknown for book in books.values())
        return Results(engine, events, event_ends, unknown, strategies, digest)

    def finish(self, events: int, books: dict[int, Book]) -> tuple[list[StrategyResult], str]:
        """Per-strategy results (positions marked at each book's final mid) and the digest."""
        tops = {key: book.top() for key, book in books.items()}
        return summarize(self.digest, events, self.position, self.cash, tops, self.fills)


def summarize(
    digest: int,
    events: int,
    position: dict[int, list[int]],
    cash: dict[int, list[int]],
    tops: dict[int, tuple[int, int, int, int]],
    fills: list[int],
) -> tuple[list[StrategyResult], str]:
    """Close the digest (events, then each strategy's position and cash per instrument, in
    strategy then key order) and total each strategy, marking positions at the final mid."""
    h = mix(digest, events)
    results = [
        StrategyResult(strategy[0], fills=n) for strategy, n in zip(STRATEGIES, fills, strict=True)
    ]
    for s, key in sorted((s, key) for key in position for s in range(len(STRATEGIES))):
        held, spent = position[key][s], cash[key][s]
        h = mix(mix(h, held), spent)
        bid, ask, _, _ = tops[key]
        mid2 = bid + ask if bid != NO_BID and ask != NO_ASK else 0
        result = results[s]
        result.position += held
        result.cash += spent
        result.pnl += (2 * spent + held * mid2) / 2e9 if mid2 else spent / 1e9
    return results, f"{h:016x}"
