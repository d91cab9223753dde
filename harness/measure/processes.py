"""Running a program to completion, and never leaving it behind.

Every program mbobench starts to measure something (pyperf's parent and its workers, a command
engine, a profiler) runs in a process group of its own, so that whatever it starts in turn can be
stopped with it: when mbobench is interrupted (Ctrl-C, or a SIGINT or SIGTERM sent to it alone)
or fails while waiting, the whole group is killed and reaped before the exception goes on. The
program's peak resident memory is read from /proc while it runs. With
`MBOBENCH_STOP_WITH_PARENT=1` (a benchmark that a Dask worker started), mbobench also stops
when the process that started it is gone.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_STOPPING = {signal.SIGINT, signal.SIGTERM}
POLL_S = 0.01  # how often a running program's memory is read


@dataclass
class Finished:
    """A program that ran to its end: exit code, its output, and its peak RSS in bytes."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss: int  # 0 when it ended before it could be read

    def tail(self, or_stdout: bool = False) -> str:
        """What to quote of a program that failed: its last line on stderr (or on stdout, when
        `or_stdout` and stderr is empty), without mbobench's own error prefix."""
        text = self.stderr.strip() or (self.stdout.strip() if or_stdout else "")
        return (text.splitlines() or ["no output"])[-1].removeprefix("mbobench: error: ")


def run(argv: list[str], env: dict | None = None) -> Finished:
    """Run `argv` to its end in a process group of its own; OSError if it cannot start."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # An interruption while the program starts would leave it running unknown: a signal
        # then is noted, and acted on once the program can be stopped with it. posix_spawn
        # (not fork) so that the program's peak memory is its own, not a copy of ours.
        caught: list[int] = []
        with _noting(caught):
            pid = os.posix_spawnp(argv[0], argv, os.environ if env is None else env,
                                  file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                                (os.POSIX_SPAWN_DUP2, err.fileno(), 2)],
                                  setsid=True)  # fmt: skip
        peak = 0
        parent = os.getppid()
        orphaned = os.environ.get("MBOBENCH_STOP_WITH_PARENT") == "1"
        try:
            if caught:
                raise KeyboardInterrupt
            # The kernel's own figure for a child (ru_maxrss) includes the parent's resident
            # memory at the moment it started it; its high-water mark in /proc is its own, read
            # while it runs (a peak in its last few milliseconds can be missed).
            while True:
                done, status, _ = os.wait4(pid, os.WNOHANG)
                if done:
                    break
                peak = max(peak, high_water(pid))
                if orphaned and os.getppid() != parent:  # a cluster's worker that died
                    raise KeyboardInterrupt
                time.sleep(POLL_S)
        except BaseException:
            stop(pid)
            raise
        _kill_group(pid)  # what it left running (a daemon it started) goes with it
        out.seek(0)
        err.seek(0)
        return Finished(os.waitstatus_to_exitcode(status), out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"), peak)  # fmt: skip


def high_water(pid: int | str = "self") -> int:
    """A process's peak resident memory so far (VmHWM), in bytes; 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


@contextmanager
def _noting(caught: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM appended to `caught` instead of handled, inside the block (in the main
    thread: elsewhere signals are not delivered anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in _STOPPING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop(pid: int) -> None:
    """Kill a program's whole process group and reap the program."""
    _kill_group(pid)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def terminate_on_sigterm() -> None:
    """Make SIGTERM interrupt this process as Ctrl-C does, so that the same clean-up runs."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
