"""compare and check on committed result files of real runs (tests/data), and command engines."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT
from test_bad_input import QUICK, assert_one_line_error

from harness.results.resultfile import load_result

SLOWED = "benchmarks.slowed:SlowedEngine"
DATA = ROOT / "tests" / "data"
SHORT = ["--processes", "2", "--values", "3"]  # loops calibrated: several values to test


def mbobench(*args, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    env = dict(env or os.environ, PYTHONPATH=str(ROOT))  # importable from any folder
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env)  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Committed results (tests/data/regenerate.sh) of the slowed engine on one file with 0%,
    0% again and 60% extra work, and of another file; and a small file for command engines."""
    from harness.datasets.synth import synthesize

    out = {name: DATA / f"gate-{name}.json" for name in ("a", "a2", "slow", "other")}
    tmp = tmp_path_factory.mktemp("gate")
    synthesize(tmp / "other.dbn", 3_000, seed=6)
    out["tmp"] = tmp
    return out


def config(tmp, text: str):
    path = tmp / "gate.toml"
    path.write_text("[tool.mbobench.thresholds]\n" + text)
    return path


def test_compare_finds_the_slowdown_significant(results):
    proc = mbobench("compare", results["a"], results["slow"])
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "SlowedEngine" in line)
    assert "slower" in line and "-" in line
    markdown = mbobench("compare", results["a"], results["slow"], "--markdown").stdout
    assert markdown.startswith("| file / engine |") and "| slower |" in markdown
    assert "within ±6% (max_slowdown) is within noise" in markdown


def test_check_passes_then_fails_on_a_significant_slowdown(results, tmp_path):
    cfg = config(tmp_path, "max_slowdown = 0.10\ndigest = true\n")
    same = mbobench("check", results["a2"], "--baseline", results["a"], "--config", cfg)
    assert same.returncode == 0, same.stdout + same.stderr
    # Where they came from, the TOML table's name not taken for markup (the caption may wrap).
    said = " ".join(same.stdout.split())
    assert f"thresholds: {cfg} [tool.mbobench.thresholds], over mbobench's defaults" in said
    summary = tmp_path / "summary.md"
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary))
    slow = mbobench("check", results["slow"], "--baseline", results["a"], "--config", cfg, env=env)
    assert slow.returncode == 1 and "FAIL" in slow.stdout and "max_slowdown" in slow.stdout
    assert "check failed" in slow.stderr
    text = summary.read_text()
    assert "mbobench check: FAILED" in text and "**FAIL**" in text


def test_check_minimums_and_digest(results, tmp_path):
    ok = config(
        tmp_path,
        "min_events_per_s = { baseline = 1 }\n"
        "min_ratio_to_ceiling = { 'benchmarks.slowed:SlowedEngine' = 0.0001 }\n",
    )
    assert mbobench("check", results["a"], "--config", ok).returncode == 0
    high = config(tmp_path, "min_events_per_s = { baseline = 1e12 }\n")
    proc = mbobench("check", results["a"], "--config", high)
    assert proc.returncode == 1 and "min_events_per_s" in proc.stdout and "FAIL" in proc.stdout
    missing = config(tmp_path, "min_events_per_s = { lockless = 1 }\n")
    proc = mbobench("check", results["a"], "--config", missing)
    assert proc.returncode == 1 and "not measured" in proc.stdout


def test_result_is_read_back_with_its_figures(results):
    result = load_result(results["slow"])
    slow = result.row("g.dbn", SLOWED)
    fast = load_result(results["a"]).row("g.dbn", SLOWED)
    assert slow.digest_ok and slow.digest == fast.digest
    assert len(slow.values_s) == 6 and slow.events_per_s < fast.events_per_s


