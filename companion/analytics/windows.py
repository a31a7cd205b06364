"""Rolling windows (10 s, 1 min, 5 min) over one channel, built from one-second buckets."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Iterable

from companion.messages import ChatMessage, MessageKind
from companion.records import AnalysisRecord

from .text_features import emotes_in, words_in

WINDOWS_S: dict[str, int] = {"10s": 10, "1m": 60, "5m": 300}
MAX_WINDOW_S = max(WINDOWS_S.values())
TOP_N = 8


@dataclass(slots=True)
class SecondBucket:
    """Everything counted during one second of event time."""

    t: int
    messages: int = 0
    viewers: Counter = field(default_factory=Counter)  # viewer_key -> messages
    names: dict[str, str] = field(default_factory=dict)  # viewer_key -> display login
    new_viewers: set = field(default_factory=set)
    sentiment_sum: float = 0.0
    sentiment_n: int = 0
    sentiment_labels: Counter = field(default_factory=Counter)
    emotions: Counter = field(default_factory=Counter)
    toxic: int = 0
    toxicity_scored: int = 0
    emotes: Counter = field(default_factory=Counter)
    words: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)  # sub/resub/subgift/raid -> count, bits -> total
    viewer_events: Counter = field(default_factory=Counter)

    def add(self, message: ChatMessage, record: AnalysisRecord, is_new: bool) -> None:
        """Count one message or event into the bucket."""
        key = message.viewer_key
        self.names[key] = message.user
        if is_new:
            self.new_viewers.add(key)
        if message.is_event or message.bits:
            if message.kind == MessageKind.BITS or message.bits:
                self.events["bits"] += max(message.bits, 0)
                self.events["cheers"] += 1
            if message.is_event and message.kind != MessageKind.BITS:
                self.events[message.kind.value] += 1
            self.viewer_events[key] += 1
        if not message.text or message.kind not in (MessageKind.MESSAGE, MessageKind.RESUB, MessageKind.BITS):
            return
        self.messages += 1
        self.viewers[key] += 1
        sent = record.sentiment
        if sent is not None and sent.score is not None:
            self.sentiment_sum += float(sent.score)
            self.sentiment_n += 1
            self.sentiment_labels[sent.label] += 1
        emotion = record.ekman.label if record.ekman and record.ekman.label else None
        if emotion is None and record.emotions and record.emotions.labels:
            emotion = record.emotions.labels[0]
        if emotion:
            self.emotions[emotion] += 1
        tox = record.toxicity
        if tox is not None and (tox.score is not None or tox.flagged):
            self.toxicity_scored += 1
            self.toxic += int(bool(tox.flagged))
        emotes = emotes_in(message)
        self.emotes.update(emotes)
        self.words.update(words_in(message, emotes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t, "messages": self.messages, "viewers": dict(self.viewers), "names": self.names,
            "new_viewers": sorted(self.new_viewers), "sentiment_sum": self.sentiment_sum,
            "sentiment_n": self.sentiment_n, "sentiment_labels": dict(self.sentiment_labels),
            "emotions": dict(self.emotions), "toxic": self.toxic, "toxicity_scored": self.toxicity_scored,
            "emotes": dict(self.emotes), "words": dict(self.words), "events": dict(self.events),
            "viewer_events": dict(self.viewer_events),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SecondBucket":
        b = cls(t=int(d["t"]))
        b.messages = int(d.get("messages", 0))
        b.viewers = Counter(d.get("viewers", {}))
        b.names = dict(d.get("names", {}))
        b.new_viewers = set(d.get("new_viewers", []))
        b.sentiment_sum = float(d.get("sentiment_sum", 0.0))
        b.sentiment_n = int(d.get("sentiment_n", 0))
        for name in ("sentiment_labels", "emotions", "emotes", "words", "events", "viewer_events"):
            setattr(b, name, Counter(d.get(name, {})))
        b.toxic = int(d.get("toxic", 0))
        b.toxicity_scored = int(d.get("toxicity_scored", 0))
        return b


@dataclass(slots=True)
class WindowStats:
    """Aggregates over one rolling window; ``to_dict`` is what the snapshot and dashboard show."""

    window_s: int
    messages: int = 0
    msgs_per_min: float = 0.0
    unique_chatters: int = 0
    new_chatters: int = 0
    sentiment_mean: float | None = None
    sentiment_distribution: dict[str, float] = field(default_factory=dict)
    emotion_mix: dict[str, float] = field(default_factory=dict)
    toxicity_rate: float | None = None
    toxic: int = 0
    top_emotes: list[tuple[str, int]] = field(default_factory=list)
    top_words: list[tuple[str, int]] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    engagement: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s, "messages": self.messages,
            "msgs_per_min": round(self.msgs_per_min, 2), "unique_chatters": self.unique_chatters,
            "new_chatters": self.new_chatters,
            "sentiment": {
                "mean": None if self.sentiment_mean is None else round(self.sentiment_mean, 3),
                "distribution": {k: round(v, 3) for k, v in self.sentiment_distribution.items()},
            },
            "emotions": {k: round(v, 3) for k, v in self.emotion_mix.items()},
            "toxicity_rate": None if self.toxicity_rate is None else round(self.toxicity_rate, 3),
            "toxic": self.toxic,
            "top_emotes": [list(x) for x in self.top_emotes],
            "top_words": [list(x) for x in self.top_words],
            "events": self.events,
            "engagement": self.engagement,
        }


def _fractions(counter: Counter) -> dict[str, float]:
    total = sum(counter.values())
    return {k: v / total for k, v in counter.most_common()} if total else {}


def aggregate(buckets: Iterable[SecondBucket], window_s: int) -> WindowStats:
    """Fold one-second buckets into a :class:`WindowStats` for a window of ``window_s`` seconds."""
    stats = WindowStats(window_s=window_s)
    viewers: Counter = Counter()
    viewer_events: Counter = Counter()
    names: dict[str, str] = {}
    new: set = set()
    sent_sum, sent_n = 0.0, 0
    labels: Counter = Counter()
    emotions: Counter = Counter()
    emotes: Counter = Counter()
    words: Counter = Counter()
    events: Counter = Counter()
    scored = 0
    for b in buckets:
        stats.messages += b.messages
        viewers.update(b.viewers)
        viewer_events.update(b.viewer_events)
        names.update(b.names)
        new |= b.new_viewers
        sent_sum += b.sentiment_sum
        sent_n += b.sentiment_n
        labels.update(b.sentiment_labels)
        emotions.update(b.emotions)
        emotes.update(b.emotes)
        words.update(b.words)
        events.update(b.events)
        stats.toxic += b.toxic
        scored += b.toxicity_scored
    stats.msgs_per_min = stats.messages * 60.0 / window_s
    stats.unique_chatters = len(viewers)
    stats.new_chatters = len(new)
    stats.sentiment_mean = sent_sum / sent_n if sent_n else None
    stats.sentiment_distribution = {k: labels.get(k, 0) / sent_n for k in ("positive", "neutral", "negative")} if sent_n else {}
    stats.emotion_mix = _fractions(emotions)
    stats.toxicity_rate = stats.toxic / scored if scored else None
    stats.top_emotes = emotes.most_common(TOP_N)
    stats.top_words = words.most_common(TOP_N)
    stats.events = dict(events)
    scores = Counter({k: v + 3 * viewer_events.get(k, 0) for k, v in viewers.items()})
    for k, v in viewer_events.items():
        scores.setdefault(k, 3 * v)
    stats.engagement = [
        {"viewer": k, "user": names.get(k, k), "messages": viewers.get(k, 0), "events": viewer_events.get(k, 0), "score": float(s)}
        for k, s in scores.most_common(TOP_N)
    ]
    return stats


class ChannelWindows:
    """One-second buckets for the last five minutes of one channel, in event time."""

    def __init__(self) -> None:
        self.buckets: deque[SecondBucket] = deque()

    def bucket_for(self, ts: float) -> SecondBucket:
        """The bucket for second ``ts``. A late message lands in its own second when that bucket
        still exists, else in the latest one: it is counted, never dropped."""
        t = int(ts)
        if not self.buckets or t > self.buckets[-1].t:
            self.buckets.append(SecondBucket(t=t))
            return self.buckets[-1]
        for b in reversed(self.buckets):
            if b.t == t:
                return b
            if b.t < t:
                break
        return self.buckets[-1]

    def trim(self, now: float) -> None:
        """Forget buckets older than the longest window."""
        cutoff = now - MAX_WINDOW_S
        while self.buckets and self.buckets[0].t <= cutoff:
            self.buckets.popleft()

    def window(self, now: float, window_s: int) -> WindowStats:
        """Aggregate the last ``window_s`` seconds ending at ``now`` (inclusive)."""
        start = now - window_s
        return aggregate((b for b in self.buckets if start < b.t <= now), window_s)

    def counts(self, now: float, window_s: int) -> tuple[int, int, int, int]:
        """``(messages, new_viewers, toxic, toxicity_scored)`` of a window: the cheap part of
        :meth:`window`, for the anomaly checks that run on every batch."""
        start = now - window_s
        msgs = new = toxic = scored = 0
        for b in reversed(self.buckets):
            if b.t <= start:
                break
            if b.t <= now:
                msgs += b.messages
                new += len(b.new_viewers)
                toxic += b.toxic
                scored += b.toxicity_scored
        return msgs, new, toxic, scored

    def all_windows(self, now: float) -> dict[str, WindowStats]:
        return {name: self.window(now, s) for name, s in WINDOWS_S.items()}

    def to_list(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.buckets]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> "ChannelWindows":
        w = cls()
        w.buckets = deque(sorted((SecondBucket.from_dict(d) for d in items), key=lambda b: b.t))
        return w
