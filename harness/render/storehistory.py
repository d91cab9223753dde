"""The report's history from the results store: per file and engine, events/s and the ratio to
the ceiling across commits, in commit order, one series per machine and preset, error bars of
one standard deviation of the values, and each step that `harness.history.changepoints` finds
marked where the new level starts."""

from __future__ import annotations

from harness.history.series import Series
from harness.render import markdown

MAX_PLOTS = 12  # (file, engine) pairs plotted; the table lists every step still


def section(all_series: list[Series], png, pyplot, html_table):
    """A report section (title, html, markdown, images), or None when no series has two
    commits. `png`, `pyplot` and `html_table` are the report's own helpers."""
    series = [s for s in all_series if len(s.points) > 1 and s.measure == "time"]
    if not series:
        return None
    steps = {id(s): s.steps() for s in series}  # each fit once, for the plots and the table
    groups: dict[tuple[str, str], list[Series]] = {}
    for s in series:
        groups.setdefault((s.file, s.engine), []).append(s)
    images, rows = [], []
    for (file, engine), members in list(groups.items())[:MAX_PLOTS]:
        images.append((f"history-{file}-{engine}".replace("/", "_").replace(":", "_"),
                       png(_plot(pyplot(), file, engine, members, steps))))  # fmt: skip
    for s in series:
        for step in steps[id(s)]:
            low, high = step.interval
            rows.append([s.file, s.engine, s.machine, s.preset, s.points[step.index - 1].commit,
                         s.points[step.index].commit, f"{step.change:+.1%}",
                         f"{low:+.1%} .. {high:+.1%}"])  # fmt: skip
    head = ["file", "engine", "machine", "preset", "from", "to", "time a pass", "95% interval"]
    note = (f"{len(series)} series of the results store; steps found by a penalized "
            "piecewise-constant fit (harness/history/changepoints.py), 'to' the first commit of "
            "the new level")  # fmt: skip
    if not rows:
        rows = [["no step found", "", "", "", "", "", "", ""]]
    return ("Across commits (results store)", f"<p>{note}</p>" + html_table(head, rows),
            f"{note}\n\n" + markdown.table(head, rows), images)  # fmt: skip


def _plot(plt, file: str, engine: str, members: list[Series], steps: dict):
    commits: dict[str, tuple] = {}
    for s in members:
        for i, p in enumerate(s.points):
            commits.setdefault(p.commit, (p.commit_time or 0, i))
    order = sorted(commits, key=commits.get)
    fig, (speed, ratio) = plt.subplots(1, 2, figsize=(11, 3.6))
    for s in members:
        xs = [order.index(p.commit) for p in s.points]
        per_s = [p.events_per_s for p in s.points]
        spread = [p.events_per_s * p.rsd for p in s.points]
        label = f"{s.machine}, {s.preset}"
        line = speed.errorbar(xs, per_s, yerr=spread, marker="o", capsize=3, label=label)
        ratio.plot(xs, [p.ratio_to_ceiling for p in s.points], marker="o", label=label,
                   color=line[0].get_color())  # fmt: skip
        for step in steps[id(s)]:
            x = order.index(s.points[step.index].commit) - 0.5
            for ax in (speed, ratio):
                ax.axvline(x, color="#d62728", linestyle="--", linewidth=1)
            speed.annotate(f"{step.change:+.0%} time", (x, max(per_s)), fontsize=7,
                           color="#d62728", ha="center", va="bottom")  # fmt: skip
    for ax, name in ((speed, "events/s"), (ratio, "x ceiling")):
        ax.set_xticks(range(len(order)), order, rotation=30, fontsize=7)
        ax.set_xlabel("commit, in commit order")
        ax.set_ylabel(name)
    speed.set_ylim(bottom=0)
    ratio.set_ylim(bottom=0)
    speed.set_title(f"{file} / {engine}", fontsize=9)
    ratio.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside the data
    return fig
