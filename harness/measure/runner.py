"""Measuring a suite: the reading ceiling and every engine on every file, with pyperf.

Each (file, engine) pair is one pyperf benchmark, run by `python -m harness.measure.worker` in
its own processes (pyperf's parent and workers), so that pyperf's command line never meets
mbobench's, and every engine starts from a fresh interpreter. The parts are merged into one pyperf
benchmark suite with mbobench's metadata (the file, its SHA-256 and event count, the engine,
its digest and whether it matches the baseline's, the ceiling, peak memory, machine, commit),
written to a temporary file and renamed: `python -m pyperf stats|show|compare_to` read it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.atomicfile import replaced
from harness.dbn.reader import DEFAULT_CHUNK_RECORDS, Reader
from harness.errors import InputError, reported
from harness.measure import processes, rust, steal
from harness.measure.instructions import COUNT_RECORDS
from harness.measure.prefix import SLOW_VALUES
from harness.results.resultfile import BASELINE, CEILING, events_of, run_value

DEFAULT_PROCESSES = 3  # mbobench's default preset; pyperf's --fast / --rigorous still apply
DEFAULT_VALUES = 3
UNCALIBRATED_PASS_S = 0.3  # a pass this long: 1 loop a value, no calibration (3x pyperf's 0.1 s)
# pyperf gives its workers a minimal environment: these variables pass through.
INHERITED = ("PYTHONPATH", "PYTHONSAFEPATH", "MBOBENCH_BATCH", "MBOBENCH_CACHE",
             "MBOBENCH_SLOWDOWN", "MBOBENCH_SLOWDOWN_STEPS", "MBOBENCH_READ_AHEAD",
             "NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT", "NUMBA_BOUNDSCHECK")  # fmt: skip


@dataclass
class Settings:
    """How to measure: pyperf's preset and counts, and the engines' options."""

    preset: str = "default"  # "fast", "default" or "rigorous", as pyperf has them
    processes: int | None = None  # pyperf --processes (None: the preset's)
    values: int | None = None  # pyperf --values
    loops: int | None = None  # pyperf --loops (None: calibrated)
    strict: bool = False
    chunk_records: int = DEFAULT_CHUNK_RECORDS
    reference: str | None = None  # the engine whose digest every other must equal
    commit: str | None = None  # the commit of the engines under test (None: the working dir's)
    # engine -> (family, label) of the switch configurations an attribution measures
    switches: dict[str, tuple[str, str]] = field(default_factory=dict)
    measure: str = "time"  # "time" (pyperf's wall clock) or "instructions" (Callgrind)
    count_records: int = COUNT_RECORDS  # instructions: the prefix of each file every engine counts
    interleave: bool = False  # the ceiling and every engine of a file pass by pass, in turn

    def counts(self) -> tuple[int, int]:
        """Processes and values per process, as pyperf's presets make them from mbobench's
        defaults (for engines that mbobench times itself, as pyperf would)."""
        processes, values = DEFAULT_PROCESSES, DEFAULT_VALUES
        if self.preset == "rigorous":
            processes *= 2
        elif self.preset == "fast":
            processes, values = max(processes // 2, 3), max(values * 2 // 3, 2)
        return self.processes or processes, self.values or values

    def pyperf_args(self) -> list[str]:
        args = {"fast": ["--fast"], "rigorous": ["--rigorous"]}.get(self.preset, [])
        args += ["--inherit-environ", ",".join(INHERITED)]
        for flag, value in (("--processes", self.processes), ("--values", self.values),
                            ("--loops", self.loops)):  # fmt: skip
            if value is not None:
                args += [flag, str(value)]
        return args


Started = Callable[[str], Callable[[], None]]  # on_start(label) -> on_done()


def run_suite(files: list[Path], engines: list[str], settings: Settings,
              on_start: Started | None = None, failures: list[str] | None = None):  # fmt: skip
    """Measure the ceiling and `engines` on each file; a pyperf BenchmarkSuite. Counting
    instructions, an engine that cannot be counted is appended to `failures` (when given) and
    the others are counted still."""
    import pyperf

    setup_s = {}  # per engine: loading it here, its first compilation (or build) included
    loaded = {}  # the Python engines, loaded here
    for spec in engines:  # fail before measuring anything
        start = time.perf_counter()
        if spec.startswith("rust:"):
            rust.binary()  # built now (once per source), or ToolMissing without cargo
        elif not spec.startswith("cmd:"):
            loaded[spec] = load_engine_or_fail(spec)
            if getattr(loaded[spec], "reads_ahead", False):
                from harness.dbn.readahead import warm_up

                warm_up()  # its reading loop too: each worker then only loads it from the cache
        setup_s[spec] = time.perf_counter() - start
    reference = default_reference(engines, settings.reference)
    if reference not in engines:
        raise InputError(f"the reference engine {reference!r} is not among those measured "
                         f"({', '.join(engines)})")  # fmt: skip
    metadata = run_metadata(settings, reference)
    counting = settings.measure == "instructions"
    if settings.interleave:
        interleavable(engines, settings)
    if counting:
        from harness.measure import instructions

        _, tool_version = instructions.valgrind()  # ToolMissing before anything runs
        metadata["mbobench_count_records"] = settings.count_records
    benchmarks = []
    with tempfile.TemporaryDirectory(prefix="mbobench-") as tmp:
        for path in files:
            Reader(path)  # a bad file is reported before anything runs
            file_metadata = {"mbobench_sha256": sha256_of(path), "mbobench_file": str(path),
                             **metadata}  # fmt: skip
            measured = instructions.prefix(path, settings.count_records, Path(tmp)) if (
                counting) else path  # fmt: skip
            part_benchmarks = []
            ticks = steal.cpu_ticks()
            if settings.interleave:
                part_benchmarks = _interleaved(path, engines, settings, on_start)
            # The ceiling is measured first and again last, as one benchmark: on a machine whose
            # speed drifts during a run, the engines measured in between are compared with its
            # mean speed over the run, not with its first minute. (A count does not drift.)
            order = [CEILING, *engines] + ([] if counting else [CEILING])
            for step, engine in enumerate([] if settings.interleave else order):
                again = step > 0 and engine == CEILING
                name = f"{path.name}/{engine}"
                done = on_start(name + (" (again)" if again else "")) if on_start else None
                part = Path(tmp) / f"{len(benchmarks)}-{step}.json"
                if counting:
                    try:
                        bench = instructions.measure_instructions(
                            measured, engine, _template(engine, settings), name,
                            settings.strict, tool_version)  # fmt: skip
                    except InputError as exc:
                        if failures is None or engine == CEILING:
                            raise
                        failures.append(str(exc))
                        if done:
                            done()
                        continue
                else:  # the ceiling's record count tells an engine's worker a slow pass
                    records = events_of(part_benchmarks[0]) if part_benchmarks else 0
                    loops = None  # pyperf calibrates, unless --loops or this run knows them
                    if settings.loops is None and again:  # the same benchmark: its loops
                        loops = round(part_benchmarks[0].get_loops())
                    elif settings.loops is None:
                        loops = _known_loops(loaded.get(engine), path, records, settings)
                    bench = _measure(path, engine, name, part, settings, records, loops)
                if done:
                    done()
                if again:
                    part_benchmarks[0].add_runs(bench)
                else:
                    part_benchmarks.append(bench)
            share = steal.stolen(ticks, steal.cpu_ticks())
            if share is not None and not counting:  # the host's share while the file was measured
                file_metadata["mbobench_steal"] = round(share, 4)
            for bench in part_benchmarks:  # every run of every benchmark: the same run metadata
                bench.update_metadata(file_metadata)
                engine = bench.get_metadata()["mbobench_engine"]
                if engine in setup_s:
                    bench.update_metadata({"mbobench_setup_seconds": setup_s[engine]})
                if engine in settings.switches:
                    family, label = settings.switches[engine]
                    bench.update_metadata({"mbobench_family": family, "mbobench_switches": label})
            annotate(part_benchmarks, reference)
            benchmarks += part_benchmarks
    return pyperf.BenchmarkSuite(benchmarks)


def interleavable(engines: list[str], settings: Settings) -> None:
    """An InputError unless every engine can be measured interleaved (a Python engine, timed)."""
    if settings.measure == "instructions":
        raise InputError("--interleave is for wall time: an instruction count does not drift")
    programs = [e for e in engines if e.startswith(("cmd:", "rust:"))]
    if programs:
        raise InputError(f"--interleave measures Python engines, pass by pass in one process "
                         f"each; {', '.join(programs)} run as programs of their own (measure "
                         "them without --interleave)")  # fmt: skip


def _interleaved(path: Path, engines: list[str], settings: Settings,
                 on_start: Started | None) -> list:  # fmt: skip
    """The ceiling and the engines on `path`, pass by pass in turn (harness.measure.interleave)."""
    from harness.measure import interleave

    env = worker_env()
    keys = [CEILING, *engines]
    sides = [interleave.Side(key, key, env=env) for key in keys]
    labels = {key: f"{path.name}/{key}" for key in keys}
    started = None
    if on_start:
        n = len(keys)

        def started(what: str):
            return on_start(f"{path.name}: {n} benchmarks interleaved, {what}")

    found = interleave.measure(path, sides, labels, settings, started)
    return [found[key] for key in keys]


def default_reference(engines: list[str], given: str | None = None) -> str:
    """The engine every digest is held to: the one given, else baseline when it is measured,
    else the first."""
    return given or (BASELINE if BASELINE in engines else engines[0])


def run_metadata(settings: Settings, reference: str) -> dict:
    """What every benchmark of a run carries: mbobench's version and commit, the machine, the
    commit of the engines under test and its time, the reference engine, the preset."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        own_version = version("mbobench")
    except PackageNotFoundError:
        own_version = "unknown"
    metadata = {
        "mbobench_version": own_version,
        "mbobench_machine": machine_name(),
        "mbobench_reference": reference,
        "mbobench_preset": settings.preset,
        "mbobench_measure": settings.measure,
    }
    own = _git(Path(__file__).resolve().parent, "rev-parse", "--short=12", "HEAD")
    under_test = settings.commit or _git(Path.cwd(), "rev-parse", "--short=12", "HEAD")
    if own:
        metadata["mbobench_commit"] = own
    if under_test:
        metadata["mbobench_engine_commit"] = under_test
        when = _git(Path.cwd(), "show", "-s", "--format=%ct", under_test)
        if when and when.isdigit():  # the commit's own time, to order a history by
            metadata["mbobench_engine_commit_time"] = int(when)
    return metadata


