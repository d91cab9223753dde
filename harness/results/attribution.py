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
from harness.results.resultfile import BASELINE, Result

# The plan's expected share of the baseline's time, per cost (low, high).
PLAN_SHARE = {"queue": (0.30, 0.40), "lock": (0.20, 0.30), "alloc": (0.20, 0.20),
              "dispatch": (0.10, 0.10)}  # fmt: skip


SUBSETS = [frozenset(c) for k in range(5) for c in itertools.combinations(COSTS, k)]
ENGINES = [f"switches:{switch_label(s)}" for s in SUBSETS]


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


def attribute(result: Result, rounds: int = 2000, seed: int = 0) -> list[Attribution]:
    """The attribution of every file of an `mbobench attribute` result."""
    files = sorted({r.file for r in result.rows if r.engine.startswith("switches:")})
    if not files:
        raise InputError(f"{result.path}: no configurable-engine results (run mbobench attribute)")
    return [_attribute_file(result, file, rounds, seed) for file in files]


def _attribute_file(result: Result, file: str, rounds: int, seed: int) -> Attribution:
    samples = {}
    for subset, engine in zip(SUBSETS, ENGINES, strict=True):
        row = result.row(file, engine)
        if row is None:
            raise InputError(f"{result.path}: {file}: {engine} was not measured")
        if row.digest_ok is False:
            raise InputError(f"{result.path}: {file}: {engine} computed a wrong digest")
        samples[subset] = [v / row.events * 1e9 for v in row.values_s]  # ns per event
    events = result.row(file, ENGINES[-1]).events
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
    out = Attribution(file, events, _figure(point[full], boot_total),
                      _figure(point[frozenset()], boot_rest))  # fmt: skip
    for cost, value in shapley(point).items():
        out.parts[cost] = _figure(value, boot_parts[cost])
    for pair, value in interactions(point).items():
        out.interactions[pair] = _figure(value, boot_pairs[pair])
    baseline = result.row(file, BASELINE)
    if baseline is not None and baseline.digest_ok is not False:
        values = [v / baseline.events * 1e9 for v in baseline.values_s]
        boot = [sum(rng.choices(values, k=len(values))) / len(values) for _ in range(rounds)]
        out.baseline = _figure(sum(values) / len(values), boot)
    return out


def _figure(value: float, boot: list[float]) -> Figure:
    ordered = sorted(boot)
    return Figure(value, ordered[int(0.025 * len(ordered))], ordered[int(0.975 * len(ordered)) - 1])
