"""A command engine for the tests: mbobench's lockless engine, run as a program of its own.

python cmd_engine.py FILE [--fail | --garbage]
"""

import json
import sys

from engines.lockless import LocklessEngine
from harness.dbn.reader import Reader

if "--fail" in sys.argv:
    sys.exit("cannot open the market")
result = LocklessEngine().run(Reader(sys.argv[1]))
if "--garbage" in sys.argv:
    print("done, thanks")
else:
    print(json.dumps({"events": result.events, "digest": result.digest}))
