"""One pyperf benchmark: an engine (or the reading ceiling) on one file, in pyperf's workers.

Run as its own program, `python -m harness.measure.worker --engine NAME --input FILE [pyperf
options]`, so that pyperf's command line (presets, processes, values, `-o`) is pyperf's alone:
`mbobench run` calls it once per engine and file and merges the results. pyperf's parent process
spawns workers of this same module; each worker first runs the engine once untimed (a warm-up that
also gives the digest, the event count and the peak RSS, recorded as run metadata), then
times whole passes over the file: open, read, decode and process, inside the timed region.
Compilation happens in the warm-up, never in a value.
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


def time_passes(loops: int, job) -> float:
    """Seconds for `loops` whole passes of `job` over the file."""
    start = time.perf_counter()
    for _ in range(loops):
        job()
    return time.perf_counter() - start


SLOW_PASS_S = 1.0  # a warm-up pass this long or longer: one value a process


def main() -> None:
    import pyperf

    from harness.measure.runner import DEFAULT_PROCESSES, DEFAULT_VALUES

    runner = pyperf.Runner(
        processes=DEFAULT_PROCESSES,
        values=DEFAULT_VALUES,
        warmups=0,  # each worker's untimed first pass (in _prepare) is its warm-up
        program_args=("-m", "harness.measure.worker"),  # pyperf puts sys.executable in front
        add_cmdline_args=pass_args,
    )
    parser = runner.argparser
    parser.add_argument("--engine", required=True, help="engine name, module:Class, or ceiling")
    parser.add_argument("--input", required=True, help="the DBN MBO file")
    parser.add_argument("--chunk-records", type=int, default=0)  # 0: by format (reader.py)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--name", help="the benchmark's name (default: ENGINE)")
    parser.add_argument("--slow-values", type=int, default=0,
                        help="values a process of an engine whose pass takes a second or more "
                        "(0: pyperf's --values)")  # fmt: skip
    args = runner.parse_args()
    metadata = {"mbobench_engine": args.engine, "mbobench_file": args.input}
    job = None
    if args.worker:  # only workers load the engine and read the file
        from engines import EngineNotFound
        from engines.book import UnknownOrder
        from harness.errors import InputError
        from harness.measure.runner import ERROR_PREFIX

        try:
            job, metadata, warm_s = _prepare(args, metadata)
        except UnknownOrder as exc:
            print(ERROR_PREFIX + locate_unknown(Path(args.input), exc), file=sys.stderr)
            sys.exit(2)
        except (InputError, EngineNotFound) as exc:
            print(f"{ERROR_PREFIX}{exc}", file=sys.stderr)
            sys.exit(2)
        if args.calibrate_loops:
            # Calibrating finds the loops from its first values and throws them away: for an
            # engine whose pass takes seconds, pyperf's `values` more passes would be wasted.
            args.values = 1
        elif args.slow_values and warm_s >= SLOW_PASS_S:
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


def _prepare(args, metadata: dict):
    from engines import load_engine
    from harness.dbn.reader import Reader
    from harness.measure.ceiling import read_ceiling
    from harness.measure.runner import peak_rss, reset_peak_rss
    from harness.results.resultfile import CEILING

    path = Path(args.input)

    def chunks():  # the reader itself: an engine may read it ahead its own way (read_ahead)
        return Reader(path, args.chunk_records)

    if args.engine == CEILING:

        def job():
            return read_ceiling(chunks())[0]

        events = None
    else:
        engine = load_engine(args.engine)
        compile_s = getattr(engine, "compile_seconds", 0.0) or 0.0
        if getattr(engine, "reads_ahead", False):  # its reading loop compiles before, too
            from harness.dbn.readahead import warm_up

            start = time.perf_counter()
            warm_up()
            compile_s += time.perf_counter() - start

        def job():
            return engine.run(chunks(), args.strict)

    reset_peak_rss()
    start = time.perf_counter()
    outcome = job()  # the warm-up: compiles, and tells what the engine computed
    warm_s = time.perf_counter() - start
    if args.engine == CEILING:
        events = outcome
    else:
        events = outcome.events
        metadata["mbobench_digest"] = outcome.digest
        metadata["mbobench_fills"] = outcome.fills
        metadata["mbobench_unknown_orders"] = outcome.unknown_orders
        if compile_s:
            metadata["mbobench_compile_seconds"] = float(compile_s)
    metadata["mbobench_events"] = events
    rss = peak_rss()
    if rss:
        metadata["mbobench_peak_rss"] = rss
    return job, metadata, warm_s


if __name__ == "__main__":
    main()
