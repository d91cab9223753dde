"""Reading a `.dbn.zst` ahead into a ring of chunks (`engines.ring`), on a native thread.

One jitted loop, `_fill`, runs on its own thread with the GIL released from the first record to
the last: it decompresses the file (libzstd, from a memory map: `harness.dbn.libzstd`) straight into
the next free slot of the ring, validates the slot as the reader validates a chunk, publishes
it, and gives back the pages of the file it has read. The engine reading the ring runs its own
jitted loop on the other core: nothing in between takes the GIL, and no thread sleeps while the
other has work for it.

The records and the errors are the reader's (`harness.dbn.reader.Reader`; the rules of
`harness.dbn.validation`), as the tests check: a bad
record, corrupt zstd data or trailing bytes end the filling, the slots before it are read as
usual, and `check` then raises the reader's `InputError`. The frames' layout was checked when
the reader opened the file.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

import engines.ring
from engines import atomics
from engines.jitcache import stamp_with_sources
from engines.ring import (
    DETAIL,
    DETAIL2,
    FAILED,
    FINISHED,
    REASON,
    STATE,
    STOPPED,
    Ring,
    finish,
    next_free,
    publish,
    yield_cpu,
)
from harness.dbn import libzstd, validation
from harness.dbn.libzstd import LAST_RESULT, decompress_into, release_read
from harness.dbn.validation import ACTION_OK, SIDE_OK, first_bad_record, validate
from harness.errors import InputError

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "reading"}

AVAILABLE = libzstd.AVAILABLE and yield_cpu is not None and not numba.config.DISABLE_JIT
# Why the filling failed (control[REASON]), and what DETAIL and DETAIL2 then hold.
BAD_RECORD = 1  # the slot; the index of its first record in the file
STREAM_FAILED = 2  # what decompress_into returned
TRAILING = 3  # the bytes after the last whole record; the records before them
ENDS_IN_FRAME = 4
CRASHED = 5  # the thread raised (a compilation error, say): `failure` holds the exception


class ReadAhead:
    """Fills `ring` with the records of `reader` (a `.dbn.zst`) on a native thread.

    A context manager: entering starts the thread, leaving stops it (when the ring's reader ends
    early) and waits for it. Once the ring's reader has read all, `check` raises the reading
    error that ended the filling, if any.
    """

    def __init__(self, reader, ring: Ring) -> None:
        if ring.records.dtype != reader.dtype:
            raise ValueError(f"a ring of {ring.records.dtype} for records of {reader.dtype}")
        self.reader = reader
        self.ring = ring
        self.words = reader.dtype.itemsize // 4  # DBN counts a record's length in 4-byte words
        self.stream: libzstd.Stream | None = None
        self.thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    def __enter__(self) -> ReadAhead:
        reader, ring = self.reader, self.ring
        ring.reset()
        self.failure = None
        self.stream = stream = libzstd.Stream(reader.path, reader.release_bytes)
        try:
            # The DBN metadata first (the reader has read and checked it): decompressed, dropped.
            metadata = np.empty(reader.data_offset, np.uint8)
            got = decompress_into(*stream.args, metadata)
            if got != reader.data_offset:  # only a file changed since the reader opened it
                raise self._error(STREAM_FAILED if got < 0 else ENDS_IN_FRAME, got, 0)
            args = (*stream.args, *stream.release_args, ring.records, ring.lengths,
                    ring.control, self.words, ACTION_OK, SIDE_OK, yield_cpu)  # fmt: skip
            self.thread = threading.Thread(target=self._run, args=args,
                                           name="mbobench-readahead", daemon=True)  # fmt: skip
            self.thread.start()
        except BaseException:
            self.thread = None
            stream.close()
            raise
        return self

    def _run(self, *args) -> None:
        try:
            _fill(*args)
        except BaseException as exc:  # raised again by `check`; the ring's reader must not wait
            self.failure = exc
            control = self.ring.control
            control[REASON] = CRASHED
            control[STATE] = FAILED
        # Freeing the stream (0.3 ms) here overlaps it with the engine's last slot; its state
        # stays, for `check`.
        self.stream.close()

    def __exit__(self, *exc: object) -> None:
        self.ring.stop()
        if self.thread is not None:
            try:
                self.thread.join()
            finally:
                # Even when the wait is interrupted (Ctrl-C): the stream may not be freed under
                # a thread still decompressing from it. It sees the stop within one slot.
                while self.thread.is_alive():
                    self.thread.join(0.1)
                self.thread = None
        if self.stream is not None:  # the thread closed it, unless it never ran
            self.stream.close()  # its state stays, for `check`

    def check(self) -> None:
        """Raise the reader's `InputError` for what ended the filling, if it failed."""
        control = self.ring.control
        if self.failure is not None:
            raise self.failure
        if control[STATE] == STOPPED:
            raise RuntimeError(f"{self.reader.path}: reading ahead was stopped before the end")
        if control[STATE] == FAILED:
            raise self._error(int(control[REASON]), int(control[DETAIL]), int(control[DETAIL2]))

    def _error(self, reason: int, detail: int, detail2: int) -> InputError:
        """The reader's error, word for word (harness.dbn.reader), for why the filling failed."""
        path = self.reader.path
        if reason == BAD_RECORD:
            slot = self.ring.records[detail, : self.ring.lengths[detail]]
            try:
                validate(path, slot, detail2, self.words)
            except InputError as exc:
                return exc
        if reason == TRAILING:
            return self.reader.trailing(detail, detail2)
        if reason == STREAM_FAILED:
            return self.stream.corrupt(path)
        return InputError(f"{path}: truncated: the zstd stream ends inside a frame")


