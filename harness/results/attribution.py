"""Attribution by experiment: the four costs' shares of the baseline's time, by Shapley values.

The configurable engine runs in all 16 combinations of its switches (queue, lock, allocation,
dispatch), each a pyperf benchmark. With T(S) the time per event with the costs S switched on,
the Shapley value of a cost is its marginal cost T(S + cost) - T(S) averaged over every order
in which the costs can be switched on; the four values add up exactly to T(all) - T(none), the
measured total. T(none) is the remainder that none of the four explains: book, strategies,
fills and reading. A pair's interaction (T(S+a+b) - T(S+a) - T(S+b) + T(S), averaged the same
way) is what the split hides when two costs are not independent.

T(all) is the configurable engine with all four costs on, the baseline's design; `mbobench
attribute` measures `engines/baseline.py` in the same run, and the attribution shows it beside
T(all), so that a reader sees how closely the two agree.

Confidence intervals: the pyperf values of every combination are resampled (bootstrap) and the
whole computation repeated; the 2.5th and 97.5th percentiles bound each figure.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from math import factorial

from engines import SWITCHES as COSTS
from engines import switch_label
from harness.errors import InputError
from harness.results.resultfile import BASELINE, Result, Row

# The plan's expected share of the baseline's time, per cost (low, high).
PLAN_SHARE = {"queue": (0.30, 0.40), "lock": (0.20, 0.30), "alloc": (0.20, 0.20),
              "dispatch": (0.10, 0.10)}  # fmt: skip


SUBSETS = [frozenset(c) for k in range(5) for c in itertools.combinations(COSTS, k)]
ENGINES = [f"switches:{switch_label(s)}" for s in SUBSETS]
# A command engine's template names its switches with these, each replaced by "on" or "off".
PLACEHOLDERS = {"queue": "{queue}", "lock": "{lock}", "alloc": "{alloc}", "dispatch": "{dispatch}"}
# The engine each family's all-on configuration stands for, measured beside it when it exists.
BASELINES = {"switches": BASELINE, "rust": "rust:baseline"}


def family_engines(family: str) -> dict[str, frozenset[str]]:
    """The 16 engines of a family of switch configurations, each with the costs it keeps:
    "switches" (the Python engine), "rust" (the Rust crate), or a `cmd:` template in which
    {queue}, {lock}, {alloc} and {dispatch} stand for "on" or "off"."""
    if family in ("switches", "rust"):
        return {f"{family}:{switch_label(s)}": s for s in SUBSETS}
    if family.startswith("cmd:") and all(p in family for p in PLACEHOLDERS.values()):
        engines = {}
        for subset in SUBSETS:
            spec = family
            for cost, placeholder in PLACEHOLDERS.items():
                spec = spec.replace(placeholder, "on" if cost in subset else "off")
            engines[spec] = subset
        return engines
    raise InputError(
        f"{family!r} has no switches to attribute: name 'switches' (Python), 'rust', "
        "or a cmd: engine whose template has {queue} {lock} {alloc} {dispatch}"
    )


@dataclass
class Figure:
    """ns per event, with its 95% interval."""

    ns: float
    low: float
    high: float


@dataclass
class Attribution:
    file: str
    events: int
    family: str
    total: Figure  # all four on: the baseline's design, in the configurable engine
    remainder: Figure  # all four off
    baseline: Figure | None = None  # engines/baseline.py itself, when measured in the same run
    parts: dict[str, Figure] = field(default_factory=dict)
    interactions: dict[tuple[str, str], Figure] = field(default_factory=dict)

    def share(self, ns: float) -> float:
        return ns / self.total.ns


def shapley(times: dict[frozenset, float]) -> dict[str, float]:
    """Each cost's average marginal time over every order of switching the costs on."""
    n = len(COSTS)
    values = {}
    for cost in COSTS:
        value = 0.0
        for subset in SUBSETS:
            if cost in subset:
                continue
            weight = factorial(len(subset)) * factorial(n - len(subset) - 1) / factorial(n)
            value += weight * (times[subset | {cost}] - times[subset])
        values[cost] = value
    return values


