"""Suites on a Dask cluster: `task` is what a worker runs (one benchmark: the reading ceiling and
one engine, on one file, at one commit, on the worker's machine); `client` submits a suite's
benchmarks to a scheduler, one at a time a machine, shows their progress and gathers them;
`gather` makes the benchmarks one result. Takes the suite (files, engines, commits); hands on
result files, for the store and `render`."""
