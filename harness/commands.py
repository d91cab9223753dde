"""What each `mbobench` command does: one `cmd_*` function per command, called by `cli.main`.

Each takes the parsed arguments and returns the exit code; a user's mistake is raised as
`InputError` (or `ToolMissing`) for `cli.main` to print. Every stage is imported inside the
command that needs it, so that `--help` and the light commands stay light.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from harness.errors import InputError


def cmd_run(args: argparse.Namespace, config: dict | None = None) -> int:
    """`mbobench run` here, of the working tree (`cli.run` sends --commits and --cluster on to
    `harness.history_commands`)."""
    from rich.console import Console

    from harness.measure.config import load_config
    from harness.measure.runner import run_suite, write_suite
    from harness.render.progress import progress_bar
    from harness.render.table import run_table
    from harness.results.resultfile import load_result

    err = Console(stderr=True, quiet=args.quiet)
    if config is None:  # (from `attribute`; `cli.run` has read it)
        config = load_config(args.config)
        name_machine(config)
    _importable_here()
    files = suite_files(args, config, err)
    preset = preset_of(args, config)
    settings = settings_of(args, config, preset)
    out = args.output or Path("reports") / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    if out.exists() and not args.force:
        raise InputError(f"{out}: already exists (use --force to replace it)")
    engines = args.engine or config["engines"]
    total = len(files) * (len(engines) + 2)  # the ceiling before the engines and after them
    if settings.interleave:  # all of a file's benchmarks at once, a process at a time
        from harness.measure.interleave import processes_and_values

        total = len(files) * processes_and_values(settings)[0]
    with progress_bar(err) as progress:
        overall = progress.add_task("benchmarks", total=total, now="")

        def on_start(label: str):
            progress.update(overall, now=label)
            return lambda: (progress.advance(overall), err.print(f"  measured {label}"))

        failures: list[str] = []
        suite = run_suite(files, engines, settings, on_start, failures)
    write_suite(suite, out, force=args.force)
    result = load_result(out)
    console_out().print(run_table(result))
    err.print(f"result written to {out}")
    _keep(result, config, args, err)
    if failures:  # (counting instructions: the others were counted)
        raise InputError("; ".join(failures))
    return wrong_digests(result)


def settings_of(args: argparse.Namespace, config: dict, preset: str):
    """The runner's settings from `run`'s options, the config filling what they leave out."""
    from harness.measure.runner import Settings

    return Settings(preset=preset, processes=args.processes or config["processes"] or None,
                    values=args.values or config["values"] or None, loops=args.loops,
                    strict=args.strict, chunk_records=config["chunk_records"],
                    reference=getattr(args, "reference", None) or config["reference"] or None,
                    commit=getattr(args, "commit", None), switches=getattr(args, "switches", {}),
                    measure=getattr(args, "measure", None) or config["measure"],
                    count_records=config["count_records"],
                    interleave=getattr(args, "interleave", False))  # fmt: skip


def name_machine(config: dict) -> None:
    """The config's machine name, for the results (harness.measure.runner.machine_name)."""
    if config["machine"]:
        os.environ.setdefault("MBOBENCH_MACHINE", config["machine"])


def suite_files(args: argparse.Namespace, config: dict, err=None) -> list[Path]:
    """The file given, else the config's, else the embedded default (made once, said on `err`)."""
    files = [args.file] if args.file else [Path(f) for f in config["files"]]
    if not files:
        from harness.datasets.default import default_file

        if err is None:
            return [default_file(config["default_events"])[0]]
        with err.status("generating the default data set (once)..."):
            path, made = default_file(config["default_events"])
        if made:
            err.print(f"generated {path}")
        files = [path]
    return files


def preset_of(args: argparse.Namespace, config: dict) -> str:
    return "fast" if args.fast else "rigorous" if args.rigorous else config["preset"]


def wrong_digests(result) -> int:
    """Exit 1, said on stderr, when an engine computed another digest; else 0."""
    if not result.wrong:
        return 0
    # Not a progress message: --quiet does not silence it.
    names = ", ".join(f"{r.file}/{r.engine}" for r in result.wrong)
    print(f"mbobench: wrong digest: {names} (speed not reported)", file=sys.stderr)
    return 1


def _keep(result, config: dict, args: argparse.Namespace, err) -> None:
    """Add a result to the results store (harness.history.store), unless told not to."""
    from harness.history.store import Store, store_path

    path = None if getattr(args, "no_store", False) else store_path(
        config["store"], getattr(args, "store", None))  # fmt: skip
    if path is not None:
        entries = Store(path).add(result)
        err.print(f"kept in the results store {path} ({len(entries)} result file"
                  f"{'s' if len(entries) != 1 else ''})")  # fmt: skip


