"""The contract every post-analysis stage implements (enrich, remember, analytics, character)."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from pipelines.event import Event


class MessageErrors(Exception):
    """Raised by a stage after a batch: everything was applied except these events."""

    def __init__(self, failures: list[tuple[Event, BaseException]]) -> None:
        super().__init__(f"{len(failures)} message(s) failed: "
                         + "; ".join(f"{ev.message.id}: {exc!r}" for ev, exc in failures[:3]))
        self.failures = failures


@runtime_checkable
class Stage(Protocol):
    """A pipeline stage. The runtime calls ``process`` with batches in arrival order, one batch at
    a time, so a stage sees each channel's messages in order. A stage may fill in fields of
    ``event.record``. Blocking work (disk, FAISS, model calls) must go to a thread with
    ``asyncio.to_thread`` so the event loop never blocks.

    Failure contract (one bad message costs only itself): when ``process`` raises, the runtime
    assumes the batch was applied not at all and retries it one message at a time, so a stage
    must either apply a batch atomically (the memory store rolls back) or, when it works message
    by message, catch per message and raise :class:`MessageErrors` after the batch, naming only
    the messages it skipped (the runtime then counts them and does not retry)."""

    name: str
    # A stage that only reads records (the character) may set ``follows_publish = True``: it then
    # runs after the record is published, so its time is not in the record's latency.

    async def start(self) -> None: ...

    async def process(self, events: list[Event]) -> None: ...

    async def stop(self) -> None: ...
