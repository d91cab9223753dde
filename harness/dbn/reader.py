"""Reading Databento DBN MBO files (`.dbn`, `.dbn.zst`; DBN versions 1, 2 and 3) as numpy chunks.

The metadata is decoded by databento_dbn and checked (schema MBO, a known version). Records are
then handed out as chunks of `engines.events.MBO_DTYPE`:

- `.dbn`: zero-copy views over a memory map of the file (the kernel pages it in as we go);
- `.dbn.zst`: decompressed as a stream, frame after frame, straight into each chunk, never the
  whole file in memory. The frames' layout is checked when the file is opened, so that a file
  that ends inside a frame is reported as truncated before any record is read (a stream reader
  would return a short read there without a word). The decompressor is the system's libzstd,
  the one the read-ahead thread calls (`harness.dbn.libzstd`), so that both report a corrupt
  file in the same words; python-zstandard's copy where the system has none.

Either way the file is read through a memory map, and the pages already read are given back
every `RELEASE_BYTES` (`madvise(MADV_DONTNEED)`: they stay in the page cache, and a page touched
again is read back from it), so that resident memory does not grow with the size of the file.

Every chunk is validated before an engine sees it (`harness.dbn.validation`); a bad record raises
`InputError` naming the file and the record's index (from 0).
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from engines.events import MBO_DTYPE, MBO_TS_OUT_DTYPE, RECORD_WORDS
from engines.readthread import READ_AHEAD
from harness.errors import InputError

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "reading"}


# Records per chunk. 0 (the default) picks one by format: a decompressed chunk is a fresh buffer,
# and 4,096 records (229 KB) stay in the core's cache from decompression to their reader (the
# reading ceiling of the default `.dbn.zst` measured 17.8M records/s at 4,096, 17.6M at 8,192
# and 17.3M at 16,384), and a short last chunk leaves an engine reading ahead little to do once
# reading is over; a chunk of a mapped `.dbn` is only a view, and larger ones mean fewer
# hand-overs between the reading thread and the engine.
DEFAULT_CHUNK_RECORDS = 0
COMPRESSED_CHUNK_RECORDS = 4_096
MAPPED_CHUNK_RECORDS = 131_072
FIRST_CHUNK_RECORDS = 4_096
RELEASE_BYTES = 32 << 20
_PAGE = mmap.PAGESIZE
_PRELUDE = struct.Struct("<3sBI")  # b"DBN", version, metadata length
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_BLOCK = 1 << 17  # compressed bytes fed to zstd per call


class Reader:
    """An opened DBN MBO file: its metadata, and its records as validated chunks."""

    def __init__(self, path: str | Path, chunk_records: int = DEFAULT_CHUNK_RECORDS) -> None:
        self.path = Path(path)
        if chunk_records < 0:
            raise InputError(f"chunk_records must be 0 (by format) or more, not {chunk_records}")
        if not self.path.is_file():
            raise InputError(f"{self.path}: {_not_a_file(self.path)}")
        with self.path.open("rb") as f:
            self.compressed = f.read(4) == _ZSTD_MAGIC
        by_format = COMPRESSED_CHUNK_RECORDS if self.compressed else MAPPED_CHUNK_RECORDS
        self.chunk_records = chunk_records or by_format
        self.file_bytes = self.path.stat().st_size
        stream = self._open_stream()
        try:
            self._read_metadata(stream)
        except BaseException:
            stream.close()
            raise
        # A .dbn.zst's stream, its map walked and paged in, is now at the first record: the first
        # `chunks()` reads on from there, instead of mapping the file and decompressing the
        # metadata again.
        self._first_stream: _ZstdStream | None = stream if self.compressed else None
        if not self.compressed:
            stream.close()
        self.ts_out = bool(self.metadata.ts_out)
        self.dtype = MBO_TS_OUT_DTYPE if self.ts_out else MBO_DTYPE
        self.words = RECORD_WORDS + (2 if self.ts_out else 0)  # a record's length, as DBN has it
        self.release_bytes = RELEASE_BYTES
        self.record_count: int | None = None
        if not self.compressed:
            data_bytes = self.file_bytes - self.data_offset
            if data_bytes % self.dtype.itemsize:
                raise self.trailing(
                    data_bytes % self.dtype.itemsize, data_bytes // self.dtype.itemsize
                )
            self.record_count = data_bytes // self.dtype.itemsize

    def _read_metadata(self, stream) -> None:
        """Read and check the prelude and the metadata: the file is DBN, a known version, MBO."""
        if self.compressed:
            stream.check_frames()
        head = _read_exact(stream, _PRELUDE.size)
        magic, version, metadata_len = (
            _PRELUDE.unpack(head) if len(head) == _PRELUDE.size else (b"", 0, 0)
        )
        if magic != b"DBN":
            raise InputError(f"{self.path}: not a DBN file (no DBN prelude)")
        if version not in (1, 2, 3):
            raise InputError(f"{self.path}: DBN version {version} is not supported (1, 2, 3)")
        body = _read_exact(stream, metadata_len)
        if len(body) != metadata_len:
            raise InputError(f"{self.path}: truncated inside the DBN metadata")
        self.version = version
        self.data_offset = _PRELUDE.size + metadata_len
        self.metadata = _decode_metadata(self.path, head + body)
        schema = self.metadata.schema
        if schema is None or str(schema) != "mbo":
            raise InputError(f"{self.path}: schema is {schema or 'mixed'}, expected mbo")

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.chunks()

    def chunks(self) -> Iterator[np.ndarray]:
        """Validated chunks of `self.dtype`, at most `chunk_records` long.

        The first chunks are shorter (`FIRST_CHUNK_RECORDS`, doubling up to `chunk_records`), so
        that an engine reading ahead on a thread waits as little as possible for its first one.
        """
        source = self._mapped_chunks() if not self.compressed else self._streamed_chunks()
        done = 0
        from harness.dbn.validation import validate  # imports numba: not before a chunk is read

        for chunk in source:
            validate(self.path, chunk, done, self.words)
            done += len(chunk)
            yield chunk

    def trailing(self, trailing_bytes: int, records: int) -> InputError:
        """The error for a file that ends `trailing_bytes` into the record after `records`."""
        return InputError(
            f"{self.path}: truncated: {trailing_bytes} trailing bytes after record {records - 1}"
        )

    def read_ahead(self, ring_for: Callable):
        """A context that fills a ring (`engines.ring.Ring`) with this file's validated records
        on a native thread (`harness.dbn.readahead`), or None where that cannot be done: a `.dbn`,
        a machine with one core, no libzstd to call from jitted code, or MBOBENCH_READ_AHEAD=0.
        `ring_for(dtype, records)` gives the ring, of `self.dtype` with `self.chunk_records` per
        slot."""
        from harness.dbn import readahead

        if not (readahead.AVAILABLE and self.compressed and READ_AHEAD) or _cores() < 2:
            return None
        ring = ring_for(self.dtype, self.chunk_records)
        if self._first_stream is not None:  # the ring reads the file its own way
            self._first_stream.close()
            self._first_stream = None
        return readahead.ReadAhead(self, ring)

    def _mapped_chunks(self) -> Iterator[np.ndarray]:
        if not self.record_count:
            return
        with self.path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        # The views keep the map alive for as long as a consumer holds a chunk.
        records = np.frombuffer(mapped, self.dtype, self.record_count, self.data_offset)
        released = _Released(mapped)
        start = 0
        for length in self._lengths():
            if start >= self.record_count:
                return
            yield records[start : start + length]
            start += length
            # A consumer reading ahead on a thread may still be a few chunks behind: keep the
            # last RELEASE_BYTES mapped.
            released.upto(self.data_offset + start * self.dtype.itemsize - RELEASE_BYTES)

    def _streamed_chunks(self) -> Iterator[np.ndarray]:
        size = self.dtype.itemsize
        stream, self._first_stream = self._first_stream, None
        if stream is None:
            stream = self._open_stream()
            _read_exact(stream, self.data_offset)
        with stream:
            index = 0
            for length in self._lengths():
                want = size * length
                # A fresh buffer per chunk: a consumer may keep the chunks it was given.
                chunk = np.empty(length, self.dtype)
                got = stream.readinto(memoryview(chunk.view(np.uint8)))
                whole = got // size
                if whole:
                    yield chunk[:whole]
                    index += whole
                if got < want:
                    if got % size:
                        raise self.trailing(got % size, index)
                    return

    def _lengths(self) -> Iterator[int]:
        length = min(FIRST_CHUNK_RECORDS, self.chunk_records)
        while True:
            yield length
            length = min(2 * length, self.chunk_records)

    def _open_stream(self):
        return _ZstdStream(self.path) if self.compressed else self.path.open("rb")


def _not_a_file(path: Path) -> str:
    """Why a path that is not a regular file cannot be read as one."""
    if path.is_dir():
        return "is a directory, not a DBN file"
    if path.exists():
        return "is not a regular file (a device, a pipe or a socket), not a DBN file"
    return "no such file"


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def read_records(path: str | Path) -> np.ndarray:
    """The whole file as one array (for tests and small files; engines take chunks)."""
    chunks = list(Reader(path))
    return np.concatenate(chunks) if chunks else np.empty(0, MBO_DTYPE)


def _read_exact(stream, n: int) -> bytes:
    """Up to n bytes: fewer only at the end of the stream."""
    parts = []
    while n > 0:
        part = stream.read(n)
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _decode_metadata(path: Path, header: bytes):
    import databento_dbn

    try:
        return databento_dbn.Metadata.decode(header)
    except databento_dbn.DBNError as exc:
        raise InputError(f"{path}: corrupt DBN metadata ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class _ZstdStream:
    """A zstd file read as one stream across its frames, decompressed straight into the caller's
    buffers from a memory map of the file (no copy of the compressed or the decompressed bytes).
    """

    def __init__(self, path: Path) -> None:
        import zstandard

        from harness.dbn import libzstd

        self.path = path
        self._error = zstandard.ZstdError
        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._view = memoryview(self._map)
        # The same libzstd as the read-ahead thread's where there is one, so that a corrupt
        # frame gets one verdict whichever way the file is read (libzstd versions differ in
        # what they detect); python-zstandard's own copy otherwise.
        self._native = libzstd.Stream(path, RELEASE_BYTES) if libzstd.AVAILABLE else None
        self._stream = None
        if self._native is None:
            self._stream = zstandard.ZstdDecompressor().stream_reader(
                _Compressed(self._map, self._view), read_size=_ZSTD_BLOCK, read_across_frames=True
            )

    def check_frames(self) -> None:
        """Raise `InputError` unless the file is whole zstd frames (see harness.dbn.zstdframes)."""
        from harness.dbn.zstdframes import FrameError, check_frames

        try:
            check_frames(_Walked(self._map, self._view))
        except FrameError as exc:
            kind = "truncated" if exc.truncated else "corrupt zstd data"
            raise InputError(f"{self.path}: {kind}: {exc}") from None

    def read(self, n: int) -> bytes:
        buffer = bytearray(n)
        return bytes(buffer[: self.readinto(memoryview(buffer))])

    def readinto(self, buffer: memoryview) -> int:
        """Fill `buffer`; fewer bytes only at the end of the stream."""
        if self._native is not None:
            from harness.dbn.libzstd import decompress_into, release_read

            got = decompress_into(*self._native.args, np.frombuffer(buffer, np.uint8))
            if got < 0:
                raise self._native.corrupt(self.path)
            release_read(*self._native.release_args, self._native.state)
            return int(got)
        filled = 0
        try:
            while filled < len(buffer):
                got = self._stream.readinto(buffer[filled:])
                if not got:
                    break
                filled += got
        except self._error as exc:
            raise InputError(f"{self.path}: corrupt zstd data ({_first_line(exc)})") from None
        return filled

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
        else:
            self._stream.close()
            self._stream = None  # it holds the view until it is freed
        self._view.release()
        self._map.close()

    def __enter__(self) -> _ZstdStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Compressed:
    """A memory-mapped zstd file as zstandard's stream reader reads it: views of the map, no copy
    (a `read` may return any buffer), with the pages it is done with given back as it goes."""

    def __init__(self, mapped: mmap.mmap, view: memoryview) -> None:
        self.view = view
        self.pos = 0
        self.released = _Released(mapped)

    def read(self, n: int) -> memoryview:
        # zstandard asks for more input once it has used all of the last read's.
        self.released.upto(self.pos)
        part = self.view[self.pos : self.pos + n]
        self.pos += len(part)
        return part


class _Walked:
    """A memory-mapped zstd file as `check_frames` walks it: the walk touches a page of every
    block, and the pages behind it are given back as it goes."""

    def __init__(self, mapped: mmap.mmap, view: memoryview) -> None:
        self.view = view
        self.released = _Released(mapped)

    def __len__(self) -> int:
        return len(self.view)

    def __getitem__(self, index: int | slice):
        self.released.upto(index.start if isinstance(index, slice) else index)
        return self.view[index]


class _Released:
    """Gives a map's pages back up to a point, RELEASE_BYTES at a time (a no-op without madvise)."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self.mapped = mapped
        self.done = 0
        self.enabled = hasattr(mapped, "madvise") and hasattr(mmap, "MADV_DONTNEED")

    def upto(self, offset: int) -> None:
        end = offset // _PAGE * _PAGE
        if self.enabled and end - self.done >= RELEASE_BYTES:
            self.mapped.madvise(mmap.MADV_DONTNEED, self.done, end - self.done)
            self.done = end
