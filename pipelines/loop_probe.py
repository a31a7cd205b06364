"""A loop-lag probe: a task that sleeps a fixed interval and measures how late it wakes up.

Any callback that blocks the event loop (a lock taken on the loop thread, a synchronous disk
write, a long computation) shows up here as wake-up delay, whatever code caused it.
"""
from __future__ import annotations

import asyncio
import time

from pipelines.metrics import Metrics


async def probe_loop_lag(metrics: Metrics, interval_s: float = 0.05) -> None:
    """Run until cancelled, feeding :meth:`Metrics.observe_loop_lag` every ``interval_s``."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(interval_s)
        metrics.observe_loop_lag(max(0.0, time.perf_counter() - started - interval_s))
