"""Which cost a sampled stack belongs to, from declarations that live beside the code.

A profiler's sample is a stack of (function, file, line). Its category is that of the deepest
frame that has one, found in this order:
1. a marker on the line itself, `# cost: queue` (the loops of baseline.py and the generated
   loops of switches.py, whose template tags become such markers);
2. the module's `COSTS` table, a literal dict at module level mapping a function name (or "*"
   for every function of the module) to a category: each engine module declares its own;
3. `FOREIGN`, below, for code that is not ours (the standard library, generated dunders).
"""

from __future__ import annotations

import ast
import functools
import linecache
import re
from pathlib import Path

CATEGORIES = ("queue", "lock", "allocation", "dispatch", "book", "strategy", "fills", "reading",
              "kernel", "other")  # fmt: skip
# kernel: inside the compiled engine's numba code, which Python profilers see as one call.

FOREIGN = {
    "heapq.py": "queue",
    "threading.py": "lock",
    "copy.py": "allocation",
    "queue.py": "reading",  # the prefetch thread's hand-over
    "<string>:__lt__": "queue",  # dataclass-generated ordering of prioritized events
    "<string>:__init__": "allocation",  # dataclass-generated constructors of event objects
    "<string>:__eq__": "queue",
}
_MARKER = re.compile(r"#\s*cost:\s*([a-z]+)")


def categorize(stack: list[tuple[str, str, int]]) -> str:
    """The category of a sample: its stack of (function, file, line), root first."""
    for function, filename, line in reversed(stack):
        category = frame_category(function, filename, line)
        if category:
            return category
    return "other"


def frame_category(function: str, filename: str, line: int) -> str | None:
    marker = _MARKER.search(source_line(filename, line))
    if marker and marker.group(1) in CATEGORIES:
        return marker.group(1)
    costs = module_costs(filename)
    name = function.rsplit(".", 1)[-1]  # py-spy names methods Class.method
    for key in (function, name):
        if key in costs:
            return costs[key]
    if "*" in costs:
        return costs["*"]
    module = Path(filename).name if not filename.startswith("<") else "<string>"
    return FOREIGN.get(f"{module}:{name}") or FOREIGN.get(module)


def source_line(filename: str, line: int) -> str:
    """A line of a file, or of an engine loop that `engines.switches` generated."""
    if filename.startswith("<mbobench ") and filename.endswith(">"):
        return _generated(filename[len("<mbobench ") : -1]).get(line, "")
    return linecache.getline(filename, line)


@functools.cache
def _generated(engine: str) -> dict[int, str]:
    from engines import EngineNotFound, load_engine

    try:
        source = load_engine(engine).source
    except (EngineNotFound, AttributeError):
        return {}
    return dict(enumerate(source.splitlines(), start=1))


@functools.cache
def module_costs(filename: str) -> dict[str, str]:
    """The `COSTS = {...}` literal of a module file, or nothing."""
    if filename.startswith("<") or not filename.endswith(".py"):
        return {}
    try:
        tree = ast.parse(Path(filename).read_text())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COSTS" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


@functools.cache
def function_at(filename: str, line: int) -> str:
    """The name of the innermost function that holds a line of a module ("" at module level)."""
    try:
        tree = ast.parse(Path(filename).read_text())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""
    best, best_start = "", -1
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            end = getattr(node, "end_lineno", node.lineno)
            if node.lineno <= line <= end and node.lineno > best_start:
                best, best_start = node.name, node.lineno
    return best
