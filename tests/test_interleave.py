"""Interleaved measurement: `run --interleave`, `run --commits A,B --interleave`, the pass server,
and the paired test that `compare` and `check` apply to the benchmarks of one job."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from test_bad_input import assert_one_line_error
from test_gate import mbobench

from harness.dbn.reader import Reader
from harness.errors import InputError
from harness.results import stats
from harness.results.resultfile import load_result

QUICK = ["--processes", "2", "--values", "3", "--loops", "1"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from harness.datasets.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("interleave") / "s.dbn.zst", 20_000, seed=8,
                      instruments=2)  # fmt: skip


def test_the_paired_test_sees_a_shift_that_welch_cannot_see_through_drift():
    # Both sides drift alike, from round to round, by far more than B's 3% more time a pass.
    drift = [1.0, 1.4, 0.8, 1.2, 0.9, 1.3, 1.1, 0.7]
    a = [d * 0.010 for d in drift]
    b = [d * 0.0103 * (1 + 0.002 * (-1) ** i) for i, d in enumerate(drift)]
    assert not stats.significant(a, b)[0]  # Welch: the drift is the spread
    found, t = stats.paired(a, b)
    assert found and t > 0  # b is slower, round by round
    assert not stats.paired(a, [x * (1 + 0.002 * (-1) ** i) for i, x in enumerate(a)])[0]


def test_the_paired_test_counts_processes_not_rounds():
    # A/A, 3 processes of 10 rounds: the third process's side ran 10% slower throughout (a
    # process's mode, seen on the 2-core VM), its rounds close to each other.
    wobble = [1 + 0.004 * (-1) ** i for i in range(10)]
    a = [[0.010] * 10 for _ in range(3)]
    b = [[0.010 * w for w in wobble], [0.010 / w for w in wobble], [0.011 * w for w in wobble]]
    assert stats.paired(sum(a, []), sum(b, []))[0]  # rounds as if independent: "significant"
    assert not stats.paired_by_process(a, b)[0]  # one process of three: not
    # 8% slower in each of 6 processes, whose modes spread 3%: found.
    modes = [1.00, 1.03, 0.97, 1.02, 0.98, 1.01]
    a6 = [[0.010] * 5 for _ in modes]
    b6 = [[0.0108 * m * w for w in wobble[:5]] for m in modes]
    found, t = stats.paired_by_process(a6, b6)
    assert found and t > 0


def test_run_interleave_measures_every_benchmark_of_a_file_in_one_job(data, tmp_path):
    out = tmp_path / "r.json"
    proc = mbobench("run", data, "--interleave", "--engine", "compiled", "--engine", "lockless",
                    "-o", out, "--processes", "3", "--values", "2", "--loops", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "3 benchmarks interleaved, process 3/3" in proc.stderr
    result = load_result(out)
    assert [r.engine for r in result.rows] == ["ceiling", "compiled", "lockless"]
    jobs = {r.interleaved for r in result.rows}
    assert len(jobs) == 1 and None not in jobs  # one job, every benchmark of it
    records = sum(len(chunk) for chunk in Reader(data))
    for row in result.rows:
        assert len(row.values_s) == 6  # 3 processes x 2 values, each a whole pass
        assert row.events == records
    assert result.row("s.dbn.zst", "lockless").digest_ok is True
    # Two engines of one job pair round by round; pyperf's own tools read the file.
    from harness.results.compare import compare

    same = compare(result, result)
    assert {c.test for c in same.changes} == {"paired"} and not same.mixed
    assert all(len(row.runs_s) == 3 for row in result.rows)  # tested over its processes
    # Against a baseline measured the usual way: Welch's test, and a warning row that says so.
    from harness.results.gate import DEFAULTS, evaluate

    plain = load_result(out)
    for row in plain.rows:
        row.interleaved = None
    assert {c.test for c in compare(plain, result).changes} == {"Welch"}
    warned = [c for c in evaluate(result, DEFAULTS, plain) if "the other not" in c.measured]
    assert len(warned) == 3 and all(c.warning and c.passed for c in warned)
    shown = subprocess.run([sys.executable, "-m", "pyperf", "show", str(out)], capture_output=True,
                           text=True)  # fmt: skip
    assert shown.returncode == 0 and "compiled" in shown.stdout, shown.stderr


def test_interleave_refuses_what_it_cannot_interleave(data, tmp_path):
    proc = mbobench("run", data, "--interleave", "--engine", "cmd:cat {file}", "-o",
                    tmp_path / "r.json", *QUICK)  # fmt: skip
    assert_one_line_error(proc, "--interleave measures Python engines")
    counted = mbobench("run", data, "--interleave", "--measure", "instructions", "-o",
                       tmp_path / "r.json", *QUICK)  # fmt: skip
    assert_one_line_error(counted, "--interleave is for wall time")
    assert not (tmp_path / "r.json").exists()


def test_a_pass_server_that_fails_is_one_error_and_leaves_no_process(data):
    from harness.measure import interleave
    from harness.measure.runner import Settings, worker_env

    env = worker_env()
    sides = [interleave.Side("ceiling", "ceiling", env=env),
             interleave.Side("bad", "no_such_module:Engine", env=env)]  # fmt: skip
    with pytest.raises(InputError, match="no_such_module"):
        interleave.measure(data, sides, {"ceiling": "c", "bad": "s.dbn.zst/bad"},
                           Settings(processes=1, values=2, loops=1))  # fmt: skip
    left = subprocess.run(["pgrep", "-f", f"harness.measure.passes.*{data}"],
                          capture_output=True, text=True)  # fmt: skip
    assert left.stdout == "", left.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """The toy backtester's repository: A, A2 (the same code) and B, 2,000 steps an event more."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import toyrepo

    root = tmp_path_factory.mktemp("toy") / "repo"
    return root, toyrepo.make(root, count=3, regression=2), toyrepo.ENGINE


