"""Measuring the suite at past commits of the repository that holds the engines under test.

For each commit: a temporary git worktree of it; its Python package (a `pyproject.toml` or
`setup.py` at the top) pip-installed, without its dependencies, into an environment of its own
that also sees mbobench's (a venv whose `.pth` file names this environment's site-packages;
kept in mbobench's cache, since a commit's package does not change); the config's `build`
command run in the worktree (a command engine's build, as `cargo build --release --offline`);
then `mbobench run` itself, in that worktree and environment, for each file, with the suite's
settings, and its result into the store. A `cmd:` engine's relative paths are the worktree's.
A commit whose every engine on a file the store already holds, measured on this machine with the
same preset and measure, is skipped for that file.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError
from harness.history.store import Store, benchmark_key
from harness.measure import processes
from harness.measure.runner import default_reference, machine_name, sha256_of
from harness.results.resultfile import load_result


@dataclass
class Suite:
    """What to measure at each commit: the files, the engines and `mbobench run`'s options."""

    files: list[Path]
    engines: list[str]
    options: list[str]  # --fast, --measure instructions, --strict, ... as given to `run`
    preset: str
    measure: str
    reference: str | None = None
    build: str = ""  # a shell command run in the worktree first
    install: bool = True


def git(repo: Path, *args: str) -> str:
    """A git command's output in `repo`; an InputError naming the command when it fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"{repo}: git {' '.join(args)} failed ({exc})") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"{repo}: git {' '.join(args)}: {tail}")
    return proc.stdout.strip()


def resolve(repo: Path, specs: list[str]) -> list[str]:
    """Commits as 12-digit names, oldest first: `A..B` as git reads it (B and the commits
    before it that A does not have), or single commits, in the order given."""
    found: list[str] = []
    for spec in specs:
        for part in spec.split(","):
            if ".." in part:
                listed = git(repo, "rev-list", "--reverse", "--topo-order", part).split()
                if not listed:
                    raise InputError(f"{repo}: {part} holds no commit")
                found += [c[:12] for c in listed]
            elif part:
                found.append(git(repo, "rev-parse", "--verify", "--quiet",
                                 f"{part}^{{commit}}")[:12])  # fmt: skip
    return list(dict.fromkeys(found))


def subject(repo: Path, commit: str) -> str:
    return git(repo, "show", "-s", "--format=%s", commit)


def measure_commit(repo: Path, commit: str, suite: Suite, store: Store, work: Path) -> list[str]:
    """Measure `suite` at `commit` into `store`; the files it measured (none: all were kept)."""
    keys = store.measured()
    machine = machine_name()
    todo = []
    for path in suite.files:
        sha = sha256_of(path)
        missing = [engine for engine in suite.engines
                   if benchmark_key(machine, commit, sha, engine, suite.preset, suite.measure)
                   not in keys]  # fmt: skip
        if missing:
            todo.append((path, missing))
    if not todo:
        return []
    tree = work / commit
    git(repo, "worktree", "add", "--detach", "--force", str(tree), commit)
    try:
        python = environment(repo, commit, tree) if suite.install else sys.executable
        if suite.build:
            in_tree(tree, ["sh", "-c", suite.build], f"{commit}: the build command")
        reference = default_reference(suite.engines, suite.reference)
        for path, missing in todo:
            engines = list(dict.fromkeys([reference, *missing]))  # digests held to the reference
            out = work / f"{commit}-{path.name}.json"
            argv = [python, "-m", "harness.cli", "run", str(path.resolve()), "-o", str(out),
                    "--force", "--no-store", "-q", "--commit", commit, "--reference", reference,
                    "--config", str(empty_config(work)), *suite.options]  # fmt: skip
            for engine in engines:
                argv += ["--engine", engine]
            in_tree(tree, argv, f"{commit} on {path.name}", allow=(0, 1), made=out)
            store.add(load_result(out))  # a wrong digest (exit 1) is kept, and shown as such
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=repo,
                       capture_output=True)  # fmt: skip
    return [str(path) for path, _ in todo]


def environment(repo: Path, commit: str, tree: Path) -> str:
    """The Python of the commit's own environment, its package installed; this one's Python
    when the worktree holds no package."""
    if not ((tree / "pyproject.toml").is_file() or (tree / "setup.py").is_file()):
        return sys.executable
    from harness.datasets.default import cache_dir

    place = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:12]
    env = cache_dir() / "commits" / place / commit
    python = env / "bin" / "python"
    if (env / ".installed").is_file():
        return str(python)
    processes.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(env)])
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())  # fmt: skip
    # After the commit's own packages on the path: mbobench's environment (harness, numba, ...),
    # as a site directory, so that its own .pth files (an editable install's) are read too.
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "mbobench-parent.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in ours)
    )
    # The package's build backend from mbobench's environment first; where that has none (or
    # another version than the package needs), from the package index, as pip does by default.
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
           "--no-input", "--quiet", str(tree)]  # fmt: skip
    proc = processes.run([*pip, "--no-build-isolation"])
    if proc.returncode != 0:
        proc = processes.run(pip)
    if proc.returncode != 0:
        raise InputError(f"{commit}: pip install of its package in {tree} failed "
                         f"({_pip_error(proc.stderr)})")  # fmt: skip
    (env / ".installed").write_text(commit + "\n")
    return str(python)


def _pip_error(stderr: str) -> str:
    """pip's own error line (its last lines are hints)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("ERROR:", "error:")) or "Error:" in line:
            return line
    return lines[-1] if lines else "no output"


def in_tree(tree: Path, argv: list[str], what: str, allow: tuple = (0,),
             made: Path | None = None) -> None:  # fmt: skip
    """Run `argv` in the worktree (posix_spawn has no working directory: a shell changes it)."""
    line = f"cd {shlex.quote(str(tree))} && exec {shlex.join(argv)}"
    env = dict(os.environ, PYTHONSAFEPATH="1")  # the tree on the path after the installed
    proc = processes.run(["sh", "-c", line], env=env)
    if proc.returncode not in allow or (made is not None and not made.is_file()):
        raise InputError(f"{what}: exited with {proc.returncode} ({proc.tail(or_stdout=True)})")


def empty_config(work: Path) -> Path:
    """A config of no keys, in `work`: the suite's settings are given on the command line, and
    no pyproject.toml of the folder it runs in (a commit's, a worker's) counts."""
    path = work / "suite.toml"
    if not path.is_file():
        path.write_text("[tool.mbobench]\n")
    return path


def scratch() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="mbobench-commits-")
