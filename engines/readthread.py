"""Reading ahead on a thread: the next chunks are read while the current one is processed.

Decompression (zstandard) and the reader's validation kernel release the GIL, and so does the
compiled engine's kernel (`nogil=True`): on two cores, reading and processing then overlap.
Exceptions from the reader (a truncated file, a bad record) are raised in the consumer, in
order, after the chunks read before them.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator

import numpy as np

# The profile category of this module's functions (harness/results/categories.py).
COSTS = {"*": "reading"}


_END = object()


# MBOBENCH_READ_AHEAD=0: read on the engine's own thread, everywhere (counting instructions
# under Valgrind, which runs one thread at a time: a thread waiting on another would count its
# waiting).
READ_AHEAD = os.environ.get("MBOBENCH_READ_AHEAD", "1") != "0"


def read_on_thread(chunks: Iterable[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """Yield the chunks of `chunks`, read up to `depth` ahead on a background thread (or on
    this one, without READ_AHEAD)."""
    if not READ_AHEAD:
        yield from chunks
        return
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ahead.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            ahead.put(exc)

    reader = threading.Thread(target=read, name="mbobench-readthread", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
