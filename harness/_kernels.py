"""The jitted passes of the reading side: validation (every chunk) and the reading ceiling.

Kept apart so that importing the reader does not import numba until a chunk is validated.
"""

from __future__ import annotations

import numba
import numpy as np

# The profile category of this module's functions (harness/categories.py).
COSTS = {"*": "reading"}


@numba.njit(cache=True, nogil=True)
def first_bad_record(
    chunk: np.ndarray, words: int, action_ok: np.ndarray, side_ok: np.ndarray
) -> int:
    """Index of the first record with a wrong length, rtype, action or side; -1 when none."""
    for i in range(chunk.shape[0]):
        rec = chunk[i]
        if rec.length != words or rec.rtype != 0xA0:
            return i
        if not action_ok[rec.action] or not side_ok[rec.side]:
            return i
    return -1


@numba.njit(cache=True, nogil=True)
def touch_fields(chunk: np.ndarray) -> np.uint64:
    """Read every field an engine reads, of every record, and fold them into one number.

    The fields: publisher_id, instrument_id, order_id, price, size, flags, action, side and
    ts_recv. The fold (xor and add) keeps the compiler from dropping any read.
    """
    acc = np.uint64(0)
    for i in range(chunk.shape[0]):
        rec = chunk[i]
        acc ^= np.uint64(rec.order_id) + np.uint64(rec.price) + np.uint64(rec.ts_recv)
        acc += np.uint64(rec.size) + np.uint64(rec.instrument_id) + np.uint64(rec.publisher_id)
        acc += np.uint64(rec.flags) + np.uint64(rec.action) + np.uint64(rec.side)
    return acc
