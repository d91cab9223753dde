"""A command engine for the tests: mbobench's lockless engine, run as a program of its own.

python cmd_engine.py FILE [--fail | --garbage | --passes N [--unsteady]]
                          [--queue on|off --lock on|off --alloc on|off --dispatch on|off]

With --passes it speaks the per-pass protocol: N passes, a JSON line after each with its own
elapsed nanoseconds; --unsteady makes the second pass compute another digest. The four switches
run that configuration of the configurable engine instead (as a command engine with switches).
"""

import json
import sys
import time

from engines.lockless import LocklessEngine
from engines.switches import SwitchEngine
from harness.dbn.reader import Reader


def option(name: str) -> bool | None:
    return sys.argv[sys.argv.index(name) + 1] == "on" if name in sys.argv else None


if "--fail" in sys.argv:
    sys.exit("cannot open the market")
passes = int(sys.argv[sys.argv.index("--passes") + 1]) if "--passes" in sys.argv else 0
for i in range(max(passes, 1)):
    start = time.perf_counter_ns()
    if option("--queue") is None:
        engine = LocklessEngine()
    else:
        lock = "event" if option("--lock") else "off"
        engine = SwitchEngine(option("--queue"), lock, option("--alloc"), option("--dispatch"))
    result = engine.run(Reader(sys.argv[1]))
    elapsed_ns = time.perf_counter_ns() - start
    if "--garbage" in sys.argv:
        print("done, thanks")
        continue
    line = {"events": result.events, "digest": result.digest, "fills": result.fills}
    if passes:
        line["elapsed_ns"] = elapsed_ns
        if "--unsteady" in sys.argv and i == 1:
            line["digest"] = "0" * 16
    print(json.dumps(line), flush=True)
