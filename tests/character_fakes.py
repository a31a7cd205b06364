"""Hand-built records, events and a tiny fake memory store for the character-engine tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from companion.messages import ChatMessage, MessageKind
from companion.records import GOEMOTIONS_LABELS, AnalysisRecord, Ekman, Emotions, MemoryInfo, Sentiment, Toxicity
from pipelines.event import Event


def record(text: str = "", sentiment: float | None = 0.0, emotions: dict[str, float] | None = None,
           toxicity: float | None = 0.0, flagged: bool = False, importance: float | None = None,
           ekman: str | None = None, injection: bool = False, degraded: bool = False) -> AnalysisRecord:
    """An AnalysisRecord with the fields the character engine reads."""
    scores = None if emotions is None else {k: float(emotions.get(k, 0.0)) for k in GOEMOTIONS_LABELS}
    label = "positive" if (sentiment or 0) > 0.2 else "negative" if (sentiment or 0) < -0.2 else "neutral"
    rec = AnalysisRecord(text=text, degraded=degraded, injection=injection)
    rec.sentiment = Sentiment(label=label, score=sentiment if sentiment is not None else 0.0)
    rec.emotions = Emotions(labels=[k for k, v in (emotions or {}).items() if v >= 0.5], scores=scores)
    rec.ekman = Ekman(label=ekman, scores={ekman: 0.9} if ekman else None)
    tox_label = None if toxicity is None else ("offensive" if (flagged or toxicity >= 0.5) else "none")
    rec.toxicity = Toxicity(score=toxicity, label=tox_label, flagged=flagged)
    rec.memory = MemoryInfo(importance=importance)
    return rec


def event(text: str, user: str = "viewer", channel: str = "chan", kind: MessageKind = MessageKind.MESSAGE,
          first_message: bool = False, bits: int = 0, ts: float = 0.0, msg_id: str | None = None,
          reply_to_id: str | None = None, **rec_kwargs: Any) -> Event:
    """An Event whose record is built by :func:`record`."""
    kw = {"text": text, "user": user, "channel": channel, "kind": kind, "first_message": first_message,
          "bits": bits, "ts": ts, "platform": "twitch", "reply_to_id": reply_to_id}
    if msg_id:
        kw["id"] = msg_id
    msg = ChatMessage(**kw)
    rec = record(text, **rec_kwargs)
    rec.id, rec.user, rec.channel, rec.kind = msg.id, user, channel, kind.value
    return Event(message=msg, record=rec)


@dataclass
class Hit:
    id: str
    text: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "score": self.score, "parts": self.parts}


@dataclass
class Profile:
    message_count: int = 0
    relationship: str | None = None


class FakeMemory:
    """Word-overlap search over (viewer, text) pairs; the same calls the engine makes on MemoryStore."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # (id, viewer, text)
        self.profiles: dict[str, Profile] = {}
        self.searches: list[bool] = []  # the reinforce flag of every search
        self.reinforced: list[str] = []

    def reinforce(self, memory_ids: list[str]) -> int:
        known = {mid for mid, _, _ in self.items}
        used = [m for m in memory_ids if m in known]
        self.reinforced += used
        return len(used)

    def add(self, viewer: str, text: str) -> str:
        mid = f"m{len(self.items)}"
        self.items.append((mid, viewer, text))
        return mid

    def search(self, q: str, viewer: str | None = None, k: int = 5, reinforce: bool = True,
               vector: Any = None) -> list[Hit]:
        self.searches.append(reinforce)
        words = {w.strip("?.!,").lower() for w in q.split()}
        hits = []
        for mid, who, text in self.items:
            if viewer is not None and who != viewer:
                continue
            other = {w.strip("?.!,").lower() for w in text.split()}
            overlap = len(words & other) / max(1, len(words | other))
            if overlap > 0:
                hits.append(Hit(mid, text, round(overlap, 4), {"relevance": overlap}))
        return sorted(hits, key=lambda h: h.score, reverse=True)[:k]

    def viewer_profile(self, viewer: str) -> Profile | None:
        return self.profiles.get(viewer)
