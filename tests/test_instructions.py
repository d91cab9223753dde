"""Instruction counts under Valgrind: a Python engine, the compiled engine and a command engine
counted on a short file, exactly repeatable, gated by max_instructions_increase, and never
compared with wall time."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from test_bad_input import assert_one_line_error
from test_gate import DATA, mbobench

from harness.results.resultfile import load_result

NO_VALGRIND = "no valgrind here (Debian: apt-get install valgrind)"
pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None, reason=NO_VALGRIND)


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    from harness.datasets.synth import synthesize

    tmp = tmp_path_factory.mktemp("count")
    data = synthesize(tmp / "c.dbn.zst", 3_000, seed=12)
    engines = ["--engine", "lockless", "--engine", "compiled"]
    if shutil.which("cargo"):
        engines += ["--engine", "rust:lockless"]  # a command engine of the per-pass protocol
    out = tmp / "count.json"
    proc = mbobench("run", data, "--measure", "instructions", *engines, "-q", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return {"data": data, "out": out, "stdout": proc.stdout, "tmp": tmp}


def test_counts_per_event_of_every_engine(counted):
    result = load_result(counted["out"])
    rows = {r.engine: r for r in result.rows}
    assert result.measure == "instructions" and set(rows) >= {"ceiling", "lockless", "compiled"}
    # What an instruction count must show: the Python engine spends far more per event than the
    # compiled one, which spends more than reading alone; every digest is the reference's.
    assert rows["lockless"].instructions_per_event > 10 * rows["compiled"].instructions_per_event
    assert rows["compiled"].instructions_per_event > rows["ceiling"].instructions_per_event > 50
    assert all(r.digest_ok for r in result.rows if not r.is_ceiling)
    meta = result.suite.get_benchmarks()[1].get_metadata()
    assert meta["mbobench_cpu_target"] == "generic" and "valgrind" in meta["mbobench_tool"]
    assert meta["mbobench_count_records"] == 10_000 and rows["lockless"].events == 3_000
    assert "instr/event" in counted["stdout"] and "counted by callgrind" in counted["stdout"]
    if "rust:lockless" in rows:
        assert (
            rows["rust:lockless"].instructions_per_event < rows["lockless"].instructions_per_event
        )


def test_a_count_is_repeatable(counted, tmp_path):
    again = tmp_path / "again.json"
    quick = "rust:lockless" if shutil.which("cargo") else "compiled"  # the quicker to count
    # With a variable more (a CI job's, say): the counted program does not see it, and its
    # environment's size, which moved a count by up to 0.09%, stays the same.
    env = dict(os.environ, SOME_CI_VARIABLE="x" * 3_000)
    proc = mbobench("run", counted["data"], "--measure", "instructions", "--engine", quick,
                    "-q", "-o", again, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for engine in ("ceiling", quick):
        first = load_result(counted["out"]).row("c.dbn.zst", engine).mean_s
        second = load_result(again).row("c.dbn.zst", engine).mean_s
        # Within 0.01%, a tenth of what the environment's size moved: on a fresh clone the
        # ceiling's count differed by 16 instructions of 2.9M, and a Rust engine's (its HashMap
        # seeds its hashes at random) by 10 of 3.8M.
        assert abs(second / first - 1) < 1e-4, engine


def scaled(source, out, factor: float):
    """A copy of a count with the lockless engine's count multiplied by `factor`."""
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(source))
    benchmarks = []
    for bench in suite.get_benchmarks():
        if bench.get_metadata()["mbobench_engine"] == "lockless":
            bench = pyperf.Benchmark([pyperf.Run([v * factor for v in run.values],
                                                 metadata=run.get_metadata(),
                                                 collect_metadata=False)
                                      for run in bench.get_runs()])  # fmt: skip
        benchmarks.append(bench)
    pyperf.BenchmarkSuite(benchmarks).dump(str(out))
    return out


