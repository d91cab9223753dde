"""Measuring several benchmarks of one file interleaved, pass by pass, so that drift cancels.

A run that measures A and then B compares A's minutes with B's: on a machine whose speed
drifts over seconds (a shared VM), that difference is the machine's, and the gate's noise with
it (`benchmarks/drift.py` measured it). Interleaved, every side is a pass server
(`harness.measure.passes`) started fresh for each of pyperf's processes; the parent asks each
for one pass at a time, in turn, in an order drawn anew every time, so that value i of every
side spans the same seconds. Each side becomes one pyperf benchmark of the usual shape (a run
per process, its values, its loops), marked with the job's id (`mbobench_interleaved`):
`harness.results.compare` pairs two benchmarks of one job, each process's rounds together, and
tests them over the processes.

A side is an engine here, or an engine at a commit (a Python of the commit's environment, its
worktree as the working directory). The loops a value are calibrated as pyperf does (doubled
until a value takes 0.1 s), once, in the first process; a side whose pass takes a second or more
gives `SLOW_VALUES` a process unless values were given, as the worker does. A pass run just
after another process's pass is slower than one after its own (about 25% here: caches, a
sleeping thread woken), so the values of an interleaved job are compared with each other, not
with a run's; pass by pass they pair more closely than value by value (a ratio's spread 7%
against 10%, measured), since a value of each side then spans the same seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError, reported
from harness.measure.prefix import SLOW_VALUES

MIN_VALUE_S = 0.1  # pyperf's --min-time: a value is at least this long
# Processes and values a process, unless --processes and --values. A side's process runs in a
# mode of its own for seconds: on the 2-core VM the mean ratio of a process's rounds spread 4-6%
# from process to process, when its own rounds gave it a standard error of 2-3%. So the paired
# test is over processes (harness.results.stats.paired_by_process), and a job has many short
# ones: A/A jobs of 6 processes of 5 rounds gave -1.6% .. +1.3% (3 jobs), where jobs of 3 of 10
# (as many passes) gave -2.4% .. +3.2% (4 jobs) and the same code at +10.4% in one process.
PROCESSES = {"fast": 3, "default": 6, "rigorous": 12}
VALUES = 5


@dataclass
class Side:
    """One benchmark of an interleaved job: an engine, run by a Python in a folder."""

    key: str  # the benchmark's engine, or "COMMIT/engine"
    engine: str  # engine name, module:Class, or the ceiling
    python: str = sys.executable
    cwd: Path | None = None
    env: dict | None = None


class _Server:
    """A pass server of one side, in a process group of its own."""

    def __init__(self, side: Side, path: Path, label: str, settings) -> None:
        self.label = label
        self.stderr = tempfile.TemporaryFile()
        argv = [side.python, "-m", "harness.measure.passes", "--engine", side.engine,
                "--input", str(path), "--chunk-records", str(settings.chunk_records)]  # fmt: skip
        if settings.strict:
            argv.append("--strict")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self.stderr, cwd=side.cwd, env=side.env,
                                         text=True, start_new_session=True)  # fmt: skip
        except OSError as exc:
            raise InputError(f"{label}: cannot start {side.python!r} ({exc.strerror})") from None

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            self.proc.wait()
            self.stderr.seek(0)
            said = self.stderr.read().decode(errors="replace")
            raise InputError(reported(said, f"{self.label}: the pass server failed")) from None

    def passes(self, count: int) -> dict:
        self.proc.stdin.write(f"{count}\n")
        self.proc.stdin.flush()
        return self.read()

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # what it started goes with it
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:  # a pipe to a process that is gone
                pass
        self.stderr.close()


def measure(path: Path, sides: list[Side], labels: dict[str, str], settings,
            on_start: Callable[[str], Callable[[], None]] | None = None) -> dict:  # fmt: skip
    """Every side on `path`, interleaved: {side's key: pyperf.Benchmark}. `labels` names each
    side's benchmark; `on_start("process i/n")` is called as each process starts, and what it
    returns when it is done."""
    import pyperf

    processes, values = processes_and_values(settings)
    job = uuid.uuid4().hex[:12]
    order = random.Random()
    loops: dict[str, int] = {}
    runs: dict[str, list] = {side.key: [] for side in sides}
    for process in range(processes):
        done = on_start(f"process {process + 1}/{processes}") if on_start else None
        servers: dict[str, _Server] = {}
        try:
            for side in sides:  # all started together: their warm-ups overlap, untimed
                servers[side.key] = _Server(side, path, labels[side.key], settings)
            ready = {key: server.read() for key, server in servers.items()}
            if process == 0:
                for key, server in servers.items():
                    loops[key] = settings.loops or _calibrated(server)
            counts = {key: SLOW_VALUES if ready[key]["slow"] and settings.values is None
                      else values for key in servers}  # fmt: skip
            timed: dict[str, list[float]] = {key: [] for key in servers}
            last: dict[str, dict] = {}
            digests: dict[str, set] = {key: set() for key in servers}
            for turn in range(max(counts.values())):
                # A value is `loops` passes; the sides take their passes one at a time, in an
                # order drawn anew for each, so that a value of every side spans the same
                # seconds (a burst on the machine meets them all, not one side's value).
                seconds = dict.fromkeys(servers, 0.0)
                for step in range(max(loops.values())):
                    for side in order.sample(sides, len(sides)):
                        if turn < counts[side.key] and step < loops[side.key]:
                            answer = servers[side.key].passes(1)
                            seconds[side.key] += answer["seconds"]
                            last[side.key] = answer["metadata"]
                            digests[side.key].add(answer["metadata"].get("mbobench_digest"))
                for key in servers:
                    if turn < counts[key]:
                        timed[key].append(max(seconds[key], 1e-9) / loops[key])
        finally:
            for server in servers.values():
                server.stop()
        for side in sides:
            metadata = {**ready[side.key]["metadata"], **last[side.key], "name": labels[side.key],
                        "loops": loops[side.key], "mbobench_interleaved": job,
                        "mbobench_interleaved_sides": len(sides)}  # fmt: skip
            if len(digests[side.key]) > 1:  # passes that computed different things
                metadata["mbobench_digest"] = ",".join(sorted(map(str, digests[side.key])))
            if counts[side.key] != values:
                metadata["mbobench_values_per_process"] = counts[side.key]
            runs[side.key].append(pyperf.Run(timed[side.key], metadata=metadata))
        if done:
            done()
    return {key: pyperf.Benchmark(found) for key, found in runs.items()}


def processes_and_values(settings) -> tuple[int, int]:
    """Processes of an interleaved job, and values a process, by the settings' preset."""
    processes = settings.processes or PROCESSES.get(settings.preset, PROCESSES["default"])
    return processes, settings.values or VALUES


def _calibrated(server: _Server) -> int:
    """Loops a value: the first power of two whose passes take pyperf's minimum time, by one
    pass's time."""
    seconds = server.passes(1)["seconds"]
    count = 1
    while count * seconds < MIN_VALUE_S:
        count *= 2
    return count
