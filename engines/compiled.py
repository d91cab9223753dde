"""Phase 5 of the plan, `compiled`: the whole loop (book, strategies, fills) in numba.

The reader's structured arrays go straight into one jitted kernel per chunk: no Python object
per event. The book is `engines.flatbook` (an open-addressing order table, and price levels in a
pool that each order points into, sorted by price per row), the strategies are the very
functions of `engines.strategies`, compiled, and the fills are `engines.flatfills`, which follow
`engines.fills` rule for rule and fold the digest in the same order, so it equals the baseline's.
This module is the kernel's loop alone, and the growing of its arrays. State lives in arrays
(`State`); the kernel unpacks them once per chunk and hands each helper only the arrays it
touches. Every function here allocates nothing and is compiled without numba's runtime
(`_nrt=False`) and inlined into the kernel (`forceinline=True`): with the runtime, every array
handed to a call is reference-counted with atomic operations, which cost more than the book work
itself (4M against 11M events/s on this machine). The inlining is LLVM's (`forceinline` marks a
function `alwaysinline`), not numba's `inline="always"`: the machine code is as fast, but numba's
inliner types and lowers every inlined call site anew, and the kernel took 90 s to compile
(11-14 s this way). When an array is full the kernel stops before
the record that needs room, the engine grows the array, and the kernel resumes there.

The kernel hints the CPU a few records ahead (`engines.prefetch`): the order table is larger
than the caches, and the slot a coming record will probe is loaded while the records before it
are processed.

Reading overlaps processing. A reader that can read ahead into a ring (`engines.ring`; the
harness's reader of a `.dbn.zst` can) fills it on a native thread while the kernel reads it on
this one, both with the GIL released for the whole file: `run_ring`. Any other source of chunks
is read a couple of chunks ahead on a Python thread (`engines.readthread`) while the kernel, which
releases the GIL, works.

Compilation is cached on disk (`cache=True`) and done by `warm_up`, outside any timing;
`compile_seconds` says how long it took in this process.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

import numba
import numpy as np

import engines.prefetch
import engines.ring
from engines import atomics, events, flatbook, flatfills, strategies
from engines.book import UnknownOrder
from engines.events import ADD, F_LAST, FILL, MBO_DTYPE, MODIFY
from engines.flatbook import (
    IN_SNAPSHOT,
    INST_COLUMNS,
    KEY,
    UNKNOWN,
    Levels,
    apply_record,
    grown_levels,
    home_slot,
    new_levels,
    new_orders,
    rehash,
    side_index,
    top,
)
from engines.flatfills import NS, carry_out, mix_top, on_fill
from engines.jitcache import stamp_with_sources
from engines.prefetch import prefetch
from engines.readthread import read_on_thread
from engines.results import FNV_OFFSET, Results
from engines.ring import FINISHED, STATE, Ring, next_filled, release, yield_cpu
from engines.strategies import NEVER, STRATEGIES, imbalance_taker, market_maker

# Profilers see the numba kernel as one call: its book, strategies and fills are one "kernel".
COSTS = {"run_chunk": "kernel", "run_ring": "kernel", "grow": "kernel", "warm_up": "other"}

MM_QUOTES = STRATEGIES[0][2]
TAKER_QUOTES = STRATEGIES[1][2]
mm_decide = numba.njit(cache=True, _nrt=False, forceinline=True)(market_maker)
taker_decide = numba.njit(cache=True, _nrt=False, forceinline=True)(imbalance_taker)
AHEAD = 8  # records between a cache hint and the record it is for
# The ring a `.dbn.zst` is read ahead into: 8 chunks (of 4,096 records by default: 1.8 MB).
RING_SLOTS = 8

# Kernel status: why it stopped at a record.
DONE, GROW_ORDERS, GROW_LEVELS, GROW_INSTRUMENTS, UNKNOWN_ID = 0, 1, 2, 3, 4


class State(NamedTuple):
    """Everything the kernel keeps between records; first dimensions are instruments."""

    orders: np.ndarray  # ORDER_DTYPE hash table
    order_count: np.ndarray  # [1]
    inst_table: np.ndarray  # open-addressing key -> instrument index + 1 (0: empty)
    inst_info: np.ndarray  # [inst, (KEY, GEN, NEXT_STAMP, IN_SNAPSHOT, UNKNOWN)]
    levels: Levels  # rows: 2 * inst + side
    quotes: np.ndarray  # [inst, strategy, side, (price, quantity, stamp)]; quantity 0 = none
    account: np.ndarray  # [inst, strategy, (position, cash)]
    memory: np.ndarray  # [inst, strategy, 1]: the strategies' state
    fills: np.ndarray  # [strategy]
    digest: np.ndarray  # [1] uint64
    counters: np.ndarray  # [events, event_ends, index of the record stopped at, instruments]
    out: np.ndarray  # [3] a strategy's decision


def new_state(instruments: int = 16, orders: int = 1 << 16, levels: int = 256) -> State:
    def zeros(*shape):
        return np.zeros(shape, np.int64)

    return State(
        new_orders(orders), zeros(1), zeros(4 * instruments), zeros(instruments, INST_COLUMNS),
        new_levels(2 * instruments, levels), zeros(instruments, NS, 2, 3),
        zeros(instruments, NS, 2), zeros(instruments, NS, 1), zeros(NS),
        np.full(1, FNV_OFFSET, np.uint64), zeros(4), zeros(3),
    )  # fmt: skip


def empty_state(st: State) -> State:
    """`st` emptied in place, as `new_state` makes it, keeping the sizes it has grown to."""
    for name, array in st._asdict().items():
        if name == "levels":
            for part in array:
                part[...] = 0
        elif name != "orders":  # in the order table, only `inst` says whether a slot is used
            array[...] = 0
    st.orders["inst"] = -1
    st.digest[0] = FNV_OFFSET
    return st


@numba.njit(cache=True, _nrt=False, forceinline=True)
def record_key(rec):
    """A record's instrument key: its publisher and instrument ids in one integer."""
    return (np.int64(rec.publisher_id) << 32) | np.int64(rec.instrument_id)


