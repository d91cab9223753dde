"""A deterministic synthetic MBO session: realistic L3 order flow written as a real DBN file.

What the flow looks like (Databento's GLBX conventions, see ../shared/MBO.md section 6):
- Start: per instrument a clear (R, flags 0x28), then a snapshot of resting orders (A records in
  queue order, flags 0x28, the last one 0xA8).
- Then the events of all instruments interleave in time, one instrument per event. Most are one
  record with flags 0x82 (F_LAST | F_PUBLISHER_SPECIFIC): an add clustered at or near the touch (a
  quarter of them far away), a cancel of a live order (full, sometimes partial), or a modify (a
  one-tick price move, which loses queue priority; a size cut, which keeps it; a size rise; or a
  re-placement at a new distance from the touch).
- About one event in 16 is a marketable order. From the best level outward, per level: a T (the
  aggressor's side and id, the level's price, the quantity taken there) then one F per resting
  order hit in FIFO order (flags 0, one sequence); then, at the next sequence, a C of the whole
  size for every exhausted order and an M (same price, reduced size) for a partly filled one, and
  an A when the aggressor's remainder rests. Only the event's last record has F_LAST.
- Nobody drives the price: it random-walks as trades and cancels empty the touch and adds inside
  a wide spread refill it from either side.
Each book is an `engines.book.Book`, so the generator sees what a book builder rebuilds: C and M
name live orders, trades fill in queue order, no book is crossed at an event's end.
`flowstats.flow_stats` measures a file's flow (action mix, cancels per add, distance of adds
from the touch).
"""

from __future__ import annotations

import os
import random
from array import array
from bisect import bisect
from collections.abc import Iterator
from itertools import accumulate, islice
from pathlib import Path

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
    F_PUBLISHER_SPECIFIC,
    F_SNAPSHOT,
    FILL,
    MBO_DTYPE,
    MODIFY,
    RECORD_WORDS,
    RTYPE_MBO,
    SIDE_NONE,
    TRADE,
    UNDEF_PRICE,
)
from harness.dbn.writer import write_dbn

GENERATOR_VERSION = 1  # bump when the output changes: the cached default file is then rebuilt

TICK = 250_000_000  # 0.25 in DBN fixed point: the tick of every synthetic instrument
DATASET = "GLBX.MDP3"
PUBLISHER_ID = 1  # GLBX.MDP3
FIRST_INSTRUMENT_ID = 1001
START_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30:00 UTC: the snapshot's ts_recv
SNAPSHOT_TS_EVENT = START_NS - 3_600_000_000_000
MEAN_GAP_NS = 1_000_000  # mean time between two events (of any instrument)
MAX_GAP_NS = 20 * MEAN_GAP_NS
FIRST_SEQUENCE = 1_000
FIRST_ORDER_ID = 10_000_000
SNAPSHOT_ORDERS = 400  # per instrument (fewer for small files)
CHUNK_RECORDS = 65_536

LIVE = F_LAST | F_PUBLISHER_SPECIFIC  # 0x82, as on the CME session's event ends
SNAP = F_SNAPSHOT | F_BAD_TS_RECV  # 0x28

# Live events (tuned so that the record mix matches the CME session: see tests/test_synth.py).
P_TRADE = 0.062
P_ADD = 0.435
P_CANCEL = 0.272  # the rest are modifies
P_PARTIAL = 0.08  # of cancels: remove part of the order only
P_NEAR = 0.6  # of cancels and modifies: an order of the best 3 levels, else any live order
P_IMPROVE = 0.5  # of adds while the spread is wider than one tick: inside the spread
P_SWEEP = 0.015  # of trades: through 2 or 3 levels
P_REST = 0.03  # of trades: the aggressor's remainder rests (so it takes the whole level(s))
MAX_ORDERS = 10_000  # per instrument: the book grows (as the CME one does) up to this size
MAX_SWEEP_LOTS = 60  # a sweep or a resting aggressor takes at most this much

# The fields of a row of the record buffer (int64 each): the flags are second to last.
FIELDS = "ts_event instrument_id action side order_id price size flags sequence".split()
ROW = len(FIELDS)


