"""One pyperf benchmark: an engine (or the reading ceiling) on one file, in pyperf's workers.

Run as its own program, `python -m harness.measure.worker --engine NAME --input FILE [pyperf
options]`, so that pyperf's command line (presets, processes, values, `-o`) is pyperf's alone:
`mbobench run` calls it once per engine and file and merges the results. pyperf's parent process
spawns workers of this same module; each worker first runs the engine untimed (a warm-up: its
compilation, its threads and buffers), then times whole passes over the file: open, read, decode
and process, inside the timed region. Compilation happens in the warm-up, never in a value.

The warm-up is a whole pass, except for an engine whose pass takes a second or more (pure
Python): its warm-up is a prefix of the file (`harness.measure.prefix`), which is what a warm-up
of an interpreted engine is for, and the time it takes says that the engine is slow (by the
file's record count, `--records`, which the runner has from the ceiling). What a run computed
(digest, fills, events, peak RSS) is taken from its timed passes (`PassOutcome`, a pyperf hook),
so the figures and the digest come from the very same passes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def pass_args(cmd: list[str], args) -> None:
    """pyperf's hook: our own options, handed on to each worker's command line."""
    cmd.extend(["--engine", args.engine, "--input", args.input])
    cmd.extend(["--chunk-records", str(args.chunk_records)])
    if args.name:
        cmd.extend(["--name", args.name])
    if args.strict:
        cmd.append("--strict")
    if args.slow_values:
        cmd.extend(["--slow-values", str(args.slow_values)])
    if args.records:
        cmd.extend(["--records", str(args.records)])


def time_passes(loops: int, job) -> float:
    """Seconds for `loops` whole passes of `job` over the file; what each computed is kept."""
    start = time.perf_counter()
    for _ in range(loops):
        outcome = job()
        PassOutcome.seen.append(outcome)  # (after the pass's last instruction: a list append)
    return time.perf_counter() - start


SLOW_PASS_S = 1.0  # a pass this long or longer: one value a process, and a prefix to warm up
# The warm-up: whole passes until this long (pyperf's is one value, of 0.1 s or more). After a
# single pass of 11 ms the first value of a process was 1-4% slower than the others (median
# over 69 processes of 5 runs), at times 15-40%: the process is not yet at its speed.
WARM_UP_S = 0.2


class PassOutcome:
    """A pyperf hook (`pyperf.Runner(hooks=...)`): the run's metadata says what its timed passes
    computed. pyperf makes one around each phase of a worker (calibration, values) and hands
    `teardown` the run's metadata."""

    name = "mbobench_outcome"
    seen: list = []  # the outcome of every timed pass of this phase
    describe = None  # outcome -> metadata (set by main, once the engine is known)

    @classmethod
    def load(cls):  # pyperf instantiates what an entry point's load() returns
        return cls

    def __init__(self) -> None:
        PassOutcome.seen.clear()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass

    def teardown(self, metadata: dict) -> None:
        if not self.seen or PassOutcome.describe is None:
            return
        described = [PassOutcome.describe(outcome) for outcome in self.seen]
        metadata.update(described[-1])
        digests = {d.get("mbobench_digest") for d in described}
        if len(digests) > 1:  # passes that computed different things: no digest is right
            metadata["mbobench_digest"] = ",".join(sorted(map(str, digests)))
        rss = _peak()
        if rss:
            metadata["mbobench_peak_rss"] = rss


