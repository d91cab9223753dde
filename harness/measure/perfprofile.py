"""Attribution by profile for native engines: `perf record` on a `rust:` or `cmd:` engine.

The program runs its passes over the file under `perf record -e cpu-clock` (the software clock:
these virtual machines have no hardware counters) with DWARF call graphs, so that a release
build without frame pointers still gives whole stacks. `perf script` prints the samples with
their symbols demangled; Rust's legacy hashes (`::h0123456789abcdef`) are dropped. Each sample's
category comes from declared symbol patterns (below: the user's own from
`[tool.mbobench.categories]`, category -> list of regular expressions, first). Written
into `profiles/<engine>/`: `perf.data`, `perf.collapsed.txt` (a stack a line, root first, with
its count) and `perf.speedscope.json` (speedscope.app's sampled-profile format).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

from harness.errors import InputError, ToolMissing
from harness.measure import processes
from harness.measure.command import PASSES, command_line, run_passes
from harness.results.categories import CATEGORIES

# A sample's category: its deepest frame that a pattern of our own code matches (the user's
# `[tool.mbobench.categories]`, then `OWN_PATTERNS`: the crate's modules and functions, which say
# what a call is for), else its deepest frame that a pattern of the standard library matches
# (`STD_PATTERNS`: what the call is). So the hashing inside the baseline's string-keyed feature
# map is allocation (the plan's "string keys for features"), the hashing of its strategy lookup
# dispatch, and a lock that the compiler inlined into our own function still counts as a lock.
OWN_PATTERNS: list[tuple[str, str]] = [
    (r"market::Locked|RwLock", "lock"),
    (r"strategies::feature_map|Strategy>::on_book|Strategy::on_book|OrderRequest", "allocation"),
    (r"strategies::by_name", "dispatch"),
    (r"::strategies::", "strategy"),
    (r"MarketState>?::(submit|carry_out)|::fills::", "fills"),
    (r"::book::|MarketState>?::apply", "book"),
    (r"::(reader|zstd|metadata|record|validate)::", "reading"),
]
STD_PATTERNS: list[tuple[str, str]] = [
    (r"binary_heap|BinaryHeap", "queue"),
    (r"rwlock|futex|pthread_rwlock|sync::poison|std::sync::", "lock"),
    (
        r"__rust_alloc|__rust_dealloc|__rust_realloc|alloc::alloc::|\bmalloc\b|\bfree\b|"
        r"\brealloc\b|_int_malloc|_int_free|malloc_consolidate|cfree|tcache_|_libc_malloc|"
        r"_libc_free|as core::clone::Clone>|raw_vec|drop_in_place<alloc::|memcpy",
        "allocation",
    ),
    (r"hash::map|hashbrown|core::hash::|sip::|HashMap|<dyn |vtable|memcmp", "dispatch"),
    (r"ZSTD_|libzstd|HUF_|FSE_", "reading"),
]
_HASH = re.compile(r"::h[0-9a-f]{16}\b")
_FRAME = re.compile(r"^\s*[0-9a-f]+ (?P<symbol>.*?)(?:\+0x[0-9a-f]+)? \((?P<dso>[^()]*)\)$")


def profile_native(engine: str, template: str, path: Path, out_dir: Path, seconds: float,
                   user_patterns: dict[str, list[str]]) -> dict:  # fmt: skip
    """Sample a native engine's passes over `path` for about `seconds`; the summary by
    category (also written as summary-perf.json)."""
    perf = shutil.which("perf")
    if perf is None:
        raise ToolMissing("perf is not installed (Debian: apt-get install linux-perf)")
    patterns = (_patterns(user_patterns, OWN_PATTERNS), _patterns({}, STD_PATTERNS))
    passes = 1
    if PASSES in template:  # one timed pass tells how many make `seconds`
        elapsed = run_passes(template, path, 1, engine)[0]["elapsed_ns"] / 1e9
        passes = max(1, math.ceil(seconds / max(elapsed, 1e-6)))
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "perf.data"
    record = [perf, "record", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf,16384",
              "-o", str(data), "--", *command_line(template, path, passes)]  # fmt: skip
    _perf(record)
    script = _perf([perf, "script", "-i", str(data), "--demangle"])
    stacks = collapse(script)
    lines = [f"{';'.join(stack)} {count}" for stack, count in sorted(stacks.items())]
    (out_dir / "perf.collapsed.txt").write_text("\n".join(lines) + "\n")
    (out_dir / "perf.speedscope.json").write_text(json.dumps(speedscope(stacks, engine)))
    summary = summarize(stacks, patterns)
    summary.update({"engine": engine, "file": str(path), "profiler": "perf", "passes": passes})
    (out_dir / "summary-perf.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def collapse(script: str) -> dict[tuple[str, ...], int]:
    """`perf script`'s samples as stacks (root first) of symbols, with their counts."""
    stacks: dict[tuple[str, ...], int] = {}
    for block in script.split("\n\n"):
        frames = []
        for line in block.splitlines()[1:]:
            match = _FRAME.match(line)
            if match:
                symbol = match["symbol"]
                if symbol == "[unknown]":
                    symbol = f"[{Path(match['dso']).name or 'unknown'}]"
                frames.append(_HASH.sub("", symbol))
        if frames:
            stack = tuple(reversed(frames))
            stacks[stack] = stacks.get(stack, 0) + 1
    return stacks


