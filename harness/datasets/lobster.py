"""LOBSTER files (Nasdaq order-level data) converted to DBN MBO.

A LOBSTER message file holds one event per line: time (seconds after midnight, New York time),
type, order id, size, price (dollars x 10000), direction (1 buy, -1 sell; for executions the
side of the resting order). Its book file holds, per message, the N best levels right after it.
Each message becomes DBN records, in Databento's conventions (../shared/MBO.md):

- 1 new order: A.  2 partial cancel: C of the cancelled size.  3 delete: C of the order's size.
- 4 visible execution: T (aggressor side = the other side, order id 0) + F (the resting order)
  + C (the executed size; the book removes the order at zero). T and F change no book.
- 5 hidden execution: T only. The hidden order has no id (LOBSTER writes 0) and no visible size,
  so there is no F to name and no C: the visible book does not change.
- 6 cross trade (auction): T with side N and order id 0.  7 trading halt: one N record (MBO has
  no halt action; Databento puts trading status in another schema), so every line leaves a trace.

Messages with one timestamp (a marketable order sweeping levels) form one event: F_LAST only on
its last record, whatever its action. sequence = the message's line number; ts_recv = ts_event
(LOBSTER has one time); publisher 2 is Databento's XNAS.ITCH, the Nasdaq feed LOBSTER rebuilds.

What the messages leave out, and how the book file fills it in (only when it is given):
- Orders resting before the first message: the book before it is the first book row with that
  message undone. It opens the output as a snapshot: R, then one A per level (flags 0x28, the
  last 0xA8), each a synthetic order holding the level's whole size.
- A level-N file has no message for orders deeper than N levels. They come into view later (their
  level shows more size than the messages put there), and their cancels and executions name ids
  never added; orders cancelled while out of view leave size the file no longer shows. After
  every message the converter compares its book with the file's row where the row shows it and
  repairs the difference: missing size becomes a synthetic order at that level (A, or M raising
  the one already there), extra size is cancelled (the synthetic order first, then the oldest).
  A cancel or execution of an id the book does not hold draws on its level's synthetic order, or
  else its oldest order, so every C names an order the book holds. Repairs follow the message
  that revealed them, inside its event: the book equals the file's row after every message.
Synthetic order ids count up from 2**62, far above Nasdaq's ids. Without a book file the messages
are converted alone: unseen ids stay as they are and a book builder counts them as unknown.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, time
from datetime import date as Date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from engines.book import Book
from engines.events import (
    ADD,
    ASK,
    BID,
    CANCEL,
    CLEAR,
    F_BAD_TS_RECV,
    F_LAST,
    F_SNAPSHOT,
    FILL,
    MBO_DTYPE,
    MODIFY,
    NONE,
    RECORD_WORDS,
    RTYPE_MBO,
    SIDE_NONE,
    TRADE,
    UNDEF_PRICE,
)
from harness.datasets.lobsterfiles import SYNTHETIC_ID, Message, read_book, read_messages
from harness.dbn.writer import write_dbn
from harness.errors import InputError

DATASET = "XNAS.ITCH"
PUBLISHER_ID = 2  # Databento's id for XNAS.ITCH (Nasdaq TotalView-ITCH)
INSTRUMENT_ID = 1  # LOBSTER files hold one stock and no instrument id: any fixed number will do
PRICE_FACTOR = 100_000  # LOBSTER's 1e-4 dollars to DBN's 1e-9
SNAPSHOT = F_SNAPSHOT | F_BAD_TS_RECV  # Databento's snapshot flags (0x28)

_NAME = re.compile(r"(?P<symbol>[^_]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_message_\d+\.csv")


@dataclass
class LobsterCounts:
    """What a conversion made of its input."""

    messages: int = 0
    events: int = 0  # runs of messages with one timestamp
    records: int = 0
    seeded_levels: int = 0  # snapshot A records
    repaired: int = 0  # messages after which the book differed from the book file's row
    revealed: int = 0  # A or M records adding size no message showed
    removed: int = 0  # C records removing size that left without a message
    unseen_ids: int = 0  # cancels and executions of an id the book does not hold
    unresolved: int = 0  # ... of those, the ones left naming it (no order at their level)
    compared: int = 0  # messages after which the book was held against the book file's row
    mismatched: int = 0  # ... of those, the ones after which it differed

    def summary(self) -> str:
        """What the conversion did, in a line for the user."""
        parts = [f"{self.messages:,} messages, {self.events:,} events, {self.records:,} records"]
        if self.compared:
            matched = ("matched the book file after every message" if not self.mismatched else
                       f"differed from the book file after {self.mismatched:,} of "
                       f"{self.compared:,} messages")  # fmt: skip
            parts.append(f"the rebuilt book {matched}")
            parts.append(f"{_many(self.seeded_levels, 'level')} seeded, "
                         f"{_many(self.revealed, 'size')} filled in, {self.removed:,} taken out, "
                         f"{_many(self.unseen_ids, 'unseen id')} resolved")  # fmt: skip
        parts.append(f"{_many(self.unresolved, 'id')} left unknown")
        return "; ".join(parts)


def _many(count: int, noun: str) -> str:
    """`count` and `noun`, plural unless one: "1 level", "3 levels"."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def import_lobster(
    message_path: str | Path,
    book_path: str | Path | None = None,
    out_path: str | Path | None = None,
    *,
    symbol: str | None = None,
    date: Date | str | None = None,
    version: int = 3,
) -> tuple[Path, LobsterCounts]:
    """Convert a LOBSTER message file (and its book file, to seed the book) to a DBN MBO file;
    the file written, and what the conversion did.

    The symbol and the trading date come from LOBSTER's file name
    (`TICKER_YYYY-MM-DD_start_end_message_N.csv`) unless given. Without `out_path` the file is
    written beside the message file, `.csv` replaced by `.dbn`; a `.zst` name is compressed.
    """
    message_path = Path(message_path)
    named = _NAME.fullmatch(message_path.name)
    if date is None:
        if named is None:
            raise InputError(
                f"{message_path}: no trading date in the file name (LOBSTER's names are "
                "TICKER_YYYY-MM-DD_start_end_message_N.csv): give it with --date"
            )
        date = named["date"]
    if symbol is None:
        symbol = named["symbol"] if named else message_path.stem
    records, counts = convert_lobster(message_path, book_path, date=date)
    out = Path(out_path) if out_path is not None else message_path.with_suffix(".dbn")
    ts = records["ts_event"]
    written = write_dbn(
        out, [records], dataset=DATASET, start_ns=int(ts[0]), end_ns=int(ts[-1]) + 1,
        symbols=[symbol], version=version,
    )  # fmt: skip
    return written, counts


