"""Pure conversion of parsed Twitch IRC messages into ChatMessages and SourceNotices.

Field sources follow Twitch's documented tags (dev.twitch.tv/docs/chat/irc, "Tags reference").
``ChatMessage.user`` is the login (stable, lowercase, what CLEARCHAT names); the display name is
kept in ``tags["display-name"]``.
"""
from __future__ import annotations

import re
import time
from typing import Callable

from companion.messages import ChatMessage, MessageKind
from companion.text import normalize_text

from .base import ModerationEvent, ModerationKind, RoomStateEvent, ServerNotice, SourceItem
from .irc_parse import IrcMessage, IrcParseError, is_ascii_int, parse_badges, parse_emote_ranges

PLATFORM = "twitch"
_ACTION = re.compile(r"^\x01ACTION (.*?)\x01?$", re.S)
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,25})\b")

USERNOTICE_KINDS: dict[str, MessageKind] = {
    "sub": MessageKind.SUB,
    "resub": MessageKind.RESUB,
    "subgift": MessageKind.SUBGIFT,
    "anonsubgift": MessageKind.SUBGIFT,
    "submysterygift": MessageKind.SUBGIFT,
    "anonsubmysterygift": MessageKind.SUBGIFT,
    "raid": MessageKind.RAID,
    "announcement": MessageKind.ANNOUNCEMENT,
}


class TwitchConvertError(IrcParseError):
    """A well-formed IRC line whose Twitch meaning is broken (e.g. PRIVMSG without a channel)."""


def _sent_ts(tags: dict[str, str], clock: Callable[[], float]) -> float:
    raw = tags.get("tmi-sent-ts", "")
    # Milliseconds since the epoch: 13 digits until the year 2286; anything else is not Twitch's.
    if raw.isascii() and raw.isdigit() and len(raw) <= 15:
        return int(raw) / 1000.0
    return clock()


def _int_tag(tags: dict[str, str], key: str) -> int | None:
    raw = tags.get(key, "")
    sign = raw[:1] == "-"
    return (-1 if sign else 1) * int(raw[sign:]) if is_ascii_int(raw[sign:]) else None


