"""The one error a user's mistake becomes: `cli.main` prints it as a single line and exits 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: a file, a record, a line or a key, named in the message."""


class ToolMissing(Exception):
    """A tool mbobench runs (py-spy, scalene) is missing or may not run here: exit 3."""


ERROR_PREFIX = "mbobench-error: "  # how a worker or a pass server reports a user's mistake


def reported(stderr: str, fallback: str) -> str:
    """The mistake a program of ours reported on `stderr` (its last ERROR_PREFIX line), else
    `fallback` with the program's last line."""
    for line in reversed(stderr.splitlines()):
        if ERROR_PREFIX in line:
            return line.split(ERROR_PREFIX, 1)[1]
    tail = stderr.strip().splitlines()[-1:] or ["no output"]
    return f"{fallback} ({tail[0]})"
