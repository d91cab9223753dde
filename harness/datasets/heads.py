"""A DBN file's first records, as a file of its kind kept in mbobench's cache: the extra work of
the engines that inject a known regression (the trust experiment's), a real pass over real data."""

from __future__ import annotations

from pathlib import Path

from harness.datasets.default import cache_dir
from harness.dbn.writer import write_head


def head_of(path: Path, records: int) -> Path:
    """The first `records` records of `path` (written once, whole or not at all, under a name
    that carries the file's size and time as well as its name)."""
    stat = path.stat()
    suffix = ".dbn.zst" if path.name.endswith(".zst") else ".dbn"
    name = f"{path.name}-{stat.st_size}-{stat.st_mtime_ns}-{records}{suffix}"
    head = cache_dir() / "heads" / name
    if not head.exists():
        write_head(path, records, head)
    return head
