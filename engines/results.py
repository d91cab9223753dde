"""What a backtest returns, and the digest that every engine must reproduce exactly.

The digest is FNV-1a over 64-bit words, in this order:
- at every event end (a record with F_LAST): instrument key, best bid, best ask, bid size, ask
  size of that instrument's book;
- at every fill of a strategy order: strategy index, instrument key, side, price, quantity;
- at the end: the event count, then per strategy and instrument (sorted by strategy, then key)
  the position and the cash.
Integers only, wrapping at 64 bits, so that a numba kernel computes the same words as Python.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "other"}


MASK64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def wrap64(x: int) -> int:
    """A Python int as a signed 64-bit integer wraps it (two's complement)."""
    return ((x + (1 << 63)) & MASK64) - (1 << 63)


def mix(h: int, x: int) -> int:
    """Fold one 64-bit word (negative ints as two's complement) into the digest state."""
    return ((h ^ (x & MASK64)) * FNV_PRIME) & MASK64


def mix_top(h: int, key: int, bid: int, ask: int, bid_size: int, ask_size: int) -> int:
    """Fold an event end's book top into the digest state (five words in one call)."""
    h = ((h ^ key) * FNV_PRIME) & MASK64
    h = ((h ^ (bid & MASK64)) * FNV_PRIME) & MASK64
    h = ((h ^ (ask & MASK64)) * FNV_PRIME) & MASK64
    h = ((h ^ bid_size) * FNV_PRIME) & MASK64
    return ((h ^ ask_size) * FNV_PRIME) & MASK64


@dataclass
class StrategyResult:
    """One strategy's outcome over every instrument: fills, net position, cash and PnL."""

    name: str
    fills: int = 0
    position: int = 0  # net quantity, summed over instruments
    cash: int = 0  # price units (1e-9) times quantity: sells add, buys subtract
    pnl: float = 0.0  # cash plus each instrument's position marked at its final mid, in currency


@dataclass
class Results:
    """A backtest's outcome: counts, per-strategy results and the digest."""

    engine: str
    events: int  # records processed
    event_ends: int  # records flagged F_LAST: the points where strategies read the book
    unknown_orders: int  # cancels and modifies of order ids never seen (skipped or re-added)
    strategies: list[StrategyResult] = field(default_factory=list)
    digest: str = ""

    @property
    def fills(self) -> int:
        return sum(s.fills for s in self.strategies)

    def to_dict(self) -> dict:
        return asdict(self)
