"""Shared fixtures: the real data in ../shared (skipped with a reason when absent) and tmp files."""

from __future__ import annotations

from pathlib import Path

import pytest

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
