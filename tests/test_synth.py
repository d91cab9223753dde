"""The synthetic generator: a valid DBN file, a sane book, Databento's record sequences, realism."""

from __future__ import annotations

import hashlib

import databento_dbn
import numpy as np
import pytest
from conftest import CME_SESSION, shared_file

from engines.book import Book
from engines.events import (
    ADD,
    BID,
    CANCEL,
    CLEAR,
    F_LAST,
    F_SNAPSHOT,
    FILL,
    MBO_DTYPE,
    MODIFY,
    SIDE_NONE,
    TRADE,
    UNDEF_PRICE,
)
from harness.datasets.flowstats import flow_stats
from harness.datasets.synth import TICK, synthesize
from harness.dbn.reader import Reader, read_records

EVENTS = 200_000


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> np.ndarray:
    """A 200k-record synthetic session (about 0.8 s to write), shared by the module's tests."""
    path = synthesize(tmp_path_factory.mktemp("synth") / "flow.dbn", EVENTS, seed=7)
    return read_records(path)


def events_of(records: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of every event: an event ends at an F_LAST record."""
    ends = np.flatnonzero(records["flags"] & F_LAST) + 1
    return list(zip(np.r_[0, ends[:-1]].tolist(), ends.tolist(), strict=True))


@pytest.mark.parametrize(("name", "version"), [("a.dbn", 3), ("a.dbn.zst", 3), ("a.dbn", 1)])
def test_databento_and_our_reader_decode_the_same_records(tmp_path, name, version):
    path = synthesize(tmp_path / name, 5_000, seed=3, instruments=2, version=version)
    ours = Reader(path)
    assert ours.version == version
    assert list(ours.metadata.symbols) == ["SYN1001", "SYN1002"]
    records = read_records(path)

    zst = name.endswith(".zst")
    decoder = databento_dbn.DBNDecoder(
        **({"compression": databento_dbn.Compression.ZSTD} if zst else {})
    )
    decoder.write(path.read_bytes())
    metadata, *theirs = decoder.decode()
    assert metadata.dataset == "GLBX.MDP3"  # (the decoder upgrades v1 to v3)
    assert len(theirs) == len(records) >= 5_000
    fields = ("ts_event", "ts_recv", "instrument_id", "order_id", "price", "size", "flags")
    fields += ("ts_in_delta", "sequence")
    for rec, msg in zip(records.tolist(), theirs, strict=True):
        ours = dict(zip(MBO_DTYPE.names, rec, strict=True))
        assert [ours[f] for f in fields] == [getattr(msg, f) for f in fields]
        assert (chr(ours["action"]), chr(ours["side"])) == (str(msg.action), str(msg.side))


@pytest.mark.parametrize("events", [0, 1, 40, 1_000, 30_000])
def test_stops_at_the_first_event_boundary_at_or_after_the_count(tmp_path, events):
    records = read_records(synthesize(tmp_path / "n.dbn", events))
    assert len(records) >= events
    if events:
        assert records["flags"][-1] & F_LAST
        starts = [start for start, _ in events_of(records)]
        assert starts[-1] < events  # the last event began before the count was reached


def test_same_arguments_same_bytes(tmp_path):
    def digest(name: str, seed: int) -> str:
        return hashlib.sha256(
            synthesize(tmp_path / name, 20_000, seed=seed).read_bytes()
        ).hexdigest()

    assert digest("a.dbn.zst", 5) == digest("b.dbn.zst", 5)
    assert digest("c.dbn.zst", 6) != digest("a.dbn.zst", 5)


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        synthesize(tmp_path / "x.dbn", -1)
    with pytest.raises(ValueError):
        synthesize(tmp_path / "x.dbn", 10, instruments=0)


def test_start_of_day_clear_then_snapshot(synthetic):
    seen = set()
    for start, stop in events_of(synthetic):
        iid = int(synthetic["instrument_id"][start])
        if iid in seen:
            break
        seen.add(iid)
        block = synthetic[start:stop]
        r = block[0]
        assert (r["action"], r["side"], r["order_id"], r["size"]) == (CLEAR, SIDE_NONE, 0, 0)
        assert r["price"] == UNDEF_PRICE and r["flags"] == 0x28
        assert (block["action"][1:] == ADD).all() and (block["instrument_id"] == iid).all()
        assert (block["flags"][:-1] == 0x28).all() and block["flags"][-1] == 0xA8
    assert seen == {1001, 1002, 1003}
    live = synthetic[(synthetic["flags"] & F_SNAPSHOT) == 0]
    assert set(np.unique(live["instrument_id"]).tolist()) == {1001, 1002, 1003}
    assert (synthetic["publisher_id"] == 1).all() and (synthetic["channel_id"] == 0).all()


def test_timing_sequence_and_ids(synthetic):
    live = synthetic[(synthetic["flags"] & F_SNAPSHOT) == 0]
    assert (np.diff(synthetic["ts_event"].astype(np.int64)) >= 0).all()  # snapshot's is earlier
    assert (np.diff(synthetic["ts_recv"].astype(np.int64)) >= 0).all()
    latency = live["ts_recv"].astype(np.int64) - live["ts_event"].astype(np.int64)
    assert latency.min() >= 80_000 and latency.max() <= 2_000_000
    assert live["ts_in_delta"].min() >= 12_000 and live["ts_in_delta"].max() <= 25_000
    assert (np.diff(synthetic["sequence"].astype(np.int64)) >= 0).all()
    assert (np.diff(live["sequence"].astype(np.int64)) > 1).any()  # gaps
    adds = synthetic["order_id"][synthetic["action"] == ADD].astype(np.int64)
    assert (np.diff(adds) > 0).all()  # new ids increase
    for start, stop in events_of(live):  # one ts_event per event
        assert live["ts_event"][start] == live["ts_event"][stop - 1]


def test_event_shapes_and_f_last(synthetic):
    """Single records carry 0x82; a trade is T, F.. per level, then C/M/A, F_LAST at the end."""
    trades = sweeps = rests = 0
    for start, stop in events_of(synthetic):
        ev = synthetic[start:stop]
        flags, actions = ev["flags"].tolist(), ev["action"].tolist()
        if flags[-1] & F_SNAPSHOT:
            continue
        assert flags[-1] == 0x82 and not any(f & F_LAST for f in flags[:-1])
        if len(ev) == 1:
            assert actions[0] in (ADD, CANCEL, MODIFY)
            continue
        trades += 1
        assert actions[0] == TRADE and all(f == 0 for f in flags[:-1])
        book_part = next(i for i, a in enumerate(actions) if a not in (TRADE, FILL))
        assert all(a in (CANCEL, MODIFY, ADD) for a in actions[book_part:])
        t_at = [i for i in range(book_part) if actions[i] == TRADE]
        sweeps += len(t_at) > 1
        rests += actions[-1] == ADD
        prices = ev["price"][t_at].tolist()
        worse = np.diff(prices) > 0 if ev["side"][0] == BID else np.diff(prices) < 0
        assert worse.all()  # a sweep goes from the best level outward
        for i, j in zip(t_at, t_at[1:] + [book_part], strict=True):
            assert ev["size"][i] == ev["size"][i + 1 : j].sum()  # T = sum of its F
            assert (ev["action"][i + 1 : j] == FILL).all() and (
                ev["price"][i:j] == ev["price"][i]
            ).all()
        assert len(set(ev["sequence"][:book_part].tolist())) == 1
        assert ev["sequence"][book_part] > ev["sequence"][0]
    assert trades > 1_000 and sweeps > 5 and rests > 5


def test_a_strict_book_rebuilds_the_flow(synthetic):
    """Every C and M names a live order, fills take queue heads, the book never crosses."""
    books: dict[int, Book] = {}
    partial_cancels = 0
    fifo: list[int] = []  # the queue ahead of the F records of the current T, in order
    columns = ("instrument_id", "action", "side", "price", "size", "order_id", "flags")
    rows = zip(*(synthetic[c].tolist() for c in columns), strict=True)
    for iid, action, side, price, size, oid, flags in rows:
        book = books.setdefault(iid, Book(strict=True))  # raises UnknownOrder on a dead id
        if action == TRADE:
            level = (book.asks if side == BID else book.bids)[price]
            fifo = list(level.queue)[::-1]
        elif action == FILL:
            assert fifo, "more fills than orders"
            assert oid == fifo.pop()  # filled in queue order
            assert size <= book.orders[oid].size
        elif action == CANCEL:
            assert 0 < size <= book.orders[oid].size
            partial_cancels += size < book.orders[oid].size
        book.apply(action, side, price, size, oid)
        if flags & F_LAST and not flags & F_SNAPSHOT:
            bid, ask, bid_size, ask_size = book.top()
            assert bid < ask
            assert (not book.bid_prices or bid_size > 0) and (not book.ask_prices or ask_size > 0)
    assert partial_cancels > 100
    for book in books.values():
        assert all(order.size > 0 for order in book.orders.values())
        for level in (*book.bids.values(), *book.asks.values()):
            assert level.queue and level.size == sum(o.size for o in level.queue.values())
    assert all(len(b.bid_prices) > 20 and len(b.ask_prices) > 20 for b in books.values())


def test_flow_stats_of_nothing():
    stats = flow_stats(np.empty(0, MBO_DTYPE), TICK)
    assert stats["share_A"] == 0 and stats["add_median"] == 0


def test_realism_within_a_factor_of_two_of_the_cme_session(synthetic):
    real = flow_stats(read_records(shared_file("dbn", CME_SESSION.name)), tick=250_000_000)
    ours = flow_stats(synthetic, tick=TICK)
    assert set(ours) == set(real)
    for name, value in real.items():
        # Floors, so that a ratio never measures noise: shares count from 1% (under it, a
        # ratio of two tiny shares says little; 1% of the real session's 20k adds is 200; no
        # figure is that small today), and the median add distance, 0 ticks in both files
        # (most adds join the touch, and 0/0 is no ratio), counts from 1 tick.
        floor = 1.0 if name == "add_median" else 0.01
        a, b = max(ours[name], floor), max(value, floor)
        assert 0.5 <= a / b <= 2, f"{name}: synthetic {ours[name]:.4f}, CME {value:.4f}"
