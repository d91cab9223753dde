"""The reading ceiling: the reader alone, with nothing after it.

Measured like an engine: the file is opened, decoded and validated chunk by chunk exactly as for
an engine's run, and then every field an engine reads (publisher_id, instrument_id, order_id,
price, size, flags, action, side, ts_recv) of every record is touched in one jitted pass. No
engine can be faster than this on the same file, so an engine's events/s over the ceiling's,
measured in the same run, says how much of the machine the engine leaves to reading.
"""

from __future__ import annotations

from collections.abc import Iterable

import numba
import numpy as np

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "reading"}


def read_ceiling(chunks: Iterable[np.ndarray]) -> tuple[int, int]:
    """Touch every field of every record; returns (records, a checksum of the fields)."""
    records = 0
    checksum = 0
    for chunk in chunks:
        checksum ^= int(touch_fields(chunk))
        records += len(chunk)
    return records, checksum


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
