"""Twitch chat over IRC-on-WebSocket: an async client that owns its connection.

Reading: anonymous (``justinfanNNNNN``) unless ``TWITCH_OAUTH_TOKEN`` and ``TWITCH_NICK`` are set.
Lines are parsed by :mod:`irc_parse` and converted by :mod:`twitch_convert`; this module only keeps
connection state (joined channels, moderator status, limiters) and the reconnect loop.

Sending (``reply=True`` only): queued, rate-limited to Twitch's rules, awaited until written;
a refused or impossible send raises, it is never dropped silently.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import connect as ws_connect

from .backoff import Backoff
from .base import (
    iterate_inbox,
    SendBlocked,
    SendDisabled,
    SendError,
    SendGuard,
    SendQueueFull,
    ServerNotice,
    SourceNotice,
    SourceItem,
    SourceStats,
)
from .outgoing import prepare_outgoing
from .irc_parse import IrcMessage, IrcParseError, format_line, parse_line, split_frame
from .ratelimit import (
    TWITCH_CHAT_LIMIT,
    TWITCH_CHAT_LIMIT_PRIVILEGED,
    TWITCH_CHAT_WINDOW_S,
    TWITCH_JOIN_LIMIT,
    TWITCH_JOIN_WINDOW_S,
    SlidingWindowLimiter,
)
from .redact import RedactingFilter, Secret, redact_line
from .twitch_convert import convert, is_privileged

_log = logging.getLogger(__name__)
# The WebSocket library logs every frame at debug level; its records pass through this filter.
_ws_log = logging.getLogger(__name__ + ".ws")
_ws_redactor = RedactingFilter()
_ws_log.addFilter(_ws_redactor)

DEFAULT_URL = "wss://irc-ws.chat.twitch.tv:443"
CAPABILITIES = "twitch.tv/tags twitch.tv/commands"
MAX_MESSAGE_CHARS = 500  # Twitch's cap on one chat message
_AUTH_FAILURES = ("login authentication failed", "improperly formatted auth", "invalid nick")


class TwitchAuthError(RuntimeError):
    """Twitch refused the credentials; retrying would not help."""


def normalize_channel(name: str) -> str:
    """``#Foo`` -> ``foo``. Raises ValueError on an empty or invalid login."""
    chan = name.strip().lstrip("#").lower()
    if not chan or not all(c.isalnum() or c == "_" for c in chan) or len(chan) > 25:
        raise ValueError(f"invalid Twitch channel name {name!r}")
    return chan