def machine_name() -> str:
    """The machine a result was measured on: $MBOBENCH_MACHINE, else the host's name. Results of
    two machines are never merged (harness.history)."""
    return os.environ.get("MBOBENCH_MACHINE") or socket.gethostname()


def load_engine_or_fail(spec: str):
    """The engine a spec names, or an InputError that lists the engines there are."""
    from engines import EngineNotFound, available_engines, load_engine

    try:
        return load_engine(spec)
    except EngineNotFound as exc:
        names = ", ".join(available_engines())
        raise InputError(f"{exc}; available engines: {names}") from None


def _known_loops(engine, path: Path, records: int, settings: Settings) -> int | None:
    """1 for an engine whose pass takes well over pyperf's minimum time a value (0.1 s), which is
    what pyperf's calibration would find, a process and a pass later; else None (calibrate).
    Judged by the engine's run over a prefix of the file, here; a run that fails here is left
    to the worker to report."""
    from harness.measure.prefix import pass_estimate

    if engine is None or not records:
        return None
    try:
        estimate = pass_estimate(lambda chunks: engine.run(chunks, settings.strict), path,
                                 settings.chunk_records, records, tries=3)  # fmt: skip
    except Exception:  # noqa: BLE001 - the worker says what it is, with the record
        return None
    return 1 if estimate >= UNCALIBRATED_PASS_S else None


