"""LOBSTER to DBN MBO: the book rebuilt from the output against LOBSTER's own book file."""

from __future__ import annotations

import re
from collections import Counter

import databento_dbn
import numpy as np
import pytest
from conftest import shared_file

from engines.book import Book
from engines.events import (
    ADD,
    ASK,
    BID,
    CANCEL,
    CLEAR,
    F_LAST,
    FILL,
    NONE,
    SIDE_NONE,
    TRADE,
    UNDEF_PRICE,
)
from harness.datasets.lobster import DATASET, PUBLISHER_ID, convert_lobster, import_lobster
from harness.datasets.lobsterfiles import SYNTHETIC_ID, read_book, read_messages
from harness.dbn.reader import Reader, read_records
from harness.errors import InputError

STEM = "{}_2012-06-21_34200000_57600000_{}_{}.csv"
DATE = "2012-06-21"
# Midnight of 2012-06-21 in New York (EDT, UTC-4) is 04:00 UTC.
MIDNIGHT_NS = 1_340_251_200 * 1_000_000_000


def lobster_pair(ticker: str, levels: int):
    return (
        shared_file("lobster", STEM.format(ticker, "message", levels)),
        shared_file("lobster", STEM.format(ticker, "orderbook", levels)),
    )


def match_rows(records: np.ndarray, rows: list[list[int]], levels: int) -> Counter:
    """Rebuild the book from records and compare it with the file's rows, level by level.

    At an event end (F_LAST) the row is the one of the event's last message (sequence = line).
    Every level the file shows must be the rebuilt book's, price and total size, best first.
    Rows inside a run of messages with one timestamp are counted apart ("inside ..."): a DBN
    reader never reads the book there, but the converter keeps it right after every message.
    """
    book = Book()
    seen: Counter = Counter()
    sequence = records["sequence"]
    message_end = np.append(sequence[1:] != sequence[:-1], True).tolist()
    for action, side, price, size, order_id, flags, line, last in zip(
        *(records[name].tolist() for name in
          ("action", "side", "price", "size", "order_id", "flags", "sequence")), message_end,
        strict=True,
    ):  # fmt: skip
        book.apply(action, side, price, size, order_id, flags)
        if flags & F_LAST:
            book.end_event(0, 0)
        if not last or line == 0:  # inside a message, or the snapshot before the first
            continue
        row = rows[line - 1]
        asks = [(row[k] * 100_000, row[k + 1]) for k in range(0, 4 * levels, 4) if row[k + 1]]
        bids = [(row[k + 2] * 100_000, row[k + 3]) for k in range(0, 4 * levels, 4) if row[k + 3]]
        same = book.depth(ASK, levels) == asks and book.depth(BID, levels) == bids
        seen[("" if flags & F_LAST else "inside ") + ("matched" if same else "mismatched")] += 1
    seen["unknown"] = book.unknown
    return seen


def unknown_ids(records: np.ndarray) -> int:
    """How many cancels of ids it never saw a book builder skips in these records."""
    book = Book()
    for action, side, price, size, order_id in zip(
        *(records[name].tolist() for name in ("action", "side", "price", "size", "order_id")),
        strict=True,
    ):
        book.apply(action, side, price, size, order_id)
    return book.unknown


# -- the real files -------------------------------------------------------------------------

# Measured on the real files. Event ends: runs of messages with one timestamp; a row inside a run
# is the book halfway through a sweep, which a DBN reader never sees (no F_LAST there).
REAL = {
    # ticker, levels: messages, events, repair records (revealed, removed)
    ("AAPL", 10): (999, 890, 11, 4),
    ("AMZN", 1): (57515, 53283, 5114, 10990),
}


