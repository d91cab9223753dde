"""Keeping numba's on-disk cache honest for kernels that inline code from other modules.

numba checks a cached function against the file that defines it only. A kernel that inlines (or
calls) jitted code from other modules would load its old machine code from the cache after an
edit there. `stamp_with_sources` folds those modules' sources into the stamp numba compares, so
that such an edit compiles the kernel again. (The stamp is a private attribute of numba's cache:
if a numba version lacks it, nothing is changed.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType


def stamp_with_sources(kernels: tuple, modules: tuple[ModuleType, ...]) -> None:
    """Make the cached code of `kernels` stale whenever one of `modules` changes."""
    sources = hashlib.sha256()
    for module in modules:
        sources.update(Path(module.__file__).read_bytes())
    for kernel in kernels:
        index = getattr(getattr(kernel, "_cache", None), "_cache_file", None)
        if hasattr(index, "_source_stamp"):
            index._source_stamp = (index._source_stamp, sources.hexdigest())
