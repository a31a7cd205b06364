"""Moderator deletions (Twitch CLEARMSG/CLEARCHAT, Discord deletes and bans) applied to memory,
including for messages still in the pipeline when the deletion arrives.

A deletion is applied at once to what memory already holds. Because a deletion can overtake its
message (it skips the analysis queue), it is also kept as a tombstone for ``ttl_s``; the stage,
placed right after the memory stage, forgets any message that matches a tombstone as it passes.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Callable

from pipelines.event import Event

log = logging.getLogger(__name__)


class ForgetStage:
    name = "forget"

    def __init__(self, memory: Any, ttl_s: float = 120.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.memory = memory
        self.ttl_s = ttl_s
        self.clock = clock
        self._msg_ids: OrderedDict[str, float] = OrderedDict()
        self._users: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self.forgotten = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def forget_message(self, message_id: str) -> bool:
        """Forget one message now, and again if it is still on its way."""
        self._msg_ids[message_id] = self.clock()
        removed = await asyncio.to_thread(self.memory.forget_message, message_id)
        self.forgotten += int(bool(removed))
        return bool(removed)

    async def forget_user(self, channel: str, user: str, until_ts: float | None = None) -> int:
        """Forget a user's messages in a channel (a ban or timeout), including in-flight ones
        sent up to ``until_ts`` (message time; default: now)."""
        key = (channel.lower().lstrip("#"), user.lower())
        self._users[key] = (self.clock(), until_ts if until_ts is not None else time.time())
        n = await asyncio.to_thread(self.memory.forget_user_in_channel, channel, user)
        self.forgotten += n
        return n

    def _expire(self) -> None:
        horizon = self.clock() - self.ttl_s
        while self._msg_ids and next(iter(self._msg_ids.values())) < horizon:
            self._msg_ids.popitem(last=False)
        while self._users and next(iter(self._users.values()))[0] < horizon:
            self._users.popitem(last=False)

    async def process(self, events: list[Event]) -> None:
        self._expire()
        if not self._msg_ids and not self._users:
            return
        for ev in events:
            msg = ev.message
            user_key = (msg.channel.lower().lstrip("#"), msg.user.lower())
            banned = self._users.get(user_key)
            if msg.id in self._msg_ids or (banned is not None and msg.ts <= banned[1]):
                if await asyncio.to_thread(self.memory.forget_message, msg.id):
                    self.forgotten += 1
                ev.record.memory.stored = False
                ev.record.memory.tier = None
                log.info("forgot in-flight message %s from %s", msg.id, msg.user)
