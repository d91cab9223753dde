"""Bad input through the real command: one line naming the file, exit 2, nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import mbo_records, shared_file, write_small_dbn

from harness.results.resultfile import load_result

# One timed pass per engine: these tests check behaviour, not speed.
QUICK = ["--processes", "1", "--values", "1", "--loops", "1"]


def mbobench(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)  # fmt: skip


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mbobench: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def good_records():
    return mbo_records(("A", "B", 100, 5, 1, 0x82), ("A", "A", 101, 2, 2, 0x82),
                       ("C", "B", 100, 5, 1, 0x82), ("M", "A", 102, 2, 2, 0x82))  # fmt: skip


def run_and_check(tmp_path, path, *needles, extra=()):
    out = tmp_path / "result.json"
    proc = mbobench("run", path, "-q", "-o", out, *QUICK, *extra)
    assert_one_line_error(proc, str(path), *needles)
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def test_missing_file(tmp_path):
    run_and_check(tmp_path, tmp_path / "nope.dbn", "no such file")


def test_not_a_dbn_file(tmp_path):
    path = tmp_path / "notes.dbn"
    path.write_text("hello, this is not DBN\n")
    run_and_check(tmp_path, path, "not a DBN file")


@pytest.mark.parametrize("cut", [3, 100, 56 * 2 + 17])
def test_truncated_dbn(tmp_path, cut):
    path = write_small_dbn(tmp_path / "t.dbn", good_records())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut] if cut != 100 else data[:100])
    run_and_check(tmp_path, path, "truncated")


def test_truncated_zst(tmp_path):
    path = write_small_dbn(tmp_path / "t.dbn.zst", good_records())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 9])
    run_and_check(tmp_path, path, "truncated")


def test_without_quiet_the_error_is_still_the_only_line(tmp_path):
    """The progress, on stderr too, leaves no last frame in a log when the run fails."""
    path = write_small_dbn(tmp_path / "t.dbn.zst", good_records())
    path.write_bytes(path.read_bytes()[:-9])
    proc = mbobench("run", path, "--engine", "baseline", "-o", tmp_path / "r.json", *QUICK)
    assert_one_line_error(proc, str(path), "truncated")


def test_corrupt_zst(tmp_path):
    path = write_small_dbn(tmp_path / "c.dbn.zst", good_records())
    data = bytearray(path.read_bytes())
    data[4:40] = b"\xff" * 36
    path.write_bytes(bytes(data))
    run_and_check(tmp_path, path, "corrupt")


@pytest.mark.parametrize("name", ["test_data.mbp-10.dbn", "test_data.mbp-10.v3.dbn.zst"])
def test_wrong_schema(tmp_path, name):
    run_and_check(tmp_path, shared_file("dbn", name), "schema is mbp-10, expected mbo")


BAD_FIELDS = [
    ("action", ord("X"), "unknown action 'X'"),
    ("side", ord("Q"), "unknown side 'Q'"),
    ("rtype", 0x13, "rtype 0x13"),
    # what a fuzzer found the compiled engine to compute differently; no feed sends them
    ("price", -(1 << 63), "is not a price"),
    ("ts_recv", 1 << 63, "beyond 2^63-1 ns"),
]


@pytest.mark.parametrize("field,value,words", BAD_FIELDS)
@pytest.mark.parametrize("suffix", [".dbn", ".dbn.zst"])  # .zst: the compiled engine's ring
def test_bad_record(tmp_path, field, value, words, suffix):
    records = good_records()
    records[2][field] = value
    path = write_small_dbn(tmp_path / f"bad{suffix}", records)
    run_and_check(tmp_path, path, "record 2", words, extra=["--engine", "baseline"])
    # the compiled engine alone (on a .dbn.zst it reads ahead into its ring): the same words
    assert_one_line_error(mbobench("once", path, "--engine", "compiled"), "record 2", words)


def test_unknown_order_is_counted_or_an_error_with_strict(tmp_path):
    records = mbo_records(("A", "B", 100, 5, 1, 0x82), ("C", "B", 100, 5, 42, 0x82))
    path = write_small_dbn(tmp_path / "gap.dbn", records)
    # every engine counts it alike (test_engines.py); here, a run reports it in its result
    ok = mbobench("run", path, "-q", "-o", tmp_path / "ok.json", "--engine", "baseline", *QUICK)
    assert ok.returncode == 0, ok.stderr
    assert load_result(tmp_path / "ok.json").row("gap.dbn", "baseline").unknown_orders == 1
    run_and_check(
        tmp_path,
        path,
        "record 1",
        "C of unknown order id 42",
        extra=["--strict", "--engine", "baseline"],
    )


def test_unknown_engine_lists_the_available_ones(tmp_path):
    path = write_small_dbn(tmp_path / "ok.dbn", good_records())
    proc = mbobench("run", path, "-q", "--engine", "nope", "-o", tmp_path / "r.json", *QUICK)
    assert_one_line_error(proc, "unknown engine 'nope'", "available engines: baseline")
    assert not (tmp_path / "r.json").exists()


def test_bad_config_names_the_key(tmp_path):
    path = write_small_dbn(tmp_path / "ok.dbn", good_records())
    config = tmp_path / "bench.toml"
    config.write_text("[tool.mbobench]\nchunk_records = 'many'\n")
    proc = mbobench("run", path, "-q", "--config", config, "-o", tmp_path / "r.json", *QUICK)
    assert_one_line_error(proc, str(config), "chunk_records")


@pytest.mark.parametrize("path,says", [("/dev/null", "is not a regular file"),
                                       ("/tmp", "is a directory")])  # fmt: skip
def test_once_on_what_is_not_a_file(path, says):
    assert_one_line_error(mbobench("once", path), path, says)


@pytest.mark.parametrize("command", [["data", "synth", "--events", "100"],
                                     ["data", "import-lobster", "LOBSTER"]])  # fmt: skip
def test_output_into_a_folder_that_does_not_exist(tmp_path, command):
    out = tmp_path / "new" / "folder" / "out.dbn"
    if command[-1] == "LOBSTER":
        message = tmp_path / "X_2012-06-21_34200000_57600000_message_1.csv"
        message.write_text("34200.1,1,7,100,1000000,1\n34200.2,3,7,100,1000000,1\n")
        command = [*command[:-1], message]
    proc = mbobench(*command, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and not list(out.parent.glob(".*.tmp"))


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_mbobench_alone_stops_its_workers(tmp_path, signum):
    from harness.datasets.synth import synthesize

    data = synthesize(tmp_path / "long.dbn", 30_000, seed=4)
    out = tmp_path / "never.json"
    # A program started in the background of a shell inherits SIGINT ignored (and Python keeps
    # it so, as it should): the run is started as a terminal would start it.
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(data), "--engine",
                             "baseline", "-q", "--processes", "3", "--values", "5", "-o", str(out)],
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=_interruptible)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [
        pid for pid in _processes_naming(str(data)) if pid != proc.pid
    ]:  # a worker of pyperf's, running on the file
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before a worker started"
    os.kill(proc.pid, signum)  # to mbobench alone, not to its process group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    time.sleep(0.5)
    assert _processes_naming(str(data)) == []  # nothing left running on the file
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
