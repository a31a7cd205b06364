"""Pure conversion of discord.py objects into ChatMessages.

``channel`` is the Discord channel id (as a string): stable, and what :meth:`DiscordSource.send`
takes back. Guild and channel names go in ``tags``. ``user`` is the account's unique username,
``tags["display-name"]`` what the server shows. Badges follow the Twitch names the rest of the
engine knows: ``broadcaster`` for the guild owner, ``moderator`` for members who can manage
messages.
"""
from __future__ import annotations

import re

import discord

from companion.messages import ChatMessage, MessageKind
from companion.text import normalize_text

PLATFORM = "discord"
MAX_MESSAGE_CHARS = 2000  # Discord's limit for one message
_CUSTOM_EMOJI = re.compile(r"<a?:([A-Za-z0-9_~]{2,32}):\d{15,25}>")
_BOOSTS = {
    discord.MessageType.premium_guild_subscription,
    discord.MessageType.premium_guild_tier_1,
    discord.MessageType.premium_guild_tier_2,
    discord.MessageType.premium_guild_tier_3,
}
_CHAT_TYPES = {discord.MessageType.default, discord.MessageType.reply}


def replace_custom_emoji(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``hi <:pog:123456789012345678>`` -> ``("hi pog", [(3, 5, "pog")])``: emoji markup becomes its
    name, with inclusive spans like Twitch emote ranges."""
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    length = 0
    for m in _CUSTOM_EMOJI.finditer(text):
        before = text[pos : m.start()]
        out.append(before)
        length += len(before)
        name = m.group(1)
        spans.append((length, length + len(name) - 1, name))
        out.append(name)
        length += len(name)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), spans


def _relocate(clean: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out, cursor = [], 0
    for _s, _e, name in spans:
        pos = clean.find(name, cursor)
        if pos >= 0:
            out.append((pos, pos + len(name) - 1, name))
            cursor = pos + len(name)
    return out


def _badges(message: discord.Message) -> dict[str, str]:
    badges: dict[str, str] = {}
    author = message.author
    guild = message.guild
    if guild is not None and guild.owner_id == author.id:
        badges["broadcaster"] = "1"
    perms = getattr(author, "guild_permissions", None)
    if perms is not None and (perms.manage_messages or perms.administrator):
        badges["moderator"] = "1"
    if getattr(author, "premium_since", None) is not None:
        badges["booster"] = "1"
    return badges


def message_kind(message: discord.Message) -> MessageKind:
    if message.type in _CHAT_TYPES:
        return MessageKind.MESSAGE
    if message.type in _BOOSTS:
        return MessageKind.SUB
    return MessageKind.SYSTEM


def discord_to_message(message: discord.Message) -> ChatMessage:
    """Convert one discord.py message. Mentions are rendered as ``@name`` (``clean_content``),
    custom emoji as their names with spans in ``emotes``."""
    raw, spans = replace_custom_emoji(message.clean_content)
    if not raw and message.attachments:
        raw = " ".join(f"[attachment: {a.filename}]" for a in message.attachments)
    clean, truncated = normalize_text(raw)
    if clean != raw:
        spans = _relocate(clean, spans)
    author = message.author
    channel = message.channel
    guild = message.guild
    tags: dict[str, str] = {"display-name": author.display_name}
    if guild is not None:
        tags["guild-id"] = str(guild.id)
        tags["guild-name"] = guild.name
    name = getattr(channel, "name", None)
    if name:
        tags["channel-name"] = name
    if guild is None:
        tags["dm"] = "1"
    if author.bot:
        tags["bot"] = "1"
    if message.type not in _CHAT_TYPES:
        tags["message-type"] = message.type.name
    ref = message.reference
    reply_to_id = str(ref.message_id) if ref is not None and ref.message_id else None
    reply_to_user = None
    if ref is not None and isinstance(ref.resolved, discord.Message):
        reply_to_user = ref.resolved.author.name
    return ChatMessage(
        text=clean,
        truncated=truncated,
        platform=PLATFORM,
        channel=str(channel.id),
        user=author.name,
        user_id=str(author.id),
        ts=message.created_at.timestamp(),
        tags=tags,
        kind=message_kind(message),
        id=str(message.id),
        emotes=spans,
        reply_to_id=reply_to_id,
        reply_to_user=reply_to_user,
        mentions=[u.name for u in message.mentions],
        badges=_badges(message),
    )
