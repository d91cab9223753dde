"""Is the gate's noise drift? The trust experiment's pairs, measured in one process, two ways.

`trust.py` compares whole runs made one after the other, as a CI job compares a result with an
older one. This measures the same pairs (A against A, and A against 10% more work: the slowed
engine of `benchmarks/slowed.py`, its extra pass calibrated as trust.py calibrates it) in one
process, over the same minutes, two ways:

- interleaved: a pass of A, a pass of A', a pass of B, in turn (in an order drawn anew each
  turn: a pass run just after another's extra work runs differently), `--passes` a pair;
- in blocks: all of A's passes, then all of A''s, then all of B's, as separate runs are.

A pair is gated when its mean pass is more than `--limit` slower. If the machine's speed drifts
over seconds, the blocks see the drift as a difference and interleaving cancels it: the gap
between the two verdicts is what drift does to a gate that compares runs made at other times.

    python benchmarks/drift.py [FILE] [--pairs 10] [--passes 24] [--slowdown 0.10] [--limit 0.06]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from statistics import fmean

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--passes", type=int, default=24, help="passes of each side, a pair")
    parser.add_argument("--slowdown", type=float, default=0.10, help="B's extra work")
    parser.add_argument("--limit", type=float, default=0.06, help="the gate's max_slowdown")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.trust import calibrated_records

    if args.file is None:
        from harness.datasets.default import default_file

        args.file, _ = default_file()
    records = calibrated_records(args.file, args.slowdown)
    from benchmarks.slowed import SlowedEngine
    from harness.dbn.reader import Reader

    os.environ["MBOBENCH_SLOWDOWN"] = "0"  # A: no extra work
    plain = SlowedEngine()
    os.environ["MBOBENCH_SLOWDOWN"] = str(args.slowdown)  # B: a pass over the file's head
    os.environ["MBOBENCH_SLOWDOWN_RECORDS"] = str(records)
    slowed = SlowedEngine()

    def seconds(engine) -> float:  # one whole pass: open, read, decode, process
        start = time.perf_counter()
        engine.run(Reader(args.file))
        return time.perf_counter() - start

    for engine in (plain, slowed):  # warm-ups
        seconds(engine)
    n, order = args.passes, random.Random(1)
    changes: dict[str, list[tuple[float, float]]] = {"interleaved": [], "blocks": []}
    for pair in range(args.pairs):
        sides: list[list[float]] = [[], [], []]  # A, A', B
        for _ in range(n):
            for side in order.sample(range(3), 3):
                sides[side].append(seconds(slowed if side == 2 else plain))
        a, a2, b = (fmean(side) for side in sides)
        changes["interleaved"].append((a2 / a - 1, b / a - 1))
        a, a2, b = (fmean(seconds(e) for _ in range(n)) for e in (plain, plain, slowed))
        changes["blocks"].append((a2 / a - 1, b / a - 1))
        print(f"pair {pair}", file=sys.stderr)
    report = {"file": str(args.file), "pairs": args.pairs, "passes": n, "limit": args.limit,
              "slowdown": args.slowdown, "head_records": records, "changes": changes}  # fmt: skip
    for way, pairs in changes.items():
        same, more = [x for x, _ in pairs], [y for _, y in pairs]
        report[way] = {"aa_false_alarms": sum(x > args.limit for x in same),
                       "caught": sum(y > args.limit for y in more)}  # fmt: skip
        print(
            f"{way:>11}: A/A {report[way]['aa_false_alarms']} of {args.pairs} gated "
            f"({min(same):+.1%} .. {max(same):+.1%}); {args.slowdown:.0%} caught "
            f"{report[way]['caught']} of {args.pairs} ({min(more):+.1%} .. {max(more):+.1%})"
        )
    out = ROOT / "reports" / "drift.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