@numba.njit(cache=True, _nrt=False, forceinline=True)
def instrument_slot(inst_table, key):
    """Where the probe for an instrument key starts in `inst_table` (Fibonacci hashing)."""
    mixed = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64(mixed >> np.uint64(40)) & (inst_table.shape[0] - 1)


@numba.njit(cache=True, _nrt=False, forceinline=True)
def instrument(inst_table, inst_info, counters, memory, key):
    """Dense index of an instrument key, adding it; -1 when the arrays are full."""
    mask = inst_table.shape[0] - 1
    i = instrument_slot(inst_table, key)
    while inst_table[i] != 0:
        if inst_info[inst_table[i] - 1, KEY] == key:
            return inst_table[i] - 1
        i = (i + 1) & mask
    n = counters[3]
    if n == inst_info.shape[0]:
        return -1
    inst_table[i] = n + 1
    inst_info[n, KEY] = key
    counters[3] = n + 1
    memory[n, 1, 0] = NEVER  # the taker's "last take": long ago
    return n


@numba.njit(cache=True, nogil=True, _nrt=False)
def run_chunk(chunk, begin, st, strict):
    """Process records begin.. of a chunk; returns a status, with the record index in counters."""
    orders, order_count, inst_table, inst_info = (
        st.orders,
        st.order_count,
        st.inst_table,
        st.inst_info,
    )
    levels, quotes, account = st.levels, st.quotes, st.account
    memory, fills, digest, counters, out = st.memory, st.fills, st.digest, st.counters, st.out
    # The order table is kept at most a quarter full: a slot is a whole cache line, and probe
    # runs grow fast with the load (30,000 live orders of a 10M-record file: 70 ns/event in a
    # table half full, 60 ns a quarter full).
    max_orders = orders.shape[0] // 4
    room = levels.keys.shape[1] - 1
    end = chunk.shape[0]
    for r in range(begin, end):
        if r + AHEAD < end:
            # The order table is larger than the caches: start loading the slot a record a few
            # records ahead will probe first, so that the miss overlaps the work until then.
            ahead = chunk[r + AHEAD]
            prefetch(orders, home_slot(orders, record_key(ahead), ahead.order_id))
        rec = chunk[r]
        key = record_key(rec)
        inst = instrument(inst_table, inst_info, counters, memory, key)
        action = np.int64(rec.action)
        side = np.int64(rec.side)
        counters[2] = r
        # Stop before a record that might not fit, so that no record is ever half applied.
        if inst < 0:
            return GROW_INSTRUMENTS
        if action == ADD or action == MODIFY:
            if order_count[0] + 1 > max_orders:
                return GROW_ORDERS
            if levels.count[2 * inst + side_index(side)] >= room:
                return GROW_LEVELS
        price = np.int64(rec.price)
        size = np.int64(rec.size)
        flags = np.int64(rec.flags)
        if action == FILL:
            on_fill(orders, inst_info, quotes, account, fills, digest, inst, side, price, size,
                    rec.order_id)  # fmt: skip
        if not apply_record(orders, order_count, inst_info, levels, inst, action, side, price,
                            size, rec.order_id, flags, strict):  # fmt: skip
            return UNKNOWN_ID
        counters[0] += 1
        if not flags & F_LAST:
            continue
        counters[1] += 1
        inst_info[inst, IN_SNAPSHOT] = 0
        bid, ask, bid_size, ask_size = top(levels, inst)
        mix_top(digest, key, bid, ask, bid_size, ask_size)
        # Static dispatch: each strategy is a direct call.
        ts = np.int64(rec.ts_recv)
        mm_decide(out, memory[inst, 0], ts, bid, ask, bid_size, ask_size, account[inst, 0, 0])
        carry_out(quotes, inst_info, account, fills, digest, out, 0, inst, MM_QUOTES, bid, ask,
                  bid_size, ask_size)  # fmt: skip
        taker_decide(out, memory[inst, 1], ts, bid, ask, bid_size, ask_size, account[inst, 1, 0])
        carry_out(quotes, inst_info, account, fills, digest, out, 1, inst, TAKER_QUOTES, bid, ask,
                  bid_size, ask_size)  # fmt: skip
    return DONE


