"""The report: one self-contained HTML file (and a markdown twin) from result files alone.

It shows, for every file measured, from the newest run result that measured it: the throughput
table per engine; events/s against the reading ceiling; the plan's expected gain per phase
beside the measured one. Then, from an attribution result, the experiment's split of the
baseline's time beside the profilers' (`profiles/*/summary-*.json`); the machine and commit;
and, from the results store (or else from result files of several commits), events/s per engine
across commits, with the steps found in each series marked. Plots are
matplotlib PNGs inlined in the HTML (no network).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from engines import PHASES
from harness.atomicfile import replaced
from harness.render import markdown, storehistory
from harness.results.resultfile import Result

COLORS = {"queue": "#d62728", "lock": "#ff7f0e", "alloc": "#9467bd", "allocation": "#9467bd",
          "dispatch": "#8c564b", "book": "#1f77b4", "strategy": "#2ca02c", "fills": "#17becf",
          "reading": "#7f7f7f", "kernel": "#bcbd22", "other": "#c7c7c7",
          "remainder": "#1f77b4"}  # fmt: skip


def build(runs: list[Result], attributions: list[Result], profiles: list[dict],
          stored: list | None = None) -> tuple:  # fmt: skip
    """The report's sections: a list of (title, html body, markdown body, images); `stored`,
    the results store's series (harness.history.series), for its history."""
    counts = [r for r in runs if r.measure == "instructions"]
    runs = [r for r in runs if r.measure != "instructions"] or counts
    current, sources, origin = _newest_per_pair(runs)  # sources[0] is the newest result
    counted = _newest_per_pair(counts)[0].rows if counts and counts is not runs else []
    sections = [_throughput(current, origin, counted), _phases(current)]
    for attribution in attributions:
        sections.append(_attribution(attribution, profiles))
    from_store = storehistory.section(stored or [], _png, _pyplot, _html_table)
    history = _same_file(runs)
    if from_store is not None:
        sections.append(from_store)
    elif len(history) > 1:
        sections.append(_history(history))
    sections.append(_machine(sources[0]))
    return sections


def write(sections: list, html_path: Path, title: str) -> tuple[Path, Path]:
    """Write the HTML report and its markdown twin (with its PNGs beside it), atomically."""
    body, md = [], [f"# {title}\n"]
    images_dir = html_path.with_suffix("").with_name(html_path.stem + "-images")
    images_dir.mkdir(parents=True, exist_ok=True)
    for title_text, section_html, section_md, images in sections:
        body.append(f"<section><h2>{html.escape(title_text)}</h2>{section_html}")
        md.append(f"## {title_text}\n\n{section_md}\n")
        for name, png in images:
            data = base64.b64encode(png).decode()
            body.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
            (images_dir / f"{name}.png").write_bytes(png)
            md.append(f"![{name}]({images_dir.name}/{name}.png)\n")
        body.append("</section>")
    page = _PAGE.format(title=html.escape(title), body="\n".join(body))
    with replaced(html_path) as tmp:
        tmp.write_text(page)
    md_path = html_path.with_suffix(".md")
    with replaced(md_path) as tmp:
        tmp.write_text("\n".join(md))
    return html_path, md_path


def _newest_per_pair(runs: list[Result]) -> tuple[Result, list[Result], dict[int, Result]]:
    """Every (file, engine) from the newest result that measured it, as one result dated as the
    newest; the results they come from, newest first; and each row's result (by row id)."""
    rows, sources, origin, seen = [], [], {}, set()
    for run in sorted(runs, key=_date, reverse=True):
        fresh = [r for r in run.rows if (r.file, r.engine) not in seen]
        if fresh:
            sources.append(run)
            rows += fresh
            origin.update({id(r): run for r in fresh})
            seen |= {(r.file, r.engine) for r in fresh}
    newest = sources[0]
    order = {file: i for i, file in enumerate(dict.fromkeys(r.file for r in rows))}
    rows.sort(key=lambda r: order[r.file])  # stable: each file's engines in measured order
    return Result(newest.path, newest.suite, rows), sources, origin