def _relocate_emotes(raw: str, clean: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Emote ranges index the raw text; normalisation may shift them. Re-find each emote name in
    order in the clean text, dropping one that no longer occurs (e.g. truncated away)."""
    out: list[tuple[int, int, str]] = []
    cursor = 0
    for start, end, name in spans:
        pos = clean.find(name, cursor)
        if pos < 0:
            continue
        out.append((pos, pos + len(name) - 1, name))
        cursor = pos + len(name)
    return out


def emotes_for(text: str, emotes_tag: str) -> list[tuple[int, int, str]]:
    """Emote spans ``(start, end_inclusive, name)`` with the name cut from ``text``. A range outside
    the text is skipped. Raises :class:`IrcParseError` on a malformed tag."""
    spans = []
    for start, end, _emote_id in parse_emote_ranges(emotes_tag):
        if end < len(text):
            spans.append((start, end, text[start : end + 1]))
    return spans


def _text_fields(raw_text: str, tags: dict[str, str]) -> dict:
    """Normalised text plus the emote spans that index into it."""
    try:
        spans = emotes_for(raw_text, tags.get("emotes", ""))
    except (IrcParseError, ValueError):
        spans = []  # a broken emotes tag costs the emote positions, not the message
    clean, truncated = normalize_text(raw_text)
    if clean != raw_text:
        spans = _relocate_emotes(raw_text, clean, spans)
    mentions = [m.lower() for m in _MENTION.findall(clean)]
    return {"text": clean, "truncated": truncated, "emotes": spans, "mentions": mentions}


def _common(msg: IrcMessage, channel: str, clock: Callable[[], float]) -> dict:
    tags = msg.tags
    return {
        "platform": PLATFORM,
        "channel": channel,
        "user_id": tags.get("user-id") or None,
        "ts": _sent_ts(tags, clock),
        "tags": dict(tags),
        "badges": parse_badges(tags.get("badges", "")),
        "first_message": tags.get("first-msg") == "1",
    }


def privmsg_to_message(msg: IrcMessage, clock: Callable[[], float] = time.time) -> ChatMessage:
    """Convert a PRIVMSG. ``/me`` actions are unwrapped and flagged in ``tags["action"]``."""
    channel = msg.channel
    if channel is None or len(msg.params) < 2 or not msg.nick:
        raise TwitchConvertError("PRIVMSG without channel, text or sender")
    raw_text = msg.trailing
    fields = _common(msg, channel, clock)
    match = _ACTION.match(raw_text)
    if match:
        raw_text = match.group(1)
        fields["tags"]["action"] = "1"
    bits = _int_tag(msg.tags, "bits") or 0
    kwargs = dict(
        user=(msg.tags.get("login") or msg.nick).lower(),
        kind=MessageKind.BITS if bits > 0 else MessageKind.MESSAGE,
        bits=bits,
        reply_to_id=msg.tags.get("reply-parent-msg-id") or None,
        reply_to_user=msg.tags.get("reply-parent-user-login") or None,
        **fields,
        **_text_fields(raw_text, msg.tags),
    )
    if msg.tags.get("id"):
        kwargs["id"] = msg.tags["id"]
    return ChatMessage(**kwargs)


def usernotice_to_message(msg: IrcMessage, clock: Callable[[], float] = time.time) -> ChatMessage:
    """Convert a USERNOTICE (sub, resub, subgift, raid, announcement, ...). The text is what the
    user typed with it, else Twitch's ``system-msg``; an unknown ``msg-id`` becomes ``system``."""
    channel = msg.channel
    if channel is None:
        raise TwitchConvertError("USERNOTICE without channel")
    msg_id = msg.tags.get("msg-id", "")
    kind = USERNOTICE_KINDS.get(msg_id, MessageKind.SYSTEM)
    user_text = msg.trailing if len(msg.params) >= 2 else ""
    raw_text = user_text or msg.tags.get("system-msg", "") or msg_id
    fields = _common(msg, channel, clock)
    if not user_text:
        fields["tags"]["system"] = "1"
    kwargs = dict(
        user=(msg.tags.get("login") or "tmi.twitch.tv").lower(),
        kind=kind,
        **fields,
        **(_text_fields(raw_text, msg.tags) if user_text else _text_fields(raw_text, {})),
    )
    if msg.tags.get("id"):
        kwargs["id"] = msg.tags["id"]
    return ChatMessage(**kwargs)


def clearchat_to_event(msg: IrcMessage, clock: Callable[[], float] = time.time) -> ModerationEvent:
    """CLEARCHAT: a timeout (``ban-duration`` seconds), a ban, or the whole chat cleared."""
    if msg.channel is None:
        raise TwitchConvertError("CLEARCHAT without channel")
    target = msg.trailing.lower() if len(msg.params) >= 2 else None
    return ModerationEvent(
        platform=PLATFORM,
        channel=msg.channel,
        ts=_sent_ts(msg.tags, clock),
        kind=ModerationKind.CLEARCHAT,
        target_user=target or None,
        target_user_id=msg.tags.get("target-user-id") or None,
        duration=_int_tag(msg.tags, "ban-duration"),
    )


def clearmsg_to_event(msg: IrcMessage, clock: Callable[[], float] = time.time) -> ModerationEvent:
    """CLEARMSG: one message (``target-msg-id``) was deleted."""
    target_id = msg.tags.get("target-msg-id")
    if msg.channel is None or not target_id:
        raise TwitchConvertError("CLEARMSG without channel or target-msg-id")
    return ModerationEvent(
        platform=PLATFORM,
        channel=msg.channel,
        ts=_sent_ts(msg.tags, clock),
        kind=ModerationKind.CLEARMSG,
        target_msg_id=target_id,
        target_user=(msg.tags.get("login") or "").lower() or None,
    )


def roomstate_to_event(msg: IrcMessage, clock: Callable[[], float] = time.time) -> RoomStateEvent:
    """ROOMSTATE: the settings present in the update (Twitch sends only changed ones)."""
    if msg.channel is None:
        raise TwitchConvertError("ROOMSTATE without channel")
    t = msg.tags

    def flag(key: str) -> bool | None:
        return None if key not in t else t[key] == "1"

    return RoomStateEvent(
        platform=PLATFORM,
        channel=msg.channel,
        ts=clock(),
        room_id=t.get("room-id") or None,
        emote_only=flag("emote-only"),
        followers_only=_int_tag(t, "followers-only"),
        r9k=flag("r9k"),
        slow=_int_tag(t, "slow"),
        subs_only=flag("subs-only"),
    )


def notice_to_event(msg: IrcMessage, clock: Callable[[], float] = time.time) -> ServerNotice:
    """NOTICE: server messages such as a failed login or a refused chat message."""
    channel = msg.channel or "*"
    return ServerNotice(
        platform=PLATFORM, channel=channel, ts=clock(), msg_id=msg.tags.get("msg-id"), text=msg.trailing
    )


def convert(msg: IrcMessage, clock: Callable[[], float] = time.time) -> SourceItem | None:
    """Map one parsed line to what the engine receives, or None for protocol chatter the client
    handles itself (PING, numerics, JOIN, CAP, USERSTATE, ...)."""
    handler = _HANDLERS.get(msg.command)
    return handler(msg, clock) if handler else None


_HANDLERS = {
    "PRIVMSG": privmsg_to_message,
    "USERNOTICE": usernotice_to_message,
    "CLEARCHAT": clearchat_to_event,
    "CLEARMSG": clearmsg_to_event,
    "ROOMSTATE": roomstate_to_event,
    "NOTICE": notice_to_event,
}


def is_privileged(tags: dict[str, str]) -> bool:
    """True when USERSTATE tags say the bot is a moderator or the broadcaster, which raises
    Twitch's chat limit from 20 to 100 messages per 30 s in that channel."""
    badges = parse_badges(tags.get("badges", ""))
    return tags.get("mod") == "1" or "broadcaster" in badges or "moderator" in badges
