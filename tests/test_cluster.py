"""`mbobench run --cluster`: a real Dask scheduler and two workers, separate processes on the
loopback interface, a small suite through them, and one worker killed while it measures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="Dask is not installed: pip install 'mbobench[cluster]'")
psutil = pytest.importorskip("psutil", reason="psutil (a dependency of Dask's) is not installed")

from harness.history.store import Store  # noqa: E402
from harness.results.resultfile import load_result  # noqa: E402

ENGINES = ["lockless", "compiled"]


def start(argv: list[str], log: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env={**os.environ, **env}, start_new_session=True)  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def small_dbn(tmp_path_factory) -> Path:
    from harness.datasets.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("data") / "c.dbn.zst", 20_000, seed=9,
                      instruments=2)  # fmt: skip


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers (w1, w2), each offering benchmark=1; their processes."""
    info = tmp_path / "scheduler.json"
    procs = [start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                    "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                    str(info)], tmp_path / "scheduler.log")]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not info.is_file():
            pytest.skip(
                f"the Dask scheduler did not start: {(tmp_path / 'scheduler.log').read_text()}"
            )
        address = json.loads(info.read_text())["address"]
        for name in ("w1", "w2"):
            procs.append(start([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                "--nthreads", "1", "--resources", "benchmark=1", "--name", name,
                                "--no-nanny", "--no-dashboard"], tmp_path / f"{name}.log",
                               MBOBENCH_MACHINE=name))  # fmt: skip
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, procs
    finally:
        for proc in procs:
            stop(proc)


def test_a_suite_on_two_workers_with_one_killed_loses_nothing(cluster, tmp_path, small_dbn):
    address, procs = cluster
    store = tmp_path / "store"
    out = tmp_path / "cluster.json"
    argv = [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        str(small_dbn),
        "--cluster",
        address,
        "--fast",
        "--processes",
        "1",
        "--values",
        "3",
        "-o",
        str(out),
        "--store",
        str(store),
    ]
    for engine in [*ENGINES, "nosuch"]:
        argv += ["--engine", engine]
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill w1 (its process group) while it measures: as soon as it has started a benchmark.
    worker = psutil.Process(procs[1].pid)
    deadline, children = time.monotonic() + 120, []
    while time.monotonic() < deadline and run.poll() is None:
        children = worker.children(recursive=True)
        if any("harness.cli" in " ".join(c.cmdline()) for c in children if c.is_running()):
            break
        time.sleep(0.05)
    assert children, "w1 never started a benchmark"
    stop(procs[1])
    stdout, stderr = run.communicate(timeout=600)
    # The bad engine is reported once and not retried; the other benchmarks all measured.
    assert run.returncode == 2, stderr
    assert stderr.count("failed c.dbn.zst/nosuch") == 1, stderr
    assert "unknown engine 'nosuch'" in stderr.splitlines()[-1]
    result = load_result(out)
    rows = {r.engine: r for r in result.rows if not r.is_ceiling}
    assert sorted(rows) == sorted(ENGINES)
    assert all(r.digest_ok for r in rows.values()), [(r.engine, r.digest) for r in rows.values()]
    # one reference for the whole run, the ceilings' too (each task had one of its own)
    assert len({r.reference for r in result.rows}) == 1, [
        (r.engine, r.reference) for r in result.rows
    ]
    assert {r.machine for r in result.rows} <= {"w1", "w2"} and "w2" in {
        r.machine for r in rows.values()
    }
    # The same digests as measured here, without the cluster.
    local = subprocess.run([sys.executable, "-m", "harness.cli", "once", str(small_dbn),
                            "--engine", "compiled"], capture_output=True, text=True)  # fmt: skip
    assert json.loads(local.stdout)["digest"] == rows["compiled"].digest
    # Nothing recorded twice: one stored result a benchmark that finished.
    entries = Store(store).entries()
    assert sorted(e for entry in entries for e in entry.engines if e != "ceiling") == sorted(
        ENGINES
    )
    # And nothing the killed worker started is left running.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(c.is_running() and c.status() != "zombie"
                                              for c in children):  # fmt: skip
        time.sleep(0.2)
    assert not [c.pid for c in children if c.is_running() and c.status() != "zombie"]


def test_no_scheduler_is_one_line(tmp_path, small_dbn):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(small_dbn),
                           "--cluster", "tcp://127.0.0.1:9", "--engine", "compiled", "-o",
                           str(tmp_path / "r.json")], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot reach a Dask scheduler" in proc.stderr
