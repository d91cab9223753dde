"""The strategies every engine runs: deterministic, integer-only decisions over the book's top.

Each strategy is one plain function, the only place its logic lives:

    decide(out, state, ts, bid, ask, bid_size, ask_size, position) -> None

It reads the features of an event end (receive time, best bid and ask, the size at each, the
strategy's position on the instrument) and its own memory `state`, and writes what it wants to
hold afterwards into `out`: out[0] a resting bid price, out[1] a resting ask price (NO_BID /
NO_ASK for none), out[2] a quantity to take at once (positive buys, negative sells). `out` and
`state` are a Python list or a numpy int64 array: the same function runs in the Python engines
and, compiled by numba, in the compiled engine. Parameters are module constants, which numba
freezes at compile time.

`Strategy.on_book` is the interface the baseline's owner wrote around the same decisions:
features arrive in a dict with string keys, requests leave in a fresh list of objects.
"""

from __future__ import annotations

from engines.events import ASK, BID, NO_ASK, NO_BID

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "strategy"}


MM_MAX_POSITION = 5
TAKER_RATIO = 3
TAKER_COOLDOWN_NS = 50_000_000
TAKER_MAX_POSITION = 3
NEVER = -(1 << 62)  # the taker's last take before its first: none


def market_maker(out, state, ts, bid, ask, bid_size, ask_size, position) -> None:
    """Join the touch on both sides, within a position limit.

    Features: the spread (quotes only in a two-sided, uncrossed book), the position (no bid at
    the long limit, no ask at the short limit) and the top sizes (no quote on a side whose top
    size is under a quarter of the other's: it is about to be run over).
    """
    out[2] = 0
    if bid == NO_BID or ask == NO_ASK or bid >= ask:
        out[0] = NO_BID
        out[1] = NO_ASK
        return
    out[0] = bid if position < MM_MAX_POSITION and 4 * bid_size >= ask_size else NO_BID
    out[1] = ask if position > -MM_MAX_POSITION and 4 * ask_size >= bid_size else NO_ASK


def imbalance_taker(out, state, ts, bid, ask, bid_size, ask_size, position) -> None:
    """Take one lot when the top of the book leans hard one way, at most once per cooldown.

    Features: the top-of-book imbalance (one side at least TAKER_RATIO times the other), the
    spread (a two-sided, uncrossed book), the position limit, and the time since its last take
    (state[0]).
    """
    out[0] = NO_BID
    out[1] = NO_ASK
    out[2] = 0
    if bid == NO_BID or ask == NO_ASK or bid >= ask:
        return
    # Never `ts - NEVER`: it would overflow 64 bits (the compiled engine's) for a late ts.
    if state[0] != NEVER and ts - state[0] < TAKER_COOLDOWN_NS:
        return
    if bid_size >= TAKER_RATIO * ask_size and position < TAKER_MAX_POSITION:
        out[2] = 1
        state[0] = ts
    elif ask_size >= TAKER_RATIO * bid_size and position > -TAKER_MAX_POSITION:
        out[2] = -1
        state[0] = ts


# In their fixed order: (name, decision, whether it quotes, its state's initial values).
STRATEGIES = (
    ("market_maker", market_maker, True, (0,)),
    ("imbalance_taker", imbalance_taker, False, (NEVER,)),
)

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


class Strategy:
    """A strategy as an object: the baseline owner's interface around a decision function."""

    def __init__(self, index: int) -> None:
        self.name, self.decide, self.quotes, initial = STRATEGIES[index]
        self.index = index
        self.state = list(initial)

    def on_book(self, features: dict) -> list[OrderRequest]:
        out = [0, 0, 0]
        self.decide(out, self.state, features["ts"], features["best_bid"], features["best_ask"],
                    features["bid_size"], features["ask_size"], features["position"])  # fmt: skip
        requests = []
        if self.quotes:
            requests.append(OrderRequest(QUOTE, BID, out[0], 1))
            requests.append(OrderRequest(QUOTE, ASK, out[1], 1))
        if out[2]:
            requests.append(OrderRequest(TAKE, BID if out[2] > 0 else ASK, 0, abs(out[2])))
        return requests


def make_strategies() -> list[Strategy]:
    """A fresh set of the strategies, in their fixed order, for one instrument."""
    return [Strategy(i) for i in range(len(STRATEGIES))]