def convert_lobster(
    message_path: str | Path,
    book_path: str | Path | None = None,
    *,
    date: Date | str,
    repair: bool = True,
) -> tuple[np.ndarray, LobsterCounts]:
    """The MBO records of a LOBSTER message file, and counts of what was seeded and repaired.

    With a book file the book is seeded from its first row and, with `repair`, kept equal to
    every row; without `repair` only the seed comes from it.
    """
    messages = read_messages(message_path)
    midnight = _midnight_ns(message_path, date)
    if book_path is None:
        converter = _Converter(midnight, follow_book=False, path=Path(message_path))
        for message in messages:
            converter.message(message)
        return converter.finish()
    rows = read_book(book_path, len(messages), message_path)
    levels = len(rows[0]) // 4
    converter = _Converter(midnight, follow_book=repair, path=Path(message_path))
    converter.seed(messages[0], _row_levels(rows[0], levels))
    for message, row in zip(messages, rows, strict=True):
        converter.message(message)
        shown = _row_levels(row, levels)
        if repair:
            converter.repair(shown, levels)
        converter.compare(shown, levels)
    return converter.finish()


Levels = dict[int, list[tuple[int, int]]]  # side -> (DBN price, size), best first


class _Converter:
    """Emits the records of messages in order, and keeps the book they build."""

    def __init__(self, midnight_ns: int, follow_book: bool, path: Path) -> None:
        self.path = path  # the message file, for errors naming a line of it
        self.midnight_ns = midnight_ns
        self.follow_book = follow_book  # the book is kept equal to the book file's rows
        self.book = Book()  # the book a reader of the output rebuilds
        self.synthetic: dict[tuple[int, int], int] = {}  # (side, price) -> its synthetic order
        self.next_id = SYNTHETIC_ID
        # ts_event, order_id, price, size, flags, action, side, sequence of every record
        self.columns: list[list[int]] = [[] for _ in range(8)]
        self.ts = 0
        self.sequence = 0
        self.counts = LobsterCounts()

    def emit(self, action: int, side: int, price: int, size: int, order_id: int, flags=0) -> None:
        record = (self.ts, order_id, price, size, flags, action, side, self.sequence)
        for column, value in zip(self.columns, record, strict=True):
            column.append(value)
        self.book.apply(action, side, price, size, order_id, flags)

    def end_event(self) -> None:
        self.columns[4][-1] |= F_LAST
        self.book.end_event(0, 0)  # as an engine does at every event end (no digest kept)

    def seed(self, first: Message, shown: Levels) -> None:
        """The book before the first message, as a snapshot: its row with the message undone."""
        seeded = {(side, price): size for side in shown for price, size in shown[side]}
        undo = {1: -first.size, 2: first.size, 3: first.size, 4: first.size}.get(first.kind, 0)
        key = (first.side, first.price * PRICE_FACTOR)
        seeded[key] = seeded.get(key, 0) + undo
        self.ts = self.midnight_ns + first.ns
        self.emit(CLEAR, SIDE_NONE, UNDEF_PRICE, 0, 0, SNAPSHOT)
        for (side, price), size in seeded.items():
            if size > 0:
                self.synthetic[side, price] = self.next_id
                self.emit(ADD, side, price, size, self.next_id, SNAPSHOT)
                self.next_id += 1
                self.counts.seeded_levels += 1
        self.end_event()

    def message(self, message: Message) -> None:
        _, ns, kind, order_id, size, price, side = message
        if self.counts.messages and self.midnight_ns + ns != self.ts:
            self.end_event()  # a new timestamp: the previous message ended its event
            self.counts.events += 1
        self.ts, self.sequence = self.midnight_ns + ns, message.line
        self.counts.messages += 1
        price *= PRICE_FACTOR
        aggressor = ASK if side == BID else BID
        if kind == 1:
            self.emit(ADD, side, price, size, order_id)
        elif kind <= 4:
            resting = self._resting(order_id, side, price, kind)
            if kind == 4:
                self.emit(TRADE, aggressor, price, size, 0)
                self.emit(FILL, side, price, size, resting)
            elif kind == 3 and order_id in self.book.orders:
                # A delete removes the whole order, also where the book holds more than LOBSTER
                # says (part of it was cancelled while out of view).
                size = max(size, self.book.orders[order_id].size)
            self.emit(CANCEL, side, price, size, resting)
        elif kind == 5:
            self.emit(TRADE, aggressor, price, size, 0)
        elif kind == 6:
            self.emit(TRADE, SIDE_NONE, price, size, 0)
        else:
            self.emit(NONE, SIDE_NONE, UNDEF_PRICE, 0, 0)

    def repair(self, shown: Levels, levels: int) -> None:
        """Make the book's levels equal a book row's, wherever the row shows them."""
        records = len(self.columns[0])
        for side, want in shown.items():
            prices = self.book.bid_prices if side == BID else self.book.ask_prices
            if len(want) < levels:  # fewer than N levels: the row shows the whole side
                inside = prices[:]
            elif side == BID:  # N levels: the book below the row's last is not known
                inside = prices[bisect_left(prices, want[-1][0]) :]
            else:
                inside = prices[: bisect_right(prices, want[-1][0])]
            wanted = dict(want)
            for price in inside:
                if price not in wanted:
                    self._take(side, price, self.book.level_size(side, price))
            for price, size in want:
                have = self.book.level_size(side, price)
                if size > have:
                    self._give(side, price, size - have)
                elif size < have:
                    self._take(side, price, have - size)
        self.counts.repaired += len(self.columns[0]) > records

    def compare(self, shown: Levels, levels: int) -> None:
        """Count a message after which the book differs from the book file's row (where the
        row shows it: its N levels, or the whole side when it shows fewer)."""
        self.counts.compared += 1
        for side, want in shown.items():
            if self.book.depth(side, levels if len(want) == levels else 1 << 30) != want:
                self.counts.mismatched += 1
                return

    def finish(self) -> tuple[np.ndarray, LobsterCounts]:
        self.end_event()
        self.counts.events += 1
        records = np.zeros(len(self.columns[0]), MBO_DTYPE)
        records["length"] = RECORD_WORDS
        records["rtype"] = RTYPE_MBO
        records["publisher_id"] = PUBLISHER_ID
        records["instrument_id"] = INSTRUMENT_ID
        names = ("ts_event", "order_id", "price", "size", "flags", "action", "side", "sequence")
        for name, column in zip(names, self.columns, strict=True):
            records[name] = column
        records["ts_recv"] = records["ts_event"]
        self.counts.records = len(records)
        return records, self.counts

    def _resting(self, order_id: int, side: int, price: int, kind: int) -> int:
        """The id the book holds a resting order under: its own, or one at its level. With the
        book file followed, an order that neither holds is an error: the output would name an id
        that no record added."""
        if order_id in self.book.orders:
            return order_id
        self.counts.unseen_ids += 1
        synthetic = self.synthetic.get((side, price))
        if synthetic in self.book.orders:
            return synthetic
        level = (self.book.bids if side == BID else self.book.asks).get(price)
        if self.follow_book and level is not None:
            # The level's size equals the file's, so its orders hold this one's size: some of
            # them left while out of view, and this one came in out of view.
            return next(iter(level.queue))
        if self.follow_book:
            what = {2: "a cancel", 3: "a delete", 4: "an execution"}[kind]
            raise InputError(f"{self.path}:{self.sequence}: {what} of order id {order_id}, but "
                             f"neither the messages nor the book file hold an order at its "
                             f"price {price / 1e9:.4f}")  # fmt: skip
        self.counts.unresolved += 1
        return order_id

    def _give(self, side: int, price: int, size: int) -> None:
        self.counts.revealed += 1
        synthetic = self.synthetic.get((side, price))
        if synthetic in self.book.orders:
            self.emit(MODIFY, side, price, self.book.orders[synthetic].size + size, synthetic)
            return
        self.synthetic[side, price] = self.next_id
        self.emit(ADD, side, price, size, self.next_id)
        self.next_id += 1

    def _take(self, side: int, price: int, size: int) -> None:
        level = (self.book.bids if side == BID else self.book.asks)[price]
        synthetic = self.synthetic.get((side, price))
        # The synthetic order first (its size was inferred), then the oldest orders: which of
        # them left unseen nothing tells.
        queue = sorted(level.queue.items(), key=lambda item: item[0] != synthetic)
        for order_id, order in queue:
            if size <= 0:
                break
            taken = min(size, order.size)
            self.emit(CANCEL, side, price, taken, order_id)
            self.counts.removed += 1
            size -= taken


def _row_levels(row: list[int], levels: int) -> Levels:
    """The non-empty levels of a book row (an empty one has size 0), in DBN prices."""
    asks = [(row[k] * PRICE_FACTOR, row[k + 1]) for k in range(0, 4 * levels, 4) if row[k + 1]]
    bids = [(row[k + 2] * PRICE_FACTOR, row[k + 3]) for k in range(0, 4 * levels, 4) if row[k + 3]]
    return {ASK: asks, BID: bids}


def _midnight_ns(path: str | Path, date: Date | str) -> int:
    """Midnight of the trading date in New York, in ns since the epoch (UTC).

    LOBSTER's times are seconds after midnight on the exchange's clock. The UTC offset is taken
    at noon: trading hours never span a daylight-saving change (those happen at 2 am on Sundays).
    """
    if isinstance(date, str):
        try:
            date = Date.fromisoformat(date)
        except ValueError:
            raise InputError(f"{path}: date {date!r} is not YYYY-MM-DD") from None
    noon = datetime.combine(date, time(12), ZoneInfo("America/New_York"))
    midnight_utc = datetime.combine(date, time(0), UTC) - noon.utcoffset()
    return int(midnight_utc.timestamp()) * 1_000_000_000
