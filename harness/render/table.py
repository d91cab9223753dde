"""The terminal table of a result, made from its rows (so a saved result prints the same)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from harness.results.resultfile import Result


def run_table(result: Result) -> Table:
    """Per file and engine: events/s with its spread, ratios, memory, and the digest check."""
    from harness.results.gate import DEFAULTS

    files = list(dict.fromkeys(r.file for r in result.rows))
    one_file = len(files) == 1
    title = f"{result.path.name}: {files[0]}" if one_file else result.path.name
    table = Table(title=title, title_justify="left", caption_justify="left")
    # Every column folds where the terminal is too narrow: a long name
    # (switches:queue+lock+alloc+dispatch) or a figure wraps, and is never cut.
    table.add_column("engine" if one_file else "file / engine", style="bold", overflow="fold")
    machines = list(dict.fromkeys(r.machine for r in result.rows))
    if len(machines) > 1:  # a cluster's run: each ratio is to its own machine's ceiling
        table.add_column("machine", overflow="fold")
    table.add_column("events", justify="right", overflow="fold")
    counted = result.measure == "instructions"
    table.add_column("instr/event" if counted else "events/s", justify="right", overflow="fold",
                     style="cyan")  # fmt: skip
    table.add_column("± rsd", justify="right", overflow="fold")
    table.add_column("x ceiling", justify="right", overflow="fold")
    references = sorted({r.reference for r in result.rows})
    table.add_column(f"x {references[0]}" if len(references) == 1 else "x reference",
                     justify="right", overflow="fold")  # fmt: skip
    table.add_column("peak MB", justify="right", overflow="fold")
    table.add_column("digest", overflow="fold")
    notes, spread = [], []
    for row in result.rows:
        wrong = row.digest_ok is False
        mark = {True: " [green]ok[/green]", False: " [red]WRONG[/red]", None: ""}[row.digest_ok]
        rsd = f"{100 * row.rsd:.1f}%"
        if row.rsd > DEFAULTS["max_rsd"]:
            rsd = f"[red]{rsd}![/red]"
            spread.append(row.engine)
        table.add_row(
            row.engine if one_file else f"{row.file} / {row.engine}",
            *([row.machine or ""] if len(machines) > 1 else []),
            f"{row.events:,}",
            "-"
            if wrong
            else f"{row.instructions_per_event:,.1f}"
            if counted
            else f"{row.events_per_s:,.0f}",
            "-" if wrong or counted else rsd,
            "-" if wrong else f"{row.ratio_to_ceiling:.3f}",
            "" if row.is_ceiling or wrong or row.speedup is None else f"{row.speedup:.2f}x",
            f"{row.peak_rss / 1e6:,.0f}" if row.peak_rss else "",
            f"{row.digest}{mark}" if row.digest else "",
        )
        notes += _setup_notes(row)
    if len(machines) > 1:
        notes.append(
            "measured on several machines: x ceiling is to the ceiling measured "
            "beside each engine, on its machine; x baseline only on the same machine"
        )
    if spread:
        notes.append(f"! values spread over {DEFAULTS['max_rsd']:.0%} (rsd): not to be trusted "
                     f"({', '.join(dict.fromkeys(spread))})")  # fmt: skip
    stolen = {row.file: row.steal for row in result.rows if not counted and row.steal is not None}
    for file, share in stolen.items():
        if share > DEFAULTS["max_steal"]:
            notes.append(f"the host took {share:.0%} of this machine's CPU time (steal) while "
                         f"{file} was measured: its figures move with the host's load")  # fmt: skip
    if counted:
        meta = result.suite.get_benchmarks()[0].get_metadata()
        records = meta.get("mbobench_count_records", 0)
        notes.append(f"instructions of one pass over the first {records:,} records, counted by "
                     f"{meta.get('mbobench_tool', 'callgrind')}, numba's "
                     f"target {meta.get('mbobench_cpu_target', '?')}; x ceiling and the speedup "
                     "are ratios of counts")  # fmt: skip
    if notes:
        table.caption = "\n".join(dict.fromkeys(notes))
    return table


def _setup_notes(row) -> list[str]:
    """What happened outside the timings: compilation, a build, a program's start."""
    notes = []
    loaded = row.compile_s or 0.0
    if row.setup_s and row.setup_s > max(5 * loaded, 2.0):
        each = f"; loaded in {loaded:.1f} s in each worker" if loaded else ""
        notes.append(f"outside the timings: {row.engine} set up in {row.setup_s:.1f} s once "
                     f"(a first compilation or build, cached for later runs){each}")  # fmt: skip
    elif loaded:
        notes.append(f"outside the timings: {row.engine} loaded from numba's cache in "
                     f"{loaded:.1f} s in each worker")  # fmt: skip
    if row.startup_s:
        notes.append(f"starting {row.engine}: {1000 * row.startup_s:.0f} ms (in its time)")
    return notes


