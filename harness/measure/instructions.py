"""Counting instructions: each engine's pass over a file, under Valgrind's Callgrind.

Wall time on a shared 2-core machine varies by several percent from run to run; the number of
instructions the same code executes on the same input does not, so a gate on it can catch a
regression of 1%. What is counted is one pass (open, read, decode, process), and nothing else:

- A Python engine (numba's compiled one included) and the reading ceiling run as `mbobench once
  --count-pass` under `valgrind --tool=callgrind --instr-atstart=no`: the interpreter, imports,
  numba's compilation and a first warm pass run uninstrumented, then the process switches
  Callgrind on for one pass and off after it (`harness.measure.callgrind`).
- A command engine of the per-pass protocol (the Rust ones) is counted making 2 passes and 1
  pass; the difference is one warm pass. A whole-process command engine is counted on the file
  and on an empty file of the same schema; the difference is the pass.

Counts are made exact, run to run: no thread reads ahead (`MBOBENCH_READ_AHEAD=0`: Valgrind runs
one thread at a time, and a thread waiting for another would count its waiting), Python's hash
seed is fixed and address-space randomization is off (`setarch -R`). numba compiles for the
`generic` x86-64 target (Valgrind cannot decode AVX-512, which this machine's own target would
use), before Valgrind starts, so that the counted process loads the kernel from numba's cache.
Every engine is counted on the same prefix of the file (`count_records`, 10,000 records by
default: a Python engine runs about 50 times slower under Callgrind), and the figure is
instructions per event.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.errors import InputError, ToolMissing
from harness.measure import processes
from harness.measure.command import PASSES, command_line, run_passes

CPU_TARGET = "generic"  # numba's target under Valgrind: no AVX-512
COUNT_RECORDS = 10_000
TOOL = "callgrind"
_TOTALS = re.compile(r"^totals:\s*(\d+)", re.MULTILINE)


def valgrind() -> tuple[str, str]:
    """Valgrind's program and version, or ToolMissing."""
    exe = shutil.which("valgrind")
    if exe is None:
        raise ToolMissing("valgrind is not installed (Debian: apt-get install valgrind)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return exe, version


# What a counted program inherits of mbobench's environment, as pyperf's workers do (and every
# MBOBENCH_ and NUMBA_ variable): the size of the environment moves the count of the same pass
# (its strings are on the heap first), by up to 0.09% for 3,000 events between an empty
# variable and one of 3,000 characters, measured; a CI job's or pytest's variables change it.
KEPT = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "PYTHONPATH",
        "PYTHONSAFEPATH", "VALGRIND_LIB")  # fmt: skip


def environment() -> dict:
    """The environment of every counted program: one thread, fixed hashes, numba's target, and
    no more of mbobench's environment than `KEPT`."""
    env = {name: value for name, value in os.environ.items()
           if name in KEPT or name.startswith(("MBOBENCH_", "NUMBA_"))}  # fmt: skip
    env.update(MBOBENCH_READ_AHEAD="0", PYTHONHASHSEED="0", NUMBA_CPU_NAME=CPU_TARGET,
               NUMBA_CPU_FEATURES="")  # fmt: skip
    here = str(Path(__file__).resolve().parents[2])  # the folder that holds harness/
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.getcwd(), env.get("PYTHONPATH"))
                                        if p)  # fmt: skip
    return env


def prefix(path: Path, records: int, folder: Path) -> Path:
    """The first `records` records of a DBN file, as a DBN file of the same kind."""
    import numpy as np

    from harness.dbn.reader import Reader
    from harness.dbn.writer import write_dbn

    reader = Reader(path)
    taken, left = [], records
    for chunk in reader:
        taken.append(chunk[:left])
        left -= len(taken[-1])
        if left <= 0:
            break
    data = np.concatenate(taken) if taken else np.empty(0, reader.dtype)
    suffix = ".dbn.zst" if reader.compressed else ".dbn"
    ts = data["ts_event"]
    return write_dbn(folder / f"{path.name.split('.')[0]}-first{len(data)}{suffix}", [data],
                     dataset=str(reader.metadata.dataset), start_ns=int(ts[0]) if len(ts) else 0,
                     end_ns=int(ts[-1]) + 1 if len(ts) else 1, symbols=["COUNTED"])  # fmt: skip


