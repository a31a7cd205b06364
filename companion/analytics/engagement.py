"""Per-viewer engagement: an exponentially decaying score of what a viewer did in a channel."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from companion.messages import ChatMessage, MessageKind

HALF_LIFE_S = 15 * 60.0
MAX_VIEWERS = 5000

# What one action is worth; an event is a bigger sign of engagement than a chat line.
WEIGHTS: dict[str, float] = {
    "message": 1.0, "reply": 0.5, "mention": 0.25, "sub": 5.0, "resub": 5.0, "subgift": 6.0, "raid": 10.0,
}


@dataclass(slots=True)
class ViewerEngagement:
    viewer: str
    user: str
    score: float = 0.0
    last_ts: float = 0.0
    first_ts: float = 0.0
    messages: int = 0
    events: int = 0
    bits: int = 0

    def decayed(self, now: float) -> float:
        """Score at ``now``: halves every :data:`HALF_LIFE_S` seconds of silence."""
        return self.score * math.pow(0.5, max(0.0, now - self.last_ts) / HALF_LIFE_S)

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        d = asdict(self)
        if now is not None:
            d["score"] = round(self.decayed(now), 3)
        return d


class EngagementTracker:
    """Engagement of every viewer seen in one channel."""

    def __init__(self) -> None:
        self.viewers: dict[str, ViewerEngagement] = {}

    def add(self, message: ChatMessage) -> ViewerEngagement:
        """Credit ``message`` to its viewer and return the updated entry."""
        key = message.viewer_key
        v = self.viewers.get(key)
        if v is None:
            v = self.viewers[key] = ViewerEngagement(viewer=key, user=message.user, first_ts=message.ts, last_ts=message.ts)
        gain = 0.0
        if message.kind in (MessageKind.MESSAGE, MessageKind.RESUB) and message.text:
            gain += WEIGHTS["message"]
            v.messages += 1
        if message.reply_to_id or message.reply_to_user:
            gain += WEIGHTS["reply"]
        gain += WEIGHTS["mention"] * min(len(message.mentions), 4)
        if message.is_event:
            gain += WEIGHTS.get(message.kind.value, 1.0)
            v.events += 1
        if message.bits > 0:
            gain += math.log1p(message.bits / 100.0) * 4.0
            v.bits += message.bits
        ts = max(message.ts, v.last_ts)
        v.score = v.decayed(ts) + gain
        v.last_ts = ts
        v.user = message.user
        if len(self.viewers) > MAX_VIEWERS:
            self._prune(ts)
        return v

    def _prune(self, now: float) -> None:
        keep = sorted(self.viewers.values(), key=lambda v: v.decayed(now), reverse=True)[: MAX_VIEWERS * 3 // 4]
        self.viewers = {v.viewer: v for v in keep}

    def top(self, now: float, n: int = 10) -> list[dict[str, Any]]:
        """The ``n`` most engaged viewers right now."""
        best = sorted(self.viewers.values(), key=lambda v: v.decayed(now), reverse=True)[:n]
        return [v.to_dict(now) for v in best if v.decayed(now) > 0.01]

    def forget(self, viewer: str) -> bool:
        return self.viewers.pop(viewer, None) is not None

    def to_list(self) -> list[dict[str, Any]]:
        return [asdict(v) for v in self.viewers.values()]

    def load(self, items: list[dict[str, Any]]) -> None:
        for d in items:
            v = ViewerEngagement(**d)
            self.viewers[v.viewer] = v
