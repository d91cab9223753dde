"""The rules a DBN MBO record must follow before an engine sees it: the one place they live.

The reader checks every chunk with them and the read-ahead thread every slot, so that both
report a bad record in the same words. Checked: the record's length and rtype, a known action
and side, a `ts_recv` that fits in 63 bits (nanoseconds since 1970; 2**63 is the year 2262, and
engines compute with it as a signed 64-bit integer), and a price other than -2**63 (no price a
venue sends: an empty bid side reads as it). Importing this module imports numba, so the reader
imports it only when it validates its first chunk.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np

from engines.events import ACTIONS, RTYPE_MBO, SIDES, action_name
from harness.errors import InputError

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "reading"}

MAX_TS_RECV = (1 << 63) - 1
MIN_PRICE = -(1 << 63)  # not a price: engines read an empty bid side as it

ACTION_OK = np.zeros(256, np.bool_)
ACTION_OK[list(ACTIONS)] = True
SIDE_OK = np.zeros(256, np.bool_)
SIDE_OK[list(SIDES)] = True


@numba.njit(cache=True, nogil=True)
def first_bad_record(
    chunk: np.ndarray, words: int, action_ok: np.ndarray, side_ok: np.ndarray
) -> int:
    """Index of the first record that breaks a rule; -1 when none does."""
    for i in range(chunk.shape[0]):
        rec = chunk[i]
        if rec.length != words or rec.rtype != 0xA0:
            return i
        if not action_ok[rec.action] or not side_ok[rec.side]:
            return i
        if rec.ts_recv > np.uint64(MAX_TS_RECV) or rec.price == np.int64(MIN_PRICE):
            return i
    return -1


def validate(path: Path, chunk: np.ndarray, first_index: int, words: int) -> None:
    """Raise `InputError` naming the file and the record (counted from 0 in the file) for the
    first record of `chunk` that breaks a rule; `first_index` is the chunk's first record."""
    bad = first_bad_record(chunk, words, ACTION_OK, SIDE_OK)
    if bad < 0:
        return
    rec = chunk[bad]
    where = f"{path}: record {first_index + bad}"
    if rec["length"] != words:
        raise InputError(f"{where}: length {rec['length']} words, expected {words} for MBO")
    if rec["rtype"] != RTYPE_MBO:
        raise InputError(f"{where}: rtype 0x{rec['rtype']:02x}, expected 0xa0 (MBO)")
    if not ACTION_OK[rec["action"]]:
        raise InputError(f"{where}: unknown action {action_name(int(rec['action']))!r}")
    if not SIDE_OK[rec["side"]]:
        raise InputError(f"{where}: unknown side {action_name(int(rec['side']))!r}")
    if int(rec["ts_recv"]) > MAX_TS_RECV:
        raise InputError(f"{where}: ts_recv {int(rec['ts_recv'])} is beyond 2^63-1 ns")
    raise InputError(f"{where}: price {int(rec['price'])} is not a price")
