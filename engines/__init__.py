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

`ENGINES` maps each built-in name to its module and class. An engine of your own is named by
`package.module:Class`, or registered under a name by an installed package in the entry-point
group `mbobench.engines`; `load_engine` takes all three, and `switches:LABEL` for any of the 16
configurations of the configurable engine (`switches:queue+lock+alloc+dispatch` ... `none`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Protocol

import numpy as np

from engines.results import Results


class Engine(Protocol):
    name: str

    def run(self, chunks: Iterable[np.ndarray], strict: bool = False) -> Results: ...


# name -> "module:Class", imported only when asked for (the compiled engine imports numba).
ENGINES: dict[str, str] = {
    "baseline": "engines.baseline:BaselineEngine",
    "direct": "engines.direct:DirectEngine",
    "batch": "engines.batch:BatchEngine",
    "preallocated": "engines.preallocated:PreallocatedEngine",
    "lockless": "engines.lockless:LocklessEngine",
    "compiled": "engines.compiled:CompiledEngine",
}

# What each variant removes, relative to the one before it (the plan's phases).
PHASES: dict[str, str] = {
    "baseline": "the queue-based design: queue, per-event lock, allocation, dynamic dispatch",
    "direct": "no event queue",
    "batch": "the lock taken once per batch instead of several times per event",
    "preallocated": "no per-event objects, clones, string keys or fresh request lists",
    "lockless": "no lock at all; strategies resolved once (static dispatch)",
    "compiled": "the whole loop in numba over the reader's arrays: no Python object per event",
}


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