def grow(st: State, status: int) -> State:
    """A copy of the state with room for more orders, levels or instruments."""
    if status == GROW_ORDERS:
        orders = new_orders(2 * st.orders.shape[0])
        st.order_count[0] = rehash(st.orders, orders, st.inst_info)
        return st._replace(orders=orders)
    if status == GROW_LEVELS:
        rows, depth = st.levels.keys.shape
        return st._replace(levels=grown_levels(st.levels, rows, 2 * depth))
    # More instruments: every per-instrument array doubles its first dimension.
    rows, depth = st.levels.keys.shape
    grown = {"levels": grown_levels(st.levels, 2 * rows, depth)}
    for name in ("inst_info", "quotes", "account", "memory"):
        old = getattr(st, name)
        grown[name] = np.zeros((2 * old.shape[0],) + old.shape[1:], np.int64)
        grown[name][: old.shape[0]] = old
    table = np.zeros(2 * st.inst_table.shape[0], np.int64)
    place_instruments(table, st.inst_info[: st.counters[3], KEY])
    return st._replace(inst_table=table, **grown)


@numba.njit(cache=True)
def place_instruments(inst_table, keys):
    """Enter the instruments keys[0..] (dense indices 0..) into an empty `inst_table`."""
    mask = inst_table.shape[0] - 1
    for index in range(keys.shape[0]):
        i = instrument_slot(inst_table, keys[index])
        while inst_table[i]:
            i = (i + 1) & mask
        inst_table[i] = index + 1


@numba.njit(cache=True, nogil=True, _nrt=False)
def run_ring(records, lengths, control, yield_cpu, begin, st, strict):
    """Process the ring's chunks as they are filled (`engines.ring`): DONE once all is read, or
    the status of the chunk the kernel stopped in (its slot stays taken, to resume at `begin`)."""
    slots = records.shape[0]
    while True:
        slot = next_filled(control, slots, yield_cpu)
        if slot < 0:
            return DONE
        status = run_chunk(records[slot, : lengths[slot]], begin, st, strict)
        if status != DONE:
            return status
        begin = 0
        release(control)


