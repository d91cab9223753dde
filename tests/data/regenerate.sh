#!/usr/bin/env bash
# Remake the committed result files that the gate, compare and report tests read (real runs of
# real engines on generated data; their figures are this machine's). Run from the project root:
#   bash tests/data/regenerate.sh
set -euo pipefail
out=tests/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mb() { python -m harness.cli "$@"; }
quick=(--processes 1 --values 1 --loops 1)
short=(--processes 2 --values 3)
mb data synth --events 60000 --seed 5 -o "$tmp/g.dbn" >/dev/null
mb data synth --events 3000 --seed 6 -o "$tmp/other.dbn" >/dev/null
# The gate's three runs of one file: the slowed engine with no extra work, the same again, and
# 60% extra work; and a run of another file.
for run in a:0 a2:0 slow:0.6; do
    MBOBENCH_SLOWDOWN=${run#*:} mb run "$tmp/g.dbn" --engine baseline \
        --engine benchmarks.slowed:SlowedEngine -q "${short[@]}" -o "$out/gate-${run%%:*}.json" --force
done
mb run "$tmp/other.dbn" --engine baseline --engine benchmarks.slowed:SlowedEngine -q "${quick[@]}" \
    -o "$out/gate-other.json" --force
# The report's inputs: two runs of one file (a history), a newer run of another file with one
# engine, and an attribution.
mb data synth --events 6000 --seed 9 -o "$tmp/r.dbn" >/dev/null
for i in 0 1; do
    mb run "$tmp/r.dbn" --engine baseline --engine direct --engine lockless --engine compiled -q \
        "${quick[@]}" -o "$out/report-run$i.json" --force
done
mb run "$tmp/other.dbn" --engine compiled -q "${quick[@]}" -o "$out/report-other.json" --force
mb attribute "$tmp/r.dbn" -q "${quick[@]}" -o "$out/report-attribution.json" --force >/dev/null
