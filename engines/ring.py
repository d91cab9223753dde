"""A ring of chunk buffers between two native threads: one fills the slots, the other reads them.

The compiled engine reads a `.dbn.zst` this way (`harness.dbn.readahead` fills): both threads run
jitted code with the GIL released for the whole file, and hand each chunk over by two counters
in shared memory, with no lock, no queue and no Python in between. Handing a chunk over through
a Python queue costs a wake-up of the other thread and GIL hand-overs, tens of microseconds on a
virtual machine, which is a tenth of the time to process a chunk.

The protocol, for one filler and one reader:

- the filler waits for a free slot (`next_free`), writes it and its length, then `publish`es it;
- the reader waits for a filled slot (`next_filled`), reads it, then `release`s it;
- the filler ends with `finish` (FINISHED, or FAILED with a reason in `control`); the reader's
  `next_filled` returns -1 once the filler has finished and every published slot was read;
- anyone may ask the filler to stop (`control[STOP] = 1`): its `next_free` then returns -1, and
  it ends as STOPPED.

The counters only grow, and each is written by one thread: `store_release` after the writes it
publishes, `load_acquire` before the reads it allows (`engines.atomics`). A waiting thread spins
a while, then gives its core away between looks (`sched_yield`), so that the other thread can
run even where both share one core.
"""

from __future__ import annotations

import ctypes

import numba
import numpy as np

from engines.atomics import load_acquire, spin_pause, store_release

# Words of `control`: the two counters and the stop flag sit on cache lines of their own, so
# that the spinning of one thread does not slow the other's writes.
FILLED = 0  # slots published by the filler, in all
TAKEN = 8  # slots released by the reader, in all
STATE = 16  # RUNNING, FINISHED, FAILED or STOPPED (written by the filler)
REASON = 17  # why it failed, and details: the filler's own codes
DETAIL = 18
DETAIL2 = 19
STOP = 24  # set to ask the filler to stop
CONTROL_WORDS = 32
RUNNING, FINISHED, FAILED, STOPPED = 0, 1, 2, 3
SPINS = 2_000  # turns of `pause` (about 100 microseconds) before giving the core away


def _sched_yield():
    try:
        function = ctypes.CDLL(None).sched_yield
    except (OSError, TypeError, AttributeError):  # no C library by that name (Windows)
        return None
    function.argtypes = ()
    function.restype = ctypes.c_int
    return function


# Handed to the jitted functions as an argument: numba caches code that calls a C function
# through an argument, not code with its address built in.
yield_cpu = _sched_yield()


class Ring:
    """`slots` buffers of `records` records of `dtype`, and the words the two threads share."""

    def __init__(self, slots: int, records: int, dtype: np.dtype) -> None:
        # Zeros, not empty: every page is touched here, once, not in each run that reuses it.
        self.records = np.zeros((slots, records), dtype)
        self.lengths = np.zeros(slots, np.int64)
        self.control = np.zeros(CONTROL_WORDS, np.int64)

    def reset(self) -> None:
        self.control[:] = 0

    def stop(self) -> None:
        self.control[STOP] = 1

    def taken_slot(self) -> np.ndarray:
        """The reader's slot, filled and not yet released."""
        slot = self.control[TAKEN] % len(self.records)
        return self.records[slot, : self.lengths[slot]]


@numba.njit(cache=True, nogil=True, _nrt=False, forceinline=True)
def back_off(turns, yield_cpu):
    if turns < SPINS:
        spin_pause()
    else:
        yield_cpu()


@numba.njit(cache=True, nogil=True, _nrt=False, forceinline=True)
def next_filled(control, slots, yield_cpu):
    """The reader's next slot, once filled; -1 when the filler has finished and all is read."""
    taken = control[TAKEN]  # the reader's own counter
    turns = 0
    while load_acquire(control, FILLED) == taken:
        if load_acquire(control, STATE) != RUNNING and load_acquire(control, FILLED) == taken:
            return -1
        back_off(turns, yield_cpu)
        turns += 1
    return taken % slots


@numba.njit(cache=True, nogil=True, _nrt=False, forceinline=True)
def release(control):
    """The reader is done with its slot: the filler may write it again."""
    store_release(control, TAKEN, control[TAKEN] + 1)


@numba.njit(cache=True, nogil=True, _nrt=False, forceinline=True)
def next_free(control, slots, yield_cpu):
    """The filler's next slot, once the reader has released it; -1 when asked to stop."""
    filled = control[FILLED]  # the filler's own counter
    turns = 0
    while filled - load_acquire(control, TAKEN) >= slots:
        if load_acquire(control, STOP):
            return -1
        back_off(turns, yield_cpu)
        turns += 1
    if load_acquire(control, STOP):
        return -1
    return filled % slots


@numba.njit(cache=True, nogil=True, _nrt=False, forceinline=True)
def publish(control):
    """The filler's slot and its length are written: the reader may read it."""
    store_release(control, FILLED, control[FILLED] + 1)


@numba.njit(cache=True, nogil=True, _nrt=False, forceinline=True)
def finish(control, state, reason, detail, detail2):
    """The filler ends: FINISHED, STOPPED, or FAILED for `reason` (the details, then the state)."""
    control[REASON] = reason
    control[DETAIL] = detail
    control[DETAIL2] = detail2
    store_release(control, STATE, state)