def _cleartext_remote(url: str) -> bool:
    """True for a ``ws://`` URL whose host is not this machine (a token there is sniffable)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "ws":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


@dataclass(slots=True)
class TwitchConfig:
    """Connection settings. ``token`` is a :class:`Secret` so it never shows in a repr or a log."""

    channels: list[str]
    url: str = DEFAULT_URL
    nick: str | None = None
    token: Secret | None = None
    reply: bool = False

    def __post_init__(self) -> None:
        self.channels = list(dict.fromkeys(normalize_channel(c) for c in self.channels))
        if not self.channels:
            raise ValueError("at least one Twitch channel is needed")
        if self.token is not None and not isinstance(self.token, Secret):
            self.token = Secret(str(self.token))
        if self.token and not self.nick:
            raise ValueError("TWITCH_OAUTH_TOKEN needs TWITCH_NICK (the bot account's login)")
        if self.token and _cleartext_remote(self.url):
            raise ValueError("refusing to send TWITCH_OAUTH_TOKEN over cleartext ws:// to a "
                             "non-loopback host; use wss:// (TWITCH_IRC_URL)")

    @property
    def anonymous(self) -> bool:
        return not self.token

    @classmethod
    def from_env(
        cls, channels: list[str], *, reply: bool = False, env: Mapping[str, str] | None = None
    ) -> "TwitchConfig":
        """Read ``TWITCH_OAUTH_TOKEN``, ``TWITCH_NICK`` and ``TWITCH_IRC_URL``."""
        env = os.environ if env is None else env
        token = env.get("TWITCH_OAUTH_TOKEN", "").strip()
        return cls(
            channels=channels,
            url=env.get("TWITCH_IRC_URL", "").strip() or DEFAULT_URL,
            nick=(env.get("TWITCH_NICK", "").strip().lower() or None),
            token=Secret(token) if token else None,
            reply=reply,
        )


@dataclass(slots=True, eq=False)
class _Outgoing:
    channel: str
    chunks: list[str]
    reply_to_id: str | None
    done: asyncio.Future = field(repr=False)

    def abandoned(self) -> bool:
        """The caller gave up (its wait timed out and the dashboard answered 503, which cancels
        ``done``): such a reply must never be sent later."""
        return self.done.done()


class TwitchIRCClient:
    """Read (and optionally write) Twitch chat. Iterate it for ``ChatMessage | SourceNotice``.

    ``connect`` is the WebSocket opener (``websockets.asyncio.client.connect``); ``clock`` stamps
    messages without ``tmi-sent-ts``; ``monotonic``/``sleep`` drive the limiters and backoff.
    """

    name = "twitch"

    def __init__(
        self,
        config: TwitchConfig,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: Backoff | None = None,
        connect: Callable[..., object] = ws_connect,
        inbox_size: int = 10_000,
        send_queue_size: int = 100,
        healthy_after_s: float = 30.0,
        login_timeout_s: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.stats = SourceStats()
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._backoff = backoff or Backoff(base=1.0, cap=60.0)
        self._connect = connect
        self._healthy_after_s = healthy_after_s
        self._login_timeout_s = login_timeout_s
        if config.token and all(s.reveal() != config.token.reveal() for s in _ws_redactor.secrets):
            _ws_redactor.secrets.append(config.token)
        rng = rng or random.Random()
        self.nick = config.nick if not config.anonymous else f"justinfan{rng.randint(10000, 99999)}"
        self._inbox: asyncio.Queue[SourceItem] = asyncio.Queue(maxsize=inbox_size)
        self._outbox: asyncio.Queue[_Outgoing] = asyncio.Queue(maxsize=send_queue_size)
        self.chat_limiter = SlidingWindowLimiter(
            TWITCH_CHAT_LIMIT, TWITCH_CHAT_WINDOW_S, clock=monotonic, sleep=sleep, margin=0.5
        )
        self.join_limiter = SlidingWindowLimiter(
            TWITCH_JOIN_LIMIT, TWITCH_JOIN_WINDOW_S, clock=monotonic, sleep=sleep, margin=0.1
        )
        self.joined: set[str] = set()
        self.privileged: set[str] = set()  # channels where the bot is moderator/broadcaster
        self.connected = asyncio.Event()  # set after the server's 001 welcome
        self._channel_joined: dict[str, asyncio.Event] = {}
        self._ws = None
        self._tasks: list[asyncio.Task] = []
        self._done = asyncio.Event()
        self._closing = False
        self._fatal: BaseException | None = None
        self._reconnect_requested = False

    @classmethod
    def from_env(
        cls, channels: list[str], *, reply: bool = False, env: Mapping[str, str] | None = None, **kw
    ) -> "TwitchIRCClient":
        """A client configured from ``TWITCH_OAUTH_TOKEN``, ``TWITCH_NICK`` and ``TWITCH_IRC_URL``."""
        return cls(TwitchConfig.from_env(channels, reply=reply, env=env), **kw)

    def __repr__(self) -> str:
        return f"TwitchIRCClient(nick={self.nick!r}, channels={self.config.channels!r}, url={self.config.url!r})"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the connection and sender tasks (idempotent; iterating starts it too)."""
        if self._tasks or self._closing:
            return
        self._tasks = [
            asyncio.create_task(self._run(), name="twitch-irc-reader"),
            asyncio.create_task(self._send_loop(), name="twitch-irc-sender"),
        ]

    async def close(self) -> None:
        """Stop reading and sending; pending sends fail with :class:`SendError`. Messages already
        received stay available to the iterator until it drains them."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), timeout=2.0)
            except Exception:  # noqa: BLE001 - shutting down; the socket may already be gone
                pass
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - already logged
                pass
        while not self._outbox.empty():
            item = self._outbox.get_nowait()
            if not item.done.done():
                item.done.set_exception(SendError("connector closed before the message was sent"))
                self.stats.send_failed += 1
        self._done.set()

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SourceItem]:
        await self.start()
        async for item in iterate_inbox(self._inbox, self._done, lambda: self._fatal):
            yield item

    # -- connection loop -------------------------------------------------------------------

    async def _run(self) -> None:
        first = True
        try:
            while not self._closing:
                started = self._monotonic()
                try:
                    async with self._connect(
                        self.config.url, open_timeout=15, close_timeout=2, max_size=2**20, logger=_ws_log
                    ) as ws:
                        self._ws = ws
                        self.stats.connects += 1
                        if not first:
                            self.stats.reconnects += 1
                        first = False
                        await self._session(ws)
                except TwitchAuthError as exc:
                    self._fatal = exc
                    _log.error("twitch: %s", exc)
                    return
                except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                    _log.warning("twitch: connection lost (%s: %s)", type(exc).__name__, exc)
                except Exception:  # noqa: BLE001 - a bug must not end a stream-long run
                    _log.exception("twitch: unexpected error; reconnecting")
                finally:
                    self._ws = None
                    self.connected.clear()
                    self.joined.clear()
                    for ev in self._channel_joined.values():
                        ev.clear()
                if self._closing:
                    return
                if self._reconnect_requested or self._monotonic() - started >= self._healthy_after_s:
                    self._backoff.reset()
                self._reconnect_requested = False
                delay = self._backoff.next_delay()
                _log.info("twitch: reconnecting in %.2fs", delay)
                await self._sleep(delay)
        finally:
            self._done.set()

    async def _session(self, ws) -> None:
        """One connection: log in, join, then read until the socket closes or RECONNECT."""
        await self._write(ws, format_line("CAP", "REQ", CAPABILITIES))
        if self.config.token:
            token = self.config.token.reveal()
            await self._write(ws, "PASS " + (token if token.startswith("oauth:") else "oauth:" + token))
        await self._write(ws, format_line("NICK", self.nick))
        joiner = asyncio.create_task(self._join_all(ws))
        watchdog = asyncio.create_task(self._login_watchdog(ws))
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    try:
                        frame = frame.decode("utf-8")
                    except UnicodeDecodeError:
                        self.stats.received += 1
                        self.stats.malformed += 1
                        continue
                for line in split_frame(frame):
                    if await self._handle_line(ws, line):
                        return
        finally:
            joiner.cancel()
            watchdog.cancel()

    async def _login_watchdog(self, ws) -> None:
        """A server that accepts the socket but never welcomes us is treated as a lost connection."""
        try:
            await asyncio.wait_for(self.connected.wait(), self._login_timeout_s)
        except asyncio.TimeoutError:
            _log.warning("twitch: no welcome within %.0fs; reconnecting", self._login_timeout_s)
            await ws.close()

    async def _join_all(self, ws) -> None:
        await self.connected.wait()
        for chan in self.config.channels:
            await self.join_limiter.acquire()
            await self._write(ws, format_line("JOIN", "#" + chan))

    async def _handle_line(self, ws, line: str) -> bool:
        """Process one line; True means the server asked us to reconnect."""
        self.stats.received += 1
        try:
            msg = parse_line(line)
        except IrcParseError as exc:
            self.stats.malformed += 1
            _log.debug("twitch: malformed line skipped (%s): %.200r", exc, line)
            return False
        command = msg.command
        if command == "PING":
            self.stats.pings += 1
            await self._write(ws, format_line("PONG", msg.trailing or "tmi.twitch.tv", trailing=True))
            return False
        if command == "RECONNECT":
            _log.info("twitch: server asked to reconnect")
            self._reconnect_requested = True
            return True
        self._track_state(msg)
        try:
            item = convert(msg, self._clock)
        except IrcParseError as exc:
            self.stats.malformed += 1
            _log.debug("twitch: unusable %s skipped (%s)", command, exc)
            return False
        except Exception:  # noqa: BLE001 - one odd line must not cost the connection
            self.stats.malformed += 1
            _log.exception("twitch: could not convert a %s line; skipped", command)
            return False
        if item is None:
            self.stats.ignored += 1
            return False
        if isinstance(item, ServerNotice) and item.channel == "*" and any(
            f in item.text.lower() for f in _AUTH_FAILURES
        ):
            self.stats.notices += 1
            await self._inbox.put(item)
            raise TwitchAuthError(f"Twitch refused the login for {self.nick!r}: {item.text}")
        if isinstance(item, SourceNotice):
            self.stats.notices += 1
        else:
            self.stats.parsed += 1
        # A full inbox blocks reading (TCP backpressure) rather than dropping a message.
        await self._inbox.put(item)
        return False

    def _track_state(self, msg: IrcMessage) -> None:
        command = msg.command
        if command == "001":
            self.connected.set()
        elif command == "CAP" and len(msg.params) >= 2 and msg.params[1] == "NAK":
            _log.warning("twitch: capabilities refused: %s", msg.trailing)
        elif command in ("JOIN", "PART") and msg.channel and (msg.nick or "").lower() == self.nick:
            ev = self._channel_joined.setdefault(msg.channel, asyncio.Event())
            if command == "JOIN":
                self.joined.add(msg.channel)
                ev.set()
            else:
                self.joined.discard(msg.channel)
                ev.clear()
        elif command == "USERSTATE" and msg.channel:
            if is_privileged(msg.tags):
                self.privileged.add(msg.channel)
            else:
                self.privileged.discard(msg.channel)

    async def _write(self, ws, line: str) -> None:
        _log.debug("twitch > %s", redact_line(line))  # plus the redacting filter on _ws_log
        await ws.send(line + "\r\n")

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self,
        channel: str,
        text: str,
        *,
        guard: SendGuard | None = None,
        reply_to_id: str | None = None,
        wait: bool = True,
    ) -> asyncio.Future | None:
        """Queue ``text`` for ``channel``, rate-limited per Twitch's rules.

        ``guard(text)`` returns a reason to refuse (the engine's toxicity check) or None.
        Raises :class:`SendDisabled` (replies off / anonymous), :class:`SendBlocked` (guard),
        :class:`SendQueueFull`, or ValueError (empty text). With ``wait`` (default) it returns once
        every chunk has been written; otherwise it returns the future that completes then.
        """
        if not self.config.reply:
            raise SendDisabled("replies are off; start with --reply to send to chat")
        if self.config.anonymous:
            raise SendDisabled("anonymous Twitch connections are read-only; set TWITCH_OAUTH_TOKEN and TWITCH_NICK")
        chan = normalize_channel(channel)
        if chan not in self.config.channels:
            raise SendError(f"not connected to channel {chan!r}")
        # A leading "/" or "." would be read as a chat command by Twitch.
        stripped = text.strip().lstrip("/.")
        try:
            chunks = prepare_outgoing(stripped, limit=MAX_MESSAGE_CHARS, guard=guard)
        except SendBlocked:
            self.stats.send_blocked += 1
            raise
        item = _Outgoing(chan, chunks, reply_to_id, asyncio.get_running_loop().create_future())
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.send_failed += 1
            raise SendQueueFull(f"{self._outbox.qsize()} replies already waiting") from None
        await self.start()
        if not wait:
            return item.done
        await item.done
        return None

    async def _send_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            try:
                await self._deliver(item)
            except asyncio.CancelledError:
                if not item.done.done():
                    item.done.set_exception(SendError("connector closed before the message was sent"))
                    self.stats.send_failed += 1
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the caller through the future
                self.stats.send_failed += 1
                if not item.done.done():
                    item.done.set_exception(exc)
            else:
                if not item.done.done():
                    item.done.set_result(None)

    async def _deliver(self, item: _Outgoing) -> None:
        tags = {"reply-parent-msg-id": item.reply_to_id} if item.reply_to_id else None
        remaining = list(item.chunks)
        while remaining:
            if item.abandoned():
                self.stats.send_failed += 1
                _log.info("twitch: a reply to #%s was abandoned by its caller; not sent", item.channel)
                return
            ev = self._channel_joined.setdefault(item.channel, asyncio.Event())
            await ev.wait()
            limit = TWITCH_CHAT_LIMIT_PRIVILEGED if item.channel in self.privileged else TWITCH_CHAT_LIMIT
            await self.chat_limiter.acquire(limit)
            if item.abandoned():
                continue  # checked again at the top: never send after the caller's timeout
            ws = self._ws
            if ws is None or not ev.is_set():
                continue  # dropped while waiting: wait for the rejoin, then retry
            try:
                await self._write(ws, format_line("PRIVMSG", "#" + item.channel, remaining[0], tags=tags, trailing=True))
            except websockets.ConnectionClosed:
                continue
            remaining.pop(0)
            self.stats.sent += 1
