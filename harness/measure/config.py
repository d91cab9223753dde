"""mbobench's settings: `[tool.mbobench]` in ./pyproject.toml, or a TOML file given by --config.

Every key is declared here with its type and default; an unknown key or a value of the wrong
type is an `InputError` that names the file and the key. A default that needs the engines or the
reader is computed when asked for, so that a light command (the report) reads the settings
without importing them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.datasets.default import DEFAULT_EVENTS
from harness.errors import InputError


def _engines() -> list:
    from engines import ENGINES

    return list(ENGINES)


def _chunk_records() -> int:
    from harness.dbn.reader import DEFAULT_CHUNK_RECORDS

    return DEFAULT_CHUNK_RECORDS


def _count_records() -> int:
    from harness.measure.instructions import COUNT_RECORDS

    return COUNT_RECORDS


# key -> (type, default, or a function that makes it)
KEYS: dict[str, tuple[type, object]] = {
    "chunk_records": (int, _chunk_records),
    "default_events": (int, DEFAULT_EVENTS),
    "engines": (list, _engines),  # the built-in engines, the plan's phases in order
    "files": (list, []),  # DBN files of the suite (none: the embedded default)
    "preset": (str, "default"),  # pyperf's: "fast", "default" or "rigorous"
    "processes": (int, 0),  # pyperf worker processes (0: the preset's)
    "values": (int, 0),  # pyperf values per process (0: the preset's)
    "measure": (str, "time"),  # "time" (pyperf) or "instructions" (Callgrind: instructions.py)
    "count_records": (int, _count_records),  # instructions: the prefix of each file counted
    "reference": (str, ""),  # the engine every digest must equal ("": baseline, else the first)
    "categories": (dict, {}),  # perf profiles: category -> symbol patterns (perfprofile.py)
    "thresholds": (dict, {}),  # what `mbobench check` gates on: see harness/results/gate.py
    # History (harness/history/): where results are kept, the machine's name in them, and how
    # to measure past commits of the repository that holds the engines under test.
    "store": (str, "mbobench-store"),  # the results store ("": none); $MBOBENCH_STORE first
    "machine": (str, ""),  # this machine's name in results ("": $MBOBENCH_MACHINE, the host's)
    "repository": (str, ""),  # the git repository of the engines under test ("": the cwd's)
    "build": (str, ""),  # a shell command that builds a commit's command engines, in its tree
    "install": (bool, True),  # pip-install a commit's Python package into its own environment
    # A Dask cluster (harness/cluster/): the scheduler's address ("": run here), and where its
    # workers find the suite's files by name ("": the same path as here; a folder, or a URL).
    "cluster": (str, ""),
    "cluster_data": (str, ""),
}


def load_config(path: Path | None = None, only: tuple[str, ...] | None = None) -> dict:
    """The settings, defaults filled in; from `path`, or ./pyproject.toml when there is one.
    With `only`, the defaults of those keys alone are made (every key is still checked)."""
    config = {key: default() if callable(default) else default
              for key, (_, default) in KEYS.items() if only is None or key in only}  # fmt: skip
    if path is None:
        path = Path("pyproject.toml")
        if not path.is_file():
            return config
        table = _read(path).get("tool", {}).get("mbobench", {})
    else:
        if not path.is_file():
            raise InputError(f"{path}: no such config file")
        document = _read(path)
        table = document.get("tool", {}).get("mbobench", document)
    for key, value in table.items():
        if key not in KEYS:
            raise InputError(f"{path}: unknown key {key!r} in [tool.mbobench]")
        kind = KEYS[key][0]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(
                f"{path}: {key} = {value!r} should be {kind.__name__}, not {type(value).__name__}"
            )
        config[key] = value
    if config.get("measure", "time") not in ("time", "instructions"):
        raise InputError(f"{path}: measure = {config['measure']!r} should be 'time' or "
                         "'instructions'")  # fmt: skip
    return config


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
