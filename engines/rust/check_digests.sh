#!/usr/bin/env bash
# Check mbobench-rust against the Python baseline: every configuration (the 5 phases and all
# 24 points of the switch space) must print the Python baseline's digest, events, event_ends,
# unknown_orders and fills on every test file, with and without --strict, and bad input must
# give Python's one-line message (after its "mbobench: error: " prefix) and exit code 2.
#
#   engines/rust/check_digests.sh [WORKDIR]
#
# WORKDIR (default /tmp/mbobench-rust-check) receives the generated data files. Environment:
#   MBOBENCH_PY_ROOT  the Python project to compare with (default: this crate's project)
#   PYTHON            its interpreter (default: $MBOBENCH_PY_ROOT/.venv/bin/python, else python3)
#   MBOBENCH_SHARED   the shared data (default: $MBOBENCH_PY_ROOT/../shared)
# Exit 0 when everything matched, 1 otherwise.
set -u -o pipefail

CRATE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${MBOBENCH_PY_ROOT:-$(cd "$CRATE/../.." && pwd)}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
SHARED="${MBOBENCH_SHARED:-$ROOT/../shared}"
W="${1:-/tmp/mbobench-rust-check}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$W"

(cd "$CRATE" && cargo build --release --offline -q) || exit 1
BIN="${CARGO_TARGET_DIR:-$CRATE/target}/release/mbobench-rust"
mb() { (cd "$ROOT" && "$PY" -m harness.cli "$@"); }
quiet() { "$@" >&2; }  # the generators print the file they wrote

echo "generating test files in $W" >&2
[ -f "$W/default.dbn.zst" ] || quiet mb data synth --events 500000 --seed 1 --instruments 3 -o "$W/default.dbn.zst"
[ -f "$W/default.dbn" ] || zstd -dcq "$W/default.dbn.zst" > "$W/default.dbn" 2>/dev/null ||
    quiet mb data synth --events 500000 --seed 1 --instruments 3 -o "$W/default.dbn"
[ -f "$W/s2i1.dbn.zst" ] || quiet mb data synth --events 50000 --seed 2 --instruments 1 -o "$W/s2i1.dbn.zst"
[ -f "$W/s7i5.dbn" ] || quiet mb data synth --events 80000 --seed 7 --instruments 5 -o "$W/s7i5.dbn"
[ -f "$W/s42i2.dbn.zst" ] || quiet mb data synth --events 120000 --seed 42 --instruments 2 -o "$W/s42i2.dbn.zst"
LOB="$SHARED/data/lobster"
[ -f "$W/aapl.dbn" ] || quiet mb data import-lobster "$LOB/AAPL_2012-06-21_34200000_57600000_message_10.csv" \
    --book "$LOB/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv" -o "$W/aapl.dbn"
[ -f "$W/amzn.dbn.zst" ] || quiet mb data import-lobster "$LOB/AMZN_2012-06-21_34200000_57600000_message_1.csv" \
    --book "$LOB/AMZN_2012-06-21_34200000_57600000_orderbook_1.csv" -o "$W/amzn.dbn.zst"
DBN="$SHARED/data/dbn"
CME="$DBN/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
"$PY" - "$W" "$CME" <<'EOF' || exit 1
"""The CME session without its snapshot, and the bad files (written once)."""
import os, sys
import numpy as np
from harness.reader import Reader, read_records
from harness.writer import write_dbn
w, cme = sys.argv[1], sys.argv[2]
def once(name, make):
    if not os.path.exists(os.path.join(w, name)):
        make(os.path.join(w, name))
md = Reader(cme).metadata
for suffix in (".dbn", ".dbn.zst"):
    once("cme-nosnap" + suffix, lambda p: write_dbn(p, [read_records(cme)[8725:]], dataset=md.dataset,
         start_ns=md.start, end_ns=md.end or md.start + 1, symbols=list(md.symbols)))
s2 = read_records(os.path.join(w, "s2i1.dbn.zst"))
for v in (1, 2):
    once(f"s2i1.v{v}.dbn", lambda p: write_dbn(p, [s2], dataset="SYNTH", start_ns=0, end_ns=1,
         symbols=["A"], version=v))