def synthesize(
    path: str | os.PathLike[str],
    events: int,
    seed: int = 1,
    instruments: int = 3,
    version: int = 3,
) -> Path:
    """Write a synthetic DBN MBO file (zstd-compressed when the name ends in `.zst`).

    The file holds `events` records, or a few more: generation stops at the first event
    boundary at or after `events` records (an event is never cut; most are one record, a trade
    up to a few dozen, a snapshot block a few hundred). The same arguments give the same bytes.
    """
    if events < 0 or instruments < 1:
        raise ValueError("events must be >= 0 and instruments >= 1")
    symbols = [f"SYN{FIRST_INSTRUMENT_ID + k}" for k in range(instruments)]
    # The metadata is written first, so its `end` is a bound: no gap exceeds MAX_GAP_NS.
    end = START_NS + (events + 1) * MAX_GAP_NS + 2_000_001
    chunks = _Flow(seed, instruments).chunks(events)
    meta = {"dataset": DATASET, "start_ns": START_NS, "end_ns": end, "symbols": symbols}
    return write_dbn(path, chunks, version=version, **meta)


class _Instrument:
    __slots__ = ("iid", "book", "ids", "anchor")

    def __init__(self, iid: int) -> None:
        self.iid = iid
        self.book = Book(strict=True)
        self.ids: list[int] = []  # ids of orders added; dead ones are dropped lazily by _pick
        self.anchor = 0  # the best bid when an order was last placed