def main() -> None:
    import pyperf

    from harness.measure.runner import DEFAULT_PROCESSES, DEFAULT_VALUES

    runner = pyperf.Runner(
        processes=DEFAULT_PROCESSES,
        values=DEFAULT_VALUES,
        warmups=0,  # each worker's untimed first pass (in prepare) is its warm-up
        program_args=("-m", "harness.measure.worker"),  # pyperf puts sys.executable in front
        add_cmdline_args=pass_args,
        hooks=[PassOutcome],
    )
    parser = runner.argparser
    parser.set_defaults(hook=[PassOutcome.name])  # in every worker (pyperf hands --hook on)
    parser.add_argument("--engine", required=True, help="engine name, module:Class, or ceiling")
    parser.add_argument("--input", required=True, help="the DBN MBO file")
    parser.add_argument("--chunk-records", type=int, default=0)  # 0: by format (reader.py)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--name", help="the benchmark's name (default: ENGINE)")
    parser.add_argument("--slow-values", type=int, default=0,
                        help="values a process of an engine whose pass takes a second or more "
                        "(0: pyperf's --values)")  # fmt: skip
    parser.add_argument("--records", type=int, default=0,
                        help="the file's records, to tell a slow engine by its warm-up on a "
                        "prefix (0: unknown, a whole pass warms up)")  # fmt: skip
    args = runner.parse_args()
    metadata = {"mbobench_engine": args.engine, "mbobench_file": args.input}
    job = None
    if args.worker:  # only workers load the engine and read the file
        from engines import EngineNotFound
        from engines.book import UnknownOrder
        from harness.errors import ERROR_PREFIX, InputError

        def fail(exc: Exception):  # a user's mistake: one line for the parent, exit 2
            said = locate_unknown(Path(args.input), exc) if isinstance(exc, UnknownOrder) else exc
            print(f"{ERROR_PREFIX}{said}", file=sys.stderr)
            sys.exit(2)

        try:
            prepared, metadata, slow = prepare(args, metadata)
        except (UnknownOrder, InputError, EngineNotFound) as exc:
            fail(exc)

        def job():  # a slow engine's warm-up saw a prefix only: the rest is met in a timed pass
            try:
                return prepared()
            except (UnknownOrder, InputError) as exc:
                fail(exc)

        if args.calibrate_loops:
            # Calibrating finds the loops from its first values and throws them away: for an
            # engine whose pass takes seconds, pyperf's `values` more passes would be wasted.
            args.values = 1
        elif args.slow_values and slow:
            # A pass of a second or more, and no --values given to mbobench: fewer values a
            # process (each still a whole pass), so that the preset's processes give the spread
            # across processes in a minute, not three times that.
            args.values = args.slow_values
            metadata["mbobench_values_per_process"] = args.slow_values
    runner.bench_time_func(args.name or args.engine, time_passes, job, metadata=metadata)


def locate_unknown(path: Path, exc) -> str:
    """The message for a strict run's unknown order id, with the record that named it."""
    from engines.book import Book, UnknownOrder
    from engines.events import F_LAST, rows
    from harness.dbn.reader import Reader

    books: dict[int, Book] = {}
    index = 0
    for chunk in Reader(path):
        for _, key, action, side, price, size, order_id, flags in rows(chunk):
            book = books.get(key) or books.setdefault(key, Book(strict=True))
            try:
                book.apply(action, side, price, size, order_id, flags)
            except UnknownOrder:
                return f"{path}: record {index}: {exc} (--strict)"
            if flags & F_LAST:
                book.end_event(key, 0)  # no digest kept
            index += 1
    return f"{path}: {exc} (--strict)"


def prepare(args, metadata: dict):
    """The timed job, the run's metadata, and whether the engine is slow (a second a pass)."""
    from engines import load_engine
    from harness.dbn.reader import Reader
    from harness.measure.ceiling import read_ceiling
    from harness.measure.prefix import pass_estimate
    from harness.measure.runner import reset_peak_rss
    from harness.results.resultfile import CEILING

    path = Path(args.input)

    def chunks():  # the reader itself: an engine may read it ahead its own way (read_ahead)
        return Reader(path, args.chunk_records)

    if args.engine == CEILING:

        def run(source):
            return read_ceiling(source)[0]

        PassOutcome.describe = lambda events: {"mbobench_events": events}
    else:
        engine = load_engine(args.engine)
        compile_s = getattr(engine, "compile_seconds", 0.0) or 0.0
        if getattr(engine, "reads_ahead", False):  # its reading loop compiles before, too
            from harness.dbn.readahead import warm_up

            start = time.perf_counter()
            warm_up()
            compile_s += time.perf_counter() - start
        if compile_s:
            metadata["mbobench_compile_seconds"] = float(compile_s)

        def run(source):
            return engine.run(source, args.strict)

        PassOutcome.describe = describe

    def job():
        return run(chunks())

    reset_peak_rss()
    slow = False
    if args.records and args.engine != CEILING:
        # The warm-up, on a prefix: it tells whether a whole pass takes a second.
        slow = pass_estimate(run, path, args.chunk_records, args.records) >= SLOW_PASS_S
    if not slow:
        start = time.perf_counter()
        job()  # the warm-up's first pass: compiles, starts threads, sizes the buffers
        slow = time.perf_counter() - start >= SLOW_PASS_S
        while time.perf_counter() - start < WARM_UP_S:
            job()
    return job, metadata, slow


def describe(outcome) -> dict:
    """An engine's pass, as run metadata: what it computed."""
    return {"mbobench_events": outcome.events, "mbobench_digest": outcome.digest,
            "mbobench_fills": outcome.fills,
            "mbobench_unknown_orders": outcome.unknown_orders}  # fmt: skip


def _peak() -> int | None:
    from harness.measure.runner import peak_rss

    return peak_rss()


if __name__ == "__main__":
    main()
