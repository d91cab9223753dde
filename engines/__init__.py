"""mbobench's engines: complete backtests behind one small interface.

An engine is any object with a `name` and a `run` over the reader's chunks:

    class MyEngine:
        name = "mine"

        def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results:
            ...

Each chunk is a numpy array of `engines.events.MBO_DTYPE` (DBN MBO records, in file order).
`run` returns `engines.results.Results` with the event count and the digest, which must equal
the baseline's on the same input. `strict` makes an unknown order id an error
(`engines.book.UnknownOrder`) instead of a count.

Two optional parts, both declared in `Engine` and `Chunks` below:
- The chunks the harness hands to `run` are its reader (`Chunks`): an iterable of chunks that can
  also fill a ring of chunk buffers on a native thread (`read_ahead`), for an engine that reads
  ahead as the compiled one does. Any other iterable of chunks will do for `run` as well.
- An engine with `reads_ahead = True` says that it uses `read_ahead`: the harness then compiles
  the filling loop before timing, beside the engine's own compilation (`compile_seconds`).

`ENGINES` maps each built-in name to its module and class. An engine of your own is named by
`package.module:Class`, or registered under a name by an installed package in the entry-point
group `mbobench.engines`; `load_engine` takes all three, and `switches:LABEL` for any of the 16
configurations of the configurable engine (`switches:queue+lock+alloc+dispatch` ... `none`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:  # numpy and the results stay unimported until an engine is loaded
    import numpy as np

    from engines.results import Results
    from engines.ring import Ring


class Engine(Protocol):
    """What the harness runs: a name, and a run over chunks of MBO records."""

    name: str

    def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results: ...

    # Optional: True when `run` calls `chunks.read_ahead` (the harness compiles its loop first).
    reads_ahead: bool
    # Optional: seconds spent compiling in this process, reported outside the timings.
    compile_seconds: float


class Chunks(Protocol):
    """The harness's reader as `run` receives it: its chunks, and a way to read them ahead."""

    def __iter__(self) -> Iterator[np.ndarray]: ...

    def read_ahead(
        self, ring_for: Callable[[np.dtype, int], Ring]
    ) -> AbstractContextManager | None:
        """A context that fills the ring `ring_for(dtype, records_per_slot)` gives with the
        validated records on a native thread, or None where it cannot (then iterate)."""


# name -> "module:Class", imported only when asked for (the compiled engine imports numba).
ENGINES: dict[str, str] = {
    "baseline": "engines.baseline:BaselineEngine",
    "direct": "engines.direct:DirectEngine",
    "batch": "engines.batch:BatchEngine",
    "preallocated": "engines.preallocated:PreallocatedEngine",
    "lockless": "engines.lockless:LocklessEngine",
    "compiled": "engines.compiled:CompiledEngine",
}

# The baseline's four costs, as the configurable engines' labels name them, in label order.
SWITCHES = ("queue", "lock", "alloc", "dispatch")


def switch_label(kept: Iterable[str]) -> str:
    """A configuration's short name: the costs it keeps, in label order ("queue+lock+alloc+
    dispatch" for all four; "batchlock" stands where a batch lock replaces the lock); "none"."""
    kept = set(kept)
    order = [c if c != "lock" or "batchlock" not in kept else "batchlock" for c in SWITCHES]
    return "+".join(c for c in order if c in kept) or "none"


class Phase(NamedTuple):
    """One phase of the plan: what its engine removes from the one before, and the plan's
    expected gain over that one."""

    removes: str
    expected: str


# The plan's phases, in order: each engine removes one cost of the one before it.
PHASES: dict[str, Phase] = {
    "baseline": Phase("the queue-based design: queue, per-event lock, allocation, dynamic "
                      "dispatch", ""),
    "direct": Phase("no event queue", "30-40%"),
    "batch": Phase("the lock taken once per batch instead of several times per event", "20-30%"),
    "preallocated": Phase("no per-event objects, clones, string keys or fresh request lists",
                          "15-20%"),
    "lockless": Phase("no lock at all; strategies resolved once (static dispatch)", "20%"),
    "compiled": Phase("the whole loop in numba over the reader's arrays: no Python object per "
                      "event", "> 0.83 of the reading ceiling"),
}  # fmt: skip


class EngineNotFound(LookupError):
    """An engine name or `module:Class` that does not lead to an engine."""


ENTRY_POINT_GROUP = "mbobench.engines"


def available_engines() -> dict[str, str]:
    """Built-in engines, then those installed packages declare in the `mbobench.engines` group."""
    from importlib.metadata import entry_points

    found = dict(ENGINES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def load_engine(spec: str) -> Engine:
    """An engine instance from a name (built-in or entry point) or a `package.module:Class`."""
    if spec.startswith("switches:"):  # one configuration of the four costs, by its label
        from engines.switches import from_label

        try:
            return from_label(spec.partition(":")[2])
        except ValueError as exc:
            raise EngineNotFound(str(exc)) from None
    target = ENGINES.get(spec) or available_engines().get(spec, spec)
    module_name, _, class_name = target.partition(":")
    if not class_name:
        raise EngineNotFound(f"unknown engine {spec!r}")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise EngineNotFound(f"cannot load engine {spec!r} ({exc})") from None
    engine = cls()
    if not isinstance(getattr(engine, "name", None), str) or not callable(
        getattr(engine, "run", None)
    ):
        raise EngineNotFound(f"{spec!r} is not an engine: it needs a `name` and a `run(chunks)`")
    return engine
