"""Can a CI gate trust mbobench? A/A, sensitivity and noise, measured with real runs.

- A/A: the same code measured twice, N times over: how often `check --baseline` with
  `max_slowdown` gates a regression that is not there (should be 0 of N).
- Sensitivity: the slowed engine (`benchmarks/slowed.py`, extra work per event, 10% by
  default) against the same engine without it, N times: how often the slowdown is caught.
- Noise: the relative standard deviation of every engine's values in one run of the suite.

    python benchmarks/trust.py [FILE] [--pairs 10] [--preset default] [--slowdown 0.10,0.01]
                               [--measure time|instructions] [--limits 0.06,0.01] [--interleave]

With `--interleave`, each pair is one side-by-side job, as a CI job that gates a pull request
runs it: `mbobench run --commits A,A2,B --interleave` on a git repository of the toy backtester
(`benchmarks/toyrepo.py`) whose commits A and A2 hold the same code and B the extra work; A2
and B are each gated against A from that job's results.

Every pair is gated at each of `--limits` (max_slowdown for time, max_instructions_increase for
counts), and each of `--slowdown` is injected in every pair, so one experiment gives the table
side by side. The extra work is calibrated once, before the pairs, and every slowed run gets the
same steps per event: by time, the median of five calibrations in one process; by count, from a
count with ten steps an event against one with none. Results are printed and written as
JSON to reports/trust-MEASURE.json (trust-time-interleaved.json). Every run uses the same
preset.
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
    """`mbobench ARGS` from the project's root, its output captured."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)  # fmt: skip


# The slowed engine's extra work, by slowdown: its environment (records of the file's head by
# time, steps per event by count).
EXTRA: dict[str, dict[str, str]] = {}


