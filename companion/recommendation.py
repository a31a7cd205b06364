"""What the engine hands to a character/LLM engine: which message to answer, how, with which
memories, and what to moderate."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.moderation.decision import Decision


@dataclass(slots=True)
class PickReason:
    """One term of the pick score, so a user can see why a message was chosen."""

    name: str
    weight: float
    detail: str = ""


@dataclass(slots=True)
class MessagePick:
    message_id: str
    channel: str
    user: str
    text: str
    score: float
    reasons: list[PickReason] = field(default_factory=list)


@dataclass(slots=True)
class MemoryMention:
    memory_id: str
    text: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)  # relevance / recency / importance
    viewer: str = ""  # whose memory it is (so forgetting that viewer can drop it here too)


@dataclass(slots=True)
class ModerationSuggestion:
    message_id: str
    user: str
    action: str  # delete | timeout | hold (queued for review); never an automatic ban
    reason: str
    duration_s: int | None = None
    executed: bool = False
    # Where to act and why (companion.moderation): the platform, channel and user id the
    # connector needs, and the explainable decision (category, score, threshold, level).
    platform: str = ""
    channel: str = ""
    user_id: str | None = None
    decision: "Decision | None" = None


@dataclass(slots=True)
class SkippedMessage:
    """A message the pick scoring refused, and why (toxic, spam, injection, already answered)."""

    message_id: str
    user: str
    reason: str


@dataclass(slots=True)
class Recommendation:
    id: str
    created_at: float = field(default_factory=time.time)
    channel: str = ""
    picks: list[MessagePick] = field(default_factory=list)
    tone: str = "calm"  # supportive | playful | hyped | calm | firm | ...
    tone_reasons: list[str] = field(default_factory=list)
    memories: list[MemoryMention] = field(default_factory=list)
    moderation: list[ModerationSuggestion] = field(default_factory=list)
    companion_mood: dict[str, Any] = field(default_factory=dict)
    prompt: dict[str, Any] = field(default_factory=dict)  # {"system": str, "messages": [...]}
    skipped: list[SkippedMessage] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
