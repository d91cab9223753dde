"""Can a CI gate trust mbobench? A/A, sensitivity and noise, measured with real runs.

- A/A: the same code measured twice, N times over: how often `check --baseline` with
  `max_slowdown` gates a regression that is not there (should be 0 of N).
- Sensitivity: the slowed engine (`benchmarks/slowed.py`, 10% extra work) against the same
  engine without it, N times: how often the slowdown is caught (should be at least 9 of 10).
- Noise: the relative standard deviation of every engine's values in one run of the suite.

    python benchmarks/trust.py [FILE] [--pairs 10] [--preset default] [--max-slowdown 0.06]

Results are printed and written as JSON to reports/trust.json. Every run uses the same preset.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOWED = "benchmarks.slowed:SlowedEngine"


def mbobench(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)  # fmt: skip


def run(path: Path, out: Path, engines: list[str], preset: list[str], slowdown: str) -> float:
    """One suite run; its wall time in seconds."""
    env = dict(os.environ, MBOBENCH_SLOWDOWN=slowdown)
    args = ["run", str(path), "-q", "-o", str(out), "--force", *preset]
    for engine in engines:
        args += ["--engine", engine]
    start = time.monotonic()
    proc = mbobench(*args, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return time.monotonic() - start


def gated(new: Path, old: Path, config: Path) -> bool:
    proc = mbobench("check", str(new), "--baseline", str(old), "--config", str(config))
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    return proc.returncode == 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--preset", choices=("fast", "default", "rigorous"), default="default")
    parser.add_argument("--max-slowdown", type=float, default=0.06)
    parser.add_argument("--noise-engines", default="baseline,direct,batch,preallocated,lockless,"
                        "compiled")  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from harness.results.resultfile import load_result

    if args.file is None:
        from harness.datasets.default import default_file

        args.file, _ = default_file()
    preset = [] if args.preset == "default" else [f"--{args.preset}"]
    tmp = Path(tempfile.mkdtemp(prefix="mbobench-trust-"))
    config = tmp / "gate.toml"
    config.write_text(f"[tool.mbobench.thresholds]\nmax_slowdown = {args.max_slowdown}\n")
    plain, slowed, walls = [], [], []
    for i in range(args.pairs + 1):
        plain.append(tmp / f"a{i}.json")
        walls.append(run(args.file, plain[-1], [SLOWED], preset, "0"))
        if i < args.pairs:
            slowed.append(tmp / f"b{i}.json")
            run(args.file, slowed[-1], [SLOWED], preset, "0.10")
        print(f"pair {i}: {walls[-1]:.0f} s a run", file=sys.stderr)
    false_alarms = sum(gated(plain[i + 1], plain[i], config) for i in range(args.pairs))
    caught = sum(gated(slowed[i], plain[i], config) for i in range(args.pairs))
    changes = []
    for i in range(args.pairs):
        a, b = load_result(plain[i]).rows[1], load_result(slowed[i]).rows[1]
        changes.append(b.events_per_s / a.events_per_s - 1)
    suite = tmp / "suite.json"
    suite_wall = run(args.file, suite, args.noise_engines.split(","), preset, "0")
    noise = {r.engine: r.rsd for r in load_result(suite).rows}
    report = {
        "file": str(args.file), "preset": args.preset, "max_slowdown": args.max_slowdown,
        "aa_false_alarms": false_alarms, "pairs": args.pairs, "slowdown_caught": caught,
        "measured_slowdowns": changes, "noise_rsd": noise,
        "wall_seconds_one_engine_run": sum(walls) / len(walls), "wall_seconds_suite": suite_wall,
    }  # fmt: skip
    out = ROOT / "reports" / "trust.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"A/A: {false_alarms} of {args.pairs} same-code pairs gated as a regression")
    print(f"sensitivity: {caught} of {args.pairs} injected 10% slowdowns caught "
          f"(measured {min(changes):+.1%} to {max(changes):+.1%})")  # fmt: skip
    for engine, rsd in noise.items():
        print(f"noise: {engine}: relative standard deviation {rsd:.1%}")
    print(
        f"wall time ({args.preset}): {suite_wall:.0f} s for the suite, "
        f"{report['wall_seconds_one_engine_run']:.0f} s for the ceiling and one engine"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