@pytest.mark.parametrize("case", ["missing", "not json", "other tool", "mismatch"])
def test_unusable_results_exit_2(results, tmp_path, case):
    bad = tmp_path / "bad.json"
    if case == "not json":
        bad.write_text("{ not json")
    elif case == "other tool":
        proc = subprocess.run([sys.executable, "-m", "pyperf", "timeit", "-p", "1", "-n", "1",
                               "-l", "1", "-w", "0", "-q", "-o", str(bad), "1 + 1"],
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    elif case == "mismatch":
        bad = results["other"]
    proc = mbobench("compare", results["a"], bad)
    assert_one_line_error(proc, str(bad) if case != "mismatch" else "no file and engine in common")
    proc = mbobench("check", results["a"], "--baseline", bad)
    assert proc.returncode == 2


@pytest.mark.parametrize("text,says", [("max_slowdon = 0.1\n", "unknown threshold 'max_slowdon'"),
                                       ("max_slowdown = 'ten'\n", "max_slowdown"),
                                       ("min_events_per_s = { baseline = 'x' }\n", "baseline"),
                                       ("digest = 3\n", "digest")])  # fmt: skip
def test_bad_threshold_file(results, tmp_path, text, says):
    cfg = config(tmp_path, text)
    proc = mbobench("check", results["a"], "--config", cfg)
    assert_one_line_error(proc, str(cfg), says)


def cmd(*extra: str) -> str:
    return f"cmd:{sys.executable} {ROOT / 'tests' / 'cmd_engine.py'} {{file}} {' '.join(extra)}"


def test_command_engine_is_timed_and_checked(results, tmp_path):
    out = tmp_path / "cmd.json"
    proc = mbobench(
        "run",
        results["tmp"] / "other.dbn",
        "--engine",
        "baseline",
        "--engine",
        cmd(),
        "-q",
        "--processes",
        "1",
        "--values",
        "2",
        "--loops",
        "1",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in load_result(out).rows if r.engine.startswith("cmd:"))
    assert row.digest_ok is True and row.events >= 3_000
    assert 0 < row.startup_s < row.mean_s and "starting cmd:" in proc.stdout


@pytest.mark.parametrize("extra,says", [("--fail", "exited with 1"),
                                        ("--garbage", "printed no JSON line")])  # fmt: skip
def test_broken_command_engines(results, tmp_path, extra, says):
    out = tmp_path / "cmd.json"
    proc = mbobench("run", results["tmp"] / "other.dbn", "--engine", cmd(extra), "-q",
                    "--processes", "1", "--values", "1", "--loops", "1", "-o", out)  # fmt: skip
    assert_one_line_error(proc, says)
    assert not out.exists()


def test_per_pass_command_engine_is_timed_per_pass(results, tmp_path):
    out = tmp_path / "passes.json"
    proc = mbobench("run", results["tmp"] / "other.dbn", "--engine", "baseline", "--engine",
                    cmd("--passes", "{passes}"), "-q", "--processes", "2", "--values", "3",
                    "--loops", "1", "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in load_result(out).rows if r.engine.startswith("cmd:"))
    # 2 processes of 3 values each, one pass a value; the warm-up pass kept apart, as pyperf does
    assert len(row.values_s) == 6 and row.digest_ok is True and row.fills is not None
    bench = next(b for b in load_result(out).suite.get_benchmarks() if b.get_name() == row.name)
    assert [run.warmups[0][0] for run in bench.get_runs()] == [1, 1]
    assert row.startup_s is None  # nothing but the passes is in the values
    assert 0 < row.mean_s < 10 and row.peak_rss > 10_000_000
    stats = subprocess.run([sys.executable, "-m", "pyperf", "stats", str(out)],
                           capture_output=True, text=True)  # fmt: skip
    assert stats.returncode == 0 and "Number of benchmarks: 3" in stats.stdout


def test_per_pass_engine_whose_passes_disagree(results, tmp_path):
    out = tmp_path / "passes.json"
    proc = mbobench("run", results["tmp"] / "other.dbn", "--engine",
                    cmd("--passes", "{passes}", "--unsteady"), "-q", "--processes", "1",
                    "--values", "2", "--loops", "1", "-o", out)  # fmt: skip
    assert_one_line_error(proc, "different digests")
    assert not out.exists()


def test_reference_engine_replaces_the_baseline(results, tmp_path):
    out = tmp_path / "ref.json"
    proc = mbobench("run", results["tmp"] / "other.dbn", "--engine", "lockless", "--engine",
                    cmd("--passes", "{passes}"), "--reference", "lockless", "-q", "--processes",
                    "1", "--values", "1", "--loops", "1", "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "x lockless" in proc.stdout and "x baseline" not in proc.stdout
    rows = load_result(out).rows
    assert [r.digest_ok for r in rows] == [None, True, True]
    assert {r.reference for r in rows} == {"lockless"}
    bench = load_result(out).suite.get_benchmarks()[0]  # the ceiling carries the run's metadata
    assert bench.get_metadata()["mbobench_reference"] == "lockless"
    assert len(bench.get_metadata()["mbobench_sha256"]) == 64
    assert bench.get_metadata()["mbobench_engine_commit"]  # the tests run in a git checkout
    missing = mbobench("run", results["tmp"] / "other.dbn", "--engine", "lockless",
                       "--reference", "baseline", "-q", "-o", tmp_path / "x.json")  # fmt: skip
    assert_one_line_error(missing, "reference engine 'baseline' is not among")


def test_a_suite_of_one_user_engine_needs_no_baseline(results, tmp_path):
    out = tmp_path / "mine.json"
    proc = mbobench("run", results["tmp"] / "other.dbn", "--engine", cmd("--passes", "{passes}"),
                    "-q", *QUICK, "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r.digest_ok for r in load_result(out).rows] == [None, True]


def scaled(source, out, factor: float, engine: str = SLOWED):
    """A copy of a result file in which one engine's values are its mean times `factor`, each
    off by -0.5%, 0 or +0.5% (a steady machine's spread)."""
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(source))
    benchmarks = []
    for bench in suite.get_benchmarks():
        if bench.get_metadata()["mbobench_engine"] == engine:
            mean = bench.mean() * factor
            runs = [pyperf.Run([mean * (1 + 0.005 * (i % 3 - 1)) for i in range(len(run.values))],
                               warmups=run.warmups, metadata=run.get_metadata(),
                               collect_metadata=False) for run in bench.get_runs()]  # fmt: skip
            bench = pyperf.Benchmark(runs)
        benchmarks.append(bench)
    pyperf.BenchmarkSuite(benchmarks).dump(str(out))
    return out


def test_check_without_a_config_applies_the_documented_defaults(results, tmp_path):
    # In a folder with no pyproject.toml, as a CI job that checks results out elsewhere.
    slow = mbobench("check", results["slow"], "--baseline", results["a"], cwd=tmp_path)
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert "mbobench's defaults" in slow.stdout and "6.0% vs gate-a.json" in slow.stdout
    assert "max_slowdown" in slow.stdout and "digest" in slow.stdout
    same = mbobench("check", results["a2"], "--baseline", results["a"], cwd=tmp_path)
    assert same.returncode == 0 and "check passed" in same.stderr
    assert same.stdout.count("max_slowdown") >= 2  # baseline and slowed: each applied, shown


def test_a_gate_that_checks_nothing_is_an_error(results, tmp_path):
    cfg = config(tmp_path, "digest = false\n")
    proc = mbobench("check", results["a"], "--config", cfg)
    assert_one_line_error(proc, "the gate checked nothing")


def test_spread_values_are_a_warning_row(results, tmp_path):
    cfg = config(tmp_path, "max_rsd = 0.001\n")
    proc = mbobench("check", results["a"], "--config", cfg)
    assert proc.returncode == 0 and "max_rsd" in proc.stdout and "warn" in proc.stdout
    assert "values too spread to trust" in proc.stdout


def test_a_small_significant_change_is_within_noise(results, tmp_path):
    steady = scaled(results["a"], tmp_path / "steady.json", 1.0)
    faster = scaled(results["a"], tmp_path / "faster.json", 0.97)  # 3% less time a pass
    proc = mbobench("compare", steady, faster)
    line = next(line for line in proc.stdout.splitlines() if "SlowedEngine" in line)
    assert "within noise" in line and "+3.1%" in line, proc.stdout
    assert "±6%" in proc.stdout
    much = scaled(results["a"], tmp_path / "much.json", 0.8)
    line = next(x for x in mbobench("compare", steady, much).stdout.splitlines()
                if "SlowedEngine" in x)  # fmt: skip
    assert "faster" in line


def test_compare_results_of_different_engines(results, tmp_path):
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(results["a"]))
    fewer = tmp_path / "fewer.json"
    kept = [b for b in suite.get_benchmarks() if b.get_metadata()["mbobench_engine"] != SLOWED]
    pyperf.BenchmarkSuite(kept).dump(str(fewer))
    proc = mbobench("compare", results["a"], fewer)
    assert proc.returncode == 0, proc.stderr
    assert "g.dbn / baseline" in proc.stdout and "only in the old result" in proc.stdout
    assert SLOWED in proc.stdout.split("only in the old result")[1]


def test_an_engine_whose_pass_takes_a_second_has_one_value_a_process(results, tmp_path):
    out = tmp_path / "slow.json"
    proc = mbobench("run", results["tmp"] / "other.dbn", "--engine", "tests.slow_engine:SlowEngine",
                    "-q", "--processes", "2", "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bench = {
        b.get_metadata()["mbobench_engine"]: b for b in load_result(out).suite.get_benchmarks()
    }
    slow = bench["tests.slow_engine:SlowEngine"]
    # One loop a value, as pyperf's calibration would find, a process and a pass later: the
    # runner tells it so (--loops 1), so that no process is a calibration's alone.
    assert [len(run.values) for run in slow.get_runs()] == [1, 1]
    timed = [run.get_metadata() for run in slow.get_runs()]
    assert all(meta["mbobench_values_per_process"] == 1 and meta["loops"] == 1 for meta in timed)
    assert all(len(run.values) == 3 for run in bench["ceiling"].get_runs() if run.values)


def test_a_slow_engine_warms_up_on_a_prefix_and_its_digest_is_its_timed_passes(tmp_path):
    import pyperf

    from engines import load_engine
    from harness.datasets.synth import synthesize
    from harness.dbn.reader import Reader
    from harness.measure.prefix import PREFIX_RECORDS

    path, out = tmp_path / "day.dbn", tmp_path / "worker.json"
    synthesize(path, 10_000, seed=3)
    records = Reader(path).record_count
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "harness.measure.worker", "--engine",
                           "tests.slow_engine:SlowEngine", "--input", str(path), "--records",
                           str(records), "--slow-values", "1", "--processes", "2", "--loops",
                           "1", "--quiet", "-o", str(out), "--inherit-environ", "PYTHONPATH"],
                          capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = [int(line.split()[-2]) for line in proc.stderr.splitlines() if "a run over" in line]
    # Two workers: each a warm-up on a prefix, then one whole pass.
    assert runs == [PREFIX_RECORDS, records] * 2, runs
    timed = [run.get_metadata() for run in pyperf.Benchmark.load(str(out)).get_runs()
             if run.values]  # fmt: skip
    whole = load_engine("baseline").run(Reader(path))  # every engine's digest is the same
    assert [meta["mbobench_events"] for meta in timed] == [whole.events] * 2
    assert {meta["mbobench_digest"] for meta in timed} == {whole.digest}


def test_the_slowed_engine_computes_the_same_and_passes_over_the_files_head(tmp_path, monkeypatch):
    """The injected regression of the trust experiment: the compiled engine's results, and a
    second pass over the file's first records, read from a copy of them in the cache; calibrated
    in its first pass when no size is given."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.slowed import SlowedEngine
    from engines.compiled import CompiledEngine
    from harness.dbn.reader import Reader

    path = tmp_path / "g.dbn.zst"
    assert mbobench("data", "synth", "--events", "6000", "--seed", "3", "-o", path).returncode == 0
    monkeypatch.setenv("MBOBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MBOBENCH_SLOWDOWN", "0.10")
    expected = CompiledEngine().run(Reader(path))
    for given in ("1000", None):
        if given:
            monkeypatch.setenv("MBOBENCH_SLOWDOWN_RECORDS", given)
        else:
            monkeypatch.delenv("MBOBENCH_SLOWDOWN_RECORDS")
        engine = SlowedEngine()
        for _ in range(2):
            results = engine.run(Reader(path))
            assert (results.digest, results.events) == (expected.digest, expected.events)
        assert engine.head.parent == tmp_path / "cache" / "heads"
        records = sum(map(len, Reader(engine.head)))
        assert records == engine.head_records and 0 < records < expected.events
        assert records == 1000 or given is None


def test_a_file_measured_while_the_host_stole_cpu_time_is_a_warning_row(results, tmp_path):
    import pyperf

    from harness.measure import steal
    from harness.render.table import run_table
    from harness.results.resultfile import load_result

    suite = pyperf.BenchmarkSuite.load(str(results["a"]))
    for bench in suite.get_benchmarks():
        bench.update_metadata({"mbobench_steal": 0.2})
    stolen = tmp_path / "stolen.json"
    suite.dump(str(stolen))
    proc = mbobench("check", stolen, "--baseline", results["a2"], cwd=tmp_path)  # the defaults
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "max_steal" in line)
    assert "stolen.json" in line and "20.0% of the CPU time" in line and "warn" in line
    assert "gate-a2.json" not in proc.stdout.split("max_steal")[-1].split("\n")[0]
    calm = mbobench("check", stolen, "--baseline", results["a2"], "--config",
                    config(tmp_path, "max_steal = 0.25\n"), cwd=tmp_path)  # fmt: skip
    assert calm.returncode == 0 and "max_steal" not in calm.stdout
    assert "the host took 20%" in str(run_table(load_result(stolen)).caption)
    before = steal.cpu_ticks()
    if before is None:
        pytest.skip("no /proc/stat: steal is not measured here")
    after = steal.cpu_ticks()
    assert 0 <= steal.stolen(before, (after[0], after[1] + 1)) <= 1
