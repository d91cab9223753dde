"""Progress of long work on stderr, as rich draws it: run, run --commits and run --cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(err) -> Iterator:
    """Progress on `err`: what, n/m, the time elapsed and the time left (the mean time of a
    finished one, over the whole run, times those left), then what runs now, last, where a
    narrow terminal cuts it rather than the figures. Tasks carry the field `now`. Work that
    ends in an error leaves no last frame (a log, not a terminal, keeps one otherwise): the
    error's one line stands alone."""
    from rich.progress import (
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column

    # The figures take about 45 columns; what runs now gets the rest, cut at its end.
    now = TextColumn("{task.fields[now]}", table_column=Column(
        no_wrap=True, overflow="ellipsis", max_width=max(err.width - 48, 12)))  # fmt: skip
    columns = (SpinnerColumn(), "[progress.description]{task.description}", MofNCompleteColumn(),
               TimeElapsedColumn(), "left", TimeRemainingColumn(), now)  # fmt: skip
    with Progress(*columns, console=err, speed_estimate_period=24 * 3600) as progress:
        try:
            yield progress
        except BaseException:
            progress.live.transient = True  # stopping draws no last frame then
            raise