@pytest.mark.parametrize(("ticker", "levels"), list(REAL))
def test_rebuilt_book_matches_lobster_at_every_event_end(tmp_path, ticker, levels):
    message_path, book_path = lobster_pair(ticker, levels)
    out, counts = import_lobster(message_path, book_path, tmp_path / "out.dbn")
    records = read_records(out)
    messages, events, revealed, removed = REAL[ticker, levels]
    _, counts = convert_lobster(message_path, book_path, date=DATE)
    assert (counts.messages, counts.events, counts.records) == (messages, events, len(records))
    seen = match_rows(records, read_book(book_path, messages), levels)
    # Every event end, and even every row inside a sweep; no cancel of an unknown id.
    inside = messages - events
    assert inside == {"AAPL": 109, "AMZN": 4232}[ticker]
    assert seen == Counter({"matched": events, "inside matched": inside, "unknown": 0})
    # What the book file had to supply: quantity no message showed, and quantity gone unseen.
    assert (counts.revealed, counts.removed, counts.unresolved) == (revealed, removed, 0)
    assert counts.compared == messages and counts.mismatched == 0
    assert "matched the book file after every message" in counts.summary()
    assert strict_replay(records) == len(records)  # --strict accepts what --book writes


@pytest.mark.parametrize(("ticker", "levels"), list(REAL))
def test_seed_alone_does_not_determine_the_book(ticker, levels):
    """Without the repairs, orders that rested out of view make the rebuilt book drift."""
    message_path, book_path = lobster_pair(ticker, levels)
    records, counts = convert_lobster(message_path, book_path, date=DATE, repair=False)
    seen = match_rows(records, read_book(book_path, counts.messages), levels)
    assert seen["matched"] + seen["mismatched"] == counts.events
    assert seen["mismatched"] > 0  # it drifts
    # Facts of the message file itself: the cancels, deletes and executions of ids that no add
    # message names. The seed supplies some of those orders; the rest stay unknown.
    never_added = orders_never_added(message_path)
    assert 0 < seen["unknown"] == counts.unresolved <= never_added


def orders_never_added(message_path) -> int:
    """Messages of types 2, 3 and 4 whose order id no type-1 message before them added."""
    added, count = set(), 0
    for line in message_path.read_text().splitlines():
        kind, order_id = (int(x) for x in line.split(",")[1:3])
        if kind == 1:
            added.add(order_id)
        elif kind in (2, 3, 4) and order_id not in added:
            count += 1
    return count


def test_snapshot_is_the_book_before_the_first_message(tmp_path):
    message_path, book_path = lobster_pair("AAPL", 10)
    records, counts = convert_lobster(message_path, book_path, date=DATE)
    snapshot = records[: 1 + counts.seeded_levels]
    assert snapshot[0]["action"] == CLEAR and snapshot[0]["price"] == UNDEF_PRICE
    assert snapshot["flags"].tolist() == [0x28] * counts.seeded_levels + [0xA8]
    assert (snapshot["order_id"][1:] >= SYNTHETIC_ID).all()
    # The first message adds 18 at 585.33 bid, a level of its own: the first row without it.
    first_row = read_book(book_path, counts.messages)[0]
    assert counts.seeded_levels == 19
    assert 585_330_000_000 not in snapshot["price"]
    assert sum(snapshot["size"]) == sum(first_row[1::2]) - 18


def test_messages_alone_one_to_three_records_each(tmp_path):
    message_path, _ = lobster_pair("AMZN", 1)
    records, counts = convert_lobster(message_path, date=DATE)
    kinds = Counter(message[2] for message in read_messages(message_path))
    # A, C, C, T+F+C, T: no snapshot and no repair without the book file.
    assert len(records) == kinds[1] + kinds[2] + kinds[3] + 3 * kinds[4] + kinds[5]
    assert counts.seeded_levels == counts.revealed == counts.removed == 0
    assert Counter(records["action"].tolist()) == {
        ADD: kinds[1], CANCEL: kinds[2] + kinds[3] + kinds[4], TRADE: kinds[4] + kinds[5],
        FILL: kinds[4],
    }  # fmt: skip
    assert ((records["flags"] & F_LAST) != 0).sum() == counts.events
    assert (np.diff(records["ts_event"].astype(np.int64)) >= 0).all()
    # Orders resting before 09:30 or deeper than the best level: their ids were never added.
    assert counts.unseen_ids == counts.unresolved == unknown_ids(records) == 7467


