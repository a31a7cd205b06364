"""Episodic segmentation: each channel's stream is cut into segments after a silence, at a
maximum length, or on a mood shift. A closed segment records its participants, top messages,
mood, platform events and topics, and gets a one-paragraph summary that is stored (and embedded)
as an ``episodic`` memory, so "the raid during the boss fight" can be recalled."""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field

from memory_store.config import MemoryConfig
from memory_store.records import Episode


@dataclass(slots=True)
class _Open:
    channel: str
    start: float
    end: float
    participants: dict[str, str] = field(default_factory=dict)
    count: int = 0
    top: list[dict] = field(default_factory=list)
    sent_sum: float = 0.0
    sent_n: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=10))
    events: list[dict] = field(default_factory=list)
    topics: Counter = field(default_factory=Counter)


class EpisodeTracker:
    def __init__(self, cfg: MemoryConfig) -> None:
        self.cfg = cfg
        self.open: dict[str, _Open] = {}

    def observe(self, channel: str, ts: float, viewer: str, user: str, text: str, importance: float,
                sentiment: float | None, kind: str, bits: int, topics: list[str],
                mem_id: int | None) -> list[tuple[_Open, str]]:
        """Add one message; returns the segments it closed, with the reason."""
        closed: list[tuple[_Open, str]] = []
        ep = self.open.get(channel)
        if ep is not None:
            reason = ""
            if ts - ep.end > self.cfg.episode_gap_s:
                reason = "gap"
            elif ts - ep.start > self.cfg.episode_max_s:
                reason = "length"
            elif (sentiment is not None and ep.sent_n >= 20 and len(ep.recent) == ep.recent.maxlen
                  and abs(sum(ep.recent) / len(ep.recent) - ep.sent_sum / ep.sent_n)
                  > self.cfg.episode_mood_shift):
                reason = "mood_shift"
            if reason:
                closed.append((self.open.pop(channel), reason))
                ep = None
        if ep is None:
            ep = self.open[channel] = _Open(channel=channel, start=ts, end=ts)
        ep.end = max(ep.end, ts)
        ep.count += 1
        if viewer:
            ep.participants.setdefault(viewer, user)
        if sentiment is not None:
            ep.sent_sum += sentiment
            ep.sent_n += 1
            ep.recent.append(sentiment)
        if kind not in ("message", "system"):
            ep.events.append({"kind": kind, "viewer": viewer, "user": user, "ts": ts, "bits": bits})
        ep.topics.update(topics)
        if text:
            ep.top.append({"id": mem_id, "viewer": viewer, "user": user, "text": text[:200],
                           "importance": round(importance, 3)})
            ep.top.sort(key=lambda m: -m["importance"])
            del ep.top[self.cfg.episode_top_messages:]
        return closed

    def close_all(self) -> list[tuple[_Open, str]]:
        closed = [(ep, "close") for ep in self.open.values()]
        self.open.clear()
        return closed

    def forget_viewer(self, viewer: str) -> None:
        for ep in self.open.values():
            ep.participants.pop(viewer, None)
            ep.top = [m for m in ep.top if m["viewer"] != viewer]
            ep.events = [e for e in ep.events if e["viewer"] != viewer]


def finish(ep: _Open, episode_id: int, reason: str) -> Episode:
    """Turn an open segment into a stored :class:`Episode` with its summary."""
    out = Episode(id=episode_id, channel=ep.channel, start=ep.start, end=ep.end,
                  participants=[[v, u] for v, u in ep.participants.items()],
                  message_count=ep.count, top_messages=list(ep.top),
                  mood=round(ep.sent_sum / ep.sent_n, 4) if ep.sent_n else 0.0,
                  events=list(ep.events), topics=[t for t, _ in ep.topics.most_common(5)],
                  reason=reason)
    out.summary = summarize(out)
    return out


def summarize(ep: Episode) -> str:
    """A plain-text summary built from the segment's parts (no LLM)."""
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(ep.start))
    mins = max(1, round((ep.end - ep.start) / 60))
    mood = "upbeat" if ep.mood > 0.2 else "tense" if ep.mood < -0.2 else "calm"
    parts = [f"Stream segment in {ep.channel} at {when} UTC ({mins} min, {ep.message_count} messages, {mood} mood)."]
    if ep.events:
        kinds = Counter(e["kind"] for e in ep.events)
        who = ", ".join(dict.fromkeys(e["user"] for e in ep.events))[:120]
        parts.append("Events: " + ", ".join(f"{n} {k}" for k, n in kinds.items()) + f" (from {who}).")
    if ep.topics:
        parts.append("Topics: " + ", ".join(ep.topics) + ".")
    if ep.participants:
        parts.append("Chatters: " + ", ".join(u for _, u in ep.participants[:10]) + ".")
    if ep.top_messages:
        parts.append("Highlights: " + " | ".join(f"{m['user']}: {m['text']}" for m in ep.top_messages[:3]))
    return " ".join(parts)


def scrub_viewer(ep: Episode, viewer: str) -> bool:
    """Remove one viewer from a stored episode; True when anything changed."""
    before = (len(ep.participants), len(ep.top_messages), len(ep.events))
    ep.participants = [p for p in ep.participants if p[0] != viewer]
    ep.top_messages = [m for m in ep.top_messages if m.get("viewer") != viewer]
    ep.events = [e for e in ep.events if e.get("viewer") != viewer]
    changed = before != (len(ep.participants), len(ep.top_messages), len(ep.events))
    if changed:
        ep.summary = summarize(ep)
    return changed
