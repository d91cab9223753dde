"""Command engines: a backtester in any language, run as a program on the file.

`--engine 'cmd:PROGRAM ARGS {file}'` names a program; `{file}` is replaced by the DBN file's
path (appended when absent). Two protocols, told apart by the template:

- Whole process (no `{passes}`): the program reads the file, runs its backtest, prints as the
  last line of its output one JSON object with at least `"events"` (records processed) and
  `"digest"`, and exits 0. mbobench runs it once untimed to read that line, then times the whole
  process with `pyperf command`; the time to start it is measured apart, on an empty DBN file of
  the same schema (`mbobench_startup_seconds`).
- Per pass (`{passes}` in the template, replaced by a number N): the program makes N whole
  passes over the file in one process (each: open, read, process, from a fresh state) and
  prints after each one JSON line with `"events"`, `"digest"` and `"elapsed_ns"`, its own clock
  around that pass. mbobench runs it in as many processes as the preset asks (pyperf's
  processes), each making one untimed pass (a warm-up) and then its values, and hands the values
  to pyperf as a worker's would be: process start, loading and one-off set-up stay outside.

Every digest of every pass must agree. A program that exits non-zero, or prints no such line,
is an `InputError` (exit 2) naming the engine and the program's last line on stderr.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from harness.errors import InputError
from harness.measure import processes

PASSES = "{passes}"


def command_line(template: str, path: Path, passes: int = 1) -> list[str]:
    """The program's argv for a file: `{file}` replaced (or the path appended), `{passes}` too."""
    argv = shlex.split(template)
    if not argv:
        raise InputError("cmd: engine with no program")
    argv = [arg.replace(PASSES, str(passes)) for arg in argv]
    if not any("{file}" in arg for arg in argv):
        return [*argv, str(path)]
    return [arg.replace("{file}", str(path)) for arg in argv]


def run_passes(template: str, path: Path, passes: int, name: str) -> list[dict]:
    """Run the program and read its JSON lines: one per pass (the last line only without
    `{passes}`); each with an integer "events" and a string "digest"."""
    argv = command_line(template, path, passes)
    try:
        proc = processes.run(argv)
    except OSError as exc:
        raise InputError(f"{name}: cannot run {argv[0]!r} ({exc.strerror})") from None
    if proc.returncode != 0:
        raise InputError(f"{name}: exited with {proc.returncode} on {path} ({proc.tail()})")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    wanted = passes if PASSES in template else 1
    answers = [_answer(line) for line in lines[-wanted:]]
    timed = PASSES in template
    if len(answers) < wanted or any(a is None or (timed and not isinstance(
            a.get("elapsed_ns"), int)) for a in answers):  # fmt: skip
        what = 'an integer "events", a string "digest"' + (
            ' and an integer "elapsed_ns", one line per pass' if timed else ""
        )
        raise InputError(f"{name}: printed no JSON line with {what} on {path}")
    for answer in answers:
        answer["peak_rss"] = proc.peak_rss
    return answers


def _answer(line: str) -> dict | None:
    try:
        answer = json.loads(line)
    except json.JSONDecodeError:
        return None
    if isinstance(answer, dict) and isinstance(answer.get("events"), int) and isinstance(
            answer.get("digest"), str):  # fmt: skip
        return answer
    return None


def measure_command(template: str, path: Path, label: str, part: Path, settings,
                    name: str | None = None):  # fmt: skip
    """Measure the program on `path` by its protocol; a pyperf benchmark with its metadata."""
    name = name or f"cmd:{template}"
    if PASSES in template:
        bench = _per_pass(template, path, label, settings, name)
    else:
        bench = _whole_process(template, path, label, part, settings, name)
    bench.update_metadata({"mbobench_engine": name, "mbobench_file": str(path)})
    return bench


def _per_pass(template: str, path: Path, label: str, settings, name: str):
    import pyperf

    count, values = settings.counts()
    runs, digests = [], set()
    for _ in range(count):
        answers = run_passes(template, path, 1 + values, name)
        digests |= {a["digest"] for a in answers}
        warm, *timed = answers
        metadata = {
            "name": label,
            "loops": 1,
            "mbobench_events": warm["events"],
            "mbobench_digest": warm["digest"],
            "mbobench_peak_rss": warm["peak_rss"],
        }
        for key in ("fills", "unknown_orders"):
            if isinstance(warm.get(key), int):
                metadata[f"mbobench_{key}"] = warm[key]
        seconds = [max(a["elapsed_ns"], 1) / 1e9 for a in timed]
        runs.append(pyperf.Run(seconds, warmups=[(1, warm["elapsed_ns"] / 1e9)],
                               metadata=metadata))  # fmt: skip
    if len(digests) > 1:
        raise InputError(f"{name}: its passes computed different digests on {path} "
                         f"({', '.join(sorted(digests))})")  # fmt: skip
    return pyperf.Benchmark(runs)


def _whole_process(template: str, path: Path, label: str, part: Path, settings, name: str):
    from harness.dbn.writer import write_dbn

    answer = run_passes(template, path, 1, name)[0]
    suffix = ".dbn.zst" if path.name.endswith(".zst") else ".dbn"
    empty = write_dbn(part.with_name(part.stem + "-empty" + suffix), [], dataset="EMPTY",
                      start_ns=0, end_ns=1, symbols=[])  # fmt: skip
    run_passes(template, empty, 1, name)  # the program must take an empty file too
    startup_part = part.with_name(part.stem + "-startup.json")
    startup = _pyperf_command(template, empty, label + " (startup)", startup_part, settings, name)
    bench = _pyperf_command(template, path, label, part, settings, name)
    bench.update_metadata(
        {
            "mbobench_events": answer["events"],
            "mbobench_digest": answer["digest"],
            "mbobench_startup_seconds": startup.mean(),
        }
    )
    return bench


def _pyperf_command(template: str, path: Path, label: str, out: Path, settings, name: str):
    import pyperf

    cmd = [sys.executable, "-m", "pyperf", "command", "--quiet", "--name", label, "-o", str(out),
           *settings.pyperf_args(), "--", *command_line(template, path)]  # fmt: skip
    proc = processes.run(cmd)
    if proc.returncode != 0:
        raise InputError(f"{name}: pyperf could not time it ({proc.tail()})")
    return pyperf.Benchmark.load(str(out))
