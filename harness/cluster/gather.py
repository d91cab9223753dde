"""The benchmarks of a cluster's tasks made one result, as a local run makes it.

Each task measured the reading ceiling and one engine on one machine. The result holds every
engine's benchmark as it came (its ratio is to the ceiling measured beside it, on its machine),
the ceilings of each (file, machine) made one benchmark (`file/ceiling`, or
`file/ceiling@machine` when the file was measured on several machines), and every digest held
to the reference engine's on the same file, as `harness.measure.runner` does for a local run.
"""

from __future__ import annotations

from harness.results.resultfile import CEILING, events_of, run_value


def gather(texts: list[str], reference: str):
    """A pyperf BenchmarkSuite of the tasks' result files (their JSON text)."""
    import pyperf

    ceilings: dict[tuple, object] = {}
    engines = []
    for text in texts:
        for bench in pyperf.BenchmarkSuite.loads(text).get_benchmarks():
            meta = bench.get_metadata()
            if meta["mbobench_engine"] != CEILING:
                engines.append(bench)
                continue
            key = (meta["mbobench_file"], run_value(bench, "mbobench_machine"))
            if key in ceilings:
                ceilings[key].add_runs(bench)
            else:
                ceilings[key] = bench
    machines: dict[str, set] = {}
    for file, machine in ceilings:
        machines.setdefault(file, set()).add(machine)
    for (file, machine), bench in ceilings.items():
        update = {
            "mbobench_ceiling_events_per_s": events_of(bench) / bench.mean(),
            "mbobench_reference": reference,  # the run's, not the task's own
        }
        if len(machines[file]) > 1:
            update["name"] = f"{bench.get_name()}@{machine}"
        bench.update_metadata(update)
    digests = {}
    for bench in engines:
        meta = bench.get_metadata()
        if meta["mbobench_engine"] == reference and "mbobench_digest" in meta:
            digests[meta["mbobench_file"]] = meta["mbobench_digest"]
    for bench in engines:
        meta = bench.get_metadata()
        expected = digests.get(meta["mbobench_file"])
        update = {"mbobench_reference": reference}
        if expected is not None and "mbobench_digest" in meta:
            update["mbobench_digest_ok"] = "yes" if meta["mbobench_digest"] == expected else "no"
        bench.update_metadata(update)
    return pyperf.BenchmarkSuite([*ceilings.values(), *engines])
