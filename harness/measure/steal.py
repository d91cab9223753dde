"""How much of this machine's CPU time its hypervisor gave to other guests while a file was
measured: Linux's `steal` ticks in /proc/stat, as a share of all ticks. On a small VM whose host
takes a core away now and then, a pass that overlaps two threads (the read-ahead and the kernel)
serialises and grows while a single-threaded part of it does not, so that a regression measures
smaller or larger with the host's load: a file measured with more steal than `max_steal` is
marked in the table and by `check` (a warning row), with how much."""

from __future__ import annotations

from pathlib import Path

STAT = Path("/proc/stat")


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, all) ticks of the machine's CPUs so far; None where Linux's /proc/stat is not."""
    try:
        fields = STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def stolen(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of ticks stolen between two readings of `cpu_ticks`; None without both."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])
