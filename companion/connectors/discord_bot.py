"""Discord through discord.py: a Source that yields ChatMessages and can reply.

Needs ``DISCORD_TOKEN`` (a bot token). The ``message_content`` intent is privileged: enable it
for the bot in the Developer Portal (Bot -> Privileged Gateway Intents -> Message Content);
without it Discord sends empty text except for messages that mention the bot and DMs, and this
source counts those empty messages as ``ignored`` and logs one warning.

Reconnects (with backoff) and REST rate limits (429 and the per-route buckets) are handled by
discord.py itself; deletions and bans reach the engine as :class:`ModerationEvent`.
"""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta
from typing import AsyncIterator, Mapping

import discord

from .base import (
    iterate_inbox,
    ModerationEvent,
    ModerationKind,
    SendBlocked,
    SendDisabled,
    SendError,
    SendGuard,
    SourceItem,
    SourceStats,
)
from .discord_convert import MAX_MESSAGE_CHARS, PLATFORM, discord_to_message
from .outgoing import prepare_outgoing
from .redact import Secret

MAX_TIMEOUT = timedelta(days=28)  # Discord's longest member timeout
_log = logging.getLogger(__name__)


def default_intents() -> discord.Intents:
    """Guild and DM messages with their content (privileged), guilds, and bans."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class _Bridge(discord.Client):
    """discord.Client whose events feed a DiscordSource."""

    def __init__(self, source: "DiscordSource", **options) -> None:
        super().__init__(**options)
        self._source = source

    async def on_message(self, message: discord.Message) -> None:
        await self._source._on_message(message)

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        await self._source._deleted(event.channel_id, [event.message_id])

    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        await self._source._deleted(event.channel_id, sorted(event.message_ids))

    async def on_member_ban(self, guild: discord.Guild, user: discord.User | discord.Member) -> None:
        for channel in guild.text_channels:
            await self._source._emit_notice(
                ModerationEvent(
                    platform=PLATFORM, channel=str(channel.id), kind=ModerationKind.CLEARCHAT,
                    target_user=user.name, target_user_id=str(user.id),
                )
            )


class DiscordSource:
    """Read Discord messages (all channels the bot sees, or ``channel_ids``) and optionally reply."""

    name = "discord"

    def __init__(
        self,
        token: str | Secret,
        *,
        reply: bool = False,
        channel_ids: set[int] | None = None,
        include_bots: bool = False,
        intents: discord.Intents | None = None,
        inbox_size: int = 10_000,
        autostart: bool = True,
    ) -> None:
        """``autostart=False``: iterating does not log in or connect; the caller drives
        ``self.client`` (tests feed gateway payloads to it; an app may run it itself)."""
        self._token = token if isinstance(token, Secret) else Secret(token)
        if not self._token:
            raise ValueError("DISCORD_TOKEN is empty")
        self.reply = reply
        self.channel_ids = channel_ids
        self.include_bots = include_bots
        self.stats = SourceStats()
        self.client = _Bridge(self, intents=intents or default_intents())
        self._inbox: asyncio.Queue[SourceItem] = asyncio.Queue(maxsize=inbox_size)
        self._task: asyncio.Task | None = None
        self._done = asyncio.Event()
        self._warned_no_content = False
        self._fatal: BaseException | None = None
        self._autostart = autostart

    def __repr__(self) -> str:
        return f"DiscordSource(reply={self.reply}, channel_ids={self.channel_ids!r})"

    @classmethod
    def from_env(cls, *, reply: bool = False, env: Mapping[str, str] | None = None, **kw) -> "DiscordSource":
        """``DISCORD_TOKEN`` (required) and ``DISCORD_CHANNEL_IDS`` (optional, comma-separated)."""
        env = os.environ if env is None else env
        token = env.get("DISCORD_TOKEN", "").strip()
        if not token:
            raise ValueError("--source discord needs DISCORD_TOKEN (a bot token from the Developer Portal)")
        ids_raw = env.get("DISCORD_CHANNEL_IDS", "").strip()
        try:
            ids = {int(x) for x in ids_raw.split(",") if x.strip()} or None
        except ValueError:
            raise ValueError(f"DISCORD_CHANNEL_IDS must be comma-separated numbers, not {ids_raw!r}") from None
        return cls(Secret(token), reply=reply, channel_ids=ids, **kw)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in and connect to the gateway in the background (idempotent)."""
        if self._task is None and self._autostart:
            self._task = asyncio.create_task(self._run(), name="discord-gateway")

    async def _run(self) -> None:
        try:
            await self.client.start(self._token.reveal(), reconnect=True)
        except discord.LoginFailure as exc:
            self._fatal = exc
            _log.error("discord: login refused (check DISCORD_TOKEN)")
        except discord.PrivilegedIntentsRequired as exc:
            self._fatal = exc
            _log.error("discord: enable the Message Content intent for this bot in the Developer Portal")
        finally:
            self._done.set()

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - already logged
                pass
        self._done.set()

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SourceItem]:
        await self.start()
        async for item in iterate_inbox(self._inbox, self._done, lambda: self._fatal):
            yield item

    # -- events ----------------------------------------------------------------------------

    def _wanted(self, channel_id: int) -> bool:
        return self.channel_ids is None or channel_id in self.channel_ids

    async def _on_message(self, message: discord.Message) -> None:
        self.stats.received += 1
        me = self.client.user
        if (me is not None and message.author.id == me.id) or (message.author.bot and not self.include_bots):
            self.stats.ignored += 1
            return
        if not self._wanted(message.channel.id):
            self.stats.ignored += 1
            return
        try:
            item = discord_to_message(message)
        except Exception:  # noqa: BLE001 - one odd payload must not stop the stream
            self.stats.malformed += 1
            _log.exception("discord: could not convert message %s", message.id)
            return
        if not item.text:
            self.stats.ignored += 1
            if not self._warned_no_content:
                self._warned_no_content = True
                _log.warning(
                    "discord: received a message with no text; is the privileged Message Content "
                    "intent enabled for this bot?"
                )
            return
        self.stats.parsed += 1
        await self._inbox.put(item)

    async def _deleted(self, channel_id: int, message_ids: list[int]) -> None:
        """A deleted message (by its author or a moderator) is forgotten like a Twitch CLEARMSG."""
        for message_id in message_ids:
            await self._emit_notice(
                ModerationEvent(
                    platform=PLATFORM, channel=str(channel_id), kind=ModerationKind.CLEARMSG,
                    target_msg_id=str(message_id),
                )
            )

    async def _emit_notice(self, notice: ModerationEvent) -> None:
        if not self._wanted(int(notice.channel)):
            return
        self.stats.notices += 1
        await self._inbox.put(notice)

    # -- moderating (--moderate) -----------------------------------------------------------

    async def moderate(self, suggestion) -> None:
        """Execute a :class:`~companion.recommendation.ModerationSuggestion`: ``delete`` removes
        the message, ``timeout`` times the member out (``duration_s``, at most 28 days). Needs the
        bot's Manage Messages and Moderate Members permissions. Raises :class:`SendError` when
        Discord refuses (discord.py already waited out 429s)."""
        try:
            channel_id = int(suggestion.channel)
            target = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
            if suggestion.action == "delete":
                await target.get_partial_message(int(suggestion.message_id)).delete()
            elif suggestion.action == "timeout":
                guild = getattr(target, "guild", None)
                if guild is None or not suggestion.user_id:
                    raise SendError("a Discord timeout needs a server channel and the member's id")
                member = guild.get_member(int(suggestion.user_id)) or await guild.fetch_member(int(suggestion.user_id))
                duration = min(timedelta(seconds=int(suggestion.duration_s or 600)), MAX_TIMEOUT)
                await member.timeout(duration, reason=(suggestion.reason or "")[:512])
            else:
                raise SendError(f"Discord moderation does not do {suggestion.action!r}")
        except ValueError:
            raise SendError(f"Discord ids must be numbers: channel {suggestion.channel!r}") from None
        except discord.HTTPException as exc:
            raise SendError(f"Discord refused the {suggestion.action}: {exc.status} {exc.text[:200]}") from exc

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self,
        channel: str,
        text: str,
        *,
        guard: SendGuard | None = None,
        reply_to_id: str | None = None,
    ) -> list[discord.Message]:
        """Post ``text`` to channel id ``channel`` (as a reply to ``reply_to_id`` if given).

        Mentions in the text never ping anyone. discord.py queues requests behind Discord's rate
        limits and retries 429s. Raises :class:`SendDisabled`, :class:`SendBlocked`,
        :class:`SendError` (unknown channel, HTTP failure) or ValueError (empty text).
        """
        if not self.reply:
            raise SendDisabled("replies are off; start with --reply to send to chat")
        try:
            chunks = prepare_outgoing(text, limit=MAX_MESSAGE_CHARS, guard=guard)
        except SendBlocked:
            self.stats.send_blocked += 1
            raise
        try:
            channel_id = int(channel)
        except ValueError:
            raise SendError(f"Discord channel must be a channel id, not {channel!r}") from None
        try:
            target = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
            reference = None
            if reply_to_id:
                reference = discord.MessageReference(
                    message_id=int(reply_to_id), channel_id=channel_id, fail_if_not_exists=False
                )
            sent = []
            for chunk in chunks:
                sent.append(
                    await target.send(chunk, reference=reference, allowed_mentions=discord.AllowedMentions.none())
                )
                reference = None  # only the first chunk is threaded as the reply
        except discord.HTTPException as exc:
            self.stats.send_failed += 1
            raise SendError(f"Discord refused the message: {exc.status} {exc.text[:200]}") from exc
        self.stats.sent += len(sent)
        return sent
