"""The typed rows the store persists: memories, viewer profiles, core facts, episodes."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import orjson

TIERS = ("short_term", "long_term", "episodic", "core")
TIER_CODE = {t: i for i, t in enumerate(TIERS)}


def row_json(obj: Any, names: tuple[str, ...]) -> bytes:
    """``obj``'s fields as compact JSON. A shallow dict through orjson: ``dataclasses.asdict``
    deep-copies every list and was half of the store's insert time at 1M memories. An integer
    beyond 64 bits (orjson's limit) falls back to the standard library."""
    d = {n: getattr(obj, n) for n in names}
    try:
        return orjson.dumps(d)
    except orjson.JSONEncodeError:
        return json.dumps(d, separators=(",", ":")).encode()


@dataclass(slots=True)
class MemoryRecord:
    """One remembered item. ``id`` is the store's monotonically increasing integer key."""

    id: int
    text: str
    viewer: str = ""  # ChatMessage.viewer_key, "" for channel-level memories (episodes)
    user: str = ""  # display login
    channel: str = ""
    platform: str = ""
    ts: float = 0.0
    tier: str = "short_term"
    importance: float = 0.0
    stability: float = 0.0  # seconds
    last_recall: float = 0.0  # decay is measured from here
    access: int = 0
    pinned: bool = False
    has_vec: bool = False
    msg_id: str = ""
    kind: str = "message"
    sentiment: float | None = None
    keywords: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    reply_to_user: str | None = None
    episode: int | None = None
    # Consolidation: a near-duplicate said again by the same viewer merges into this memory.
    count: int = 1  # times said (1 + merged repeats)
    last_seen: float = 0.0  # when it was last said (``ts`` is the first time)
    merged_msg_ids: list[str] = field(default_factory=list)  # platform ids of merged repeats
    summary_of: list[int] = field(default_factory=list)  # a consolidated memory's originals
    summary_id: int | None = None  # the consolidated memory this one is part of
    fact_key: str = ""  # set on a pinned core-fact memory ("name", "from", "pet_cat", ...)

    def to_json(self) -> bytes:
        return row_json(self, _MEMORY_NAMES)

    @classmethod
    def from_json(cls, raw: bytes) -> "MemoryRecord":
        d = orjson.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in _MEMORY_FIELDS})


_MEMORY_NAMES = tuple(f.name for f in fields(MemoryRecord))
_MEMORY_FIELDS = frozenset(_MEMORY_NAMES)


@dataclass(slots=True)
class ViewerProfile:
    """What the store knows about one viewer. Persisted in LMDB."""

    viewer_id: str
    user: str = ""
    platform: str = ""
    first_seen: float = 0.0
    last_seen: float = 0.0
    message_count: int = 0
    days_seen: int = 0
    last_day: int = -1
    sentiment_avg: float = 0.0  # exponential moving average, -1..1
    sentiment_history: list[list[float]] = field(default_factory=list)  # [[ts, score], ...]
    toxic_count: int = 0
    bits: int = 0
    subs: int = 0
    relationship: str = "new"
    engagement: float = 0.0  # 0..1
    topics: dict[str, float] = field(default_factory=dict)  # topic -> weight
    facts: dict[str, str] = field(default_factory=dict)  # pinned core facts
    fact_ids: dict[str, int] = field(default_factory=dict)  # fact key -> its pinned memory id
    channels: list[str] = field(default_factory=list)

    @property
    def favourite_topics(self) -> list[str]:
        return [t for t, _ in sorted(self.topics.items(), key=lambda kv: -kv[1])[:5]]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["favourite_topics"] = self.favourite_topics
        return d

    def to_json(self) -> bytes:
        return row_json(self, _PROFILE_NAMES)

    @classmethod
    def from_json(cls, raw: bytes) -> "ViewerProfile":
        d = orjson.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in _PROFILE_FIELDS})


_PROFILE_NAMES = tuple(f.name for f in fields(ViewerProfile))
_PROFILE_FIELDS = frozenset(_PROFILE_NAMES)


@dataclass(slots=True)
class Episode:
    """A stream segment: who was there, what was said, the mood and the events."""

    id: int
    channel: str
    start: float
    end: float
    participants: list[list[str]] = field(default_factory=list)  # [[viewer_key, user], ...]
    message_count: int = 0
    top_messages: list[dict[str, Any]] = field(default_factory=list)  # {id, viewer, user, text, importance}
    mood: float = 0.0  # mean sentiment
    events: list[dict[str, Any]] = field(default_factory=list)  # {kind, viewer, user, ts, bits}
    topics: list[str] = field(default_factory=list)
    reason: str = ""  # why it closed: gap | length | topic_shift | activity_shift | mood_shift | close
    summary: str = ""
    memory_id: int | None = None
    message_counts: dict[str, int] = field(default_factory=dict)  # viewer -> messages
    mood_arc: list[float] = field(default_factory=list)  # mean sentiment: first/middle/last third

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Episode":
        d = json.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in _EPISODE_FIELDS})


_EPISODE_FIELDS = frozenset(f.name for f in fields(Episode))


@dataclass(slots=True)
class MemoryHit:
    """One search result and why it ranked where it did."""

    id: int
    text: str
    viewer: str
    user: str
    channel: str
    ts: float
    tier: str
    score: float
    parts: dict[str, float]
    msg_id: str = ""
    importance: float = 0.0
    access: int = 0
    pinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ForgetReport:
    """What ``forget_viewer`` removed."""

    viewer_id: str
    memories: int = 0
    vectors: int = 0
    short_term: int = 0
    facts: int = 0
    profile: bool = False
    graph_node: bool = False
    graph_edges: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