class _Flow:
    """The generator's state: instruments, clock, sequence, ids, and the record buffer."""

    def __init__(self, seed: int, instruments: int) -> None:
        # random.Random draws in the event loop (fast per call, stable across Python versions);
        # numpy fills the per-record timing columns of a whole chunk at once.
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.instruments = [_Instrument(FIRST_INSTRUMENT_ID + k) for k in range(instruments)]
        self.weights = list(accumulate(1 / (k + 1) for k in range(instruments)))  # busier first
        self.ts = START_NS
        self.seq = FIRST_SEQUENCE
        self.next_id = FIRST_ORDER_ID
        self.last_recv = START_NS
        self.buf = array("q")  # rows of ROW int64 fields, turned into records by _flush
        self.flushed = 0  # records already handed out
        self.inst = self.instruments[0]

    def chunks(self, events: int) -> Iterator[np.ndarray]:
        per_instrument = min(SNAPSHOT_ORDERS, max(2, events // (8 * len(self.instruments))))
        done = 0
        for inst in self.instruments:
            if done >= events:
                break
            self.inst = inst
            self._snapshot(per_instrument)
            done = len(self.buf) // ROW
        r = self.rng.random
        while done < events:
            self.ts += min(int(self.rng.expovariate(1.0) * MEAN_GAP_NS), MAX_GAP_NS)
            self.seq += 1 + int(r() * r() * 4)  # gaps: the channel carries other instruments
            self.inst = self.instruments[bisect(self.weights, r() * self.weights[-1])]
            u = r()
            if u < P_TRADE:
                self._trade()
            elif u < P_TRADE + P_ADD and len(self.inst.book.orders) < MAX_ORDERS:
                self._add()
            elif u < P_TRADE + P_ADD + P_CANCEL:  # (an add to a full book becomes a cancel)
                self._cancel()
            else:
                self._modify()
            if len(self.buf) >= CHUNK_RECORDS * ROW:
                yield self._flush()  # the buffer holds whole events only
            done = self.flushed + len(self.buf) // ROW
        if self.buf:
            yield self._flush()

    def _emit(self, action: int, side: int, oid: int, price: int, size: int, flags: int) -> None:
        self.buf.extend((self.ts, self.inst.iid, action, side, oid, price, size, flags, self.seq))

    def _new_id(self) -> int:
        self.next_id += 1 + int(self.rng.random() * 3)  # increasing, with gaps
        return self.next_id

    def _distance(self) -> int:
        """Ticks from the touch for a new order: clustered at the touch, with a long tail."""
        r = self.rng.random
        u = r()
        if u < 0.56:
            return 0
        if u < 0.64:
            return 1 + int(r() * 2)
        if u < 0.67:
            return 3 + int(r() * 3)
        if u < 0.72:
            return 6 + int(r() * 5)
        return 11 + int(self.rng.expovariate(1 / 30))

    def _size(self) -> int:
        return 1 if self.rng.random() < 0.74 else 2 + int(self.rng.expovariate(1 / 3))

    def _place(self, side: int) -> int:
        """A passive price for a new or re-placed order of `side`: never crossing the book."""
        book = self.inst.book
        bid, ask = book.best_bid(), book.best_ask()
        if not book.bid_prices and not book.ask_prices:  # an empty book: the last known touch
            bid, ask = self.inst.anchor, self.inst.anchor + TICK
        elif not book.bid_prices or not book.ask_prices:  # one side empty: quote around the other
            bid = bid if book.bid_prices else ask - TICK
            ask = ask if book.ask_prices else bid + TICK
        self.inst.anchor = bid
        if ask - bid > TICK and self.rng.random() < P_IMPROVE:
            return bid + TICK if side == BID else ask - TICK
        d = self._distance() * TICK
        return bid - d if side == BID else ask + d

    def _add(self) -> None:
        side = BID if self.rng.random() < 0.5 else ASK
        oid = self._new_id()
        price, size = self._place(side), self._size()
        self.inst.book.add(oid, side, price, size)
        self.inst.ids.append(oid)
        self._emit(ADD, side, oid, price, size, LIVE)

    def _pick(self) -> int | None:
        """A live order: near the touch (best 3 levels of a side) or anywhere in the book."""
        r, book = self.rng.random, self.inst.book
        if r() < P_NEAR:
            bids = r() < 0.5
            prices = book.bid_prices if bids else book.ask_prices
            if prices:
                k = min(int(r() * r() * 3), len(prices) - 1)  # level 0 most often
                level = (book.bids if bids else book.asks)[prices[-1 - k] if bids else prices[k]]
                # The j-th order of the FIFO, found by skipping j keys of the queue dict.
                return next(islice(level.queue, int(r() * len(level.queue)), None))
        ids = self.inst.ids
        while ids:
            j = int(r() * len(ids))
            if ids[j] in book.orders:
                return ids[j]
            ids[j] = ids[-1]  # a dead id: swap it out, then draw again
            ids.pop()
        return None

    def _cancel(self) -> None:
        oid = self._pick()
        if oid is None:
            return self._add()
        order = self.inst.book.orders[oid]
        size = order.size
        if size > 1 and self.rng.random() < P_PARTIAL:
            size = 1 + int(self.rng.random() * (size - 1))
        self._emit(CANCEL, order.side, oid, order.price, size, LIVE)
        self.inst.book.cancel(oid, size)

    def _modify(self) -> None:
        oid = self._pick()
        if oid is None:
            return self._add()
        book, u = self.inst.book, self.rng.random()
        order = book.orders[oid]
        side, price, size = order.side, order.price, order.size
        if u < 0.4 and size > 1:  # size cut: keeps its place
            size = 1 + int(self.rng.random() * (size - 1))
        elif 0.4 <= u < 0.42:  # size rise: loses it
            size += 1 + int(self.rng.random() * 3)
        elif u < 0.75:  # one tick either way, same size (toward the touch only if still passive)
            step = TICK if self.rng.random() < 0.5 else -TICK
            if (side == BID and price + step >= book.best_ask()) or (
                side == ASK and price + step <= book.best_bid()
            ):
                step = -step
            price += step
        else:  # re-placed at a new distance from the touch, new size
            price, size = self._place(side), self._size()
        self._emit(MODIFY, side, oid, price, size, LIVE)
        book.modify(oid, side, price, size)

    def _trade(self) -> None:
        """A marketable order: T, F.. per level hit, then C/M per resting order, then its A."""
        r, book = self.rng.random, self.inst.book
        side = BID if r() < 0.5 else ASK  # the aggressor's
        prices = book.ask_prices[:3] if side == BID else book.bid_prices[:-4:-1]
        if not prices:
            return self._add()
        levels = book.asks if side == BID else book.bids
        k = min(2 + int(r() * 2) if r() < P_SWEEP else 1, len(prices))
        prices = prices[:k]
        rests = r() < P_REST
        # Quantity: whole levels but the last, then some of the last (all of it when resting).
        qty = sum(levels[p].size for p in prices[:-1])
        last = levels[prices[-1]].size
        if (rests or k > 1) and qty + last > MAX_SWEEP_LOTS:  # too deep: a plain trade instead
            prices, rests, k, qty, last = prices[:1], False, 1, 0, levels[prices[0]].size
        if rests:
            qty += last
        elif k > 1:
            qty += 1 + int(r() * last)
        else:
            qty = min(last, 1 if r() < 0.6 else 2 + int(self.rng.expovariate(1 / 6)))
        aggressor = self._new_id()
        hits = []  # (resting id, order, filled quantity) in fill order
        for price in prices:
            take = min(qty, levels[price].size)
            qty -= take
            self._emit(TRADE, side, aggressor, price, take, 0)
            for oid, order in levels[price].queue.items():  # FIFO: oldest first
                fill = min(take, order.size)
                self._emit(FILL, order.side, oid, price, fill, 0)
                hits.append((oid, order, fill))
                take -= fill
                if take == 0:
                    break
        self.seq += 1  # the book records come at the next sequence, as on CME
        for oid, order, fill in hits:
            if fill == order.size:
                self._emit(CANCEL, order.side, oid, order.price, order.size, 0)
                book.cancel(oid, order.size)
            else:
                self._emit(MODIFY, order.side, oid, order.price, order.size - fill, 0)
                book.modify(oid, order.side, order.price, order.size - fill)
        if rests:  # every resting order at the limit is gone: the remainder cannot cross
            size = self._size()
            book.add(aggressor, side, prices[-1], size)
            self.inst.ids.append(aggressor)
            self._emit(ADD, side, aggressor, prices[-1], size, 0)
        self.buf[-2] = LIVE  # F_LAST on the event's last record (flags are a row's 8th field)

    def _snapshot(self, n: int) -> None:
        """R, then `n` resting orders around a random mid as snapshot adds, in queue order."""
        inst, r = self.inst, self.rng.random
        bid = inst.anchor = int(1000 + 19000 * r()) * 4 * TICK  # between 1,000 and 20,000
        orders = []  # (side, distance, price, size); the first two make a one-tick spread
        for j in range(n):
            side = BID if (j % 2 == 0 if j < 2 else r() < 0.5) else ASK
            d = 0 if j < 2 else int(40 * r() * r())  # over 40 levels, denser near the touch
            price = bid - d * TICK if side == BID else bid + TICK + d * TICK
            orders.append((side, d, price, self._size()))
        orders.sort(key=lambda o: (o[0], o[1]))  # by side, best level first; stable: FIFO
        self.ts = SNAPSHOT_TS_EVENT
        self._emit(CLEAR, SIDE_NONE, 0, UNDEF_PRICE, 0, SNAP)
        for side, _, price, size in orders:
            oid = self._new_id()
            inst.book.add(oid, side, price, size)
            inst.ids.append(oid)
            self._emit(ADD, side, oid, price, size, SNAP)
        self.buf[-2] = SNAP | F_LAST
        self.ts = START_NS

    def _flush(self) -> np.ndarray:
        """The buffered rows as MBO records, with ts_recv and ts_in_delta drawn for the chunk."""
        rows = np.frombuffer(self.buf, np.int64).reshape(-1, ROW)
        n = len(rows)
        out = np.zeros(n, MBO_DTYPE)
        out["length"], out["rtype"], out["publisher_id"] = RECORD_WORDS, RTYPE_MBO, PUBLISHER_ID
        for j, name in enumerate(FIELDS):
            out[name] = rows[:, j]
        snap = (rows[:, 7] & F_SNAPSHOT) != 0
        # Capture latency 80 us .. 2 ms (mostly near 120 us), never going back in file order.
        latency = np.minimum(self.np_rng.exponential(45_000, n), 1_920_000).astype(np.int64)
        recv = np.where(snap, START_NS, rows[:, 0] + 80_000 + latency)
        recv = np.maximum.accumulate(np.maximum(recv, self.last_recv))
        out["ts_recv"] = recv
        out["ts_in_delta"] = np.where(snap, 0, self.np_rng.integers(12_000, 25_001, n))
        self.last_recv = int(recv[-1])
        self.flushed += n
        self.buf = array("q")
        return out