d = read_records(os.path.join(w, "default.dbn"))
def variant(field, index, value):
    def make(p):
        x = d.copy()
        x[index][field] = value
        write_dbn(p, [x], dataset="SYNTH", start_ns=0, end_ns=1, symbols=[])
    return make
for suffix in (".dbn", ".dbn.zst"):
    once("actionX" + suffix, variant("action", 7000, ord("X")))
    once("tsbig" + suffix, variant("ts_recv", 12345, 1 << 63))
    once("pricemin" + suffix, variant("price", 23456, -(1 << 63)))
once("sideQ.dbn", variant("side", 9000, ord("Q")))
once("empty.dbn.zst", lambda p: write_dbn(p, [], dataset="EMPTY", start_ns=0, end_ns=1, symbols=[]))
def with_ts_out(p):  # records of 64 bytes: each followed by a ts_out the engines ignore
    from engines.events import MBO_TS_OUT_DTYPE
    src = os.path.join(w, "s7i5.dbn")
    head = bytearray(open(src, "rb").read()[:Reader(src).data_offset])
    head[52] = 1  # the v3 metadata's ts_out
    recs = read_records(src)
    x = np.zeros(len(recs), MBO_TS_OUT_DTYPE)
    for name in recs.dtype.names:
        x[name] = recs[name]
    x["length"], x["ts_out"] = 16, 12345
    data = bytes(head) + x.tobytes()
    if p.endswith(".zst"):
        import zstandard
        data = zstandard.ZstdCompressor().compress(data)
    open(p, "wb").write(data)
once("tsout.dbn", with_ts_out)
once("tsout.dbn.zst", with_ts_out)
once("length.dbn.zst", variant("length", 4100, 12))
raw = open(os.path.join(w, "default.dbn.zst"), "rb").read()
once("trunc.dbn.zst", lambda p: open(p, "wb").write(raw[:5_000_000]))
def flipped(at):
    def make(p):
        b = bytearray(raw)
        for k in range(4):
            b[at + k] ^= 0xFF
        open(p, "wb").write(b)
    return make
once("flip.dbn.zst", flipped(4_000_000))  # decodes, to different records
once("flip2.dbn.zst", flipped(123_457))  # decodes to a bad record
s2raw = open(os.path.join(w, "s2i1.dbn.zst"), "rb").read()
def corrupt(p):  # libzstd detects these 4 bytes
    b = bytearray(s2raw)
    for k in range(4):
        b[570965 + k] ^= 0xFF
    open(p, "wb").write(b)
once("zcorrupt.dbn.zst", corrupt)
once("zgarbage.dbn.zst", lambda p: open(p, "wb").write(s2raw + b"GARBAGE!"))
plain = open(os.path.join(w, "s7i5.dbn"), "rb").read()
once("trunc.dbn", lambda p: open(p, "wb").write(plain[:1_000_010]))
once("metacut.dbn", lambda p: open(p, "wb").write(plain[:100]))
EOF

CONFIGS="baseline direct batch preallocated lockless"
for q in queue ""; do for l in lock batchlock ""; do for a in alloc ""; do for d in dispatch ""; do
    label=$(echo "$q+$l+$a+$d" | tr -s '+' | sed 's/^+//; s/+$//')
    CONFIGS="$CONFIGS ${label:-none}"
done; done; done; done

GOOD="$W/default.dbn.zst $W/default.dbn $W/s2i1.dbn.zst $W/s2i1.v1.dbn $W/s2i1.v2.dbn $W/s7i5.dbn
 $W/s42i2.dbn.zst $CME $W/cme-nosnap.dbn $W/cme-nosnap.dbn.zst $DBN/test_data.mbo.v1.dbn.zst
 $DBN/test_data.mbo.v2.dbn.zst $DBN/test_data.mbo.v3.dbn.zst $DBN/test_data.mbo.v3.dbn
 $DBN/test_data.mbo.dbn $DBN/XNAS.ITCH.test_data.mbo.dbn.zst $DBN/IFEU.IMPACT.test_data.mbo.dbn.zst
 $DBN/GLBX.MDP3.test_data.mbo.dbn.zst $DBN/esh4-glbx-mdp3-20231224.mbo.dbn.zst $W/tsout.dbn
 $W/tsout.dbn.zst $W/empty.dbn.zst $W/aapl.dbn $W/amzn.dbn.zst $W/flip.dbn.zst"
