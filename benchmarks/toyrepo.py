"""A user's backtester in a git repository of its own, for the history tests and the trust
experiment's side-by-side pairs: a Python package (`toybt`, an engine that subclasses the
compiled one) over a few commits, one of which makes it do extra work for every event: a real
regression, of known size, at a known commit. The commits before it hold the same code."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENGINE = "toybt.engine:ToyEngine"

PYPROJECT = """[project]
name = "toybt"
version = "0.0.{n}"

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[tool.setuptools]
packages = ["toybt"]
"""

ENGINE_SOURCE = '''"""The toy backtester: the compiled engine, and `STEPS` more steps an event, or a
second pass over the file's first `HEAD` records (in an engine of its own) after each pass."""

import numba
import numpy as np

from engines.compiled import CompiledEngine
from harness.datasets.heads import head_of
from harness.dbn.reader import Reader

STEPS = {steps}
HEAD = {head}


@numba.njit(cache=True)
def extra(steps):
    acc = np.uint64(steps)
    for _ in range(steps):
        acc = (acc * np.uint64(0x9E3779B97F4A7C15)) ^ (acc >> np.uint64(29))
    return acc


class ToyEngine(CompiledEngine):
    def __init__(self):
        super().__init__()
        self.sink = np.uint64(0)
        self.extra = CompiledEngine()

    def run(self, chunks, strict=False):
        results = super().run(chunks, strict)
        if STEPS:
            self.sink ^= extra(round(results.events * STEPS))
        if HEAD and isinstance(chunks, Reader):
            self.extra.run(Reader(head_of(chunks.path, HEAD), chunks.chunk_records), strict)
        return results
'''

STEPS = 2_000  # the regression's extra steps an event: the engine about ten times slower, so
# that a commit measured while the machine was busy (twice as slow) cannot hide it among 4 points
MESSAGES = ["first version", "a comment", "tidy up", "document it", "rename a variable",
            "split a function", "fix a typo", "a test"]  # fmt: skip


def make(root: Path, count: int = 4, regression: int = 2, steps: float = STEPS,
         head: int = 0) -> list[str]:  # fmt: skip
    """The repository at `root` with `count` commits, the one at index `regression` ("add a
    feature") the first slower one, by `steps` more an event, or by a pass over the file's first
    `head` records (`steps` 0); their 12-digit names, oldest first."""
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")  # fmt: skip

    def git(*args: str, when: int | None = None) -> str:
        extra = {} if when is None else {"GIT_AUTHOR_DATE": f"{when} +0000",
                                          "GIT_COMMITTER_DATE": f"{when} +0000"}  # fmt: skip
        return subprocess.run(["git", *args], cwd=root, env={**env, **extra}, check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip

    git("init", "-q", "-b", "main")
    (root / "toybt").mkdir(exist_ok=True)
    names = []
    for n in range(count):
        message = "add a feature" if n == regression else MESSAGES[n % len(MESSAGES)]
        slower = n >= regression
        (root / "pyproject.toml").write_text(PYPROJECT.format(n=n))
        (root / "toybt" / "__init__.py").write_text(f'"""toybt: {message}."""\n')
        source = ENGINE_SOURCE.format(steps=repr(steps) if slower else 0, head=head * slower)
        (root / "toybt" / "engine.py").write_text(source)
        git("add", "-A")
        git("commit", "-q", "-m", message, when=1_700_000_000 + 60 * n)
        names.append(git("rev-parse", "--short=12", "HEAD"))
    return names
