"""The pipeline's "remember" stage: hands each batch to :meth:`MemoryStore.remember` in a worker
thread so the event loop never waits on LMDB's fsync or FAISS."""
from __future__ import annotations

import asyncio
import logging
import time

from memory_store.store import MemoryStore
from pipelines.event import Event

log = logging.getLogger(__name__)

# How stale the store statistics behind /api/state may get while messages flow.
STATS_EVERY_S = 1.0
# Backfill only after a batch younger than this (well under the overload policy's 250 ms).
BACKFILL_MAX_AGE_MS = 100.0


class RememberStage:
    """Implements :class:`pipelines.stage.Stage`.

    A failed batch raises: the store has rolled its RAM state back to what LMDB holds, and the
    runtime retries the batch one message at a time, so one bad message costs only its own
    memory. The store statistics are refreshed here, off the loop, for ``Engine.state()``.
    After a batch that was not degraded, memories stored without a vector under load are
    embedded (:meth:`MemoryStore.backfill_vectors`)."""

    name = "remember"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.errors = 0
        self._stats_at = 0.0

    async def start(self) -> None:
        await asyncio.to_thread(self.store.stats)
        self._stats_at = time.monotonic()

    async def process(self, events: list[Event]) -> None:
        try:
            await asyncio.to_thread(self._remember, events)
        except Exception:
            self.errors += 1
            raise
        finally:
            if time.monotonic() - self._stats_at >= STATS_EVERY_S:
                self._stats_at = time.monotonic()
                await asyncio.to_thread(self.store.stats)

    def _remember(self, events: list[Event]) -> None:
        self.store.remember(events)
        # Spare time only: a batch that went deep and is still young means the pipeline has
        # caught up, so embed some of what was stored without a vector while it was degraded.
        if (self.store.vector_backlog and events and not any(e.record.degraded for e in events)
                and (time.perf_counter() - min(e.message.received_at for e in events)) * 1000 < BACKFILL_MAX_AGE_MS):
            self.store.backfill_vectors()

    async def stop(self) -> None:
        await asyncio.to_thread(self.store.close_episodes)
        await asyncio.to_thread(self.store.stats)
