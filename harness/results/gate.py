"""Thresholds to a verdict: what `mbobench check` gates a merge on.

Thresholds live in `[tool.mbobench.thresholds]` (or the `--config` file); what is not set there
takes mbobench's defaults, `DEFAULTS`:

    [tool.mbobench.thresholds]
    digest = true               # every engine computes the reference's digest (default: true)
    max_slowdown = 0.06         # with --baseline: slower by more, and significant (default 0.06)
    max_rsd = 0.10              # values more spread than this are flagged (default 0.10)
    max_steal = 0.05            # the host's share of the CPU time flagged above (default 0.05)
    max_instructions_increase = 0.01   # counts, with --baseline (default 0.01; or per engine)
    min_events_per_s = { compiled = 5_000_000 }
    min_ratio_to_ceiling = { compiled = 0.5 }

`max_slowdown` applies whenever a baseline result is given, to results of wall time;
`max_instructions_increase` to results of instruction counts (`mbobench run --measure
instructions`), a number for every engine or a table per engine. A count is exact, so any
increase beyond it fails: no significance test. An unknown key or a value of the
wrong type is an `InputError` naming it (exit 2); a threshold for an engine the result did not
measure fails; a gate that checked nothing is an error, never a pass. A spread above `max_rsd`
is a warning row: it does not fail the gate, but says which figures not to trust; so is a file
measured while the hypervisor took more than `max_steal` of the machine's CPU time (steal, in
`harness.measure.steal`), in the result or the baseline. Two results of
one interleaved job (`run --commits BASE,HEAD --interleave`) are tested pair by pair (the
verdict says `paired`); a baseline measured one way and a result the other is a warning row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError
from harness.results.compare import compare
from harness.results.resultfile import CEILING, Result

PER_ENGINE = ("min_events_per_s", "min_ratio_to_ceiling")
KEYS = {"digest": bool, "max_slowdown": (int, float), "max_rsd": (int, float),
        "max_steal": (int, float), "max_instructions_increase": (int, float, dict)}  # fmt: skip
KEYS.update(dict.fromkeys(PER_ENGINE, dict))
DEFAULTS = {"digest": True, "max_slowdown": 0.06, "max_rsd": 0.10, "max_steal": 0.05,
            "max_instructions_increase": 0.01}  # fmt: skip


@dataclass
class Check:
    """One threshold applied to one engine on one file."""

    rule: str
    subject: str  # file / engine
    threshold: str
    measured: str
    passed: bool
    margin: str = ""  # by how much it passed or failed
    warning: bool = False  # flagged, without failing the gate


def validate(thresholds: dict, source: Path | str) -> dict:
    """The thresholds, checked (known keys, numbers where numbers belong), over the defaults."""
    for key, value in thresholds.items():
        if key not in KEYS:
            raise InputError(f"{source}: unknown threshold {key!r} (known: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool) and KEYS[key] is not bool:
            raise InputError(f"{source}: threshold {key} = {value!r} has the wrong type")
        fractions = value if isinstance(value, dict) else {"": value}
        for engine, fraction in fractions.items() if key.startswith("max_") else ():
            if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not (
                    0 <= fraction < 1):  # fmt: skip
                name = f"{key}.{engine}" if engine else key
                raise InputError(f"{source}: threshold {name} = {fraction!r} should be a "
                                 "fraction from 0 to 1, e.g. 0.06 for 6%")  # fmt: skip
        if key in PER_ENGINE:
            for engine, limit in value.items():
                if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
                    raise InputError(f"{source}: threshold {key}.{engine} = {limit!r} "
                                     "should be a non-negative number")  # fmt: skip
    return {**DEFAULTS, **thresholds}


def evaluate(result: Result, thresholds: dict, baseline: Result | None = None) -> list[Check]:
    """Every threshold against the result (and the baseline result, for slowdowns)."""
    checks: list[Check] = []
    counted = result.measure == "instructions"
    if thresholds.get("digest", True):
        for row in result.rows:
            if row.digest_ok is not None:
                checks.append(Check("digest", f"{row.file} / {row.engine}",
                                    f"{row.reference}'s", row.digest or "-",
                                    row.digest_ok))  # fmt: skip
    if counted and "min_events_per_s" in thresholds:  # said, not skipped silently
        checks.append(
            Check(
                "min_events_per_s",
                "all",
                "-",
                "not applied: a wall-time floor, and this result counts instructions",
                True,
                warning=True,
            )
        )
    for rule in PER_ENGINE:
        if counted and rule == "min_events_per_s":
            continue
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
                checks.append(Check(rule, f"{row.file} / {row.engine}", limit_shown, shown,
                                    value >= limit,
                                    f"{value / limit - 1:+.1%}" if limit else ""))  # fmt: skip
    if baseline is not None:
        checks += _against_baseline(result, baseline, thresholds, counted)
    most = float(thresholds.get("max_steal", DEFAULTS["max_steal"]))
    for measured in [r for r in (result, baseline) if r and not counted]:
        for file, share in {r.file: r.steal for r in measured.rows}.items():
            if share is not None and share > most:
                checks.append(Check("max_steal", f"{file} in {measured.path.name}",
                                    f"{most:.0%}", f"{share:.1%} of the CPU time",
                                    True, "the host's load moved these figures",
                                    warning=True))  # fmt: skip
    limit = float(thresholds.get("max_rsd", DEFAULTS["max_rsd"]))
    for row in result.rows if not counted else []:
        if row.rsd > limit and row.digest_ok is not False:
            checks.append(Check("max_rsd", f"{row.file} / {row.engine}", f"{limit:.0%}",
                                f"{row.rsd:.1%}", True, "values too spread to trust",
                                warning=True))  # fmt: skip
    return checks


def _against_baseline(result: Result, baseline: Result, thresholds: dict,
                      counted: bool) -> list[Check]:  # fmt: skip
    """max_slowdown (wall time) or max_instructions_increase (counts) against the baseline."""
    rule = "max_instructions_increase" if counted else "max_slowdown"
    checks = []
    comparison = compare(
        baseline, result, noise=float(thresholds.get("max_slowdown", DEFAULTS["max_slowdown"]))
    )  # refuses different files or measures
    for change in comparison.changes:
        if change.engine == CEILING:
            continue
        limit = limit_for(thresholds, rule, change.engine)
        subject = f"{change.file} / {change.engine}"
        against = f"{limit:.1%} vs {baseline.path.name}"
        if counted:
            more = change.instructions_change
            checks.append(Check(rule, subject, against, f"{more:+.2%} instructions/event",
                                more <= limit, f"{limit - more:+.2%}"))  # fmt: skip
        else:
            slower = -change.change
            failed = change.significant and slower > limit
            test = f"{change.test} t {change.t_score:.1f}"
            measured = f"{change.change:+.1%} ({change.verdict}; {test})"
            checks.append(Check(rule, subject, against, measured,
                                not failed, f"{limit - slower:+.1%}"))  # fmt: skip
    for subject in comparison.only_new:
        checks.append(Check(rule, subject, f"vs {baseline.path.name}", "not in the baseline",
                            True, warning=True))  # fmt: skip
    for subject in comparison.mixed:  # a pass taken in turn runs slower: said, not hidden
        checks.append(Check(rule, subject, f"vs {baseline.path.name}", "one of the two measured "
                            "interleaved, the other not: measure both the same way", True,
                            warning=True))  # fmt: skip
    return checks


def limit_for(thresholds: dict, rule: str, engine: str) -> float:
    """A rule's limit for an engine: its own, the rule's for all, or the default."""
    value = thresholds.get(rule, DEFAULTS[rule])
    if isinstance(value, dict):
        value = value.get(engine, DEFAULTS[rule])
    return float(value)
