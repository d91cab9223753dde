"""History: the results store, change points, `run --commits`, `history` and `bisect`, on a real
git repository of a user's backtester (benchmarks/toyrepo.py) with one injected regression."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.history.changepoints import find_steps
from harness.history.store import Store
from harness.results.resultfile import load_result

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FAST = ["--fast", "--processes", "1", "--values", "4", "--loops", "2"]  # a few seconds a commit
REGRESSION = 2  # the toy repository's first slower commit (of 4)


def mbobench(*args: str, cwd: Path, store: Path) -> subprocess.CompletedProcess:
    # Reading on the engine's own thread: a pass of a few milliseconds that reads ahead on the
    # second core lost half its speed, at times, to a test running there (rsd 26-35%, and the
    # same code measured 4.2M and 7.3M events/s), which hid a tenfold step among 4 points.
    env = dict(os.environ, MBOBENCH_READ_AHEAD="0")
    return subprocess.run([sys.executable, "-m", "harness.cli", *args, "--store", str(store)],
                          cwd=cwd, capture_output=True, text=True, timeout=900,
                          env=env)  # fmt: skip


# --- change points ------------------------------------------------------------------------


def noisy(levels: list[float], noise: float, seed: int = 3) -> list[list[float]]:
    """A point a level: nine values around it, each commit's run off by its own few percent."""
    rng = random.Random(seed)
    points = []
    for level in levels:
        offset = rng.gauss(0, noise)
        points.append([level * (1 + offset + rng.gauss(0, noise / 2)) for _ in range(9)])
    return points


def test_a_step_is_found_where_it_is_with_its_size():
    steps = find_steps(noisy([1.0] * 6 + [1.25] * 6, 0.02))
    assert [s.index for s in steps] == [6]
    low, high = steps[0].interval
    assert low < steps[0].change < high and low < 0.25 < high


def test_noise_alone_has_no_step_and_neither_has_a_constant():
    assert find_steps(noisy([1.0] * 30, 0.02, seed=11)) == []
    assert find_steps([[5.0]] * 8) == []
    assert find_steps([[1.0, 1.1]]) == []  # one point: nothing to step from


def test_a_count_steps_by_less_than_the_noise_of_time():
    # Instruction counts are exact: 0.5% more instructions from the fourth commit on is a step.
    points = [[1_000_000.0]] * 3 + [[1_005_000.0]] * 3
    steps = find_steps(points, floor=0.001)
    assert [s.index for s in steps] == [3]
    assert steps[0].change == pytest.approx(0.005)
    assert find_steps([[1_000_000.0]] * 3 + [[1_000_100.0]] * 3, floor=0.001) == []


def test_two_steps_both_found():
    steps = find_steps(noisy([1.0] * 5 + [1.5] * 5 + [1.1] * 5, 0.02, seed=5))
    assert [s.index for s in steps] == [5, 10]
    assert steps[0].change > 0.3 and steps[1].change < -0.2


# --- the store ----------------------------------------------------------------------------


def test_the_store_keeps_each_file_of_a_result_apart_and_rebuilds_its_index(tmp_path):
    import pyperf

    both = tmp_path / "two-files.json"  # one result of two files, as a suite of two files makes
    pyperf.BenchmarkSuite([*load_result(DATA / "gate-a.json").suite.get_benchmarks(),
                           *load_result(DATA / "gate-other.json").suite.get_benchmarks()]).dump(
        str(both))  # fmt: skip
    result = load_result(both)
    store = Store(tmp_path / "store")
    added = store.add(result)
    assert len(added) == len({r.file for r in result.rows}) == 2
    for entry in added:
        kept = store.load(entry)
        assert {r.file for r in kept.rows} == {entry.file}
        assert {r.engine for r in kept.rows} == set(entry.engines)
    marker = json.loads((tmp_path / "store" / "mbobench-store.json").read_text())
    assert marker == {"format": "mbobench results store", "version": 1}
    (tmp_path / "store" / "index.json").unlink()  # lost: rebuilt from the files
    assert sorted(e.path for e in store.entries()) == sorted(e.path for e in added)
    store.add(result)  # the same result again: kept beside, never over, the first
    assert len(store.entries()) == 4


def test_a_folder_that_is_not_a_store_or_of_another_version_is_refused(tmp_path):
    from harness.errors import InputError

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and not a results store"):
        Store(tmp_path / "full")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "mbobench-store.json").write_text(
        json.dumps({"format": "mbobench results store", "version": 99}))  # fmt: skip
    with pytest.raises(InputError, match="version 99"):
        Store(tmp_path / "old")


