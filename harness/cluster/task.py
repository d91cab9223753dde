"""One benchmark on a Dask worker: the file found and checked, then `mbobench run` on it.

The function runs in the worker's process, which imports it by name (mbobench is installed on
every worker). It finds the data file where the workers see it (`cluster_data`: a shared folder
or a URL prefix, by the file's name; or the client's own path), checks its SHA-256 against the
client's, and runs `mbobench run` (or, at a commit, `harness.history.commits`) in a process of
its own that stops if the worker dies (`MBOBENCH_STOP_WITH_PARENT`). It returns the result
files' text and the machine's name; a user's mistake (a missing or different file, a failing
engine) is returned as an error, to be reported once, not raised, which Dask would retry.
"""

from __future__ import annotations

import os
import sys
import tempfile
import urllib.request
from pathlib import Path

from harness.atomicfile import replaced
from harness.errors import InputError
from harness.history.commits import Suite, empty_config, measure_commit
from harness.history.store import Store
from harness.measure import processes
from harness.measure.runner import machine_name, sha256_of


def benchmark(task: dict) -> dict:
    """Run one benchmark; {"machine", "results": [text], "error": str | None}."""
    machine = machine_name()
    try:
        path = locate(task["file"], task["sha256"], task.get("data", ""), machine)
        with tempfile.TemporaryDirectory(prefix="mbobench-task-") as tmp:
            return {"machine": machine, "results": _run(task, path, Path(tmp)), "error": None}
    except InputError as exc:
        return {"machine": machine, "results": [], "error": f"on {machine}: {exc}"}


def locate(file: str, sha256: str, data: str, machine: str) -> Path:
    """The data file as this worker sees it, checked against the client's SHA-256."""
    name = Path(file).name
    if data.startswith(("http://", "https://")):
        from harness.datasets.default import cache_dir

        path = cache_dir() / "cluster-data" / f"{sha256[:16]}-{name}"
        if not path.is_file():
            url = f"{data.rstrip('/')}/{name}"
            try:
                with urllib.request.urlopen(url, timeout=60) as answer, replaced(path) as tmp:
                    tmp.write_bytes(answer.read())
            except OSError as exc:
                raise InputError(f"{url}: cannot download ({exc})") from None
    else:
        path = Path(data) / name if data else Path(file)
    if not path.is_file():
        raise InputError(f"{path}: no such file on {machine} (set cluster_data to where the "
                         "workers see the suite's files)")  # fmt: skip
    if sha256_of(path) != sha256:
        raise InputError(f"{path}: its SHA-256 on {machine} is not the client's file's")
    return path


def _run(task: dict, path: Path, tmp: Path) -> list[str]:
    env = dict(os.environ, MBOBENCH_STOP_WITH_PARENT="1")  # it stops if the worker dies
    if task.get("commit"):
        suite = Suite(files=[path], engines=[task["engine"]], options=task["options"],
                      preset=task["preset"], measure=task["measure"], reference=task["engine"],
                      build=task.get("build", ""), install=task.get("install", True))  # fmt: skip
        store = Store(tmp / "store")
        os.environ["MBOBENCH_STOP_WITH_PARENT"] = "1"  # the programs it starts stop with it
        measure_commit(Path(task["repository"]), task["commit"], suite, store, tmp)
        return [(store.root / e.path).read_text() for e in store.entries()]
    out = tmp / "result.json"
    argv = [sys.executable, "-m", "harness.cli", "run", str(path), "--engine", task["engine"],
            "--reference", task["engine"], "-o", str(out), "--no-store", "-q",
            "--config", str(empty_config(tmp)), *task["options"]]  # fmt: skip
    proc = processes.run(argv, env=env)
    if proc.returncode not in (0, 1) or not out.is_file():
        raise InputError(proc.tail())
    return [out.read_text()]