def test_max_instructions_increase(counted, tmp_path):
    more = scaled(counted["out"], tmp_path / "more.json", 1.02)  # 2% more instructions
    same = scaled(counted["out"], tmp_path / "same.json", 1.0005)
    summary = tmp_path / "summary.md"  # the markdown twin of the table: one line a check
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary))
    fail = mbobench("check", more, "--baseline", counted["out"], cwd=tmp_path, env=env)
    assert fail.returncode == 1, fail.stdout
    failed = [line for line in summary.read_text().splitlines() if "**FAIL**" in line]
    assert len(failed) == 1 and "max_instructions_increase | c.dbn.zst / lockless" in failed[0]
    assert "+2.00% instructions/event" in failed[0]
    ok = mbobench("check", same, "--baseline", counted["out"], cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout
    assert "│ max_instructions_increase │" in ok.stdout  # the rule's name whole, in 120 columns
    cfg = tmp_path / "gate.toml"
    cfg.write_text("[tool.mbobench.thresholds]\nmax_instructions_increase = { lockless = 0.03 }\n")
    assert mbobench("check", more, "--baseline", counted["out"], "--config", cfg).returncode == 0
    cfg.write_text("[tool.mbobench.thresholds]\nmax_instructions_increase = 'one percent'\n")
    bad = mbobench("check", more, "--baseline", counted["out"], "--config", cfg)
    assert_one_line_error(bad, "max_instructions_increase")


def test_measures_are_never_mixed(counted):
    wall = DATA / "gate-a.json"
    for args in (("compare", wall, counted["out"]), ("check", counted["out"], "--baseline", wall)):
        assert_one_line_error(mbobench(*args), "never compared")


def test_an_engine_valgrind_cannot_run(counted, tmp_path):
    # A real program that executes an AVX-512 instruction, which Valgrind 3.19 cannot decode.
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler here to build a program with an AVX-512 instruction")
    source = tmp_path / "wide.c"
    source.write_text('#include <stdio.h>\nint main(int argc, char **argv) {\n'
                      '  __asm__ volatile("vpxord %%zmm1, %%zmm1, %%zmm1" ::: "xmm1");\n'
                      '  printf("{\\"events\\": 3000, \\"digest\\": \\"x\\"}\\n");\n'
                      '  return 0;\n}\n')  # fmt: skip
    program = tmp_path / "wide"
    built = subprocess.run([gcc, "-O1", "-o", str(program), str(source)], capture_output=True)
    if built.returncode != 0 or subprocess.run([str(program)], capture_output=True).returncode:
        pytest.skip("this CPU or compiler cannot run an AVX-512 instruction natively")
    out = tmp_path / "partial.json"
    quick = "rust:lockless" if shutil.which("cargo") else "compiled"
    proc = mbobench("run", counted["data"], "--measure", "instructions", "--engine", quick,
                    "--engine", f"cmd:{program} {{file}}", "-q", "-o", out)  # fmt: skip
    assert_one_line_error(proc, f"cmd:{program}", "Valgrind cannot run it")
    # the other engines were still counted, and written
    assert {r.engine for r in load_result(out).rows} == {"ceiling", quick}


def test_the_report_shows_counts_beside_times(counted, tmp_path):
    timed = tmp_path / "timed.json"
    proc = mbobench("run", counted["data"], "--engine", "lockless", "-q", "-o", timed,
                    "--processes", "1", "--values", "1", "--loops", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    html = tmp_path / "r.html"
    proc = mbobench("report", timed, counted["out"], "--profiles", tmp_path, "-o", html)
    assert proc.returncode == 0, proc.stderr
    table = html.with_suffix(".md").read_text().split("## The plan")[0]
    lockless = next(line for line in table.splitlines() if "| lockless |" in line)
    count = load_result(counted["out"]).row("c.dbn.zst", "lockless").instructions_per_event
    assert "instr/event" in table and f"{count:,.1f}" in lockless