def summarize(stacks: dict[tuple[str, ...], int], patterns: tuple[list, list]) -> dict:
    """Samples per category: each stack's deepest frame that an own pattern matches decides,
    else its deepest frame that a standard library's does."""
    samples = dict.fromkeys(CATEGORIES, 0)
    for stack, count in stacks.items():
        samples[_category(stack, patterns)] += count
    total = sum(samples.values()) or 1
    return {"unit": "samples", "total": total, "categories": samples,
            "shares": {k: v / total for k, v in samples.items()}}  # fmt: skip


def _category(stack: tuple[str, ...], patterns: tuple[list, list]) -> str:
    for tier in patterns:
        for frame in reversed(stack):
            for pattern, category in tier:
                if pattern.search(frame):
                    return category
    return "other"


def _patterns(user: dict[str, list[str]], defaults: list[tuple[str, str]]) -> list:
    compiled = []
    for category, texts in [*((c, p) for c, p in user.items()),
                            *((c, [p]) for p, c in defaults)]:  # fmt: skip
        if not isinstance(texts, list) or not all(isinstance(x, str) for x in texts):
            raise InputError(f"[tool.mbobench.categories]: {category} = {texts!r} should be a "
                             "list of regular expressions")  # fmt: skip
        if category not in CATEGORIES:
            raise InputError(f"[tool.mbobench.categories]: unknown category {category!r} "
                             f"(known: {', '.join(CATEGORIES)})")  # fmt: skip
        for text in texts:
            try:
                compiled.append((re.compile(text), category))
            except re.error as exc:
                raise InputError(
                    f"[tool.mbobench.categories]: {category} = {text!r} is not "
                    f"a regular expression ({exc})"
                ) from None
    return compiled


def speedscope(stacks: dict[tuple[str, ...], int], name: str) -> dict:
    """The stacks in speedscope's file format: one sampled profile, weights in samples."""
    frames: dict[str, int] = {}
    samples, weights = [], []
    for stack, count in stacks.items():
        samples.append([frames.setdefault(frame, len(frames)) for frame in stack])
        weights.append(count)
    total = sum(weights)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": frame} for frame in frames]},
        "profiles": [{"type": "sampled", "name": name, "unit": "none", "startValue": 0,
                      "endValue": total, "samples": samples, "weights": weights}],
        "name": name, "exporter": "mbobench",
    }  # fmt: skip


def _perf(argv: list[str]) -> str:
    proc = processes.run(argv)
    if proc.returncode != 0:
        text = proc.stderr + proc.stdout
        if "perf_event_paranoid" in text or "Permission" in text or "not permitted" in text:
            raise ToolMissing("perf may not sample here (kernel.perf_event_paranoid forbids it: "
                              "run as root, or lower it with sysctl)")  # fmt: skip
        tail = (text.strip().splitlines() or ["no output"])[-1]
        raise ToolMissing(f"perf failed ({tail})")
    return proc.stdout
