"""The strategies every engine runs: deterministic, integer-only decisions over the book's top.

A strategy's `decide` is the one place its logic lives. It takes the features of an event end
and returns what the strategy wants to hold afterwards: a resting bid price, a resting ask price
(NO_BID / NO_ASK for none) and a quantity to take at once (positive buys, negative sells).
The fill simulator turns that into order requests: replace a quote whose price changed, cancel a
quote no longer wanted, take liquidity.

`on_book` is the same decision as the baseline's owner wrote the interface: features arrive in a
dict with string keys and the requests leave in a freshly allocated list of objects.
"""

from __future__ import annotations

from engines.events import ASK, BID, NO_ASK, NO_BID

QUOTE = 1  # request kind: hold a resting order at `price` on `side` (NO_BID/NO_ASK: none)
TAKE = 2  # request kind: take `quantity` at the opposite best price now


class OrderRequest:
    """An order request as the baseline's strategies emit them: one object each."""

    __slots__ = ("kind", "side", "price", "quantity")

    def __init__(self, kind: int, side: int, price: int, quantity: int) -> None:
        self.kind = kind
        self.side = side
        self.price = price
        self.quantity = quantity


class MarketMaker:
    """Joins the touch on both sides, one lot, within a position limit.

    Features: the spread (quotes only in a two-sided, uncrossed book), the position (no bid at
    the long limit, no ask at the short limit) and the top sizes (no quote on the side that is
    about to be run over: a side whose top size is under a quarter of the other's).
    """

    name = "market_maker"

    def __init__(self, max_position: int = 5) -> None:
        self.max_position = max_position
        self.state = 0  # unused: the market maker keeps no memory between events

    def decide(
        self, ts: int, bid: int, ask: int, bid_size: int, ask_size: int, position: int
    ) -> tuple[int, int, int]:
        if bid == NO_BID or ask == NO_ASK or bid >= ask:
            return NO_BID, NO_ASK, 0
        bid_quote = bid if position < self.max_position and 4 * bid_size >= ask_size else NO_BID
        ask_quote = ask if position > -self.max_position and 4 * ask_size >= bid_size else NO_ASK
        return bid_quote, ask_quote, 0

    def on_book(self, features: dict) -> list[OrderRequest]:
        bid_quote, ask_quote, _ = self.decide(
            features["ts"], features["best_bid"], features["best_ask"],
            features["bid_size"], features["ask_size"], features["position"],
        )  # fmt: skip
        return [OrderRequest(QUOTE, BID, bid_quote, 1), OrderRequest(QUOTE, ASK, ask_quote, 1)]


class ImbalanceTaker:
    """Takes one lot when the top of the book leans hard one way, at most once per cooldown.

    Features: the top-of-book imbalance (one side at least `ratio` times the other), the spread
    (a two-sided, uncrossed book), the position limit and the time since its last take.
    """

    name = "imbalance_taker"

    def __init__(self, ratio: int = 3, cooldown_ns: int = 50_000_000, max_position: int = 3):
        self.ratio = ratio
        self.cooldown_ns = cooldown_ns
        self.max_position = max_position
        self.state = -(1 << 62)  # ts_recv of the last take

    def decide(
        self, ts: int, bid: int, ask: int, bid_size: int, ask_size: int, position: int
    ) -> tuple[int, int, int]:
        if bid == NO_BID or ask == NO_ASK or bid >= ask or ts - self.state < self.cooldown_ns:
            return NO_BID, NO_ASK, 0
        if bid_size >= self.ratio * ask_size and position < self.max_position:
            self.state = ts
            return NO_BID, NO_ASK, 1
        if ask_size >= self.ratio * bid_size and position > -self.max_position:
            self.state = ts
            return NO_BID, NO_ASK, -1
        return NO_BID, NO_ASK, 0

    def on_book(self, features: dict) -> list[OrderRequest]:
        _, _, take = self.decide(
            features["ts"], features["best_bid"], features["best_ask"],
            features["bid_size"], features["ask_size"], features["position"],
        )  # fmt: skip
        requests = []
        if take:
            requests.append(OrderRequest(TAKE, BID if take > 0 else ASK, 0, abs(take)))
        return requests


STRATEGIES = (MarketMaker, ImbalanceTaker)


def make_strategies() -> list:
    """A fresh set of the strategies, in their fixed order, for one instrument."""
    return [cls() for cls in STRATEGIES]
