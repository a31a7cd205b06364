"""In-process publish/subscribe for the engine's outputs (records, recommendations, alerts, mood).

A slow subscriber never stalls a publisher: each subscription has its own bounded queue, and when
it is full the oldest item is dropped and counted on that subscription (``dropped``). Consumers
that only want the latest state (the dashboard) read with ``maxsize=1``.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, AsyncIterator


class Subscription:
    """One subscriber's bounded view of a topic. Iterate it with ``async for``."""

    def __init__(self, bus: "Bus", topic: str, maxsize: int) -> None:
        self._bus = bus
        self.topic = topic
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def _offer(self, item: Any) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)

    async def get(self) -> Any:
        return await self.queue.get()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Any]:
        try:
            while not self.closed:
                yield await self.queue.get()
        finally:
            self.close()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus:
    """Topic fan-out. ``publish`` is synchronous and O(subscribers); call it from the loop thread
    (use :meth:`publish_threadsafe` from worker threads)."""

    def __init__(self) -> None:
        self._subs: dict[str, list[Subscription]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published: dict[str, int] = defaultdict(int)

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, topic: str, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, topic, maxsize)
        self._subs[topic].append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)

    def publish(self, topic: str, item: Any) -> None:
        self.published[topic] += 1
        for sub in list(self._subs.get(topic, ())):
            sub._offer(item)

    def publish_threadsafe(self, topic: str, item: Any) -> None:
        if self._loop is None:
            self.publish(topic, item)
        else:
            self._loop.call_soon_threadsafe(self.publish, topic, item)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subs.get(topic, ()))
