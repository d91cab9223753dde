"""The reading ceiling: the reader alone, with nothing after it.

Measured like an engine: the file is opened, decoded and validated chunk by chunk exactly as for
an engine's run, and then every field an engine reads (publisher_id, instrument_id, order_id,
price, size, flags, action, side, ts_recv) of every record is touched in one jitted pass. No
engine can be faster than this on the same file, so an engine's events/s over the ceiling's,
measured in the same run, says how much of the machine the engine leaves to reading.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# The profile category of this module's functions (harness/categories.py).
COSTS = {"*": "reading"}


def read_ceiling(chunks: Iterable[np.ndarray]) -> tuple[int, int]:
    """Touch every field of every record; returns (records, a checksum of the fields)."""
    from harness._kernels import touch_fields

    records = 0
    checksum = 0
    for chunk in chunks:
        checksum ^= int(touch_fields(chunk))
        records += len(chunk)
    return records, checksum