def interactions(times: dict[frozenset, float]) -> dict[tuple[str, str], float]:
    """Shapley interaction index of each pair of costs."""
    n = len(COSTS)
    out = {}
    for a, b in itertools.combinations(COSTS, 2):
        value = 0.0
        for subset in SUBSETS:
            if a in subset or b in subset:
                continue
            weight = factorial(len(subset)) * factorial(n - len(subset) - 2) / factorial(n - 1)
            value += weight * (times[subset | {a, b}] - times[subset | {a}]
                               - times[subset | {b}] + times[subset])  # fmt: skip
        out[a, b] = value
    return out


def families(result: Result) -> set[str]:
    """The families of switch configurations a result measured (none for a plain run)."""
    return {row.family or "switches" for row in result.rows
            if row.family is not None or row.engine.startswith("switches:")}  # fmt: skip


def attribute(result: Result, rounds: int = 2000, seed: int = 0) -> list[Attribution]:
    """The attribution of every family and file of an `mbobench attribute` result."""
    members: dict[tuple[str, str], dict[frozenset, Row]] = {}
    for row in result.rows:
        if row.family is not None:
            members.setdefault((row.family, row.file), {})[frozenset(_kept(row.switches))] = row
        elif row.engine.startswith("switches:"):  # written before families were recorded
            label = row.engine.partition(":")[2]
            members.setdefault(("switches", row.file), {})[frozenset(_kept(label))] = row
    if not members:
        raise InputError(f"{result.path}: no switch configurations measured "
                         "(run mbobench attribute)")  # fmt: skip
    return [_attribute_file(result, family, file, rows, rounds, seed)
            for (family, file), rows in sorted(members.items())]  # fmt: skip


def _kept(label: str) -> set[str]:
    return set() if label == "none" else set(label.split("+"))


def _attribute_file(result: Result, family: str, file: str, rows: dict[frozenset, Row],
                    rounds: int, seed: int) -> Attribution:  # fmt: skip
    samples = {}
    for subset in SUBSETS:
        row = rows.get(subset)
        if row is None:
            raise InputError(f"{result.path}: {file}: {family}'s configuration "
                             f"{switch_label(subset)} was not measured")  # fmt: skip
        if row.digest_ok is False:
            raise InputError(f"{result.path}: {file}: {row.engine} computed a wrong digest")
        samples[subset] = [v / row.events * 1e9 for v in row.values_s]  # ns per event
    events = rows[SUBSETS[-1]].events
    point = {s: sum(v) / len(v) for s, v in samples.items()}
    rng = random.Random(seed)
    boot_parts: dict[str, list[float]] = {c: [] for c in COSTS}
    boot_pairs: dict[tuple[str, str], list[float]] = {}
    boot_total, boot_rest = [], []
    for _ in range(rounds):
        times = {s: sum(rng.choices(v, k=len(v))) / len(v) for s, v in samples.items()}
        for cost, value in shapley(times).items():
            boot_parts[cost].append(value)
        for pair, value in interactions(times).items():
            boot_pairs.setdefault(pair, []).append(value)
        boot_total.append(times[SUBSETS[-1]])
        boot_rest.append(times[SUBSETS[0]])
    full = frozenset(COSTS)
    out = Attribution(file, events, family, _figure(point[full], boot_total),
                      _figure(point[frozenset()], boot_rest))  # fmt: skip
    for cost, value in shapley(point).items():
        out.parts[cost] = _figure(value, boot_parts[cost])
    for pair, value in interactions(point).items():
        out.interactions[pair] = _figure(value, boot_pairs[pair])
    baseline = result.row(file, BASELINES.get(family, ""))
    if baseline is not None and baseline.digest_ok is not False:
        values = [v / baseline.events * 1e9 for v in baseline.values_s]
        boot = [sum(rng.choices(values, k=len(values))) / len(values) for _ in range(rounds)]
        out.baseline = _figure(sum(values) / len(values), boot)
    return out


def _figure(value: float, boot: list[float]) -> Figure:
    ordered = sorted(boot)
    return Figure(value, ordered[int(0.025 * len(ordered))], ordered[int(0.975 * len(ordered)) - 1])