def count(argv: list[str], name: str, folder: Path, instrument_at_start: bool) -> int:
    """Instructions a program executes under Callgrind (all, or only where it switches counting
    on when `instrument_at_start` is False)."""
    exe, _ = valgrind()
    out = folder / f"callgrind-{len(list(folder.glob('callgrind-*')))}.out"
    setarch = [s, "-R"] if (s := shutil.which("setarch")) else []
    cmd = [*setarch, exe, f"--tool={TOOL}", f"--callgrind-out-file={out}",
           f"--instr-atstart={'yes' if instrument_at_start else 'no'}", *argv]  # fmt: skip
    proc = processes.run(cmd, env=environment())
    if proc.returncode != 0:
        text = proc.stderr
        if "unhandled instruction bytes" in text or "Illegal instruction" in text:
            raise InputError(f"{name}: Valgrind cannot run it (an instruction it does not decode; "
                             "build it for a plain x86-64 target, e.g. without -C "
                             "target-cpu=native or AVX-512)")  # fmt: skip
        lines = [line for line in text.splitlines() if line and not line.startswith("==")]
        tail = (lines or ["no output"])[-1]
        raise InputError(f"{name}: failed under Valgrind with {proc.returncode} ({tail})")
    totals = _TOTALS.search(out.read_text()) if out.is_file() else None
    if totals is None:
        raise ToolMissing(f"{name}: Callgrind wrote no counts ({out})")
    return int(totals.group(1))


def count_python(engine: str, path: Path, folder: Path, strict: bool) -> tuple[int, dict]:
    """One warm pass of a Python engine (or the ceiling) counted: instructions and its answer."""
    import json

    argv = [sys.executable, "-m", "harness.cli", "once", str(path), "--engine", engine,
            "--count-pass", *(["--strict"] if strict else [])]  # fmt: skip
    warm = processes.run(argv, env=environment())  # numba compiles for CPU_TARGET here
    if warm.returncode != 0:
        raise InputError(warm.tail())
    return count(argv, engine, folder, instrument_at_start=False), json.loads(warm.stdout)


def count_command(template: str, path: Path, folder: Path, name: str) -> tuple[int, dict]:
    """One pass of a command engine counted, by the difference of two runs."""
    if PASSES in template:
        answer = run_passes(template, path, 1, name)[0]
        one, two = (count(command_line(template, path, n), name, folder, True) for n in (1, 2))
        return two - one, answer
    from harness.dbn.writer import write_dbn

    answer = run_passes(template, path, 1, name)[0]
    empty = write_dbn(folder / f"empty{''.join(path.suffixes[-2:])}", [], dataset="EMPTY",
                      start_ns=0, end_ns=1, symbols=[])  # fmt: skip
    full = count(command_line(template, path), name, folder, True)
    return full - count(command_line(template, empty), name, folder, True), answer


def measure_instructions(path: Path, engine: str, template: str | None, label: str,
                         strict: bool, version: str):  # fmt: skip
    """A pyperf benchmark of one counted pass: one value, instructions, unit "integer"."""
    import pyperf

    with tempfile.TemporaryDirectory(prefix="mbobench-count-") as tmp:
        if template is None:
            instructions, answer = count_python(engine, path, Path(tmp), strict)
        else:
            instructions, answer = count_command(template, path, Path(tmp), engine)
    metadata = {
        "name": label,
        "unit": "integer",
        "loops": 1,
        "mbobench_engine": engine,
        "mbobench_events": answer["events"],
        "mbobench_measure": "instructions",
        "mbobench_tool": f"{TOOL} ({version})",
        "mbobench_cpu_target": CPU_TARGET,
    }
    if answer.get("digest"):  # (the ceiling computes none)
        metadata["mbobench_digest"] = answer["digest"]
    for key in ("fills", "unknown_orders"):
        if isinstance(answer.get(key), int):
            metadata[f"mbobench_{key}"] = answer[key]
    return pyperf.Benchmark([pyperf.Run([max(instructions, 1)], metadata=metadata)])