def _measure(path: Path, engine: str, label: str, part: Path, settings: Settings,
             records: int = 0, loops: int | None = None):  # fmt: skip
    import pyperf

    template = _template(engine, settings)
    if template is not None:
        from harness.measure.command import measure_command

        return measure_command(template, path, label, part, settings, name=engine)
    cmd = [sys.executable, "-m", "harness.measure.worker", "--engine", engine, "--input", str(path),
           "--name", label, "--chunk-records", str(settings.chunk_records), "--quiet",
           "-o", str(part), *settings.pyperf_args()]  # fmt: skip
    if settings.strict:
        cmd.append("--strict")
    if settings.values is None:  # a slow engine's values a process, unless --values was given
        cmd += ["--slow-values", str(SLOW_VALUES)]
    if records:
        cmd += ["--records", str(records)]
    if loops:  # known to the runner (--loops itself is in pyperf_args)
        cmd += ["--loops", str(loops)]
    proc = processes.run(cmd, env=worker_env())
    if proc.returncode != 0:
        raise InputError(reported(proc.stderr, f"{label}: the benchmark failed"))
    return pyperf.Benchmark.load(str(part))


def _template(engine: str, settings: Settings) -> str | None:
    """The command template of a `cmd:` or `rust:` engine; None for a Python one."""
    if engine.startswith("rust:"):
        return rust.template(engine[5:], settings.strict)
    return engine[4:] if engine.startswith("cmd:") else None


