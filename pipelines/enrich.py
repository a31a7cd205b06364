"""The enrich stage: per-channel social context the analyser cannot know from one message."""
from __future__ import annotations

from collections import defaultdict, deque

from pipelines.event import Event


class EnrichStage:
    """Fills ``social.group_size``: distinct chatters in the channel over the last
    ``window_s`` seconds of message time (message timestamps, so replays behave like live)."""

    name = "enrich"

    def __init__(self, window_s: float = 300.0) -> None:
        self.window_s = window_s
        self._recent: dict[str, deque[tuple[float, str]]] = defaultdict(deque)
        self._counts: dict[str, dict[str, int]] = defaultdict(dict)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def active_chatters(self, channel: str) -> int:
        return len(self._counts.get(channel, ()))

    async def process(self, events: list[Event]) -> None:
        for ev in events:
            msg = ev.message
            recent, counts = self._recent[msg.channel], self._counts[msg.channel]
            who = msg.viewer_key
            recent.append((msg.ts, who))
            counts[who] = counts.get(who, 0) + 1
            horizon = msg.ts - self.window_s
            while recent and recent[0][0] < horizon:
                _, old = recent.popleft()
                counts[old] -= 1
                if counts[old] <= 0:
                    del counts[old]
            ev.record.social.group_size = len(counts)
