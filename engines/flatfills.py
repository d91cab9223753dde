"""The fill simulator on arrays, for numba: `engines.fills`, rule for rule, and the digest words.

The state of every strategy on every instrument lives in arrays that the compiled kernel owns:
`quotes[inst, strategy, side] = (price, quantity, stamp)` (quantity 0: no quote), `account[inst,
strategy] = (position, cash)`, `fills[strategy]`, and the FNV-1a digest state `digest[0]`,
folded in the same order as `engines.results` so that it equals the baseline's.
"""

from __future__ import annotations

import numba
import numpy as np

from engines.events import ASK, BID, NO_ASK, NO_BID
from engines.flatbook import KEY, NEXT_STAMP, find_order, side_index
from engines.strategies import STRATEGIES

NS = len(STRATEGIES)
FNV = np.uint64(0x100000001B3)


@numba.njit(cache=True, _nrt=False, forceinline=True)
def mix(h, x):
    return (h ^ np.uint64(x)) * FNV


@numba.njit(cache=True, _nrt=False, forceinline=True)
def mix_top(digest, key, bid, ask, bid_size, ask_size):
    """engines.results.mix_top: fold an event end's book top into digest[0]."""
    h = mix(digest[0], key)
    h = mix(mix(mix(h, bid), ask), bid_size)
    digest[0] = mix(h, ask_size)


@numba.njit(cache=True, _nrt=False, forceinline=True)
def fill(account, fills, digest, inst_info, s, inst, side, price, quantity):
    """engines.fills.FillSimulator._fill."""
    if quantity <= 0:
        return
    fills[s] += 1
    signed = quantity if side == BID else -quantity
    account[inst, s, 0] += signed
    account[inst, s, 1] -= signed * price
    h = mix(digest[0], s)
    h = mix(h, inst_info[inst, KEY])
    h = mix(mix(h, side), price)
    digest[0] = mix(h, quantity)


@numba.njit(cache=True, _nrt=False, forceinline=True)
def on_fill(orders, inst_info, quotes, account, fills, digest, inst, side, price, size, order_id):
    """engines.fills.FillSimulator.on_fill: fill the quotes a real fill proves were matched."""
    if side != BID and side != ASK:
        return
    i = side_index(side)
    for s in range(NS):
        quote_price = quotes[inst, s, i, 0]
        quantity = quotes[inst, s, i, 1]
        stamp = quotes[inst, s, i, 2]
        if quantity == 0:
            continue
        if price == quote_price:
            slot = find_order(orders, inst_info, inst, order_id)
            if slot < 0 or orders[slot].stamp < stamp:
                continue
        elif (price > quote_price) if side == BID else (price < quote_price):
            continue
        filled = min(size, quantity)
        fill(account, fills, digest, inst_info, s, inst, side, quote_price, filled)
        quotes[inst, s, i, 1] = quantity - filled


@numba.njit(cache=True, _nrt=False, forceinline=True)
def quote(quotes, inst_info, s, inst, i, price):
    """engines.fills.FillSimulator.quote: hold a one-lot quote at `price`, or none."""
    if quotes[inst, s, i, 1] != 0 and quotes[inst, s, i, 0] == price:
        return
    if price == NO_BID or price == NO_ASK:
        quotes[inst, s, i, 1] = 0
        return
    quotes[inst, s, i, 0] = price
    quotes[inst, s, i, 1] = 1
    quotes[inst, s, i, 2] = inst_info[inst, NEXT_STAMP]
    inst_info[inst, NEXT_STAMP] += 1


@numba.njit(cache=True, _nrt=False, forceinline=True)
def carry_out(quotes, inst_info, account, fills, digest, out, s, inst, quoting, bid, ask,
              bid_size, ask_size):  # fmt: skip
    """engines.fills.FillSimulator.apply: a strategy's quotes, then its take."""
    if quoting:
        quote(quotes, inst_info, s, inst, 0, out[0])
        quote(quotes, inst_info, s, inst, 1, out[1])
    take = out[2]
    if take > 0 and ask != NO_ASK:
        fill(account, fills, digest, inst_info, s, inst, BID, ask, min(take, ask_size))
    elif take < 0 and bid != NO_BID:
        fill(account, fills, digest, inst_info, s, inst, ASK, bid, min(-take, bid_size))
