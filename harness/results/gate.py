"""Thresholds to a verdict: what `mbobench check` gates a merge on.

Thresholds live in `[tool.mbobench.thresholds]` (or the `--config` file):

    [tool.mbobench.thresholds]
    digest = true               # every engine must compute the baseline's digest
    max_slowdown = 0.05         # against --baseline, counted only when significant
    min_events_per_s = { compiled = 5_000_000 }
    min_ratio_to_ceiling = { compiled = 0.5 }

An unknown key or a value of the wrong type is an `InputError` naming it (exit 2); a threshold
for an engine the result did not measure fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError
from harness.results.compare import compare
from harness.results.resultfile import Result

PER_ENGINE = ("min_events_per_s", "min_ratio_to_ceiling")
KEYS = {"digest": bool, "max_slowdown": (int, float), **{k: dict for k in PER_ENGINE}}


@dataclass
class Check:
    """One threshold applied to one engine on one file."""

    rule: str
    subject: str  # file / engine
    threshold: str
    measured: str
    passed: bool
    margin: str = ""  # by how much it passed or failed


def validate(thresholds: dict, source: Path) -> dict:
    """The thresholds, checked: known keys, numbers where numbers belong."""
    for key, value in thresholds.items():
        if key not in KEYS:
            raise InputError(f"{source}: unknown threshold {key!r} (known: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool) and KEYS[key] is not bool:
            raise InputError(f"{source}: threshold {key} = {value!r} has the wrong type")
        if key in PER_ENGINE:
            for engine, limit in value.items():
                if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
                    raise InputError(f"{source}: threshold {key}.{engine} = {limit!r} "
                                     "should be a non-negative number")  # fmt: skip
    return thresholds


def evaluate(result: Result, thresholds: dict, baseline: Result | None = None) -> list[Check]:
    """Every threshold against the result (and the baseline result, for slowdowns)."""
    checks: list[Check] = []
    if thresholds.get("digest", True):
        for row in result.rows:
            if row.digest_ok is not None:
                checks.append(Check("digest", f"{row.file} / {row.engine}", "baseline's",
                                    row.digest or "-", row.digest_ok))  # fmt: skip
    for rule in PER_ENGINE:
        for engine, limit in thresholds.get(rule, {}).items():
            rows = [r for r in result.rows if r.engine == engine]
            if not rows:
                checks.append(Check(rule, engine, f"{limit:,}", "not measured", False))
            for row in rows:
                value = row.events_per_s if rule == "min_events_per_s" else row.ratio_to_ceiling
                if row.digest_ok is False:
                    value = 0.0  # a wrong engine's speed does not count
                shown = f"{value:,.0f}" if rule == "min_events_per_s" else f"{value:.3f}"
                limit_shown = f"{limit:,.0f}" if rule == "min_events_per_s" else f"{limit:.3f}"
                checks.append(
                    Check(
                        rule,
                        f"{row.file} / {row.engine}",
                        limit_shown,
                        shown,
                        value >= limit,
                        f"{value / limit - 1:+.1%}" if limit else "",
                    )
                )
    changes = compare(baseline, result) if baseline is not None else []  # refuses a mismatch
    if "max_slowdown" in thresholds:
        limit = float(thresholds["max_slowdown"])
        for change in changes:
            if change.engine == "ceiling":
                continue
            slower = -change.change
            failed = change.significant and slower > limit
            note = "significant" if change.significant else "not significant"
            checks.append(Check("max_slowdown", f"{change.file} / {change.engine}",
                                f"{limit:.1%}", f"{change.change:+.1%} ({note})", not failed,
                                f"{limit - slower:+.1%}"))  # fmt: skip
    return checks