def test_output_decodes_with_databento(tmp_path):
    message_path, book_path = lobster_pair("AAPL", 10)
    out, _ = import_lobster(message_path, book_path, tmp_path / "aapl.dbn.zst")
    ours = read_records(out)
    decoder = databento_dbn.DBNDecoder(compression=databento_dbn.Compression.ZSTD)
    decoder.write(out.read_bytes())
    decoded = decoder.decode()
    metadata, theirs = decoded[0], decoded[1:]
    assert metadata.dataset == DATASET and metadata.symbols == ["AAPL"]
    assert Reader(out).metadata.start == int(ours["ts_event"][0])
    assert len(theirs) == len(ours) == 1230
    for rec, msg in zip(ours, theirs, strict=True):
        assert rec.tobytes() == bytes(msg)[:56]
    assert (ours["publisher_id"] == PUBLISHER_ID).all()


def test_time_and_price_scales(tmp_path):
    message_path, _ = lobster_pair("AAPL", 10)
    records, _ = convert_lobster(message_path, date=DATE)
    first = records[0]  # 34200.004241176, add 18 @ 5853300 (585.33 dollars), buy
    assert first["ts_event"] == first["ts_recv"] == MIDNIGHT_NS + 34_200_004_241_176
    assert (first["action"], first["side"], first["price"]) == (ADD, BID, 585_330_000_000)
    assert (first["order_id"], first["size"], first["sequence"]) == (16113575, 18, 1)


# -- a small hand-written file ------------------------------------------------------------------

SMALL = """\
34200.1,1,11,100,1000000,1
34200.2,1,12,50,1001000,-1
34200.3,2,11,30,1000000,1
34200.4,4,12,20,1001000,-1
34200.4,4,12,30,1001000,-1
34200.5,5,0,7,1000500,1
34200.6,6,0,500,1000500,1
34200.7,7,0,0,-1,-1
34200.8,3,11,70,1000000,1
"""


def test_each_message_type_maps_to_databento_records(tmp_path):
    path = tmp_path / "TEST_2012-06-21_34200000_57600000_message_1.csv"
    path.write_text(SMALL)
    out, _ = import_lobster(path)  # symbol, date and output name from LOBSTER's file name
    assert out == tmp_path / "TEST_2012-06-21_34200000_57600000_message_1.dbn"
    assert Reader(out).metadata.symbols == ["TEST"]
    records = read_records(out)
    got = [
        (chr(r["action"]), chr(r["side"]), int(r["order_id"]), int(r["size"]), int(r["flags"]))
        for r in records
    ]
    assert got == [
        ("A", "B", 11, 100, 0x80),
        ("A", "A", 12, 50, 0x80),
        ("C", "B", 11, 30, 0x80),  # partial cancel
        ("T", "B", 0, 20, 0),  # a buyer lifts the resting sell: one event, two executions
        ("F", "A", 12, 20, 0),
        ("C", "A", 12, 20, 0),
        ("T", "B", 0, 30, 0),
        ("F", "A", 12, 30, 0),
        ("C", "A", 12, 30, 0x80),
        ("T", "A", 0, 7, 0x80),  # hidden execution of a buy: a seller's print, no book change
        ("T", "N", 0, 500, 0x80),  # cross trade
        ("N", "N", 0, 0, 0x80),  # halt
        ("C", "B", 11, 70, 0x80),  # delete
    ]
    assert records["sequence"].tolist() == [1, 2, 3, 4, 4, 4, 5, 5, 5, 6, 7, 8, 9]
    assert records["price"][-2] == UNDEF_PRICE and records["action"][-2] == NONE
    assert records["side"][-3] == SIDE_NONE
    book = Book(strict=True)
    for r in records:
        book.apply(int(r["action"]), int(r["side"]), int(r["price"]), int(r["size"]),
                   int(r["order_id"]))  # fmt: skip
    assert book.orders == {}