def attribution_table(attribution):
    """The attribution of one file as a rich table."""
    from harness.results.attribution import BASELINES, PLAN_SHARE

    table = Table(title=f"where the baseline design's time goes ({attribution.family}): "
                  f"{attribution.file} "
                  f"({attribution.events:,} events)", title_justify="left",
                  caption_justify="left")  # fmt: skip
    for name in ("cost", "ns/event", "95% interval", "share of all-on", "plan expected"):
        table.add_column(name, justify="left" if name == "cost" else "right")

    def add(name, fig, plan=""):
        table.add_row(name, f"{fig.ns:,.0f}", f"{fig.low:,.0f} .. {fig.high:,.0f}",
                      f"{attribution.share(fig.ns):.1%}", plan)  # fmt: skip

    for cost, fig in attribution.parts.items():
        low, high = PLAN_SHARE[cost]
        add(cost, fig, f"{low:.0%}" if low == high else f"{low:.0%}-{high:.0%}")
    add("remainder (book, strategies, fills, reading)", attribution.remainder)
    family = attribution.family if attribution.family in ("switches", "rust") else "cmd"
    add(f"total ({family}:queue+lock+alloc+dispatch, all four on)", attribution.total, "")
    if attribution.baseline is not None:
        add(f"{BASELINES[attribution.family]}, in the same run", attribution.baseline, "")
    big = {pair: fig for pair, fig in attribution.interactions.items()
           if abs(fig.ns) > 0.02 * attribution.total.ns}  # fmt: skip
    if big:
        table.caption = "interactions the split hides: " + "; ".join(
            f"{a} x {b} {fig.ns:+,.0f} ns ({fig.low:+,.0f} .. {fig.high:+,.0f})"
            for (a, b), fig in big.items()
        )
    return table


def compare_table(comparison, title: str) -> Table:
    """Old against new events/s per file and engine, with the verdict and the noise bound."""
    table = Table(title=title, title_justify="left", caption_justify="left")
    for name in ("file / engine", "old events/s", "new events/s", "change", "t", "verdict"):
        table.add_column(name, justify="left" if name in ("file / engine", "verdict") else "right",
                         overflow="fold")  # fmt: skip
    for c in comparison.changes:
        style = {"faster": "green", "slower": "red"}.get(c.verdict, "")
        change = f"[{style}]{c.change:+.1%}[/]" if style else f"{c.change:+.1%}"
        table.add_row(
            f"{c.file} / {c.engine}",
            f"{c.old.events_per_s:,.0f}",
            f"{c.new.events_per_s:,.0f}",
            change,
            f"{c.t_score:.1f}",
            c.verdict,
        )
    notes = [f"{comparison.tests}; a significant change within ±{comparison.noise:.0%} "
             "(the noise bound, max_slowdown) is within noise"]  # fmt: skip
    if comparison.mixed:
        notes.append("measured one way interleaved, the other not (not comparable): "
                     + ", ".join(comparison.mixed))  # fmt: skip
    if comparison.only_old:
        notes.append("only in the old result: " + ", ".join(comparison.only_old))
    if comparison.only_new:
        notes.append("only in the new result: " + ", ".join(comparison.only_new))
    table.caption = "\n".join(notes)
    return table


def check_table(checks: list, title: str, source: str) -> Table:
    """Every threshold checked: what, against what, measured, margin, pass, FAIL or warn."""
    # The source names a TOML table in brackets, which rich would take for markup.
    table = Table(title=title, title_justify="left", caption=f"thresholds: {escape(source)}",
                  caption_justify="left")  # fmt: skip
    # A rule's name whole (the other columns fold instead): a CI log of 120 columns had cut
    # max_instructions_increase in two.
    rule_width = max((len(c.rule) for c in checks), default=0)
    for name in ("check", "file / engine", "threshold", "measured", "margin", ""):
        table.add_column(name, overflow="fold", min_width=rule_width if name == "check" else None)
    for c in checks:
        mark = "[yellow]warn[/]" if c.warning else "[green]pass[/]" if c.passed else "[red]FAIL[/]"
        table.add_row(c.rule, c.subject, c.threshold, c.measured, c.margin, mark)
    return table


def profile_table(summary: dict, title: str) -> Table:
    """A profile's share per category (and allocated MB, for scalene)."""
    from harness.results.categories import CATEGORIES

    table = Table(title=title, title_justify="left")
    table.add_column("category")
    table.add_column("share", justify="right")
    memory = summary.get("malloc_mb")
    if memory is not None:
        table.add_column("allocated MB", justify="right")
    for category in CATEGORIES:
        share = summary["shares"][category]
        if share or (memory or {}).get(category):
            row = [category, f"{share:.1%}"]
            if memory is not None:
                row.append(f"{memory[category]:,.1f}")
            table.add_row(*row)
    return table
