"""Python's cyclic garbage collector paused around work that allocates millions of objects and frees none.

Each collection walks every live object; with several models of thousands of resources alive, the collector's
passes while models are unpickled or compared cost more than the work (bench/bench_scale.py). Nothing changes
but time: reference counting still frees what it can, and the next collection after ``paused()`` runs as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