def test_book_file_fills_in_what_the_messages_leave_out(tmp_path):
    # A level-1 file. A better bid hides 100 @ 10.00, of which 15 are cancelled out of view; when
    # both are gone 300 @ 9.99 comes into view, and an order resting there unseen (id 7) trades.
    messages = [
        "34200.1,1,1,100,100000,1",
        "34200.2,1,2,200,100100,1",
        "34200.3,3,2,200,100100,1",
        "34200.4,3,1,85,100000,1",
        "34200.5,4,7,100,99900,1",
    ]
    rows = [
        "100500,10,100000,100",
        "100500,10,100100,200",
        "100500,10,100000,85",
        "100500,10,99900,300",
        "100500,10,99900,200",
    ]
    message_path, book_path = tmp_path / "m.csv", tmp_path / "b.csv"
    message_path.write_text("\n".join(messages) + "\n")
    book_path.write_text("\n".join(rows) + "\n")
    records, counts = convert_lobster(message_path, book_path, date=DATE)
    got = [(chr(r["action"]), int(r["order_id"]), int(r["size"]), int(r["flags"])) for r in records]
    seeded, revealed = SYNTHETIC_ID, SYNTHETIC_ID + 1
    assert got == [
        ("R", 0, 0, 0x28),
        ("A", seeded, 10, 0xA8),  # the ask resting before the first message
        ("A", 1, 100, 0x80),
        ("A", 2, 200, 0x80),
        ("C", 2, 200, 0),
        ("C", 1, 15, 0x80),  # the row shows 85 where the book holds 100
        ("C", 1, 85, 0),
        ("A", revealed, 300, 0x80),  # the level that came into view
        ("T", 0, 100, 0),
        ("F", revealed, 100, 0),  # id 7 was never added: its level's synthetic order trades
        ("C", revealed, 100, 0x80),
    ]
    assert (counts.seeded_levels, counts.revealed, counts.removed) == (1, 1, 1)
    assert (counts.unseen_ids, counts.unresolved) == (1, 0)
    assert match_rows(records, read_book(book_path, 5), 1) == Counter(matched=5, unknown=0)
    # Messages alone: the unseen execution names an id the book never saw.
    records, counts = convert_lobster(message_path, date=DATE)
    assert (counts.unseen_ids, counts.unresolved, unknown_ids(records)) == (1, 1, 1)
    assert [chr(a) for a in records["action"]] == ["A", "A", "C", "C", "T", "F", "C"]


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("34200.5,1,13,100,1000000", "5 columns, expected 6"),
        ("34200.5,1,13,abc,1000000,1", "size 'abc' is not an integer"),
        ("34200.5,9,13,100,1000000,1", "unknown event type 9"),
        ("9:30,1,13,100,1000000,1", "time '9:30' is not seconds after midnight"),
        ("34200.5,1,13,100,1000000,0", "direction 0"),
        ("34200.0,1,13,100,1000000,1", "before the line above's"),
        ("99999999999,1,13,100,1000000,1", "is not within the trading day"),  # a fuzzer's
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, line, says):
    path = tmp_path / "bad_message.csv"
    path.write_text(SMALL.splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(InputError) as caught:
        import_lobster(path, out_path=tmp_path / "x.dbn", date=DATE)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ") and says in message
    assert "\n" not in message
    assert not (tmp_path / "x.dbn").exists()


def test_book_file_must_pair_with_the_messages(tmp_path):
    message_path = tmp_path / "m.csv"
    message_path.write_text(SMALL)
    book_path = tmp_path / "b.csv"
    book_path.write_text("100500,10,100000,100\n100500,10,100000\n")
    said = rf"^{re.escape(str(book_path))}:2: 3 columns, expected 4$"
    with pytest.raises(InputError, match=said):
        convert_lobster(message_path, book_path, date=DATE)
    book_path.write_text("100500,10,100000,100\n")
    with pytest.raises(InputError, match="1 rows for the 9 messages"):
        convert_lobster(message_path, book_path, date=DATE)


def test_date_is_needed_when_the_name_does_not_say(tmp_path):
    path = tmp_path / "messages.csv"
    path.write_text(SMALL)
    with pytest.raises(InputError, match="no trading date in the file name"):
        import_lobster(path)
    assert import_lobster(path, date=DATE, symbol="X")[0].name == "messages.dbn"


def strict_replay(records) -> int:
    """Records a strict book applies before it meets an id that no record added (all of them
    when there is none)."""
    from engines.book import UnknownOrder

    book = Book(strict=True)
    for i, (action, side, price, size, order_id, flags) in enumerate(zip(
            *(records[c].tolist() for c in ("action", "side", "price", "size", "order_id",
                                            "flags")), strict=True)):  # fmt: skip
        try:
            book.apply(action, side, price, size, order_id, flags)
        except UnknownOrder:
            return i
        if flags & 0x80:
            book.end_event(0, 0)
    return len(records)


def write_pair(tmp_path, messages: str, rows: str):
    message_path = tmp_path / "X_2012-06-21_34200000_57600000_message_1.csv"
    book_path = tmp_path / "X_2012-06-21_34200000_57600000_orderbook_1.csv"
    message_path.write_text(messages)
    book_path.write_text(rows)
    return message_path, book_path


def test_negative_size_in_a_book_row(tmp_path):
    message_path, book_path = write_pair(tmp_path, "34200.1,1,11,100,1000000,1\n",
                                         "1001000,-5,1000000,100\n")  # fmt: skip
    with pytest.raises(InputError) as caught:
        import_lobster(message_path, book_path, tmp_path / "x.dbn")
    assert str(caught.value).startswith(f"{book_path}:1: size -5 in column 2")
    assert not (tmp_path / "x.dbn").exists()


def test_a_delete_no_order_can_stand_for_is_an_error_with_the_book(tmp_path):
    # Id 99 was never added, and the book file shows nothing at 101.00: with --book no order
    # of the output can stand for it, and a --strict run would reject the file.
    message_path, book_path = write_pair(
        tmp_path, "34200.1,1,11,100,1000000,1\n34200.2,3,99,10,1010000,1\n",
        "9999999999,0,1000000,100\n9999999999,0,1000000,100\n")  # fmt: skip
    with pytest.raises(InputError) as caught:
        import_lobster(message_path, book_path, tmp_path / "x.dbn")
    said = str(caught.value)
    assert said.startswith(f"{message_path}:2: a delete of order id 99") and "\n" not in said
    # Without the book file the messages are converted alone, and the id counted as unknown.
    out, counts = import_lobster(message_path, None, tmp_path / "y.dbn")
    assert counts.unresolved == 1 and "1 id left unknown" in counts.summary()


def test_an_execution_larger_than_its_order_converts_to_what_strict_accepts(tmp_path):
    # 30 of order 11 left while out of view, so the book file shows 70; then 100 executes and
    # 10 more are deleted: every record names an order the output added.
    message_path, book_path = write_pair(
        tmp_path,
        "34200.1,1,11,100,1000000,1\n34200.2,4,11,100,1000000,1\n34200.3,3,11,10,1000000,1\n",
        "9999999999,0,1000000,70\n9999999999,0,-9999999999,0\n9999999999,0,-9999999999,0\n",
    )
    try:
        out, counts = import_lobster(message_path, book_path, tmp_path / "x.dbn")
    except InputError as exc:  # or it says which line it cannot convert
        assert str(exc).startswith(f"{message_path}:")
        return
    assert strict_replay(read_records(out)) == counts.records