def _throughput(result: Result, origin: dict[int, Result], counted: list):
    head = ["file", "engine", "events", "events/s", "± rsd", "x ceiling", "x reference",
            "peak MB", "digest", "measured in"]  # fmt: skip
    instructions = {(r.file, r.engine): r.instructions_per_event for r in counted}
    if instructions:
        head.insert(4, "instr/event")
    rows = []
    for r in result.rows:
        wrong = r.digest_ok is False
        speed = "-" if wrong else f"{r.events_per_s:,.0f}"
        ratio = "-" if wrong else f"{r.ratio_to_ceiling:.3f}"
        source = origin[id(r)]
        rows.append([r.file, r.engine, f"{r.events:,}", speed, "-" if wrong else f"{r.rsd:.1%}",
                     ratio,
                     "" if r.speedup is None or r.is_ceiling or wrong
                     else f"{r.speedup:.2f}x {r.reference}",
                     f"{r.peak_rss / 1e6:,.0f}" if r.peak_rss else "",
                     {True: "ok", False: "WRONG", None: ""}[r.digest_ok],
                     f"{source.path.name} ({_preset(source)})"])  # fmt: skip
        if instructions:
            count = instructions.get((r.file, r.engine))
            rows[-1].insert(4, f"{count:,.1f}" if count else "")
    images = [(f"throughput-{i}", _bars(result, file)) for i, file in
              enumerate(dict.fromkeys(r.file for r in result.rows))]  # fmt: skip
    note = ("<p>Each file and engine from the newest result that measured it; ratios are to "
            "the ceiling and the reference of that same run.</p>")  # fmt: skip
    return (
        "Throughput against the reading ceiling",
        note + _html_table(head, rows),
        markdown.table(head, rows),
        images,
    )


def _preset(result: Result) -> str:
    meta = result.suite.get_benchmarks()[0].get_metadata()
    return str(meta.get("mbobench_preset", "preset not recorded"))


