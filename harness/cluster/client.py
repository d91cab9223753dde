"""A suite's benchmarks as Dask tasks on a cluster: submitted, watched and gathered.

Each benchmark (file, engine, commit) is one task that asks for the worker resource
`benchmark=1`; a machine's one worker offers one (`dask worker ADDRESS --nthreads 1 --resources
benchmark=1`), so that no two benchmarks ever share a machine. A worker that dies mid-benchmark
loses nothing: the scheduler gives its task to another worker (up to its `allowed-failures`),
and a result is taken from a task that finished, once. A benchmark that fails for bad input
returns its error (harness.cluster.task) and is reported once, not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import InputError, ToolMissing
from harness.history.store import safe_name

RESOURCE = "benchmark"
WAIT_S = 1.0  # how often the progress line asks the scheduler who runs what


@dataclass
class Outcome:
    label: str
    machine: str
    results: list[str]  # pyperf result files' text
    error: str | None


def connect(address: str):
    """A client of the scheduler at `address`, with at least one worker that offers
    `benchmark=1`."""
    try:
        from distributed import Client
    except ImportError:
        raise ToolMissing("--cluster needs Dask: pip install 'mbobench[cluster]'") from None
    _reachable(address)
    try:
        client = Client(address, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"{address}: cannot reach a Dask scheduler ({exc})") from None
    workers = client.scheduler_info()["workers"].values()
    if not any(w.get("resources", {}).get(RESOURCE) for w in workers):
        client.close()
        raise InputError(f"{address}: no worker offers {RESOURCE}=1 (start one a machine: dask "
                         f"worker {address} --nthreads 1 --resources {RESOURCE}=1)")  # fmt: skip
    return client


def run_tasks(client, tasks: list[dict], labels: list[str], on_change: Callable[[str], None],
              on_done: Callable[[Outcome], None]) -> list[Outcome]:  # fmt: skip
    """Run every task, one a machine; `on_change(text)` says who runs what, `on_done` each
    outcome as it comes."""
    from distributed import wait

    from harness.cluster.task import benchmark

    futures = {}
    for i, (task, label) in enumerate(zip(tasks, labels, strict=True)):
        future = client.submit(benchmark, task, key=f"mbobench-{i}-{safe_name(label)}",
                               resources={RESOURCE: 1}, pure=False, retries=0)  # fmt: skip
        futures[future] = label
    outcomes, pending = [], set(futures)
    try:
        while pending:
            try:
                done, pending = wait(list(pending), timeout=WAIT_S, return_when="FIRST_COMPLETED")
            except TimeoutError:  # none finished in that second
                done = set()
            for future in done:
                outcomes.append(_outcome(future, futures[future]))
                on_done(outcomes[-1])
            on_change(_running(client, {f.key: futures[f] for f in pending}))
    finally:
        for future in pending:  # interrupted: nothing left running on the cluster
            future.cancel()
    return outcomes


def _outcome(future, label: str) -> Outcome:
    try:
        answer = future.result()
    except Exception as exc:  # the task's own failure, or KilledWorker: workers died running it
        return Outcome(label, "?", [], f"{label}: {type(exc).__name__}: {exc}")
    error = f"{label} {answer['error']}" if answer["error"] else None
    return Outcome(label, answer["machine"], answer["results"], error)


def _running(client, labels: dict) -> str:
    """Which machine (worker name) runs which benchmark now."""
    try:
        processing = client.processing()
        names = {a: w.get("name", a) for a, w in client.scheduler_info()["workers"].items()}
    except (OSError, TimeoutError):
        return ""
    parts = [f"{names.get(address, address)}: {labels[key]}"
             for address, keys in sorted(processing.items())
             for key in keys if key in labels]  # fmt: skip
    return "; ".join(parts)


def _reachable(address: str) -> None:
    """A refused TCP connection said at once (Dask's client would retry until its timeout)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        return  # another transport: Dask's client says what is wrong
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=15).close()
    except OSError as exc:
        why = exc.strerror or exc
        raise InputError(f"{address}: cannot reach a Dask scheduler ({why})") from None
