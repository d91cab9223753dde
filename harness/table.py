"""The terminal table of a run, made from its result document (so a saved result prints too)."""

from __future__ import annotations

from rich.table import Table


def run_table(document: dict) -> Table:
    """Engine, events, events/s, ratio to the ceiling, speedup over the baseline, digest."""
    file = document["file"]
    table = Table(title=f"{file['path']}  ({file['records']:,} records)", title_justify="left")
    table.add_column("engine", style="bold")
    table.add_column("events", justify="right")
    table.add_column("events/s", justify="right", style="cyan")
    table.add_column("x ceiling", justify="right")
    table.add_column("x baseline", justify="right")
    table.add_column("peak MB", justify="right")
    table.add_column("unknown", justify="right")
    table.add_column("fills", justify="right")
    table.add_column("digest")
    for row in document["measurements"]:
        results = row.get("results") or {}
        ok = row["digest_ok"]
        mark = {True: "[green]ok[/green]", False: "[red]WRONG[/red]", None: ""}[ok]
        fills = sum(s["fills"] for s in results.get("strategies", [])) if results else None
        table.add_row(
            row["name"],
            f"{row['events']:,}",
            _num(row["events_per_s"], "{:,.0f}"),
            _num(row["ratio_to_ceiling"], "{:.3f}"),
            _num(row["speedup_over_baseline"], "{:.2f}x") if results else "",
            _num(row.get("peak_rss_bytes") and row["peak_rss_bytes"] / 1e6, "{:,.0f}"),
            f"{results['unknown_orders']:,}" if results else "",
            f"{fills:,}" if fills is not None else "",
            f"{results['digest']} {mark}" if results else "",
        )
    compiled = [f"{r['name']} {r['compile_seconds']:.1f} s" for r in document["measurements"]
                if r.get("compile_seconds")]  # fmt: skip
    if compiled:
        table.caption = "compilation, outside the timings: " + ", ".join(compiled)
    return table


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)
