"""The commands across commits and machines: `run --commits`, `run --cluster`, `history` and
`bisect` (called by `cli.main`, as the commands of `harness.commands` are). Each returns the exit
code; a user's mistake is raised as `InputError`."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands import (
    console_out,
    name_machine,
    preset_of,
    settings_of,
    suite_files,
    thresholds_of,
    wrong_digests,
)
from harness.errors import InputError
from harness.render.progress import progress_bar
from harness.results.resultfile import load_result


def run_commits(args: argparse.Namespace, config: dict) -> int:
    """`mbobench run --commits A..B`: the suite at every commit, each into the store."""
    from rich.console import Console

    from harness.history.commits import measure_commit, resolve, scratch, subject
    from harness.history.series import build, select

    err = Console(stderr=True, quiet=args.quiet)
    if getattr(args, "interleave", False):
        return _side_by_side(args, config, err)
    _commits_into_store(args)
    repo, store = _repository(config), _store(config, args)
    commits = resolve(repo, args.commits)
    suite = _suite(args, config)
    failures = []
    with scratch() as work, progress_bar(err) as progress:
        task = progress.add_task("commits", total=len(commits), now="")
        for commit in commits:
            title = subject(repo, commit)
            progress.update(task, now=f"{commit} {title[:40]}")
            try:
                measured = measure_commit(repo, commit, suite, store, Path(work))
            except InputError as exc:
                failures.append(str(exc))
                err.print(f"  [red]failed[/red] {commit}: {exc}")
            else:
                err.print(f"  {'measured' if measured else 'already in the store'} {commit} "
                          f"{title}")  # fmt: skip
            progress.advance(task)
    entries = select(store.entries(), commits=set(commits))
    series = [s for s in build(store, entries, repo=repo) if s.engine in suite.engines]
    _print_history(series, f"{store.root}: {len(commits)} commits")
    if failures:
        raise InputError("; ".join(failures))
    return 0


def _side_by_side(args: argparse.Namespace, config: dict, err) -> int:
    """`mbobench run --commits BASE,HEAD --interleave`: one job, every commit's engines in turn;
    a result per commit (`-o` with `{commit}`, and the store), and the last against the first."""
    from harness.history.commits import resolve, scratch, subject
    from harness.history.sidebyside import measure_side_by_side
    from harness.measure.runner import write_suite
    from harness.render.table import compare_table
    from harness.results.compare import compare

    out = str(args.output) if args.output else None
    if out is not None and "{commit}" not in out:
        raise InputError(f"-o {out}: with --commits, name each commit's result with {{commit}}, "
                         "e.g. -o 'reports/{commit}.json'")  # fmt: skip
    if args.no_store and out is None:
        raise InputError("--no-store keeps no result: give -o 'FOLDER/{commit}.json'")
    repo = _repository(config)
    store = None if args.no_store else _store(config, args)
    commits = resolve(repo, args.commits)
    if len(commits) < 2:
        raise InputError(f"--interleave measures commits side by side: {', '.join(commits)} is one")
    suite = _suite(args, config)
    if suite.measure != "time":
        raise InputError("--interleave is for wall time: an instruction count does not drift")
    settings = settings_of(args, config, suite.preset)
    paths = {commit: Path(out.replace("{commit}", commit)) for commit in commits} if out else {}
    for path in paths.values():
        if path.exists() and not args.force:
            raise InputError(f"{path}: already exists (use --force to replace it)")
    for commit in commits:
        err.print(f"  {commit} {subject(repo, commit)}")
    from harness.measure.interleave import processes_and_values

    with scratch() as work, progress_bar(err) as progress:
        processes = processes_and_values(settings)[0]
        task = progress.add_task("benchmarks", total=len(suite.files) * processes, now="")

        def on_start(label: str):
            progress.update(task, now=label)
            return lambda: (progress.advance(task), err.print(f"  measured {label}"))

        suites = measure_side_by_side(repo, commits, suite, settings, Path(work), on_start)
        results = {}
        for commit, found in suites.items():
            path = paths.get(commit) or Path(work) / f"{commit}.json"
            write_suite(found, path, force=True)
            results[commit] = load_result(path)
            if store is not None:
                store.add(results[commit])
            if commit in paths:
                err.print(f"result of {commit} written to {path}")
    first, last = results[commits[0]], results[commits[-1]]
    title = f"{commits[-1]} against {commits[0]}, measured side by side"
    noise = float(thresholds_of(args.config)[0]["max_slowdown"])
    console_out().print(compare_table(compare(first, last, noise=noise), title))
    return max(wrong_digests(result) for result in results.values())


def run_cluster(args: argparse.Namespace, config: dict, address: str) -> int:
    """`mbobench run --cluster ADDRESS`: every (file, engine, commit) a Dask task."""
    import tempfile
    import time

    from rich.console import Console

    from harness.cluster.client import connect, run_tasks
    from harness.cluster.gather import gather
    from harness.measure.runner import default_reference, sha256_of, write_suite
    from harness.render.table import run_table

    err = Console(stderr=True, quiet=args.quiet)
    suite = _suite(args, config)
    repo = _repository(config)
    store = None if args.no_store else _store(config, args)
    commits: list = [None]
    if args.commits:
        from harness.history.commits import resolve

        _commits_into_store(args)
        commits = resolve(repo, args.commits)
    reference = default_reference(suite.engines, suite.reference)
    tasks, labels = [], []
    for path in suite.files:
        sha = sha256_of(path)
        for commit in commits:
            for engine in suite.engines:
                tasks.append({"file": str(path), "sha256": sha, "data": config["cluster_data"],
                              "engine": engine, "commit": commit, "options": suite.options,
                              "preset": suite.preset, "measure": suite.measure,
                              "repository": str(repo), "build": suite.build,
                              "install": suite.install})  # fmt: skip
                labels.append(f"{path.name}/{engine}" + (f"@{commit}" if commit else ""))
    out = args.output or Path("reports") / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    if not args.commits and out.exists() and not args.force:
        raise InputError(f"{out}: already exists (use --force to replace it)")
    client = connect(address)
    try:
        with progress_bar(err) as progress:
            bar = progress.add_task("benchmarks", total=len(tasks), now="waiting")

            def on_done(outcome) -> None:
                progress.advance(bar)
                if outcome.error:
                    err.print(f"  [red]failed[/red] {outcome.error}")
                else:
                    err.print(f"  measured {outcome.label} on {outcome.machine}")

            def on_change(running: str) -> None:
                progress.update(bar, now=running or "waiting")

            outcomes = run_tasks(client, tasks, labels, on_change, on_done)
    finally:
        client.close()
    texts = [text for o in outcomes for text in o.results]
    if store is not None:
        with tempfile.TemporaryDirectory(prefix="mbobench-cluster-") as tmp:
            for i, text in enumerate(texts):
                part = Path(tmp) / f"{i}.json"
                part.write_text(text)
                store.add(load_result(part))
        err.print(f"kept in the results store {store.root} ({len(texts)} results)")
    failures = [o.error for o in outcomes if o.error]
    status = 0
    if args.commits:
        from harness.history.series import build, select

        entries = select(store.entries(), commits=set(commits))
        _print_history(build(store, entries, repo=repo), f"{store.root}: {len(commits)} commits")
    elif texts:
        write_suite(gather(texts, reference), out, force=args.force)
        result = load_result(out)
        console_out(160).print(run_table(result))
        err.print(f"result written to {out}")
        status = wrong_digests(result)
    if failures:
        raise InputError("; ".join(failures))
    return status


def cmd_history(args: argparse.Namespace) -> int:
    from harness.history.series import build, select
    from harness.measure.config import load_config

    config = load_config(args.config)
    repo, store = _repository(config), _store(config, args)
    commits = None
    if args.commits:
        from harness.history.commits import resolve

        commits = set(resolve(repo, args.commits))
    if not store.made:
        raise InputError(f"{store.root}: no results store yet (mbobench run keeps its results "
                         "there; --store or $MBOBENCH_STORE names another)")  # fmt: skip
    entries = select(store.entries(), args.engine, args.file, args.machine, commits)
    if not entries:
        wanted = f"engine {args.engine or 'any'}, file {args.file or 'any'}"
        raise InputError(f"{store.root}: no stored result matches ({wanted}, machine "
                         f"{args.machine or 'any'})")  # fmt: skip
    series = build(store, entries, args.engine, repo if (repo / ".git").exists() else None)
    if args.regressions:
        from harness.render.history import steps_table

        found = [(s, step) for s in series for step in s.steps()]
        if not found:
            print(f"no step in {len(series)} series ({sum(len(s.points) for s in series)} "
                  "commits): every level stayed within its noise")  # fmt: skip
            return 0
        console_out(160).print(steps_table(found, f"{store.root}: steps in {len(series)} series"))
        return 0
    _print_history(series, f"{store.root}: {len(entries)} stored results")
    return 0


def cmd_bisect(args: argparse.Namespace) -> int:
    from harness.history.bisect import bisect
    from harness.history.commits import measure_commit, scratch, subject
    from harness.history.series import build, select
    from harness.measure.config import load_config
    from harness.measure.runner import machine_name, sha256_of
    from harness.results.gate import limit_for, validate

    config = load_config(args.config)
    name_machine(config)
    repo, store = _repository(config), _store(config, args)
    args.engine = [args.engine]
    suite = _suite(args, config)
    path = suite.files[0]
    sha, machine = sha256_of(path), machine_name()
    counted = suite.measure == "instructions"
    thresholds = validate(config["thresholds"], args.config or "pyproject.toml")
    rule = "max_instructions_increase" if counted else "max_slowdown"
    engine = args.engine[0]
    noise = limit_for(thresholds, rule, engine)

    with scratch() as work:

        def point_of(commit: str):
            measure_commit(repo, commit, suite, store, Path(work))
            entries = [e for e in select(store.entries(), engine, sha, machine, {commit})
                       if e.preset == suite.preset and e.measure == suite.measure]  # fmt: skip
            series = build(store, entries, engine)
            if not series or not series[0].points:
                raise InputError(f"{commit}: {engine} was not measured on {path.name}")
            return series[0].points[-1]

        final, steps = bisect(repo, args.good, args.bad, point_of, noise, counted, print)
    print(f"first bad commit: {final.commit} {subject(repo, final.commit)}: "
          f"{final.change:+.1%} {'instructions' if counted else 'time'} a pass against good "
          f"({len(steps)} steps; {rule} {noise}, {path.name}, machine {machine})")  # fmt: skip
    return 0


def _print_history(series: list, title: str) -> None:
    from harness.render.history import history_table

    console_out(160).print(history_table(series, title))


def _suite(args: argparse.Namespace, config: dict):
    from harness.history.commits import Suite

    files = suite_files(args, config)
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    options = []
    preset = preset_of(args, config)
    if preset != "default":
        options.append(f"--{preset}")
    measure = args.measure or config["measure"]
    options += ["--measure", measure]
    for flag in ("processes", "values", "loops"):
        value = getattr(args, flag, None) or config.get(flag)
        if value:
            options += [f"--{flag}", str(value)]
    if getattr(args, "strict", False):
        options.append("--strict")
    return Suite(files=[p.resolve() for p in files], engines=args.engine or config["engines"],
                 options=options, preset=preset, measure=measure,
                 reference=getattr(args, "reference", None) or config["reference"] or None,
                 build=config["build"], install=config["install"])  # fmt: skip


def _commits_into_store(args: argparse.Namespace) -> None:
    if args.output or args.no_store:
        raise InputError("--commits keeps every commit's result in the store: not with -o or "
                         "--no-store")  # fmt: skip


def _repository(config: dict) -> Path:
    return Path(config["repository"] or ".").resolve()


def _store(config: dict, args: argparse.Namespace):
    from harness.history.store import Store, store_path

    path = store_path(config["store"], getattr(args, "store", None))
    if path is None:
        raise InputError('no results store: store = "" in the config (set a folder, or --store)')
    return Store(path)
