"""Reading LOBSTER's CSV files: a message file's lines and a book file's rows, checked.

A malformed line is an `InputError` naming the file and the line (from 1). Message columns:
time (seconds after midnight, up to 9 decimals), type (1-7), order id, size, price (dollars x
10000), direction (1 buy, -1 sell). Book columns: per level, ask price, ask size, bid price, bid
size; an empty level has size 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from engines.events import ASK, BID
from harness.errors import InputError

DAY_S = 86_400  # a time after midnight is within one day
SYNTHETIC_ID = 1 << 62  # ids from here up are the converter's own (lobster.py): not in a file
_TIME = re.compile(r"(\d+)(?:\.(\d{1,9}))?", re.ASCII)
_COLUMNS = ("time", "type", "order id", "size", "price", "direction")


class Message(NamedTuple):
    line: int  # from 1: the records' sequence
    ns: int  # after midnight
    kind: int  # LOBSTER's event type, 1 to 7
    order_id: int
    size: int
    price: int  # LOBSTER's, dollars x 10000
    side: int  # BID or ASK (direction 1 or -1); for executions the resting order's side


def read_messages(path: str | Path) -> list[Message]:
    """A message file's lines, checked: a malformed one raises InputError naming it."""
    path = Path(path)
    messages = []
    last_ns = 0
    for number, line in _lines(path):
        fields = line.split(",")
        if len(fields) != 6:
            raise InputError(
                f"{path}:{number}: {len(fields)} columns, expected 6 ({', '.join(_COLUMNS)})"
            )
        time_match = _TIME.fullmatch(fields[0].strip())
        if time_match is None:
            raise InputError(
                f"{path}:{number}: time {fields[0]!r} is not seconds after midnight "
                "(digits, up to 9 decimals)"
            )
        seconds, fraction = time_match.groups()
        if int(seconds) > DAY_S:  # (a day with a leap second ends at 86,400.x)
            raise InputError(f"{path}:{number}: time {fields[0]} is not within the trading day "
                             f"(0 to {DAY_S:,} seconds after midnight)")  # fmt: skip
        ns = int(seconds) * 1_000_000_000 + int((fraction or "").ljust(9, "0"))
        if ns < last_ns:  # one run per timestamp needs the file's order
            raise InputError(f"{path}:{number}: time {fields[0]} is before the line above's")
        last_ns = ns
        kind, order_id, size, price, direction = (
            _integer(path, number, name, text)
            for name, text in zip(_COLUMNS[1:], fields[1:], strict=True)
        )
        if not 1 <= kind <= 7:
            raise InputError(f"{path}:{number}: unknown event type {kind} (LOBSTER's are 1 to 7)")
        if kind <= 5:  # the types about an order; crosses and halts carry codes of their own
            if direction not in (1, -1):
                raise InputError(f"{path}:{number}: direction {direction}, expected 1 or -1")
            if not 0 <= order_id < SYNTHETIC_ID or not 0 < size < 1 << 32 or price <= 0:
                raise InputError(
                    f"{path}:{number}: order id {order_id}, size {size}, price {price}: "
                    "out of range (ids from 0, sizes and prices above 0)"
                )
        side = BID if direction == 1 else ASK
        messages.append(Message(number, ns, kind, order_id, size, price, side))
    if not messages:
        raise InputError(f"{path}: no messages")
    return messages


def read_book(
    path: str | Path, rows: int, message_path: str | Path = "the message file"
) -> list[list[int]]:
    """A book file's rows (ask price, ask size, bid price, bid size per level), one per message."""
    path = Path(path)
    book: list[list[int]] = []
    for number, line in _lines(path):
        fields = line.split(",")
        if len(fields) % 4 or (book and len(fields) != len(book[0])):
            want = f"{len(book[0])}" if book else "4 per level"
            raise InputError(f"{path}:{number}: {len(fields)} columns, expected {want}")
        row = [_integer(path, number, "book column", text) for text in fields]
        for column in range(1, len(row), 2):  # each level's ask size, then its bid size
            if not 0 <= row[column] < 1 << 32:
                raise InputError(f"{path}:{number}: size {row[column]} in column {column + 1}: "
                                 "sizes are 0 (an empty level) or more, below 2**32")  # fmt: skip
        book.append(row)
    if len(book) != rows:
        raise InputError(
            f"{path}: {len(book)} rows for the {rows} messages of {message_path} "
            "(LOBSTER writes one book row per message)"
        )
    return book


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number from 1, text) of a file's non-blank lines."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not a LOBSTER CSV (a byte that is not ASCII)") from None
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line


def _integer(path: Path, line: int, column: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{path}:{line}: {column} {text.strip()!r} is not an integer") from None
