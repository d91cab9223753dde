"""The reader against Databento's own decoder, on every real MBO file, and on files we write."""

from __future__ import annotations

from pathlib import Path

import databento_dbn
import numpy as np
import pytest
from conftest import SHARED, mbo_records, shared_file, write_small_dbn

from engines.events import MBO_DTYPE
from harness.dbn import reader
from harness.dbn.reader import Reader, read_records
from harness.errors import InputError

MBO_FILES = [
    "esh4-glbx-mdp3-20231225.mbo.dbn.zst",
    "esh4-glbx-mdp3-20231224.mbo.dbn.zst",
    "test_data.mbo.dbn",
    "test_data.mbo.v1.dbn.zst",
    "test_data.mbo.v2.dbn.zst",
    "test_data.mbo.v3.dbn",
    "test_data.mbo.v3.dbn.zst",
    "GLBX.MDP3.test_data.mbo.dbn.zst",
    "IFEU.IMPACT.test_data.mbo.dbn.zst",
    "NDEX.IMPACT.test_data.mbo.dbn.zst",
    "XNAS.ITCH.test_data.mbo.dbn.zst",
]
FIELDS = [name for name in MBO_DTYPE.names if name != "length"]


def decode_with_databento(path) -> list:
    compression = databento_dbn.Compression.ZSTD if path.suffix == ".zst" else None
    decoder = databento_dbn.DBNDecoder(
        **({"compression": compression} if compression else {}),
        upgrade_policy=databento_dbn.VersionUpgradePolicy.AS_IS,
    )
    decoder.write(path.read_bytes())
    return [r for r in decoder.decode() if isinstance(r, databento_dbn.MBOMsg)]


def test_dtype_is_databento_layout():
    theirs = np.dtype(databento_dbn.MBOMsg._dtypes)
    assert MBO_DTYPE.itemsize == theirs.itemsize == 56
    assert MBO_DTYPE.names == theirs.names
    for name in MBO_DTYPE.names:
        assert MBO_DTYPE.fields[name][1] == theirs.fields[name][1], name  # same offset
        assert MBO_DTYPE.fields[name][0].itemsize == theirs.fields[name][0].itemsize, name


@pytest.mark.parametrize("name", MBO_FILES)
def test_every_field_of_every_record_matches_databento(name):
    path = shared_file("dbn", name)
    ours = read_records(path)
    theirs = decode_with_databento(path)
    assert len(ours) == len(theirs) > 0
    for rec, msg in zip(ours, theirs, strict=True):
        assert rec.tobytes() == bytes(msg)[:56]
        for field in FIELDS:
            assert int(rec[field]) == int(getattr(msg, field)), field


def test_versions_decode_alike():
    v1 = read_records(shared_file("dbn", "test_data.mbo.v1.dbn.zst"))
    for name in ("test_data.mbo.v2.dbn.zst", "test_data.mbo.v3.dbn", "test_data.mbo.v3.dbn.zst"):
        assert read_records(SHARED / "dbn" / name).tobytes() == v1.tobytes()


def test_metadata_and_versions(cme_session):
    reader = Reader(cme_session)
    assert reader.version == 1 and reader.compressed and reader.record_count is None
    assert str(reader.metadata.schema) == "mbo"
    assert Reader(shared_file("dbn", "test_data.mbo.v3.dbn")).record_count == 2


@pytest.mark.parametrize("chunk", [1, 7, 1000, 65536])
def test_chunking_does_not_change_records(cme_session, chunk):
    whole = read_records(cme_session)
    chunks = list(Reader(cme_session, chunk_records=chunk))
    assert all(len(c) <= chunk for c in chunks)
    assert np.concatenate(chunks).tobytes() == whole.tobytes()


@pytest.mark.parametrize("suffix,chunk", [(".dbn", 131_072), (".dbn.zst", 4_096)])
def test_chunk_size_by_format(tmp_path, suffix, chunk):
    records = mbo_records(*[("A", "B", 100 + i, 5, i, 0x82) for i in range(2 * chunk)])
    path = write_small_dbn(tmp_path / f"many{suffix}", records)
    lengths = [len(c) for c in Reader(path)]
    ramp = [4096 << i for i in range(chunk.bit_length() - (4096).bit_length())]
    assert lengths[: len(ramp)] == ramp  # short first chunks, so that an engine starts soon
    assert lengths[len(ramp)] == chunk and sum(lengths) == 2 * chunk
    with pytest.raises(InputError, match="chunk_records must be 0"):
        Reader(path, chunk_records=-1)


@pytest.mark.parametrize("suffix", [".dbn", ".dbn.zst"])
def test_written_files_read_back(tmp_path, suffix):
    records = mbo_records(("A", "B", 100, 5, 1, 0x82), ("C", "B", 100, 5, 1, 0x82))
    path = write_small_dbn(tmp_path / f"small{suffix}", records)
    assert read_records(path).tobytes() == records.tobytes()
    assert len(decode_with_databento(path)) == 2
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed away


def mapped_kb(path) -> int:
    """Resident KB of this process's maps of `path` (Linux's /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if line.endswith(str(path)):
            inside = True
        elif line.startswith("Rss:"):
            total += int(line.split()[1]) if inside else 0
            inside = False
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's /proc/self/smaps")
@pytest.mark.parametrize("suffix", [".dbn", ".dbn.zst"])
def test_pages_read_are_given_back(tmp_path, monkeypatch, suffix):
    # Random fields, so that the .zst is several MB too. Near the end of a file, its map holds
    # little more than the last RELEASE_BYTES of it (a 2 MB page of the page cache, at least),
    # where without the release it holds all it has read; the records are the same either way.
    rng = np.random.default_rng(1)
    records = np.zeros(240_000, MBO_DTYPE)
    records["length"], records["rtype"], records["action"], records["side"] = 14, 0xA0, 65, 66
    for name in ("order_id", "price", "ts_recv", "ts_event"):
        records[name] = rng.integers(0, 1 << 62, len(records))
    path = write_small_dbn(tmp_path / f"big{suffix}", records)
    assert path.stat().st_size > 6 << 20
    late = {}  # resident KB of the map near the end of the file
    for release in (64 << 10, 1 << 40):
        monkeypatch.setattr(reader, "RELEASE_BYTES", release)
        read = []
        for chunk in Reader(path, chunk_records=1024):
            read.append(chunk.copy())
            if len(read) == len(records) // 1024 - 5:
                late[release] = mapped_kb(path)
        assert np.concatenate(read).tobytes() == records.tobytes()
    assert late[1 << 40] > path.stat().st_size // 2048 and late[64 << 10] < late[1 << 40] // 3


@pytest.mark.parametrize("source", [".dbn", ".dbn.zst"])
@pytest.mark.parametrize("suffix", [".dbn", ".dbn.zst"])
def test_a_head_is_the_first_records_and_the_metadata_as_they_were(tmp_path, source, suffix):
    from harness.dbn.writer import write_head

    records = mbo_records(*[("A", "B", 100 + i, 5, i + 1, 0x82) for i in range(50)])
    path = write_small_dbn(tmp_path / f"whole{source}", records)
    head = write_head(path, 20, tmp_path / f"head{suffix}")
    assert read_records(head).tobytes() == records[:20].tobytes()
    assert Reader(head).metadata == Reader(path).metadata
    assert len(decode_with_databento(head)) == 20
    assert read_records(write_head(path, 99, tmp_path / f"all{suffix}")).tobytes() == (
        records.tobytes()
    )  # asked for more than it has: all of it