def run(path: Path, out: Path, engines: list[str], preset: list[str], slowdown: str) -> float:
    """One suite run; its wall time in seconds."""
    env = {**os.environ, "MBOBENCH_SLOWDOWN": slowdown, **EXTRA.get(slowdown, {})}
    args = ["run", str(path), "-q", "-o", str(out), "--force", "--no-store", *preset]
    for engine in engines:
        args += ["--engine", engine]
    start = time.monotonic()
    proc = mbobench(*args, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return time.monotonic() - start


CALIBRATE = """
import statistics, sys
from benchmarks.slowed import SlowedEngine
from harness.dbn.reader import Reader
records = []
for _ in range(5):
    engine = SlowedEngine()
    engine.run(Reader(sys.argv[1]))  # its first pass over the file calibrates
    records.append(engine.head_records)
print(round(statistics.median(records)))
"""


def calibrated_records(path: Path, slowdown: float) -> int:
    """Records of the file's head whose extra pass costs `slowdown` of the slowed engine's time,
    measured once here."""
    env = dict(os.environ, MBOBENCH_SLOWDOWN=str(slowdown), PYTHONPATH=str(ROOT))
    env.pop("MBOBENCH_SLOWDOWN_STEPS", None)
    env.pop("MBOBENCH_SLOWDOWN_RECORDS", None)
    proc = subprocess.run([sys.executable, "-c", CALIBRATE, str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return int(proc.stdout.split()[-1])


def side_by_side(path: Path, tmp: Path, preset: list[str], head: int, pairs: int):
    """The pairs as side-by-side jobs on a toy repository: [(A, A2, B) result files] a pair, and
    each job's wall time."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import toyrepo

    repo = tmp / "repo"
    commits = toyrepo.make(repo, count=3, regression=2, steps=0, head=head)
    config = tmp / "run.toml"
    config.write_text(f"[tool.mbobench]\nrepository = {str(repo)!r}\n")
    jobs, walls = [], []
    for i in range(pairs):
        out = tmp / f"p{i}-{{commit}}.json"
        start = time.monotonic()
        proc = mbobench("run", str(path), "--commits", ",".join(commits), "--interleave",
                        "--engine", toyrepo.ENGINE, "-o", str(out), "--no-store", "-q",
                        "--config", str(config), *preset)  # fmt: skip
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        walls.append(time.monotonic() - start)
        jobs.append([Path(str(out).replace("{commit}", c)) for c in commits])
        print(f"pair {i}: {walls[-1]:.0f} s a job", file=sys.stderr)
    return jobs, walls


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
    parser.add_argument("--slowdown", default="0.10", help="the injected extra work (a list)")
    parser.add_argument("--limits", default="0.06,0.01", help="the gate's limits to apply")
    parser.add_argument("--noise-engines", default="baseline,direct,batch,preallocated,lockless,"
                        "compiled")  # fmt: skip
    parser.add_argument("--processes", type=int, help="pyperf processes a run (default: preset)")
    parser.add_argument("--interleave", action="store_true",
                        help="a pair: one side-by-side job of commits A, A2 and B")  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from harness.results.resultfile import load_result

    if args.file is None:
        from harness.datasets.default import default_file

        args.file, _ = default_file()
    preset = [] if args.preset == "default" else [f"--{args.preset}"]
    if args.measure == "instructions":
        preset = ["--measure", "instructions"]
    if args.processes:
        preset += ["--processes", str(args.processes)]
    tmp = Path(tempfile.mkdtemp(prefix="mbobench-trust-"))
    rule = "max_slowdown" if args.measure == "time" else "max_instructions_increase"
    limits = [float(x) for x in args.limits.split(",")]
    slowdowns = [float(x) for x in args.slowdown.split(",")]
    configs = {}
    for limit in limits:
        configs[limit] = tmp / f"gate-{limit}.toml"
        configs[limit].write_text(f"[tool.mbobench.thresholds]\n{rule} = {limit}\n")
    if args.measure == "time":
        for slowdown in slowdowns:
            records = calibrated_records(args.file, slowdown)
            EXTRA[str(slowdown)] = {"MBOBENCH_SLOWDOWN_RECORDS": str(records)}
            print(f"{slowdown:.0%} extra work: a pass over the first {records:,} records",
                  file=sys.stderr)  # fmt: skip
    if args.measure == "instructions":
        # Extra work of exactly `slowdown` of the engine's own instructions: a step's count per
        # event from a run with 10 steps an event against one with none.
        base, ten = tmp / "steps-0.json", tmp / "steps-10.json"
        EXTRA["ten"] = {"MBOBENCH_SLOWDOWN": "0", "MBOBENCH_SLOWDOWN_STEPS": "10"}
        run(args.file, base, [SLOWED], preset, "0")
        run(args.file, ten, [SLOWED], preset, "ten")
        own = load_result(base).rows[1].instructions_per_event
        per_step = (load_result(ten).rows[1].instructions_per_event - own) / 10
        for slowdown in slowdowns:
            EXTRA[str(slowdown)] = {"MBOBENCH_SLOWDOWN_STEPS": repr(slowdown * own / per_step)}
        print(f"{own:,.1f} instructions an event, {per_step:.2f} a step", file=sys.stderr)
    pairs = range(args.pairs)
    if args.interleave:  # A2 and B against A, of one job each pair
        if args.measure != "time" or len(slowdowns) != 1:
            raise SystemExit("--interleave: wall time, and one --slowdown")
        head = int(EXTRA[str(slowdowns[0])]["MBOBENCH_SLOWDOWN_RECORDS"])
        jobs, walls = side_by_side(args.file, tmp, preset, head, args.pairs)
        repeated = [(a2, a) for a, a2, _ in jobs]
        slowed = {slowdowns[0]: [(b, a) for a, _, b in jobs]}
    else:  # whole runs one after the other: A, B, then the next pair's A
        plain, walls = [], []
        slowed = {x: [] for x in slowdowns}
        for i in range(args.pairs + 1):
            plain.append(tmp / f"a{i}.json")
            walls.append(run(args.file, plain[-1], [SLOWED], preset, "0"))
            for slowdown, runs in slowed.items() if i < args.pairs else ():
                runs.append((tmp / f"b{i}-{slowdown}.json", plain[-1]))
                run(args.file, runs[-1][0], [SLOWED], preset, str(slowdown))
            print(f"pair {i}: {walls[-1]:.0f} s a run", file=sys.stderr)
        repeated = [(plain[i + 1], plain[i]) for i in pairs]
    table = {}
    for limit, config in configs.items():
        table[limit] = {"aa_false_alarms": sum(gated(new, old, config) for new, old in repeated)}
        for slowdown, runs in slowed.items():
            table[limit][f"caught_{slowdown}"] = sum(gated(new, old, config)
                                                     for new, old in runs)  # fmt: skip

    def change(new: Path, old: Path) -> float:  # more time (or instructions) a pass
        return load_result(new).rows[1].mean_s / load_result(old).rows[1].mean_s - 1

    changes = {x: [change(*pair) for pair in runs] for x, runs in slowed.items()}
    repeats = [change(*pair) for pair in repeated]
    report = {
        "file": str(args.file), "measure": args.measure, "preset": args.preset,
        "slowdowns": slowdowns, "pairs": args.pairs, "rule": rule, "interleave": args.interleave,
        "processes": args.processes,
        "by_limit": {str(k): v for k, v in table.items()},
        "measured_slowdowns": {str(k): v for k, v in changes.items()},
        "same_code_differences": repeats,
        "wall_seconds_one_engine_run" if not args.interleave else "wall_seconds_one_job":
            sum(walls) / len(walls),
        "extra_work": EXTRA,
    }  # fmt: skip
    if args.measure == "time":
        suite = tmp / "suite.json"
        report["wall_seconds_suite"] = run(args.file, suite, args.noise_engines.split(","),
                                           preset, "0")  # fmt: skip
        report["noise_rsd"] = {r.engine: r.rsd for r in load_result(suite).rows}
    out = ROOT / "reports" / f"trust-{args.measure}{'-interleaved' if args.interleave else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{args.measure}, {args.pairs} pairs; the same code twice differed by "
          f"{min(repeats):+.3%} to {max(repeats):+.3%}")  # fmt: skip
    for slowdown, values in changes.items():
        print(f"  injected {slowdown:.0%} extra work: measured {min(values):+.2%} to "
              f"{max(values):+.2%} a pass")  # fmt: skip
    for limit, row in table.items():
        caught = "; ".join(f"{x:.0%} caught {row[f'caught_{x}']} of {args.pairs}"
                           for x in slowdowns)  # fmt: skip
        print(f"  {rule} = {limit}: A/A {row['aa_false_alarms']} of {args.pairs} gated; {caught}")
    for engine, rsd in report.get("noise_rsd", {}).items():
        print(f"noise: {engine}: relative standard deviation {rsd:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
