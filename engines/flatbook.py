"""The L3 book as flat arrays, for numba: the same rules as `engines.book`, no Python objects.

- Orders live in one open-addressing hash table (`ORDER_DTYPE`, linear probing, deletion by
  backward shift), keyed by (instrument, order id). Clearing an instrument does not touch the
  table: it bumps the instrument's generation, and an order of an older generation reads as
  absent (it is dropped when the table is rebuilt, and overwritten when its slot is reused).
- Price levels: per instrument and side, one row of `levels` (price, size, order count)
  sorted ascending with the best price last; ask prices are stored negated (`level_key`) so
  that both sides sort the same way. The touch, where most changes happen, is at the end of
  the row: an insert or delete there moves few elements, and a search starts there.
- Every add takes the instrument's next queue stamp, as in `engines.book`.

The caller checks for room before a record is applied, and grows the arrays when there is none.
"""

from __future__ import annotations

import numba
import numpy as np

from engines.events import BID

ORDER_DTYPE = np.dtype(
    [
        ("order_id", "<u8"),
        ("inst", "<i8"),  # dense instrument index; -1 marks an empty slot
        ("gen", "<i8"),  # the instrument's generation when the order was added
        ("side", "<i8"),  # 0 bid, 1 ask
        ("price", "<i8"),
        ("size", "<i8"),
        ("stamp", "<i8"),
        ("pad", "<i8"),  # 64 bytes: a slot never straddles two cache lines
    ]
)


# Columns of the per-instrument array `inst_info`.
KEY, GEN, NEXT_STAMP, IN_SNAPSHOT, UNKNOWN = 0, 1, 2, 3, 4
INST_COLUMNS = 5
# Columns of a price level in `levels[row, k]`; row = 2 * instrument + side (0 bid, 1 ask).
PRICE, SIZE, ORDERS = 0, 1, 2


def new_orders(capacity: int) -> np.ndarray:
    """An empty order table; `capacity` must be a power of two."""
    table = np.zeros(capacity, ORDER_DTYPE)
    table["inst"] = -1
    return table


