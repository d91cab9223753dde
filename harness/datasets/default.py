"""The embedded default data set: a synthetic DBN MBO file, generated once and cached.

The file lives in the user's cache directory under a name that carries the generator's version,
the event count and the seed, so a new generator version (or other settings) builds a new file
and never reuses a stale one.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_EVENTS = 200_000
DEFAULT_SEED = 1
DEFAULT_INSTRUMENTS = 3


def cache_dir() -> Path:
    """Where generated data is kept: $MBOBENCH_CACHE, else the platform's user cache dir."""
    env = os.environ.get("MBOBENCH_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mbobench"))


def default_file(
    events: int = DEFAULT_EVENTS, seed: int = DEFAULT_SEED, suffix: str = ".dbn.zst"
) -> tuple[Path, bool]:
    """The default data file, and whether it had to be generated now."""
    from harness.datasets.synth import GENERATOR_VERSION, synthesize

    path = cache_dir() / f"default-g{GENERATOR_VERSION}-n{events}-s{seed}{suffix}"
    if path.is_file():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    synthesize(path, events, seed=seed, instruments=DEFAULT_INSTRUMENTS)
    return path, True
