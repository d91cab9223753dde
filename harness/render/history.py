"""The terminal tables of the results store: its history, and the steps found in it."""

from __future__ import annotations

import time

from rich.table import Table

from harness.history.changepoints import Step
from harness.history.series import Series


def history_table(series: list[Series], title: str) -> Table:
    """A row per commit of each series: events/s (or instructions per event), its spread, the
    ratio to the ceiling measured beside it, and whether its digest stayed the same."""
    table = Table(title=title, title_justify="left", caption_justify="left")
    timed = any(s.measure == "time" for s in series)
    counted = any(s.measure == "instructions" for s in series)
    names = ["machine", "file", "engine", "preset", "commit", "committed"]
    names += ["events/s", "± rsd"] if timed else []
    names += ["instr/event"] if counted else []
    for name in [*names, "x ceiling", "digest"]:
        right = name in ("events/s", "± rsd", "instr/event", "x ceiling")
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for s in series:
        first = None
        for point in s.points:
            digest = ", ".join(sorted(point.digests))
            if first is not None and point.digests and point.digests != first:
                digest = f"[red]{digest} (changed)[/red]"
            first = first or point.digests
            cells = [s.machine, s.file, s.engine, s.preset, point.commit, _when(point.commit_time)]
            if timed:
                time_s = s.measure == "time"
                cells += [f"{point.events_per_s:,.0f}" if time_s else "",
                          f"{point.rsd:.1%}" if time_s else ""]  # fmt: skip
            if counted:
                cells.append(f"{point.per_event:,.1f}" if s.measure == "instructions" else "")
            table.add_row(*cells, f"{point.ratio_to_ceiling:.3f}", digest)
    return table


def steps_table(found: list[tuple[Series, Step]], title: str) -> Table:
    """A row per step: the series, the commit where the level changed, and by how much."""
    table = Table(title=title, title_justify="left", caption_justify="left")
    for name in ("machine", "file", "engine", "preset", "from", "to", "change a pass",
                 "95% interval", "verdict"):  # fmt: skip
        table.add_column(name, overflow="fold")
    for series, step in found:
        low, high = step.interval
        unit = "instructions" if series.measure == "instructions" else "time"
        verdict = "[red]slower[/red]" if step.change > 0 else "[green]faster[/green]"
        table.add_row(series.machine, series.file, series.engine, series.preset,
                      series.points[step.index - 1].commit, series.points[step.index].commit,
                      f"{step.change:+.1%} {unit}", f"{low:+.1%} .. {high:+.1%}",
                      verdict)  # fmt: skip
    table.caption = ("steps of a piecewise-constant fit of each series (harness/history/"
                     "changepoints.py); 'to' is the first commit of the new level")  # fmt: skip
    return table


def _when(seconds: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds)) if seconds else ""
