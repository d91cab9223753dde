"""libzstd's streaming decompression of a memory-mapped file, as C calls that jitted code makes.

For reading a `.dbn.zst` ahead on a native thread (`harness.dbn.readahead`), which must decompress
with the GIL released from the first record to the last: python-zstandard's stream reader takes
the GIL between two calls of libzstd. The library is the system's `libzstd` where there is one
(on Linux there nearly always is), else the copy in python-zstandard's cffi build
(`zstandard.backend_cffi`, which needs the `cffi` package; python-zstandard's C extension hides
its C symbols). Decompressing the default `.dbn.zst` from a memory map, validating and reading
every record, one thread, median of 21 in one process: the system's 1.5.4 called from numba
32.1 ms, python-zstandard's C extension (the reader, and so the reading ceiling) 31.9 ms.

The functions are ctypes function pointers that numba calls in nopython mode; they go to jitted
functions as arguments (numba caches code that calls them so, not code with their addresses
built in). The C structs `ZSTD_inBuffer` and `ZSTD_outBuffer` ({pointer, size, pos}: three
machine words each) live in one uint64 array of `STATE_WORDS`, whose address is passed for them.
`AVAILABLE` is False where neither library, or the C library's `madvise`, can be loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import weakref

import numba
import numpy as np

from harness.errors import InputError

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "reading"}

# The words of a stream's state: the input and output buffers as libzstd reads them, then our
# own: libzstd's last result, the error result that stopped it, and the input given back so far.
IN_SRC, IN_SIZE, IN_POS, OUT_DST, OUT_SIZE, OUT_POS, LAST_RESULT, ERROR, RELEASED = range(9)
STATE_WORDS = 9
CORRUPT = -1  # what `decompress_into` returns for an error
_PAGE = mmap.PAGESIZE


def _address_finder():
    """A function from a libzstd function's name to its address, and where it comes from."""
    name = ctypes.util.find_library("zstd")
    if name:
        try:
            system = ctypes.CDLL(name)
            return (lambda f: ctypes.cast(getattr(system, f), ctypes.c_void_p).value), name
        except (OSError, AttributeError):
            pass
    try:
        from zstandard.backend_cffi import ffi, lib
    except ImportError:  # no cffi, or a zstandard without its cffi build
        return None, None
    return (lambda f: int(ffi.cast("uintptr_t", ffi.addressof(lib, f)))), "zstandard cffi"


def _madvise():
    try:
        function = ctypes.CDLL(None).madvise
    except (OSError, TypeError, AttributeError):  # no C library by that name (Windows)
        return None
    function.argtypes = (ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int)  # address, bytes, advice
    function.restype = ctypes.c_int
    return function


_address, LIBRARY = _address_finder()
madvise = _madvise()
AVAILABLE = _address is not None and madvise is not None and hasattr(mmap, "MADV_DONTNEED")


def _function(name: str, restype, *argtypes):
    return ctypes.CFUNCTYPE(restype, *argtypes)(_address(name)) if AVAILABLE else None


_size, _pointer = ctypes.c_size_t, ctypes.c_void_p
# Pointers to the structs go as addresses, which numba hands over as plain integers.
decompress_stream = _function("ZSTD_decompressStream", _size, _size, _size, _size)
is_error = _function("ZSTD_isError", ctypes.c_uint, _size)
_create = _function("ZSTD_createDCtx", _pointer)
_free = _function("ZSTD_freeDCtx", _size, _pointer)
_error_name = _function("ZSTD_getErrorName", ctypes.c_char_p, _size)


class Stream:
    """A zstd file opened for `decompress_into`: a memory map of it, a libzstd context
    (ZSTD_DCtx) and the state words. `args` are the arguments of `decompress_into` before its
    output, `release_args` those of `release_read` before the state; `close` frees all (so does
    dropping the stream unclosed)."""

    def __init__(self, path: str | os.PathLike, release_bytes: int) -> None:
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        context = _create()
        if not context:
            mapped.close()
            raise MemoryError("libzstd could not create a decompression context")
        self.state = np.zeros(STATE_WORDS, np.uint64)
        source = np.frombuffer(mapped, np.uint8)  # only for its address: the map stays open
        self.state[IN_SRC], self.state[IN_SIZE] = source.ctypes.data, source.size
        del source  # (a map with an array of it alive could not be closed)
        self.args = (decompress_stream, is_error, context, self.state)
        # Pages given back every `release_bytes`, as the reader gives back its own.
        self.release_args = (madvise, mmap.MADV_DONTNEED, release_bytes)
        self._release = weakref.finalize(self, _release, mapped, context)
        self._release.atexit = False  # at exit a daemon thread may still read it: leave it be

    def error(self) -> str:
        """libzstd's words for the error that stopped the stream."""
        return _error_name(int(self.state[ERROR])).decode("ascii", "replace")

    def corrupt(self, path: os.PathLike) -> InputError:
        """The error for corrupt data that stopped the stream, as every reader reports it."""
        return InputError(f"{path}: corrupt zstd data (zstd decompress error: {self.error()})")

    def close(self) -> None:
        self._release()  # once: a finalizer runs at most once


def _release(mapped: mmap.mmap, context: int) -> None:
    _free(context)
    mapped.close()


@numba.njit(cache=True, nogil=True)
def decompress_into(decompress, is_error, dctx, state, out):
    """Fill `out` (uint8) from the stream: the bytes written, fewer only at its end; CORRUPT
    (libzstd's result in state[ERROR]) for an error."""
    state[OUT_DST] = out.ctypes.data
    state[OUT_SIZE] = out.size
    state[OUT_POS] = 0
    address = state.ctypes.data  # ZSTD_inBuffer at word 0, ZSTD_outBuffer at word 3
    while state[OUT_POS] < state[OUT_SIZE]:
        before_in, before_out = state[IN_POS], state[OUT_POS]
        result = decompress(dctx, address + 3 * 8, address)
        if is_error(result):
            state[ERROR] = result
            return CORRUPT
        if state[IN_POS] == before_in and state[OUT_POS] == before_out:
            break  # the input is all read, and nothing is left to flush
        # 0 once a frame is whole and flushed. (A call that moves nothing, at the end of the
        # input between frames, would report the next frame's header as missing.)
        state[LAST_RESULT] = result
    return np.int64(state[OUT_POS])


@numba.njit(cache=True, nogil=True)
def release_read(madvise, advice, release_bytes, state):
    """Give back the pages of the file read so far, `release_bytes` at a time (they stay in the
    page cache), so that resident memory does not grow with the file."""
    upto = state[IN_POS] // _PAGE * _PAGE
    if upto - state[RELEASED] >= release_bytes:
        madvise(state[IN_SRC] + state[RELEASED], upto - state[RELEASED], advice)
        state[RELEASED] = upto
