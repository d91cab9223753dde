"""The L3 order book of one instrument, in plain Python: every Python engine applies records here.

Rules (Databento's, checked against the real CME session; see ../shared/MBO.md section 5):
- A appends the order at the tail of its price level's FIFO queue.
- C subtracts `size` from the order and deletes it at zero (the stored side and price are used).
- M with a new price, or a larger size, moves the order to the tail of its (new) level; a smaller
  or equal size at the same price keeps its place.
- R removes every order. T, F and N never change the book (the C or M that follows a fill does).
- A cancel or modify of an order id the book has never seen is counted in `unknown`. The cancel
  is skipped; the modify is applied as an add (Databento's documented behaviour, which rebuilds
  the order when a file starts after it was placed). With `strict`, either raises `UnknownOrder`.

Queue priority is kept as a stamp: every add or move to a tail takes the book's next stamp, so
an order is ahead of another at its level exactly when its stamp is smaller. The fill simulator
places its virtual orders with a stamp too, and so knows which real orders are ahead of them.
"""

from __future__ import annotations

from bisect import bisect_left, insort

from engines.events import ADD, BID, CANCEL, CLEAR, F_SNAPSHOT, MODIFY, NO_ASK, NO_BID
from engines.results import mix_top

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "book"}


class UnknownOrder(Exception):
    """A cancel or modify named an order id the book has never seen (raised only when strict)."""

    def __init__(self, action: int, order_id: int) -> None:
        super().__init__(f"{chr(action)} of unknown order id {order_id}")
        self.action = action
        self.order_id = order_id


class Order:
    """A resting order: side code, price (int64 fixed point), size, and queue stamp."""

    __slots__ = ("side", "price", "size", "stamp")

    def __init__(self, side: int, price: int, size: int, stamp: int) -> None:
        self.side = side
        self.price = price
        self.size = size
        self.stamp = stamp


class Level:
    """The orders at one price of one side: their FIFO queue (insertion order) and total size."""

    __slots__ = ("queue", "size")

    def __init__(self) -> None:
        self.queue: dict[int, Order] = {}
        self.size = 0


class Book:
    """One instrument's orders by id and its price levels, bids and asks apart."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.orders: dict[int, Order] = {}
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        # Sorted ascending: the best bid is the last price, the best ask the first.
        self.bid_prices: list[int] = []
        self.ask_prices: list[int] = []
        self.next_stamp = 0
        self.unknown = 0
        self.in_snapshot = False  # inside a snapshot block (until the next event end)

    # -- applying records -------------------------------------------------------------------

    def apply(
        self, action: int, side: int, price: int, size: int, order_id: int, flags: int = 0
    ) -> None:
        """Apply one record's book change (A, C, M, R; T, F and N change nothing)."""
        if action == ADD:
            # Files from before Databento published R records open a snapshot with no clear:
            # the first snapshot add after live records clears the book itself.
            if flags & F_SNAPSHOT and not self.in_snapshot:
                self.clear()
                self.in_snapshot = True
            self.add(order_id, side, price, size)
        elif action == CANCEL:
            self.cancel(order_id, size)
        elif action == MODIFY:
            self.modify(order_id, side, price, size)
        elif action == CLEAR:
            self.clear()

    def add(self, order_id: int, side: int, price: int, size: int) -> None:
        if order_id in self.orders:  # a re-used id replaces the order it named
            self._remove(order_id, self.orders[order_id])
        order = Order(side, price, size, self.next_stamp)
        self.next_stamp += 1
        self.orders[order_id] = order
        self._enqueue(order_id, order)

    def cancel(self, order_id: int, size: int) -> None:
        order = self.orders.get(order_id)
        if order is None:
            self._unknown(CANCEL, order_id)
            return
        if size >= order.size:
            self._remove(order_id, order)
        else:
            order.size -= size
            self._levels(order.side)[order.price].size -= size

    def modify(self, order_id: int, side: int, price: int, size: int) -> None:
        order = self.orders.get(order_id)
        if order is None:
            self._unknown(MODIFY, order_id)
            self.add(order_id, side, price, size)
            return
        if size == 0:
            self._remove(order_id, order)
        elif price != order.price or size > order.size:  # loses its place in the queue
            self._remove(order_id, order)
            self.add(order_id, order.side, price, size)
        else:
            self._levels(order.side)[price].size -= order.size - size
            order.size = size

    def end_event(self, key: int, digest: int) -> tuple[int, int, int, int, int]:
        """An event ends (a record with F_LAST): a snapshot block is over, and the book's top
        folds into the digest state. Returns the new digest state and the top: (digest, best
        bid, best ask, bid size, ask size), the features the strategies then read."""
        self.in_snapshot = False
        bid, ask, bid_size, ask_size = self.top()
        return mix_top(digest, key, bid, ask, bid_size, ask_size), bid, ask, bid_size, ask_size

    def clear(self) -> None:
        self.orders.clear()
        self.bids.clear()
        self.asks.clear()
        self.bid_prices.clear()
        self.ask_prices.clear()

    # -- reading ----------------------------------------------------------------------------

    def best_bid(self) -> int:
        return self.bid_prices[-1] if self.bid_prices else NO_BID

    def best_ask(self) -> int:
        return self.ask_prices[0] if self.ask_prices else NO_ASK

    def level_size(self, side: int, price: int) -> int:
        level = self._levels(side).get(price)
        return level.size if level is not None else 0

    def top(self) -> tuple[int, int, int, int]:
        """Best bid, best ask, and the total size at each (sentinels and 0 for an empty side)."""
        bid = self.bid_prices[-1] if self.bid_prices else NO_BID
        ask = self.ask_prices[0] if self.ask_prices else NO_ASK
        bid_size = self.bids[bid].size if self.bid_prices else 0
        ask_size = self.asks[ask].size if self.ask_prices else 0
        return bid, ask, bid_size, ask_size

    def depth(self, side: int, levels: int) -> list[tuple[int, int]]:
        """The best `levels` (price, total size) pairs of a side, best first."""
        if side == BID:
            prices = self.bid_prices[::-1][:levels]
            return [(p, self.bids[p].size) for p in prices]
        return [(p, self.asks[p].size) for p in self.ask_prices[:levels]]

    # -- internals --------------------------------------------------------------------------

    def _levels(self, side: int) -> dict[int, Level]:
        return self.bids if side == BID else self.asks

    def _enqueue(self, order_id: int, order: Order) -> None:
        levels = self._levels(order.side)
        level = levels.get(order.price)
        if level is None:
            level = levels[order.price] = Level()
            insort(self.bid_prices if order.side == BID else self.ask_prices, order.price)
        level.queue[order_id] = order
        level.size += order.size

    def _remove(self, order_id: int, order: Order) -> None:
        del self.orders[order_id]
        levels = self._levels(order.side)
        level = levels[order.price]
        del level.queue[order_id]
        level.size -= order.size
        if not level.queue:
            del levels[order.price]
            prices = self.bid_prices if order.side == BID else self.ask_prices
            del prices[bisect_left(prices, order.price)]

    def _unknown(self, action: int, order_id: int) -> None:
        if self.strict:
            raise UnknownOrder(action, order_id)
        self.unknown += 1