def warm_up() -> None:
    """Compile (or load from numba's cache) the filling loop, outside any timing: a ring that is
    asked to stop before its first slot, and a stream that decompresses into nothing."""
    from engines.events import MBO_DTYPE, RECORD_WORDS

    if not AVAILABLE:
        return
    state = np.zeros(libzstd.STATE_WORDS, np.uint64)
    args = (libzstd.decompress_stream, libzstd.is_error, 0, state)
    decompress_into(*args, np.empty(0, np.uint8))
    ring = Ring(1, 0, MBO_DTYPE)
    ring.stop()
    _fill(*args, libzstd.madvise, 0, 1, ring.records, ring.lengths,
          ring.control, RECORD_WORDS, ACTION_OK, SIDE_OK, yield_cpu)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _fill(decompress, is_error, dctx, state, madvise, advice, release_bytes, records, lengths,
          control, words, action_ok, side_ok, yield_cpu):  # fmt: skip
    """Decompress the stream into the ring's slots, validated, until its end, an error or a stop."""
    slots = records.shape[0]
    size = words * 4
    done = 0  # records published
    while True:
        slot = next_free(control, slots, yield_cpu)
        if slot < 0:  # asked to stop: a reader still at the ring sees that it ends here
            finish(control, STOPPED, 0, 0, done)
            return
        out = records[slot].view(np.uint8)
        got = decompress_into(decompress, is_error, dctx, state, out)
        if got < 0:
            finish(control, FAILED, STREAM_FAILED, got, done)
            return
        release_read(madvise, advice, release_bytes, state)
        count = got // size
        lengths[slot] = count
        if first_bad_record(records[slot, :count], words, action_ok, side_ok) >= 0:
            finish(control, FAILED, BAD_RECORD, slot, done)
            return
        if count:
            publish(control)
            done += count
        if got < out.size:  # the end of the stream
            if got % size:
                finish(control, FAILED, TRAILING, got % size, done)
            elif state[LAST_RESULT] != 0:
                finish(control, FAILED, ENDS_IN_FRAME, 0, done)
            else:
                finish(control, FINISHED, 0, 0, done)
            return


# `_fill` inlines the ring's protocol and the atomics, and calls the decompression and the
# validation of other modules.
stamp_with_sources((_fill,), (atomics, engines.ring, validation, libzstd))