def annotate(benchmarks: list, reference_engine: str) -> None:
    """Per benchmark: its digest and whether it is the reference's; events; the ceiling; memory."""
    ceiling = next(b for b in benchmarks if b.get_metadata()["mbobench_engine"] == CEILING)
    baseline = next((b for b in benchmarks
                     if b.get_metadata()["mbobench_engine"] == reference_engine), None)  # fmt: skip
    reference = run_value(baseline, "mbobench_digest") if baseline else None
    ceiling_eps = events_of(ceiling) / ceiling.mean()
    for bench in benchmarks:
        extra: dict = {"mbobench_ceiling_events_per_s": ceiling_eps}
        digests = {run.get_metadata().get("mbobench_digest") for run in bench.get_runs()
                   if run.values} - {None}  # fmt: skip
        if not digests and "mbobench_digest" in bench.get_metadata():  # a command engine's
            digests = {bench.get_metadata()["mbobench_digest"]}
        if len(digests) > 1:
            extra["mbobench_digest_ok"] = "no"  # the engine is not even deterministic
        elif digests:
            digest = digests.pop()
            extra["mbobench_digest"] = digest
            if reference is not None:
                extra["mbobench_digest_ok"] = "yes" if digest == reference else "no"
        peaks = [run.get_metadata().get("mbobench_peak_rss", 0) for run in bench.get_runs()]
        if any(peaks):
            extra["mbobench_peak_rss"] = max(peaks)
        bench.update_metadata(extra)


def write_suite(suite, path: Path, force: bool = False) -> Path:
    """Dump a pyperf suite to a temporary file beside `path`, then rename it into place."""
    if path.exists() and not force:
        raise InputError(f"{path}: already exists (use --force to replace it)")
    with replaced(path) as tmp:
        suite.dump(str(tmp), replace=True)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def reset_peak_rss() -> None:
    """Start a new RSS high-water mark for this process (Linux: /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss() -> int | None:
    """This process's RSS high-water mark since the last reset, in bytes (VmHWM)."""
    return processes.high_water() or None


def worker_env() -> dict:
    """The environment for pyperf: our packages importable from wherever mbobench runs.

    The workers import `engines` and `harness` from where this process did, first (in a clone
    of the project with mbobench installed, the working directory holds copies of them: the
    workers would otherwise compile the kernels again, into another numba cache, and count that
    compilation in their peak memory), then a user's modules from the working directory."""
    env = dict(os.environ)
    env["PYTHONSAFEPATH"] = "1"  # `python -m` would put the working directory first
    here = str(Path(__file__).resolve().parents[2])  # the folder that holds harness/
    paths = [here, os.getcwd()] + env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _git(folder: Path, *args: str) -> str | None:
    """A git command's output in the repository that holds `folder`; None outside one."""
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, cwd=folder,
                              timeout=10)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None
