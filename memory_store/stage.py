"""The pipeline's "remember" stage: hands each batch to :meth:`MemoryStore.remember` in a worker
thread so the event loop never waits on LMDB's fsync or FAISS."""
from __future__ import annotations

import asyncio
import logging

from memory_store.store import MemoryStore
from pipelines.event import Event

log = logging.getLogger(__name__)


class RememberStage:
    """Implements :class:`pipelines.stage.Stage`."""

    name = "remember"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.errors = 0

    async def start(self) -> None:
        return None

    async def process(self, events: list[Event]) -> None:
        try:
            await asyncio.to_thread(self.store.remember, events)
        except Exception:  # a storage failure is logged and counted; the records still flow on
            self.errors += 1
            log.exception("remember stage failed on a batch of %d", len(events))

    async def stop(self) -> None:
        await asyncio.to_thread(self.store.close_episodes)
