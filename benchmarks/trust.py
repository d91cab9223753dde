"""Can a CI gate trust mbobench? A/A, sensitivity and noise, measured with real runs.

- A/A: the same code measured twice, N times over: how often `check --baseline` with
  `max_slowdown` gates a regression that is not there (should be 0 of N).
- Sensitivity: the slowed engine (`benchmarks/slowed.py`, extra work per event, 10% by
  default) against the same engine without it, N times: how often the slowdown is caught.
- Noise: the relative standard deviation of every engine's values in one run of the suite.

    python benchmarks/trust.py [FILE] [--pairs 10] [--preset default] [--slowdown 0.10]
                               [--measure time|instructions] [--limits 0.06,0.01]

Every pair is gated at each of `--limits` (max_slowdown for time, max_instructions_increase for
counts), so one experiment gives the table side by side. Results are printed and written as
JSON to reports/trust-MEASURE.json. Every run uses the same preset.
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


STEPS: dict[str, str] = {}  # counting: the slowed engine's extra steps per event, by slowdown


def run(path: Path, out: Path, engines: list[str], preset: list[str], slowdown: str) -> float:
    """One suite run; its wall time in seconds."""
    env = dict(os.environ, MBOBENCH_SLOWDOWN=slowdown if slowdown in ("0", "0.0") else "1")
    if slowdown in STEPS:  # counting: the steps per event, not a fraction of time
        env["MBOBENCH_SLOWDOWN_STEPS"] = STEPS[slowdown]
    else:
        env["MBOBENCH_SLOWDOWN"] = slowdown
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
    parser.add_argument("--measure", choices=("time", "instructions"), default="time")
    parser.add_argument("--slowdown", type=float, default=0.10, help="the injected extra work")
    parser.add_argument("--limits", default="0.06,0.01", help="the gate's limits to apply")
    parser.add_argument("--noise-engines", default="baseline,direct,batch,preallocated,lockless,"
                        "compiled")  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from harness.results.resultfile import load_result

    if args.file is None:
        from harness.datasets.default import default_file

        args.file, _ = default_file()
    preset = [] if args.preset == "default" else [f"--{args.preset}"]
    if args.measure == "instructions":
        preset = ["--measure", "instructions"]
    tmp = Path(tempfile.mkdtemp(prefix="mbobench-trust-"))
    rule = "max_slowdown" if args.measure == "time" else "max_instructions_increase"
    limits = [float(x) for x in args.limits.split(",")]
    configs = {}
    for limit in limits:
        configs[limit] = tmp / f"gate-{limit}.toml"
        configs[limit].write_text(f"[tool.mbobench.thresholds]\n{rule} = {limit}\n")
    if args.measure == "instructions":
        # Extra work of exactly `slowdown` of the engine's own instructions: a step's count per
        # event from a run with 10 steps an event against one with none.
        base, ten = tmp / "steps-0.json", tmp / "steps-10.json"
        STEPS["0"], STEPS["ten"] = "0", "10"
        run(args.file, base, [SLOWED], preset, "0")
        run(args.file, ten, [SLOWED], preset, "ten")
        own = load_result(base).rows[1].instructions_per_event
        per_step = (load_result(ten).rows[1].instructions_per_event - own) / 10
        STEPS[str(args.slowdown)] = repr(args.slowdown * own / per_step)
        print(f"{own:,.1f} instructions an event, {per_step:.2f} a step", file=sys.stderr)
    plain, slowed, walls = [], [], []
    for i in range(args.pairs + 1):
        plain.append(tmp / f"a{i}.json")
        walls.append(run(args.file, plain[-1], [SLOWED], preset, "0"))
        if i < args.pairs:
            slowed.append(tmp / f"b{i}.json")
            run(args.file, slowed[-1], [SLOWED], preset, str(args.slowdown))
        print(f"pair {i}: {walls[-1]:.0f} s a run", file=sys.stderr)
    table = {}
    for limit, config in configs.items():
        table[limit] = {
            "aa_false_alarms": sum(gated(plain[i + 1], plain[i], config)
                                   for i in range(args.pairs)),
            "slowdown_caught": sum(gated(slowed[i], plain[i], config) for i in range(args.pairs)),
        }  # fmt: skip
    changes, repeats = [], []
    for i in range(args.pairs):
        a, b = load_result(plain[i]).rows[1], load_result(slowed[i]).rows[1]
        again = load_result(plain[i + 1]).rows[1]
        changes.append(b.mean_s / a.mean_s - 1)  # more time (or instructions) a pass
        repeats.append(again.mean_s / a.mean_s - 1)
    report = {
        "file": str(args.file), "measure": args.measure, "preset": args.preset,
        "slowdown": args.slowdown, "pairs": args.pairs, "rule": rule,
        "by_limit": {str(k): v for k, v in table.items()},
        "measured_slowdowns": changes, "same_code_differences": repeats,
        "wall_seconds_one_engine_run": sum(walls) / len(walls),
    }  # fmt: skip
    if args.measure == "time":
        suite = tmp / "suite.json"
        report["wall_seconds_suite"] = run(args.file, suite, args.noise_engines.split(","),
                                           preset, "0")  # fmt: skip
        report["noise_rsd"] = {r.engine: r.rsd for r in load_result(suite).rows}
    out = ROOT / "reports" / f"trust-{args.measure}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{args.measure}, {args.pairs} pairs, injected {args.slowdown:.0%} extra work "
          f"(measured {min(changes):+.2%} to {max(changes):+.2%} a pass); the same code twice "
          f"differed by {min(repeats):+.3%} to {max(repeats):+.3%}")  # fmt: skip
    for limit, row in table.items():
        print(f"  {rule} = {limit}: A/A {row['aa_false_alarms']} of {args.pairs} gated; "
              f"slowdown caught {row['slowdown_caught']} of {args.pairs}")  # fmt: skip
    for engine, rsd in report.get("noise_rsd", {}).items():
        print(f"noise: {engine}: relative standard deviation {rsd:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