def _bars(result: Result, file: str) -> bytes:
    plt = _pyplot()
    rows = [r for r in result.rows if r.file == file and r.digest_ok is not False]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    names = [r.engine for r in rows]
    values = [r.events_per_s for r in rows]
    errors = [r.events_per_s * r.rsd for r in rows]  # one standard deviation of the values
    ax.barh(names, values, xerr=errors, capsize=3, error_kw={"elinewidth": 0.8},
            color=["#7f7f7f" if r.is_ceiling else "#1f77b4" for r in rows])  # fmt: skip
    ceiling = rows[0].ceiling_events_per_s
    ax.axvline(ceiling, color="#d62728", linestyle="--", label="reading ceiling")
    ax.axvline(0.83 * ceiling, color="#ff7f0e", linestyle=":", label="0.83 of the ceiling")
    ax.set_xscale("log")
    ax.set_xlabel("events/s (log scale)")
    ax.invert_yaxis()
    ax.set_title(f"{file} (bars: one standard deviation)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)  # outside the data
    return _png(fig)


def _phases(result: Result):
    head = ["file", "phase", "plan expected", "measured step", "measured vs its baseline"]
    rows = []
    for file in dict.fromkeys(r.file for r in result.rows):
        for prefix in ("", "rust:"):  # the plan in Python, then in the language it was written for
            first = result.row(file, f"{prefix}baseline")
            previous = first
            for phase, (_, expected) in list(PHASES.items())[1:]:
                row = result.row(file, prefix + phase)
                if row is None or previous is None or row.digest_ok is False:
                    continue
                step = row.events_per_s / previous.events_per_s - 1
                last = phase == "compiled" or (prefix and phase == "lockless")
                measured = (f"{step:+.0%} ({row.ratio_to_ceiling:.2f} of the ceiling)" if last
                            else f"{step:+.0%}")  # fmt: skip
                over = row.events_per_s / first.events_per_s
                rows.append([file, prefix + phase, expected if phase != "compiled" or not prefix
                             else "", measured, f"{over:.2f}x"])  # fmt: skip
                previous = row
    if not rows:
        return (
            "The plan, phase by phase",
            "<p>No phase engines in this result.</p>",
            "No phase engines in this result.",
            [],
        )
    return ("The plan, phase by phase", _html_table(head, rows), markdown.table(head, rows), [])


def _attribution(result: Result, profiles: list[dict]):
    from harness.results.attribution import BASELINES, PLAN_SHARE, attribute

    head = ["file", "cost", "ns/event", "95% interval", "share of all-on", "plan expected"]
    rows, images = [], []
    found = attribute(result)
    family = found[0].family
    native = family != "switches"  # a Rust or command family: its profiles are perf's
    profiles = [p for p in profiles if p["engine"].startswith(("rust:", "cmd:")) == native]
    for a in found:
        for cost, fig in a.parts.items():
            low, high = PLAN_SHARE[cost]
            rows.append([a.file, cost, f"{fig.ns:,.0f}", f"{fig.low:,.0f} .. {fig.high:,.0f}",
                         f"{a.share(fig.ns):.1%}", f"{low:.0%}" if low == high
                         else f"{low:.0%}-{high:.0%}"])  # fmt: skip
        rows.append([a.file, "remainder", f"{a.remainder.ns:,.0f}",
                     f"{a.remainder.low:,.0f} .. {a.remainder.high:,.0f}",
                     f"{a.share(a.remainder.ns):.1%}", ""])  # fmt: skip
        for name, fig in (("total: all four on", a.total), (BASELINES.get(a.family), a.baseline)):
            if fig is not None:  # the baseline itself, measured in the same run, beside its twin
                rows.append([a.file, name, f"{fig.ns:,.0f}", f"{fig.low:,.0f} .. {fig.high:,.0f}",
                             f"{a.share(fig.ns):.1%}", ""])  # fmt: skip
        images.append((f"attribution-{a.family.split(':')[0]}-{len(images)}",
                       _stacked(a, profiles)))  # fmt: skip
    profile_rows = [[p["engine"], p["profiler"], _profile_shares(p)] for p in profiles]
    body = _html_table(head, rows)
    md = markdown.table(head, rows)
    if profile_rows:
        body += "<h3>Profiles</h3>" + _html_table(["engine", "profiler", "shares"], profile_rows)
        md += "\n### Profiles\n\n" + markdown.table(["engine", "profiler", "shares"], profile_rows)
    title = {"switches": "Python", "rust": "Rust"}.get(family, family)
    return (f"Where the baseline design's time goes ({title})", body, md, images)


def _profile_shares(p: dict) -> str:
    if p.get("cpu_sampled") is False:
        mb = ", ".join(f"{k} {v:,.0f} MB" for k, v in p.get("malloc_mb", {}).items() if v >= 0.5)
        return f"no CPU samples; allocated: {mb}"
    return ", ".join(f"{k} {v:.0%}" for k, v in p["shares"].items() if v >= 0.005)


def _stacked(a, profiles: list[dict]) -> bytes:
    plt = _pyplot()
    bars = {"experiment": {c: a.share(f.ns) for c, f in a.parts.items()}}
    bars["experiment"]["remainder"] = a.share(a.remainder.ns)
    from harness.results.attribution import BASELINES

    for p in profiles:
        if p.get("engine") == BASELINES.get(a.family) and p.get("cpu_sampled", True):
            bars[f"{p['profiler']} (baseline)"] = {k: v for k, v in p["shares"].items() if v}
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.6 * len(bars)))
    named: dict[str, str] = {}  # every category drawn, for the legend
    for y, shares in enumerate(bars.values()):
        right, left = 0.0, 0.0  # positive parts stack rightwards from 0, negative ones leftwards
        for category, share in shares.items():
            start = right if share >= 0 else left + share
            ax.barh(y, abs(share), left=start, color=COLORS.get(category, "#c7c7c7"),
                    edgecolor="white", hatch="//" if share < 0 else None)  # fmt: skip
            if abs(share) > 0.06:  # a narrower segment is named by the legend alone
                ax.text(start + abs(share) / 2, y, category, ha="center", va="center", fontsize=7)
            named.setdefault(category, COLORS.get(category, "#c7c7c7"))
            if share >= 0:
                right += share
            else:
                left += share
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_yticks(range(len(bars)), list(bars))
    ax.set_xlabel("share of the all-on configuration's time (hatched: a cost that saves time)")
    ax.set_title(f"{a.file}: experiment (Shapley) beside profile")
    patches = [plt.Rectangle((0, 0), 1, 1, color=color) for color in named.values()]
    ax.legend(patches, list(named), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _png(fig)


def _history(runs: list[Result]):
    """events/s per engine across commits: x in the order the commits were first measured,
    labelled by commit; one series per engine and preset; bars of one standard deviation."""
    plt = _pyplot()
    ordered = sorted(runs, key=_date)
    commits = list(dict.fromkeys(_commit(r) or r.path.stem for r in ordered))
    fig, ax = plt.subplots(figsize=(9, 4))
    series: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for run in ordered:
        x = commits.index(_commit(run) or run.path.stem)
        for row in run.rows:
            if row.digest_ok is not False:
                series.setdefault((row.engine, _preset(run)), []).append(
                    (x, row.events_per_s, row.events_per_s * row.rsd)
                )
    for (engine, preset), points in series.items():
        ax.errorbar([p[0] for p in points], [p[1] for p in points], yerr=[p[2] for p in points],
                    marker="o", capsize=3, label=f"{engine} ({preset})")  # fmt: skip
    ax.set_xticks(range(len(commits)), commits, rotation=30, fontsize=7)
    ax.set_xlabel("commit, in the order first measured")
    ax.set_yscale("log")
    ax.set_ylabel("events/s")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside the data
    head = ["result", "commit", "preset", "date"]
    rows = [[r.path.name, _commit(r) or "", _preset(r), _date(r)] for r in ordered]
    return (
        "Across commits",
        _html_table(head, rows),
        markdown.table(head, rows),
        [("history", _png(fig))],
    )


def _machine(result: Result):
    meta = result.suite.get_benchmarks()[0].get_metadata()
    keys = ["cpu_model_name", "cpu_count", "hostname", "platform", "python_version",
            "mbobench_version", "mbobench_commit", "mbobench_engine_commit", "mbobench_preset",
            "date"]  # fmt: skip
    rows = [[k, str(meta[k])] for k in keys if k in meta]
    return ("Machine and commit", _html_table(["", ""], rows), markdown.table(["", ""], rows), [])


def _same_file(runs: list[Result]) -> list[Result]:
    """The results that measured the file measured most often: a history is of one file."""
    counts: dict[str, list[Result]] = {}
    for run in runs:
        for file in dict.fromkeys(r.file for r in run.rows):
            counts.setdefault(file, []).append(run)
    return max(counts.values(), key=len) if counts else []


def _date(result: Result) -> str:
    dates = result.suite.get_benchmarks()[0].get_dates()
    return dates[0].isoformat(sep=" ", timespec="seconds") if dates else ""


def _commit(result: Result) -> str | None:
    """The commit of the engines under test, else mbobench's own (older results)."""
    meta = result.suite.get_benchmarks()[0].get_metadata()
    return meta.get("mbobench_engine_commit") or meta.get("mbobench_commit")


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)  # fmt: skip
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    _pyplot().close(fig)
    return buffer.getvalue()


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}
th {{ background: #f3f3f3; }} td:first-child, td:nth-child(2) {{ text-align: left; }}
img {{ display: block; max-width: 100%; margin: 1em 0; }}
</style></head>
<body><h1>{title}</h1>
{body}
<script>
// Marks the page once every plot has loaded (the report's own test reads it).
window.addEventListener("load", () => {{
  const ok = [...document.images].every(i => i.complete && i.naturalWidth > 0);
  document.body.dataset.imagesOk = String(ok && document.images.length > 0);
}});
</script>
</body></html>
"""
