"""The tree as `harness/__init__.py` describes it: stages that import only the stages before them,
no import cycle, no module over 400 lines, and a report that loads no engine, reader or numba."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The stages in order; the top-level modules come after all of them (cli, commands) or before
# all of them (errors, atomicfile).
STAGES = ["dbn", "datasets", "results", "measure", "history", "cluster", "render"]
SHARED = {"harness.errors", "harness.atomicfile"}
TOP = {"harness.cli", "harness.commands", "harness.history_commands"}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for package in ("engines", "harness"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module of ours that `path` imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = modules()
    return {name for name in names if name in known}


def stage(module: str) -> int:
    """A module's place in the order: shared first, then the stages, then the command line."""
    if module.startswith("engines") or module in SHARED or module == "harness":
        return -1
    if module in TOP:
        return len(STAGES)
    return STAGES.index(module.split(".")[1])


def test_every_harness_module_is_in_a_stage():
    for module in modules():
        if module.startswith("harness.") and module not in SHARED | TOP:
            assert module.split(".")[1] in STAGES, f"{module} is in no stage of harness/"


def test_imports_point_one_way():
    wrong = []
    for module, path in modules().items():
        for target in imports(path):
            if module.startswith("engines") and target.startswith("harness"):
                wrong.append(f"{module} -> {target} (engines never import harness)")
            elif module.startswith("harness") and stage(target) > stage(module):
                wrong.append(f"{module} -> {target} (a later stage)")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph = {module: {t for t in imports(path) if t != module and not module.startswith(t + ".")}
             for module, path in modules().items()}  # fmt: skip
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = trail[trail.index(module) :] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in graph.get(module, ()):
            # A package's __init__ is imported with any of its modules; that is not a cycle.
            if not target.startswith(module + "."):
                visit(target, trail + [module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_no_module_over_400_lines():
    lines = {module: len(path.read_text().splitlines()) for module, path in modules().items()}
    assert not {m: n for m, n in lines.items() if n > MAX_LINES}


def test_every_stage_says_what_it_takes_and_hands_on():
    for name in STAGES:
        doc = ast.get_docstring(ast.parse((ROOT / "harness" / name / "__init__.py").read_text()))
        assert doc and "takes" in doc.lower() and "hands on" in doc.lower(), name


def test_the_layout_checker_sees_a_wrong_import(tmp_path):
    # The checker itself can fail: a stage importing a later one is reported.
    bad = tmp_path / "bad.py"
    bad.write_text("from harness.render.table import run_table\n")
    assert "harness.render.table" in imports(bad)
    assert stage("harness.render.table") > stage("harness.dbn.reader")


def test_report_imports_no_engine_reader_or_numba(tmp_path):
    # The command as a user runs it, on a committed result file, watched from inside.
    fixture = ROOT / "tests" / "data" / "report-run0.json"
    code = (
        "import sys\nfrom harness.cli import main\n"
        f"status = main(['report', {str(fixture)!r}, '-o', {str(tmp_path / 'r.html')!r}])\n"
        "heavy = sorted(m for m in sys.modules if m == 'numba' or m.startswith('numba.')\n"
        "               or m == 'harness.dbn.reader' or m.startswith('engines.'))\n"
        "print(status, heavy[:5])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_the_rust_crate_ships_in_the_package():
    # An installed mbobench builds the crate from its package data: every source must be in it.
    import glob
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["engines"]  # fmt: skip
    shipped = {Path(p) for pattern in patterns
               for p in glob.glob(str(ROOT / "engines" / pattern), recursive=True)}  # fmt: skip
    crate = ROOT / "engines" / "rust"
    needed = {crate / "Cargo.toml", crate / "Cargo.lock", *(crate / "src").rglob("*.rs")}
    assert needed <= shipped, sorted(str(p) for p in needed - shipped)
