"""The `mbobench` command line: its parser, and `main`, the one place that prints errors and exits.

Exit codes: 0 ok; 1 an engine computed a different digest (or, later, a gate failed); 2 bad
usage or bad input; 3 a missing tool or permission; 130 interrupted.
The commands themselves are in `harness.commands`; heavy modules (numpy, numba, the engines) are
imported inside them, so that `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import commands, history_commands
from harness.errors import InputError, ToolMissing
from harness.measure import processes

EPILOG = (
    "exit codes: 0 ok, 1 wrong digest or failed gate, 2 bad usage or input, "
    "3 missing tool or permission, 130 interrupted"
)


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


class _Formatter(argparse.HelpFormatter):
    """Every option's default in its help, where it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
        if shown and "default" not in text:
            text += " (default: %(default)s)"
        return text


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mbobench")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mbobench",
        description="Benchmark MBO (L3) backtesting engines against the reading ceiling.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"mbobench {_version()}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = subcommands.add_parser(
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
    run.add_argument("--reference", metavar="ENGINE",
                     help="the engine whose digest every other must equal (default: baseline "
                     "when measured, else the first engine)")  # fmt: skip
    run.add_argument("--commit", help="the commit of the engines under test, recorded in the "
                     "result (default: the working directory's git HEAD)")  # fmt: skip
    run.add_argument("--measure", choices=("time", "instructions"),
                     help="wall time with pyperf, or instructions per event counted by Valgrind's "
                     "Callgrind (default: the config's measure, time)")  # fmt: skip
    run.add_argument("--fast", action="store_true", help="pyperf's fast preset")
    run.add_argument("--rigorous", action="store_true", help="pyperf's rigorous preset")
    run.add_argument(
        "--processes",
        type=_positive,
        help="pyperf worker processes per engine (default: the preset's; 3 in mbobench's default)",
    )
    run.add_argument(
        "--values",
        type=_positive,
        help="pyperf values per process (default: the preset's; 3 in mbobench's default, 1 for "
        "an engine whose pass takes a second or more)",
    )
    run.add_argument("--loops", type=_positive, help="passes per value (default: calibrated)")
    run.add_argument("--interleave", action="store_true",
                     help="measure a file's benchmarks (the ceiling, every engine; with "
                     "--commits, every engine at every commit) pass by pass in turn, in a "
                     "random order, so that the machine's drift slows them alike")  # fmt: skip
    run.add_argument(
        "-o",
        "--output",
        type=Path,
        help="result file, pyperf JSON (default: reports/run-DATE-TIME.json)",
    )
    run.add_argument("--force", action="store_true", help="replace an existing result file")
    run.add_argument(
        "--config",
        type=Path,
        help="a TOML settings file ([tool.mbobench]; default: ./pyproject.toml)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.add_argument("--commits", action="append", metavar="A..B",
                     help="measure at these commits of the engines' repository (a git range, "
                     "or commits by name; repeatable), each in a worktree of its own, into the "
                     "store")  # fmt: skip
    run.add_argument("--cluster", metavar="tcp://HOST:PORT",
                     help="run each benchmark as a task of this Dask scheduler's workers, one at "
                     "a time a machine (default: the config's cluster; none: here)")  # fmt: skip
    _store_options(run)
    run.add_argument("--no-store", action="store_true", help="do not keep the result in the store")
    run.set_defaults(func=_run)  # fmt: skip

    hist = subcommands.add_parser("history", epilog=EPILOG,
                                  help="what the results store holds, across commits and "
                                  "machines; --regressions: where each series steps")  # fmt: skip
    hist.add_argument("--engine", help="only this engine")
    hist.add_argument("--file", help="only this data file (its name or SHA-256 prefix)")
    hist.add_argument("--machine", help="only this machine")
    hist.add_argument(
        "--commits",
        action="append",
        metavar="A..B",
        help="only these commits (a git range or names; repeatable)",
    )
    hist.add_argument(
        "--regressions",
        action="store_true",
        help="list the steps of each series (change points), not its points",
    )
    _store_options(hist)
    hist.add_argument("--config", type=Path, help="a TOML settings file ([tool.mbobench]; "
                      "default: ./pyproject.toml)")  # fmt: skip
    hist.set_defaults(func=history_commands.cmd_history)

    bis = subcommands.add_parser("bisect", epilog=EPILOG,
                                 help="the first commit between GOOD and BAD where an engine is "
                                 "slower, or computes another digest")  # fmt: skip
    bis.add_argument("good", help="a commit where the engine was fine")
    bis.add_argument("bad", help="a later commit where it is slower (or its digest changed)")
    bis.add_argument("--engine", required=True, help="the engine to bisect")
    bis.add_argument("--file", type=Path, help="a DBN MBO file (default: the config's first, "
                     "or the embedded data set)")  # fmt: skip
    bis.add_argument(
        "--measure",
        choices=("time", "instructions"),
        help="wall time or instruction counts (default: the config's)",
    )
    bis.add_argument("--fast", action="store_true", help="pyperf's fast preset")
    bis.add_argument("--rigorous", action="store_true", help="pyperf's rigorous preset")
    for flag in ("--processes", "--values", "--loops"):
        bis.add_argument(flag, type=_positive, help=f"pyperf's {flag} for each commit's run")
    _store_options(bis)
    bis.add_argument("--config", type=Path, help="a TOML settings file ([tool.mbobench]; "
                     "default: ./pyproject.toml)")  # fmt: skip
    bis.set_defaults(func=history_commands.cmd_bisect)

    attr = subcommands.add_parser(
        "attribute",
        epilog=EPILOG,
        help="split the baseline's time among queue, lock, allocation and dispatch (16 runs)",
    )
    attr.add_argument("file", nargs="?", type=Path, help="a DBN MBO file (default: embedded)")
    attr.add_argument("--engine", dest="family", default="switches", metavar="FAMILY",
                      help="whose switches: 'switches' (the Python engine), 'rust', or a "
                      "'cmd:...' template with {queue} {lock} {alloc} {dispatch}, each "
                      "replaced by on or off")  # fmt: skip
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
    attr.add_argument(
        "--processes",
        type=_positive,
        help="pyperf worker processes per run (default: the preset's)",
    )
    attr.add_argument(
        "--values",
        type=_positive,
        help="pyperf values per process (default: the preset's; 3 in mbobench's default)",
    )
    attr.add_argument("--loops", type=_positive, help="passes per value (default: calibrated)")
    attr.add_argument("-o", "--output", type=Path, help="result file (pyperf JSON)")
    attr.add_argument("--force", action="store_true", help="replace an existing result file")
    attr.add_argument(
        "--config",
        type=Path,
        help="a TOML settings file ([tool.mbobench]; default: ./pyproject.toml)",
    )
    attr.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    attr.set_defaults(func=commands.cmd_attribute, strict=False, engine=None, reference=None,
                      commit=None)  # fmt: skip

    once = subcommands.add_parser(
        "once",
        epilog=EPILOG,
        help="run one engine on a file (repeated for --min-seconds) and print its JSON line",
    )
    once.add_argument("file", type=Path, help="a DBN MBO file")
    once.add_argument("--engine", default="baseline",
                      help="engine name or module:Class, or ceiling")  # fmt: skip
    once.add_argument("--min-seconds", type=float, default=0.0, help="repeat until this long")
    once.add_argument("--strict", action="store_true", help="unknown order ids are errors")
    once.add_argument("--count-pass", action="store_true",
                      help="one warm pass, then one that Callgrind counts (under valgrind "
                      "--tool=callgrind --instr-atstart=no)")  # fmt: skip
    once.set_defaults(func=commands.cmd_once)

    prof = subcommands.add_parser(
        "profile",
        epilog=EPILOG,
        help="profile an engine with py-spy or scalene into profiles/<engine>/, by category",
    )
    prof.add_argument("file", nargs="?", type=Path, help="a DBN MBO file (default: embedded)")
    prof.add_argument("--engine", required=True, help="engine name or module:Class")
    prof.add_argument("--profiler", choices=("py-spy", "scalene", "perf"),
                      help="py-spy or scalene for a Python engine, perf for a rust: or cmd: "
                      "engine (default: py-spy, or perf for a native engine)")  # fmt: skip
    prof.add_argument("--config", type=Path, help="a TOML settings file ([tool.mbobench], "
                      "its categories: symbol patterns for perf)")  # fmt: skip
    prof.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="run the engine at least this long (repeating passes)",
    )
    prof.add_argument("-o", "--output", type=Path, help="folder (default: profiles/<engine>)")
    prof.set_defaults(func=commands.cmd_profile)

    rep = subcommands.add_parser(
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
    _store_options(rep)
    rep.add_argument(
        "-o", "--output", type=Path, help="the HTML file (default: reports/report.html)"
    )
    rep.set_defaults(func=commands.cmd_report)

    comp = subcommands.add_parser(
        "compare",
        help="per engine and file, the change in events/s between two results",
        epilog=EPILOG,
    )
    comp.add_argument("old", type=Path, help="the older result (pyperf JSON from `mbobench run`)")
    comp.add_argument("new", type=Path, help="the newer result")
    comp.add_argument("--markdown", action="store_true", help="a markdown table, for a PR comment")
    comp.add_argument("--config", type=Path, help="a TOML settings file (its max_slowdown is the "
                      "noise bound)")  # fmt: skip
    comp.set_defaults(func=commands.cmd_compare)

    check = subcommands.add_parser(
        "check",
        help="gate a result on the thresholds of the config (exit 1 on failure)",
        epilog=EPILOG,
    )
    check.add_argument("result", type=Path, help="the result to check")
    check.add_argument("--baseline", type=Path, help="an older result, for max_slowdown")
    check.add_argument(
        "--config",
        type=Path,
        help="a TOML settings file ([tool.mbobench]; default: ./pyproject.toml)",
    )
    check.set_defaults(func=commands.cmd_check)

    data = subcommands.add_parser("data", help="make DBN MBO files", epilog=EPILOG)
    data_commands = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    synth = data_commands.add_parser(
        "synth", help="generate a realistic synthetic DBN MBO file (deterministic)", epilog=EPILOG
    )
    synth.add_argument("--events", type=_positive, default=1_000_000, help="records to write")
    synth.add_argument("--seed", type=int, default=1, help="random seed")
    synth.add_argument("--instruments", type=_positive, default=3, help="instruments")
    synth.add_argument("-o", "--output", type=_dbn_name, required=True,
                       help="output file; .dbn.zst is compressed")  # fmt: skip
    synth.set_defaults(func=commands.cmd_data_synth)

    lobster = data_commands.add_parser(
        "import-lobster", help="convert a LOBSTER message file to DBN MBO", epilog=EPILOG
    )
    lobster.add_argument("message", type=Path, help="LOBSTER message CSV")
    lobster.add_argument("--book", type=Path, help="the matching LOBSTER orderbook CSV (seeds it)")
    lobster.add_argument("--symbol", help="the symbol (default: from LOBSTER's file name)")
    lobster.add_argument("--date", help="the trading date, YYYY-MM-DD (default: from the name)")
    lobster.add_argument("-o", "--output", type=_dbn_name,
                         help="output file (default: beside the message file)")  # fmt: skip
    lobster.set_defaults(func=commands.cmd_data_import_lobster)
    _format_all(parser)
    return parser


def _run(args: argparse.Namespace) -> int:
    """`mbobench run`: here, at past commits (--commits), or on a Dask cluster (--cluster, or
    the config's cluster)."""
    from harness.measure.config import load_config

    config = load_config(args.config)
    commands.name_machine(config)
    cluster = args.cluster or config["cluster"]
    if cluster:  # each benchmark a Dask task, on a machine of its own
        return history_commands.run_cluster(args, config, cluster)
    if args.commits:  # each commit in a checkout of its own
        return history_commands.run_commits(args, config)
    return commands.cmd_run(args, config)


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, help="the results store (default: $MBOBENCH_STORE, "
                        "else the config's store, mbobench-store)")  # fmt: skip


def _format_all(parser: argparse.ArgumentParser) -> None:
    """The formatter that shows defaults, on a parser and every subcommand's parser."""
    parser.formatter_class = _Formatter
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _format_all(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    processes.terminate_on_sigterm()  # a SIGTERM stops the programs we started, as Ctrl-C does
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