# --- commits, history, bisect ---------------------------------------------------------------


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """The toy repository's commits measured once into a store, with --commits."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import toyrepo

    from harness.datasets.synth import synthesize

    base = tmp_path_factory.mktemp("history")
    repo = base / "repo"
    commits = toyrepo.make(repo)
    data = synthesize(base / "s.dbn.zst", 20_000, seed=4, instruments=2)
    store = base / "store"
    proc = mbobench("run", str(data), "--engine", toyrepo.ENGINE, "--commits",
                    f"{commits[0]},{commits[0]}..{commits[-1]}", *FAST, cwd=repo,
                    store=store)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return repo, commits, data, store, proc, toyrepo


def test_run_commits_measures_every_commit_in_its_own_environment(measured):
    repo, commits, data, store, proc, toyrepo = measured
    for commit in commits:
        assert f"measured {commit}" in proc.stderr
    entries = Store(store).entries()
    assert sorted(e.commit for e in entries) == sorted(commits)
    digests = {d for e in entries for d in [e.engines[toyrepo.ENGINE]["digest"]]}
    assert len(digests) == 1  # the regression does extra work, and computes the same
    for commit in commits:  # installed from that commit, into an environment of its own
        assert commit in proc.stdout
    again = mbobench("run", str(data), "--engine", toyrepo.ENGINE, "--commits", commits[-1],
                     *FAST, cwd=repo, store=store)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"already in the store {commits[-1]}" in again.stderr
    assert len(Store(store).entries()) == len(commits)


def test_history_lists_the_store_in_commit_order_and_finds_the_regression(measured):
    repo, commits, data, store, proc, toyrepo = measured
    listed = mbobench("history", "--engine", toyrepo.ENGINE, cwd=repo, store=store)
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if toyrepo.ENGINE in line]
    assert [c for line in lines for c in commits if c in line] == commits
    found = mbobench("history", "--regressions", cwd=repo, store=store)
    assert found.returncode == 0, found.stderr
    rows = [line for line in found.stdout.splitlines() if toyrepo.ENGINE in line]
    assert len(rows) == 1, found.stdout + listed.stdout
    assert f"{commits[REGRESSION - 1]} │ {commits[REGRESSION]}" in rows[0]
    assert "slower" in rows[0]


def test_bisect_names_the_first_slower_commit(measured):
    repo, commits, data, store, proc, toyrepo = measured
    found = mbobench("bisect", commits[0], commits[-1], "--engine", toyrepo.ENGINE, "--file",
                     str(data), *FAST, cwd=repo, store=store)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert "step 1:" in found.stdout
    assert f"first bad commit: {commits[REGRESSION]} add a feature" in found.stdout
    backwards = mbobench("bisect", commits[-1], commits[0], "--engine", toyrepo.ENGINE,
                         "--file", str(data), *FAST, cwd=repo, store=store)  # fmt: skip
    assert backwards.returncode == 2
    assert "is not an ancestor" in backwards.stderr and "nothing to bisect" in backwards.stderr


def test_a_commit_that_does_not_exist_is_one_line(measured):
    repo, commits, data, store, proc, toyrepo = measured
    bad = mbobench("run", str(data), "--engine", toyrepo.ENGINE, "--commits", "nosuchthing",
                   cwd=repo, store=store)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_bisect_on_points_given_a_digest_change_and_no_change(tmp_path):
    """The search itself, on the toy repository's commits with figures given per commit."""
    from harness.errors import InputError
    from harness.history.bisect import bisect
    from harness.history.series import Point

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import toyrepo

    commits = toyrepo.make(tmp_path / "repo", count=7, regression=5)
    same = {c: Point(c, None, [1.0, 1.01, 0.99], 1000, [0.5], {"d1"}) for c in commits}
    with pytest.raises(InputError, match="is not worse than .* nothing to bisect"):
        bisect(tmp_path / "repo", commits[0], commits[-1], same.__getitem__, 0.06, False, print)
    changed = {c: Point(c, None, [1.0, 1.01, 0.99], 1000, [0.5], {"d1" if i < 4 else "d2"})
               for i, c in enumerate(commits)}  # fmt: skip
    asked = []

    def point_of(commit: str) -> Point:
        asked.append(commit)
        return changed[commit]

    final, steps = bisect(tmp_path / "repo", commits[0], commits[-1], point_of, 0.06, False,
                          print)  # fmt: skip
    assert final.commit == commits[4] and final.bad
    assert len(steps) <= 3 < len(commits) - 2  # halving, not every commit


def test_the_report_shows_the_stores_history_with_its_step(measured, tmp_path):
    repo, commits, data, store, proc, toyrepo = measured
    out = tmp_path / "report.html"
    made = subprocess.run([sys.executable, "-m", "harness.cli", "report",
                           str(DATA / "report-run0.json"), "--store", str(store), "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    page = out.read_text()
    assert "Across commits (results store)" in page
    assert f"<td>{commits[REGRESSION - 1]}</td><td>{commits[REGRESSION]}</td>" in page
    assert 'alt="history-s.dbn.zst-toybt.engine_ToyEngine"' in page


def test_history_of_no_store_is_one_line(tmp_path):
    proc = mbobench("history", cwd=tmp_path, store=tmp_path / "none")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no results store yet" in proc.stderr
