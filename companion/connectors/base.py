"""The interface every chat connector implements, and the typed control events it may yield.

A connector is an async iterator: the engine does ``async for item in source`` and gets either a
:class:`~companion.messages.ChatMessage` or a :class:`SourceNotice` (moderation, room state, server
notices). Parsing lives in pure modules (``irc_parse``, ``twitch_convert``, ``discord_convert``); the
client modules only own the connection.
"""
from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import asdict, dataclass, field
from typing import AsyncIterator, Callable, Protocol, Union, runtime_checkable

from companion.messages import ChatMessage

# A guard inspects outgoing text and returns a reason to block it, or None to let it through.
SendGuard = Callable[[str], Union[str, None]]


@dataclass(slots=True)
class SourceStats:
    """Counters a connector keeps; exported to metrics and ``engine.state()``."""

    received: int = 0  # raw lines/events read from the platform
    parsed: int = 0  # turned into a ChatMessage
    notices: int = 0  # turned into a SourceNotice (moderation, room state, ...)
    malformed: int = 0  # could not be parsed; counted and skipped
    ignored: int = 0  # well-formed but of no interest (numerics, JOIN echoes, ...)
    connects: int = 0
    reconnects: int = 0
    pings: int = 0
    sent: int = 0
    send_blocked: int = 0  # refused by the guard
    send_failed: int = 0
    dropped_overflow: int = 0  # never expected: the inbox blocks instead of dropping

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class SourceNotice:
    """A control event from a platform that is not a chat line."""

    platform: str
    channel: str
    ts: float = field(default_factory=time.time)


class ModerationKind(str, enum.Enum):
    CLEARMSG = "clearmsg"  # one message deleted
    CLEARCHAT = "clearchat"  # a user timed out / banned, or the whole chat cleared


@dataclass(slots=True)
class ModerationEvent(SourceNotice):
    """A message or a user's messages were removed by a moderator; the engine forgets them.

    ``clearmsg``: ``target_msg_id`` is set. ``clearchat``: ``target_user`` set for a timeout
    (``duration`` seconds) or a ban (``duration`` None); both None when the whole chat was cleared.
    """

    kind: ModerationKind = ModerationKind.CLEARMSG
    target_msg_id: str | None = None
    target_user: str | None = None
    target_user_id: str | None = None
    duration: int | None = None


@dataclass(slots=True)
class RoomStateEvent(SourceNotice):
    """Chat room settings (Twitch ROOMSTATE). Only the settings present in the update are set."""

    room_id: str | None = None
    emote_only: bool | None = None
    followers_only: int | None = None  # minutes; -1 = off
    r9k: bool | None = None
    slow: int | None = None  # seconds
    subs_only: bool | None = None


@dataclass(slots=True)
class ServerNotice(SourceNotice):
    """A notice from the server (Twitch NOTICE, e.g. a rejected message or a failed login)."""

    msg_id: str | None = None
    text: str = ""


SourceItem = Union[ChatMessage, SourceNotice]


@runtime_checkable
class Source(Protocol):
    """What the engine consumes. ``close()`` must end the iteration promptly."""

    name: str
    stats: SourceStats

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...

    async def close(self) -> None: ...


@runtime_checkable
class ReplySink(Protocol):
    """A source that can also send (``--reply``). Raises :class:`SendBlocked` when the guard
    refuses the text and :class:`SendDisabled` when replies are off; never drops silently."""

    async def send(
        self,
        channel: str,
        text: str,
        *,
        guard: SendGuard | None = None,
        reply_to_id: str | None = None,
    ) -> None: ...


class SendError(RuntimeError):
    """Base class for refused or failed sends."""


class SendDisabled(SendError):
    """Replies are off (no ``--reply``) or the connection is read-only (anonymous)."""


class SendBlocked(SendError):
    """The guard (e.g. the toxicity check) refused the text."""

    def __init__(self, reason: str):
        super().__init__(f"reply blocked: {reason}")
        self.reason = reason


class SendQueueFull(SendError):
    """Too many replies are waiting for the rate limiter; the caller decides what to do."""


async def iterate_inbox(inbox: "asyncio.Queue[SourceItem]", done: asyncio.Event,
                        fatal: Callable[[], BaseException | None]) -> AsyncIterator[SourceItem]:
    """Yield what a connector's background task puts in ``inbox`` until ``done`` is set and the
    inbox is empty; then re-raise the task's fatal error, if any. Shared by the clients that
    read their connection in a task of their own (Twitch, Discord)."""
    while True:
        if not inbox.empty():
            yield inbox.get_nowait()
            continue
        if done.is_set():
            error = fatal()
            if error is not None:
                raise error
            return
        getter = asyncio.ensure_future(inbox.get())
        stopper = asyncio.ensure_future(done.wait())
        try:
            await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            yield getter.result()
