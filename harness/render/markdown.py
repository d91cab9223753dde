"""Markdown renderings of verdicts (a CI step summary, a pull-request comment) and the one
markdown-table writer that they and the report's markdown twin use."""

from __future__ import annotations


def table(head: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured markdown table; cells are written as `str` gives them."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def checks_markdown(checks: list) -> str:
    """`mbobench check`'s verdicts, under a heading that says whether the gate passed."""
    failed = sum(not c.passed for c in checks)
    heading = (f"### mbobench check: {'FAILED' if failed else 'passed'} "
               f"({len(checks) - failed} of {len(checks)} passed)\n\n")  # fmt: skip
    rows = [[c.rule, c.subject, c.threshold, c.measured, c.margin,
             "pass" if c.passed else "**FAIL**"] for c in checks]  # fmt: skip
    return heading + table(["check", "file / engine", "threshold", "measured", "margin", ""], rows)


def changes_markdown(changes: list) -> str:
    """`mbobench compare`'s changes, one row per file and engine."""
    rows = [[f"{c.file} / {c.engine}", f"{c.old.events_per_s:,.0f}", f"{c.new.events_per_s:,.0f}",
             f"{c.change:+.1%}", "significant" if c.significant else "not significant"]
            for c in changes]  # fmt: skip
    return table(["file / engine", "old events/s", "new events/s", "change", ""], rows)
