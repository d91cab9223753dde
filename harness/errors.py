"""The one error a user's mistake becomes: `cli.main` prints it as a single line and exits 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: a file, a record, a line or a key, named in the message."""


class ToolMissing(Exception):
    """A tool mbobench runs (py-spy, scalene) is missing or may not run here: exit 3."""