def test_commits_side_by_side_give_a_result_each_and_check_pairs_them(repo, data, tmp_path):
    root, commits, engine = repo
    out = tmp_path / "{commit}.json"
    proc = mbobench("run", data, "--commits", ",".join(commits), "--interleave", "--engine",
                    engine, "-o", out, "--no-store", *QUICK, cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "4 benchmarks interleaved" in proc.stderr  # the ceiling and three commits
    assert f"{commits[-1]} against {commits[0]}, measured side by side" in proc.stdout
    files = [tmp_path / f"{c}.json" for c in commits]
    results = [load_result(f) for f in files]
    assert [r.rows[1].commit for r in results] == commits
    assert len({r.rows[1].interleaved for r in results}) == 1
    assert all(r.rows[1].digest_ok for r in results)
    document = json.loads(files[0].read_text())
    assert document["benchmarks"][0]["metadata"]["mbobench_engine"] == "ceiling"
    same = mbobench("check", files[1], "--baseline", files[0], cwd=root)  # its defaults
    assert same.returncode == 0, same.stdout + same.stderr
    assert "rounds t" in same.stdout  # 2 processes: too few to test over them
    slower = mbobench("check", files[2], "--baseline", files[0], cwd=root)
    assert slower.returncode == 1, slower.stdout + slower.stderr
    row = next(line for line in slower.stdout.splitlines() if "max_slowdown" in line)
    assert "FAIL" in row and "slower" in row


def test_commits_side_by_side_refuse_a_bad_request(repo, data, tmp_path):
    root, commits, engine = repo
    plain = mbobench("run", data, "--commits", ",".join(commits[:2]), "--interleave", "--engine",
                     engine, "-o", tmp_path / "r.json", *QUICK, cwd=root)  # fmt: skip
    assert_one_line_error(plain, "name each commit's result with {commit}")
    one = mbobench("run", data, "--commits", commits[0], "--interleave", "--engine", engine,
                   "--no-store", "-o", tmp_path / "{commit}.json", *QUICK, cwd=root)  # fmt: skip
    assert_one_line_error(one, "is one")
    assert not list(tmp_path.iterdir())
