"""The typed chat message every connector produces and every stage consumes."""
from __future__ import annotations

import enum
import itertools
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from companion.text import clean_name


class MessageKind(str, enum.Enum):
    """What a chat line is. Events (sub, raid, bits, ...) are messages too, so they flow through
    the same pipeline and are counted the same way."""

    MESSAGE = "message"
    SUB = "sub"
    RESUB = "resub"
    SUBGIFT = "subgift"
    RAID = "raid"
    BITS = "bits"
    ANNOUNCEMENT = "announcement"
    FOLLOW = "follow"
    SYSTEM = "system"


EVENT_KINDS = frozenset(
    {MessageKind.SUB, MessageKind.RESUB, MessageKind.SUBGIFT, MessageKind.RAID, MessageKind.BITS}
)

_counter = itertools.count()
_prefix = uuid.uuid4().hex[:8]


def new_message_id() -> str:
    """A unique, sortable-within-process id for messages that arrive without one."""
    return f"{_prefix}-{next(_counter):09d}"


@dataclass(slots=True)
class ChatMessage:
    """One chat line, normalised. ``text`` has already passed :func:`companion.text.normalize_text`
    when the message came from a connector or a replay file."""

    text: str
    platform: str = "replay"
    channel: str = "default"
    user: str = "anonymous"
    user_id: str | None = None
    ts: float = field(default_factory=time.time)
    tags: dict[str, Any] = field(default_factory=dict)
    kind: MessageKind = MessageKind.MESSAGE
    id: str = field(default_factory=new_message_id)
    truncated: bool = False
    # Monotonic receive time, used for end-to-end latency; not part of the record.
    received_at: float = field(default_factory=time.perf_counter)
    # Emote spans [(start, end_inclusive, name)] from the Twitch `emotes` tag or the platform.
    emotes: list[tuple[int, int, str]] = field(default_factory=list)
    # Reply threading (Twitch reply-parent-*, Discord message reference).
    reply_to_id: str | None = None
    reply_to_user: str | None = None
    mentions: list[str] = field(default_factory=list)
    badges: dict[str, str] = field(default_factory=dict)
    first_message: bool = False
    bits: int = 0

    def __post_init__(self) -> None:
        # Names reach the dashboard, prompts and moderation lines from every connector: clean them
        # once here so no source can forget (bidi overrides, control characters).
        self.user = clean_name(self.user) or "anonymous"
        self.channel = clean_name(self.channel) or "default"
        display = self.tags.get("display-name") if isinstance(self.tags, dict) else None
        if isinstance(display, str):
            self.tags["display-name"] = clean_name(display)

    @property
    def viewer_key(self) -> str:
        """Stable viewer identity across the engine: platform-scoped user id, else the login."""
        who = self.user_id or self.user.lower()
        return f"{self.platform}:{who}"

    @property
    def is_event(self) -> bool:
        return self.kind in EVENT_KINDS

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d.pop("received_at", None)
        return d

