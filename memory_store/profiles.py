"""Viewer profile updates: counts, sentiment history, relationship stage and engagement."""
from __future__ import annotations

import math

from memory_store.records import ViewerProfile

DAY = 86400.0
HISTORY = 50  # sentiment samples kept per viewer
STAGES = ("new", "acquaintance", "regular", "friend", "strained")


def relationship_stage(p: ViewerProfile) -> str:
    """new -> acquaintance (3+ messages) -> regular (30+ messages on 2+ days) -> friend (150+
    messages on 5+ days, positive on average). Mostly hostile or toxic viewers are "strained"."""
    if p.message_count >= 10 and (p.sentiment_avg <= -0.35 or p.toxic_count >= 3):
        return "strained"
    if p.message_count >= 150 and p.days_seen >= 5 and p.sentiment_avg >= 0.05:
        return "friend"
    if p.message_count >= 30 and p.days_seen >= 2:
        return "regular"
    if p.message_count >= 3:
        return "acquaintance"
    return "new"


def engagement(p: ViewerProfile, now: float) -> float:
    """0..1: volume, loyalty (distinct days), support (bits/subs), faded by time since last seen."""
    volume = math.tanh(p.message_count / 100.0)
    loyalty = math.tanh(p.days_seen / 7.0)
    support = math.tanh((p.bits / 500.0) + p.subs * 0.5)
    fresh = math.exp(-max(now - p.last_seen, 0.0) / (14 * DAY))
    return round((0.45 * volume + 0.35 * loyalty + 0.2 * support) * (0.5 + 0.5 * fresh), 4)


def observe(p: ViewerProfile, ts: float, channel: str, sentiment: float | None, toxic: bool,
            topics: list[str], bits: int = 0, sub: bool = False) -> None:
    """Fold one message into a profile."""
    if p.message_count == 0:
        p.first_seen = ts
    p.first_seen = min(p.first_seen, ts) if p.first_seen else ts
    p.last_seen = max(p.last_seen, ts)
    p.message_count += 1
    day = int(ts // DAY)
    if day != p.last_day:
        p.days_seen += 1
        p.last_day = day
    if sentiment is not None:
        p.sentiment_avg = round(0.9 * p.sentiment_avg + 0.1 * sentiment if p.message_count > 1
                                else sentiment, 4)
        p.sentiment_history.append([round(ts, 3), round(sentiment, 3)])
        del p.sentiment_history[:-HISTORY]
    p.toxic_count += int(toxic)
    p.bits += bits
    p.subs += int(sub)
    for t in topics:
        p.topics[t] = p.topics.get(t, 0.0) + 1.0
    if len(p.topics) > 40:  # keep the profile small: drop the lightest topics
        for t, _ in sorted(p.topics.items(), key=lambda kv: kv[1])[: len(p.topics) - 30]:
            del p.topics[t]
    if channel and channel not in p.channels:
        p.channels.append(channel)
    p.relationship = relationship_stage(p)
    p.engagement = engagement(p, ts)
