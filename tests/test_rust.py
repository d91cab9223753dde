"""The Rust engines (engines/rust/): built by mbobench, the same digests as the Python baseline on
real and generated files, the plan's phases and all 16 switch configurations, the same words for
bad input, and measured, attributed and profiled through mbobench's commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, shared_file, write_small_dbn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streams import EXTREMES, build_stream, op_lists
from test_bad_input import BAD_FIELDS, assert_one_line_error, good_records, mbobench

from engines import SWITCHES, switch_label
from engines.baseline import BaselineEngine
from engines.book import UnknownOrder
from harness.dbn.reader import Reader
from harness.errors import InputError
from harness.measure import rust
from harness.measure.command import run_passes
from harness.results.attribution import SUBSETS
from harness.results.resultfile import load_result

NO_CARGO = "no cargo here: the Rust engines need it (rustup.rs, or Debian's cargo)"
pytestmark = pytest.mark.skipif(shutil.which("cargo") is None, reason=NO_CARGO)

PHASES = list(rust.PHASES)
LABELS = [switch_label(s) for s in SUBSETS]
CME = "esh4-glbx-mdp3-20231225.mbo.dbn.zst"


def rust_results(path, name: str, strict: bool = False) -> dict:
    """What `rust:NAME` computed on a file, from its own JSON line."""
    return run_passes(rust.template(name, strict), path, 1, f"rust:{name}")[0]


def python_results(path, strict: bool = False):
    return BaselineEngine().run(Reader(path), strict)


def assert_agree(path, names=PHASES + LABELS):
    want = python_results(path)
    for name in names:
        got = rust_results(path, name)
        assert got["digest"] == want.digest, (name, path)
        assert (got["events"], got["event_ends"], got["unknown_orders"], got["fills"]) == (
            want.events,
            want.event_ends,
            want.unknown_orders,
            want.fills,
        ), name


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from harness.datasets.synth import synthesize

    tmp = tmp_path_factory.mktemp("rust")
    zst = synthesize(tmp / "s.dbn.zst", 60_000, seed=11, instruments=3)
    dbn = synthesize(tmp / "s.dbn", 60_000, seed=11, instruments=3)
    return {"zst": zst, "dbn": dbn, "tmp": tmp}


def test_every_variant_agrees_on_generated_files(files):
    assert_agree(files["zst"])
    assert_agree(files["dbn"], PHASES)


def test_cme_session_with_and_without_its_snapshot(tmp_path):
    path = shared_file("dbn", CME)
    assert_agree(path, PHASES + ["none", "queue+lock+alloc+dispatch"])
    records = np.concatenate(list(Reader(path)))
    after = write_small_dbn(tmp_path / "after.dbn", records[8_725:])
    assert_agree(after, PHASES)
    assert python_results(after).unknown_orders == rust_results(after, "lockless")[
        "unknown_orders"] > 0  # fmt: skip


def test_every_dbn_version(tmp_path):
    versions = ("v1.dbn.zst", "v2.dbn.zst", "v3.dbn.zst", "dbn", "v3.dbn")
    for name in (f"test_data.mbo.{version}" for version in versions):
        assert_agree(shared_file("dbn", name), ["baseline", "lockless"])


@pytest.mark.parametrize("ticker,levels", [("AAPL", 10), ("AMZN", 1)])
def test_lobster_imports(tmp_path, ticker, levels):
    from harness.datasets.lobster import import_lobster

    stem = f"{ticker}_2012-06-21_34200000_57600000_{{}}_{levels}.csv"
    message = shared_file("lobster", stem.format("message"))
    book = shared_file("lobster", stem.format("orderbook"))
    path, _ = import_lobster(message, book, tmp_path / "l.dbn.zst")
    assert_agree(path, PHASES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    op_lists(max_size=200),
    st.integers(1, 3),
    st.sampled_from(list(EXTREMES)),
)  # fmt: skip
def test_random_streams_agree(tmp_path, ops, instruments, extreme):
    path = write_small_dbn(tmp_path / "stream.dbn", build_stream(ops, instruments, extreme))
    assert_agree(path, ["baseline", "lockless", "none"])


def test_strict_names_the_record(tmp_path):
    records = good_records()
    records[3]["action"], records[3]["order_id"] = ord("C"), 424242
    path = write_small_dbn(tmp_path / "gap.dbn", records)
    assert rust_results(path, "baseline")["unknown_orders"] == 1
    with pytest.raises(UnknownOrder):
        python_results(path, strict=True)
    for name in ("baseline", "lockless"):
        with pytest.raises(InputError, match=r"record 3: C of unknown order id 424242"):
            rust_results(path, name, strict=True)


@pytest.mark.parametrize("field,value,words", BAD_FIELDS)
@pytest.mark.parametrize("suffix", [".dbn", ".dbn.zst"])
def test_bad_records_in_the_readers_words(tmp_path, field, value, words, suffix):
    records = good_records()
    records[2][field] = value
    path = write_small_dbn(tmp_path / f"bad{suffix}", records)
    with pytest.raises(InputError) as python:
        list(Reader(path))
    with pytest.raises(InputError) as native:
        rust_results(path, "baseline")
    assert str(python.value) in str(native.value) and words in str(native.value)


def test_bad_files_in_the_readers_words(tmp_path, files):
    data = files["zst"].read_bytes()
    cut = tmp_path / "cut.dbn.zst"
    cut.write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[51_900:51_904] = bytes(b ^ 0xFF for b in flipped[51_900:51_904])
    corrupt = tmp_path / "corrupt.dbn.zst"
    corrupt.write_bytes(flipped)
    cases = [(cut, "truncated"), (corrupt, "")]
    if (ROOT.parent / "shared" / "data" / "dbn" / "test_data.mbp-10.dbn").is_file():
        cases.append((shared_file("dbn", "test_data.mbp-10.dbn"), "schema is mbp-10"))
    for path, says in cases:
        with pytest.raises(InputError) as python:
            list(Reader(path))
        with pytest.raises(InputError) as native:
            rust_results(path, "lockless")
        assert says in str(python.value) and str(python.value) in str(native.value), path


def test_run_measures_rust_engines_per_pass(files, tmp_path):
    out = tmp_path / "r.json"
    engines = ["--engine", "rust:baseline", "--engine", "rust:lockless"]
    proc = mbobench("run", files["zst"], *engines, "-q", "-o", out, "--processes", "1",
                    "--values", "2", "--loops", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {r.engine: r for r in load_result(out).rows}
    assert rows["rust:lockless"].digest_ok and rows["rust:lockless"].reference == "rust:baseline"
    assert rows["rust:baseline"].digest == python_results(files["zst"]).digest
    assert len(rows["rust:lockless"].values_s) == 2 and rows["rust:lockless"].startup_s is None
    bad = mbobench("run", files["zst"], "--engine", "rust:nosuch", "-q", "-o", tmp_path / "x")
    assert_one_line_error(bad, "unknown Rust engine rust:nosuch")


def test_no_cargo_is_exit_3(files, tmp_path):
    env = dict(os.environ, PATH="/nonexistent", MBOBENCH_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(files["zst"]),
                           "--engine", "rust:baseline", "-q", "-o", str(tmp_path / "x.json")],
                          capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 3 and "need cargo" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_attribute_the_rust_family(files, tmp_path):
    out = tmp_path / "attr.json"
    proc = mbobench("attribute", files["dbn"], "--engine", "rust", "-q", "-o", out,
                    "--processes", "1", "--values", "3")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "where the baseline design's time goes (rust)" in proc.stdout
    assert "rust:baseline, in the same run" in proc.stdout
    rows = load_result(out).rows
    assert {r.switches for r in rows if r.family == "rust"} == set(LABELS)
    assert all(r.digest_ok for r in rows if not r.is_ceiling)
    assert len(SWITCHES) == 4


def test_perf_profile_of_a_rust_engine(files, tmp_path):
    if shutil.which("perf") is None:
        pytest.skip("no perf here (Debian: apt-get install linux-perf)")
    out = tmp_path / "prof"
    proc = mbobench("profile", files["zst"], "--engine", "rust:baseline", "--seconds", "1",
                    "-o", out)  # fmt: skip
    if proc.returncode == 3:
        pytest.skip(f"perf may not sample here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    summary = (out / "summary-perf.json").read_text()
    assert '"queue"' in summary and (out / "perf.collapsed.txt").stat().st_size > 100
    import json

    shares = json.loads(summary)["shares"]
    # The baseline's design: its heap, its lock and its allocations all show in the samples.
    assert shares["queue"] > 0 and shares["lock"] > 0 and shares["allocation"] > 0
    assert shares["book"] > 0 and sum(shares.values()) == pytest.approx(1.0)
    assert f"profile written to {out}" in proc.stdout
