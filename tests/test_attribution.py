"""Attribution: Shapley values on known inputs, and a real `mbobench attribute` on a small file."""

from __future__ import annotations

import itertools
import shutil
import sys

import pytest
from conftest import ROOT
from test_bad_input import QUICK, assert_one_line_error
from test_gate import mbobench

from harness.measure.profiling import summarize_collapsed
from harness.results.attribution import (
    COSTS,
    ENGINES,
    SUBSETS,
    attribute,
    interactions,
    shapley,
)
from harness.results.categories import categorize
from harness.results.resultfile import load_result


def test_additive_costs_are_recovered_exactly():
    cost = {"queue": 40.0, "lock": 25.0, "alloc": 20.0, "dispatch": 10.0}
    times = {s: 100.0 + sum(cost[c] for c in s) for s in SUBSETS}
    assert shapley(times) == pytest.approx(cost)
    assert all(v == pytest.approx(0) for v in interactions(times).values())


def test_parts_add_up_to_the_total_even_with_interactions():
    times = {s: 100.0 + 10 * len(s) + (30.0 if {"queue", "lock"} <= s else 0.0) for s in SUBSETS}
    parts = shapley(times)
    assert sum(parts.values()) == pytest.approx(times[SUBSETS[-1]] - times[SUBSETS[0]])
    assert parts["queue"] == pytest.approx(25.0) and parts["alloc"] == pytest.approx(10.0)
    assert interactions(times)["queue", "lock"] == pytest.approx(30.0)


def test_sixteen_configurations():
    assert len(ENGINES) == 16 == len(set(ENGINES))
    assert ENGINES[0] == "switches:none" and ENGINES[-1] == "switches:queue+lock+alloc+dispatch"
    assert {frozenset(s) for k in range(5) for s in itertools.combinations(COSTS, k)} == set(
        SUBSETS
    )


def test_attribute_on_a_small_file(tmp_path):
    from harness.datasets.synth import synthesize

    data = synthesize(tmp_path / "a.dbn", 4_000, seed=8)
    out = tmp_path / "attr.json"
    proc = mbobench("attribute", data, "-q", "-o", out, *QUICK)
    assert proc.returncode == 0, proc.stderr
    assert "where the baseline design's time goes" in proc.stdout and "remainder" in proc.stdout
    assert "baseline, in the same run" in proc.stdout  # beside its all-on twin
    result = load_result(out)
    assert {r.engine for r in result.rows} == {"ceiling", "baseline", *ENGINES}
    again = mbobench("attribute", "--from", out)
    assert again.returncode == 0 and "queue" in again.stdout


def test_profile_categories_come_from_the_code():
    book = str(ROOT / "engines" / "book.py")
    baseline = str(ROOT / "engines" / "baseline.py")
    lines = (ROOT / "engines" / "baseline.py").read_text().splitlines()
    push = next(i for i, line in enumerate(lines, 1) if "heappush(  # cost: queue" in line)
    assert categorize([("run", baseline, push)]) == "queue"
    assert categorize([("run", baseline, push), ("add", book, 10)]) == "book"
    assert categorize([("on_event_end", baseline, 1), ("acquire_read", baseline, 1)]) == "lock"
    assert categorize([("copy", "/usr/lib/python3.11/copy.py", 3)]) == "allocation"
    summary = summarize_collapsed(f"run ({baseline}:{push}) 30\nrun ({baseline}:{push});"
                                  f"add ({book}:10) 10\nmystery (x.py:1) 10\n")  # fmt: skip
    assert summary["categories"]["queue"] == 30 and summary["categories"]["book"] == 10
    assert summary["shares"]["other"] == pytest.approx(0.2)


def test_generated_loop_lines_carry_their_cost():
    from engines import load_engine

    source = load_engine("switches:queue+lock+alloc+dispatch").source.splitlines()
    line = next(i for i, text in enumerate(source, 1) if "heappop" in text)
    assert categorize([("loop", "<mbobench switches:queue+lock+alloc+dispatch>", line)]) == "queue"


def test_attribute_a_command_engine_with_switches(tmp_path):
    from harness.datasets.synth import synthesize

    data = synthesize(tmp_path / "a.dbn", 2_000, seed=8)
    # A program of one's own that takes its four switches: the Rust crate's, where it can be
    # built (quick to start), else the Python test engine.
    if shutil.which("cargo"):
        from harness.measure import rust

        program = str(rust.binary())
    else:
        program = f"{sys.executable} {ROOT / 'tests' / 'cmd_engine.py'}"
    family = (f"cmd:{program} {{file}} --passes {{passes}} --queue {{queue}} --lock {{lock}} "
              "--alloc {alloc} --dispatch {dispatch}")  # fmt: skip
    out = tmp_path / "attr.json"
    proc = mbobench("attribute", data, "--engine", family, "-q", "--processes", "1",
                    "--values", "2", "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = load_result(out)
    assert len({r.switches for r in result.rows if r.family == family}) == 16
    assert all(r.digest_ok for r in result.rows if r.family)  # all 16 compute the same
    (attribution,) = attribute(result, rounds=50)
    assert attribution.family == family and set(attribution.parts) == set(COSTS)
    assert sum(f.ns for f in attribution.parts.values()) == pytest.approx(
        attribution.total.ns - attribution.remainder.ns
    )
    bad = mbobench("attribute", data, "--engine", "cmd:./x {file}", "-q")
    assert_one_line_error(bad, "has no switches to attribute")
