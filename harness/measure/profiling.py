"""Attribution by profile: py-spy and scalene on the installed console script, per category.

Each profiler runs as its own process on `mbobench once FILE --engine NAME`, the same engine
run that the benchmarks time, and writes into `profiles/<engine>/`:
- py-spy: `py-spy.speedscope.json` (open it at speedscope.app) and `py-spy.collapsed.txt`
  (one stack per line with its sample count), summed into categories;
- scalene: `scalene.json`, its per-line CPU shares and memory allocations summed into the
  same categories, with the lines that allocate most.
Categories come from `harness.results.categories` (declared beside the code). Profiling runs are
never timing runs: nothing here goes into a result file.

What the profilers cannot see: the compiled engine's kernel is native code; both profilers see
it as one call from Python, so its book, strategies and fills all land in "kernel".
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.errors import InputError, ToolMissing
from harness.results.categories import CATEGORIES, categorize, frame_category, function_at

PROFILERS = ("py-spy", "scalene")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*):(?P<line>\d+)\)$")


def profile(engine: str, path: Path, profiler: str, out_dir: Path, seconds: float) -> dict:
    """Profile one engine on one file; the per-category summary (also written as JSON)."""
    script = _find("mbobench")
    if script is None:
        raise ToolMissing("the mbobench console script is not installed (pip install .)")
    target = [script, "once", str(path), "--engine", engine, "--min-seconds", str(seconds)]
    out_dir.mkdir(parents=True, exist_ok=True)
    if profiler == "py-spy":
        summary = _py_spy(target, out_dir)
    else:
        summary = _scalene(target, out_dir)
    summary.update({"engine": engine, "file": str(path), "profiler": profiler})
    (out_dir / f"summary-{profiler}.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _py_spy(target: list[str], out_dir: Path) -> dict:
    exe = _tool("py-spy")
    collapsed = out_dir / "py-spy.collapsed.txt"
    for fmt, out in (("raw", collapsed), ("speedscope", out_dir / "py-spy.speedscope.json")):
        _run([exe, "record", "--rate", "250", "--format", fmt, "-o", str(out), "--", *target],
             "py-spy")  # fmt: skip
    return summarize_collapsed(collapsed.read_text())


def summarize_collapsed(text: str) -> dict:
    """Samples per category from py-spy's collapsed stacks ("f (file:line);g (...) COUNT")."""
    samples = dict.fromkeys(CATEGORIES, 0)
    for line in text.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        stack = []
        for frame in stack_text.split(";"):
            match = _FRAME.match(frame)
            if match:
                stack.append((match["function"], match["file"], int(match["line"])))
        samples[categorize(stack)] += int(count)
    total = sum(samples.values()) or 1
    return {"unit": "samples", "total": total, "categories": samples,
            "shares": {k: v / total for k, v in samples.items()}}  # fmt: skip


def _scalene(target: list[str], out_dir: Path) -> dict:
    exe = _tool("scalene")
    out = out_dir / "scalene.json"
    # Only our packages: scalene otherwise profiles the console script alone.
    _run([exe, "run", "--profile-only", "engines,harness", "-o", str(out), target[0], "---",
          *target[1:]], "scalene")  # fmt: skip
    try:
        data = json.loads(out.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ToolMissing(f"scalene wrote no readable profile ({exc})") from None
    return summarize_scalene(data)


def summarize_scalene(data: dict) -> dict:
    """CPU shares and allocated MB per category, and the lines that allocate most."""
    cpu = dict.fromkeys(CATEGORIES, 0.0)
    memory = dict.fromkeys(CATEGORIES, 0.0)
    allocating = []
    for filename, info in data.get("files", {}).items():
        for line in info.get("lines", []):
            number = int(line.get("lineno", 0))
            share = sum(float(line.get(k, 0) or 0) for k in
                        ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent"))  # fmt: skip
            megabytes = float(line.get("n_malloc_mb", 0) or 0)
            if not share and not megabytes:
                continue
            function = function_at(filename, number) if filename.endswith(".py") else ""
            category = frame_category(function, filename, number) or "other"
            cpu[category] += share
            memory[category] += megabytes
            if megabytes:
                allocating.append(
                    {
                        "file": filename,
                        "line": number,
                        "mb": megabytes,
                        "code": line.get("line", "").strip(),
                        "category": category,
                    }
                )
    total = sum(cpu.values())
    allocating.sort(key=lambda x: -x["mb"])
    return {"unit": "cpu percent", "total": total, "cpu_sampled": total > 0, "categories": cpu,
            "shares": {k: v / (total or 1.0) for k, v in cpu.items()}, "malloc_mb": memory,
            "top_allocations": allocating[:10]}  # fmt: skip


def _find(name: str) -> str | None:
    """A console script beside the running Python (where pip put it), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _tool(name: str) -> str:
    exe = _find(name)
    if exe is None:
        raise ToolMissing(f"{name} is not installed (pip install {name})")
    return exe


def _run(cmd: list[str], name: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        text = proc.stderr + proc.stdout
        if "Permission denied" in text or "ptrace" in text or "Operation not permitted" in text:
            raise ToolMissing(f"{name} may not sample here: the platform forbids it ({name} "
                              "needs ptrace; run as root or allow it)")  # fmt: skip
        for line in reversed(text.splitlines()):
            if "mbobench: error: " in line:
                raise InputError(line.split("mbobench: error: ", 1)[1])
        tail = (text.strip().splitlines() or ["no output"])[-1]
        raise ToolMissing(f"{name} failed ({tail})")
