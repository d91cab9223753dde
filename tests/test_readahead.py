"""Reading a .dbn.zst ahead into a ring (harness.dbn.readahead, engines.ring): the reader's records
and the reader's errors, though the ring decompresses with libzstd from jitted code and the
reader with python-zstandard."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
import zstandard
from conftest import mbo_records, write_small_dbn
from test_reader import mapped_kb

from engines.book import UnknownOrder
from engines.compiled import CompiledEngine
from engines.ring import FAILED, FILLED, STATE, STOPPED, Ring, next_filled, release, yield_cpu
from harness.dbn import readahead
from harness.dbn import reader as reader_module
from harness.dbn.reader import Reader, _cores, read_records
from harness.errors import InputError

pytestmark = [
    pytest.mark.skipif(not readahead.AVAILABLE, reason="no libzstd to call from jitted code here"),
    pytest.mark.skipif(_cores() < 2, reason="reading ahead needs two cores"),
]


def many_records(n: int) -> np.ndarray:
    """n valid records of one instrument: two adds, then a cancel of the second, and again."""
    specs = []
    for i in range(n):
        j = i - 1 if i % 3 == 2 else i  # the record that added the order a cancel takes back
        specs.append(("C" if j < i else "A", "BA"[j % 2], 100 + j * 7 % 9, 1, j + 1, 0x80))
    return mbo_records(*specs)


def fill_and_read(path, slots=3, per_slot=1000, stop_after=None):
    """The chunks the ring gives, read through its protocol as an engine reads it."""
    reader = Reader(path)
    ring = Ring(slots, per_slot, reader.dtype)
    filling = reader.read_ahead(lambda dtype, records: ring)
    chunks = []
    with filling:
        while stop_after is None or len(chunks) < stop_after:
            slot = next_filled(ring.control, slots, yield_cpu)
            if slot < 0:
                break
            chunks.append(ring.records[slot, : ring.lengths[slot]].copy())
            release(ring.control)
    if stop_after is None:
        filling.check()
    return chunks, filling


def reader_error(path) -> str:
    with pytest.raises(InputError) as caught:
        list(Reader(path))
    return str(caught.value)


def frames_of(dbn: bytes, cuts: list[int]) -> bytes:
    """The bytes of a .dbn as zstd frames that end at `cuts` (anywhere, inside records too)."""
    bounds = [0, *cuts, len(dbn)]
    compressor = zstandard.ZstdCompressor(level=3)
    return b"".join(compressor.compress(dbn[a:b]) for a, b in itertools.pairwise(bounds))


@pytest.fixture
def dbn_bytes(tmp_path):
    def make(n):
        return write_small_dbn(tmp_path / f"r{n}.dbn", many_records(n)).read_bytes()

    return make


@pytest.mark.parametrize("count", [1, 999, 1000, 3000, 7777])
def test_the_ring_holds_the_readers_records(tmp_path, count):
    path = write_small_dbn(tmp_path / "r.dbn.zst", many_records(count))
    chunks, _ = fill_and_read(path)
    assert [len(c) for c in chunks[:-1]] == [1000] * (len(chunks) - 1)
    assert np.concatenate(chunks).tobytes() == read_records(path).tobytes()


def test_frames_that_end_inside_records(tmp_path, dbn_bytes):
    dbn = dbn_bytes(5000)
    path = tmp_path / "frames.dbn.zst"
    path.write_bytes(frames_of(dbn, [300, 57_001, 120_000, 120_001]))
    chunks, _ = fill_and_read(path, slots=2, per_slot=700)
    assert np.concatenate(chunks).tobytes() == read_records(path).tobytes()
    assert len(np.concatenate(chunks)) == 5000


def test_the_real_session(cme_session):
    chunks, _ = fill_and_read(cme_session, slots=8, per_slot=4096)
    assert np.concatenate(chunks).tobytes() == read_records(cme_session).tobytes()


def corrupt_files(tmp_path, dbn: bytes) -> dict:
    records_at = len(dbn) - 5000 * 56
    bad = bytearray(dbn)
    bad[records_at + 2500 * 56 + 38] = ord("X")  # the action of record 2500
    files = {
        "bad record": frames_of(bytes(bad), []),
        "trailing bytes": frames_of(dbn[:-17], []),
        "ends inside a frame": frames_of(dbn, [])[:-9],
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name.replace(' ', '-')}.dbn.zst"
        paths[name].write_bytes(content)
    # Some bytes overwritten inside a block, where libzstd finds them out (most such changes only
    # change some records, which are then valid or not).
    data = frames_of(dbn, [])
    paths["corrupt block"] = tmp_path / "corrupt-block.dbn.zst"
    for at in range(len(data) // 3, len(data) - 100, 97):
        paths["corrupt block"].write_bytes(data[:at] + b"\xff" * 4 + data[at + 4 :])
        if "corrupt zstd data (" in reader_error(paths["corrupt block"]):
            break
    return paths


@pytest.mark.parametrize("name", ["bad record", "trailing bytes", "corrupt block"])
def test_errors_are_the_readers(tmp_path, dbn_bytes, name):
    # The reader decompresses with python-zstandard, the ring with libzstd: the same words.
    path = corrupt_files(tmp_path, dbn_bytes(5000))[name]
    expected = reader_error(path)
    with pytest.raises(InputError) as caught:
        fill_and_read(path)
    assert str(caught.value) == expected
    says = {"bad record": f"{path}: record 2500: unknown action 'X'",
            "trailing bytes": f"{path}: truncated: 39 trailing bytes after record 4998",
            "corrupt block": f"{path}: corrupt zstd data (zstd decompress error: "}  # fmt: skip
    assert expected.startswith(says[name])


def test_a_cut_inside_a_frame_is_reported_when_the_file_is_opened(tmp_path, dbn_bytes):
    path = corrupt_files(tmp_path, dbn_bytes(5000))["ends inside a frame"]
    with pytest.raises(InputError, match="truncated"):
        Reader(path)


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's /proc/self/smaps")
def test_pages_read_are_given_back(tmp_path, monkeypatch):
    # As the reader does (test_reader.py): near the end of a file, its map holds little more
    # than the last RELEASE_BYTES of it, where without the release it holds all it has read.
    rng = np.random.default_rng(1)
    records = many_records(240_000)
    for name in ("price", "ts_recv", "ts_event"):
        records[name] = rng.integers(0, 1 << 62, len(records))
    path = write_small_dbn(tmp_path / "big.dbn.zst", records)
    assert path.stat().st_size > 6 << 20
    late = {}
    for every in (64 << 10, 1 << 40):
        monkeypatch.setattr(reader_module, "RELEASE_BYTES", every)
        reader = Reader(path)
        ring = Ring(2, 1024, reader.dtype)
        read = []
        with reader.read_ahead(lambda dtype, records, ring=ring: ring) as filling:
            while (slot := next_filled(ring.control, 2, yield_cpu)) >= 0:
                read.append(ring.records[slot, : ring.lengths[slot]].copy())
                if len(read) == len(records) // 1024 - 5:
                    late[every] = mapped_kb(path)
                release(ring.control)
        filling.check()
        assert np.concatenate(read).tobytes() == records.tobytes()
    assert late[1 << 40] > path.stat().st_size // 2048 and late[64 << 10] < late[1 << 40] // 3


def test_a_filler_that_raises_ends_the_ring(tmp_path, monkeypatch):
    # The ring's reader must not wait for ever on a thread that died: the ring is marked as
    # ended, and `check` raises what the thread raised.
    def broken(*args):
        raise RuntimeError("no kernel today")

    monkeypatch.setattr(readahead, "_fill", broken)
    reader = Reader(write_small_dbn(tmp_path / "r.dbn.zst", many_records(3000)))
    ring = Ring(2, 1000, reader.dtype)
    with reader.read_ahead(lambda dtype, records: ring) as filling:
        filling.thread.join(timeout=30)
        assert ring.control[STATE] == FAILED
        assert next_filled(ring.control, 2, yield_cpu) == -1
    with pytest.raises(RuntimeError, match="no kernel today"):
        filling.check()


def test_a_stop_ends_the_filler_and_its_reader(tmp_path):
    # The filler waits for a free slot; asked to stop, it ends (within the time limit) as
    # STOPPED, which ends the ring's reader too, and `check` says the reading was cut short.
    reader = Reader(write_small_dbn(tmp_path / "r.dbn.zst", many_records(20_000)))
    ring = Ring(2, 500, reader.dtype)
    filling = reader.read_ahead(lambda dtype, records: ring).__enter__()
    assert next_filled(ring.control, 2, yield_cpu) == 0
    deadline = time.monotonic() + 30
    while ring.control[FILLED] < 2 and time.monotonic() < deadline:  # both slots full: it waits
        time.sleep(0.001)
    ring.stop()
    filling.thread.join(timeout=30)
    alive = filling.thread.is_alive()
    filling.__exit__(None, None, None)
    assert not alive and ring.control[STATE] == STOPPED
    assert next_filled(ring.control, 2, yield_cpu) == 0  # the slot it holds, once more
    release(ring.control)
    assert next_filled(ring.control, 2, yield_cpu) == 1  # the other, filled before the stop
    release(ring.control)
    assert next_filled(ring.control, 2, yield_cpu) == -1
    with pytest.raises(RuntimeError, match="stopped before the end"):
        filling.check()


def test_compiled_through_the_ring(synthetic_zst, cme_session):
    # Small arrays, so that the kernel stops inside a slot to grow them, and resumes there.
    for path in (synthetic_zst, cme_session):
        expected = CompiledEngine().run(Reader(path).chunks())
        small = CompiledEngine(instruments=1, orders=4, levels=2)
        assert small.run(Reader(path)) == expected
        assert small.run(Reader(path)) == expected  # the ring is reused
        assert small.ring is not None


def test_compiled_reads_a_dbn_without_a_ring(tmp_path):
    records = many_records(3000)
    zst, dbn = (
        write_small_dbn(tmp_path / f"r{suffix}", records) for suffix in (".dbn.zst", ".dbn")
    )
    engine = CompiledEngine()
    assert engine.run(Reader(dbn)) == engine.run(Reader(zst))
    assert engine.ring.records.shape[1] == Reader(zst).chunk_records
    fresh = CompiledEngine()
    assert fresh.run(Reader(dbn)).events == 3000 and fresh.ring is None  # a .dbn needs no ring


def test_compiled_unknown_id_through_the_ring(tmp_path):
    records = many_records(3000)
    records[2100]["action"], records[2100]["order_id"] = ord("C"), 10**9
    path = write_small_dbn(tmp_path / "gap.dbn.zst", records)
    engine = CompiledEngine()
    assert engine.run(Reader(path)).unknown_orders == 1
    with pytest.raises(UnknownOrder, match=str(10**9)):
        engine.run(Reader(path), strict=True)


@pytest.fixture(scope="module")
def synthetic_zst(tmp_path_factory):
    from harness.datasets.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("synth") / "small.dbn.zst", 40_000, seed=3)


def outcome(run) -> str:
    """What a way of reading a file ends with: its error's words, or its result."""
    try:
        return repr(run())
    except InputError as exc:
        return f"error: {exc}"


def test_corrupt_frames_get_one_verdict_both_ways(tmp_path, synthetic_zst):
    # A fuzzer's find: 4 compressed bytes flipped were "corrupt zstd data" through the reader
    # and "unknown action" through the read-ahead, whose libzstd was another version.
    data = bytearray(synthetic_zst.read_bytes())
    verdicts = set()
    # Where the two libraries disagreed on this file (found by flipping every 37th position).
    disagreed = [51_900, 187_875, 232_164]
    for at in [*disagreed, *range(200, len(data) - 8, len(data) // 23)]:
        bad = tmp_path / f"flip{at}.dbn.zst"
        flipped = data.copy()
        flipped[at : at + 4] = bytes(b ^ 0xFF for b in flipped[at : at + 4])
        bad.write_bytes(flipped)
        read = outcome(lambda bad=bad: len(read_records(bad)))
        ring = outcome(lambda bad=bad: CompiledEngine().run(Reader(bad)).events)
        assert read.startswith("error") == ring.startswith("error")
        if read.startswith("error"):
            assert read == ring, at
        verdicts.add(read.split(":")[0])
    assert "error" in verdicts
