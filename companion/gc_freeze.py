"""Keep Python's cyclic garbage collector off the event loop's critical path.

A full collection walks every tracked object. With the models loaded that is ~1.2M blocks and a
pass costs ~160 ms on the 2-core VM; the 10-minute soak's heap reached 5M blocks and its loop-lag
peaks (853 ms) grew with it. Everything alive after start-up (models, lexicons, gazetteers) and,
later, every long-lived survivor (memories' and viewers' state) is moved to the permanent
generation with ``gc.freeze``: the collector no longer scans it, while reference counting still
frees it as usual. The cost: a reference cycle among frozen objects that becomes garbage is never
collected (the engine's long-lived state does not form such cycles; short-lived cycles die young,
before a freeze reaches them, because each freeze first collects the young generations).
"""
from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_startup() -> int:
    """One full collection, then freeze everything alive (call once, after the models load).
    Returns the number of frozen objects."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    n = gc.get_freeze_count()
    log.info("gc: froze %d start-up objects in %.0f ms", n, (time.perf_counter() - started) * 1000)
    return n


def freeze_survivors() -> int:
    """Collect the young generations (cheap), then freeze what survived them, so the old
    generation a full collection walks stays small. Returns the frozen count."""
    gc.collect(1)
    gc.freeze()
    return gc.get_freeze_count()
