"""A pass server: one engine (or the reading ceiling) on one file, timing passes when asked.

`python -m harness.measure.passes --engine NAME --input FILE` loads the engine and makes its
warm-up (whole untimed passes: `harness.measure.worker.prepare`, as a pyperf worker does), then
prints one JSON line, `{"ready": true, "slow": ..., "metadata": {...}}`. From then on each line
it reads on stdin is a number N: it makes N whole passes over the file (open, read, decode,
process), timed together with `perf_counter`, and prints one JSON line:
`{"seconds": S, "metadata": {...}}`, where the metadata says what the passes computed (events,
digest, fills, peak RSS) as a pyperf worker's run does. It exits at the end of its input.

This is what `harness.measure.interleave` drives: several servers, one per engine (or per engine
and commit), kept alive for a process's values and asked for their passes in turn, so that a
machine whose speed drifts over seconds slows every engine alike. A user's mistake (an unknown
engine, a bad record) is one line on stderr, prefixed as the worker's are, and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def serve(job, metadata: dict, slow: bool, describe, lines=sys.stdin, out=sys.stdout) -> None:
    """Answer each request on `lines` (a number of passes) with their time and outcome."""
    from harness.measure.runner import peak_rss

    print(json.dumps({"ready": True, "slow": slow, "metadata": metadata}), file=out, flush=True)
    for line in lines:
        passes = int(line)
        start = time.perf_counter()
        for _ in range(passes):
            outcome = job()
        seconds = time.perf_counter() - start
        answer = dict(describe(outcome))
        rss = peak_rss()
        if rss:
            answer["mbobench_peak_rss"] = rss
        print(json.dumps({"seconds": seconds, "metadata": answer}), file=out, flush=True)


def main() -> None:
    from engines import EngineNotFound
    from engines.book import UnknownOrder
    from harness.errors import ERROR_PREFIX, InputError
    from harness.measure import worker

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", required=True, help="engine name, module:Class, or ceiling")
    parser.add_argument("--input", required=True, help="the DBN MBO file")
    parser.add_argument("--chunk-records", type=int, default=0)  # 0: by format (reader.py)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    args.records = 0  # the warm-up is whole passes, whatever the engine's speed
    try:
        job, metadata, slow = worker.prepare(args, {"mbobench_engine": args.engine,
                                                    "mbobench_file": args.input})  # fmt: skip
        serve(job, metadata, slow, worker.PassOutcome.describe)
    except UnknownOrder as exc:
        print(f"{ERROR_PREFIX}{worker.locate_unknown(Path(args.input), exc)}", file=sys.stderr)
        sys.exit(2)
    except (InputError, EngineNotFound) as exc:
        print(f"{ERROR_PREFIX}{exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # the parent is gone: nothing to answer
        sys.exit(0)


if __name__ == "__main__":
    main()
