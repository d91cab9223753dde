"""The results store: every result kept, by machine, commit of the engines, data file, preset and
measure, so that a history across commits can be read back (`mbobench history`, the report).

Layout, version 1 (`FORMAT`, `VERSION`; a store of another version is refused, not guessed at):

    STORE/
      mbobench-store.json   {"format": "mbobench results store", "version": 1}
      index.json            {"version": 1, "entries": [ENTRY, ...]}
      results/MACHINE/COMMIT/SHA256[:16]/STAMP-PRESET-MEASURE.json

Each result file is a pyperf suite as `mbobench run` writes it (`harness.results.resultfile`):
the reading ceiling and the engines measured on one data file, on one machine, for one commit
(`no-commit` outside git). The files are the truth; the index sums them up so that listing the
store reads one file, and it is rebuilt from them whenever it does not list exactly the files
there are. An ENTRY is `Entry` below, as JSON. Writing a file or the index is whole or absent
(`atomicfile`), under a lock on the store, so that two runs adding at once lose nothing.
Results of two machines are kept apart and never merged: a ratio to the ceiling is of one
machine's ceiling, measured beside its engine.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.atomicfile import replaced
from harness.errors import InputError
from harness.results.resultfile import Result, load_result

FORMAT = "mbobench results store"
VERSION = 1
NO_COMMIT = "no-commit"
MARKER = "mbobench-store.json"


def benchmark_key(machine: str, commit: str, sha256: str, engine: str, preset: str,
                  measure: str) -> tuple:  # fmt: skip
    """What makes two measurements the same benchmark, to skip one already made."""
    return (machine, commit, sha256, engine, preset, measure)


@dataclass
class Entry:
    """One stored result file: one data file measured on one machine for one commit."""

    path: str  # relative to the store
    machine: str
    commit: str
    commit_time: int | None  # the commit's own time (seconds), to order a history by
    file: str  # the data file's name, and its SHA-256
    sha256: str
    preset: str
    measure: str  # "time" or "instructions"
    stored: float  # when it was added (seconds since the epoch)
    engines: dict[str, dict] = field(default_factory=dict)  # engine -> its figures, summed up

    def key(self, engine: str) -> tuple:
        return benchmark_key(self.machine, self.commit, self.sha256, engine, self.preset,
                             self.measure)  # fmt: skip


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        marker = root / MARKER
        if marker.is_file():
            try:
                found = json.loads(marker.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(f"{marker}: not a results store's marker ({exc})") from None
            if not isinstance(found, dict) or found.get("format") != FORMAT:
                raise InputError(f"{marker}: not an mbobench results store")
            if found.get("version") != VERSION:
                raise InputError(f"{root}: a results store of version {found.get('version')}; "
                                 f"this mbobench reads version {VERSION}")  # fmt: skip
        elif root.exists() and any(root.iterdir()):
            raise InputError(f"{root}: not empty and not a results store (no {marker.name})")

    def add(self, result: Result) -> list[Entry]:
        """Keep a result: one stored file per data file it measured; the entries made."""
        import pyperf

        added = []
        with self._locked():
            self._mark()
            for name in dict.fromkeys(r.file for r in result.rows):  # a file a stored result
                rows = [r for r in result.rows if r.file == name]
                sha256 = next((r.sha256 for r in rows if r.sha256), None)
                names = {r.name for r in rows}
                part = [b for b in result.suite.get_benchmarks() if b.get_name() in names]
                first = rows[0]
                commit = first.commit or NO_COMMIT
                stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
                folder = Path("results", safe_name(first.machine or "unknown"), safe_name(commit),
                              (sha256 or "unknown")[:16])  # fmt: skip
                relative = _unused(self.root, folder / f"{stamp}-{first.preset}-{first.measure}")
                with replaced(self.root / relative) as tmp:
                    pyperf.BenchmarkSuite(part).dump(str(tmp), replace=True)
                added.append(_entry(relative, load_result(self.root / relative), time.time()))
            entries = self._read_index() + added
            self._write_index(entries)
        return added

    def entries(self) -> list[Entry]:
        """Every stored result's entry (the index, rebuilt first if it is stale)."""
        if not (self.root / "results").is_dir():
            return []
        with self._locked():
            entries = self._read_index()
            on_disk = {p.relative_to(self.root).as_posix()
                       for p in (self.root / "results").rglob("*.json")}  # fmt: skip
            if {e.path for e in entries} != on_disk:
                entries = [
                    _entry(path, load_result(self.root / path), (self.root / path).stat().st_mtime)
                    for path in sorted(on_disk)
                ]
                self._write_index(entries)
        return entries

    @property
    def made(self) -> bool:
        """Whether anything was ever kept here (a store is made by its first result)."""
        return (self.root / MARKER).is_file()

    def load(self, entry: Entry) -> Result:
        return load_result(self.root / entry.path)

    def measured(self) -> set[tuple]:
        """The keys (`Entry.key`) of every benchmark the store holds."""
        return {e.key(engine) for e in self.entries() for engine in e.engines}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _mark(self) -> None:
        marker = self.root / MARKER
        if not marker.is_file():
            with replaced(marker) as tmp:
                tmp.write_text(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")

    def _read_index(self) -> list[Entry]:
        path = self.root / "index.json"
        try:
            document = json.loads(path.read_text())
            return [Entry(**e) for e in document["entries"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []  # missing or unreadable: rebuilt from the files by entries()

    def _write_index(self, entries: list[Entry]) -> None:
        document = {"version": VERSION, "entries": [asdict(e) for e in entries]}
        with replaced(self.root / "index.json") as tmp:
            tmp.write_text(json.dumps(document, indent=1) + "\n")


def store_path(configured: str, given: Path | None = None) -> Path | None:
    """Where the store is: --store, else $MBOBENCH_STORE, else the config's (None: no store)."""
    if given is not None:
        return given
    chosen = os.environ.get("MBOBENCH_STORE", configured)
    return Path(chosen) if chosen else None


def _entry(relative: Path | str, result: Result, stored: float) -> Entry:
    first = result.rows[0]
    engines = {}
    for row in result.rows:
        engines[row.engine] = {
            "events_per_s": row.events_per_s if row.measure == "time" else None,
            "instructions_per_event": row.instructions_per_event
            if row.measure == "instructions" else None,
            "rsd": row.rsd, "ratio_to_ceiling": row.ratio_to_ceiling,
            "digest": row.digest, "digest_ok": row.digest_ok,
        }  # fmt: skip
    return Entry(path=Path(relative).as_posix(), machine=first.machine or "unknown",
                 commit=first.commit or NO_COMMIT, commit_time=first.commit_time,
                 file=first.file, sha256=first.sha256 or "", preset=first.preset or "",
                 measure=first.measure, stored=stored, engines=engines)  # fmt: skip


def safe_name(name: str) -> str:
    """A name as one path component (or a Dask task's key)."""
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name) or "_"


def _unused(root: Path, stem: Path) -> Path:
    """`stem`.json, or with a counter when two results land in the same second."""
    candidate, n = stem.with_name(stem.name + ".json"), 1
    while (root / candidate).exists():
        candidate, n = stem.with_name(f"{stem.name}-{n}.json"), n + 1
    return candidate
