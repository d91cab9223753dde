"""Shared fixtures: the real data in ../shared (skipped with a reason when absent) and tmp files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Every `mbobench run` of the tests keeps its result in a store of the test session's, not in
# the project's (harness/history/store.py); a test of the store names its own with --store.
os.environ["MBOBENCH_STORE"] = tempfile.mkdtemp(prefix="mbobench-test-store-")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
CME_SESSION = SHARED / "dbn" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or a skip that says why it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/ holds the real data; a fresh clone has none)")
    return path


@pytest.fixture
def cme_session() -> Path:
    return shared_file("dbn", CME_SESSION.name)


def mbo_records(*specs: tuple, instrument_id: int = 7, start_ns: int = 1_700_000_000_000_000_000):
    """An MBO_DTYPE array from (action, side, price, size, order_id, flags) tuples.

    action and side are letters; prices are in ticks of 0.25 (scaled to DBN's 1e-9 fixed point).
    Each record is 1 us after the one before it.
    """
    import numpy as np

    from engines.events import MBO_DTYPE

    out = np.zeros(len(specs), MBO_DTYPE)
    for i, (action, side, price, size, order_id, flags) in enumerate(specs):
        out[i] = (14, 0xA0, 1, instrument_id, start_ns + 1000 * i, order_id, price * 250_000_000,
                  size, flags, 0, ord(action), ord(side), start_ns + 1000 * i + 90_000, 15_000,
                  1000 + i)  # fmt: skip
    return out


def write_small_dbn(path: Path, records) -> Path:
    """Write records as a DBN v3 file (zstd when the name ends in .zst)."""
    from harness.dbn.writer import write_dbn

    return write_dbn(path, [records], dataset="TEST", start_ns=int(records["ts_event"][0]),
                     end_ns=int(records["ts_event"][-1]) + 1, symbols=["TEST"])  # fmt: skip
