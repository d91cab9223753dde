"""The `mbobench` command: the only module that prints errors or exits.

Exit codes: 0 ok; 1 an engine computed a different digest (or, later, a gate failed); 2 bad
usage or bad input; 3 a missing tool or permission; 130 interrupted.
Heavy modules (numpy, numba, the engines) are imported inside the commands, so that `--help`
stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from harness.errors import InputError, ToolMissing

EPILOG = (
    "exit codes: 0 ok, 1 wrong digest or failed gate, 2 bad usage or input, "
    "3 missing tool or permission, 130 interrupted"
)


def cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

    from harness.config import load_config
    from harness.resultfile import load_result
    from harness.runner import Settings, run_suite, write_suite
    from harness.table import run_table

    err = Console(stderr=True, quiet=args.quiet)
    config = load_config(args.config)
    _importable_here()
    files = [args.file] if args.file else [Path(f) for f in config["files"]]
    if not files:
        from harness.dataset import default_file

        with err.status("generating the default data set (once)..."):
            path, made = default_file(config["default_events"])
        if made:
            err.print(f"generated {path}")
        files = [path]
    preset = "fast" if args.fast else "rigorous" if args.rigorous else config["preset"]
    settings = Settings(preset=preset, processes=args.processes or config["processes"] or None,
                        values=args.values or config["values"] or None, loops=args.loops,
                        strict=args.strict, chunk_records=config["chunk_records"])  # fmt: skip
    out = args.output or Path("reports") / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    if out.exists() and not args.force:
        raise InputError(f"{out}: already exists (use --force to replace it)")
    columns = (SpinnerColumn(), "[progress.description]{task.description}", TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:

        def on_start(label: str):
            task = progress.add_task(label, total=1)
            return lambda: progress.update(task, completed=1)

        suite = run_suite(files, args.engine or config["engines"], settings, on_start)
    write_suite(suite, out, force=args.force)
    result = load_result(out)
    _console_out().print(run_table(result))
    err.print(f"result written to {out}")
    if result.wrong:
        # Not a progress message: --quiet does not silence it.
        names = ", ".join(f"{r.file}/{r.engine}" for r in result.wrong)
        print(f"mbobench: wrong digest: {names} (speed not reported)", file=sys.stderr)
        return 1
    return 0


def _importable_here() -> None:
    """A user's `module:Class` beside them is importable. After the installed packages: in a
    clone of this project, the working directory's copies of `engines` and `harness` must not
    take the place of the installed ones that this process has partly imported already."""
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())


def _console_out():
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = 120
    return console


def cmd_attribute(args: argparse.Namespace) -> int:
    from harness.attribution import ENGINES, attribute
    from harness.resultfile import load_result
    from harness.table import attribution_table

    if args.result:
        result = load_result(args.result)
    else:
        out = args.output or Path("reports") / f"attribution-{time.strftime('%Y%m%d-%H%M%S')}.json"
        args.engine = list(ENGINES)
        args.output = out
        status = cmd_run(args)
        if status:
            return status
        result = load_result(out)
    console = _console_out()
    for attribution in attribute(result):
        console.print(attribution_table(attribution))
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    import json

    from engines.book import UnknownOrder
    from harness.reader import Reader
    from harness.runner import load_engine_or_fail

    _importable_here()
    engine = load_engine_or_fail(args.engine)
    Reader(args.file)  # a bad file is reported before anything runs
    start = time.monotonic()
    passes = 0
    while passes == 0 or time.monotonic() - start < args.min_seconds:
        try:
            results = engine.run(Reader(args.file), args.strict)
        except UnknownOrder as exc:
            from harness.bench import locate_unknown

            raise InputError(locate_unknown(args.file, exc)) from None
        passes += 1
    print(
        json.dumps(
            {
                "events": results.events,
                "digest": results.digest,
                "passes": passes,
                "fills": results.fills,
                "unknown_orders": results.unknown_orders,
            }
        )
    )
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from harness.profiling import profile
    from harness.table import profile_table

    path = args.file
    if path is None:
        from harness.dataset import default_file

        path, _ = default_file()
    summary = profile(args.engine, path, args.profiler, args.output or
                      Path("profiles") / args.engine.replace(":", "_"), args.seconds)  # fmt: skip
    table = profile_table(summary, f"{args.profiler}: {args.engine} on {path.name}")
    _console_out().print(table)
    if summary.get("cpu_sampled") is False:
        print(f"  {args.profiler} recorded no CPU samples here: only its memory figures count")
    for top in summary.get("top_allocations", [])[:5]:
        print(
            f"  allocates {top['mb']:,.1f} MB: {Path(top['file']).name}:{top['line']} "
            f"({top['category']}) {top['code']}"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from harness.attribution import ENGINES as SWITCH_ENGINES
    from harness.report import build, write
    from harness.resultfile import load_result

    paths = args.results or sorted(Path("reports").glob("*.json"))
    results = []
    for path in paths:
        if path.name in ("trust.json",) or path.name.startswith("."):
            continue
        results.append(load_result(path))
    if not results:
        raise InputError("no result files given, and none under reports/ (run mbobench run)")
    attributions = [r for r in results if any(row.engine in SWITCH_ENGINES for row in r.rows)]
    runs = [r for r in results if r not in attributions]
    if not runs:
        raise InputError("only attribution results given: the report needs a run result too")
    attribution = max(attributions, key=lambda r: r.path.stat().st_mtime) if attributions else None
    profiles = []
    for summary in sorted(Path(args.profiles).glob("*/summary-*.json")):
        try:
            profiles.append(json.loads(summary.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{summary}: not a readable profile summary ({exc})") from None
    out = args.output or Path("reports") / "report.html"
    html_path, md_path = write(build(runs, attribution, profiles), out, "mbobench report")
    print(html_path)
    print(md_path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare import compare
    from harness.resultfile import load_result
    from harness.table import compare_table

    changes = compare(load_result(args.old), load_result(args.new))
    if args.markdown:
        print("| file / engine | old events/s | new events/s | change | |\n|---|---|---|---|---|")
        for c in changes:
            verdict = "significant" if c.significant else "not significant"
            print(f"| {c.file} / {c.engine} | {c.old.events_per_s:,.0f} | "
                  f"{c.new.events_per_s:,.0f} | {c.change:+.1%} | {verdict} |")  # fmt: skip
        return 0
    table = compare_table(changes, f"{args.old.name} -> {args.new.name}")
    _console_out().print(table)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from harness.config import load_config
    from harness.gate import evaluate, markdown, validate
    from harness.resultfile import load_result
    from harness.table import check_table

    result = load_result(args.result)
    baseline = load_result(args.baseline) if args.baseline else None
    source = args.config or Path("pyproject.toml")
    thresholds = validate(load_config(args.config)["thresholds"], source)
    checks = evaluate(result, thresholds, baseline)
    table = check_table(checks, f"mbobench check {args.result.name}")
    _console_out().print(table)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write(markdown(checks))
    failed = [c for c in checks if not c.passed]
    if failed:
        print(f"mbobench: check failed: {len(failed)} of {len(checks)} checks", file=sys.stderr)
        return 1
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from harness.synth import synthesize

    synthesize(args.output, args.events, seed=args.seed, instruments=args.instruments)
    print(args.output)
    return 0


def cmd_data_import_lobster(args: argparse.Namespace) -> int:
    from harness.lobster import import_lobster

    print(import_lobster(args.message, args.book, args.output, symbol=args.symbol, date=args.date))
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def _dbn_name(text: str) -> Path:
    if not (text.endswith(".dbn") or text.endswith(".dbn.zst")):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .dbn or .dbn.zst")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mbobench",
        description="Benchmark MBO (L3) backtesting engines against the reading ceiling.",
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="measure the reading ceiling and engines on a DBN MBO file", epilog=EPILOG
    )
    run.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="a .dbn or .dbn.zst MBO file (default: the embedded data set)",
    )
    run.add_argument(
        "--engine",
        action="append",
        metavar="NAME",
        help="an engine name or package.module:Class (repeatable; default: config)",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="make a cancel or modify of an unknown order id an error",
    )
    run.add_argument("--fast", action="store_true", help="pyperf's fast preset")
    run.add_argument("--rigorous", action="store_true", help="pyperf's rigorous preset")
    run.add_argument("--processes", type=_positive, help="pyperf worker processes per engine")
    run.add_argument("--values", type=_positive, help="pyperf values per process")
    run.add_argument("--loops", type=_positive, help="passes per value (default: calibrated)")
    run.add_argument(
        "-o",
        "--output",
        type=Path,
        help="result file, pyperf JSON (default: reports/run-DATE-TIME.json)",
    )
    run.add_argument("--force", action="store_true", help="replace an existing result file")
    run.add_argument("--config", type=Path, help="a TOML settings file ([tool.mbobench])")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(func=cmd_run)  # fmt: skip

    attr = commands.add_parser(
        "attribute",
        epilog=EPILOG,
        help="split the baseline's time among queue, lock, allocation and dispatch (16 runs)",
    )
    attr.add_argument("file", nargs="?", type=Path, help="a DBN MBO file (default: embedded)")
    attr.add_argument(
        "--from",
        dest="result",
        type=Path,
        help="compute from an earlier attribution result instead of measuring",
    )
    for flag, help_text in (
        ("--fast", "pyperf's fast preset"),
        ("--rigorous", "pyperf's rigorous preset"),
    ):
        attr.add_argument(flag, action="store_true", help=help_text)
    attr.add_argument("--processes", type=_positive, help="pyperf worker processes per run")
    attr.add_argument("--values", type=_positive, help="pyperf values per process")
    attr.add_argument("--loops", type=_positive, help="passes per value (default: calibrated)")
    attr.add_argument("-o", "--output", type=Path, help="result file (pyperf JSON)")
    attr.add_argument("--force", action="store_true", help="replace an existing result file")
    attr.add_argument("--config", type=Path, help="a TOML settings file ([tool.mbobench])")
    attr.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    attr.set_defaults(func=cmd_attribute, strict=False, engine=None)

    once = commands.add_parser(
        "once",
        epilog=EPILOG,
        help="run one engine on a file (repeated for --min-seconds) and print its JSON line",
    )
    once.add_argument("file", type=Path, help="a DBN MBO file")
    once.add_argument("--engine", default="baseline", help="engine name or module:Class")
    once.add_argument("--min-seconds", type=float, default=0.0, help="repeat until this long")
    once.add_argument("--strict", action="store_true", help="unknown order ids are errors")
    once.set_defaults(func=cmd_once)

    prof = commands.add_parser(
        "profile",
        epilog=EPILOG,
        help="profile an engine with py-spy or scalene into profiles/<engine>/, by category",
    )
    prof.add_argument("file", nargs="?", type=Path, help="a DBN MBO file (default: embedded)")
    prof.add_argument("--engine", required=True, help="engine name or module:Class")
    prof.add_argument("--profiler", choices=("py-spy", "scalene"), default="py-spy")
    prof.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="run the engine at least this long (repeating passes)",
    )
    prof.add_argument("-o", "--output", type=Path, help="folder (default: profiles/<engine>)")
    prof.set_defaults(func=cmd_profile)

    rep = commands.add_parser(
        "report",
        epilog=EPILOG,
        help="one self-contained HTML report (and a markdown twin) from result files",
    )
    rep.add_argument(
        "results",
        nargs="*",
        type=Path,
        help="result files, run and attribution (default: reports/*.json)",
    )
    rep.add_argument("--profiles", default="profiles", help="where profile summaries are")
    rep.add_argument(
        "-o", "--output", type=Path, help="the HTML file (default: reports/report.html)"
    )
    rep.set_defaults(func=cmd_report)

    comp = commands.add_parser(
        "compare",
        help="per engine and file, the change in events/s between two results",
        epilog=EPILOG,
    )
    comp.add_argument("old", type=Path, help="the older result (pyperf JSON from `mbobench run`)")
    comp.add_argument("new", type=Path, help="the newer result")
    comp.add_argument("--markdown", action="store_true", help="a markdown table, for a PR comment")
    comp.set_defaults(func=cmd_compare)

    check = commands.add_parser(
        "check",
        help="gate a result on the thresholds of the config (exit 1 on failure)",
        epilog=EPILOG,
    )
    check.add_argument("result", type=Path, help="the result to check")
    check.add_argument("--baseline", type=Path, help="an older result, for max_slowdown")
    check.add_argument("--config", type=Path, help="a TOML settings file ([tool.mbobench])")
    check.set_defaults(func=cmd_check)

    data = commands.add_parser("data", help="make DBN MBO files", epilog=EPILOG)
    data_commands = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    synth = data_commands.add_parser(
        "synth", help="generate a realistic synthetic DBN MBO file (deterministic)", epilog=EPILOG
    )
    synth.add_argument("--events", type=_positive, default=1_000_000, help="records to write")
    synth.add_argument("--seed", type=int, default=1, help="random seed")
    synth.add_argument("--instruments", type=_positive, default=3, help="instruments")
    synth.add_argument("-o", "--output", type=_dbn_name, required=True,
                       help="output file; .dbn.zst is compressed")  # fmt: skip
    synth.set_defaults(func=cmd_data_synth)

    lobster = data_commands.add_parser(
        "import-lobster", help="convert a LOBSTER message file to DBN MBO", epilog=EPILOG
    )
    lobster.add_argument("message", type=Path, help="LOBSTER message CSV")
    lobster.add_argument("--book", type=Path, help="the matching LOBSTER orderbook CSV (seeds it)")
    lobster.add_argument("--symbol", help="the symbol (default: from LOBSTER's file name)")
    lobster.add_argument("--date", help="the trading date, YYYY-MM-DD (default: from the name)")
    lobster.add_argument("-o", "--output", type=_dbn_name,
                         help="output file (default: beside the message file)")  # fmt: skip
    lobster.set_defaults(func=cmd_data_import_lobster)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except InputError as exc:
        print(f"mbobench: error: {exc}", file=sys.stderr)
        return 2
    except ToolMissing as exc:
        print(f"mbobench: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("mbobench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
