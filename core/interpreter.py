"""The interpreter's settings in a serving process (`make run`, gunicorn's workers): its
cyclic garbage collector and how often it makes a thread hand over the GIL.

- The collector. With its defaults (a young collection every 700 new containers, an older one
  every 10 of those), a request of POST /event, which makes a few thousand dicts and lists and
  keeps few, sets off a young collection every few dozen requests and a full one, which walks
  every object of the process, every few thousand; the embedded default keeps all its data in
  the process, so a full collection walks all of it. What exists once the app is loaded
  (modules, the app, seeded data) is frozen out of every collection, and collections come less
  often. Nothing in Laurel relies on the collector to free its data (no cycles hold it), and
  cycles made later are still collected, a little later.
- The switch interval. A thread that wants the GIL asks the holder to hand it over after
  SWITCH_INTERVAL seconds (Python's default: 5 ms). In the threaded server one request takes
  one to two milliseconds of Python between its reads and writes of the socket, so with many
  requests at once the default hands the GIL over in the middle of requests, and each thread
  then finds its data gone from the processor's caches. A longer interval lets a request run
  on to its next read or write, where it gives the GIL up anyway. It matters in `make run`'s
  threaded server; gunicorn's gevent workers run their requests as greenlets of one thread.
  The price: while a long piece of Python holds the GIL (one of `make run`'s scheduled jobs,
  a report run or a leaderboard rebuild, on its own thread), a request waits up to 20 ms
  instead of 5 for each turn.

Measured: docs/scaling.md, "The interpreter of a serving process".
"""

from __future__ import annotations

import gc
import sys

YOUNG = 5000  # new containers between young collections (Python's default: 700)
OLDER = 20  # collections of a generation between two of the next one (default: 10)
SWITCH_INTERVAL = 0.02  # seconds (Python's default: 0.005)


def settle() -> None:
    """Call once the app is loaded: collect once, freeze what is left out of later
    collections, space collections out, and lengthen the switch interval."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
    sys.setswitchinterval(SWITCH_INTERVAL)