@numba.njit(cache=True, _nrt=False, inline="always")
def home_slot(table, key, order_id):
    """Where the probe for an order starts: Fibonacci hashing of (instrument key, order id).

    It takes the instrument's key as a record carries it (publisher and instrument id), not its
    dense index, so that the kernel can compute it for a record it has not reached yet.
    """
    mixed = np.uint64(order_id) ^ (np.uint64(key) * np.uint64(0xD6E8FEB86659FD93))
    return np.int64((mixed * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & (table.shape[0] - 1)


@numba.njit(cache=True, _nrt=False, inline="always")
def probe(table, inst_info, inst, order_id):
    """The slot holding (inst, order_id), of any generation, or the empty slot ending its run."""
    mask = table.shape[0] - 1
    i = home_slot(table, inst_info[inst, KEY], order_id)
    while table[i].inst != -1 and (table[i].order_id != order_id or table[i].inst != inst):
        i = (i + 1) & mask
    return i


@numba.njit(cache=True, _nrt=False, inline="always")
def live(table, inst_info, i):
    """Whether slot i holds an order of its instrument's current generation."""
    return table[i].inst != -1 and table[i].gen == inst_info[table[i].inst, GEN]


@numba.njit(cache=True, _nrt=False, inline="always")
def find_order(table, inst_info, inst, order_id):
    """Slot of a live order of `inst`, or -1."""
    i = probe(table, inst_info, inst, order_id)
    return i if live(table, inst_info, i) else -1


@numba.njit(cache=True, _nrt=False, inline="always")
def put_order(table, count, inst_info, i, inst, order_id, side, price, size, stamp):
    """Write an order into slot i, which `probe` returned (the caller has checked for room)."""
    if table[i].inst == -1:
        count[0] += 1
    table[i].order_id = order_id
    table[i].inst = inst
    table[i].gen = inst_info[inst, GEN]
    table[i].side = side
    table[i].price = price
    table[i].size = size
    table[i].stamp = stamp


@numba.njit(cache=True, _nrt=False, inline="always")
def delete_slot(table, count, inst_info, i):
    """Empty slot i, shifting later entries of its probe run back (no tombstones)."""
    mask = table.shape[0] - 1
    j = i
    while True:
        j = (j + 1) & mask
        if table[j].inst == -1:
            break
        home = home_slot(table, inst_info[table[j].inst, KEY], table[j].order_id)
        # Move j back into the hole unless its home lies cyclically in (i, j].
        if (j > i and (home <= i or home > j)) or (j < i and home <= i and home > j):
            table[i] = table[j]
            i = j
    table[i].inst = -1
    count[0] -= 1


@numba.njit(cache=True)
def rehash(old, new, inst_info):
    """Copy the live orders of `old` into the empty table `new`; returns their count."""
    count = np.zeros(1, np.int64)
    for i in range(old.shape[0]):
        rec = old[i]
        if live(old, inst_info, i):
            slot = probe(new, inst_info, rec.inst, rec.order_id)
            put_order(new, count, inst_info, slot, rec.inst, rec.order_id, rec.side, rec.price,
                      rec.size, rec.stamp)  # fmt: skip
    return count[0]


@numba.njit(cache=True, _nrt=False, inline="always")
def side_index(side_code):
    return 0 if side_code == BID else 1


@numba.njit(cache=True, _nrt=False, inline="always")
def level_key(row, price):
    """A price as a row stores it: asks negated, so every row ascends towards its touch."""
    return price if row & 1 == 0 else -price


@numba.njit(cache=True, _nrt=False, inline="always")
def _find_level(levels, row, n, key):
    # The first position whose key is >= `key`. Most changes are at or near the touch, at the
    # end of the row: scan back a few levels from there before a binary search of the rest.
    i = n
    while i > 0 and n - i < 8 and levels[row, i - 1, PRICE] >= key:
        i -= 1
    if i == 0 or levels[row, i - 1, PRICE] < key:
        return i
    lo, hi = 0, i
    while lo < hi:
        mid = (lo + hi) >> 1
        if levels[row, mid, PRICE] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, _nrt=False, inline="always")
def level_add(levels, level_count, row, price, size):
    """Queue one order of `size` at `price` on a row, creating the level (the row has room)."""
    n = level_count[row]
    key = level_key(row, price)
    k = _find_level(levels, row, n, key)
    if k < n and levels[row, k, PRICE] == key:
        levels[row, k, SIZE] += size
        levels[row, k, ORDERS] += 1
        return
    for j in range(n, k, -1):  # shift the better prices up by one
        levels[row, j, PRICE] = levels[row, j - 1, PRICE]
        levels[row, j, SIZE] = levels[row, j - 1, SIZE]
        levels[row, j, ORDERS] = levels[row, j - 1, ORDERS]
    levels[row, k, PRICE] = key
    levels[row, k, SIZE] = size
    levels[row, k, ORDERS] = 1
    level_count[row] = n + 1


@numba.njit(cache=True, _nrt=False, inline="always")
def level_sub(levels, level_count, row, price, size, orders):
    """Take `size` and `orders` (0 or 1) off the level at `price`; drop it when no order is left."""
    n = level_count[row]
    k = _find_level(levels, row, n, level_key(row, price))
    levels[row, k, SIZE] -= size
    levels[row, k, ORDERS] -= orders
    if levels[row, k, ORDERS] == 0:
        for j in range(k, n - 1):
            levels[row, j, PRICE] = levels[row, j + 1, PRICE]
            levels[row, j, SIZE] = levels[row, j + 1, SIZE]
            levels[row, j, ORDERS] = levels[row, j + 1, ORDERS]
        level_count[row] = n - 1
