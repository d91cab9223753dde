"""Every engine computes the baseline's results exactly, on real, generated and random input."""

from __future__ import annotations

import heapq
import itertools
import random

import pytest
from conftest import mbo_records, shared_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streams import EXTREMES, OPS, build_stream, op_lists

from engines import ENGINES, load_engine
from engines.book import Book, UnknownOrder
from engines.compiled import CompiledEngine
from engines.events import ADD, F_LAST, rows
from engines.switches import SwitchEngine
from harness.dbn.reader import read_records

NAMES = list(ENGINES)


def run(engine, records, chunk=4096, strict=False):
    return engine.run([records[i : i + chunk] for i in range(0, len(records), chunk)], strict)


def assert_all_agree(records, chunk=4096):
    reference = run(load_engine("baseline"), records, chunk)
    for name in NAMES[1:]:
        result = run(load_engine(name), records, chunk)
        assert result.digest == reference.digest, name
        assert result.events == reference.events == len(records)
        assert result.event_ends == reference.event_ends
        assert result.unknown_orders == reference.unknown_orders
        assert result.strategies == reference.strategies, name
    return reference


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from harness.datasets.synth import synthesize

    path = synthesize(tmp_path_factory.mktemp("synth") / "small.dbn.zst", 40_000, seed=3)
    return read_records(path)


def test_cme_session(cme_session):
    result = assert_all_agree(read_records(cme_session))
    assert result.fills > 100 and result.unknown_orders == 0


def test_cme_session_from_after_its_snapshot(cme_session):
    result = assert_all_agree(read_records(cme_session)[8_725:])
    assert result.unknown_orders == 854 + 427


def test_synthetic(synthetic):
    result = assert_all_agree(synthetic, chunk=999)
    assert result.fills > 100 and all(s.fills for s in result.strategies)


@pytest.mark.parametrize("name", ["AAPL_2012-06-21_34200000_57600000_message_10.csv",
                                  "AMZN_2012-06-21_34200000_57600000_message_1.csv"])  # fmt: skip
def test_lobster_imports(tmp_path, name):
    from harness.datasets.lobster import import_lobster

    message = shared_file("lobster", name)
    book = message.with_name(name.replace("message", "orderbook"))
    path, _ = import_lobster(message, book, tmp_path / "l.dbn")
    assert_all_agree(read_records(path))


def test_chunking_does_not_change_results(synthetic):
    digests = {run(load_engine(name), synthetic, chunk).digest
               for name in ("lockless", "compiled") for chunk in (1, 313, 65536)}  # fmt: skip
    assert len(digests) == 1


def test_digest_sees_the_book_and_the_fills(synthetic):
    base = run(load_engine("lockless"), synthetic).digest
    # An add that joins the touch at an event end: its size shows in the digested top.
    book = Book()
    at_touch = []
    for i, (_, _, action, side, price, size, oid, flags) in enumerate(rows(synthetic)):
        book.apply(action, side, price, size, oid, flags)
        if action == ADD and flags & F_LAST and price in book.top()[:2] and i > 20_000:
            at_touch.append(i)
    changed = synthetic.copy()
    changed["size"][at_touch[0]] += 1
    assert run(load_engine("lockless"), changed).digest != base
    assert run(load_engine("compiled"), changed).digest != base


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    op_lists(max_size=300),
    st.integers(1, 3),
    st.sampled_from(list(EXTREMES)),
)  # fmt: skip
def test_random_streams_agree(ops, instruments, extreme):
    assert_all_agree(build_stream(ops, instruments, extreme), chunk=37)


def test_compiled_grows_every_array(synthetic):
    small = CompiledEngine(instruments=1, orders=4, levels=2)
    assert run(small, synthetic).digest == run(load_engine("lockless"), synthetic).digest


def test_compiled_frees_the_levels_it_drops():
    # Levels live in a pool; a level that empties or is cleared must give its slot back, or the
    # pool would run past its end (a bounds error under NUMBA_BOUNDSCHECK=1, CI's second pass).
    cycle = []
    for n in range(40):
        ids = range(10 * n, 10 * n + 6)
        cycle += [("A", "BBBAAA"[i], (100, 99, 98, 101, 102, 103)[i], 1, oid, 0x80)
                  for i, oid in enumerate(ids)]  # fmt: skip
        cycle += [("C", "B", 99, 1, 10 * n + 1, 0x80)]  # a level that empties
        cycle += [("R", "N", 0, 0, 0, 0x80)]  # and a clear of the rest
    records = mbo_records(*cycle)
    engine = CompiledEngine(instruments=1, levels=4)
    result, reference = run(engine, records), run(load_engine("baseline"), records)
    assert (result.digest, result.strategies) == (reference.digest, reference.strategies)
    levels = engine.kept.levels
    assert levels.used[1] <= 6 and levels.keys.shape[1] <= 8  # never more than 6 live at once


