"""Command engines: a backtester in any language, run as a program on the file.

`--engine 'cmd:PROGRAM ARGS {file}'` (or a suite entry) names a program; `{file}` is replaced
by the DBN file's path (appended when absent). The protocol:

- the program reads the file, runs its backtest, and prints, as the last line of its output,
  one JSON object with at least `"events"` (records processed) and `"digest"` (any string; the
  baseline's digest when it computes what mbobench's engines compute), then exits 0;
- mbobench runs it once untimed to read that line, then times the whole process with
  `pyperf command`; the time to start it is measured apart, by timing the same program on an
  empty DBN file of the same schema, and recorded as `mbobench_startup_seconds`.

A program that exits non-zero, or prints no such line, is an `InputError` (exit 2).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from harness.errors import InputError


def command_line(template: str, path: Path) -> list[str]:
    """The program's argv for a file: `{file}` replaced, or the path appended."""
    argv = shlex.split(template)
    if not argv:
        raise InputError("cmd: engine with no program")
    if not any("{file}" in arg for arg in argv):
        return [*argv, str(path)]
    return [arg.replace("{file}", str(path)) for arg in argv]


def run_once(template: str, path: Path) -> dict:
    """Run the program untimed and read its JSON line."""
    argv = command_line(template, path)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True)
    except OSError as exc:
        raise InputError(f"cmd:{template}: cannot run {argv[0]!r} ({exc.strerror})") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"cmd:{template}: exited with {proc.returncode} on {path} ({tail})")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        answer = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        answer = None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("events"), int)
        or not (isinstance(answer.get("digest"), str))
    ):
        raise InputError(f"cmd:{template}: printed no JSON line with an integer \"events\" and a "
                         f"string \"digest\" on {path}")  # fmt: skip
    return answer


def measure_command(template: str, path: Path, label: str, part: Path, settings):
    """Time the program on `path` with pyperf; a benchmark with mbobench's metadata."""

    from harness.dbn.writer import write_dbn

    answer = run_once(template, path)
    suffix = ".dbn.zst" if path.name.endswith(".zst") else ".dbn"
    empty = write_dbn(part.with_name(part.stem + "-empty" + suffix), [], dataset="EMPTY",
                      start_ns=0, end_ns=1, symbols=[])  # fmt: skip
    run_once(template, empty)  # the program must take an empty file too
    startup = _pyperf_command(template, empty, label + " (startup)",
                              part.with_name(part.stem + "-startup.json"), settings)  # fmt: skip
    bench = _pyperf_command(template, path, label, part, settings)
    bench.update_metadata({
        "mbobench_engine": f"cmd:{template}", "mbobench_events": answer["events"],
        "mbobench_digest": answer["digest"], "mbobench_startup_seconds": startup.mean(),
        "mbobench_file": str(path),
    })  # fmt: skip
    return bench


def _pyperf_command(template: str, path: Path, name: str, out: Path, settings):
    import pyperf

    cmd = [sys.executable, "-m", "pyperf", "command", "--quiet", "--name", name, "-o", str(out),
           *settings.pyperf_args(), "--", *command_line(template, path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"cmd:{template}: pyperf could not time it ({tail})")
    return pyperf.Benchmark.load(str(out))
