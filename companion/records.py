"""The analysis record: one per message, the schema fixed in DESIGN.md.

Fields whose model is not available are ``None`` (JSON ``null``); they are never invented.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.messages import ChatMessage

GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)
EKMAN_LABELS: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
TOXICITY_LABELS: tuple[str, ...] = ("hate", "offensive", "none")
TOXICITY_CATEGORIES: tuple[str, ...] = (
    "insult", "identity_attack", "harassment", "threat", "sexual", "self_harm", "profanity",
)
TOXICITY_TARGETS: tuple[str, ...] = ("person", "group", "none")


@dataclass(slots=True)
class SentimentComponents:
    model: float | None = None
    vader: float | None = None
    emoji: float | None = None
    emote: float | None = None


@dataclass(slots=True)
class Sentiment:
    label: str | None = None  # positive | neutral | negative
    score: float | None = None  # -1..1
    components: SentimentComponents = field(default_factory=SentimentComponents)


@dataclass(slots=True)
class Emotions:
    labels: list[str] = field(default_factory=list)
    scores: dict[str, float] | None = None  # all 28 GoEmotions labels, 0..1


@dataclass(slots=True)
class Ekman:
    label: str | None = None
    scores: dict[str, float] | None = None


@dataclass(slots=True)
class Toxicity:
    score: float | None = None  # 0..1
    label: str | None = None  # hate | offensive | none
    flagged: bool = False  # a moderator would act: targeted toxicity at the configured level
    categories: dict[str, float] | None = None  # TOXICITY_CATEGORIES, each 0..1
    target: str | None = None  # person | group | none


@dataclass(slots=True)
class PAD:
    pleasure: float | None = None
    arousal: float | None = None
    dominance: float | None = None
    confidence: list[float] = field(default_factory=list)  # one per refinement step


@dataclass(slots=True)
class Mood:
    valence: float | None = None  # -1..1
    arousal: float | None = None  # 0..1
    persistence: float | None = None  # 0..1


@dataclass(slots=True)
class Social:
    politeness: float | None = None
    intimacy: float | None = None
    formality: float | None = None
    relationship: str | None = None  # filled by the enrich stage from the viewer profile
    group_size: int | None = None  # active chatters in the channel, filled by the enrich stage


@dataclass(slots=True)
class MemoryInfo:
    importance: float | None = None  # 0..1
    stored: bool = False
    tier: str | None = None  # short_term | long_term | episodic | core


@dataclass(slots=True)
class AnalysisRecord:
    """One analysed message. ``to_dict`` gives the JSON object written to ``--out`` and the WS."""

    id: str = ""
    ts: float = 0.0
    platform: str = ""
    channel: str = ""
    user: str = ""
    text: str = ""
    sentiment: Sentiment = field(default_factory=Sentiment)
    emotions: Emotions = field(default_factory=Emotions)
    ekman: Ekman = field(default_factory=Ekman)
    toxicity: Toxicity = field(default_factory=Toxicity)
    pad: PAD = field(default_factory=PAD)
    mood: Mood = field(default_factory=Mood)
    social: Social = field(default_factory=Social)
    memory: MemoryInfo = field(default_factory=MemoryInfo)
    degraded: bool = False
    latency_ms: float | None = None
    # Additions beyond the DESIGN.md schema (documented in the README).
    kind: str = "message"
    user_id: str | None = None
    truncated: bool = False
    injection: bool = False  # text looks like a prompt-injection attempt

    def to_dict(self) -> dict[str, Any]:
        # Hand-rolled rather than dataclasses.asdict: asdict deep-copies recursively and was the
        # runtime's largest cost per message.
        d = {name: getattr(self, name) for name in _IDENTITY}
        sent = self.sentiment
        d["sentiment"] = {"label": sent.label, "score": sent.score,
                          "components": _shallow(sent.components)}
        for name in ("emotions", "ekman", "toxicity", "pad", "mood", "social", "memory"):
            d[name] = _shallow(getattr(self, name))
        for name in _TRAILER:
            d[name] = getattr(self, name)
        return d

    @classmethod
    def for_message(cls, msg: "ChatMessage") -> "AnalysisRecord":
        """An empty record carrying the message's identity fields; analysers fill the rest."""
        return cls(id=msg.id, ts=msg.ts, platform=msg.platform, channel=msg.channel,
                   user=msg.user, text=msg.text, kind=msg.kind.value, user_id=msg.user_id,
                   truncated=msg.truncated)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AnalysisRecord":
        """Inverse of :meth:`to_dict` (used by tests and the Redis bus)."""
        sent = dict(d.get("sentiment") or {})
        sent["components"] = SentimentComponents(**(sent.get("components") or {}))
        return cls(
            **{k: v for k, v in d.items() if k in _SCALAR_FIELDS},
            sentiment=Sentiment(**sent),
            emotions=Emotions(**(d.get("emotions") or {})),
            ekman=Ekman(**(d.get("ekman") or {})),
            toxicity=Toxicity(**(d.get("toxicity") or {})),
            pad=PAD(**(d.get("pad") or {})),
            mood=Mood(**(d.get("mood") or {})),
            social=Social(**(d.get("social") or {})),
            memory=MemoryInfo(**(d.get("memory") or {})),
        )


def _shallow(obj: Any) -> dict[str, Any]:
    out = {}
    for name in obj.__slots__:
        value = getattr(obj, name)
        out[name] = value.copy() if isinstance(value, (dict, list)) else value
    return out


_IDENTITY = ("id", "ts", "platform", "channel", "user", "text")
_TRAILER = ("degraded", "latency_ms", "kind", "user_id", "truncated", "injection")
_SCALAR_FIELDS = frozenset(
    {"id", "ts", "platform", "channel", "user", "text", "degraded", "latency_ms", "kind",
     "user_id", "truncated", "injection"}
)
