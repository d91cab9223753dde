"""Writing a file so that it is either whole or absent: to a temporary name, then renamed.

Every file mbobench writes for a user (a result, a DBN file, a report) goes through `replaced`:
an error or Ctrl-C in the middle leaves the old file (or none) and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary file beside `path`, renamed onto it when the block ends without an error and
    deleted otherwise. Missing folders are made; the file gets the permissions a new file gets
    under the umask (not mkstemp's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
