"""Running a program to completion, and never leaving it behind.

Every program mbobench starts to measure something (pyperf's parent and its workers, a command
engine, a profiler) runs in a process group of its own, so that whatever it starts in turn can be
stopped with it: when mbobench is interrupted (Ctrl-C, or a SIGINT or SIGTERM sent to it alone)
or fails while waiting, the whole group is killed and reaped before the exception goes on. The
program's peak resident memory comes back from the kernel's accounting of that child (`wait4`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_STOPPING = {signal.SIGINT, signal.SIGTERM}


@dataclass
class Finished:
    """A program that ran to its end: exit code, its output, and its peak RSS in bytes."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss: int


def run(argv: list[str], env: dict | None = None, cwd: str | None = None) -> Finished:
    """Run `argv` to its end in a process group of its own; OSError if it cannot start."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # An interruption while the program starts would leave it running unknown: a signal
        # then is noted, and acted on once the program can be stopped with it.
        caught: list[int] = []
        with _noting(caught):
            proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd,
                                    start_new_session=True)  # fmt: skip
        try:
            if caught:
                raise KeyboardInterrupt
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            stop(proc)
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        _kill_group(proc.pid)  # what it left running (a daemon it started) goes with it
        out.seek(0)
        err.seek(0)
        return Finished(proc.returncode, out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"), usage.ru_maxrss * 1024)  # fmt: skip


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


def stop(proc: subprocess.Popen) -> None:
    """Kill a program's whole process group and reap the program."""
    _kill_group(proc.pid)
    try:
        proc.wait()
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