def _importable_here() -> None:
    """A user's `module:Class` beside them is importable. After the installed packages: in a
    clone of this project, the working directory's copies of `engines` and `harness` must not
    take the place of the installed ones that this process has partly imported already."""
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())


def console_out(width: int = 120):
    """The console for a command's table: a terminal's width, else `width` (a CI log)."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = width
    return console


def cmd_attribute(args: argparse.Namespace) -> int:
    from engines import switch_label
    from harness.render.table import attribution_table
    from harness.results.attribution import BASELINES, attribute, family_engines
    from harness.results.resultfile import load_result

    if args.result:
        result = load_result(args.result)
    else:
        out = args.output or Path("reports") / f"attribution-{time.strftime('%Y%m%d-%H%M%S')}.json"
        members = family_engines(args.family)
        baseline = BASELINES.get(args.family)  # the engine itself, beside its all-on twin
        args.engine = [baseline, *members] if baseline else list(members)
        args.switches = {spec: (args.family, switch_label(kept)) for spec, kept in members.items()}
        args.reference = baseline or next(iter(members))
        args.output = out
        status = cmd_run(args)
        if status:
            return status
        result = load_result(out)
    console = console_out()
    for attribution in attribute(result):
        console.print(attribution_table(attribution))
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    import gc
    import json

    from engines.book import UnknownOrder
    from harness.dbn.reader import Reader
    from harness.measure.runner import load_engine_or_fail
    from harness.results.resultfile import CEILING

    _importable_here()
    Reader(args.file)  # a bad file is reported before anything runs
    if args.engine == CEILING:
        from harness.measure.ceiling import read_ceiling

        def one_pass() -> dict:
            return {"events": read_ceiling(Reader(args.file))[0], "digest": ""}
    else:
        engine = load_engine_or_fail(args.engine)

        def one_pass() -> dict:
            try:
                results = engine.run(Reader(args.file), args.strict)
            except UnknownOrder as exc:
                from harness.measure.worker import locate_unknown

                raise InputError(locate_unknown(args.file, exc)) from None
            return {"events": results.events, "digest": results.digest,
                    "fills": results.fills, "unknown_orders": results.unknown_orders}  # fmt: skip

    if args.count_pass:  # a warm pass, then one that Callgrind counts (harness.measure.callgrind)
        from harness.measure import callgrind

        one_pass()
        # From a known collector state: a full collection resets its counters, so that the
        # collections inside the pass fall where they fell before (an import that wrote its .pyc
        # files, in a fresh checkout, leaves them elsewhere: the ceiling's count moved 0.13%).
        gc.collect()
        callgrind.start()
        answer = one_pass()
        callgrind.stop()
        answer["passes"] = 1
    else:
        start = time.monotonic()
        passes = 0
        while passes == 0 or time.monotonic() - start < args.min_seconds:
            answer = one_pass()
            passes += 1
        answer["passes"] = passes
    print(json.dumps(answer))
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    import re

    from harness.measure.config import load_config
    from harness.render.table import profile_table

    path = args.file
    if path is None:
        from harness.datasets.default import default_file

        path, _ = default_file()
    folder = re.sub(r"[^A-Za-z0-9._+-]+", "_", args.engine).strip("_")[:80]
    out = args.output or Path("profiles") / folder
    native = args.engine.startswith(("rust:", "cmd:"))
    profiler = args.profiler or ("perf" if native else "py-spy")
    if native != (profiler == "perf"):
        raise InputError(f"--profiler {profiler} cannot profile {args.engine}: perf profiles "
                         "rust: and cmd: engines, py-spy and scalene the Python ones")  # fmt: skip
    if native:
        from harness.measure.perfprofile import profile_native
        from harness.measure.rust import template

        spec = template(args.engine[5:]) if args.engine.startswith("rust:") else args.engine[4:]
        categories = load_config(args.config)["categories"]
        summary = profile_native(args.engine, spec, path, out, args.seconds, categories)
    else:
        from harness.measure.profiling import profile

        summary = profile(args.engine, path, profiler, out, args.seconds)
    table = profile_table(summary, f"{profiler}: {args.engine} on {path.name}")
    console_out().print(table)
    if summary.get("cpu_sampled") is False:
        print(f"  {profiler} recorded no CPU samples here: only its memory figures count")
    for top in summary.get("top_allocations", [])[:5]:
        print(
            f"  allocates {top['mb']:,.1f} MB: {Path(top['file']).name}:{top['line']} "
            f"({top['category']}) {top['code']}"
        )
    written = ", ".join(sorted(p.name for p in out.iterdir() if p.is_file()))
    print(f"profile written to {out}/ ({written})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from harness.render.report import build, write
    from harness.results.attribution import families
    from harness.results.resultfile import load_result

    paths = args.results or sorted(Path("reports").glob("*.json"))
    results = []
    for path in paths:
        if path.name.startswith(("trust", ".")):  # the trust experiments write their own JSON
            continue
        results.append(load_result(path))
    if not results:
        raise InputError("no result files given, and none under reports/ (run mbobench run)")
    attributions = [r for r in results if families(r)]
    runs = [r for r in results if r not in attributions]
    if not runs:
        raise InputError("only attribution results given: the report needs a run result too")
    newest: dict[str, object] = {}  # per family of engines, its newest attribution
    for result in sorted(attributions, key=lambda r: r.path.stat().st_mtime):
        newest.update(dict.fromkeys(families(result), result))
    profiles = []
    for summary in sorted(Path(args.profiles).glob("*/summary-*.json")):
        try:
            profiles.append(json.loads(summary.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{summary}: not a readable profile summary ({exc})") from None
    out = args.output or Path("reports") / "report.html"
    chosen = [r for r in attributions if any(r is n for n in newest.values())]
    html_path, md_path = write(build(runs, chosen, profiles, _stored_series(args)), out,
                               "mbobench report")  # fmt: skip
    print(html_path)
    print(md_path)
    return 0


def _stored_series(args: argparse.Namespace) -> list:
    """The results store's series, for the report's history (none without a store)."""
    from harness.history.series import build
    from harness.history.store import Store, store_path
    from harness.measure.config import load_config

    path = store_path(load_config(None, only=("store",))["store"], args.store)
    store = Store(path) if path is not None else None
    if store is None or not store.made:
        return []
    return build(store, store.entries(), repo=Path.cwd() if Path(".git").exists() else None)


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.render.table import compare_table
    from harness.results.compare import compare
    from harness.results.resultfile import load_result

    thresholds, _ = thresholds_of(args.config)
    comparison = compare(load_result(args.old), load_result(args.new),
                         noise=float(thresholds["max_slowdown"]))  # fmt: skip
    if args.markdown:
        from harness.render.markdown import changes_markdown

        print(changes_markdown(comparison), end="")
        return 0
    table = compare_table(comparison, f"{args.old.name} -> {args.new.name}")
    console_out().print(table)
    return 0


def thresholds_of(config: Path | None) -> tuple[dict, str]:
    """The gate's thresholds over mbobench's defaults, and where they came from."""
    from harness.measure.config import load_config
    from harness.results.gate import validate

    path = config or Path("pyproject.toml")
    table = load_config(config)["thresholds"]
    if table:
        source = f"{path} [tool.mbobench.thresholds], over mbobench's defaults"
    else:
        source = f"mbobench's defaults (no thresholds in {path})"
    return validate(table, path), source


def cmd_check(args: argparse.Namespace) -> int:
    from harness.render.markdown import checks_markdown
    from harness.render.table import check_table
    from harness.results.gate import evaluate
    from harness.results.resultfile import load_result

    result = load_result(args.result)
    baseline = load_result(args.baseline) if args.baseline else None
    thresholds, source = thresholds_of(args.config)
    checks = evaluate(result, thresholds, baseline)
    if not [c for c in checks if not c.warning]:
        raise InputError(
            f"{args.result}: the gate checked nothing (thresholds from {source}; "
            "no digest to compare, no --baseline, no engine with a minimum)"
        )
    table = check_table(checks, f"mbobench check {args.result.name}", source)
    console_out().print(table)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write(checks_markdown(checks, source))
    failed = [c for c in checks if not c.passed]
    counted = [c for c in checks if not c.warning]
    if failed:
        print(f"mbobench: check failed: {len(failed)} of {len(counted)} checks", file=sys.stderr)
        return 1
    print(f"mbobench: check passed: {len(counted)} checks", file=sys.stderr)
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from harness.datasets.synth import synthesize

    synthesize(args.output, args.events, seed=args.seed, instruments=args.instruments)
    print(args.output)
    return 0


def cmd_data_import_lobster(args: argparse.Namespace) -> int:
    from harness.datasets.lobster import import_lobster

    path, counts = import_lobster(args.message, args.book, args.output, symbol=args.symbol,
                                  date=args.date)  # fmt: skip
    print(path)
    print(counts.summary(), file=sys.stderr)
    return 0
