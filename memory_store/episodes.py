"""Episodic segmentation: each channel's stream is cut into segments where the conversation
changes: after a silence (``gap``), when the recent messages' topics no longer overlap the
segment's (``topic_shift``), when the message rate jumps or collapses (``activity_shift``: a
raid, a hype burst, chat dying down), on a mood shift, or at a maximum length as a backstop. A
closed segment records its participants and how much each said, top messages, the mood arc,
platform events and topics, and gets a summary written from those parts (who talked most, about
what, what happened, how the mood moved) that is stored and embedded as an ``episodic`` memory,
so "the raid during the boss fight" can be recalled."""
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
    counts: Counter = field(default_factory=Counter)  # viewer -> messages in this segment
    moods: list = field(default_factory=list)  # every sentiment, in order (the mood arc)
    window_topics: deque = field(default_factory=lambda: deque(maxlen=20))  # last messages' topics
    window_ts: deque = field(default_factory=lambda: deque(maxlen=20))


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
            elif ep.count >= self.cfg.episode_min_messages and _topic_shift(ep):
                reason = "topic_shift"
            elif ep.count >= self.cfg.episode_min_messages and _activity_shift(ep, ts, self.cfg):
                reason = "activity_shift"
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
            ep.counts[viewer] += 1
        if sentiment is not None:
            ep.sent_sum += sentiment
            ep.sent_n += 1
            ep.recent.append(sentiment)
            ep.moods.append(sentiment)
        ep.window_topics.append(list(topics))
        ep.window_ts.append(ts)
        if kind not in ("message", "system"):
            ep.events.append({"kind": kind, "viewer": viewer, "user": user, "ts": ts, "bits": bits})
        ep.topics.update(topics)
        if text and all(m["text"] != text[:200] for m in ep.top):
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
            ep.counts.pop(viewer, None)
            ep.top = [m for m in ep.top if m["viewer"] != viewer]
            ep.events = [e for e in ep.events if e["viewer"] != viewer]


def _topic_shift(ep: _Open) -> bool:
    """The last messages keep to a topic the segment had not been about."""
    if len(ep.window_topics) < ep.window_topics.maxlen:
        return False
    recent = Counter(t for ts in ep.window_topics for t in ts)
    if not recent:
        return False
    top, n = recent.most_common(1)[0]
    if n < 3:
        return False
    before = ep.topics.copy()
    before.subtract(recent)
    old = {t for t, c in before.most_common(5) if c > 0}
    return bool(old) and top not in old and not (set(recent) & old)


def _activity_shift(ep: _Open, ts: float, cfg: MemoryConfig) -> bool:
    """The message rate of the last messages is ``episode_rate_shift`` times above or below
    the segment's own."""
    if len(ep.window_ts) < ep.window_ts.maxlen or ep.end - ep.start <= 0:
        return False
    span = max(ts - ep.window_ts[0], 1.0)
    recent = len(ep.window_ts) / span
    overall = ep.count / max(ep.end - ep.start, 1.0)
    ratio = recent / max(overall, 1e-9)
    return ratio >= cfg.episode_rate_shift or ratio <= 1.0 / cfg.episode_rate_shift


def _arc(moods: list[float]) -> list[float]:
    """Mean sentiment of the first, middle and last third."""
    if not moods:
        return []
    k = len(moods)
    thirds = [moods[: max(1, k // 3)], moods[k // 3: max(k // 3 + 1, 2 * k // 3)], moods[2 * k // 3:] or moods[-1:]]
    return [round(sum(x) / len(x), 3) for x in thirds]


def finish(ep: _Open, episode_id: int, reason: str) -> Episode:
    """Turn an open segment into a stored :class:`Episode` with its summary."""
    order = sorted(ep.participants, key=lambda v: -ep.counts.get(v, 0))
    out = Episode(id=episode_id, channel=ep.channel, start=ep.start, end=ep.end,
                  participants=[[v, ep.participants[v]] for v in order],
                  message_count=ep.count, top_messages=list(ep.top),
                  mood=round(ep.sent_sum / ep.sent_n, 4) if ep.sent_n else 0.0,
                  events=list(ep.events), topics=[t for t, _ in ep.topics.most_common(5)],
                  reason=reason, message_counts={v: ep.counts[v] for v in order},
                  mood_arc=_arc(ep.moods))
    out.summary = summarize(out)
    return out


def _mood(x: float) -> str:
    return "upbeat" if x > 0.2 else "tense" if x < -0.2 else "calm"


def _events(events: list[dict]) -> str:
    by_kind: dict[str, list[dict]] = {}
    for e in events:
        by_kind.setdefault(e["kind"], []).append(e)
    out = []
    for kind, es in by_kind.items():
        who = ", ".join(dict.fromkeys(e["user"] for e in es if e.get("user")))
        bits = sum(int(e.get("bits") or 0) for e in es)
        label = f"{len(es)} {kind}" + ("s" if len(es) > 1 and not kind.endswith("s") else "")
        if bits:
            label += f" ({bits} bits)"
        out.append(label + (f" from {who[:80]}" if who else ""))
    return "; ".join(out)


def summarize(ep: Episode) -> str:
    """A summary written from the segment's data (no LLM, no fixed sentence per segment):
    who talked most and about what, what happened, how the mood moved, and the top lines."""
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(ep.start))
    mins = max(1, round((ep.end - ep.start) / 60))
    who = len(ep.participants)
    head = f"{when} UTC in {ep.channel}, {mins} min, {ep.message_count} messages"
    head += f" from {who} chatter{'s' if who != 1 else ''}." if who else "."
    parts = [head]
    if ep.participants:
        counts = ep.message_counts or {}
        lead = [f"{u} ({counts[v]})" if v in counts else u for v, u in ep.participants[:4]]
        parts.append("Most active: " + ", ".join(lead) + ".")
    if ep.topics:
        parts.append("Talked about " + ", ".join(ep.topics[:4]) + ".")
    if ep.events:
        parts.append("Happened: " + _events(ep.events) + ".")
    arc = ep.mood_arc
    if arc and len(set(map(_mood, arc))) > 1:
        parts.append(f"Mood went from {_mood(arc[0])} to {_mood(arc[-1])}"
                     + (f" (via {_mood(arc[1])})" if _mood(arc[1]) not in (_mood(arc[0]), _mood(arc[-1])) else "")
                     + ".")
    elif arc or ep.mood:
        parts.append(f"Mood stayed {_mood(ep.mood)}.")
    if ep.top_messages:
        parts.append("Highlights: " + " | ".join(f"{m['user']}: {m['text']}" for m in ep.top_messages[:3]))
    if ep.reason in ("topic_shift", "activity_shift"):
        parts.append("Ended on a " + ep.reason.replace("_", " ") + ".")
    return " ".join(parts)


def scrub_viewer(ep: Episode, viewer: str) -> bool:
    """Remove one viewer from a stored episode; True when anything changed."""
    before = (len(ep.participants), len(ep.top_messages), len(ep.events))
    ep.participants = [p for p in ep.participants if p[0] != viewer]
    ep.message_counts.pop(viewer, None)
    ep.top_messages = [m for m in ep.top_messages if m.get("viewer") != viewer]
    ep.events = [e for e in ep.events if e.get("viewer") != viewer]
    changed = before != (len(ep.participants), len(ep.top_messages), len(ep.events))
    if changed:
        ep.summary = summarize(ep)
    return changed