class CompiledEngine:
    """The whole backtest in numba: arrays in, arrays for state, one kernel call per chunk."""

    name = "compiled"
    compile_seconds = 0.0
    reads_ahead = True  # the harness compiles its read-ahead loop beside the kernel

    def __init__(self, instruments: int = 16, orders: int = 1 << 16, levels: int = 256) -> None:
        self.initial = (instruments, orders, levels)  # sizes to start from; arrays grow as needed
        self.kept: State | None = None  # the last run's arrays, emptied and reused by the next
        self.ring: Ring | None = None  # the chunks read ahead, for a reader that fills a ring
        warm_up()

    def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results:
        kept, self.kept = self.kept, None  # a run that fails leaves nothing half-used behind
        read_ahead = getattr(chunks, "read_ahead", None)  # harness.dbn.reader.Reader has it
        filling = read_ahead(self._ring) if read_ahead and yield_cpu else None
        if filling is not None:
            ring = self.ring
            with filling:
                st = self._first_state(kept)  # the reading thread has started: they overlap
                head = (ring.records, ring.lengths, ring.control, yield_cpu)
                st = self._until_done(run_ring, head, st, strict, ring.taken_slot)
            filling.check()
        else:
            st = self._first_state(kept)
            for chunk in read_on_thread(chunks):
                st = self._until_done(run_chunk, (chunk,), st, strict, lambda c=chunk: c)
        self.kept = st
        return self.results(st)

    def _first_state(self, kept: State | None) -> State:
        """The last run's arrays emptied, else new ones. Emptying costs a quarter of allocating
        anew: fresh pages of a 4 MB order table fault in one by one (about 1 ms a run)."""
        return empty_state(kept) if kept else new_state(*self.initial)

    def _until_done(self, kernel, head: tuple, st: State, strict: bool, stopped_in) -> State:
        """Call `kernel(*head, begin, st, strict)` until it is DONE: when it stops for room, grow
        the arrays and resume at the record it stopped at, in the chunk `stopped_in()`."""
        begin = 0
        while True:
            status = kernel(*head, begin, st, strict)  # cost: kernel
            if status == DONE:
                return st
            begin = int(st.counters[2])
            if status == UNKNOWN_ID:
                rec = stopped_in()[begin]
                raise UnknownOrder(int(rec["action"]), int(rec["order_id"]))
            st = grow(st, status)

    def _ring(self, dtype: np.dtype, records: int) -> Ring:
        """The ring to read a file ahead into: RING_SLOTS chunks of the reader's size, kept."""
        ring = self.ring
        if ring is None or ring.records.dtype != dtype or ring.records.shape[1] != records:
            self.ring = ring = Ring(RING_SLOTS, records, dtype)
        return ring

    def results(self, st: State) -> Results:
        from engines.fills import summarize

        n = int(st.counters[3])
        keys = st.inst_info[:n, KEY].tolist()
        position = {key: st.account[i, :, 0].tolist() for i, key in enumerate(keys)}
        cash = {key: st.account[i, :, 1].tolist() for i, key in enumerate(keys)}
        tops = {key: tuple(int(x) for x in top(st.levels, i)) for i, key in enumerate(keys)}
        events, event_ends = int(st.counters[0]), int(st.counters[1])
        strategies, digest = summarize(
            int(st.digest[0]), events, position, cash, tops, st.fills.tolist()
        )
        unknown = int(st.inst_info[:n, UNKNOWN].sum())
        return Results(self.name, events, event_ends, unknown, strategies, digest)


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for writable and read-only chunks."""
    if CompiledEngine.compile_seconds:
        return
    start = time.perf_counter()
    writable = np.zeros(0, MBO_DTYPE)
    readonly = np.frombuffer(b"", MBO_DTYPE)
    for chunk in (writable, readonly):
        for strict in (False, True):
            run_chunk(chunk, 0, new_state(), strict)
    if yield_cpu is not None:  # the loop over a ring, with nothing to read
        ring = Ring(1, 0, MBO_DTYPE)
        ring.control[STATE] = FINISHED
        for strict in (False, True):
            run_ring(ring.records, ring.lengths, ring.control, yield_cpu, 0, new_state(), strict)
    state = new_state(1, 2, 1)
    rehash(state.orders, new_orders(4), state.inst_info)  # the tables' growth, too
    place_instruments(state.inst_table, state.inst_info[:0, KEY])
    top(state.levels, 0)  # and the results' top of the book
    CompiledEngine.compile_seconds = time.perf_counter() - start


# The kernels inline the book, the fills, the strategies, the prefetch and the ring from other
# modules.
stamp_with_sources(
    (run_chunk, run_ring, top, place_instruments),
    (atomics, engines.prefetch, engines.ring, events, flatbook, flatfills, strategies),
)
