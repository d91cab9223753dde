"""The MBO record layout and its codes: the one place they are defined.

Every engine receives chunks of `MBO_DTYPE`, a numpy structured dtype laid out byte for byte
like the 56-byte DBN MBO record (DBN versions 1, 2 and 3 share it). It is packed, not aligned,
because DBN v1 and v2 files put records at odd offsets and the reader hands out zero-copy views.
`action` and `side` are kept as their ASCII byte values (`u1`), so that kernels compare small
integers: ``ord("A") == 65``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import numpy as np

# One DBN MBO record (Databento's `MboMsg`); offsets in the comments.
MBO_DTYPE = np.dtype(
    [
        ("length", "u1"),  # 0: record size in 4-byte words (14)
        ("rtype", "u1"),  # 1: 0xA0 for MBO
        ("publisher_id", "<u2"),  # 2
        ("instrument_id", "<u4"),  # 4
        ("ts_event", "<u8"),  # 8: matching-engine time, ns since epoch
        ("order_id", "<u8"),  # 16
        ("price", "<i8"),  # 24: fixed point, 1 unit = 1e-9
        ("size", "<u4"),  # 32: meaning depends on the action
        ("flags", "u1"),  # 36
        ("channel_id", "u1"),  # 37
        ("action", "u1"),  # 38: ASCII A C M R T F N
        ("side", "u1"),  # 39: ASCII A B N
        ("ts_recv", "<u8"),  # 40: capture time, the file's sort key
        ("ts_in_delta", "<i4"),  # 48
        ("sequence", "<u4"),  # 52
    ]
)
assert MBO_DTYPE.itemsize == 56

# A DBN file written with ts_out carries the gateway send time after each record.
MBO_TS_OUT_DTYPE = np.dtype(MBO_DTYPE.descr + [("ts_out", "<u8")])

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"rows": "reading"}

RTYPE_MBO = 0xA0
RECORD_WORDS = 14  # `length` of an MBO record without ts_out

# Actions (the byte values of Databento's action letters).
ADD = ord("A")  # order added
CANCEL = ord("C")  # order cancelled fully or partly; size = quantity removed
MODIFY = ord("M")  # price and/or size changed; size = new size
CLEAR = ord("R")  # every order of the instrument removed
TRADE = ord("T")  # an aggressing order traded; no book change
FILL = ord("F")  # a resting order filled; no book change (the C or M that follows does it)
NONE = ord("N")  # no book change, may carry flags
ACTIONS = (ADD, CANCEL, MODIFY, CLEAR, TRADE, FILL, NONE)

# Sides.
ASK = ord("A")  # sell order, or sell aggressor
BID = ord("B")  # buy order, or buy aggressor
SIDE_NONE = ord("N")
SIDES = (ASK, BID, SIDE_NONE)

# Flags (bit field).
F_LAST = 0x80  # last record of an event for this instrument: the book is consistent after it
F_TOB = 0x40
F_SNAPSHOT = 0x20  # from a snapshot or replay
F_MBP = 0x10
F_BAD_TS_RECV = 0x08
F_MAYBE_BAD_BOOK = 0x04
F_PUBLISHER_SPECIFIC = 0x02

# Prices: DBN's "no price", and the sentinels an empty book side reads as.
UNDEF_PRICE = (1 << 63) - 1
NO_ASK = UNDEF_PRICE  # best ask of an empty ask side
NO_BID = -(1 << 63)  # best bid of an empty bid side
PRICE_SCALE = 1_000_000_000


def action_name(code: int) -> str:
    """The letter of an action or side code, or its number when it is not printable."""
    return chr(code) if 32 < code < 127 else f"0x{code:02x}"


ROWS_SLICE = 1024  # records converted to Python ints at a time


def rows(chunk: np.ndarray) -> Iterator[tuple[int, int, int, int, int, int, int, int]]:
    """The records of a chunk as Python ints, for the Python engines' loops.

    Each row: ts_recv, instrument key (publisher_id << 32 | instrument_id), action, side, price,
    size, order_id, flags. Columns are converted with one `tolist` each, far cheaper than reading
    fields record by record from numpy, a slice of ROWS_SLICE records at a time: a whole chunk
    at once would make a working set of millions of int objects, which costs every engine more
    than the conversion itself.
    """
    return chain.from_iterable(
        _rows(chunk[start : start + ROWS_SLICE]) for start in range(0, len(chunk), ROWS_SLICE)
    )


def _rows(part: np.ndarray) -> Iterator[tuple]:
    key = (part["publisher_id"].astype(np.uint64) << np.uint64(32)) | part["instrument_id"]
    return zip(
        part["ts_recv"].tolist(), key.tolist(), part["action"].tolist(),
        part["side"].tolist(), part["price"].tolist(), part["size"].tolist(),
        part["order_id"].tolist(), part["flags"].tolist(), strict=True,
    )  # fmt: skip
