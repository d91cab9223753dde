"""The Rust engines (`engines/rust/`): the crate built on first use, and their command lines.

`rust:NAME` is a command engine of the per-pass protocol (`harness.measure.command`): NAME is
one of the plan's phases (`baseline`, `direct`, `batch`, `preallocated`, `lockless`) or a switch
configuration's label as `engines.switch_label` writes it (`queue+lock+alloc+dispatch` ...
`none`). The crate is built with `cargo build --release --offline` into mbobench's cache, under
a name that carries a hash of its sources: a changed source builds anew, an unchanged one is
built once. No cargo: `ToolMissing` (exit 3).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from pathlib import Path

import engines
from harness.errors import InputError, ToolMissing
from harness.measure import processes

CRATE = Path(engines.__file__).resolve().parent / "rust"
BINARY = "mbobench-rust"
PHASES = ("baseline", "direct", "batch", "preallocated", "lockless")


def sources() -> list[Path]:
    """The files a build reads: the manifest, the lock file and every Rust source."""
    found = [CRATE / "Cargo.toml", CRATE / "Cargo.lock", *sorted((CRATE / "src").rglob("*.rs"))]
    return [path for path in found if path.is_file()]


def binary() -> Path:
    """The engines' program, built now if its sources changed since the last build."""
    from harness.datasets.default import cache_dir

    digest = hashlib.sha256()
    for path in sources():
        digest.update(str(path.relative_to(CRATE)).encode() + b"\0" + path.read_bytes())
    folder = cache_dir() / "rust"
    built = folder / f"{BINARY}-{digest.hexdigest()[:16]}"
    if built.is_file():
        return built
    cargo = shutil.which("cargo")
    if cargo is None:
        raise ToolMissing("the rust: engines need cargo (https://rustup.rs, or Debian's cargo)")
    if not (CRATE / "Cargo.toml").is_file():
        raise InputError(f"{CRATE}: no Cargo.toml (the Rust engines' crate is not installed)")
    target = folder / "target"
    proc = processes.run([cargo, "build", "--release", "--offline", "--quiet",
                          "--manifest-path", str(CRATE / "Cargo.toml"),
                          "--target-dir", str(target)])  # fmt: skip
    if proc.returncode != 0:
        raise InputError(f"{CRATE}: cargo build failed ({proc.tail()})")
    fresh = built.with_name(f"{built.name}.{os.getpid()}.tmp")  # two builds at once: two names
    shutil.copy2(target / "release" / BINARY, fresh)
    fresh.replace(built)  # whole or absent, for a run that starts meanwhile
    return built


def template(name: str, strict: bool = False) -> str:
    """The per-pass command template of `rust:NAME`."""
    from engines import SWITCHES

    kept = set() if name == "none" else set(name.split("+"))
    if name not in PHASES and not kept <= {*SWITCHES, "batchlock"}:
        known = ", ".join(PHASES)
        raise InputError(f"unknown Rust engine rust:{name} (the phases: {known}; or a switch "
                         f"label such as queue+lock+alloc+dispatch or none)")  # fmt: skip
    strict_flag = " --strict" if strict else ""
    program = shlex.quote(str(binary()))
    return f"{program} --engine {name} --passes {{passes}}{strict_flag} {{file}}"
