"""Markdown renderings of verdicts (a CI step summary, a pull-request comment) and the one
markdown-table writer that they and the report's markdown twin use."""

from __future__ import annotations


def table(head: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured markdown table; cells are written as `str` gives them."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def checks_markdown(checks: list, source: str) -> str:
    """`mbobench check`'s verdicts, under a heading that says whether the gate passed."""
    failed = sum(not c.passed for c in checks)
    counted = sum(not c.warning for c in checks)
    heading = (
        f"### mbobench check: {'FAILED' if failed else 'passed'} "
        f"({counted - failed} of {counted} passed)\n\nThresholds: {source}.\n\n"
    )
    rows = [
        [
            c.rule,
            c.subject,
            c.threshold,
            c.measured,
            c.margin,
            "warn" if c.warning else "pass" if c.passed else "**FAIL**",
        ]
        for c in checks
    ]
    return heading + table(["check", "file / engine", "threshold", "measured", "margin", ""], rows)


def changes_markdown(comparison) -> str:
    """`mbobench compare`'s changes, one row per file and engine, and what was left out."""
    rows = [[f"{c.file} / {c.engine}", f"{c.old.events_per_s:,.0f}", f"{c.new.events_per_s:,.0f}",
             f"{c.change:+.1%}", c.verdict] for c in comparison.changes]  # fmt: skip
    text = table(["file / engine", "old events/s", "new events/s", "change", "verdict"], rows)
    text += (f"\n{comparison.tests}; within ±{comparison.noise:.0%} (max_slowdown) is within "
             "noise.\n")  # fmt: skip
    if comparison.mixed:
        text += ("Measured one way interleaved, the other not (not comparable): "
                 f"{', '.join(comparison.mixed)}.\n")  # fmt: skip
    for side, names in (("old", comparison.only_old), ("new", comparison.only_new)):
        if names:
            text += f"Only in the {side} result: {', '.join(names)}.\n"
    return text
