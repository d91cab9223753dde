"""mbobench's compiled engine beside hftbacktest's own replay of the same events, in one run.

hftbacktest (https://github.com/nkaz001/hftbacktest) replays L3 data through its L3 FIFO queue
model in Rust. Here it replays the same DBN records with no strategy at all: only its book and
its exchange model. mbobench's compiled engine runs the same records with its book, both
strategies, the fill simulator and the digest. Both are timed on records already in memory
(hftbacktest cannot read DBN: its conversion, done here with numpy, is not timed), best of N.

    pip install hftbacktest
    python benchmarks/hftbacktest_replay.py [FILE.dbn[.zst]] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engines.compiled import CompiledEngine  # noqa: E402
from engines.events import ADD, ASK, BID, CANCEL, CLEAR, FILL, MODIFY, TRADE  # noqa: E402
from harness.dbn.reader import read_records  # noqa: E402


def to_hftbacktest(records: np.ndarray) -> list[np.ndarray]:
    """hftbacktest's event arrays, one per instrument (its assets), from DBN MBO records."""
    from hftbacktest import types as hbt

    codes = np.zeros(256, np.uint64)
    for action, code in ((ADD, hbt.ADD_ORDER_EVENT), (CANCEL, hbt.CANCEL_ORDER_EVENT),
                         (MODIFY, hbt.MODIFY_ORDER_EVENT), (CLEAR, hbt.DEPTH_CLEAR_EVENT),
                         (TRADE, hbt.TRADE_EVENT), (FILL, hbt.FILL_EVENT)):  # fmt: skip
        codes[action] = code
    sides = np.zeros(256, np.uint64)
    sides[BID] = hbt.BUY_EVENT
    sides[ASK] = hbt.SELL_EVENT
    arrays = []
    for instrument in np.unique(records["instrument_id"]):
        mine = records[(records["instrument_id"] == instrument) & (codes[records["action"]] > 0)]
        mine = partial_cancels_as_modifies(mine)
        events = np.zeros(len(mine), hbt.event_dtype)
        events["ev"] = (
            codes[mine["action"]] | sides[mine["side"]] | hbt.EXCH_EVENT | hbt.LOCAL_EVENT
        )
        # One clock for both sides: DBN snapshots carry exchange times from the past.
        events["exch_ts"] = mine["ts_recv"].astype(np.int64)
        events["local_ts"] = mine["ts_recv"].astype(np.int64)
        events["px"] = mine["price"] / 1e9
        events["qty"] = mine["size"]
        events["order_id"] = mine["order_id"]
        arrays.append(events)
    return arrays


def partial_cancels_as_modifies(records: np.ndarray) -> np.ndarray:
    """hftbacktest's L3 model deletes the order on any cancel: a partial cancel becomes a modify
    to the remaining size, which is what it means in DBN."""
    records = records.copy()
    sizes: dict[int, int] = {}
    actions, order_ids, quantities = records["action"], records["order_id"], records["size"]
    for i in range(len(records)):
        action, order_id, size = int(actions[i]), int(order_ids[i]), int(quantities[i])
        if action == ADD or action == MODIFY:
            sizes[order_id] = size
        elif action == CANCEL:
            left = sizes.get(order_id, 0) - size
            if left > 0:
                actions[i], quantities[i] = MODIFY, left
                sizes[order_id] = left
            else:
                sizes.pop(order_id, None)
        elif action == CLEAR:
            sizes.clear()
    return records


def replay_hftbacktest(arrays: list[np.ndarray], tick: float) -> float:
    """Seconds for hftbacktest to replay every event through its L3 FIFO queue model."""
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest

    assets = [
        BacktestAsset().data(events).linear_asset(1.0).constant_order_latency(0, 0)
        .l3_fifo_queue_model().no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
        .tick_size(tick).lot_size(1.0).last_trades_capacity(0)
        for events in arrays
    ]  # fmt: skip
    backtest = HashMapMarketDepthBacktest(assets)
    start = time.perf_counter()
    status = backtest.elapse(1 << 62)
    while status == 0:
        status = backtest.elapse(1 << 62)
    seconds = time.perf_counter() - start
    if status != 1:  # 1 is the end of the data; anything else is an error of the replay
        raise SystemExit(f"hftbacktest stopped with status {status} before the end of the data")
    backtest.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, help="a DBN MBO file (default: embedded)")
    parser.add_argument("--repeat", type=int, default=5, help="passes each; the best counts")
    parser.add_argument("--tick", type=float, default=0.25, help="price tick, in currency")
    args = parser.parse_args()
    if args.file is None:
        from harness.datasets.default import default_file

        args.file, _ = default_file()
    records = read_records(args.file)
    chunks = [records[i : i + 65536] for i in range(0, len(records), 65536)]
    engine = CompiledEngine()
    engine.run(chunks[:1])  # warm
    ours = min(_timed(lambda: engine.run(chunks)) for _ in range(args.repeat))
    arrays = to_hftbacktest(records)
    replayed = sum(len(a) for a in arrays)
    theirs = min(replay_hftbacktest(arrays, args.tick) for _ in range(args.repeat))
    print(f"file: {args.file} ({len(records):,} records, {replayed:,} replayed by hftbacktest)")
    print(f"mbobench compiled (book, 2 strategies, fills, digest): {len(records) / ours:14,.0f}"
          " events/s")  # fmt: skip
    print(f"hftbacktest L3 FIFO replay, no strategy:               {replayed / theirs:14,.0f}"
          " events/s")  # fmt: skip
    print(f"ratio: {len(records) / ours / (replayed / theirs):.2f}x")
    return 0


def _timed(job) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
