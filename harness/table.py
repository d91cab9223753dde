"""The terminal table of a result, made from its rows (so a saved result prints the same)."""

from __future__ import annotations

from rich.table import Table

from harness.resultfile import Result


def run_table(result: Result) -> Table:
    """Per file and engine: events/s with its spread, ratios, memory, and the digest check."""
    table = Table(title=f"{result.path.name}", title_justify="left")
    table.add_column("file / engine", style="bold")
    table.add_column("events", justify="right")
    table.add_column("events/s", justify="right", style="cyan")
    table.add_column("± rsd", justify="right")
    table.add_column("x ceiling", justify="right")
    table.add_column("x baseline", justify="right")
    table.add_column("peak MB", justify="right")
    table.add_column("digest")
    compiled = []
    for row in result.rows:
        wrong = row.digest_ok is False
        mark = {True: " [green]ok[/green]", False: " [red]WRONG[/red]", None: ""}[row.digest_ok]
        table.add_row(
            f"{row.file} / {row.engine}",
            f"{row.events:,}",
            "-" if wrong else f"{row.events_per_s:,.0f}",
            "-" if wrong else f"{100 * row.rsd:.1f}%",
            "-" if wrong else f"{row.ratio_to_ceiling:.3f}",
            "" if row.is_ceiling or wrong or row.speedup is None else f"{row.speedup:.2f}x",
            f"{row.peak_rss / 1e6:,.0f}" if row.peak_rss else "",
            f"{row.digest}{mark}" if row.digest else "",
        )
        if row.compile_s:
            compiled.append(f"compiling {row.engine}: {row.compile_s:.1f} s")
        if row.startup_s:
            compiled.append(f"starting {row.engine}: {1000 * row.startup_s:.0f} ms (in its time)")
    if compiled:
        table.caption = "outside the timings: " + "; ".join(dict.fromkeys(compiled))
    return table
