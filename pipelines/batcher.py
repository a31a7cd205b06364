"""Micro-batching: gather items from a queue until the batch is full or a deadline passes."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# Put on a queue to tell its consumer that no more items will come.
END = object()


@dataclass(slots=True)
class Batch(Generic[T]):
    items: list[T]
    opened_at: float  # perf_counter when the first item was taken
    last: bool = False  # True when the input queue has ended after this batch


class MicroBatcher(Generic[T]):
    """Reads ``queue`` and yields batches of at most ``max_size`` items.

    A batch is flushed when it is full or ``deadline_ms`` after its first item arrived, whichever
    comes first; an idle queue never produces empty batches. Items already waiting are taken
    without awaiting, so under load batches fill at once and the deadline costs nothing.
    """

    def __init__(self, queue: asyncio.Queue, max_size: int = 64, deadline_ms: float = 10.0) -> None:
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        if deadline_ms < 0:
            raise ValueError("deadline_ms must be >= 0")
        self.queue = queue
        self.max_size = max_size
        self.deadline_s = deadline_ms / 1000.0
        self._ended = False

    async def next_batch(self) -> Batch[T] | None:
        """The next batch, or ``None`` once the queue has delivered ``END`` and is empty."""
        if self._ended:
            return None
        first = await self.queue.get()
        if first is END:
            self._ended = True
            return None
        opened = time.perf_counter()
        items: list[T] = [first]
        deadline = opened + self.deadline_s
        while len(items) < self.max_size:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            if item is END:
                self._ended = True
                return Batch(items, opened, last=True)
            items.append(item)
        return Batch(items, opened)
