"""The report: made from committed result files, opened in headless Chromium, tables and plots."""

from __future__ import annotations

import html
import json
import shutil
import subprocess

import pytest
from test_bad_input import assert_one_line_error
from test_gate import DATA, mbobench

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of committed results of real runs (tests/data/regenerate.sh): two runs of one
    file (a history), a newer run of another file with one engine, and an attribution."""
    tmp = tmp_path_factory.mktemp("report")
    runs = [DATA / f"report-{name}.json" for name in ("run0", "run1", "other")]
    attribution = DATA / "report-attribution.json"
    profiles = tmp / "profiles" / "baseline"
    profiles.mkdir(parents=True)
    shares = {"queue": 0.3, "lock": 0.25, "allocation": 0.2, "dispatch": 0.05, "book": 0.2}
    (profiles / "summary-py-spy.json").write_text(json.dumps(
        {"engine": "baseline", "profiler": "py-spy", "shares": shares}))  # fmt: skip
    out = tmp / "report.html"
    # No results store (its history, when there is one, is test_history's): the history is
    # of the result files.
    proc = mbobench("report", *runs, attribution, "--profiles", tmp / "profiles", "-o", out,
                    "--store", tmp / "no-store")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_holds_every_section(report):
    page = report.read_text()
    for title in (
        "Throughput against the reading ceiling",
        "The plan, phase by phase",
        "Where the baseline design's time goes (Python)",
        "Across commits",
        "Machine and commit",
    ):
        assert html.escape(title) in page, title
    # throughput of each file, attribution, history
    assert page.count("data:image/png;base64,") == 4
    assert "http://" not in page and "https://" not in page  # readable with no network
    twin = report.with_suffix(".md").read_text()
    assert "| file | engine |" in twin and "report-images/history.png" in twin
    throughput = twin.split("## The plan")[0]
    assert "| r.dbn | lockless |" in throughput and "| other.dbn | compiled |" in throughput
    assert (report.parent / "report-images" / "history.png").stat().st_size > 1000


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
def test_report_renders_in_a_browser(report, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    dump = [CHROMIUM, *flags, "--virtual-time-budget=5000", "--dump-dom", report.as_uri()]
    dom = subprocess.run(dump, capture_output=True, text=True, timeout=120)
    assert 'data-images-ok="true"' in dom.stdout, dom.stderr[-2000:]
    assert dom.stdout.count("<table>") >= 4
    shot = report.with_name("report.png")
    screenshot = [CHROMIUM, *flags, "--window-size=1280,2400", f"--screenshot={shot}",
                  report.as_uri()]  # fmt: skip
    subprocess.run(screenshot, capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000


def test_report_without_results(tmp_path):
    proc = mbobench("report", tmp_path / "missing.json")
    assert_one_line_error(proc, "missing.json")
