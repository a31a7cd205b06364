"""The contract every post-analysis stage implements (enrich, remember, analytics, character)."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from pipelines.event import Event


@runtime_checkable
class Stage(Protocol):
    """A pipeline stage. The runtime calls ``process`` with batches in arrival order, one batch at
    a time, so a stage sees each channel's messages in order. A stage may fill in fields of
    ``event.record``. Blocking work (disk, FAISS, model calls) must go to a thread with
    ``asyncio.to_thread`` so the event loop never blocks."""

    name: str

    async def start(self) -> None: ...

    async def process(self, events: list[Event]) -> None: ...

    async def stop(self) -> None: ...
