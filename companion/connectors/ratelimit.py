"""Sliding-window rate limiting with an injectable clock, for Twitch's chat and join limits.

Twitch counts messages in a rolling window (20 per 30 s for a regular account, 100 per 30 s where
the bot is moderator or broadcaster; 20 JOINs per 10 s). Going over gets the account silenced for
30 minutes, so the limiter waits instead of sending, and never drops.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

TWITCH_CHAT_WINDOW_S = 30.0
TWITCH_CHAT_LIMIT = 20
TWITCH_CHAT_LIMIT_PRIVILEGED = 100
TWITCH_JOIN_WINDOW_S = 10.0
TWITCH_JOIN_LIMIT = 20


class SlidingWindowLimiter:
    """At most ``limit`` acquisitions in any ``window`` seconds.

    ``clock`` and ``sleep`` are injectable so tests can run a burst on a fake clock. ``limit`` may
    be changed at run time (Twitch raises it when the bot becomes a moderator).
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        margin: float = 0.0,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        # Extra seconds added to each wait, because Twitch's server clock is not ours.
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _prune(self, now: float) -> None:
        while self._stamps and now - self._stamps[0] >= self.window:
            self._stamps.popleft()

    def delay(self, limit: int | None = None) -> float:
        """Seconds to wait before the next acquisition would be allowed (0 when allowed now).

        ``limit`` overrides the default for this call: one account-wide window where some
        channels allow more (Twitch: 100 where the bot moderates, 20 elsewhere)."""
        limit = limit or self.limit
        now = self._clock()
        self._prune(now)
        if len(self._stamps) < limit:
            return 0.0
        # The oldest stamp that must expire for one slot to free up.
        oldest = self._stamps[len(self._stamps) - limit]
        return max(0.0, oldest + self.window - now) + self.margin

    def in_window(self) -> int:
        """How many acquisitions the current window holds."""
        self._prune(self._clock())
        return len(self._stamps)

    def try_acquire(self, limit: int | None = None) -> bool:
        """Take a slot now if one is free."""
        if self.delay(limit) > 0:
            return False
        self._stamps.append(self._clock())
        return True

    async def acquire(self, limit: int | None = None) -> float:
        """Wait until a slot is free, take it, and return how long was waited. FIFO among waiters."""
        waited = 0.0
        async with self._lock:
            while True:
                d = self.delay(limit)
                if d <= 0:
                    self._stamps.append(self._clock())
                    return waited
                await self._sleep(d)
                waited += d
