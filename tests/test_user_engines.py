"""Engines of users' own: by module path, by entry point, and the examples/ folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, mbo_records, write_small_dbn
from test_bad_input import QUICK, assert_one_line_error

from harness.results.resultfile import load_result

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def small_file(tmp_path: Path) -> Path:
    from harness.datasets.synth import synthesize

    return synthesize(tmp_path / "s.dbn", 5000, seed=4)


def mbobench_in(cwd: Path, *args, env=None) -> subprocess.CompletedProcess:
    if args and args[0] == "run":
        args = (*args, *QUICK)
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env)  # fmt: skip


@pytest.mark.parametrize("example", [p for p in EXAMPLES if p.name != "__init__.py"],
                         ids=lambda p: p.name)  # fmt: skip
def test_every_example_engine_passes_the_digest_check(tmp_path, example):
    out = tmp_path / "r.json"
    spec = f"examples.{example.stem}:MyEngine"
    proc = mbobench_in(ROOT, "run", small_file(tmp_path), "--engine", "baseline", "--engine",
                       spec, "-q", "-o", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r.digest_ok for r in load_result(out).rows] == [None, True, True]


def test_engine_module_in_the_working_directory(tmp_path):
    (tmp_path / "fastbook.py").write_text(
        "from engines.lockless import LocklessEngine\n\n\n"
        "class Fast(LocklessEngine):\n    name = 'fast'\n"
    )
    proc = mbobench_in(tmp_path, "run", small_file(tmp_path), "--engine", "baseline",
                       "--engine", "fastbook:Fast", "-q", "-o", tmp_path / "r.json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "fast" in proc.stdout


def test_engine_from_an_entry_point(tmp_path):
    site = tmp_path / "site"
    (site / "thirdparty_engine").mkdir(parents=True)
    (site / "thirdparty_engine" / "__init__.py").write_text(
        "from engines.direct import DirectEngine\n\n\n"
        "class Theirs(DirectEngine):\n    name = 'theirs'\n"
    )
    info = site / "thirdparty_engine-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-engine\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[mbobench.engines]\ntheirs = thirdparty_engine:Theirs\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    proc = mbobench_in(tmp_path, "run", small_file(tmp_path), "--engine", "baseline",
                       "--engine", "theirs", "-q", "-o", tmp_path / "r.json", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    unknown = mbobench_in(tmp_path, "run", small_file(tmp_path), "--engine", "nope", "-q", env=env)
    assert_one_line_error(unknown, "available engines:", "theirs", "compiled")


def test_a_class_that_is_not_an_engine(tmp_path):
    (tmp_path / "notanengine.py").write_text("class Thing:\n    pass\n")
    path = write_small_dbn(tmp_path / "x.dbn", mbo_records(("A", "B", 100, 5, 1, 0x82)))
    proc = mbobench_in(tmp_path, "run", path, "--engine", "notanengine:Thing", "-q")
    assert_one_line_error(proc, "is not an engine", "available engines: baseline")


def test_a_wrong_engine_is_marked_and_fails_the_run(tmp_path):
    (tmp_path / "wrong.py").write_text(
        "from engines.lockless import LocklessEngine\n\n\n"
        "class Wrong(LocklessEngine):\n    name = 'wrong'\n\n"
        "    def run(self, chunks, strict=False):\n"
        "        results = super().run(chunks, strict)\n"
        "        results.digest = '0' * 16\n        return results\n"
    )
    out = tmp_path / "r.json"
    proc = mbobench_in(tmp_path, "run", small_file(tmp_path), "--engine", "baseline",
                       "--engine", "wrong:Wrong", "-q", "-o", out)  # fmt: skip
    assert proc.returncode == 1 and "WRONG" in proc.stdout and "wrong digest" in proc.stderr
    wrong = load_result(out).rows[2]
    assert wrong.engine == "wrong:Wrong" and wrong.digest_ok is False
