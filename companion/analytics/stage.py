"""The analytics stage of the pipeline: counts each batch, ticks, refits and saves on a timer."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from pipelines.event import Event

from .analytics import Analytics

log = logging.getLogger(__name__)


class AnalyticsStage:
    """Implements :class:`pipelines.stage.Stage` around an :class:`Analytics`.

    ``process`` only updates counters (microseconds per message); a timer task ages the windows
    every ``tick_s``, starts background forecast refits and saves the state off the loop.
    """

    name = "analytics"

    def __init__(self, analytics: Analytics, tick_s: float = 1.0) -> None:
        self.analytics = analytics
        self.tick_s = tick_s
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self.analytics.bus is not None:
            self.analytics.bus.bind_loop(asyncio.get_running_loop())
        if self._task is None:
            self._task = asyncio.create_task(self._timer(), name="analytics-timer")

    async def process(self, events: list[Event]) -> None:
        self.analytics.ingest(events)

    async def _timer(self) -> None:
        an = self.analytics
        last_save = an.clock()
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                an.tick()
                an.maybe_refit()
                if an.clock() - last_save >= an.save_s:
                    last_save = an.clock()
                    await an.save_async()
            except Exception:  # the timer must outlive one bad tick
                log.exception("analytics tick failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.analytics.save_async()
        self.analytics.close()