def test_compiled_reuses_its_arrays_from_empty(synthetic, cme_session):
    # Each run starts from empty arrays, whatever the run before it left in them (grown, a
    # failed run, another file).
    engine = CompiledEngine(instruments=1, orders=4, levels=2)
    cme = read_records(cme_session)
    first, other = run(engine, synthetic), run(engine, cme)
    with pytest.raises(UnknownOrder):
        run(engine, mbo_records(("C", "B", 100, 5, 42, 0x82)), strict=True)
    assert run(engine, synthetic) == first and run(engine, cme) == other
    assert run(CompiledEngine(), cme) == other


@pytest.mark.parametrize("name", NAMES)
def test_strict_raises_on_unknown_ids(name):
    records = mbo_records(("A", "B", 100, 5, 1, 0x82), ("C", "B", 100, 5, 42, 0x82))
    assert run(load_engine(name), records).unknown_orders == 1
    with pytest.raises(UnknownOrder, match="42"):
        run(load_engine(name), records, strict=True)


# -- the switches: an off switch leaves no trace ------------------------------------------------


class Counter:
    def __init__(self):
        self.counts = {}

    def wrap(self, name, func):
        def counted(*args, **kwargs):
            self.counts[name] = self.counts.get(name, 0) + 1
            return func(*args, **kwargs)

        return counted


def forbidden(*args, **kwargs):
    raise AssertionError("a switched-off cost was reached")


@pytest.mark.parametrize("queue,lock,allocation,dispatch",
                         list(itertools.product([True, False], ["event", "off"], [True, False],
                                                [True, False])))  # fmt: skip
def test_off_switches_leave_no_trace(synthetic, queue, lock, allocation, dispatch):
    from engines.baseline import MarketEvent, ReadWriteLock

    counter = Counter()
    locks = []

    class CountingLock(ReadWriteLock):
        def __init__(self):
            super().__init__()
            locks.append(self)
            self.acquired = 0

        def acquire_read(self):
            self.acquired += 1
            super().acquire_read()

        def acquire_write(self):
            self.acquired += 1
            super().acquire_write()

    hooks = {
        "heappush": counter.wrap("push", heapq.heappush) if queue else forbidden,
        "heappop": counter.wrap("pop", heapq.heappop) if queue else forbidden,
        "MarketEvent": counter.wrap("event", MarketEvent) if allocation else forbidden,
        "ReadWriteLock": CountingLock if lock != "off" else forbidden,
    }
    engine = SwitchEngine(queue, lock, allocation, dispatch, hooks=hooks)
    records = synthetic[:5000]
    result = run(engine, records)
    assert result.digest == run(load_engine("baseline"), records).digest
    n = len(records)
    assert counter.counts.get("push", 0) == counter.counts.get("pop", 0) == (n if queue else 0)
    assert counter.counts.get("event", 0) == (n if allocation else 0)
    assert sum(lk.acquired for lk in locks) >= (2 * n if lock == "event" else 0)
    assert len(locks) == (lock != "off")
    source = engine.source
    assert ("heappush" in source) == queue and ("lock" in source) == (lock != "off")
    assert ("MarketEvent" in source) == allocation and ("getattr" in source) == dispatch


@pytest.mark.parametrize("extreme", [e for e in EXTREMES if e != "ordinary"])
def test_extreme_values_agree(extreme):
    # Streams at the ends of what the reader accepts, with enough fills that cash passes 2**63
    # at the top and bottom prices: every engine computes the same figures.
    rng = random.Random(extreme)
    fills = 0
    for _ in range(40):
        ops = [(rng.randrange(len(OPS)), rng.randrange(4), rng.randrange(2), rng.randrange(21),
                rng.randrange(21)) for _ in range(200)]  # fmt: skip
        fills += assert_all_agree(build_stream(ops, 2, extreme), chunk=53).fills
    assert fills >= 40
