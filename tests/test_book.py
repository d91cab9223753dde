"""The L3 book: its rules on small cases, and the real CME session rebuilt from its records."""

from __future__ import annotations

import pytest
from conftest import mbo_records

from engines.book import Book, UnknownOrder
from engines.events import (
    ASK,
    BID,
    CANCEL,
    F_LAST,
    F_SNAPSHOT,
    MODIFY,
    NO_ASK,
    NO_BID,
    SIDE_NONE,
    TRADE,
    rows,
)
from harness.dbn.reader import read_records


def book_with(*orders) -> Book:
    book = Book()
    for order_id, side, price, size in orders:
        book.add(order_id, side, price, size)
    return book


def test_fifo_and_levels():
    book = book_with((1, BID, 100, 5), (2, BID, 100, 3), (3, BID, 99, 4), (4, ASK, 101, 2))
    assert book.top() == (100, 101, 8, 2)
    assert list(book.bids[100].queue) == [1, 2]
    assert book.depth(BID, 5) == [(100, 8), (99, 4)]
    book.cancel(1, 2)  # partial: keeps its place
    assert list(book.bids[100].queue) == [1, 2] and book.bids[100].size == 6
    book.cancel(1, 3)  # the rest: gone
    assert list(book.bids[100].queue) == [2]


def test_modify_priority_rules():
    book = book_with((1, BID, 100, 5), (2, BID, 100, 3))
    book.modify(1, BID, 100, 4)  # smaller at the same price: keeps priority
    assert list(book.bids[100].queue) == [1, 2]
    book.modify(1, BID, 100, 6)  # larger: to the tail
    assert list(book.bids[100].queue) == [2, 1] and book.bids[100].size == 9
    book.modify(2, BID, 101, 3)  # new price: new level, old one keeps the rest
    assert book.top()[0] == 101 and book.bids[100].size == 6
    assert book.orders[2].stamp > book.orders[1].stamp


def test_clear_trade_fill_and_empty_sides():
    book = book_with((1, BID, 100, 5), (2, ASK, 102, 1))
    book.apply(TRADE, BID, 102, 1, 9, 0)
    book.apply(ord("F"), ASK, 102, 1, 2, 0)
    assert book.top() == (100, 102, 5, 1)  # T and F change nothing
    book.apply(ord("R"), SIDE_NONE, 0, 0, 0, 0)
    assert book.top() == (NO_BID, NO_ASK, 0, 0) and not book.orders


def test_snapshot_without_clear_resets_the_book():
    book = book_with((1, BID, 100, 5))
    book.apply(ord("A"), BID, 90, 1, 7, F_SNAPSHOT)
    assert list(book.orders) == [7]


def test_unknown_ids_counted_or_strict():
    book = Book()
    book.cancel(5, 1)
    book.modify(6, ASK, 100, 2)  # re-added, as Databento's own example does
    assert book.unknown == 2 and book.top()[1] == 100
    with pytest.raises(UnknownOrder, match="C of unknown order id 5"):
        Book(strict=True).apply(CANCEL, BID, 1, 1, 5, 0)
    with pytest.raises(UnknownOrder):
        Book(strict=True).apply(MODIFY, BID, 1, 1, 5, 0)


def test_small_records_round_trip():
    records = mbo_records(("A", "B", 100, 5, 1, 0x82), ("A", "A", 101, 2, 2, 0x82),
                          ("C", "B", 100, 5, 1, 0x82))  # fmt: skip
    book = Book()
    for _, _, action, side, price, size, order_id, flags in rows(records):
        book.apply(action, side, price, size, order_id, flags)
    assert book.top() == (NO_BID, 101 * 250_000_000, 0, 2)


def rebuild(records, start: int = 0):
    """Yield (index, book) at every event end: F_LAST records, and the end of the snapshot."""
    book = Book()
    data = list(rows(records[start:]))
    for i, (_, _, action, side, price, size, order_id, flags) in enumerate(data):
        book.apply(action, side, price, size, order_id, flags)
        last = i + 1 == len(data)
        snapshot_ends = flags & F_SNAPSHOT and (last or not data[i + 1][7] & F_SNAPSHOT)
        if flags & F_LAST or snapshot_ends:
            book.end_event(0, 0)
            yield start + i, book


def test_cme_session_rebuilds_consistently(cme_session):
    records = read_records(cme_session)
    is_auction = (records["action"] == TRADE) & (records["side"] == SIDE_NONE)
    auction = int(is_auction.argmax())
    crossed_before = crossed_after = ends = 0
    for i, book in rebuild(records):
        ends += 1
        bid, ask, _, _ = book.top()
        crossed = bid != NO_BID and ask != NO_ASK and bid >= ask
        crossed_after += crossed and i > auction
        crossed_before += crossed and i < auction
        if i % 500 == 0 or i > len(records) - 50:  # a full scan now and then
            for levels in (book.bids, book.asks):
                assert all(level.size > 0 and level.queue for level in levels.values())
            assert all(order.size > 0 for order in book.orders.values())
    assert book.unknown == 0  # with the snapshot applied, no cancel or modify is unknown
    assert ends == 47_022 + 1  # the F_LAST records, and the snapshot's end
    assert crossed_after == 0
    assert crossed_before > 800  # the pre-open really does cross (891 events, MBO.md)


def test_cme_session_from_after_the_snapshot_has_unknown_ids(cme_session):
    records = read_records(cme_session)
    *_, (_, book) = rebuild(records, start=8_725)
    # 854 cancels and 427 modifies name orders placed in the skipped snapshot (MBO.md, section 4).
    assert book.unknown == 854 + 427
