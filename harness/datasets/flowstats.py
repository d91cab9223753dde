"""Figures of a session's order flow (action mix, cancels per add, where adds go), so that a
generated file can be held against a real one, as the tests hold the generator against CME."""

from __future__ import annotations

import numpy as np

from engines.book import Book
from engines.events import ADD, ASK, BID, CANCEL, F_SNAPSHOT


def flow_stats(records: np.ndarray, tick: int) -> dict[str, float]:
    """Figures of a session's order flow, snapshot records left out.

    `share_A` .. `share_F`: each action's share of the records; `cancels_per_add`: C records
    per A record; `add_*`: where adds go, in ticks from the touch of their own side on the book
    rebuilt up to that record (an add inside the spread counts as 0; an add to an empty side
    is not counted): shares at 0, 1-2, 3-5, 6-10 and over 10 ticks, and the median.
    """
    live = (records["flags"] & F_SNAPSHOT) == 0
    actions = records["action"][live]
    total = max(len(actions), 1)
    stats = {f"share_{chr(a)}": float(np.sum(actions == a)) / total for a in b"ACMTF"}
    adds = int(np.sum(actions == ADD))
    stats["cancels_per_add"] = float(np.sum(actions == CANCEL)) / max(adds, 1)

    books: dict[tuple[int, int], Book] = {}
    distances = []
    columns = ("instrument_id", "publisher_id", "action", "side", "price", "size", "order_id")
    for iid, pub, action, side, price, size, oid, flags in zip(
        *(records[c].tolist() for c in columns), records["flags"].tolist(), strict=True
    ):
        book = books.get((iid, pub))
        if book is None:
            book = books[(iid, pub)] = Book()
        if action == ADD and not flags & F_SNAPSHOT:
            if side == BID and book.bid_prices:
                distances.append(max(book.bid_prices[-1] - price, 0) // tick)
            elif side == ASK and book.ask_prices:
                distances.append(max(price - book.ask_prices[0], 0) // tick)
        book.apply(action, side, price, size, oid)

    d = np.array(distances, np.int64)
    n = max(len(d), 1)
    for name, lo, hi in (("0", 0, 0), ("1_2", 1, 2), ("3_5", 3, 5), ("6_10", 6, 10)):
        stats[f"add_{name}"] = float(np.sum((d >= lo) & (d <= hi))) / n
    stats["add_over_10"] = float(np.sum(d > 10)) / n
    stats["add_median"] = float(np.median(d)) if len(d) else 0.0
    return stats
