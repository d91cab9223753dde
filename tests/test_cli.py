"""The `mbobench` command as a user runs it: help, data commands, a run and its result file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared_file
from test_bad_input import QUICK, assert_one_line_error, mbobench

from harness.results.resultfile import load_result

COMMANDS = [[], ["run"], ["data"], ["data", "synth"], ["data", "import-lobster"]]


@pytest.mark.parametrize("words", COMMANDS)
def test_help_on_every_command(words):
    proc = mbobench(*words, "--help")
    assert proc.returncode == 0 and "usage: mbobench" in proc.stdout and not proc.stderr


def test_help_does_not_import_numba():
    code = ("import sys; from harness.cli import main\n"
            "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('numba' in sys.modules, 'numpy' in sys.modules)")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "False False"


def test_no_command_prints_help_and_exits_2():
    proc = mbobench()
    assert proc.returncode == 2 and "usage: mbobench" in proc.stderr


def test_synth_then_run_writes_a_result(tmp_path):
    data = tmp_path / "s.dbn"
    assert mbobench("data", "synth", "--events", "3000", "--seed", "2", "-o", data).returncode == 0
    out = tmp_path / "r.json"
    proc = mbobench("run", data, "--engine", "baseline", "--engine", "compiled", "-q", "-o", out,
                    *QUICK)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "baseline" in proc.stdout and "compiled" in proc.stdout and "ok" in proc.stdout
    result = load_result(out)
    assert [r.engine for r in result.rows] == ["ceiling", "baseline", "compiled"]
    assert [r.digest_ok for r in result.rows] == [None, True, True]
    assert all(r.events >= 3000 and r.events_per_s > 0 for r in result.rows)
    meta = result.suite.get_benchmarks()[1].get_metadata()
    assert len(meta["mbobench_sha256"]) == 64 and meta["mbobench_engine"] == "baseline"
    if Path("/proc/stat").exists():  # the host's share of the CPU time, the same for the file
        assert {r.steal for r in result.rows} == {meta["mbobench_steal"]}
        assert 0 <= meta["mbobench_steal"] <= 1
    # the ceiling, measured before the engines and again after them, is one benchmark
    ceiling, baseline = (bench.get_runs() for bench in result.suite.get_benchmarks()[:2])
    assert len(ceiling) == 2 * len(baseline)
    assert (
        ceiling[0].get_metadata()["date"]
        < baseline[0].get_metadata()["date"]
        < ceiling[-1].get_metadata()["date"]
    )
    assert not list(tmp_path.glob(".*.tmp"))
    # pyperf's own tools read it as any pyperf file
    stats = subprocess.run([sys.executable, "-m", "pyperf", "stats", str(out)],
                           capture_output=True, text=True)  # fmt: skip
    assert stats.returncode == 0 and "s.dbn/compiled" in stats.stdout
    # and an existing result is not replaced without --force
    again = mbobench("run", data, "--engine", "baseline", "-q", "-o", out, *QUICK)
    assert_one_line_error(again, "already exists")


def test_synth_refuses_a_name_that_is_not_dbn(tmp_path):
    proc = mbobench("data", "synth", "--events", "10", "-o", tmp_path / "x.csv")
    assert proc.returncode == 2 and "must end in .dbn or .dbn.zst" in proc.stderr


def test_import_lobster_then_run(tmp_path):
    message = shared_file("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv")
    book = message.with_name(message.name.replace("message", "orderbook"))
    out = tmp_path / "aapl.dbn.zst"
    proc = mbobench("data", "import-lobster", message, "--book", book, "-o", out)
    assert proc.returncode == 0, proc.stderr
    run = mbobench("run", out, "--strict", "-q", "-o", tmp_path / "r.json", *QUICK)
    assert run.returncode == 0, run.stderr  # with the book file, no order id is unknown


def test_malformed_lobster_line(tmp_path):
    message = tmp_path / "XYZ_2012-06-21_34200000_57600000_message_1.csv"
    message.write_text("34200.1,1,11,100,2000000,1\n34200.2,1,12,lots,2000100,-1\n")
    out = tmp_path / "x.dbn"
    proc = mbobench("data", "import-lobster", message, "-o", out)
    assert_one_line_error(proc, f"{message}:2")
    assert not out.exists()


def test_run_with_the_configured_preset(tmp_path):
    """No counts on the command line: the config's (0 = the preset's) and pyperf's preset."""
    data = tmp_path / "p.dbn"
    assert mbobench("data", "synth", "--events", "2000", "-o", data).returncode == 0
    config = tmp_path / "suite.toml"
    config.write_text('[tool.mbobench]\nengines = ["lockless"]\nprocesses = 0\nvalues = 0\n')
    out = tmp_path / "r.json"
    proc = mbobench("run", data, "--config", config, "--fast", "-q", "-o", out)
    assert proc.returncode == 0, proc.stderr
    lockless = load_result(out).row("p.dbn", "lockless")
    assert len(lockless.values_s) >= 6  # pyperf --fast: at least 3 processes of 2 values
    # The ceiling, measured first and last, is calibrated once: the second takes its loops.
    ceiling = load_result(out).suite.get_benchmarks()[0].get_runs()
    assert len([run for run in ceiling if not run.values]) == 1
    assert len({run.get_loops() for run in ceiling}) == 1 and len(ceiling) == 1 + 2 * 3


def test_progress_shows_n_of_m_and_the_time_left_uncut_in_a_narrow_terminal(tmp_path):
    import os
    import re

    data = tmp_path / "s.dbn"
    assert mbobench("data", "synth", "--events", "2000", "--seed", "2", "-o", data).returncode == 0
    env = dict(os.environ, COLUMNS="60")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(data), "--engine",
                           "compiled", "-o", str(tmp_path / "r.json"), *QUICK],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # The label of what runs goes last, cut there; the counts and both times are whole.
    line = next(x for x in proc.stderr.splitlines() if "benchmarks 3/3" in x)
    assert re.search(r"benchmarks 3/3 \d+:\d\d:\d\d left \d+:\d\d:\d\d s\.dbn/", line), line
