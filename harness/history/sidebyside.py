"""Measuring the suite at several commits side by side: one interleaved job, a result per commit.

`mbobench run --commits BASE,HEAD --interleave` prepares every commit as `harness.history.commits`
does (a worktree, its package in an environment of its own, the config's build command), then
measures each file once, with the reading ceiling and every engine at every commit as sides of
one interleaved job (`harness.measure.interleave`): a pass server per side, run by the commit's
Python in the commit's worktree, asked for its passes in turn. The machine's drift over the
job then slows every commit alike, and `check HEAD.json --baseline BASE.json` pairs their values
(each process's rounds, process by process). Each commit's result is an ordinary one (the
ceiling, its engines, their digests held to the reference engine at that commit), as `run` alone
writes it.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from harness.dbn.reader import Reader
from harness.history.commits import Suite, environment, git, in_tree
from harness.measure import interleave, steal
from harness.measure.runner import (
    Settings,
    annotate,
    default_reference,
    interleavable,
    run_metadata,
    sha256_of,
    worker_env,
)
from harness.results.resultfile import CEILING


def measure_side_by_side(repo: Path, commits: list[str], suite: Suite, settings: Settings,
                         work: Path, on_start: Callable | None = None) -> dict:  # fmt: skip
    """{commit: pyperf.BenchmarkSuite}: every file, every engine at every commit, interleaved."""
    import pyperf

    interleavable(suite.engines, settings)
    reference = default_reference(suite.engines, suite.reference)
    trees: list[Path] = []
    try:
        sides = []
        for commit in commits:
            tree = work / commit
            git(repo, "worktree", "add", "--detach", "--force", str(tree), commit)
            trees.append(tree)
            python = environment(repo, commit, tree) if suite.install else sys.executable
            if suite.build:
                in_tree(tree, ["sh", "-c", suite.build], f"{commit}: the build command")
            # The commit's modules from its worktree first, then its environment's (mbobench's
            # own harness among them), as `mbobench run` in the worktree would see them.
            env = dict(os.environ, PYTHONSAFEPATH="1", PYTHONPATH=str(tree))
            sides += [interleave.Side(f"{commit}/{engine}", engine, python, tree, env)
                      for engine in suite.engines]  # fmt: skip
        sides.insert(0, interleave.Side(CEILING, CEILING, env=worker_env()))
        benchmarks: dict[str, list] = {commit: [] for commit in commits}
        for path in suite.files:
            Reader(path)  # a bad file is reported before anything runs
            labels = {side.key: f"{path.name}/{side.engine}" for side in sides}
            started = None
            if on_start:

                def started(what: str, name: str = path.name):
                    return on_start(f"{name}: {len(sides)} benchmarks interleaved, {what}")

            ticks = steal.cpu_ticks()
            found = interleave.measure(path, sides, labels, settings, started)
            share = steal.stolen(ticks, steal.cpu_ticks())
            sha = sha256_of(path)
            for commit in commits:
                at = Settings(preset=settings.preset, commit=commit, measure="time")
                metadata = {"mbobench_sha256": sha, "mbobench_file": str(path),
                            **run_metadata(at, reference)}  # fmt: skip
                if share is not None:  # the host's share of the CPU time while it was measured
                    metadata["mbobench_steal"] = round(share, 4)
                # Each commit's result has the job's ceiling (a copy: metadata is per result).
                own = [copy.deepcopy(found[CEILING])]
                own += [found[f"{commit}/{engine}"] for engine in suite.engines]
                for bench in own:
                    bench.update_metadata(metadata)
                annotate(own, reference)
                benchmarks[commit] += own
    finally:
        for tree in trees:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=repo,
                           capture_output=True)  # fmt: skip
    return {commit: pyperf.BenchmarkSuite(found) for commit, found in benchmarks.items()}
