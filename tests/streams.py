"""Random valid MBO streams for property tests, built through a reference book.

Operations (drawn by hypothesis): add near the touch, full or partial cancel, modify (price
change, size up or down), a marketable order sweeping one or more levels (T, then F per order
hit, then C or M for each, as Databento emits them), a clear, and cancels or modifies of ids
never added. Several instruments interleave.
"""

from __future__ import annotations

import numpy as np

from engines.book import Book
from engines.events import ASK, BID, MBO_DTYPE, NO_ASK, NO_BID

OPS = ("add", "add", "add", "cancel", "partial", "modify", "sweep", "clear", "unknown")
# The ends of what the reader accepts: prices near both limits of int64 (-2**63 itself is no
# price), receive times near 2**63 - 1 ns, sizes near 2**32 - 1.
EXTREMES = {
    "ordinary": (0, 250_000_000, 1_700_000_000_000_000_000, 1),
    "top prices": ((1 << 63) - (1 << 24), 1, 1_700_000_000_000_000_000, 1),
    "bottom prices": (-(1 << 63) + (1 << 24), 1, 1_700_000_000_000_000_000, 1),
    "late times": (0, 250_000_000, (1 << 63) - (1 << 40), 1),
    "huge sizes": (0, 250_000_000, 1_700_000_000_000_000_000, 300_000_000),  # 12 lots < 2**32
}


def op_lists(max_size: int):
    """A hypothesis strategy of `build_stream`'s ops: (op, instrument, side, offset, size)."""
    from hypothesis import strategies as st

    op = st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 3), st.integers(0, 1),
                   st.integers(0, 20), st.integers(0, 20))  # fmt: skip
    return st.lists(op, min_size=1, max_size=max_size)


def build_stream(ops: list[tuple[int, int, int, int, int]], instruments: int,
                 extreme: str = "ordinary") -> np.ndarray:  # fmt: skip
    """Records from (op, instrument, side, offset, size) tuples; each op is one event. `extreme`
    names the ranges of prices, times and sizes (`EXTREMES`)."""
    price_base, price_unit, ts_base, size_unit = EXTREMES[extreme]
    books = [Book() for _ in range(instruments)]
    out: list[tuple] = []
    next_id = 1000
    ts = ts_base
    for op_index, inst, side_bit, offset, size in ops:
        op = OPS[op_index % len(OPS)]
        inst %= instruments
        book = books[inst]
        side = BID if side_bit else ASK
        mid = 10_000 + 100 * inst
        event: list[tuple] = []  # (action, side, price, size, order_id)
        live = [oid for oid, o in book.orders.items() if o.side == side]
        if op == "add" or (op in ("cancel", "partial", "modify") and not live):
            price = mid - 1 - offset % 6 if side == BID else mid + 1 + offset % 6
            event.append((ord("A"), side, price, 1 + size % 9, next_id))
            next_id += 1
        elif op == "cancel":
            oid = live[offset % len(live)]
            event.append((ord("C"), side, book.orders[oid].price, book.orders[oid].size, oid))
        elif op == "partial":
            oid = live[offset % len(live)]
            order = book.orders[oid]
            event.append((ord("C"), side, order.price, max(1, order.size // 2), oid))
        elif op == "modify":
            oid = live[offset % len(live)]
            order = book.orders[oid]
            shift = (offset % 3) - 1
            event.append((ord("M"), side, order.price + shift, 1 + (order.size + size) % 9, oid))
        elif op == "sweep":
            event.extend(sweep(book, side, 1 + size % 12, next_id))
            next_id += 1
        elif op == "clear":
            event.append((ord("R"), ord("N"), 0, 0, 0))
        else:
            event.append((ord("C") if size % 2 else ord("M"), side, mid, 1, 10**9 + offset))
        for i, (action, s, price, qty, oid) in enumerate(event):
            flags = 0x82 if i == len(event) - 1 else 0
            out.append((inst, ts, oid, price, qty, flags, action, s))
            book.apply(action, s, price, qty, oid, flags)
        ts += 1000
    records = np.zeros(len(out), MBO_DTYPE)
    for i, (inst, t, oid, price, qty, flags, action, s) in enumerate(out):
        dbn_price = price_base + price * price_unit if action != ord("R") else price_base
        records[i] = (14, 0xA0, 1, 100 + inst, t, oid, dbn_price, qty * size_unit, flags, 0,
                      action, s, t + 90_000, 15_000, i)  # fmt: skip
    return records


def sweep(book: Book, resting_side: int, quantity: int, aggressor_id: int) -> list[tuple]:
    """A marketable order hitting `resting_side` for up to `quantity`, level by level."""
    levels = book.depth(resting_side, 50)
    aggressor = ASK if resting_side == BID else BID
    trades, changes = [], []
    for price, _ in levels:
        if quantity <= 0:
            break
        fills = []
        for oid, order in list(book._levels(resting_side)[price].queue.items()):
            if quantity <= 0:
                break
            take = min(quantity, order.size)
            quantity -= take
            fills.append((ord("F"), resting_side, price, take, oid))
            if take == order.size:
                changes.append((ord("C"), resting_side, price, take, oid))
            else:
                changes.append((ord("M"), resting_side, price, order.size - take, oid))
        traded = sum(f[3] for f in fills)
        trades.append((ord("T"), aggressor, price, traded, aggressor_id))
        trades.extend(fills)
    if not trades:
        best = book.best_bid() if resting_side == BID else book.best_ask()
        if best in (NO_BID, NO_ASK):
            return [(ord("N"), ord("N"), 0, 0, 0)]
    return trades + changes
