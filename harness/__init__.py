"""mbobench's harness: the pipeline that reads DBN files, measures engines, judges results.

One sub-package per stage, in the order they may import each other (a stage imports only the
stages before it; `engines` never imports `harness`):

1. `dbn`: the DBN MBO format. Reads `.dbn` and `.dbn.zst` files into validated chunks of
   records (and reads them ahead on a native thread), writes them.
2. `datasets`: data sets made from other data. The synthetic generator, the LOBSTER import and
   the embedded default file, all written as DBN.
3. `results`: the result file and what is computed from it alone. The file's format (a pyperf
   suite with mbobench's metadata), compare, the gate's verdicts, the attribution by Shapley
   values, the profile categories. It comes before `measure` because measuring writes the
   format that this stage defines.
4. `measure`: running engines. The pyperf worker, the runner of a suite, the reading ceiling,
   command engines, the settings, the profilers; it hands on result files (and profiles).
5. `history`: results across commits and machines. The results store, the series it holds in
   commit order and their change points, the suite measured at past commits, and bisect.
6. `cluster`: a suite's benchmarks as tasks of a Dask cluster, one at a time a machine, and
   their results gathered into one.
7. `render`: what a person reads. Terminal tables, markdown, and the HTML report, from result
   files and the store only (the report imports no engine, no reader and no numba).

At the top: `cli` (the parser and `main`, the one place that prints errors and exits),
`commands` and `history_commands` (what each command does), `errors` and `atomicfile` (used by
every stage).
`tests/test_layout.py` holds the tree to this order.
"""