BAD="$W/trunc.dbn.zst $W/flip2.dbn.zst $W/zcorrupt.dbn.zst $W/zgarbage.dbn.zst $W/trunc.dbn
 $W/metacut.dbn $DBN/test_data.mbp-10.dbn $DBN/test_data.mbp-10.v3.dbn.zst $W/actionX.dbn
 $W/actionX.dbn.zst $W/sideQ.dbn $W/length.dbn.zst $W/no-such-file.dbn /etc/hostname"

failed=0
fields='"events": [0-9]*|"event_ends": [0-9]*|"unknown_orders": [0-9]*|"fills": [0-9]*|"digest": "[0-9a-f]*"'
python_line() {  # the Python baseline's fields on a file, in the Rust order
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
from harness.reader import Reader
from engines.baseline import BaselineEngine
from engines.book import UnknownOrder
try:
    r = BaselineEngine().run(Reader(sys.argv[1]), sys.argv[2] == "strict")
except UnknownOrder:
    print("strict-error")
    sys.exit()
print(json.dumps({"events": r.events, "event_ends": r.event_ends,
                  "unknown_orders": r.unknown_orders, "fills": r.fills, "digest": r.digest}))
EOF
}
printf '%-34s %-7s %-18s %s\n' FILE MODE "PYTHON DIGEST" "RUST: all $(echo $CONFIGS | wc -w) configurations equal"
for f in $GOOD; do
    for mode in plain strict; do
        want=$(python_line "$f" $mode | grep -oE "$fields" | tr '\n' ' ')
        flag=""; [ $mode = strict ] && flag=--strict
        if [ -z "$want" ]; then  # Python refuses with --strict: compare the messages
            want=$(mb once "$f" --engine baseline --strict 2>&1 >/dev/null | sed 's/^mbobench: error: //')
        fi
        ok=yes
        for c in $CONFIGS; do
            got=$("$BIN" --engine "$c" $flag "$f" 2>&1 | sed 's/^mbobench-rust: error: //')
            got_fields=$(echo "$got" | grep -oE "$fields" | tr '\n' ' ')
            if [ "$got_fields" != "$want" ] && [ "$got" != "$want" ]; then
                ok=no; failed=1
                echo "MISMATCH $c $mode $f: python [$want] rust [$got]" >&2
            fi
        done
        printf '%-34s %-7s %-18s %s\n' "$(basename "$f")" $mode \
            "$(echo "$want" | grep -oE '[0-9a-f]{16}' || echo error)" $ok
    done
done

echo; echo "bad input: Python's message and exit code 2, for every phase"
for f in $BAD; do
    want=$(mb once "$f" --engine baseline 2>&1 >/dev/null | tail -1 | sed 's/^mbobench: error: //')
    ok=yes
    for c in baseline direct batch preallocated lockless; do
        got=$("$BIN" --engine "$c" "$f" 2>&1 >/dev/null | sed 's/^mbobench-rust: error: //')
        "$BIN" --engine "$c" "$f" >/dev/null 2>&1
        rc=$?
        if [ "$got" != "$want" ] || [ $rc != 2 ]; then ok=no; failed=1; echo "MISMATCH $c $f: [$want] [$got] rc $rc" >&2; fi
    done
    printf '%-28s %-4s %s\n' "$(basename "$f")" $ok "$want"
done

echo; echo "rules the Python reader gets in the same change (expected messages):"
for f in $W/tsbig.dbn $W/tsbig.dbn.zst $W/pricemin.dbn $W/pricemin.dbn.zst; do
    case $f in
        *tsbig*) want="$f: record 12345: ts_recv 9223372036854775808 is beyond 2^63-1 ns" ;;
        *) want="$f: record 23456: price -9223372036854775808 is not a price" ;;
    esac
    got=$("$BIN" --engine lockless "$f" 2>&1 | sed 's/^mbobench-rust: error: //')
    [ "$got" = "$want" ] && ok=yes || { ok=no; failed=1; }
    printf '%-28s %-4s %s\n' "$(basename "$f")" $ok "$got"
done
exit $failed
